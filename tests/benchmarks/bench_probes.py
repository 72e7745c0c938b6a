"""Directions that name themselves (issue 14): on faces, after ``--minutes`` of CPU training of the
default model (DCGAN, width 32, 28 px grey), find SeFa and PCA directions, measure them with the image
probes and the faces' factors, and print each one's proposed name and its strongest factor.

    python tests/benchmarks/bench_probes.py [--minutes 5] [--run RUN] [-k 8]

Target: the unsupervised direction that moves yaw most is proposed as a horizontal turn or shift
("moves left/right", "raises/lowers yaw", "(less/more) symmetric"), and the directions that move smile
and skin tone most get those probes in their names.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from ganstudio.config import RunConfig
from ganstudio.latent.discover import discover_directions
from ganstudio.latent.probes import measure_directions, probes_for, propose_name
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

HORIZONTAL = ("moves left", "moves right", "yaw", "symmetric")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a faces run folder (default: train the default model first)")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("-k", type=int, default=8)
    args = parser.parse_args()
    if args.run:
        snapshot = GeneratorSnapshot.from_checkpoint(args.run)
    else:
        config = RunConfig().replace(train={"epochs": 1000, "max_minutes": args.minutes, "device": "cpu",
                                            "eval_every": 0, "sample_every": 10**6, "checkpoint_every": 10**6})
        trainer = Trainer(config, out=tempfile.mkdtemp())
        print(f"trained the default model for {args.minutes:g} min: {trainer.run().step:,} steps")
        snapshot = GeneratorSnapshot.from_checkpoint(trainer.run_folder.path)
    probes, words = probes_for(snapshot)
    factors = [name for name in probes if name in words]
    for method in ("sefa", "pca"):
        found = discover_directions(snapshot, method, args.k)
        measured = measure_directions(snapshot, found, probes)
        print(f"\n{method}:")
        for effects in measured:
            strongest = max(factors, key=lambda name: abs(effects.r[name]))
            print(f"  {effects.direction:<7} {propose_name(effects, words):<64} "
                  f"strongest factor {strongest} r {effects.r[strongest]:+.2f}")
        for factor, expected in (("yaw", HORIZONTAL), ("smile", ("smile",)), ("skin_tone", ("skin_tone", "darker",
                                                                                             "brighter"))):
            best = max(measured, key=lambda e: abs(e.r[factor]))
            name = propose_name(best, words)
            verdict = "yes" if any(word in name for word in expected) else "NO"
            print(f"  the {factor} direction ({best.direction}, r {best.r[factor]:+.2f}): '{name}' -> {verdict}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")
