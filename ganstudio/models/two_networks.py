"""The shape most families share: a generator G and a discriminator or critic D, each with its own
optimiser. Subclasses build the two networks and write the training step."""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import nn

from ganstudio.models.base import Family


class TwoNetworkFamily(Family):
    """G, D and their optimisers (Adam with the run's settings unless ``build_optimizers`` says
    otherwise). ``discriminator_name`` names D in checkpoints ("critic" for the Wasserstein GANs)."""

    discriminator_name = "discriminator"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.G = self.place(self.build_generator())
        self.D = self.place(self.build_discriminator())
        self.opt_g, self.opt_d = self.build_optimizers()

    @abstractmethod
    def build_generator(self) -> nn.Module:
        """z (N, latent_dim) -> image (N, C, H, W) in [-1, 1]."""

    @abstractmethod
    def build_discriminator(self) -> nn.Module:
        """The network G plays against."""

    def build_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        t = self.train_cfg
        return self.adam(self.G.parameters(), t.lr_g), self.adam(self.D.parameters(), t.lr_d)

    @property
    def generator(self) -> nn.Module:
        return self.G

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.G, self.discriminator_name: self.D}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, self.discriminator_name: self.opt_d}
