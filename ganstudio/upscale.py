"""Upscaling images of any size with a super-resolution generator, tile by tile.

A large photo does not fit through the network in one piece (activations grow with the area), so it is
cut into tiles; each tile is run with a margin of context at least the network's receptive radius and
only its centre is kept. For a fully convolutional G with its norms in eval mode that gives the same
pixels as one piece would — no seams — in bounded memory."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ganstudio.images import to_uint8
from ganstudio.snapshot import GeneratorSnapshot

TILE = 128  # input pixels per tile side
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
    for done, (top, left, bottom, right) in enumerate(boxes):
        check()
        y0, x0 = max(0, top - margin), max(0, left - margin)
        y1, x1 = min(height, bottom + margin), min(width, right + margin)
        result = snapshot.generator(x[:, :, y0:y1, x0:x1]).float()
        keep = result[:, :, (top - y0) * s:(bottom - y0) * s, (left - x0) * s:(right - x0) * s]
        out[top * s:bottom * s, left * s:right * s] = to_uint8(keep)[0]
        progress(done + 1, len(boxes))
    return out


def _as_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """(H, W) or (H, W, 1|3|4) uint8 -> (H, W, channels): alpha dropped, grey <-> RGB."""
    if image.ndim == 2:
        image = image[..., None]
    image = image[..., :3] if image.shape[2] == 4 else image
    if image.shape[2] == channels:
        return image
    if channels == 3:
        return np.repeat(image, 3, axis=2)
    return np.round(image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[..., None].astype(np.uint8)
