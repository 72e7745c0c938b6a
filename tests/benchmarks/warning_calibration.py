"""Calibrating the health warnings on real runs: healthy runs must not raise false alarms, broken runs
must be caught by the right warning.

    python tests/benchmarks/warning_calibration.py [--seconds 90] [--runs dcgan,lr-x50,...]

Trains on faces (28 px, grey) on the CPU with quality evaluations on (every ``--eval-every`` steps,
``--eval-samples`` images):

- the eight families with their own ``train_defaults()`` and the app's default width: healthy runs. A
  *false alarm* is a warning whose condition later stops holding (the monitor's ``cleared``); a warning
  still standing at the end is listed as well (true, or a persistent false alarm: read the grid);
- broken runs, each to be caught by its warning: ``collapsed`` (the default DCGAN with a generator
  that ignores z: every sample is the same image), ``lr-x50`` (the MLP GAN with both learning rates
  ×50: its losses explode), ``d-lr-x10`` (the paper's DCGAN, without instance noise, with D's learning
  rate ×10) and ``paper-dcgan`` (the paper's DCGAN as it is: D wins for ~1,500 steps). The same two
  changes on the default DCGAN (``dcgan-lr-x50``, ``dcgan-d-lr-x10``; ``--runs``) train well.

Prints one line per run (steps, warnings with their steps, what cleared, end, final FID, verdict) and
"false alarms x/8, caught y/4". ``--record runs.pkl`` keeps every report the monitor saw, and
``--replay runs.pkl [more.pkl]`` puts them through today's HealthMonitor without training (to tune a
rule). On a busy machine ``--steps N`` replaces the time budget (90 s here make 600-2,200 steps).

Measured (2-core CPU shared with other work, 1 training thread, eval every 250 steps on 500 samples;
``paper-dcgan`` with ``--steps 1500``), FID at the last evaluation:

    run         steps  final FID  warnings (step)                                          verdict
    gan          1438     19.8    -                                                        ok
    dcgan        1394      4.7    -                                                        ok
    wgan         2217      9.3    -                                                        ok
    wgan-gp      1275      7.1    -                                                        ok
    cgan         1337      5.2    -                                                        ok
    ebgan         581      5.8    -                                                        ok
    began        1277     21.0    -                                                        ok
    vae          1656     13.3    -                                                        ok
    collapsed    1306     57.4    mode_collapse (400)                                      caught
    lr-x50       1789     90.4    diverging (344), no_progress (1500)                      caught
    d-lr-x10     1293     20.3    no_progress (1293)                                       caught
    paper-dcgan  1500     63.9    mode_collapse (400), discriminator_winning (690), ...    caught
    false alarms 0/8, caught 4/4

The same recordings through the rules before this calibration: a false alarm on the VAE
(narrow_samples at 500, cleared at 750), narrow_samples standing on the MLP GAN (750) and BEGAN
(1,000) although their factor coverage is 0.45-0.7, and lr-x50 missed until no_progress at 1,500.
Before the conv families' instance noise the cGAN also stalled (FID 62-64 at 250-500, mode_collapse at
400 cleared at 800). The default DCGAN at lr x50 and at D lr x10 trains well (FID 5.8 and 5.7 after
90 s); the old oscillation rule called the first an oscillation (FID 13, 18, 10, 9.4, 9.9, 5.6).
D lr x10 on the paper's DCGAN is not caught by discriminator_winning: after ~250 steps its D loss
(median 0.09) and D(G(z)) (0.04) are those of healthy runs with a strong D (D lr x10 with the noise:
D(G(z)) 0.04-0.1, FID 3.1 at 3,000), so its stalled FID is what flags it.
"""

from __future__ import annotations

import argparse
import math
import pickle
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from ganstudio.config import RunConfig
from ganstudio.metrics.health import HealthMonitor
from ganstudio.models import family_class, list_families, register_family
from ganstudio.models.dcgan import DCGAN
from ganstudio.training import engine
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
    """The engine's monitor, kept (with its arguments) so that the benchmark can read what cleared."""

    last: RecordingMonitor | None = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kwargs = kwargs
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
    precision_recall: list[tuple[float, float]] = field(default_factory=list)
    seconds: float = 0.0
    monitor_kwargs: dict = field(default_factory=dict)
    events: list[tuple[str, object]] = field(default_factory=list)  # what the monitor saw, in order

    def replay(self) -> None:
        """Warnings and clearings again, from the recorded events, with today's HealthMonitor."""
        monitor = HealthMonitor(**self.monitor_kwargs)
        observe = {"step": monitor.observe_step, "samples": monitor.observe_samples,
                   "quality": monitor.observe_quality}
        self.warnings = [(w.step, w.kind) for kind, event in self.events for w in observe[kind](event)]
        self.cleared = list(monitor.cleared)

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

    def on_step(self, e):
        self.result.events.append(("step", e))

    def on_samples(self, e):
        self.result.events.append(("samples", replace(e, path=None, sefa={})))

    def on_quality(self, e):
        self.result.events.append(("quality", e))
        value = {k.split("_")[0]: v for k, v in e.values.items()
                 if k.split("_")[0] in ("fid", "precision", "recall")}
        if "fid" in value:
            self.result.fids.append((e.step, value["fid"]))
            self.result.precision_recall.append((value.get("precision", math.nan), value.get("recall", math.nan)))

    def on_end(self, e):
        self.result.steps, self.result.end = e.step, e.reason


