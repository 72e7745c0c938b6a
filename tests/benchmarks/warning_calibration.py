"""Calibrating the health warnings on real runs: healthy runs must not raise false alarms, broken runs
must be caught by the right warning.

    python tests/benchmarks/warning_calibration.py [--seconds 90] [--runs dcgan,lr-x50,...]

Trains on faces (28 px, grey) on the CPU with quality evaluations on (every ``--eval-every`` steps,
``--eval-samples`` images):

- the eight families with their own ``train_defaults()`` and the app's default width: healthy runs. A
  *false alarm* is a warning whose condition later stops holding (the monitor's ``cleared``); a warning
  still standing at the end is listed as well (true, or a persistent false alarm: read the grid);
- three broken runs of the default model (DCGAN): ``collapsed`` (a generator that ignores z: every
  sample is the same image), ``lr-x50`` (both learning rates ×50: diverges) and ``d-lr-x10`` (D's
  learning rate ×10: the discriminator wins). Each must be caught by its warning (or, for divergence,
  the run ending "diverged").

Prints one line per run (steps, warnings with their steps, what cleared, end, final FID, verdict) and
"false alarms x/8, caught y/3". Measured numbers are in the module's CALIBRATION note below.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import traceback
from dataclasses import dataclass, field

import torch
from torch import nn

import ganstudio.training.engine as engine
from ganstudio.config import RunConfig
from ganstudio.metrics.health import HealthMonitor
from ganstudio.models import family_class, list_families, register_family
from ganstudio.models.dcgan import DCGAN
from ganstudio.training.engine import Trainer, TrainerCallback

# Warnings about the data or the measurements, not about training health.
INFORMATIONAL = {"data", "batch_clamped", "features", "quality_failed"}


class IgnoresZ(nn.Module):
    """A generator that reads one fixed z whatever z it is given: every sample is the same image."""

    def __init__(self, generator: nn.Module, latent_dim: int):
        super().__init__()
        self.generator = generator
        self.register_buffer("z0", torch.randn(1, latent_dim, generator=torch.Generator().manual_seed(7)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(self.z0.expand(len(z), -1).contiguous())


@register_family("dcgan-collapsed")
class CollapsedDCGAN(DCGAN):
    """The default DCGAN with a collapsed generator (benchmark only: registered by this script)."""

    def build_generator(self) -> nn.Module:
        return IgnoresZ(super().build_generator(), self.latent_dim)


class RecordingMonitor(HealthMonitor):
    """The engine's monitor, kept so that the benchmark can read what cleared."""

    last: RecordingMonitor | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        RecordingMonitor.last = self


@dataclass
class Result:
    name: str
    expect: frozenset[str]  # empty: healthy
    steps: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)
    cleared: list[tuple[int, str]] = field(default_factory=list)
    end: str = ""
    fid: float | None = None
    fids: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def healthy(self) -> bool:
        return not self.expect

    @property
    def false_alarms(self) -> list[tuple[int, str]]:
        cleared = {kind for _, kind in self.cleared}
        return [w for w in self.warnings if w[1] in cleared]

    @property
    def caught(self) -> bool:
        return bool(self.expect & ({kind for _, kind in self.warnings} | {self.end}))

    @property
    def verdict(self) -> str:
        if self.healthy:
            if self.false_alarms:
                return "FALSE ALARM"
            return "ok" if not self.warnings else "ok (warning stands)"
        return "caught" if self.caught else "MISSED"


class Collect(TrainerCallback):
    def __init__(self, result: Result):
        self.result = result

    def on_warning(self, e):
        if e.kind not in INFORMATIONAL:
            self.result.warnings.append((e.step, e.kind))

    def on_quality(self, e):
        fid = next((v for k, v in e.values.items() if k.startswith("fid_")), None)
        if fid is not None:
            self.result.fids.append((e.step, fid))

    def on_end(self, e):
        self.result.steps, self.result.end = e.step, e.reason


def runs(seconds: float, eval_every: int, eval_samples: int,
         threads: int | None) -> dict[str, tuple[RunConfig, frozenset[str]]]:
    base = RunConfig()
    common = {"epochs": 10**6, "device": "cpu", "max_minutes": seconds / 60, "eval_every": eval_every,
              "eval_samples": eval_samples, "checkpoint_every": 10**9, "threads": threads}
    out = {}
    for name in list_families():
        if name == "dcgan-collapsed":
            continue
        out[name] = (base.replace(model={"family": name}, train={**family_class(name).train_defaults(), **common}),
                     frozenset())
    dcgan = {**family_class("dcgan").train_defaults(), **common}
    out["collapsed"] = (base.replace(model={"family": "dcgan-collapsed"}, train=dcgan),
                        frozenset({"mode_collapse", "narrow_samples", "recall_collapse"}))
    out["lr-x50"] = (base.replace(train={**dcgan, "lr_g": 50 * dcgan["lr_g"], "lr_d": 50 * dcgan["lr_d"]}),
                     frozenset({"diverged", "oscillation", "mode_collapse", "recall_collapse", "narrow_samples"}))
    out["d-lr-x10"] = (base.replace(train={**dcgan, "lr_d": 10 * dcgan["lr_d"]}),
                       frozenset({"discriminator_winning"}))
    return out


def run_one(name: str, config: RunConfig, expect: frozenset[str]) -> Result:
    result = Result(name, expect)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            Trainer(config, out=tmp).run(callbacks=[Collect(result)])
        except Exception as e:  # noqa: BLE001  an engine error is a result too (e.g. SeFa on NaN weights)
            result.end = f"error: {type(e).__name__}"
            traceback.print_exc()
    monitor = RecordingMonitor.last
    result.cleared = list(monitor.cleared) if monitor is not None else []
    result.fid = result.fids[-1][1] if result.fids else None
    result.seconds = time.perf_counter() - start
    return result


def show(results: list[Result]) -> None:
    print(f"{'run':<10} {'steps':>6}  {'end':<12} {'final FID':>9}  {'verdict':<19} warnings (step) / cleared (step)")
    for r in results:
        warned = ", ".join(f"{kind} ({step})" for step, kind in r.warnings) or "-"
        cleared = ", ".join(f"{kind} ({step})" for step, kind in r.cleared)
        fid = f"{r.fid:9.2f}" if r.fid is not None else f"{'-':>9}"
        print(f"{r.name:<10} {r.steps:>6}  {r.end:<12} {fid}  {r.verdict:<19} {warned}"
              + (f" / cleared: {cleared}" if cleared else ""))
    healthy = [r for r in results if r.healthy]
    broken = [r for r in results if not r.healthy]
    print(f"false alarms {sum(bool(r.false_alarms) for r in healthy)}/{len(healthy)}, "
          f"caught {sum(r.caught for r in broken)}/{len(broken)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="training time per run")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--eval-samples", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1,
                        help="training threads (1: robust on a busy machine, where two threads can run "
                             "50x slower; 0: torch's default)")
    parser.add_argument("--runs", help="comma-separated run names (default: all)")
    args = parser.parse_args()
    engine.HealthMonitor = RecordingMonitor  # the engine builds its monitor by this name
    plan = runs(args.seconds, args.eval_every, args.eval_samples, args.threads or None)
    names = args.runs.split(",") if args.runs else list(plan)
    results = []
    for name in names:
        config, expect = plan[name]
        result = run_one(name, config, expect)
        fids = " ".join(f"{s}:{f:.1f}" for s, f in result.fids)
        print(f"# {name}: {result.steps} steps in {result.seconds:.0f} s, {result.end}; FID {fids}", flush=True)
        results.append(result)
    show(results)


if __name__ == "__main__":
    main()
