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
_DATASETS: dict[str, tuple[DatasetLoader, str, int]] = {}


def register_dataset(name: str, description: str, version: int = 1) -> Callable[[DatasetLoader], DatasetLoader]:
    """Register a loader; ``version`` changes when the same configuration starts giving other images
    (helpers cached for a data set, such as its attribute model, are keyed by it)."""
    def decorator(loader: DatasetLoader) -> DatasetLoader:
        _DATASETS[name] = (loader, description, version)
        return loader

    return decorator


def list_datasets() -> dict[str, str]:
    """Registered data set names -> one-line descriptions."""
    return {name: description for name, (_, description, _) in _DATASETS.items()}


def dataset_version(name: str) -> int:
    """The registered version of a data set's images (1 for an unknown name)."""
    return _DATASETS[name][2] if name in _DATASETS else 1


def load_dataset(cfg: DataConfig) -> ImageSet:
    if cfg.dataset not in _DATASETS:
        raise DataError(f"unknown data set '{cfg.dataset}'; choose one of: {', '.join(_DATASETS)}")
    data = _DATASETS[cfg.dataset][0](cfg)
    if cfg.pair_from is not None and data.sources is None:
        from ganstudio.data.pairs import make_sources
        data = dataclasses.replace(data, sources=make_sources(data.images, cfg.pair_from))
    return data


# Sources register themselves on import.
from ganstudio.data import faces, folder, paired_folder, speech, torchvision_sets, unpaired_folder  # noqa: F401

__all__ = ["DataError", "ImageSet", "dataset_version", "list_datasets", "load_dataset", "register_dataset"]
