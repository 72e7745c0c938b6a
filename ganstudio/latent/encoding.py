"""Real images to explore around, for models with an encoder (the VAE): an image file prepared to
the model's shape, or a random image of the run's own data set. ``GeneratorSnapshot.encode`` then
gives its z."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganstudio.config import DataConfig
from ganstudio.data import load_dataset
from ganstudio.data.folder import load_image


def image_from_file(path: str | Path, image_shape: tuple[int, int, int]) -> np.ndarray:
    """(H, W, C) uint8: the file centre-cropped and resized to ``image_shape`` (C, H, W)."""
    channels, size, _ = image_shape
    return np.ascontiguousarray(load_image(path, size, channels).transpose(1, 2, 0))


def random_data_image(data: DataConfig, seed: int) -> np.ndarray:
    """(H, W, C) uint8: one image of the data set, chosen by ``seed``."""
    images = load_dataset(data).images
    index = int(np.random.default_rng(seed).integers(len(images)))
    return np.ascontiguousarray(images[index].permute(1, 2, 0).numpy())
