"""What measuring quality during training costs the default run, over the whole run.

    python tests/benchmarks/bench_quality_cost.py [--steps 5000] [--rounds 1]

Trains the app's default configuration (faces, DCGAN width 32, CPU; `ganstudio train --epochs 5` is
5,000 steps) with quality evaluations every 1,000 steps (the default) and without, alternating, and
prints images/s over each whole run (all steps × batch / wall time of ``Trainer.run``, data loading
included) and their ratio (target ≥ 0.90). The first run with quality starts from an empty cache, so
it also pays the one-time training of the feature network (reported separately, "cold").
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from ganstudio.config import RunConfig
from ganstudio.training.engine import Trainer, TrainerCallback


class Timeline(TrainerCallback):
    def __init__(self):
        self.status: list[tuple[float, str]] = []
        self.lowest_images_per_s = float("inf")

    def on_status(self, e):
        self.status.append((time.perf_counter(), e.message))

    def on_step(self, e):
        if e.step > 200:  # past the warm-up
            self.lowest_images_per_s = min(self.lowest_images_per_s, e.images_per_s)


def whole_run(steps: int, eval_every: int) -> dict:
    config = RunConfig().replace(train={"max_steps": steps, "device": "cpu", "eval_every": eval_every})
    timeline = Timeline()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ended = Trainer(config, out=tmp, report_interval_s=0.25).run(callbacks=[timeline])
        seconds = time.perf_counter() - start
    prepare = timeline.status[1][0] - timeline.status[0][0] if len(timeline.status) >= 2 else 0.0
    return {"images_per_s": ended.step * config.train.batch_size / seconds, "seconds": seconds,
            "prepare_s": prepare, "lowest": timeline.lowest_images_per_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    os.environ["GANSTUDIO_CACHE"] = tempfile.mkdtemp(prefix="ganstudio-bench-cache-")
    whole_run(50, 0)  # the data set into the fresh cache
    cold = whole_run(args.steps, 1000)
    print(f"cold (feature network trained first, {cold['prepare_s']:.1f} s): {cold['images_per_s']:,.0f} images/s "
          f"over {cold['seconds']:.1f} s")
    on, off = [], []
    for i in range(args.rounds):
        for label, eval_every, results in (("quality off", 0, off), ("quality on", 1000, on)):
            r = whole_run(args.steps, eval_every)
            results.append(r)
            print(f"round {i + 1} {label:>11}: {r['images_per_s']:,.0f} images/s over {r['seconds']:.1f} s "
                  f"(lowest report after step 200: {r['lowest']:,.0f})")
    mean = lambda rs: sum(r["images_per_s"] for r in rs) / len(rs)  # noqa: E731
    print(f"whole-run images/s, quality on / off: {mean(on):,.0f} / {mean(off):,.0f} = {mean(on) / mean(off):.2f} "
          f"(cold run: {cold['images_per_s'] / mean(off):.2f})")


if __name__ == "__main__":
    main()
