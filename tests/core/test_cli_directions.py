"""`ganstudio directions` and `ganstudio traverse` on a run made by `ganstudio train`."""

import json
import sys

import numpy as np
import pytest
from PIL import Image

from ganstudio.cli import main
from ganstudio.data.faces import FACTOR_NAMES
from ganstudio.images import mp4_encoder
from ganstudio.training.engine import Trainer


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from conftest import make_small_config

    trainer = Trainer(make_small_config(steps=40), out=tmp_path_factory.mktemp("runs"))
    trainer.run()
    return trainer.run_folder.path


@pytest.mark.parametrize("method", ["sefa", "pca"])
def test_directions_writes_a_loadable_set(trained_run, tmp_path, method, capsys):
    out = tmp_path / f"{method}.json"
    assert main(["directions", str(trained_run), "--method", method, "-k", "5", "--samples", "2000",
                 "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["latent_dim"] == 100 and len(document["directions"]) == 5
    first = document["directions"][0]
    assert first["method"] == method and first["source"].startswith("step_0000040")
    assert np.isclose(np.linalg.norm(first["vector"]), 1.0, atol=1e-4)
    assert "Wrote" in capsys.readouterr().out


def test_traverse_png_is_one_padded_row_and_gif_animates(trained_run, tmp_path):
    dirs = tmp_path / "d.json"
    assert main(["directions", str(trained_run), "-k", "3", "-o", str(dirs)]) == 0
    png = tmp_path / "strip.png"
    assert main(["traverse", str(trained_run), "--direction", f"{dirs}:1", "--seed", "3", "--steps", "7",
                 "-o", str(png)]) == 0
    with Image.open(png) as image:
        assert image.size == (7 * 30 + 2, 28 + 4)  # 28 px frames, 2 px padding all round
        strip = np.asarray(image)
    frames = [strip[2:30, 2 + 30 * i: 30 + 30 * i] for i in range(7)]
    assert not np.array_equal(frames[0], frames[-1])
    assert main(["traverse", str(trained_run), "--direction", f"{dirs}:SeFa 2", "-o", str(tmp_path / "a.gif")]) == 0
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames > 7


@pytest.mark.parametrize("which, message", [("9", "holds 3 directions"), ("smile", "no direction named"),
                                            ("", "no direction named")])
def test_traverse_names_a_missing_direction(trained_run, tmp_path, which, message, capsys):
    dirs = tmp_path / "d.json"
    main(["directions", str(trained_run), "-k", "3", "-o", str(dirs)])
    assert main(["traverse", str(trained_run), "--direction", f"{dirs}:{which}", "-o", str(tmp_path / "s.png")]) == 2
    assert message in capsys.readouterr().err


def test_directions_refuses_bad_output_and_bad_files(trained_run, tmp_path, capsys):
    assert main(["directions", str(trained_run), "-o", str(tmp_path / "d.txt")]) == 2
    (tmp_path / "bad.json").write_text("[]")
    assert main(["traverse", str(trained_run), "--direction", f"{tmp_path / 'bad.json'}:0",
                 "-o", str(tmp_path / "s.png")]) == 2
    err = capsys.readouterr().err
    assert "ending in .json" in err and "not a ganstudio direction file" in err


def test_supervised_directions_are_named_after_the_faces_factors(trained_run, tmp_path, capsys):
    out = tmp_path / "named.json"
    assert main(["directions", str(trained_run), "--method", "supervised", "--samples", "500", "-o", str(out)]) == 0
    names = {d["name"] for d in json.loads(out.read_text())["directions"]}
    assert names == set(FACTOR_NAMES) and "yaw" in names
    assert "yaw" in capsys.readouterr().out


def test_mp4_needs_ffmpeg_and_says_so(trained_run, tmp_path, monkeypatch, capsys):
    import ganstudio.images as render

    dirs = tmp_path / "d.json"
    main(["directions", str(trained_run), "-k", "2", "-o", str(dirs)])
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # nor the video extra's ffmpeg
    assert main(["traverse", str(trained_run), "--direction", f"{dirs}:0", "-o", str(tmp_path / "s.mp4")]) == 2
    assert "needs ffmpeg" in capsys.readouterr().err
    assert not (tmp_path / "s.mp4").exists()


@pytest.mark.skipif(mp4_encoder() is None, reason="neither the video extra nor an ffmpeg on the PATH")
def test_traverse_mp4_with_ffmpeg(trained_run, tmp_path):
    dirs = tmp_path / "d.json"
    main(["directions", str(trained_run), "-k", "2", "-o", str(dirs)])
    assert main(["traverse", str(trained_run), "--direction", f"{dirs}:0", "-o", str(tmp_path / "s.mp4")]) == 0
    assert (tmp_path / "s.mp4").read_bytes()[4:8] == b"ftyp"  # an MP4 container
