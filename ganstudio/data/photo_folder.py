"""A folder of images read at their own sizes, for super-resolution (``DataConfig.full_size``): a folder
of 4000×3000 photos trains on 96 px patches cropped from the photos themselves, not from copies shrunk to
96 px. Images are made upright, flattened onto white and converted as ``folder.py`` does; images
smaller than one patch, and files that cannot be decoded, are left out and named in one warning each.
The decoding is cached like the folder's."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganstudio.config import DataConfig
from ganstudio.data.base import DataError, ImageSet
from ganstudio.data.cache import cache_key, load_arrays, save_arrays
from ganstudio.data.folder import IMAGE_FORMATS, _File, name_list, read_full_size, skipped_warning
from ganstudio.data.photos import Photos

_CACHE_KIND = "photos"
_CACHE_VERSION = 1
MEMORY_SHARE = 0.5  # refuse a folder whose decoded pixels need more than this share of the free memory


def load_photos(root: Path, files: list[_File], cfg: DataConfig) -> ImageSet:
    """The images under ``root`` at their own sizes: ``photos`` holds them, ``images`` their central
    ``cfg.image_size`` squares (the held-out patches and the real side of the quality measures)."""
    if cfg.num_images is not None:
        files = files[:cfg.num_images]
    key = cache_key(version=_CACHE_VERSION, root=str(root), files=[(f.rel, f.size, f.mtime_ns) for f in files],
                    channels=cfg.channels, patch=cfg.image_size)
    arrays = load_arrays(_CACHE_KIND, key)
    if arrays is None or not {"pixels", "sizes", "names", "skipped", "small"} <= arrays.keys():
        arrays = _decode(root, files, cfg)
        save_arrays(_CACHE_KIND, key, arrays)
    skipped, small = [str(n) for n in arrays["skipped"]], [str(n) for n in arrays["small"]]
    if len(arrays["sizes"]) == 0:
        if small:
            raise DataError(f"Every readable image in {root} is smaller than the {cfg.image_size} px patches that "
                            f"super-resolution learns from ({name_list(small)}); choose a smaller --image-size "
                            "or larger images.")
        raise DataError(f"None of the {len(skipped)} image files in {root} could be read ({name_list(skipped)}).")
    photos = Photos(torch.from_numpy(arrays["pixels"]), torch.from_numpy(arrays["sizes"]), cfg.channels)
    warnings = [skipped_warning(skipped)] if skipped else []
    if small:
        warnings.append(f"Left out {len(small)} image(s) smaller than the {cfg.image_size} px patches: "
                        f"{name_list(small)}.")
    return ImageSet(images=photos.centre_crops(cfg.image_size), warnings=tuple(warnings), name=cfg.dataset,
                    photos=photos)


def _decode(root: Path, files: list[_File], cfg: DataConfig) -> dict[str, np.ndarray]:
    _check_memory(files, cfg.channels, root)
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 2))) as pool:
        results = list(pool.map(lambda f: _decode_file(f, cfg.channels), files))
    kept, skipped, small = [], [], []
    for f, result in zip(files, results):
        if isinstance(result, str):
            skipped.append(f.rel)
        elif min(result.shape[1:]) < cfg.image_size:
            small.append(f.rel)
        else:
            kept.append((f.rel, result))
    pixels = np.concatenate([a.ravel() for _, a in kept]) if kept else np.zeros(0, np.uint8)
    return {"pixels": pixels, "sizes": np.array([a.shape[1:] for _, a in kept], np.int64).reshape(-1, 2),
            "names": np.array([name for name, _ in kept], dtype=str), "skipped": np.array(skipped, dtype=str),
            "small": np.array(small, dtype=str)}


def _decode_file(f: _File, channels: int) -> np.ndarray | str:
    """One file -> (channels, H, W) uint8 at its own size, or why it cannot be used."""
    if f.size == 0:
        return "empty file"
    try:
        return read_full_size(f.path, channels).transpose(2, 0, 1).copy()
    except DataError as e:
        return str(e)


def _check_memory(files: list[_File], channels: int, root: Path) -> None:
    """DataError when the decoded folder would need more than MEMORY_SHARE of the free memory (the sizes
    come from the file headers; nothing is decoded)."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no check
        return
    needed = 0
    for f in files:
        try:
            with Image.open(f.path, formats=IMAGE_FORMATS) as img:
                needed += channels * img.size[0] * img.size[1]
        except Exception:  # noqa: BLE001, S112  unreadable files are named when decoding
            continue
    if needed > MEMORY_SHARE * free:
        raise DataError(f"The {len(files)} images in {root} need {needed / 2**30:.1f} GiB decoded, more than half of "
                        f"the free memory ({free / 2**30:.1f} GiB); train on fewer (--num-images) or smaller images.")
