"""Any folder of images (png, jpg, jpeg, webp, bmp), flat or nested; sub-folders can be class labels.

Every image is decoded with Pillow, turned upright (EXIF orientation), flattened onto white where it
is transparent, converted to grey or RGB, centre-cropped to a square and resized. Files that cannot be
decoded are skipped and named in one warning. The decoded tensor is cached, keyed by the folder's file
list (names, sizes, modification times), so reopening an unchanged folder decodes nothing.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganstudio.config import DataConfig
from ganstudio.data import register_dataset
from ganstudio.data.base import DataError, ImageSet
from ganstudio.data.cache import cache_key, load_arrays, save_arrays

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})
# Only these decoders may run, whatever a file's extension claims (no EPS/Ghostscript and the like).
# Multi-picture JPEGs (MPO, from some cameras) open through the JPEG decoder.
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP")
_CACHE_KIND = "folder"
_CACHE_VERSION = 1  # bump when decoding changes, so old caches are not reused
_MAX_NAMED = 5  # skipped files named in the warning before "and N more"
_WHITE = (255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_ORIENTATION_TAG = 0x0112
# EXIF orientation -> the transpose that makes the image upright (the table of ImageOps.exif_transpose).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class _File:
    path: str  # absolute
    rel: str  # relative to the root, '/'-separated
    size: int  # bytes
    mtime_ns: int


@register_dataset(
    "folder", "any folder of images (png, jpg, webp, bmp), flat or nested; sub-folders can be class labels"
)
def load_folder(cfg: DataConfig) -> ImageSet:
    """The images under ``cfg.root`` as an ImageSet.

    images: (N, cfg.channels, cfg.image_size, cfg.image_size) uint8, in sorted relative-path order.
    labels: (N,) int64 index of each image's first-level sub-folder when ``cfg.labels``, else None.
    warnings: one sentence naming the skipped (empty, damaged, non-image) files, if any.
    """
    root = check_root(cfg.root)
    files = list_images(root)
    if not files:
        raise DataError(
            f"The folder {root} contains no png, jpg, jpeg, webp or bmp images; choose a folder with images."
        )
    class_names, class_of = _classes(files, root) if cfg.labels else ((), {})
    candidates = _candidate_order(files, class_of, cfg)

    key = cache_key(
        version=_CACHE_VERSION,
        root=str(root),
        files=[(f.rel, f.size, f.mtime_ns) for f in files],
        image_size=cfg.image_size,
        channels=cfg.channels,
        labels=cfg.labels,
        num_images=cfg.num_images,
    )
    cached = _from_cache(key, cfg)
    if cached is not None:
        images, labels, skipped = cached
    else:
        images, labels, skipped, first_error = _decode_all(candidates, class_of, cfg)
        if len(images) == 0:
            raise DataError(
                f"None of the {len(skipped)} image files in {root} could be read "
                f"({name_list(skipped)}; first problem: {first_error}); "
                "they are empty, damaged or not images."
            )
        arrays = {"images": images.numpy(), "skipped": np.array(skipped, dtype=str)}
        if labels is not None:
            arrays["labels"] = labels.numpy()
        save_arrays(_CACHE_KIND, key, arrays)

    warnings = ()
    if skipped:
        what = "file that is empty, damaged or not an image" if len(skipped) == 1 else (
            "files that are empty, damaged or not images"
        )
        warnings = (f"Skipped {len(skipped)} {what}: {name_list(skipped)}.",)
    return ImageSet(
        images=images,
        labels=labels,
        class_names=class_names,
        warnings=warnings,
        name=cfg.dataset,
    )


# --- listing -----------------------------------------------------------------------------------------


def check_root(root: str | None) -> Path:
    if not root:
        raise DataError("No image folder was given; choose a folder with images.")
    path = Path(root).expanduser()
    if not path.exists():
        raise DataError(f"The folder {path} does not exist; choose a folder with images.")
    if not path.is_dir():
        raise DataError(f"{path} is not a folder; choose a folder with images.")
    return path.resolve()


def list_images(root: Path) -> list[_File]:
    """Every image file under ``root`` (recursive, hidden files and folders left out), sorted by relative
    path. Symlinked folders are followed once each; unreadable folders are passed over."""
    found: list[_File] = []
    seen_dirs: set[str] = set()
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        real = os.path.realpath(folder)
        if real in seen_dirs:
            continue
        seen_dirs.add(real)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):  # also macOS "._name.jpg" resource forks
                continue
            rel = prefix + entry.name
            try:
                if entry.is_dir():
                    stack.append((entry.path, rel + "/"))
                elif entry.is_file() and os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
                    st = entry.stat()
                    found.append(_File(entry.path, rel, st.st_size, st.st_mtime_ns))
            except OSError:  # a broken link or a file removed while listing
                continue
    found.sort(key=lambda f: f.rel)
    return found


def _classes(files: list[_File], root: Path) -> tuple[tuple[str, ...], dict[str, int]]:
    """Sorted class names (first-level sub-folders) and each file's class index, by relative path."""
    loose = [f.rel for f in files if "/" not in f.rel]
    if loose:
        raise DataError(
            f"With labels on, every image must sit in a sub-folder of {root} named after its class "
            f"(one sub-folder per class), but {len(loose)} are directly in it ({name_list(loose)})."
        )
    class_names = tuple(sorted({f.rel.split("/", 1)[0] for f in files}))
    index = {name: i for i, name in enumerate(class_names)}
    return class_names, {f.rel: index[f.rel.split("/", 1)[0]] for f in files}


