"""The quality curve of the app's default model on faces, and what measuring it costs.

    python tests/benchmarks/quality_curve.py [--minutes 3] [--eval-every 500]

Trains the default configuration (faces, DCGAN width 32) on the CPU for ``--minutes`` with a quality
evaluation every ``--eval-every`` steps, prints the domain FID / KID / precision / recall / yaw
coverage at each evaluation and how long each took, then trains as long again without evaluations:
the ratio of the two speeds is the cost of measuring quality while training.
"""

from __future__ import annotations

import argparse
import tempfile

from ganstudio.config import RunConfig
from ganstudio.training.engine import Trainer, TrainerCallback


class Speed(TrainerCallback):
    def __init__(self):
        self.reports = []

    def on_step(self, e):
        self.reports.append(e.images_per_s)

    def mean(self) -> float:
        rest = self.reports[len(self.reports) // 10:]  # skip warm-up
        return sum(rest) / max(len(rest), 1)


def train(minutes: float, eval_every: int) -> tuple[list[dict], float, int]:
    config = RunConfig().replace(train={"epochs": 10**6, "max_minutes": minutes, "device": "cpu",
                                        "eval_every": eval_every, "sample_every": 10**9})
    speed = Speed()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, out=tmp)
        ended = trainer.run(callbacks=[speed])
        records = [r for r in trainer.run_folder.read_metrics() if "fid_domain" in r]
    return records, speed.mean(), ended.step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--eval-every", type=int, default=500)
    args = parser.parse_args()
    records, with_eval, steps = train(args.minutes, args.eval_every)
    print(f"{steps:,} steps with evaluations every {args.eval_every}:")
    print(f"  {'step':>6} {'FID':>8} {'KIDx1000':>9} {'precision':>9} {'recall':>7} {'yaw cov':>7} {'seconds':>7}")
    for r in records:
        print(f"  {r['step']:>6} {r['fid_domain']:>8.2f} {r['kid_domain']:>9.2f} {r['precision_domain']:>9.2f} "
              f"{r['recall_domain']:>7.2f} {r.get('coverage_yaw', float('nan')):>7.2f} {r['eval_seconds']:>7.2f}")
    _, without_eval, steps_off = train(args.minutes, 0)
    print(f"images/s with evaluations {with_eval:,.0f}, without {without_eval:,.0f} ({steps_off:,} steps): "
          f"ratio {with_eval / without_eval:.2f}")


if __name__ == "__main__":
    main()
