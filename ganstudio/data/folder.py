"""Any folder of images (png, jpg, jpeg, webp, bmp), flat or nested; sub-folders can be class labels.

Every image is decoded with Pillow, turned upright (EXIF orientation), flattened onto white where it
is transparent, converted to grey or RGB, centre-cropped to a square and resized. Files that cannot be
decoded are skipped and named in one warning. The decoded tensor is cached, keyed by the folder's file
list (names, sizes, modification times), so reopening an unchanged folder decodes nothing.

Binary attributes (StarGAN's domains) come from a file in CelebA's layout (``cfg.attributes_file``), or
are the one-hot classes when sub-folders are labels.
"""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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
_CACHE_VERSION = 2  # bump when decoding or what is stored changes, so old caches are not reused
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
    attributes: (N, K) float32 in {0, 1} from ``cfg.attributes_file`` (only the images it has a row for),
        else the one-hot labels (K classes) when ``cfg.labels``, else None.
    With ``cfg.full_size`` the images keep their own sizes (``photo_folder.py``, for super-resolution).
    warnings: sentences naming the skipped (empty, damaged, non-image) files and, with an attributes
        file, the images without a row and the rows without an image.
    """
    root = check_root(cfg.root)
    files = list_images(root)
    if not files:
        raise DataError(
            f"The folder {root} contains no png, jpg, jpeg, webp or bmp images; choose a folder with images."
        )
    if cfg.full_size:
        from ganstudio.data.photo_folder import load_photos
        return load_photos(root, files, cfg)
    table, row_of, unmatched = None, {}, []
    if cfg.attributes_file is not None:
        table = read_attributes(cfg.attributes_file)
        files, row_of, unmatched = _match_rows(files, table, root)
    class_names, class_of = _classes(files, root) if cfg.labels else ((), {})
    decoded = decode_images(root, files, cfg, class_of)
    warnings = ([skipped_warning(decoded.skipped)] if decoded.skipped else []) + unmatched
    attributes, attribute_names = None, ()
    if table is not None:
        attributes = torch.from_numpy(table.values[[row_of[name] for name in decoded.names]])
        attribute_names = table.names
    elif cfg.labels:
        attributes = torch.nn.functional.one_hot(decoded.labels, len(class_names)).float()
        attribute_names = class_names
    return ImageSet(
        images=decoded.images,
        labels=decoded.labels,
        class_names=class_names,
        warnings=tuple(warnings),
        name=cfg.dataset,
        attributes=attributes,
        attribute_names=attribute_names,
    )


class Decoded(NamedTuple):
    """Decoded images (N, C, S, S) uint8 sorted by relative path; labels (N,) int64 or None; the N
    relative paths; the skipped relative paths (sorted)."""

    images: torch.Tensor
    labels: torch.Tensor | None
    names: list[str]
    skipped: list[str]


def decode_images(root: Path, files: list[_File], cfg: DataConfig, class_of: dict[str, int]) -> Decoded:
    """``files`` (listed under ``root``) decoded at ``cfg``'s size and channels, at most ``cfg.num_images``
    of them (labelled by ``class_of``: relative path -> class, or empty), from the cache when unchanged.
    Raises DataError when none can be read."""
    key = cache_key(
        version=_CACHE_VERSION,
        root=str(root),
        files=[(f.rel, f.size, f.mtime_ns) for f in files],
        image_size=cfg.image_size,
        channels=cfg.channels,
        labels=bool(class_of),
        num_images=cfg.num_images,
    )
    cached = _from_cache(key, cfg, bool(class_of))
    if cached is not None:
        return cached
    decoded, first_error = _decode_all(_candidate_order(files, class_of, cfg), class_of, cfg)
    if len(decoded.images) == 0:
        raise DataError(
            f"None of the {len(decoded.skipped)} image files in {root} could be read "
            f"({name_list(decoded.skipped)}; first problem: {first_error}); "
            "they are empty, damaged or not images."
        )
    arrays = {"images": decoded.images.numpy(), "names": np.array(decoded.names, dtype=str),
              "skipped": np.array(decoded.skipped, dtype=str)}
    if decoded.labels is not None:
        arrays["labels"] = decoded.labels.numpy()
    save_arrays(_CACHE_KIND, key, arrays)
    return decoded


def skipped_warning(skipped: list[str]) -> str:
    """The sentence naming files that could not be decoded."""
    what = "file that is empty, damaged or not an image" if len(skipped) == 1 else (
        "files that are empty, damaged or not images"
    )
    return f"Skipped {len(skipped)} {what}: {name_list(skipped)}."


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


# --- attributes --------------------------------------------------------------------------------------


class AttributeTable(NamedTuple):
    """A file of binary attributes: K names, R file names ('/'-separated), values (R, K) float32 in {0, 1}."""

    path: Path
    names: tuple[str, ...]
    files: list[str]
    values: np.ndarray


_ATTRIBUTE_VALUE = {"1": 1.0, "-1": 0.0, "0": 0.0}


def read_attributes(path: str | Path) -> AttributeTable:
    """Read CelebA's ``list_attr_celeba.txt`` layout (line 1 the number of rows, line 2 the attribute names,
    then ``file v1 ... vK`` per row, whitespace-separated) or a CSV with a header row ``image_id,A1,...,AK``
    (Kaggle's ``list_attr_celeba.csv``). Values are 1 / -1 or 1 / 0. Raises DataError naming the line of
    the first problem."""
    path = Path(path).expanduser()
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"Cannot read the attributes file {path} ({type(e).__name__}: {e}).") from None
    numbered = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if not numbered:
        raise DataError(f"The attributes file {path} is empty.")
    if "," in numbered[0][1]:  # CSV: header row "image_id,A1,...", then "file,v1,..."
        names = [name.strip() for name in numbered[0][1].split(",")[1:]]
        rows = [(number, [field.strip() for field in line.split(",")]) for number, line in numbered[1:]]
    else:  # CelebA's text layout: count, names, rows
        count_line, count = numbered[0]
        if not count.strip().isdigit():
            raise DataError(f"{path.name}, line {count_line}: the first line should be the number of images, "
                            f"not '{count.strip()[:40]}'.")
        names = numbered[1][1].split() if len(numbered) > 1 else []
        rows = [(number, line.split()) for number, line in numbered[2:]]
        if int(count) != len(rows):
            raise DataError(f"{path.name}, line {count_line}: says {int(count)} images, but the file has "
                            f"{len(rows)} rows; is it complete?")
    if not names or not all(names):
        raise DataError(f"{path.name} names no attributes; its header should list them after the file column.")
    seen: dict[str, int] = {}  # file -> line
    for number, fields in rows:
        if len(fields) != len(names) + 1:
            raise DataError(f"{path.name}, line {number}: expected a file name and {len(names)} values, "
                            f"found {len(fields) - 1} values.")
        file = fields[0].replace("\\", "/")
        if file in seen:
            raise DataError(f"{path.name}, line {number}: {file} already has a row (line {seen[file]}).")
        seen[file] = number
    try:
        codes = [_ATTRIBUTE_VALUE[v] for _, fields in rows for v in fields[1:]]
    except KeyError as e:
        number, fields = next((n, f) for n, f in rows if e.args[0] in f[1:])
        raise DataError(f"{path.name}, line {number}: '{e.args[0]}' for {names[fields.index(e.args[0], 1) - 1]} "
                        "is not 1, -1 or 0.") from None
    values = np.array(codes, dtype=np.float32).reshape(len(rows), len(names))
    return AttributeTable(path, tuple(names), list(seen), values)


def _match_rows(files: list[_File], table: AttributeTable, root: Path) -> tuple[list[_File], dict[str, int], list[str]]:
    """The files that have a row, each file's row index (by relative path), and warnings naming the images
    without a row and the rows without an image. A row matches a file by relative path, or by bare file
    name when no other file and no other row have that name."""
    by_path = {name: i for i, name in enumerate(table.files)}
    bare_names = [posixpath.basename(name) for name in table.files]
    bare_rows = Counter(bare_names)
    by_bare = {bare: i for i, bare in enumerate(bare_names) if bare_rows[bare] == 1}
    bare_files = Counter(posixpath.basename(f.rel) for f in files)
    row_of: dict[str, int] = {}
    for f in files:
        bare = posixpath.basename(f.rel)
        row = by_path.get(f.rel, by_bare.get(bare) if bare_files[bare] == 1 else None)
        if row is not None:
            row_of[f.rel] = row
    source = table.path.name
    if not row_of:
        raise DataError(f"None of the {len(files)} images in {root} has a row in {source} (its rows name files "
                        f"such as {name_list(table.files[:3])}); choose the folder those names are relative to.")
    warnings = []
    missing = [f.rel for f in files if f.rel not in row_of]
    if missing:
        has, are = ("image has", "is") if len(missing) == 1 else ("images have", "are")
        warnings.append(f"{len(missing)} {has} no row in {source} and {are} left out: {name_list(missing)}.")
    used = set(row_of.values())
    absent = [name for i, name in enumerate(table.files) if i not in used]
    if absent:
        rows, name = ("row", "names a file") if len(absent) == 1 else ("rows", "name files")
        warnings.append(f"{len(absent)} {rows} of {source} {name} not found in {root}: {name_list(absent)}.")
    return [f for f in files if f.rel in row_of], row_of, warnings


# --- decoding ----------------------------------------------------------------------------------------


def _decode_all(candidates: list[_File], class_of: dict[str, int], cfg: DataConfig) -> tuple[Decoded, str]:
    """Decode candidates in order until ``cfg.num_images`` succeed (all of them without a limit).
    Returns them and the first decoding error ("" when none)."""
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
    images = torch.from_numpy(np.ascontiguousarray(images))
    return Decoded(images, labels, [f.rel for f in kept], sorted(skipped)), first_error


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


def read_full_size(path: str | Path, channels: int) -> np.ndarray:
    """An image file at its own size -> (H, W, channels) uint8: upright (EXIF orientation), transparency
    flattened onto white, grey (1) or RGB (3). Raises DataError naming the file when it cannot be read."""
    try:
        with Image.open(path, formats=IMAGE_FORMATS) as img:
            array = np.asarray(upright(img, "L" if channels == 1 else "RGB"), dtype=np.uint8)
    except Exception as e:  # noqa: BLE001  any decoder failure means "cannot use this file"
        raise DataError(f"cannot read {Path(path).name} as an image ({type(e).__name__}: {e})") from None
    return array[..., None] if array.ndim == 2 else array


def upright(img: Image.Image, mode: str) -> Image.Image:
    """An open image at its own size, upright (EXIF orientation), on white, in ``mode`` ('L' or 'RGB')."""
    orientation = _orientation(img)
    img = _to_mode(img, mode)
    return img.transpose(_ORIENTATION[orientation]) if orientation in _ORIENTATION else img


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


def _from_cache(key: str, cfg: DataConfig, labelled: bool) -> Decoded | None:
    """The cached decoding, or None when missing or not the expected shape."""
    arrays = load_arrays(_CACHE_KIND, key)
    if arrays is None or not {"images", "names", "skipped"} <= arrays.keys():
        return None
    images = arrays["images"]
    expected = (cfg.channels, cfg.image_size, cfg.image_size)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != expected or len(images) == 0:
        return None
    labels = arrays.get("labels")
    if labelled != (labels is not None) or (labels is not None and labels.shape != (len(images),)):
        return None
    if arrays["names"].shape != (len(images),):
        return None
    return Decoded(
        torch.from_numpy(np.ascontiguousarray(images)),
        None if labels is None else torch.from_numpy(labels.astype(np.int64)),
        [str(name) for name in arrays["names"]],
        [str(name) for name in arrays["skipped"]],
    )


def name_list(names: list[str]) -> str:
    """'a, b, c' or 'a, b, c, d, e and 7 more'."""
    shown = ", ".join(names[:_MAX_NAMED])
    return shown if len(names) <= _MAX_NAMED else f"{shown} and {len(names) - _MAX_NAMED} more"
