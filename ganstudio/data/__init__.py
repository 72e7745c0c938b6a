"""Data set registry: ``@register_dataset("name")``, ``list_datasets()``, ``load_dataset(cfg)``.

Each source is a function ``(DataConfig) -> ImageSet`` that returns images already at the
configured size and channel count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ganstudio.config import DataConfig
from ganstudio.data.base import DataError, ImageSet

DatasetLoader = Callable[[DataConfig], ImageSet]
_DATASETS: dict[str, tuple[DatasetLoader, str]] = {}


def register_dataset(name: str, description: str) -> Callable[[DatasetLoader], DatasetLoader]:
    def decorator(loader: DatasetLoader) -> DatasetLoader:
        _DATASETS[name] = (loader, description)
        return loader

    return decorator


def list_datasets() -> dict[str, str]:
    """Registered data set names -> one-line descriptions."""
    return {name: description for name, (_, description) in _DATASETS.items()}


def load_dataset(cfg: DataConfig) -> ImageSet:
    if cfg.dataset not in _DATASETS:
        raise DataError(f"unknown data set '{cfg.dataset}'; choose one of: {', '.join(_DATASETS)}")
    data = _DATASETS[cfg.dataset][0](cfg)
    if cfg.pair_from is not None and data.sources is None:
        from ganstudio.data.pairs import make_sources
        data = dataclasses.replace(data, sources=make_sources(data.images, cfg.pair_from))
    return data


# Sources register themselves on import.
from ganstudio.data import faces, folder, paired_folder, torchvision_sets  # noqa: E402,F401

__all__ = ["DataError", "ImageSet", "list_datasets", "load_dataset", "register_dataset"]
