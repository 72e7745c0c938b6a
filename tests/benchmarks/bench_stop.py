"""How long Stop takes: from ``control.stop()`` to the run's end event (target ≤ 2 s on this CPU).

    python tests/benchmarks/bench_stop.py [--repeats 3]

Cases: the default model training; the same with a quality evaluation in flight (domain features);
and with a slow feature network in flight (0.5 s per batch of images, as Inception-v3 is on a CPU).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from torch import nn

import ganstudio.metrics.evaluator as evaluator
from ganstudio.config import RunConfig
from ganstudio.metrics.features import FeatureNetwork, feature_network
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import Trainer, TrainerCallback


class SlowFeatures(nn.Module):
    def forward(self, x):
        time.sleep(0.5)
        return x.flatten(1)[:, :64]


class StopAfter(TrainerCallback):
    """Stops the run at the first report after ``step`` (just after an evaluation was handed over when
    evaluations come every ``step`` steps); times Stop -> end."""

    def __init__(self, control: TrainingControl, step: int):
        self.control, self.step = control, step
        self.stopped_at = self.ended_at = None

    def on_step(self, e):
        if self.stopped_at is None and e.step > self.step:
            self.stopped_at = time.perf_counter()
            self.control.stop()

    def on_end(self, e):
        self.ended_at = time.perf_counter()


def stop_latency(eval_every: int) -> float:
    control = TrainingControl()
    config = RunConfig().replace(train={"max_steps": 100_000, "device": "cpu", "eval_every": eval_every})
    callback = StopAfter(control, 300)
    with tempfile.TemporaryDirectory() as out:
        Trainer(config, out=out).run(control, [callback])
    return callback.ended_at - callback.stopped_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cases = [("training only", 0, None), ("evaluation in flight (domain)", 300, None),
             ("evaluation in flight (0.5 s per batch)", 300, SlowFeatures())]
    for label, eval_every, slow in cases:
        evaluator.feature_network = feature_network if slow is None else (
            lambda kind, config, data, **kw: (FeatureNetwork("slow", "slow features", slow), None))
        times = [stop_latency(eval_every) for _ in range(args.repeats)]
        print(f"{label:>40}: Stop -> ended median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
