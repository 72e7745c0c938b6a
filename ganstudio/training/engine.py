"""The training loop. It knows no GUI: it reports to callbacks and obeys a TrainingControl.

    trainer = Trainer(config, out="runs")              # or Trainer.resume("runs/<run>")
    ended = trainer.run(control, callbacks=[printer])  # blocks; call from a worker thread in a GUI

Metric sums stay on the device between reports (one sync per report, at most ~20 per second).
Under ``torchrun`` each process trains on its rows of every batch and the gradients are averaged before
each optimiser step (``ganstudio.distributed``); decisions (stop, reports, checkpoints) are taken once for
all processes, and only the first (rank 0) writes the run folder and calls the callbacks.
A resume is exact (same losses as an uninterrupted run, on the CPU); a rollback to an earlier
checkpoint says what it changes (``BranchChange``: lower learning rates, new noise) so that it does
not walk the same path again, and sets the abandoned branch's files aside (``RunFolder.start_branch``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ganstudio import distributed
from ganstudio.checkpoint import checkpoint_name, load_checkpoint, save_checkpoint
from ganstudio.config import RunConfig, TrainConfig
from ganstudio.data import load_dataset
from ganstudio.data.base import DOMAIN_A, LABEL, ImageSet
from ganstudio.data.batches import DeviceBatches, as_model_input
from ganstudio.data.photos import CropBatches, Photos
from ganstudio.errors import ConfigError, RunError
from ganstudio.events import (
    CheckpointSaved,
    QualityReport,
    RunEnded,
    RunStarted,
    SamplesReport,
    StatusMessage,
    StepReport,
    TrainingWarning,
)
from ganstudio.images import image_grid, save_png, to_uint8
from ganstudio.latent.tracking import SefaTracker
from ganstudio.metrics.evaluator import QualityEvaluator
from ganstudio.metrics.features import content_network
from ganstudio.metrics.health import HealthMonitor, mean_pairwise_distance
from ganstudio.models import build_family, family_class
from ganstudio.models.base import TARGET, Family, Tensors, Z
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.control import TrainingControl
from ganstudio.training.device import DEFAULT_CPU_THREADS, describe_device, select_device, tune_for
from ganstudio.training.runs import RunFolder

if TYPE_CHECKING:
    from ganstudio.training.tensorboard_log import TensorBoardLog


class TrainerCallback:
    """Listener base class: override the hooks you need. Hooks run in the training thread."""

    def on_start(self, event: RunStarted) -> None: ...
    def on_step(self, event: StepReport) -> None: ...
    def on_samples(self, event: SamplesReport) -> None: ...
    def on_checkpoint(self, event: CheckpointSaved) -> None: ...
    def on_warning(self, event: TrainingWarning) -> None: ...
    def on_quality(self, event: QualityReport) -> None: ...
    def on_snapshot(self, snapshot: GeneratorSnapshot) -> None: ...
    def on_status(self, event: StatusMessage) -> None: ...
    def on_end(self, event: RunEnded) -> None: ...


@dataclass(frozen=True)
class BranchChange:
    """What a resume changes, so that a rollback does not replay the path it rolled back from (a
    resume is exact: the same checkpoint and settings give the same run)."""

    lr_scale: float = 1.0  # multiplies every learning rate
    seed: int | None = None  # new noise and data order from this seed; None: the saved random streams

    def __post_init__(self) -> None:
        if not self.lr_scale > 0:
            raise RunError(f"the learning-rate scale must be positive, not {self.lr_scale}")

    def describe(self) -> str:
        """E.g. "learning rates ×0.5, new noise (seed 7)"; "" when nothing changes."""
        parts = [f"learning rates ×{self.lr_scale:g}"] if self.lr_scale != 1 else []
        parts += [f"new noise (seed {self.seed})"] if self.seed is not None else []
        return ", ".join(parts)


class _Broadcast:
    """``notify("on_step", event)`` calls that hook of every callback, in order."""

    def __init__(self, callbacks: Sequence[TrainerCallback]):
        self.callbacks = list(callbacks)

    def __call__(self, hook: str, event: object) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(event)


class Trainer:
    """Trains ``config`` into a run folder: a new one under ``out`` (made once data and model are
    ready, so a failed start leaves nothing behind), or ``run`` continued from ``checkpoint``."""

    def __init__(self, config: RunConfig, out: str | Path = "runs", run: RunFolder | None = None,
                 checkpoint: Path | None = None, report_interval_s: float = 0.05,
                 change: BranchChange = BranchChange()):
        self.config = config
        self.out = Path(out)
        self.run_folder = run
        self.checkpoint = checkpoint
        self.report_interval_s = report_interval_s
        self.change = change
        self.family: Family | None = None  # built in run()

    @classmethod
    def resume(cls, run_path: str | Path, checkpoint: str | Path | None = None,
               train_overrides: dict | None = None, change: BranchChange = BranchChange(), **kwargs) -> Trainer:
        """Continue a run from its latest (or the given) checkpoint; overrides e.g. {"epochs": 10};
        ``change`` e.g. BranchChange(lr_scale=0.5) for a rollback."""
        run = RunFolder.open(run_path)
        config = run.read_config()
        if train_overrides:
            config = config.replace(train=train_overrides)
        if change.lr_scale != 1:
            config = config.replace(train={"lr_g": config.train.lr_g * change.lr_scale,
                                           "lr_d": config.train.lr_d * change.lr_scale})
        if change.seed is not None:
            config = config.replace(train={"order_seed": change.seed})
        checkpoint = Path(checkpoint) if checkpoint else run.latest_checkpoint()
        if checkpoint is None:
            raise RunError(f"{run.path} has no checkpoint to resume from")
        return cls(config, run=run, checkpoint=checkpoint, change=change, **kwargs)

    # -- the loop --------------------------------------------------------------------------------

    def run(self, control: TrainingControl | None = None,
            callbacks: Sequence[TrainerCallback] = ()) -> RunEnded:
        """Train until done, stopped, out of time or diverged. Raises UserError subclasses for bad
        data, configuration or checkpoints before the first step."""
        control = control or TrainingControl()
        shard = distributed.current()  # None: this process trains alone
        lead = shard is None or shard.lead
        cfg, t = self.config, self.config.train
        notify = _Broadcast(callbacks if lead else ())
        own_logs = _own_logs(t, notify) if lead else []
        notify.callbacks += own_logs
        device = select_device(t.device)
        if shard is not None:
            device = distributed.training_device(device, shard)
        if device.type == "cpu":
            torch.set_num_threads(t.threads or DEFAULT_CPU_THREADS)
        tune_for(device)

        cfg = self.config = cfg.replace(data=family_class(cfg.model.family).data_settings(cfg.data))
        notify("on_status", StatusMessage(0, f"Preparing the data set “{cfg.data.dataset}” (built-in data are made "
                                             "on first use, then cached)…"))
        data, held, needed, batch_size, warnings = _training_data(cfg, shard)
        cfg = self.config = self._with_names(cfg, data).replace(train={"world_size": shard.world if shard else 1})
        torch.manual_seed(t.seed)
        family = self.family = build_family(cfg.data, cfg.model, t, device)
        # Every option's value goes into the run (the defaults included), so that later defaults leave it alone.
        cfg = self.config = cfg.replace(model={"options": dict(family.settings)})
        held_for_grid = {} if held is None else {
            name: tensor[:t.num_samples] for name, tensor in held.tensors().items()}
        fixed = family.fixed_inputs(t.num_samples, torch.Generator().manual_seed(t.seed + 1),
                                    as_model_input(held_for_grid))
        start_step = 0
        if self.checkpoint is not None:
            configured = _learning_rates(family)
            info, fixed = load_checkpoint(self.checkpoint, family, restore_rng=True)
            start_step = info.step
            _set_learning_rates(family, configured)  # the config's (a rollback's lower ones, --lr-g)
            if self.change.seed is not None:
                torch.manual_seed(self.change.seed)
        if shard is not None:  # the same start everywhere, then the same gradients at every step
            distributed.broadcast_([tensor for net in family.networks().values()
                                    for tensor in (*net.parameters(), *net.buffers())])
            distributed.average_gradients_before_steps(family.optimizers())
        order_seed = t.seed if t.order_seed is None else t.order_seed
        batches = self.batches = _batches(family, data, needed, batch_size, order_seed, shard)
        if family.wants_feature_network():
            family.use_feature_network(lambda step: self._content_network(data, notify, step))
        total = t.epochs * batches.steps_per_epoch
        if t.max_steps is not None:
            total = min(total, t.max_steps)

        family.begin(start_step, total)
        history: dict[int, float] = {}
        if not lead:
            self.run_folder = None  # only the first process writes
        elif self.run_folder is None:
            self.run_folder = RunFolder.create(self.out, cfg)
        else:
            self.run_folder.write_config(cfg)
            self.run_folder.start_branch(start_step, **_change_record(self.change, t))
            history = self.run_folder.fids()
        real = data.images[torch.randperm(len(data), generator=torch.Generator().manual_seed(t.seed))[:t.num_samples]]
        health = HealthMonitor(real_diversity=mean_pairwise_distance(real.permute(0, 2, 3, 1).numpy()),
                               d_loss_floor=family.winning_loss_floor, **family.health_options())
        evaluator = None
        if t.eval_every and lead:
            evaluator = QualityEvaluator(cfg.data, data, t.eval_samples, t.eval_features, t.seed, held_out=held)
        loop = _LoopState(self, family, batches, fixed, notify, health, start_step, total, evaluator, history,
                          shard, order_seed)
        if lead:
            where = describe_device(device) + (f", {shard.world} processes" if shard else "")
            where += ", bf16" if family.precision() == "bf16" else ""
            notify("on_start", RunStarted(self.run_folder.path, where, start_step, total, batches.steps_per_epoch,
                                       tuple(m.key for m in family.metrics),
                                       self.change.describe() if self.checkpoint is not None else None))
        for w in warnings:
            notify("on_warning", w)
        try:
            return loop.run(control)
        finally:
            for log in own_logs:
                log.close()  # also when a step raised

    def _content_network(self, data: ImageSet, notify: _Broadcast, step: int) -> torch.nn.Module:
        """The feature network a family's loss reads, and a note saying which it is."""
        notify("on_status", StatusMessage(step, "Preparing the content loss's feature network…"))
        network, what = content_network(self.config.data, data)
        notify("on_warning", TrainingWarning(step, "features", f"The content loss reads {what}."))
        return network

    @staticmethod
    def _with_names(config: RunConfig, data: ImageSet) -> RunConfig:
        """The config with the names a family's conditioning needs from the data (a conditional family's
        classes, a translating family's domains or attributes), checked against a resumed run's."""
        family = family_class(config.model.family)
        names = {}
        if family.takes(LABEL):
            names["class_names"] = data.class_names
        if family.takes(TARGET):
            names["domain_names"] = data.domain_names if DOMAIN_A in family.needs else data.attribute_names
        for field, now in names.items():
            before = getattr(config.model, field)
            if before and before != now:
                what = "classes" if field == "class_names" else "domains"
                raise RunError(f"the data set's {what} changed since this run started (now {len(now)}: "
                               f"{', '.join(now[:5])}…); this run needs the same {what}")
        return config.replace(model=names) if names else config


