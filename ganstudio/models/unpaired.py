"""What the two-domain translation families (CycleGAN, DiscoGAN) share: two generators G: A -> B and
F: B -> A, each domain's discriminator, data of two unpaired collections (``DOMAIN_A``, ``DOMAIN_B``),
held-out images of both for the sample grid and the evaluations, and the grid's cycle rows

    A | G(A) | F(G(A))        B | F(B) | G(F(B))

The explorer and the CLI render through one module, :class:`TwoWayGenerator`, which reads the source
image and the target domain (``TARGET``: (N, 1), 1 for B, 0 for A).
"""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import nn

from ganstudio.data.base import DOMAIN_A, DOMAIN_B, SOURCE, DataError
from ganstudio.models.base import TARGET, Family, Tensors

MIN_PER_DOMAIN = 3  # images of each domain: some are held out to show and measure
GRID_PER_DOMAIN = 8


class TwoWayGenerator(nn.Module):
    """(source (N, C, H, W), target (N, 1)) -> images (N, C, H, W): ``a_to_b`` where target > ½, else
    ``b_to_a``."""

    def __init__(self, a_to_b: nn.Module, b_to_a: nn.Module):
        super().__init__()
        self.a_to_b, self.b_to_a = a_to_b, b_to_a

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        to_b = target.reshape(len(source), -1)[:, 0] > 0.5
        if bool(to_b.all()):
            return self.a_to_b(source)
        if not bool(to_b.any()):
            return self.b_to_a(source)
        out = torch.empty_like(source)
        out[to_b] = self.a_to_b(source[to_b]).to(out.dtype)
        out[~to_b] = self.b_to_a(source[~to_b]).to(out.dtype)
        return out


class BothWaysSelected(nn.Module):
    """:class:`TwoWayGenerator` without branches, for graphs (ONNX, TorchScript): both directions run on
    every source and ``target`` picks per row (twice the work, the same images)."""

    def __init__(self, two_way: TwoWayGenerator):
        super().__init__()
        self.two_way = two_way

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        to_b = target.reshape(source.shape[0], -1)[:, :1, None, None] > 0.5
        return torch.where(to_b, self.two_way.a_to_b(source), self.two_way.b_to_a(source))


class UnpairedFamily(Family):
    """Subclasses build the networks (``build_generator``, ``build_discriminator``) and write the step;
    the optimisers are Adam over both generators and over both discriminators, as in the papers' code."""

    needs = frozenset({DOMAIN_A, DOMAIN_B})
    generator_inputs = (SOURCE, TARGET)
    channels_last = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.G_ab, self.G_ba = self.place(self.build_generator()), self.place(self.build_generator())
        self.D_a, self.D_b = self.place(self.build_discriminator()), self.place(self.build_discriminator())
        self._two_way = TwoWayGenerator(self.G_ab, self.G_ba)
        t = self.train_cfg
        self.opt_g = self.adam([*self.G_ab.parameters(), *self.G_ba.parameters()], t.lr_g)
        self.opt_d = self.adam([*self.D_a.parameters(), *self.D_b.parameters()], t.lr_d)

    @abstractmethod
    def build_generator(self) -> nn.Module:
        """image (N, C, H, W) -> image (N, C, H, W), both in [-1, 1]."""

    @abstractmethod
    def build_discriminator(self) -> nn.Module:
        """image (N, C, H, W) -> logits or scores."""

    @classmethod
    def missing_data(cls, provided):
        if cls.needs - set(provided):
            return (f"{cls.name} needs two unpaired collections of images: faces with --domains smile (or "
                    "hair_color, yaw, light), or a folder with A/ and B/ sub-folders (--dataset unpaired)")
        return None

    @classmethod
    def held_out_size(cls, data_size: int, num_samples: int) -> int:
        """A tenth of both domains together (at least 16 images, or a fifth of a small set; at most 1,000)."""
        if data_size < 2 * MIN_PER_DOMAIN:
            raise DataError(f"{cls.name} needs at least {MIN_PER_DOMAIN} images in each domain, not {data_size} "
                            "in all")
        return min(max(min(16, data_size // 5), data_size // 10), 1000)

    @classmethod
    def start_width(cls) -> None:
        return None  # its own default is the CPU-friendly one

    @property
    def generator(self) -> nn.Module:
        return self._two_way

    @property
    def portable_generator(self) -> nn.Module:
        return BothWaysSelected(self._two_way)

    @property
    def target_size(self) -> int:
        return 1

    def networks(self) -> dict[str, nn.Module]:
        return {"generator_ab": self.G_ab, "generator_ba": self.G_ba,
                "discriminator_a": self.D_a, "discriminator_b": self.D_b}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generators": self.opt_g, "discriminators": self.opt_d}

    def architecture(self) -> dict[str, object]:
        return {**super().architecture(), "latent_dim": None}

    # -- fixed inputs and the grid ---------------------------------------------------------------

    def fixed_inputs(self, num_samples: int, generator: torch.Generator, held_out: Tensors) -> dict[str, torch.Tensor]:
        """Up to 8 held-out images of each domain (half of ``num_samples`` each), A's first; each to be
        translated into the other."""
        count = min(GRID_PER_DOMAIN, -(-num_samples // 2))
        a, b = held_out[DOMAIN_A][:count], held_out[DOMAIN_B][:count]
        target = torch.cat([torch.ones(len(a), 1), torch.zeros(len(b), 1)])
        return {SOURCE: torch.cat([a, b]).contiguous(), TARGET: target}

    def fixed_inputs_from_z(self, z):
        raise NotImplementedError(f"{self.name} has no z")

    def sample_tiles(self, inputs: Tensors, outputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Rows of source | translation | back again, four triples to a row."""
        cycles = self.render({SOURCE: outputs, TARGET: 1 - inputs[TARGET]})
        triples = torch.stack([inputs[SOURCE].float(), outputs, cycles], dim=1).flatten(0, 1)
        return triples, 3 * min(4, len(outputs))

