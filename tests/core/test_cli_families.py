"""The command line with the other families: their defaults and options, and classes."""

import numpy as np
import pytest
from PIL import Image

from ganstudio.cli import main
from ganstudio.config import RunConfig


def train(tmp_path, *args) -> RunConfig:
    out = tmp_path / "runs"
    assert main(["train", "--dataset", "faces", "--num-images", "300", "--width", "8", "--max-steps", "6",
                 "--sample-every", "6", "--device", "cpu", "--out", str(out), *args]) == 0
    (run,) = out.iterdir()
    return run


def test_a_family_trains_with_its_paper_defaults_and_given_options(tmp_path, capsys):
    run = train(tmp_path, "--family", "wgan-gp", "--option", "n_critic=3", "--lr-g", "3e-4")
    config = RunConfig.load(run / "config.json")
    assert config.model.options == {"n_critic": 3, "gp_weight": 10.0}  # the run records every option
    t = config.train
    assert (t.lr_g, t.lr_d, t.beta1, t.beta2, t.batch_size) == (3e-4, 1e-4, 0.0, 0.9, 64)
    assert "wasserstein" in (run / "metrics.jsonl").read_text()


@pytest.mark.parametrize("option, message", [("n_critic", "KEY=NUMBER"), ("gamma=0.5", "has no option gamma"),
                                             ("n_critic=0", "must be in")])
def test_bad_options_are_one_line_errors(tmp_path, capsys, option, message):
    assert main(["train", "--family", "wgan", "--option", option, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_conditional_samples_come_one_row_per_class_or_of_one_class(tmp_path, capsys):
    run = train(tmp_path, "--family", "cgan")
    assert main(["sample", str(run), "-n", "12", "-o", str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size == (2 * 30 + 2, 6 * 30 + 2)  # 6 classes x 2
    assert main(["sample", str(run), "-n", "4", "--class", "frontal, smiling", "-o", str(tmp_path / "a.npz")]) == 0
    assert main(["sample", str(run), "-n", "4", "--class", "3", "-o", str(tmp_path / "b.npz")]) == 0
    same = np.load(tmp_path / "a.npz")["images"], np.load(tmp_path / "b.npz")["images"]
    assert np.array_equal(*same)  # "frontal, smiling" is class 3
    assert main(["sample", str(run), "-n", "4", "--class", "sideways", "-o", str(tmp_path / "c.npz")]) == 2
    assert "the classes are: 0 turned left, serious" in capsys.readouterr().err

    assert main(["directions", str(run), "--class", "5", "-k", "3", "-o", str(tmp_path / "d.json")]) == 0
    assert main(["traverse", str(run), "--class", "5", "--direction", f"{tmp_path / 'd.json'}:0",
                 "-o", str(tmp_path / "s.png")]) == 0
