"""Measured outcome of issue 5: does the latent explorer find the face-turning direction?

    python tests/benchmarks/face_directions.py [--minutes 4.5] [--run runs/<existing run>]

Trains the app's default model (faces, DCGAN width 32, 28 px) on the CPU for at most ``--minutes`` (or takes an
existing run), then:
- the supervised ``yaw`` direction (attribute model labels, conditional on the other factors) moves
  200 random z from -3 to +3 in 7 steps; the attribute model measures every image. Reported: the
  Spearman correlation of strength and measured yaw (pooled, and per z), and how far each other
  factor moves between the ends, as a share of its range. Targets: |Spearman| >= 0.9, others < 20 %.
- the top-8 SeFa and PCA directions, unlabelled: the Pearson r between strength and measured yaw
  along each. Target: at least one |r| >= 0.7.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from ganstudio.config import RunConfig
from ganstudio.data.faces import FACTOR_RANGES
from ganstudio.latent.attributes import attribute_model_for
from ganstudio.latent.directions import Direction, pca_directions, sefa_directions
from ganstudio.latent.discover import attribute_directions
from ganstudio.latent.walks import traversal, traversal_strengths
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer


def ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(np.float64)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def measure_along(snapshot, model, direction, z: np.ndarray, strengths: np.ndarray) -> np.ndarray:
    """(len(z), len(strengths), attributes): the attribute model's reading of every image."""
    codes = np.concatenate([traversal(code, direction.step, strengths) for code in z])
    return model.predict(snapshot.images(codes)).reshape(len(z), len(strengths), -1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.5)
    parser.add_argument("--run", help="measure this run instead of training one")
    parser.add_argument("--out", help="keep the trained run in this folder (default: a temporary one)")
    parser.add_argument("--family", help="family to train (default: the app's default)")
    parser.add_argument("--width", type=int, help="base channels (default: the app's default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run
        if run is None:
            model = {key: value for key, value in (("family", args.family), ("width", args.width)) if value}
            config = RunConfig().replace(model=model, train={"epochs": 1000, "max_minutes": args.minutes, "device": "cpu"})
            start = time.perf_counter()
            trainer = Trainer(config, out=args.out or tmp)
            ended = trainer.run()
            run = trainer.run_folder.path
            print(f"trained {ended.step:,} steps in {time.perf_counter() - start:.0f} s")
        snapshot = GeneratorSnapshot.from_checkpoint(run)
        start = time.perf_counter()
        model = attribute_model_for(snapshot.config.data)
        print(f"attribute model ready in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        named = {d.name: d for d in attribute_directions(snapshot, model)}
        print(f"supervised directions in {time.perf_counter() - start:.1f} s: "
              + ", ".join(f"{d.name} R²={d.score:.2f}" for d in named.values()))
        z = torch.randn(200, snapshot.latent_dim, generator=torch.Generator().manual_seed(123)).numpy()
        strengths = traversal_strengths(7, 3.0)
        yaw_index = model.names.index("yaw")
        readings = measure_along(snapshot, model, named["yaw"], z, strengths)
        yaw = readings[..., yaw_index]
        pooled = spearman(np.tile(strengths, len(z)), yaw.reshape(-1))
        per_z = np.array([spearman(strengths, row) for row in yaw])
        print(f"yaw along 'yaw': Spearman pooled {pooled:.3f}, per z mean {per_z.mean():.3f} "
              f"(min {per_z.min():.2f}); mean yaw {yaw[:, 0].mean():+.2f} -> {yaw[:, -1].mean():+.2f} "
              f"(range {FACTOR_RANGES['yaw']})")
        print(f"  (the yaw direction's unit: sigma = {named['yaw'].sigma:.2f} z-units = one σ of yaw)")
        rng = np.random.default_rng(5)
        random_direction = Direction("random", "none", (lambda v: v / np.linalg.norm(v))(
            rng.normal(size=snapshot.latent_dim)).astype(np.float32), named["yaw"].sigma)
        baseline = measure_along(snapshot, model, random_direction, z, strengths)
        print("  factor        moves between -3 and +3, as a share of its range: mean |change| per z, "
              "|mean change| (systematic), and mean |change| along a random direction of the same length")
        for i, name in enumerate(model.names):
            lo, hi = FACTOR_RANGES[name]
            change = (readings[:, -1, i] - readings[:, 0, i]) / (hi - lo)
            random_change = (baseline[:, -1, i] - baseline[:, 0, i]) / (hi - lo)
            print(f"  {name:<12} {np.abs(change).mean():6.1%} {abs(change.mean()):6.1%} "
                  f"{np.abs(random_change).mean():6.1%}")

        for method, found in (("sefa", sefa_directions(snapshot.generator, snapshot.latent_dim, 8)),
                              ("pca", pca_directions(snapshot.generator, snapshot.latent_dim, 8))):
            rs = []
            for d in found:
                yaw = measure_along(snapshot, model, d, z[:100], strengths)[..., yaw_index]
                rs.append(float(np.corrcoef(np.tile(strengths, 100), yaw.reshape(-1))[0, 1]))
            best = int(np.argmax(np.abs(rs)))
            print(f"{method}: r(strength, yaw) of the top 8: {' '.join(f'{r:+.2f}' for r in rs)}; "
                  f"best: {found[best].name} |r| = {abs(rs[best]):.2f}")


if __name__ == "__main__":
    main()
