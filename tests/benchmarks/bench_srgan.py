"""SRGAN on the drawn faces, 16 -> 64 px, in a few minutes of this machine's CPU.

    python tests/benchmarks/bench_srgan.py [--minutes 5] [--option mse_steps=1000] [--width 32] [--lr-d 1e-4]
                                           [--checkpoint-every 500]

Trains the family's CPU default for the given wall-clock minutes (the MSE phase for ``mse_steps``, then the
GAN), keeping a checkpoint at the phase change, then measures on the run's held-out faces
(ganstudio/metrics/superres.py) bicubic, the end of the MSE phase and the end of the GAN:

- PSNR and SSIM (target: the MSE phase >= bicubic + 2 dB),
- the high-frequency power (spectrum above half Nyquist) and the mean gradient, over the real faces'
  (target: the GAN within 15 % of the real images', where bicubic and the MSE phase fall short),
- the domain FID (target: the GAN's below the MSE phase's).

With ``--checkpoint-every`` it also measures the GAN phase's checkpoints on the way (how the power grows).
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time

from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.metrics.features import domain_features
from ganstudio.metrics.superres import super_resolution_quality
from ganstudio.models import family_class
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

SAMPLES = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--width", type=int)
    parser.add_argument("--option", action="append", default=[])
    parser.add_argument("--lr-d", type=float, help="D's learning rate (default: the family's, 3e-4)")
    parser.add_argument("--lr-g", type=float, help="G's learning rate (default: the family's, 1e-3)")
    parser.add_argument("--fp32", action="store_true", help="no bf16, also on a CPU that has it")
    parser.add_argument("--batch-size", type=int, help="default: the family's, 16")
    parser.add_argument("--checkpoint-every", type=int, help="also measure the GAN phase at these steps")
    parser.add_argument("--seed", type=int, help="the run's seed (default 0): a second one sizes the noise of the figures")
    args = parser.parse_args()
    os.environ.setdefault("GANSTUDIO_CACHE", tempfile.mkdtemp(prefix="ganstudio-bench-cache-"))
    options = {k: float(v) for k, v in (o.split("=", 1) for o in args.option)}
    mse_steps = int(family_class("srgan").resolve_options(options)["mse_steps"])
    config = RunConfig().replace(
        data={"image_size": 64, "channels": 3},
        model={"family": "srgan", "width": args.width, "options": options},
        train={**family_class("srgan").train_defaults(), "max_minutes": args.minutes, "epochs": 10**6,
               "device": "cpu", "eval_every": 0, "sample_every": 500, "checkpoint_every": math.gcd(mse_steps, args.checkpoint_every or mse_steps),
               "keep_checkpoints": 100, **{key: value for key, value in (("lr_d", args.lr_d), ("lr_g", args.lr_g),
                                                                         ("batch_size", args.batch_size),
                                                                         ("seed", args.seed)) if value},
               **({"amp": False} if args.fp32 else {})})
    data = load_dataset(config.data.__class__(**{**config.data.__dict__, "full_size": True}))
    features = domain_features(config.data, data)  # trained before the clock starts
    start = time.perf_counter()
    trainer = Trainer(config, out=tempfile.mkdtemp(prefix="bench-srgan-"), report_interval_s=1.0)
    ended = trainer.run()
    minutes = (time.perf_counter() - start) / 60
    _, held = family_class("srgan").split_data(data, config.train.num_samples, config.train.seed)
    checkpoints = dict(trainer.run_folder.list_checkpoints())
    print(f"srgan 16 -> 64 faces: {ended.step:,} steps in {minutes:.1f} min (MSE phase {mse_steps:,} steps; width "
          f"{trainer.family.width}, batch {config.train.batch_size}, lr G {config.train.lr_g:g} D {config.train.lr_d:g}, "
          f"{trainer.family.precision()}, options {config.model.options}); run: {trainer.run_folder.path}")
    rows = {}
    if mse_steps in checkpoints:
        rows["MSE phase"] = super_resolution_quality(GeneratorSnapshot.from_checkpoint(checkpoints[mse_steps]),
                                                     held, features, SAMPLES)
    for step, path in sorted(checkpoints.items()):
        if args.checkpoint_every and mse_steps < step < ended.step and step % args.checkpoint_every == 0:
            rows[f"step {step:,}"] = super_resolution_quality(GeneratorSnapshot.from_checkpoint(path), held, features,
                                                              SAMPLES)
    rows["GAN"] = super_resolution_quality(GeneratorSnapshot.from_checkpoint(ended.checkpoint), held, features, SAMPLES)
    first = next(iter(rows.values()))
    print(f"  {'':<11} {'PSNR dB':>8} {'SSIM':>6} {'HF power':>9} {'gradient':>9} {'FID':>7}   (HF, gradient: / real)")
    print(f"  {'bicubic':<11} {first['psnr_bicubic']:8.2f} {first['ssim_bicubic']:6.3f} "
          f"{first['high_frequency_bicubic']:9.3f} {first['sharpness_bicubic']:9.3f} {'':>7}")
    for name, r in rows.items():
        print(f"  {name:<11} {r['psnr']:8.2f} {r['ssim']:6.3f} {r['high_frequency']:9.3f} {r['sharpness']:9.3f} "
              f"{r['fid_domain']:7.3f}")
    print("  targets: MSE phase PSNR >= bicubic + 2 dB; GAN HF power within 0.85..1.15 (bicubic and MSE below); "
          "GAN FID < MSE phase FID")


if __name__ == "__main__":
    main()
