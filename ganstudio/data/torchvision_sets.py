"""MNIST and Fashion-MNIST through torchvision: the tutorial's data.

Files already in ``ROOT/MNIST/raw/`` (or ``ROOT/FashionMNIST/raw/``) are used as they are; otherwise
torchvision downloads them. Offline with no files, loading fails with one clear sentence.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import torch
import torchvision

from ganstudio.config import DataConfig
from ganstudio.data import register_dataset
from ganstudio.data.base import DataError, ImageSet, resize_images
from ganstudio.data.cache import cache_dir
from ganstudio.fileio import atomic_writer


def default_root() -> Path:
    return cache_dir() / "torchvision"


def _unpack_local_archives(raw: Path, dataset_cls: type[torchvision.datasets.MNIST]) -> None:
    """Decompress ``*.gz`` files already in ``raw`` (e.g. from a Linux package, whose archives differ
    from the download's checksums) so torchvision uses them instead of downloading."""
    for url, _ in dataset_cls.resources:
        archive = raw / Path(url).name
        unpacked = archive.with_suffix("")
        if archive.is_file() and not unpacked.is_file():
            try:
                with gzip.open(archive) as src, atomic_writer(unpacked) as dst:
                    shutil.copyfileobj(src, dst)
            except (OSError, EOFError) as e:
                raise DataError(f"{archive} is damaged ({e}); delete it to download it again") from None


def _load(dataset_cls: type[torchvision.datasets.MNIST], title: str, cfg: DataConfig) -> ImageSet:
    root = Path(cfg.root).expanduser() if cfg.root else default_root()
    raw = root / dataset_cls.__name__ / "raw"
    _unpack_local_archives(raw, dataset_cls)
    try:
        data = dataset_cls(str(root), train=True, download=True)  # no download when files exist
    except (RuntimeError, OSError) as e:
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise DataError(
            f"{title} is not in {raw} and could not be downloaded ({reason}). "
            f"Put its files there (--data-root sets the root), or choose the built-in 'faces' data set."
        ) from None
    images = data.data.unsqueeze(1)  # (N, 1, 28, 28) uint8
    labels = data.targets.to(torch.int64)
    if cfg.num_images is not None:
        images, labels = images[: cfg.num_images], labels[: cfg.num_images]
    return ImageSet(
        images=resize_images(images, cfg.image_size, cfg.channels),
        labels=labels,
        class_names=tuple(data.classes),
        name=cfg.dataset,
    )


@register_dataset("mnist", "handwritten digits (torchvision; downloads once, or uses --data-root)")
def load_mnist(cfg: DataConfig) -> ImageSet:
    return _load(torchvision.datasets.MNIST, "MNIST", cfg)


@register_dataset("fashion-mnist", "clothing images (torchvision; downloads once, or uses --data-root)")
def load_fashion_mnist(cfg: DataConfig) -> ImageSet:
    return _load(torchvision.datasets.FashionMNIST, "Fashion-MNIST", cfg)
