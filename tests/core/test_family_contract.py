"""The family contract with a toy family of each kind: one that draws from z and one that translates an
image. Each is one class plus a registry entry; the engine, checkpoints, snapshots and the CLI need
nothing else to train it, show its grid, resume it and render from it."""

import numpy as np
import pytest
import torch
from torch import nn

from ganstudio.cli import main
from ganstudio.config import RunConfig
from ganstudio.data.base import IMAGE, SOURCE
from ganstudio.errors import ConfigError
from ganstudio.images import read_png
from ganstudio.models import _FAMILIES, register_family
from ganstudio.models.base import Family, MetricInfo
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer


class _ToyFamily(Family):
    """One linear or 1×1-conv generator fitted to its target by L1; no discriminator."""

    metrics = (MetricInfo("l1", "L1", "losses"),)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.G = self.place(self.build())
        self.opt = self.adam(self.G.parameters(), self.train_cfg.lr_g)

    @property
    def generator(self) -> nn.Module:
        return self.G

    def networks(self):
        return {"generator": self.G}

    def optimizers(self):
        return {"generator": self.opt}


class ToyZ(_ToyFamily):
    description = "toy: z -> image"

    def build(self) -> nn.Module:
        c, s, _ = self.image_shape
        return nn.Sequential(nn.Linear(self.latent_dim, c * s * s), nn.Tanh(), nn.Unflatten(1, (c, s, s)))

    def train_step(self, batch):
        real = batch[IMAGE]
        self.opt.zero_grad()
        loss = (self.G(torch.randn(len(real), self.latent_dim)) - real.mean(0)).abs().mean()
        loss.backward()
        self.opt.step()
        return {"l1": loss.detach()}


class ToyTranslation(_ToyFamily):
    description = "toy: source -> image"
    needs = frozenset({IMAGE, SOURCE})
    generator_inputs = (SOURCE,)

    @classmethod
    def held_out_size(cls, data_size, num_samples):
        return 8

    def build(self) -> nn.Module:
        return nn.Sequential(nn.Conv2d(1, self.image_shape[0], 1), nn.Tanh())

    def train_step(self, batch):
        self.opt.zero_grad()
        loss = (self.G(batch[SOURCE]) - batch[IMAGE]).abs().mean()
        loss.backward()
        self.opt.step()
        return {"l1": loss.detach()}

    def fixed_inputs(self, num_samples, generator, held_out):
        return {SOURCE: held_out[SOURCE][:4], IMAGE: held_out[IMAGE][:4]}

    def sample_tiles(self, inputs, outputs):
        return torch.cat([outputs, inputs[IMAGE]]), len(outputs)  # outputs above their targets


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setattr("ganstudio.models._FAMILIES", dict(_FAMILIES))
    register_family("toy-z")(ToyZ)
    register_family("toy-translation")(ToyTranslation)


def toy_config(family: str, steps: int, **data) -> RunConfig:
    return RunConfig().replace(data={"num_images": 200, **data}, model={"family": family, "latent_dim": 4},
                               train={"max_steps": steps, "batch_size": 20, "lr_g": 1e-2, "device": "cpu",
                                      "sample_every": 10, "eval_every": 0})


@pytest.mark.parametrize("family, data", [("toy-z", {}), ("toy-translation", {"pair_from": "grey"})])
def test_a_toy_of_each_kind_trains_resumes_and_renders(toys, tmp_path, family, data):
    whole = Trainer(toy_config(family, 30, **data), out=tmp_path / "a", report_interval_s=0)
    whole.run()
    first = Trainer(toy_config(family, 12, **data), out=tmp_path / "b", report_interval_s=0)
    first.run()
    resumed = Trainer.resume(first.run_folder.path, train_overrides={"max_steps": 30}, report_interval_s=0)
    resumed.run()
    assert torch.equal(whole.family.G[0].weight, resumed.family.G[0].weight)  # exact resume

    losses = [r["l1"] for r in whole.run_folder.read_metrics() if "l1" in r]
    assert losses[-1] < 0.8 * losses[0]
    grid = read_png(whole.run_folder.list_samples()[-1][1])
    snapshot = GeneratorSnapshot.from_checkpoint(whole.run_folder.path)
    if family == "toy-z":
        assert grid.shape[:2] == (8 * 30 + 2, 8 * 30 + 2)  # 64 fixed z in a square
        assert snapshot.render(np.zeros((2, 4), np.float32)).shape == (2, 28, 28, 1)
        assert main(["sample", str(whole.run_folder.path), "-n", "9", "-o", str(tmp_path / "z.png")]) == 0
        assert read_png(tmp_path / "z.png").shape[:2] == (3 * 30 + 2, 3 * 30 + 2)
    else:
        assert grid.shape[:2] == (2 * 30 + 2, 4 * 30 + 2)  # its own layout: outputs above targets
        assert snapshot.translates and set(snapshot.fixed) == {SOURCE, IMAGE}
        assert snapshot.translate(np.zeros((2, 28, 28, 1), np.uint8)).shape == (2, 28, 28, 1)
        with pytest.raises(ValueError, match="no z"):
            snapshot.render(np.zeros((1, 4), np.float32))


def test_a_family_says_what_data_it_needs_before_step_0(toys, tmp_path):
    with pytest.raises(ConfigError, match="needs data with source"):
        Trainer(toy_config("toy-translation", 5), out=tmp_path / "runs").run()
    assert not (tmp_path / "runs").exists()
