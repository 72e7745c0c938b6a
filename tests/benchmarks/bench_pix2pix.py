"""pix2pix against the same U-Net trained on L1 alone, for the same CPU time (issue 13, section 5).

    python tests/benchmarks/bench_pix2pix.py [--minutes 5] [--task edges grey] [--grid resources/pix2pix.png]

Faces at 32 px, RGB, 10,000 images (1,000 pairs held out). For each task (edges -> face, grey -> colour)
two runs of ``--minutes`` each: pix2pix as the paper has it, and ``adversarial_weight=0`` (the same
network, data and optimiser; G's loss is λ·L1 alone). On the held-out pairs it prints L1, PSNR, SSIM, the
domain FID of the outputs against the targets, the outputs' mean saturation against the targets', and
the Pearson r between the attribute model's yaw of the outputs and of the targets. Targets: FID ratio
pix2pix / L1 ≤ 0.7 with PSNR within 2 dB (edges); saturation within 20 % of the targets' (grey); yaw
r ≥ 0.9 (edges). ``--grid`` writes the two models' held-out grids side by side (input | output | target).

Measured on the 2-core CPU (5 minutes each; 1,000 held-out pairs; edges are the faces' exact outlines):

    edges -> face   steps  L1     PSNR   SSIM   FID    sat.   yaw r
       pix2pix      4,173  0.296  15.04  0.470  12.72  0.271  0.948
       L1 only      3,889  0.265  16.20  0.579  12.89  0.267  0.989   targets' saturation 0.395
    grey -> colour
       pix2pix      4,177  0.136  21.24  0.878   0.85  0.325  0.992
       L1 only      4,889  0.109  23.05  0.929   0.44  0.276  0.996

Met: PSNR within 2 dB of L1 alone (1.16, 1.82 dB); yaw r 0.948 on held-out edges; grey -> colour keeps
82 % of the targets' saturation where L1 alone keeps 70 %. Not met in 5 minutes: the FID ratio (0.99 on
edges, 1.93 on grey). An outline fixes the geometry, so L1 alone is not blurry here, only
colour-averaged; pix2pix after ~4,000 steps still shows grainy high-frequency texture (an early
PatchGAN; not the dropout noise: rendering without it moved a grey -> colour FID only 0.593 -> 0.566),
which the domain features count against it. With 8 minutes each (``--minutes 8 --task edges``):
pix2pix 6,887 steps, FID 7.86, PSNR 14.75; L1 alone 7,030 steps, FID 11.02, PSNR 16.17: ratio 0.71,
1.4 dB. Two 5-minute grey -> colour runs of pix2pix gave FID 0.85 and 0.59: single runs are noisy.

Width 16 (``--width 16 --task edges``) doubles the steps and meets every target in 5 minutes:
       pix2pix     10,562  0.300  14.95  0.459   5.23  0.332  0.960
       L1 only     10,220  0.271  16.03  0.557  11.35  0.264  0.984
FID ratio 0.46, PSNR 1.08 dB lower, yaw r 0.96, saturation 84 % of the targets' (L1 alone 67 %).
    grey -> colour, width 16
       pix2pix      9,567  0.135  21.38  0.882   0.97  0.324  0.990
       L1 only      9,997  0.112  22.84  0.920   0.50  0.278  0.995
Saturation 82 % of the targets' (L1 alone 70 %), PSNR 1.46 dB lower: met. Its domain FID is twice L1
alone's: grey fixes everything but the hue, so the features (trained on the factors) barely see the
colour averaging, while they do see pix2pix's remaining texture.

With the faces' light factor (drawing version 3), width 16, 5 minutes each:
    edges -> face  pix2pix  9,673  0.304  14.71  0.476   9.83  0.332  0.936
                   L1 only  8,473  0.261  16.19  0.577  14.32  0.259  0.984   targets' saturation 0.392
    relight        pix2pix 10,063  0.053  28.97  0.912   0.60  0.384  0.983
                   L1 only  9,798  0.037  31.55  0.946   0.27  0.386  0.992
FID ratio 0.69, PSNR 1.48 dB lower, saturation 85 % (L1 alone 66 %), yaw r 0.94: met (the L1-only run
shared the CPU with tests for a minute: 12 % fewer steps). Again on a quiet machine:
    edges -> face  pix2pix 10,169  0.302  14.79  0.451   7.75  0.357  0.945
                   L1 only  9,445  0.262  16.18  0.576  14.14  0.253  0.983
FID ratio 0.55, PSNR 1.39 dB lower, saturation 91 % of the targets' (L1 alone 65 %), yaw r 0.945. Relight has no target: copying the input
scores L1 0.130 / PSNR 24.3, both learn it, and L1 alone wins where the input fixes all but the shading.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ganstudio.config import PAIR_TRANSFORMS, RunConfig
from ganstudio.data import load_dataset
from ganstudio.images import image_grid, save_png, to_uint8
from ganstudio.latent.attributes import attribute_model_for
from ganstudio.metrics.features import domain_features
from ganstudio.metrics.translation import translate_all, translation_quality
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer


def config(task: str, minutes: float, l1_only: bool, width: int | None = None) -> RunConfig:
    return RunConfig().replace(
        data={"dataset": "faces", "num_images": 10_000, "image_size": 32, "channels": 3, "pair_from": task},
        model={"family": "pix2pix", "width": width, "options": {"adversarial_weight": 0.0} if l1_only else {}},
        train={"batch_size": 16, "epochs": 1000, "max_minutes": minutes, "device": "cpu", "sample_every": 10**6,
               "checkpoint_every": 10**6, "eval_every": 0})


def saturation(images: np.ndarray) -> float:
    """Mean HSV saturation of (N, H, W, 3) uint8 images."""
    x = images.astype(np.float32) / 255
    high, low = x.max(-1), x.min(-1)
    return float(np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0).mean())


def measure(task: str, minutes: float, l1_only: bool, out: Path, width: int | None = None) -> dict:
    cfg = config(task, minutes, l1_only, width)
    trainer = Trainer(cfg, out=out, report_interval_s=1.0)
    ended = trainer.run()
    snapshot = GeneratorSnapshot.from_checkpoint(trainer.run_folder.path)
    data = load_dataset(cfg.data)
    train, held = trainer.family.split_data(data, cfg.train.num_samples, cfg.train.seed)
    sources, targets = (t.permute(0, 2, 3, 1).numpy() for t in (held.sources, held.images))
    values = translation_quality(snapshot, sources, targets, domain_features(cfg.data, train))
    outputs = translate_all(snapshot, sources)
    model = attribute_model_for(cfg.data, train)
    yaw = model.names.index("yaw")
    to_float = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1  # noqa: E731
    r = np.corrcoef(model.predict(to_float(outputs))[:, yaw], model.predict(to_float(targets))[:, yaw])[0, 1]
    fixed = snapshot.fixed
    tiles, columns = trainer.family.sample_tiles(fixed, trainer.family.render(fixed))
    return {**values, "steps": ended.step, "saturation": saturation(outputs), "target_saturation": saturation(targets),
            "yaw_r": float(r), "grid": image_grid(to_uint8(tiles), columns)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--task", nargs="+", default=["edges", "grey"], choices=PAIR_TRANSFORMS)
    parser.add_argument("--grid", type=Path, help="write the edges task's grids side by side here")
    parser.add_argument("--width", type=int, help="the U-Net's base width (default: the family's, 32)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.task:
            start = time.perf_counter()
            p2p = measure(task, args.minutes, False, Path(tmp), args.width)
            l1 = measure(task, args.minutes, True, Path(tmp), args.width)
            print(f"\n{task} -> face, 32 px RGB, {args.minutes:g} min each ({time.perf_counter() - start:.0f} s):")
            print(f"{'':>10} {'steps':>6} {'L1':>6} {'PSNR':>6} {'SSIM':>6} {'FID':>7} {'sat.':>6} {'yaw r':>6}")
            for name, r in (("pix2pix", p2p), ("L1 only", l1)):
                print(f"{name:>10} {r['steps']:>6} {r['heldout_l1']:>6.3f} {r['psnr']:>6.2f} {r['ssim']:>6.3f} "
                      f"{r['fid_domain']:>7.2f} {r['saturation']:>6.3f} {r['yaw_r']:>6.3f}")
            print(f"targets: saturation {p2p['target_saturation']:.3f}; FID ratio pix2pix / L1 "
                  f"{p2p['fid_domain'] / l1['fid_domain']:.2f} (target <= 0.7); PSNR difference "
                  f"{l1['psnr'] - p2p['psnr']:+.2f} dB (target within 2); saturation pix2pix / targets "
                  f"{p2p['saturation'] / p2p['target_saturation']:.2f}, L1 only / targets "
                  f"{l1['saturation'] / l1['target_saturation']:.2f} (target within 0.8-1.2)")
            if args.grid and task == args.task[0]:
                gap = np.full((p2p["grid"].shape[0], 12, 3), 255, np.uint8)
                save_png(np.concatenate([p2p["grid"], gap, l1["grid"]], axis=1), args.grid)
                print(f"wrote {args.grid} (left: pix2pix, right: L1 only)")


if __name__ == "__main__":
    main()
