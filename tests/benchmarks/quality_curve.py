"""The quality curve of the app's default model on faces, and what measuring it costs.

    python tests/benchmarks/quality_curve.py [--minutes 3] [--eval-every 500]
    python tests/benchmarks/quality_curve.py --steps 2000 --seed 1 --option instance_noise=0 --no-speed

Trains the default configuration (faces, DCGAN width 32) on the CPU for ``--minutes`` (or ``--steps``)
with a quality evaluation every ``--eval-every`` steps, prints the domain FID / KID / precision / recall
/ yaw coverage at each evaluation and how long each took, and the health warnings with their steps;
then trains as long again without evaluations: the ratio of the two speeds is the cost of measuring
quality while training. ``--option KEY=VALUE`` and ``--lr-d`` change the model (e.g.
``--option instance_noise=0``: the tutorial's DCGAN, which stalls until step ~2,000).
"""

from __future__ import annotations

import argparse
import tempfile

from ganstudio.config import RunConfig
from ganstudio.training.engine import Trainer, TrainerCallback


class Speed(TrainerCallback):
    def __init__(self):
        self.reports = []
        self.warnings = []

    def on_step(self, e):
        self.reports.append(e.images_per_s)

    def on_warning(self, e):
        self.warnings.append((e.step, e.kind))

    def mean(self) -> float:
        rest = self.reports[len(self.reports) // 10:]  # skip warm-up
        return sum(rest) / max(len(rest), 1)


def train(minutes: float | None, eval_every: int, steps: int | None = None, seed: int = 0,
          options: dict | None = None, lr_d: float | None = None) -> tuple[list[dict], float, int, list]:
    train = {"epochs": 10**6, "max_minutes": minutes, "max_steps": steps, "device": "cpu", "seed": seed,
             "eval_every": eval_every}
    if lr_d is not None:
        train["lr_d"] = lr_d
    config = RunConfig().replace(model={"options": options or {}}, train=train)
    speed = Speed()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, out=tmp)
        ended = trainer.run(callbacks=[speed])
        records = [r for r in trainer.run_folder.read_metrics() if "fid_domain" in r]
    return records, speed.mean(), ended.step, speed.warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--steps", type=int, help="train this many steps instead of --minutes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a DCGAN option")
    parser.add_argument("--lr-d", type=float, help="D's learning rate (default: the config's)")
    parser.add_argument("--no-speed", action="store_true", help="skip the run without evaluations")
    args = parser.parse_args()
    options = {k: float(v) for k, v in (o.split("=", 1) for o in args.option)}
    minutes = None if args.steps else args.minutes
    records, with_eval, steps, warnings = train(minutes, args.eval_every, args.steps, args.seed, options, args.lr_d)
    print(f"{steps:,} steps with evaluations every {args.eval_every}:")
    print(f"  {'step':>6} {'FID':>8} {'KIDx1000':>9} {'precision':>9} {'recall':>7} {'yaw cov':>7} {'seconds':>7}")
    for r in records:
        print(f"  {r['step']:>6} {r['fid_domain']:>8.2f} {r['kid_domain']:>9.2f} {r['precision_domain']:>9.2f} "
              f"{r['recall_domain']:>7.2f} {r.get('coverage_yaw', float('nan')):>7.2f} {r['eval_seconds']:>7.2f}")
    print("warnings: " + (", ".join(f"{kind} ({step})" for step, kind in warnings) or "none"))
    if args.no_speed:
        return
    _, without_eval, steps_off, _ = train(minutes, 0, args.steps, args.seed, options, args.lr_d)
    print(f"images/s with evaluations {with_eval:,.0f}, without {without_eval:,.0f} ({steps_off:,} steps): "
          f"ratio {with_eval / without_eval:.2f}")


if __name__ == "__main__":
    main()
