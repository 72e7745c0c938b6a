"""Upscaling images of any size with a super-resolution generator, tile by tile.

A large photo does not fit through the network in one piece (activations grow with the area), so it is
cut into tiles; each tile is run with a margin of context at least the network's receptive radius and
only its centre is kept. For a fully convolutional G with its norms in eval mode that gives the same
pixels as one piece would — no seams — in bounded memory. :func:`upscale_files` does it for image files
and folders of them (the CLI's ``ganstudio upscale``)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganstudio.data.folder import IMAGE_EXTENSIONS, list_images, read_full_size
from ganstudio.errors import DataError
from ganstudio.images import save_png, to_uint8
from ganstudio.snapshot import GeneratorSnapshot

TILE = 256  # input pixels per tile side (×4 on a CPU: 2× faster than 128 for +0.3 GB; bench_upscale.py)
DEFAULT_RADIUS = 32  # context margin for a generator that does not state its receptive radius


def tiles(height: int, width: int, tile: int) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) input boxes of at most ``tile`` pixels that cover the image, row-major."""
    return [(y, x, min(y + tile, height), min(x + tile, width))
            for y in range(0, height, tile) for x in range(0, width, tile)]


@torch.no_grad()
def upscale(snapshot: GeneratorSnapshot, image: np.ndarray, tile: int = TILE,
            progress: Callable[[int, int], None] = lambda done, total: None,
            check: Callable[[], None] = lambda: None) -> np.ndarray:
    """(H, W, C) uint8 -> (H·s, W·s, C) uint8 with the snapshot's generator (s its scale). ``progress(done,
    total)`` after each tile; ``check()`` before each (it may raise to cancel). Grey and RGB inputs are
    converted to the model's channels."""
    if snapshot.scale < 2:
        raise ValueError("this model does not upscale images")
    image = _as_channels(image, snapshot.image_shape[0])
    x = torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None] / 127.5 - 1.0
    s = snapshot.scale
    height, width = image.shape[:2]
    margin = getattr(snapshot.generator, "receptive_radius", DEFAULT_RADIUS)
    out = np.empty((height * s, width * s, image.shape[2]), np.uint8)
    boxes = tiles(height, width, tile)
    with snapshot.on_device():
        for done, (top, left, bottom, right) in enumerate(boxes):
            check()
            y0, x0 = max(0, top - margin), max(0, left - margin)
            y1, x1 = min(height, bottom + margin), min(width, right + margin)
            result = snapshot.generator(x[:, :, y0:y1, x0:x1].to(snapshot.device)).float()
            keep = result[:, :, (top - y0) * s:(bottom - y0) * s, (left - x0) * s:(right - x0) * s]
            out[top * s:bottom * s, left * s:right * s] = to_uint8(keep)[0]
            progress(done + 1, len(boxes))
    return out


def _as_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """(H, W) or (H, W, 1|2|3|4) uint8 -> (H, W, channels): alpha composited onto white, grey <-> RGB."""
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] in (2, 4):  # grey or RGB with alpha: onto white, as the data sets read them
        alpha = image[..., -1:].astype(np.float32) / 255
        image = np.round(image[..., :-1] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    if image.shape[2] == channels:
        return image
    if channels == 3:
        return np.repeat(image, 3, axis=2)
    return np.round(image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[..., None].astype(np.uint8)


# -- files and folders ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Upscaled:
    """One image file upscaled: its name (relative to the input folder), where it went, the sizes (width,
    height) before and after, and the seconds it took."""

    name: str
    target: Path
    size: tuple[int, int]
    out_size: tuple[int, int]
    seconds: float

    def describe(self) -> str:
        (w, h), (out_w, out_h) = self.size, self.out_size
        return f"{self.name} {w}×{h} -> {out_w}×{out_h} in {self.seconds:.1f} s"


def upscale_file(snapshot: GeneratorSnapshot, path: str | Path, target: str | Path, tile: int = TILE,
                 name: str | None = None, progress: Callable[[int, int], None] = lambda done, total: None) -> Upscaled:
    """Read ``path``, upscale it, write it to ``target`` as PNG (atomically; folders made as needed)."""
    start = time.perf_counter()
    image = read_full_size(path, snapshot.image_shape[0])
    out = upscale(snapshot, image, tile, progress)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_png(out, target)
    return Upscaled(name or Path(path).name, target, (image.shape[1], image.shape[0]), (out.shape[1], out.shape[0]),
                    time.perf_counter() - start)


def upscale_files(snapshot: GeneratorSnapshot, source: str | Path, out: str | Path, tile: int = TILE,
                  on_file: Callable[[Upscaled], None] = lambda done: None,
                  progress: Callable[[str, int, int], None] = lambda name, done, total: None) -> list[str]:
    """Every image under the folder ``source`` (recursive; anything already under ``out`` left out) upscaled
    into ``out`` as PNGs at the same relative paths. Files that cannot be read are skipped: returns their
    relative paths. DataError when the folder holds no images or none could be read."""
    source, out = Path(source), Path(out)
    inside_out = out.resolve()
    files = [f for f in list_images(source.resolve()) if not Path(f.path).is_relative_to(inside_out)]
    if not files:
        raise DataError(f"{source} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    skipped = []
    for f, target in zip(files, output_paths([f.rel for f in files], out), strict=True):
        try:
            done = upscale_file(snapshot, f.path, target, tile, f.rel,
                                lambda done, total, name=f.rel: progress(name, done, total))
        except DataError:
            skipped.append(f.rel)
            continue
        on_file(done)
    if len(skipped) == len(files):
        raise DataError(f"none of the {len(files)} image files in {source} could be read")
    return skipped


def output_paths(names: list[str], out: Path) -> list[Path]:
    """'/'-separated relative input paths -> PNG paths under ``out`` ('a/b.jpg' -> out/a/b.png); where two
    inputs would meet ('b.jpg', 'b.png') both keep their suffix ('b.jpg.png', 'b.png.png')."""
    plain = [Path(name).with_suffix(".png") for name in names]
    meets = Counter(plain)
    return [out / (Path(name + ".png") if meets[p] > 1 else p) for name, p in zip(names, plain, strict=True)]
