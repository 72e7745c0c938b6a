"""Upscaling images of any size with a super-resolution run: tiles without seams, and ``ganstudio upscale`` on
files and folders (sizes, mirrored names, damaged files, the MSE/GAN blend, one-line errors)."""

import numpy as np
import pytest
from conftest import make_small_config
from PIL import Image
from test_srgan import sr_config

from ganstudio.cli import main
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer
from ganstudio.upscale import output_paths, upscale


@pytest.fixture(scope="module")
def sr_run(tmp_path_factory):
    """A ×4 SRGAN run of 20 steps whose GAN phase began after step 10: (run folder, step 10's checkpoint).
    The GAN phase's content loss is the pixel MSE (no feature network to train: seconds, not minutes)."""
    config = sr_config(20, mse_steps=10).replace(model={"options": {"mse_steps": 10, "blocks": 2, "content": 0}},
                                                 train={"checkpoint_every": 10})
    trainer = Trainer(config, out=tmp_path_factory.mktemp("sr"), report_interval_s=0)
    trainer.run()
    checkpoints = dict(trainer.run_folder.list_checkpoints())
    return trainer.run_folder.path, checkpoints[10]


@pytest.fixture(scope="module")
def snapshot(sr_run):
    return GeneratorSnapshot.from_checkpoint(sr_run[0])


def photo(h: int, w: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth picture with some texture: (h, w, channels) uint8, or (h, w) for channels 0."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = 128 + 90 * np.sin(7 * x + 3 * y)[..., None] * np.array([1.0, 0.6, -0.8])[: max(channels, 1)]
    image = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    return image[..., 0] if channels == 0 else image


@pytest.mark.parametrize("shape", [(40, 56, 3), (37, 23, 3), (29, 35, 0)], ids=["rgb", "odd", "grey"])
def test_tiles_give_the_same_pixels_as_one_piece(snapshot, shape):
    """Tiles of 16 px (with their context margin) against the whole image at once: no seams."""
    image = photo(*shape)
    whole = upscale(snapshot, image, tile=1000)
    calls = []
    tiled = upscale(snapshot, image, tile=16, progress=lambda done, total: calls.append((done, total)))
    h, w = shape[:2]
    assert whole.shape == tiled.shape == (4 * h, 4 * w, 3)
    assert len(calls) > 3 and calls[-1] == (len(calls), len(calls))
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_outputs_of_inputs_that_would_meet_keep_their_suffix(tmp_path):
    assert output_paths(["a/b.jpg", "b.jpg", "b.png", "c.webp"], tmp_path) == [
        tmp_path / "a/b.png", tmp_path / "b.jpg.png", tmp_path / "b.png.png", tmp_path / "c.png"]


def test_upscale_a_file(sr_run, tmp_path, capsys):
    Image.fromarray(photo(12, 20)).save(tmp_path / "in.jpg")
    assert main(["upscale", str(sr_run[0]), str(tmp_path / "in.jpg"), "-o", str(tmp_path / "out.png")]) == 0
    with Image.open(tmp_path / "out.png") as out:
        assert (out.format, out.size, out.mode) == ("PNG", (80, 48), "RGB")
    assert "in.jpg 20×12 -> 80×48 in" in capsys.readouterr().out
    assert main(["upscale", str(sr_run[0]), str(tmp_path / "in.jpg"), "-o", str(tmp_path / "folder") + "/"]) == 0
    assert Image.open(tmp_path / "folder" / "in.png").size == (80, 48)


def test_upscale_a_folder_mirrors_names_and_skips_damaged_files(sr_run, tmp_path, capsys):
    """Nested files of several formats and modes; a photo turned by its EXIF orientation comes out upright;
    a damaged file is named in one warning and the others are still written."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    Image.fromarray(photo(12, 20)).save(src / "a.png")
    Image.fromarray(photo(9, 7, 0)).save(src / "sub" / "grey.jpg")
    rgba = np.dstack([photo(10, 10), np.full((10, 10), 128, np.uint8)])
    Image.fromarray(rgba).save(src / "sub" / "clear.webp", lossless=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown turned a quarter
    Image.fromarray(photo(12, 20)).save(src / "turned.jpg", exif=exif)
    (src / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "out"
    assert main(["upscale", str(sr_run[0]), str(src), "-o", str(out)]) == 0
    written = {p.relative_to(out).as_posix(): Image.open(p).size for p in out.rglob("*.png")}
    assert written == {"a.png": (80, 48), "sub/grey.png": (28, 36), "sub/clear.png": (40, 40),
                       "turned.png": (48, 80)}
    captured = capsys.readouterr()
    (warning,) = captured.err.splitlines()
    assert "broken.png" in warning and "Skipped 1 file" in warning
    assert "sub/grey.jpg 7×9 -> 28×36" in captured.out


def test_alpha_0_is_the_mse_phase(sr_run, tmp_path):
    run, mse_checkpoint = sr_run
    Image.fromarray(photo(16, 16)).save(tmp_path / "in.png")

    def upscaled(name: str, *args: str) -> np.ndarray:
        assert main(["upscale", *args, str(tmp_path / "in.png"), "-o", str(tmp_path / name)]) == 0
        return np.asarray(Image.open(tmp_path / name))

    blended = upscaled("alpha0.png", str(run), "--alpha", "0")
    assert np.array_equal(blended, upscaled("mse.png", str(mse_checkpoint)))
    assert not np.array_equal(blended, upscaled("gan.png", str(run)))


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dcgan")
    trainer = Trainer(make_small_config("dcgan", steps=2, sample_every=1000), out=out, report_interval_s=0)
    trainer.run()
    return trainer.run_folder.path


@pytest.mark.parametrize("case", ["not_sr", "alpha_range", "alpha_before_gan", "missing", "damaged", "suffix",
                                  "no_image_readable"])
def test_errors_are_one_line(case, sr_run, dcgan_run, tmp_path, capsys):
    run, mse_checkpoint = sr_run
    image = tmp_path / "in.png"
    Image.fromarray(photo(8, 8)).save(image)
    (tmp_path / "bad.png").write_bytes(b"")
    (tmp_path / "bad_only" / "sub").mkdir(parents=True)
    (tmp_path / "bad_only" / "sub" / "x.jpg").write_bytes(b"\xff\xd8 cut short")
    args, expected = {
        "not_sr": ([str(dcgan_run), str(image)], "is a dcgan model, which draws images from z"),
        "alpha_range": ([str(run), str(image), "--alpha", "1.5"], "--alpha goes from 0"),
        "alpha_before_gan": ([str(mse_checkpoint), str(image), "--alpha", "0.5"], "still in its MSE phase"),
        "missing": ([str(run), str(tmp_path / "nope.png")], "nope.png does not exist"),
        "damaged": ([str(run), str(tmp_path / "bad.png")], "cannot read bad.png as an image"),
        "suffix": ([str(run), str(image), "-o", str(tmp_path / "x.jpg")], "written as PNG"),
        "no_image_readable": ([str(run), str(tmp_path / "bad_only")], "none of the 1 image files"),
    }[case]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "out.png")]
    assert main(["upscale", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err
    assert not (tmp_path / "out.png").exists()