def _training_data(cfg: RunConfig, shard: distributed.Shard | None):
    """Load and check the data a run trains on: (data, held-out part or None, the tensors the family needs,
    the batch size - clamped to a small data set -, warnings). Raises ConfigError for data the family cannot
    use or a batch that does not split over the processes."""
    t, family = cfg.train, family_class(cfg.model.family)
    data = load_dataset(cfg.data)
    problem = family.missing_data(data.tensors())
    if problem:
        raise ConfigError(problem)
    data, held = family.split_data(data, t.num_samples, t.seed)
    warnings = [TrainingWarning(0, "data", w) for w in data.warnings]
    needed = {name: data.tensors()[name] for name in family.needs}
    batch_size, smallest = t.batch_size, min(len(tensor) for tensor in needed.values())
    if smallest < batch_size and not family.trains_on_crops:
        batch_size = smallest - smallest % (shard.world if shard else 1)
        what = "images" if smallest == len(data) else "images in its smaller domain"
        warnings.append(TrainingWarning(0, "batch_clamped",
                                        f"The data set has only {smallest} {what}, fewer than the batch "
                                        f"size {t.batch_size}; training with batches of {batch_size}."))
    if shard is not None:
        shard.local_batch_size(batch_size)  # ConfigError unless it splits evenly
    return data, held, needed, batch_size, warnings


