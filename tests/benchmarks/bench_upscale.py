"""Upscaling a photo-sized image ×4 on the CPU, tile by tile: time, memory and seams (issue 16).

    python tests/benchmarks/bench_upscale.py [--run RUN] [--steps 200] [--tiles 128 256] [--size 1024x768]

Without ``--run`` it first trains an SRGAN at 64 px on the drawn faces for ``--steps`` steps (default width;
the MSE phase for half of them, then the GAN with the pixel content loss, so no feature network has to
be trained first). Then, on a synthetic photo-like RGB image (smooth shading, hard-edged shapes, fine
texture and noise):

- for each tile size, in a fresh process (so that memory freed by training or by another tile size and
  kept by the allocator hides nothing): the wall time, the tiles used, and the resident memory: before
  (the model loaded, the image made, one small warm-up tile run) and its peak during the upscaling, the
  kernel's high-water mark (VmHWM in /proc/self/status; reset to the current resident set just before by
  writing ``5`` to /proc/self/clear_refs); "added" is the difference;
- the seam check on a smaller image (200×150, tile 64): the tiled output against the one-piece output,
  the largest absolute difference in grey levels within 2 output pixels of a tile border and over the
  whole image (target: ≤ 1 grey level, i.e. 1/255); a control without the context margin shows that
  the check sees seams where there are some.

Measured on the 2-core CPU, niced and beside another benchmark (so the times are pessimistic), 200 steps,
width 32, 6 blocks, receptive radius 21 px:

     tile  tiles  seconds  out MPix/s  RSS before   peak      added
      128     48     76.3        0.16     755 MiB   948 MiB  194 MiB
      256     12     39.4        0.32     755 MiB  1281 MiB  526 MiB
    seams (200×150, tile 64): 0 grey levels at the borders and overall; control without margin: 67.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ganstudio.config import RunConfig
from ganstudio.models import family_class
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer
from ganstudio.upscale import tiles, upscale

SEAM_IMAGE = (150, 200)  # (height, width)
SEAM_TILE = 64


def photo_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """(height, width, 3) uint8: coloured shading, a few hard-edged discs and bars, fine stripes, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) / max(height, width)
    image = 110 + 60 * np.stack([np.sin(3 * x + 1), np.cos(2 * y + 2 * x), np.sin(4 * y - x)], axis=-1)
    for _ in range(12):
        cy, cx, r = rng.uniform(0, height / max(height, width)), rng.uniform(0, 1), rng.uniform(0.02, 0.12)
        image[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
    for _ in range(6):
        top, left = rng.uniform(0, 0.7, 2)
        image[(y > top) & (y < top + 0.03) & (x > left) & (x < left + 0.3)] = rng.uniform(0, 255, 3)
    image += 25 * np.sin(90 * x + 40 * y)[..., None] * (x > 0.6)[..., None]  # fine texture in one part
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def vm_kib(field: str) -> int:
    """A line of /proc/self/status in KiB (VmRSS: resident now; VmHWM: its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> bool:
    """Reset VmHWM to the current resident set (Linux ≥ 4.0); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def train(steps: int) -> Path:
    mse_steps = steps // 2
    config = RunConfig().replace(
        data={"image_size": 64, "channels": 3, "num_images": 2000},
        model={"family": "srgan", "options": {"mse_steps": mse_steps, "content": 0}},
        train={**family_class("srgan").train_defaults(), "max_steps": steps, "epochs": 10**6, "device": "cpu",
               "eval_every": 0, "sample_every": 10**6, "checkpoint_every": 10**6})
    start = time.perf_counter()
    trainer = Trainer(config, out=tempfile.mkdtemp(prefix="bench-upscale-"), report_interval_s=1.0)
    ended = trainer.run()
    print(f"trained srgan 64 px, width {trainer.family.width}, {ended.step} steps (MSE phase {mse_steps}) in "
          f"{time.perf_counter() - start:.0f} s: {trainer.run_folder.path}")
    return trainer.run_folder.path


def border_mask(height: int, width: int, tile: int, scale: int, band: int = 2) -> np.ndarray:
    """(H·s, W·s) bool: output pixels within ``band`` of an inner tile border."""
    rows, cols = np.arange(height * scale), np.arange(width * scale)
    near_row = np.zeros(len(rows), bool)
    near_col = np.zeros(len(cols), bool)
    for edge in range(tile * scale, height * scale, tile * scale):
        near_row |= np.abs(rows - edge + 0.5) < band
    for edge in range(tile * scale, width * scale, tile * scale):
        near_col |= np.abs(cols - edge + 0.5) < band
    return near_row[:, None] | near_col[None, :]


def seam_check(snapshot: GeneratorSnapshot) -> list[tuple[str, int, int]]:
    """(label, max |difference| at tile borders, overall) of tiled against one-piece outputs."""
    image = photo_like(*SEAM_IMAGE, seed=1)
    whole = upscale(snapshot, image, tile=10**6).astype(int)
    near = border_mask(*SEAM_IMAGE, SEAM_TILE, snapshot.scale)
    tiled = upscale(snapshot, image, tile=SEAM_TILE).astype(int)
    generator, radius = snapshot.generator, getattr(snapshot.generator, "receptive_radius", None)
    generator.receptive_radius = 0  # the control: tiles cut without context
    try:
        control = upscale(snapshot, image, tile=SEAM_TILE).astype(int)
    finally:
        if radius is None:
            del generator.receptive_radius
        else:
            generator.receptive_radius = radius
    rows = []
    for label, out in (("with margin", tiled), ("control: no margin", control)):
        diff = np.abs(out - whole).max(axis=-1)
        rows.append((label, int(diff[near].max()), int(diff.max())))
    return rows


def measure(run: str, tile: int, width: int, height: int) -> dict[str, float]:
    """Upscale the large image once with ``tile``, in this process: seconds and resident KiB before and at peak."""
    snapshot = GeneratorSnapshot.from_checkpoint(run)
    image = photo_like(height, width)
    upscale(snapshot, image[:64, :64], tile)  # warm-up (allocator, kernels)
    exact = reset_peak()
    before = vm_kib("VmRSS")
    start = time.perf_counter()
    out = upscale(snapshot, image, tile)
    seconds = time.perf_counter() - start
    assert out.shape == (height * snapshot.scale, width * snapshot.scale, 3)
    return {"seconds": seconds, "before": before, "peak": vm_kib("VmHWM"), "exact": exact}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="an SRGAN run folder or checkpoint (default: train one)")
    parser.add_argument("--steps", type=int, default=200, help="training steps without --run (default: 200)")
    parser.add_argument("--tiles", type=int, nargs="+", default=[128], help="tile sizes to time (default: 128)")
    parser.add_argument("--size", default="1024x768", help="WIDTHxHEIGHT of the large image (default: 1024x768)")
    parser.add_argument("--measure-tile", type=int, help=argparse.SUPPRESS)  # one measurement, in a child process
    args = parser.parse_args()
    os.environ.setdefault("GANSTUDIO_CACHE", tempfile.mkdtemp(prefix="ganstudio-bench-cache-"))
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.measure_tile:
        print(json.dumps(measure(args.run, args.measure_tile, width, height)))
        return
    run = str(args.run or train(args.steps))
    snapshot = GeneratorSnapshot.from_checkpoint(run)
    s, radius = snapshot.scale, getattr(snapshot.generator, "receptive_radius", None)
    print(f"{snapshot.source}: ×{s}, width {snapshot.config.model.width}, receptive radius {radius} px; "
          f"{torch.get_num_threads()} threads; niceness {os.nice(0)}")
    size = width * height * 3
    print(f"\nupscaling a {width}×{height} RGB image to {width * s}×{height * s} (input float32 "
          f"{size * 4 / 2**20:.0f} MiB, output uint8 {size * s * s / 2**20:.0f} MiB), each tile size in a fresh process")
    print(f"  {'tile':>5} {'tiles':>6} {'seconds':>8} {'out MPix/s':>10} {'RSS before':>11} {'peak':>9} {'added':>8}")
    for tile in args.tiles:
        child = subprocess.run([sys.executable, __file__, "--run", run, "--measure-tile", str(tile), "--size",
                                args.size], capture_output=True, text=True, check=True)
        m = json.loads(child.stdout.splitlines()[-1])
        print(f"  {tile:>5} {len(tiles(height, width, tile)):>6} {m['seconds']:>8.1f} "
              f"{width * height * s * s / m['seconds'] / 1e6:>10.2f} {m['before'] / 1024:>7.0f} MiB "
              f"{m['peak'] / 1024:>5.0f} MiB {(m['peak'] - m['before']) / 1024:>4.0f} MiB"
              + ("" if m["exact"] else "  (VmHWM could not be reset: the peak is the process's)"))
    print(f"\nseams: {SEAM_IMAGE[1]}×{SEAM_IMAGE[0]} image, tile {SEAM_TILE}, against one piece "
          "(max |difference| in grey levels; target ≤ 1)")
    print(f"  {'':<20} {'at borders':>10} {'overall':>8}")
    for label, at_borders, overall in seam_check(snapshot):
        print(f"  {label:<20} {at_borders:>10} {overall:>8}")


if __name__ == "__main__":
    main()
