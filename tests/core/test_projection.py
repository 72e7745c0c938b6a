"""Projecting real images into z: a planted code and class are found, the prior keeps z on the shell
N(0, I) lives on, cancellation, and the CLI."""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from ganstudio.config import RunConfig
from ganstudio.images import save_png, to_uint8
from ganstudio.latent.projection import prior_shell, project
from ganstudio.snapshot import ClassConditioned, GeneratorSnapshot

LATENT, SIZE, CLASSES = 16, 8, 4


class ToyGenerator(nn.Module):
    """G(z, class) = tanh(W z + E[class]): a smooth, injective map from 16 numbers to 8×8 grey images."""

    def __init__(self, conditional: bool):
        super().__init__()
        rng = torch.Generator().manual_seed(3)
        self.weight = nn.Parameter(torch.randn(SIZE * SIZE, LATENT, generator=rng) * 0.25)
        self.embedding = nn.Parameter(torch.randn(CLASSES, SIZE * SIZE, generator=rng) * 0.6)
        self.conditional = conditional

    def forward(self, z, labels=None):
        x = z @ self.weight.T
        if self.conditional:
            x = x + self.embedding[labels]
        return torch.tanh(x).view(-1, 1, SIZE, SIZE)


def toy_snapshot(conditional: bool = False) -> GeneratorSnapshot:
    generator = ToyGenerator(conditional).requires_grad_(False)
    if conditional:
        generator = ClassConditioned(generator, 0)
    return GeneratorSnapshot(generator, LATENT, (1, SIZE, SIZE), 0, "toy", RunConfig(),
                             class_names=tuple(f"class {i}" for i in range(CLASSES)) if conditional else (),
                             label=0 if conditional else None)


def planted(snapshot, seed=5, label=None):
    z = torch.randn(1, LATENT, generator=torch.Generator().manual_seed(seed))
    inner = snapshot.generator.generator if label is not None else snapshot.generator
    with torch.no_grad():
        image = inner(z, torch.tensor([label])) if label is not None else inner(z)
    return z[0].numpy(), to_uint8(image)[0]


def test_projection_recovers_a_planted_code():
    snapshot = toy_snapshot()
    z, image = planted(snapshot)
    found = project(snapshot, image, starts=8, steps=200)
    assert found.psnr > 35 and found.label is None
    assert np.linalg.norm(found.z - z) < 0.15 * np.linalg.norm(z)
    assert np.abs(found.reconstruction.astype(int) - image).max() <= 6


def test_a_conditional_generator_has_its_class_searched_too():
    snapshot = toy_snapshot(conditional=True)
    _, image = planted(snapshot, seed=7, label=2)
    found = project(snapshot, image, starts=8, steps=200)
    assert found.label == 2 and found.psnr > 30


def test_the_prior_keeps_z_on_the_shell_of_the_normal_distribution():
    """A flat image no code draws pulls z outwards (tanh saturates); the prior holds it within the
    99 % shell, where the generator was trained."""
    snapshot = toy_snapshot()
    flat = np.full((SIZE, SIZE, 1), 255, np.uint8)
    low, high = prior_shell(LATENT)
    found = project(snapshot, flat, starts=4, steps=150)
    assert low <= np.linalg.norm(found.z) <= high


def test_prior_shell_matches_sampled_norms():
    norms = torch.randn(200_000, 100, generator=torch.Generator().manual_seed(0)).norm(dim=1)
    low, high = prior_shell(100)
    assert math.isclose(low, float(norms.quantile(0.005)), rel_tol=0.01)
    assert math.isclose(high, float(norms.quantile(0.995)), rel_tol=0.01)


def test_projection_can_be_cancelled_and_reports_progress():
    snapshot = toy_snapshot()
    _, image = planted(snapshot)
    seen = []

    def check():
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        project(snapshot, image, steps=100, check=check, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 100) for i in range(1, 6)]


def test_an_image_of_another_shape_is_refused():
    with pytest.raises(ValueError, match="the model makes"):
        project(toy_snapshot(), np.zeros((SIZE, SIZE, 3), np.uint8))


@pytest.fixture(scope="module")
def faces_run(tmp_path_factory):
    from conftest import make_small_config

    from ganstudio.training.engine import Trainer

    trainer = Trainer(make_small_config("gan", steps=80), out=tmp_path_factory.mktemp("runs"))
    trainer.run()
    return trainer.run_folder.path


def test_cli_project_writes_z_the_reconstruction_and_an_edit(faces_run, tmp_path, capsys):
    from ganstudio.cli import main

    snapshot = GeneratorSnapshot.from_checkpoint(faces_run)
    image = snapshot.render(np.random.default_rng(0).standard_normal((1, snapshot.latent_dim)))[0]
    save_png(image, tmp_path / "me.png")
    directions = tmp_path / "d.json"
    assert main(["directions", str(faces_run), "--method", "sefa", "-k", "3", "-o", str(directions)]) == 0
    assert main(["project", str(faces_run), str(tmp_path / "me.png"), "-o", str(tmp_path / "z.json"),
                 "--reconstruction", str(tmp_path / "rec.png"), "--pixels-only", "--steps", "60",
                 "--directions", str(directions), "--edit", "SeFa 1=+3", "--edited", str(tmp_path / "edited.png")]) == 0
    document = json.loads((tmp_path / "z.json").read_text())
    assert document["format"] == "ganstudio-code/1" and len(document["z"]) == snapshot.latent_dim
    assert document["psnr_db"] > 15 and "PSNR" in capsys.readouterr().out
    from ganstudio.images import read_png
    rec, edited = read_png(tmp_path / "rec.png"), read_png(tmp_path / "edited.png")
    assert rec.shape == image.shape and np.abs(rec.astype(int) - edited).mean() > 1  # the edit changed it

    assert main(["project", str(faces_run), str(tmp_path / "me.png"), "-o", str(tmp_path / "z2.json"),
                 "--pixels-only", "--steps", "5", "--directions", str(directions), "--edit", "smile=1",
                 "--edited", str(tmp_path / "e.png")]) == 2
    assert "no direction named smile" in capsys.readouterr().err


def test_cli_project_names_a_file_that_is_not_an_image(faces_run, tmp_path, capsys):
    from ganstudio.cli import main

    (tmp_path / "bad.png").write_bytes(b"nope")
    assert main(["project", str(faces_run), str(tmp_path / "bad.png"), "-o", str(tmp_path / "z.json")]) == 2
    assert "cannot read bad.png as an image" in capsys.readouterr().err
    assert not (tmp_path / "z.json").exists()