def runs(seconds: float, eval_every: int, eval_samples: int, threads: int | None,
         steps: int | None = None) -> dict[str, tuple[RunConfig, frozenset[str]]]:
    base = RunConfig()
    common = {"epochs": 10**6, "device": "cpu", "max_minutes": None if steps else seconds / 60,
              "max_steps": steps, "eval_every": eval_every, "eval_samples": eval_samples,
              "checkpoint_every": 10**9, "threads": threads}
    out = {}
    for name in list_families():
        if name == "dcgan-collapsed":
            continue
        out[name] = (base.replace(model={"family": name}, train={**family_class(name).train_defaults(), **common}),
                     frozenset())
    dcgan = {**family_class("dcgan").train_defaults(), **common}
    out["collapsed"] = (base.replace(model={"family": "dcgan-collapsed"}, train=dcgan),
                        frozenset({"mode_collapse", "narrow_samples", "recall_collapse"}))
    # lr x50 on the MLP GAN: the default DCGAN trains well at lr 1e-2 (BatchNorm), the MLP GAN explodes.
    gan = {**family_class("gan").train_defaults(), **common}
    out["lr-x50"] = (base.replace(model={"family": "gan"}, train={**gan, "lr_g": 50 * gan["lr_g"],
                                                                  "lr_d": 50 * gan["lr_d"]}),
                     frozenset({"diverged", "diverging"}))
    # D's lr x10 on the paper's DCGAN (with the default instance noise D lr x10 trains well): D wins the
    # first ~250 steps, then G stalls at FID ~20 against a strong D (D(G(z)) ~0.04, D loss ~0.1, as
    # some healthy runs with a strong D): the FID's lack of progress is what tells it apart.
    paper = {"options": {"instance_noise": 0}}
    out["d-lr-x10"] = (base.replace(model=paper, train={**dcgan, "lr_d": 10 * dcgan["lr_d"]}),
                       frozenset({"discriminator_winning", "no_progress"}))
    # The paper's DCGAN at the default learning rates: D wins outright for ~1,500 steps (issue 12).
    out["paper-dcgan"] = (base.replace(model=paper, train=dcgan), frozenset({"discriminator_winning"}))
    # Not run by default (--runs): the same two changes on the default DCGAN, which trains well with them.
    out["dcgan-lr-x50"] = (base.replace(train={**dcgan, "lr_g": 50 * dcgan["lr_g"], "lr_d": 50 * dcgan["lr_d"]}),
                           frozenset())
    out["dcgan-d-lr-x10"] = (base.replace(train={**dcgan, "lr_d": 10 * dcgan["lr_d"]}), frozenset())
    return out


EXTRA_RUNS = ("dcgan-lr-x50", "dcgan-d-lr-x10")


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
    result.monitor_kwargs = monitor.kwargs if monitor is not None else {}
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
    parser.add_argument("--steps", type=int, help="train this many steps per run instead (a busy machine "
                                                  "makes fewer steps in --seconds)")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--eval-samples", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1,
                        help="training threads (1: robust on a busy machine, where two threads can run "
                             "50x slower; 0: torch's default)")
    parser.add_argument("--runs", help="comma-separated run names (default: all)")
    parser.add_argument("--record", help="save the runs' reports to this pickle file (for --replay)")
    parser.add_argument("--replay", nargs="+", metavar="PICKLE",
                        help="no training: the recorded runs' reports through today's HealthMonitor")
    args = parser.parse_args()
    if args.replay:
        results = []
        for path in args.replay:
            with open(path, "rb") as f:
                results += pickle.load(f)
        expected = {name: expect for name, (_, expect) in runs(90, 250, 500, 1).items()}
        for result in results:
            result.expect = expected.get(result.name, result.expect)
            result.replay()
        show(results)
        return
    engine.HealthMonitor = RecordingMonitor  # the engine builds its monitor by this name
    plan = runs(args.seconds, args.eval_every, args.eval_samples, args.threads or None, args.steps)
    names = args.runs.split(",") if args.runs else [name for name in plan if name not in EXTRA_RUNS]
    results = []
    for name in names:
        config, expect = plan[name]
        result = run_one(name, config, expect)
        fids = " ".join(f"{s}:{f:.1f}({p:.2f}/{r:.2f})" for (s, f), (p, r) in zip(result.fids, result.precision_recall))
        print(f"# {name}: {result.steps} steps in {result.seconds:.0f} s, {result.end}; "
              f"step:FID(precision/recall) {fids}", flush=True)
        results.append(result)
        if args.record:
            with open(args.record, "wb") as f:
                pickle.dump(results, f)
    show(results)


if __name__ == "__main__":
    main()
