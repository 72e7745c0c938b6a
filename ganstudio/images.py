"""Generator output -> uint8 pictures: tensors in [-1, 1] to HWC arrays, grids and PNG files."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganstudio.errors import UserError
from ganstudio.fileio import atomic_writer


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) float in [-1, 1] -> fresh (N, H, W, C) uint8 array."""
    x = ((images.detach().float().cpu() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def image_grid(images: np.ndarray, columns: int | None = None, padding: int = 2, pad_value: int = 0) -> np.ndarray:
    """(N, H, W, C) uint8 -> one (rows·(H+p)+p, cols·(W+p)+p, C) uint8 grid, row-major."""
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.full((rows * (h + padding) + padding, columns * (w + padding) + padding, c), pad_value, np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y : y + h, x : x + w] = image
    return grid


def to_pil(image: np.ndarray) -> Image.Image:
    """(H, W, C) uint8 with C in {1, 3} -> PIL image (grey or RGB)."""
    return Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)


def read_png(path: str | Path) -> np.ndarray:
    """A grey or colour image file -> (H, W, C) uint8 with C in {1, 3}."""
    with Image.open(path) as image:
        array = np.asarray(image.convert("L" if image.mode in ("L", "I;16", "1") else "RGB"))
    return array[..., None] if array.ndim == 2 else array


def save_png(image: np.ndarray, path: str | Path) -> None:
    """Write an (H, W, C) uint8 image as PNG, atomically."""
    with atomic_writer(path) as f:
        to_pil(image).save(f, format="PNG")


def save_image(image: np.ndarray, path: str | Path) -> None:
    """Write an (H, W, C) uint8 image in the format its suffix names (.png, .jpg, .webp, …; PNG when
    unknown), atomically."""
    file_format = Image.registered_extensions().get(Path(path).suffix.lower(), "PNG")
    with atomic_writer(path) as f:
        to_pil(image).save(f, format=file_format)


def save_images(images: np.ndarray, folder: str | Path, prefix: str = "sample") -> list[Path]:
    """One PNG per (H, W, C) image of an (N, H, W, C) array; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{prefix}_{i:04d}.png" for i in range(len(images))]
    for image, path in zip(images, paths):
        save_png(image, path)
    return paths


def save_gif(frames: list[np.ndarray], path: str | Path, frame_ms: int = 120, scale: int = 1) -> None:
    """An animated GIF of (H, W, C) uint8 frames (same size), enlarged ``scale``× with nearest
    neighbour; the last frame is held three times as long. Written atomically."""
    if not frames:
        raise ValueError("no frames to write")
    images = [to_pil(frame) for frame in frames]
    if scale > 1:
        images = [im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST) for im in images]
    durations = [frame_ms] * (len(images) - 1) + [frame_ms * 3]
    with atomic_writer(path) as f:
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)


def mp4_encoder() -> str | None:
    """The ffmpeg program that ``save_mp4`` uses: the one the ``imageio-ffmpeg`` wheel ships (the
    ``video`` extra), else one on the PATH, else None."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return shutil.which("ffmpeg")
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:  # the wheel's binary is missing for this platform
        return shutil.which("ffmpeg")


def save_mp4(frames: list[np.ndarray], path: str | Path, fps: int = 25, scale: int = 1) -> None:
    """An H.264 MP4 of (H, W, C) uint8 frames (same size), enlarged ``scale``x with nearest
    neighbour, through ffmpeg (frames piped raw; the size is rounded up to even numbers, as yuv420p
    needs). Raises UserError when ffmpeg is missing or fails."""
    encoder = mp4_encoder()
    if encoder is None:
        raise UserError('MP4 export needs ffmpeg: pip install "ganstudio[video]" (it brings one), or put ffmpeg on '
                        "the PATH (https://ffmpeg.org); GIF export works without it")
    if not frames:
        raise ValueError("no frames to write")
    rgb = np.stack([f if f.shape[-1] == 3 else np.repeat(f, 3, axis=-1) for f in frames])
    rgb = rgb.repeat(scale, axis=1).repeat(scale, axis=2)
    _, h, w, _ = rgb.shape
    rgb = np.pad(rgb, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    path = Path(path)
    partial = path.with_name(f".tmp-{path.name}")  # MP4 needs a seekable file; moved into place when done
    command = [encoder, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{rgb.shape[2]}x{rgb.shape[1]}", "-r", str(fps), "-i", "-",
               "-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "mp4", str(partial)]
    try:
        result = subprocess.run(command, input=rgb.tobytes(), capture_output=True)
        if result.returncode != 0:
            raise UserError(f"ffmpeg could not write the MP4: {result.stderr.decode(errors='replace').strip()[:300]}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