def _candidate_order(files: list[_File], class_of: dict[str, int], cfg: DataConfig) -> list[_File]:
    """The order in which files are tried until ``cfg.num_images`` decode. Sorted; with labels and a
    limit, classes take turns (first of each class, then second of each, ...) so every class is present."""
    if cfg.num_images is None or not class_of or cfg.num_images >= len(files):
        return files
    per_class: dict[int, list[_File]] = {}
    for f in files:
        per_class.setdefault(class_of[f.rel], []).append(f)
    queues = [per_class[c] for c in sorted(per_class)]
    longest = max(len(q) for q in queues)
    return [q[i] for i in range(longest) for q in queues if i < len(q)]


# --- decoding ----------------------------------------------------------------------------------------


def _decode_all(
    candidates: list[_File], class_of: dict[str, int], cfg: DataConfig
) -> tuple[torch.Tensor, torch.Tensor | None, list[str], str]:
    """Decode candidates in order until ``cfg.num_images`` succeed (all of them without a limit).

    Returns images (N, C, S, S) uint8 sorted by relative path, labels (N,) int64 or None, the skipped
    relative paths (sorted) and the first decoding error ("" when none).
    """
    size, channels = cfg.image_size, cfg.channels
    wanted = len(candidates) if cfg.num_images is None else min(cfg.num_images, len(candidates))
    out = np.empty((wanted, channels, size, size), dtype=np.uint8)
    kept: list[_File] = []
    skipped: list[str] = []
    first_error = ""
    workers = max(1, min(16, os.cpu_count() or 4))

    def decode(f: _File) -> np.ndarray | str:
        return _decode_file(f, size, channels)

    position = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ganstudio-decode") as pool:
        while len(kept) < wanted and position < len(candidates):
            chunk = candidates[position : position + wanted - len(kept)]
            position += len(chunk)
            for f, result in zip(chunk, pool.map(decode, chunk)):
                if isinstance(result, str):
                    skipped.append(f.rel)
                    first_error = first_error or result
                    continue
                out[len(kept)] = result
                kept.append(f)

    images = out[: len(kept)]
    order = sorted(range(len(kept)), key=lambda i: kept[i].rel)
    if order != list(range(len(kept))):  # classes took turns: back to sorted order
        images = images[order]
        kept = [kept[i] for i in order]
    labels = torch.tensor([class_of[f.rel] for f in kept], dtype=torch.int64) if class_of else None
    return torch.from_numpy(np.ascontiguousarray(images)), labels, sorted(skipped), first_error