def _batches(family: Family, data: ImageSet, needed: Tensors, batch_size: int, order_seed: int,
             shard: distributed.Shard | None) -> DeviceBatches | CropBatches:
    """The run's batches on the family's device: random crops of the photos for a family that trains on
    them, else rows of the needed tensors; this process's rows of each in a distributed run."""
    one = shard or distributed.ONE_PROCESS
    if family.trains_on_crops:
        photos = data.photos if data.photos is not None else Photos.from_images(data.images)
        return CropBatches(photos, family.data_cfg.image_size, batch_size, family.device, order_seed,
                           family.channels_last, shard=one)
    return DeviceBatches(needed, batch_size, family.device, order_seed, channels_last=family.channels_last,
                         shard=one)


def _own_logs(t: TrainConfig, notify: _Broadcast) -> list[TensorBoardLog]:
    """The logs the engine keeps itself beside its callers' callbacks: TensorBoard's event files when the config
    asks for them and the extra is installed (a failure to write them becomes one warning)."""
    from ganstudio.training.tensorboard_log import TensorBoardLog, tensorboard_available  # it imports this module

    if not (t.tensorboard and tensorboard_available()):
        return []
    return [TensorBoardLog(warn=lambda warning: notify("on_warning", warning))]


def _learning_rates(family: Family) -> dict[str, list[float]]:
    return {name: [group["lr"] for group in opt.param_groups] for name, opt in family.optimizers().items()}


