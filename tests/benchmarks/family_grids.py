"""One sample grid per family after a short CPU run on faces, side by side, with each grid's pixel
Fréchet distance to the data (lower is closer; the untrained generators score about 1.05).

    python tests/benchmarks/family_grids.py [--minutes 2] [--out family_grids.png] [--families ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch
from PIL import Image, ImageDraw

from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.images import image_grid, to_uint8
from ganstudio.metrics.frechet import pixel_frechet_distance
from ganstudio.models import family_class, list_families
from ganstudio.training.engine import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="CPU training time per family")
    parser.add_argument("--out", default="family_grids.png")
    parser.add_argument("--families", help="comma-separated (default: all)")
    args = parser.parse_args()
    families = args.families.split(",") if args.families else list(list_families())
    base = RunConfig()
    real = load_dataset(base.data).images[:2000].permute(0, 2, 3, 1).numpy()
    panels = []
    for name in families:
        config = base.replace(model={"family": name},
                              train={**family_class(name).train_defaults(), "epochs": 10**6, "device": "cpu",
                                     "max_minutes": args.minutes, "sample_every": 10**9})
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            trainer = Trainer(config, out=tmp)
            ended = trainer.run()
            family = trainer.family
            z = torch.randn(2000, family.latent_dim, generator=torch.Generator().manual_seed(0))
            labels = torch.arange(2000) % max(1, len(family.class_names))
            images = to_uint8(family.generate(z, labels))
        fd = pixel_frechet_distance(images, real)
        print(f"{name:<8} {ended.step:>7,} steps in {time.perf_counter() - start:4.0f} s   pixel FD {fd:.3f}")
        grid = image_grid(images[:36], columns=6)
        panel = Image.new("RGB", (grid.shape[1], grid.shape[0] + 16), "white")
        panel.paste(Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).convert("RGB"), (0, 16))
        ImageDraw.Draw(panel).text((2, 2), f"{name} {ended.step} steps FD {fd:.2f}", fill="black")
        panels.append(np.asarray(panel))
    Image.fromarray(np.concatenate(panels, axis=1)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
