"""Paired image folders: A/ and B/ with matching names, side-by-side images; what cannot be paired is
named in one warning, never dropped silently or paired by position."""

import pytest
from PIL import Image

from ganstudio.config import DataConfig, RunConfig
from ganstudio.data import load_dataset
from ganstudio.errors import DataError
from ganstudio.training.engine import Trainer


def pairs_config(root, **data) -> DataConfig:
    return DataConfig(**{"dataset": "pairs", "root": str(root), "image_size": 32, "channels": 1, **data})


def test_a_and_b_folders_pair_by_name_and_name_what_they_leave_out(tmp_path):
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    for i in range(5):  # A/i grey level 40·i; its partner B/i at 250 − 40·i (B/4 missing)
        Image.new("L", (48, 48), 40 * i).save(tmp_path / "A" / f"{i}.png")
        if i < 4:
            Image.new("L", (64, 64) if i == 3 else (48, 48), 250 - 40 * i).save(tmp_path / "B" / f"{i}.jpg")
    Image.new("L", (48, 48), 0).save(tmp_path / "B" / "7.png")  # no A
    (tmp_path / "B" / "2.jpg").write_bytes(b"not an image")  # damaged
    for name in ("5.png", "5.jpg"):  # which A is meant for B/5 cannot be told
        Image.new("L", (48, 48), 90).save(tmp_path / "A" / name)
    Image.new("L", (48, 48), 90).save(tmp_path / "B" / "5.png")
    data = load_dataset(pairs_config(tmp_path))
    assert len(data) == 2 and data.sources.shape == data.images.shape == (2, 1, 32, 32)
    assert [int(v) for v in data.sources[:, 0, 0, 0]] == [0, 40]  # A/0, A/1 ...
    assert [int(v) for v in data.images[:, 0, 0, 0]] == [250, 210]  # ... with B/0, B/1: paired by name
    (warning,) = data.warnings
    assert "Left out 5 pair(s)" in warning
    for name in ("A/4 (no B)", "B/7 (no A)", "2 (2.jpg cannot be read", "3 (A is 48×48, B 64×64)",
                 "A/5 (two files of this name)"):
        assert name in warning


def test_side_by_side_images_split_into_input_and_image(tmp_path):
    for i in range(3):
        image = Image.new("RGB", (64, 32), (10 * i, 0, 0))
        image.paste((200, 200, 200), (32, 0, 64, 32))
        image.save(tmp_path / f"pair_{i}.png")
    Image.new("RGB", (40, 32)).save(tmp_path / "odd.png")
    data = load_dataset(pairs_config(tmp_path, channels=3))
    assert len(data) == 3 and data.sources[:, 0, 5, 5].tolist() == [0, 10, 20]
    assert (data.images == 200).all()
    assert data.warnings == ("Left out 1 pair(s) that could not be used: odd.png (40×32 is not two squares side "
                             "by side).",)


def test_a_paired_folder_takes_no_pairing_transform():
    from ganstudio.errors import ConfigError

    with pytest.raises(ConfigError, match="brings its own inputs"):
        DataConfig(dataset="pairs", root="x", pair_from="edges")


@pytest.mark.parametrize("make, message", [
    (lambda root: (root / "A").mkdir(), "has a A/ folder but no B/"),
    (lambda root: None, "holds no images"),
])
def test_folders_that_cannot_be_paired_say_why(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(DataError, match=message):
        load_dataset(pairs_config(tmp_path))


def test_pix2pix_trains_on_a_paired_folder(tmp_path):
    root = tmp_path / "pairs"
    (root / "A").mkdir(parents=True)
    (root / "B").mkdir()
    for i in range(40):
        Image.new("L", (32, 32), 5 * i).save(root / "A" / f"{i:02d}.png")
        Image.new("L", (32, 32), 255 - 5 * i).save(root / "B" / f"{i:02d}.png")
    config = RunConfig().replace(data={"dataset": "pairs", "root": str(root), "image_size": 32},
                                 model={"family": "pix2pix", "width": 8},
                                 train={"max_steps": 5, "batch_size": 8, "device": "cpu", "eval_every": 0})
    ended = Trainer(config, out=tmp_path / "runs").run()
    assert ended.reason == "finished" and ended.step == 5
