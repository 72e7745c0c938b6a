"""Paired image folders for image-to-image models, in the two layouts people have on disk:

- ``A/`` and ``B/`` sub-folders whose files have matching names (``A/0001.png`` is the input of
  ``B/0001.jpg``; extensions may differ, sub-folders must match), as CycleGAN-style data sets ship;
- side-by-side images, left half the input and right half the image (the pix2pix data sets:
  facades, maps, edges2shoes, …), each exactly twice as wide as it is high.

A pair that cannot be used — a name without its partner, an A and a B of different sizes, a file that is
damaged or not an image, a side-by-side image that is not twice as wide as high — is left out, and one
warning counts and names them all: nothing is dropped silently, nothing is paired by position.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganstudio.config import DataConfig
from ganstudio.data import register_dataset
from ganstudio.data.base import DataError, ImageSet
from ganstudio.data.folder import IMAGE_FORMATS, check_root, list_images, name_list, prepare_image


@register_dataset("pairs", "paired images for pix2pix: a folder with A/ (inputs) and B/ (images) of matching "
                           "file names, or side-by-side images (left half input, right half image)")
def load_pairs(cfg: DataConfig) -> ImageSet:
    """images: the B halves (N, cfg.channels, S, S) uint8; sources: the A halves, same shape; sorted by name."""
    root = check_root(cfg.root)
    has_a, has_b = (root / "A").is_dir(), (root / "B").is_dir()
    if has_a != has_b:
        present, absent = ("A", "B") if has_a else ("B", "A")
        raise DataError(f"{root} has a {present}/ folder but no {absent}/: a paired folder needs both, with "
                        f"matching file names (or put side-by-side images in the folder itself)")
    pairs, skipped = _matched(root) if has_a else _side_by_side(root)
    if cfg.num_images is not None:
        pairs = pairs[:cfg.num_images]
    sources, images = [], []
    for name, read in pairs:
        try:
            source, image = read(cfg.image_size, cfg.channels)
        except _Unusable as e:
            skipped.append(f"{name} ({e})")
            continue
        sources.append(source)
        images.append(image)
    if not images:
        raise DataError(f"No usable pairs in {root}" + (f": {name_list(skipped)}" if skipped else "") +
                        "; a paired folder holds A/ and B/ with matching file names, or side-by-side images")
    warnings = (f"Left out {len(skipped)} pair(s) that could not be used: {name_list(skipped)}.",) if skipped else ()
    return ImageSet(images=torch.from_numpy(np.stack(images)), sources=torch.from_numpy(np.stack(sources)),
                    warnings=warnings, name=cfg.dataset)


class _Unusable(Exception):
    """Why one pair cannot be used, in a few words."""


def _open(path: str) -> Image.Image:
    try:
        image = Image.open(path, formats=IMAGE_FORMATS)
        image.load()
        return image
    except Exception as e:  # noqa: BLE001  any decoder failure means "cannot use this file"
        raise _Unusable(f"{Path(path).name} cannot be read: {type(e).__name__}") from None


def _matched(root: Path) -> tuple[list, list[str]]:
    """(name, reader) for every name in both A/ and B/, sorted; the names that cannot be paired (in only
    one of them, or shared by two files of one side)."""
    a, a_clashes = _by_name(root, "A")
    b, b_clashes = _by_name(root, "B")
    unmatched = [f"A/{n} (no B)" for n in sorted(a.keys() - b.keys() - b_clashes)] + [
        f"B/{n} (no A)" for n in sorted(b.keys() - a.keys() - a_clashes)]
    for side, clashes in (("A", a_clashes), ("B", b_clashes)):
        unmatched += [f"{side}/{n} (two files of this name)" for n in sorted(clashes)]
    a = {n: path for n, path in a.items() if n not in b_clashes}
    b = {n: path for n, path in b.items() if n not in a_clashes}

    def reader(path_a: str, path_b: str):
        def read(size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
            with _open(path_a) as image_a, _open(path_b) as image_b:
                if image_a.size != image_b.size:
                    raise _Unusable(f"A is {image_a.size[0]}×{image_a.size[1]}, B {image_b.size[0]}×{image_b.size[1]}")
                return prepare_image(image_a, size, channels), prepare_image(image_b, size, channels)
        return read

    return [(name, reader(a[name], b[name])) for name in sorted(a.keys() & b.keys())], unmatched


def _by_name(root: Path, side: str) -> tuple[dict[str, str], set[str]]:
    """{name without extension: path} of the images under root/side, and the names that two files share
    (e.g. 12.png and 12.jpg: which one is meant cannot be told, so neither is used)."""
    paths: dict[str, str] = {}
    clashes: set[str] = set()
    for f in list_images(root / side):
        name = Path(f.rel).with_suffix("").as_posix()
        if name in paths:
            clashes.add(name)
        paths[name] = f.path
    return {n: path for n, path in paths.items() if n not in clashes}, clashes


def _side_by_side(root: Path) -> tuple[list, list[str]]:
    """(name, reader) for every image in ``root``: left half the input, right half the image."""
    def reader(path: str):
        def read(size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
            with _open(path) as image:
                width, height = image.size
                if width != 2 * height:
                    raise _Unusable(f"{width}×{height} is not two squares side by side")
                left, right = image.crop((0, 0, height, height)), image.crop((height, 0, width, height))
                return prepare_image(left, size, channels), prepare_image(right, size, channels)
        return read

    files = list_images(root)
    if not files:
        raise DataError(f"{root} holds no images; a paired folder holds A/ and B/ with matching file names, or "
                        "side-by-side images (left half input, right half image)")
    return [(f.rel, reader(f.path)) for f in files], []
