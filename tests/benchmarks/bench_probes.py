"""Directions that name themselves (issue 14): on faces, after ``--minutes`` of CPU training of the
default model (DCGAN, width 32, 28 px grey), find SeFa and PCA directions, measure them with the image
probes and the faces' factors, and print each one's proposed name and its strongest factor.

    python tests/benchmarks/bench_probes.py [--minutes 5] [--run RUN] [-k 8]

Target: the unsupervised direction that moves yaw most is proposed as a horizontal turn or shift
("moves left/right", "turns to the left/right", "(less/more) symmetric"), and the directions that move smile
and skin tone most get those probes in their names.

Measured on the 2-core CPU (5 minutes = 13,209 steps), k = 8 and 12:
    yaw        SeFa 3 (r -0.94) "turns to the left (r 0.94), lit from the left, slightly looks down";
               PCA 4 "turns to the left (r 0.94), looks up, slightly lit from the left": met
    skin tone  SeFa 6 / PCA 6 (r -0.98) "lighter skin (r 0.98), brighter, lighter hair": met
    smile      not met: no SeFa or PCA direction among the top 12 moves the smile clearly (best |r|
               0.47 SeFa, 0.49 PCA); at 28 px the mouth is a few pixels and the strongest directions
               of a 5-minute model are lighting, skin, hair and pose. The named (supervised) smile
               direction exists for that.
    the rest   SeFa 1 "brighter (r 0.98), more contrast, darker skin"; SeFa 2 "less contrast, lighter
               hair, softer"; SeFa 4 "looks down (r 0.86)"; SeFa 8 and 11 "lit from the right".
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

HORIZONTAL = ("moves left", "moves right", "turns to the", "symmetric")


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
        print(f"trained the default model for {args.minutes:g} min: {trainer.run().step:,} steps "
              f"({trainer.run_folder.path})")
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
        for factor, expected in (("yaw", HORIZONTAL), ("smile", ("smiles", "frowns")),
                                 ("skin_tone", ("skin", "darker", "brighter"))):
            best = max(measured, key=lambda e: abs(e.r[factor]))
            name = propose_name(best, words)
            verdict = "yes" if any(word in name for word in expected) else "NO"
            print(f"  the {factor} direction ({best.direction}, r {best.r[factor]:+.2f}): '{name}' -> {verdict}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")
