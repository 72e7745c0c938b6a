"""MNIST / Fashion-MNIST: local files are used without download; offline gives one clear sentence."""

import gzip
import struct
import urllib.error

import numpy as np
import pytest
import torchvision

from ganstudio.config import DataConfig
from ganstudio.data import load_dataset
from ganstudio.errors import DataError


def test_offline_without_files_gives_a_clear_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    with pytest.raises(DataError) as err:
        load_dataset(DataConfig(dataset="mnist", root=str(tmp_path)))
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "'faces'" in message
    assert "\n" not in message


def _idx(path, array, magic):
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def test_local_gz_files_are_used_without_download(tmp_path, monkeypatch):
    """Archives from elsewhere (checksums differ from the download's) are unpacked and used."""
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive",
                        lambda *a, **k: pytest.fail("tried to download"))
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 50), ("t10k", 10)):
        _idx(raw / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), 2051)
        _idx(raw / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, (n,), dtype=np.uint8), 2049)
    data = load_dataset(DataConfig(dataset="fashion-mnist", root=str(tmp_path), image_size=32, channels=3))
    assert tuple(data.images.shape) == (50, 3, 32, 32) and data.labels.shape == (50,)
    assert data.num_classes == 10