def _set_learning_rates(family: Family, rates: dict[str, list[float]]) -> None:
    for name, opt in family.optimizers().items():
        for group, lr in zip(opt.param_groups, rates[name]):
            group["lr"] = lr


def _change_record(change: BranchChange, t) -> dict:
    """The resume record's fields: what changed, and the learning rates from here on."""
    record = {"lr_scale": change.lr_scale, "lr_g": t.lr_g, "lr_d": t.lr_d} if change.lr_scale != 1 else {}
    return record | ({"seed": change.seed} if change.seed is not None else {})


@dataclass(frozen=True)
class _Decisions:
    """What the loop does after a step; in a distributed run the same on every process (``agree``)."""

    stop: bool
    report: bool
    checkpoint: bool
    time_up: bool
    no_improvement: bool


class _LoopState:
    """One session of the loop: timing, metric sums and the periodic work."""

    def __init__(self, trainer: Trainer, family: Family, batches: DeviceBatches, fixed: Tensors,
                 notify: _Broadcast, health: HealthMonitor, start_step: int, total: int,
                 evaluator: QualityEvaluator | None, fids: dict[int, float],
                 shard: distributed.Shard | None = None, noise_seed: int = 0):
        self.trainer, self.family, self.batches = trainer, family, batches
        self.shard, self.noise_seed = shard, noise_seed
        self.lead = shard is None or shard.lead
        self.stopping = False  # a distributed run's agreed stop
        self.run_folder = trainer.run_folder
        self.t = trainer.config.train
        self.fixed, self.notify, self.health = fixed, notify, health  # fixed: the sample grid's inputs
        self.start_step, self.step, self.total = start_step, start_step, total
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.count = 0
        self.last_values: dict[str, float] = {}
        self.paused_s = 0.0
        self.sefa = SefaTracker(family.latent_dim) if family.takes(Z) else None
        self.evaluator = evaluator
        self.fids = dict(fids)  # {step: FID} of the run's history and this session's evaluations
        # (value, its step, evaluations since); a resumed session counts evaluations since from 0.
        self.best_fid: tuple[float, int, int] | None = min((v, s, 0) for s, v in fids.items()) if fids else None
        self.evaluated_step: int | None = None  # the step of the last snapshot handed to the quality thread
        self.preparing_since: float | None = None  # while the quality thread prepares its feature network
        self.lent_thread = False  # training runs on one thread less while the quality thread works

    def run(self, control: TrainingControl) -> RunEnded:
        try:
            return self._run(control)
        finally:
            distributed.end_steps()
            if self.evaluator is not None:
                self.evaluator.cancel()

    def _run(self, control: TrainingControl) -> RunEnded:
        t = self.t
        self.t0 = self.last_report_t = time.perf_counter()
        self.last_report_step = self.step
        deadline = self.t0 + t.max_minutes * 60 if t.max_minutes else math.inf
        reason = "finished"
        self._prepare_quality()
        while self.step < self.total:
            if control.paused:
                paused_at = time.perf_counter()
                while not control.wait_while_paused(timeout=0.05):
                    self._serve_snapshot(control)
                self._exclude_pause(time.perf_counter() - paused_at)
            if self.stopping if self.shard else control.stop_requested:
                reason = "stopped"
                break
            self._train_step()
            self._serve_snapshot(control)
            now = time.perf_counter()
            decided = self._decide(control, now, deadline)
            self.stopping = decided.stop
            if decided.report and not self._report(now):
                return self._diverged()
            periodic = self.step % t.sample_every == 0 or (t.eval_every and self.step % t.eval_every == 0)
            checkpoint_due = self.step % t.checkpoint_every == 0 or decided.checkpoint
            if periodic or checkpoint_due:
                if not self._weights_finite():
                    return self._diverged()
                self._agree_on_statistics()
            if self.step % t.sample_every == 0:
                self._samples()
            if t.eval_every and self.step % t.eval_every == 0:
                self._submit_quality()
            if decided.no_improvement:
                reason = "no_improvement"
                break
            if checkpoint_due:
                if not self._report(time.perf_counter()):
                    return self._diverged()
                self._checkpoint()
            if decided.time_up:
                reason = "time_limit"
                break

        if not self._report(time.perf_counter()) or not self._weights_finite():
            return self._diverged()
        self._agree_on_statistics()
        if self.step % t.sample_every != 0:
            self._samples()
        quality_note = self._finish_quality(control, reason)
        latest = self.run_folder.latest_checkpoint() if self.lead else None
        path = latest if latest is not None and latest.stem == checkpoint_name(self.step) else self._checkpoint()
        messages = {"finished": f"Training finished after {self.step} steps.",
                    "stopped": f"Training stopped at step {self.step}; resume to continue.",
                    "time_limit": f"The time limit was reached at step {self.step}; resume to continue.",
                    "no_improvement": f"Stopped at step {self.step}: the FID has not improved for "
                                      f"{t.stop_after_no_improvement} evaluations."}
        ended = RunEnded(self.step, reason, messages[reason] + quality_note, path)
        self.notify("on_end", ended)
        return ended

    def _train_step(self) -> None:
        """One step of the family; a distributed one draws its noise from (seed, rank, step) and averages
        the state the family says the processes share."""
        if self.shard is not None:
            distributed.seed_step(self.noise_seed, self.step, self.shard)
        self._accumulate(self.family.train_step(self.batches.batch(self.step)))
        if self.shard is not None and (shared := self.family.replicated_state()):
            distributed.average_(shared)
        self.step += 1

    def _decide(self, control: TrainingControl, now: float, deadline: float) -> _Decisions:
        """After a step: stop, report, checkpoint, time limit, no improvement. In a distributed run any
        process's yes counts (one small all-reduce on the CPU): a stop on one stops all, the first process's
        clock and quality measures decide for all."""
        decided = _Decisions(stop=control.stop_requested,
                             report=now - self.last_report_t >= self.trainer.report_interval_s,
                             checkpoint=control.take_checkpoint_request(), time_up=now > deadline,
                             no_improvement=self._no_improvement())
        if self.shard is None:
            return decided
        return _Decisions(*(bool(v) for v in distributed.agree(list(astuple(decided)))))

    def _agree_on_statistics(self) -> None:
        """Before anything reads the networks (samples, quality, checkpoints): a distributed run averages
        the BatchNorm statistics each process gathered from its own rows."""
        if self.shard is not None:
            distributed.average_norm_statistics_(list(self.family.networks().values()))

    def _serve_snapshot(self, control: TrainingControl) -> None:
        if control.take_snapshot_request():
            self.notify("on_snapshot", GeneratorSnapshot.of_family(self.family, self.step, self.trainer.config, self.fixed))

    # -- metrics ----------------------------------------------------------------------------------

    def _accumulate(self, metrics: dict[str, torch.Tensor]) -> None:
        """Sum each metric over the steps that report it (a family in a phase without its D reports fewer)."""
        for key, value in metrics.items():
            if key in self.sums:
                self.sums[key] += value
                self.counts[key] += 1
            else:
                self.sums[key], self.counts[key] = value.clone(), 1
        self.count += 1

    def _report(self, now: float) -> bool:
        """Emit the means since the last report; False if a metric is NaN or infinite."""
        if self.count == 0:
            return True
        keys = list(self.sums)
        stacked = torch.stack([self.sums[k].float() / self.counts[k] for k in keys])
        if self.shard is not None:
            distributed.average_([stacked])  # the means over all processes' rows
        values = stacked.tolist()
        self.sums, self.counts, self.count = {}, {}, 0
        means = dict(zip(keys, values))
        if not all(math.isfinite(v) for v in values):
            self.last_values = means
            return False
        window_s = max(now - self.last_report_t, 1e-9)
        images_per_s = (self.step - self.last_report_step) * self.batches.batch_size / window_s
        elapsed = now - self.t0 - self.paused_s
        done = self.step - self.start_step
        eta = (self.total - self.step) * elapsed / done if done else None
        epoch = self.step / self.batches.steps_per_epoch
        self.last_report_t, self.last_report_step = now, self.step
        if self.lead:
            self.run_folder.append_metrics({"step": self.step, "epoch": round(epoch, 4),
                                            "time": round(time.time(), 3), "images_per_s": round(images_per_s, 1),
                                            **means})
        report = StepReport(self.step, epoch, self.total, means, images_per_s, elapsed, eta)
        self.notify("on_step", report)
        for warning in self.health.observe_step(report):
            self.notify("on_warning", warning)
        self._collect_quality()
        return True

    # -- quality ----------------------------------------------------------------------------------

    def _prepare_quality(self) -> None:
        """When this session will evaluate, prepare the feature network from the first step on, and on
        the CPU lend it one of training's cores meanwhile (two threads training beside it on two cores:
        measured 3,700 -> 700-1,100 images/s for ~30 s; one thread lent: see bench_quality_cost.py)."""
        if self.evaluator is None or self.total - self.step < self.t.eval_every:
            return
        start = time.perf_counter()
        try:
            if self.evaluator.wait_ready(0.5):  # cached: nothing to say
                return
        except Exception as e:  # noqa: BLE001  quality is an extra: report it and train without it
            self._quality_failed(e)
            return
        self.preparing_since = start
        self._balance_threads()
        self.notify("on_status", StatusMessage(self.step, "Preparing the quality measures in the background (a small "
                                                          "network learns this data set's features once; then "
                                                          "cached)…"))

    def _check_prepared(self) -> None:
        """Once the feature network is ready, say so and give the lent core back to training."""
        if self.preparing_since is None or self.evaluator is None:
            return
        try:
            if not self.evaluator.wait_ready(0):
                return
        except Exception as e:  # noqa: BLE001  quality is an extra: report it and train without it
            self._quality_failed(e)
        if self.evaluator is not None:
            self.notify("on_status", StatusMessage(self.step, f"Quality measures ready "
                                                              f"({time.perf_counter() - self.preparing_since:.0f} s)."))
        self.preparing_since = None
        self._balance_threads()

    def _balance_threads(self) -> None:
        """On the CPU, training lends one of its threads to the quality thread while it prepares or
        evaluates, and takes it back afterwards: two training threads beside it on two cores fight
        for them (measured 3,700 -> 700-1,100 images/s; bench_quality_cost.py)."""
        busy = self.evaluator is not None and (self.preparing_since is not None
                                               or self.evaluator.pending_step is not None)
        if self.family.device.type != "cpu" or busy == self.lent_thread:
            return
        if busy and torch.get_num_threads() > 1:
            torch.set_num_threads(torch.get_num_threads() - 1)
            self.lent_thread = True
        elif not busy:
            torch.set_num_threads(torch.get_num_threads() + 1)
            self.lent_thread = False

    def _finish_quality(self, control: TrainingControl, reason: str) -> str:
        """At the end: wait for the evaluation in flight and evaluate the final generator too, unless the
        run was stopped (then, or on a stop while waiting, cancel it). Returns a note for the end message."""
        if reason != "stopped":
            self._wait_for_quality(control)
            if self.evaluated_step not in (None, self.step) and not control.stop_requested and self._submit_quality():
                self._wait_for_quality(control)
        if self.evaluator is None or self.evaluator.pending_step is None:
            return ""
        step = self.evaluator.pending_step
        self.evaluator.cancel()
        self.evaluator = None
        return (f" The quality evaluation of step {step:,} was cancelled; `ganstudio eval {self.run_folder.path}` "
                f"measures the saved checkpoint.")

    def _wait_for_quality(self, control: TrainingControl) -> None:
        while self.evaluator is not None and self.evaluator.pending_step is not None and not control.stop_requested:
            self._collect_quality(wait_s=0.05)

    def _quality_failed(self, error: Exception) -> None:
        self.evaluator.cancel()
        self.evaluator = None
        self._balance_threads()
        self.notify("on_warning", TrainingWarning(self.step, "quality_failed",
                                                  f"Sample quality could not be measured ({type(error).__name__}: "
                                                  f"{error}); training goes on without it."))

    def _submit_quality(self) -> bool:
        """Hand a snapshot to the quality thread (skipped while it is busy: the cost stays bounded)."""
        if self.evaluator is None:
            return False
        snapshot = GeneratorSnapshot.of_family(self.family, self.step, self.trainer.config, self.fixed)
        submitted = self.evaluator.submit(snapshot)
        if submitted:
            self.evaluated_step = self.step
            self._balance_threads()
        return submitted

    def _collect_quality(self, wait_s: float = 0.0) -> None:
        """Record and report a finished evaluation, if there is one."""
        self._check_prepared()
        if self.evaluator is None:
            return
        try:
            record = self.evaluator.collect(wait_s)
        except Exception as e:  # noqa: BLE001  quality is an extra: report it and train on without it
            self._quality_failed(e)
            return
        if record is None:
            return
        self._balance_threads()
        if self.evaluator.note:
            self.notify("on_warning", TrainingWarning(record["step"], "features", self.evaluator.note))
            self.evaluator.note = None
        epoch = round(record["step"] / self.batches.steps_per_epoch, 4)
        self.run_folder.append_metrics({"epoch": epoch, **record})
        values = {k: v for k, v in record.items() if k not in ("step", "eval_seconds")}
        features = self.evaluator.features.description if self.evaluator.features else "the clean speech"
        report = QualityReport(record["step"], values, features, record["eval_seconds"])
        self.notify("on_quality", report)
        fid = next((v for k, v in values.items() if k.startswith("fid_")), None)
        if fid is not None:
            self.fids[record["step"]] = fid
            best = self.best_fid
            self.best_fid = (fid, record["step"], 0) if best is None or fid < best[0] else (*best[:2], best[2] + 1)
        for warning in self.health.observe_quality(report):
            self.notify("on_warning", warning)

    def _no_improvement(self) -> bool:
        patience = self.t.stop_after_no_improvement
        return bool(patience) and self.best_fid is not None and self.best_fid[2] >= patience

    def _exclude_pause(self, seconds: float) -> None:
        self.paused_s += seconds
        self.last_report_t += seconds

    # -- periodic work ----------------------------------------------------------------------------

    def _samples(self) -> None:
        if not self.lead:
            return
        outputs = self.family.render(self.fixed)
        tiles, columns = self.family.sample_tiles(self.fixed, outputs)
        path = self.run_folder.sample_path(self.step)
        save_png(image_grid(to_uint8(tiles), columns=columns), path)
        report = SamplesReport(self.step, to_uint8(self.family.pictures(outputs)), path, self._track_sefa(),
                               self.family.sounds(self.fixed, outputs))
        self.notify("on_samples", report)
        for warning in self.health.observe_samples(report):
            self.notify("on_warning", warning)

    def _track_sefa(self) -> dict[str, float]:
        if self.sefa is None:
            return {}
        try:
            record = self.sefa.record(self.family.generator, self.step)
        except ValueError:  # a generator without a layer that reads z directly
            return {}
        self.run_folder.append_sefa(record)
        return record

    def _checkpoint(self) -> Path | None:
        """Save (the caller has checked the weights are finite) and prune, keeping the best evaluated one;
        in a distributed run the first process saves (all hold the same weights), the others return None."""
        if not self.lead:
            return None
        path = save_checkpoint(self.run_folder.checkpoints_dir, self.family, step=self.step,
                               epoch=self.step // self.batches.steps_per_epoch,
                               config=self.trainer.config.to_dict(), fixed_inputs=self.fixed)
        best = self.run_folder.best_checkpoint(self.fids)
        self.run_folder.prune_checkpoints(self.t.keep_checkpoints, protect=best[0] if best else None)
        self.notify("on_checkpoint", CheckpointSaved(self.step, path))
        return path

    def _weights_finite(self) -> bool:
        """One sync: are all weights of all networks finite? (Checked before anything reads them.)"""
        sums = [p.detach().float().sum() for net in self.family.networks().values() for p in net.parameters()]
        return bool(torch.isfinite(torch.stack(sums)).all())

    def _diverged(self) -> RunEnded:
        bad = ", ".join(f"{k} = {v}" for k, v in self.last_values.items() if not math.isfinite(v))
        last = self.run_folder.latest_checkpoint() if self.lead else None
        kept = f" The last good checkpoint is {last.name}." if last else ""
        ended = RunEnded(self.step, "diverged",
                         f"Training diverged at step {self.step} ({bad or 'the weights are no longer finite'}) and "
                         f"was stopped.{kept} Try a lower learning rate.", last)
        self.notify("on_end", ended)
        return ended