def load_image(path: str | Path, size: int, channels: int) -> np.ndarray:
    """One image file prepared as the data sets prepare theirs: (channels, size, size) uint8.
    Raises DataError with the reason when it cannot be read."""
    path = Path(path)
    try:
        with Image.open(path, formats=IMAGE_FORMATS) as img:
            return prepare_image(img, size, channels)
    except Exception as e:  # noqa: BLE001  any decoder failure means "cannot use this file"
        raise DataError(f"cannot read {path.name} as an image ({type(e).__name__}: {e})") from None


def _decode_file(f: _File, size: int, channels: int) -> np.ndarray | str:
    """One file -> (channels, size, size) uint8, or a short reason why it cannot be used."""
    if f.size == 0:
        return "empty file"
    try:
        with Image.open(f.path, formats=IMAGE_FORMATS) as img:
            return prepare_image(img, size, channels)
    except Exception as e:  # noqa: BLE001  any failure of a third-party decoder means "skip this file"
        return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def prepare_image(img: Image.Image, size: int, channels: int) -> np.ndarray:
    """Open image -> (channels, size, size) uint8: upright, on white, grey/RGB, centre square, resized."""
    mode = "L" if channels == 1 else "RGB"
    # JPEG: let the decoder scale down by 1/2..1/8 (DCT scaling) while the short side stays >= 2*size.
    img.draft(mode, (2 * size, 2 * size))
    orientation = _orientation(img)
    img = _to_mode(img, mode)
    w, h = img.size
    side = min(w, h)
    box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
    small = img.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    if orientation in _ORIENTATION:  # flips and quarter turns commute with a centred square crop
        small = small.transpose(_ORIENTATION[orientation])
    array = np.asarray(small, dtype=np.uint8)
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001  unreadable EXIF: keep the image as stored
        return 1


def _to_mode(img: Image.Image, mode: str) -> Image.Image:
    """Any Pillow mode -> 8-bit ``mode`` ('L' or 'RGB'); transparency is composited onto white and
    16/32-bit grey is scaled (not clipped) to 0..255."""
    if _has_alpha(img):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif img.mode.startswith("I") or img.mode == "F":
        values = np.asarray(img).astype(np.float64)
        if img.mode.startswith("I;16") or values.max(initial=0) > 255:
            values = values * (255 / 65535)
        img = Image.fromarray(np.clip(values.round(), 0, 255).astype(np.uint8))
    return img if img.mode == mode else img.convert(mode)


def _has_alpha(img: Image.Image) -> bool:
    if img.mode in _ALPHA_MODES:
        return True
    if img.info.get("transparency") is not None:
        return not (img.mode.startswith("I") or img.mode == "F")
    return img.mode == "P" and img.palette is not None and img.palette.mode == "RGBA"


# --- cache -------------------------------------------------------------------------------------------


def _from_cache(key: str, cfg: DataConfig) -> tuple[torch.Tensor, torch.Tensor | None, list[str]] | None:
    """Cached (images, labels, skipped names), or None when missing or not the expected shape."""
    arrays = load_arrays(_CACHE_KIND, key)
    if arrays is None or "images" not in arrays or "skipped" not in arrays:
        return None
    images = arrays["images"]
    expected = (cfg.channels, cfg.image_size, cfg.image_size)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != expected or len(images) == 0:
        return None
    labels = arrays.get("labels")
    if cfg.labels != (labels is not None) or (labels is not None and labels.shape != (len(images),)):
        return None
    return (
        torch.from_numpy(np.ascontiguousarray(images)),
        None if labels is None else torch.from_numpy(labels.astype(np.int64)),
        [str(name) for name in arrays["skipped"]],
    )


def name_list(names: list[str]) -> str:
    """'a, b, c' or 'a, b, c, d, e and 7 more'."""
    shown = ", ".join(names[:_MAX_NAMED])
    return shown if len(names) <= _MAX_NAMED else f"{shown} and {len(names) - _MAX_NAMED} more"
