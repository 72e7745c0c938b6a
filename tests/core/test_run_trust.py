"""Runs you can trust: rollbacks keep what they roll back to and change the path, histories keep
every point, resume stays exact with helper threads busy, Stop is quick, divergence is caught."""

import json
import threading
import time
import types

import numpy as np
import torch

from ganstudio.checkpoint import load_generator
from ganstudio.cli import main
from ganstudio.data import load_dataset
from ganstudio.latent.attributes import train_attribute_model
from ganstudio.metrics.features import train_feature_autoencoder
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import BranchChange, Trainer, TrainerCallback
from ganstudio.training.runs import RunFolder


def stub_quality(monkeypatch, fid_of_step):
    """Instant quality evaluations with the given FID curve."""
    import ganstudio.metrics.evaluator as evaluator

    stub = types.SimpleNamespace(name="stub", description="stub features")
    monkeypatch.setattr(evaluator, "feature_network", lambda kind, config, data, **kw: (stub, None))
    monkeypatch.setattr(evaluator, "evaluate", lambda snapshot, real, features, n, **kw: {
        "fid_stub": fid_of_step(snapshot.step)})


def reports(run: RunFolder) -> list[int]:
    return [r["step"] for r in run.read_metrics() if "loss_d" in r]


def test_rollback_keeps_its_checkpoint_sets_the_old_branch_aside_and_lowers_the_learning_rates(
        tmp_path, small_config, monkeypatch, capsys):
    stub_quality(monkeypatch, lambda step: abs(step - 40) + 1.0)  # best at step 40
    config = small_config(steps=100, eval_every=20, eval_samples=20, checkpoint_every=20, keep_checkpoints=1)
    trainer = Trainer(config, out=tmp_path, report_interval_s=0)
    trainer.run()
    run = trainer.run_folder

    assert main(["train", "--resume", str(run.path), "--from-best", "--max-steps", "80"]) == 0
    assert "Rolling back to step 40 (FID 1) with learning rates ×0.5." in capsys.readouterr().err
    steps = [s for s, _ in run.list_checkpoints()]
    assert 40 in steps and steps[-1] == 80  # the rolled-back-to checkpoint survives the final prune
    assert [s for s, _ in run.list_samples()] == [20, 40, 60, 80]
    (branch,) = run.branches_dir.iterdir()  # the old branch: set aside, not overwritten, not deleted
    assert sorted(p.name for p in (branch / "checkpoints").iterdir()) == [
        "step_0000100.json", "step_0000100.safetensors"]  # 60 and 80 were pruned on the old branch
    assert sorted(p.name for p in (branch / "samples").iterdir()) == [
        "step_0000060.png", "step_0000080.png", "step_0000100.png"]
    history = run.read_metrics()
    (resume,) = [r for r in history if r.get("event") == "resume"]
    assert resume["from_step"] == 40 and resume["lr_scale"] == 0.5 and resume["lr_g"] == config.train.lr_g / 2
    steps = reports(run)  # the old branch's 41..100 are not in the history; the new branch's reports are
    assert steps[:40] == list(range(1, 41)) and steps[-1] == 80 and steps == sorted(set(steps))
    assert run.read_config().train.lr_g == config.train.lr_g / 2
    assert [r["step"] for r in run.read_sefa()] == [20, 40, 60, 80]  # SeFa's history follows the branch too


def test_a_rollback_changes_the_path_and_a_plain_resume_does_not(tmp_path, small_config):
    first = Trainer(small_config("dcgan", steps=20), out=tmp_path, report_interval_s=0)
    first.run()
    checkpoint = first.run_folder.latest_checkpoint()

    def weights_after(change: BranchChange) -> dict[str, torch.Tensor]:
        trainer = Trainer.resume(first.run_folder.path, checkpoint, train_overrides={"max_steps": 30}, change=change,
                                 report_interval_s=0)
        trainer.run()
        return {k: v.clone() for k, v in trainer.family.generator.state_dict().items()}

    plain, again = weights_after(BranchChange()), weights_after(BranchChange())
    slower, new_noise = weights_after(BranchChange(lr_scale=0.5)), weights_after(BranchChange(seed=7))
    assert all(torch.equal(plain[k], again[k]) for k in plain)
    for changed in (slower, new_noise):
        assert any(not torch.equal(plain[k], changed[k]) for k in plain if plain[k].is_floating_point())


def test_history_keeps_loss_points_when_quality_records_arrive_late(tmp_path, small_config):
    run = RunFolder.create(tmp_path, small_config())
    for step in range(1, 11):
        run.append_metrics({"step": step, "images_per_s": 1.0, "loss_d": 0.5})
    run.append_metrics({"step": 5, "eval_seconds": 1.0, "fid_domain": 9.0})  # measured at 5, recorded at 10
    for step in range(11, 16):
        run.append_metrics({"step": step, "images_per_s": 1.0, "loss_d": 0.5})
    assert reports(run) == list(range(1, 16))
    run.start_branch(12, lr_scale=0.5)
    run.append_metrics({"step": 13, "images_per_s": 1.0, "loss_d": 0.1})
    history = run.read_metrics()
    assert reports(run) == [*range(1, 13), 13] and history[-1]["loss_d"] == 0.1
    assert any("fid_domain" in r for r in history)


def test_run_folders_from_before_resume_records_still_read(tmp_path, small_config):
    run = RunFolder.create(tmp_path, small_config())
    lines = [{"step": s, "images_per_s": 1.0, "loss_d": 1.0} for s in range(1, 11)]
    lines.insert(9, {"step": 6, "eval_seconds": 1.0, "fid_domain": 3.0})  # a late quality record
    lines += [{"step": s, "images_per_s": 1.0, "loss_d": 2.0} for s in range(7, 13)]  # resumed from 6
    run.metrics_path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    history = run.read_metrics()
    assert reports(run) == list(range(1, 13))
    assert [r["loss_d"] for r in history if "loss_d" in r][6:] == [2.0] * 6
    assert [r["step"] for r in history if "fid_domain" in r] == [6]


def test_helper_networks_leave_the_training_random_stream_alone(small_config):
    data = load_dataset(small_config().data)
    state = torch.get_rng_state()
    train_attribute_model(data, steps=3)
    train_feature_autoencoder(data, steps=3)
    assert torch.equal(torch.get_rng_state(), state)


def test_resume_is_exact_with_quality_measured_and_explorer_snapshots_taken(tmp_path, small_config,
                                                                            quick_attribute_model):
    """Evaluations (their feature network is trained beside the training thread) and snapshots
    rendered by an explorer must not touch the training's random stream."""
    rendered = []

    class Explorer(TrainerCallback):
        def __init__(self, control):
            self.control = control

        def on_step(self, event):
            self.control.request_snapshot()

        def on_snapshot(self, snapshot):
            rendered.append(snapshot.render(np.zeros((1, snapshot.latent_dim), np.float32)))

    def train(steps, out, resume_from=None):
        control = TrainingControl()
        if resume_from is None:
            trainer = Trainer(small_config("gan", steps=steps, eval_every=10, eval_samples=60).replace(
                data={"seed": 3}), out=out, report_interval_s=0)
        else:
            trainer = Trainer.resume(resume_from, train_overrides={"max_steps": steps}, report_interval_s=0)
        trainer.run(control, [Explorer(control)])
        return trainer

    whole = train(60, tmp_path / "a")
    first = train(30, tmp_path / "b")
    resumed = train(60, None, resume_from=first.run_folder.path)
    assert rendered and any("fid_domain" in r for r in resumed.run_folder.read_metrics())
    for name, net in whole.family.networks().items():
        other = resumed.family.networks()[name].state_dict()
        for key, value in net.state_dict().items():
            assert torch.equal(value, other[key]), f"{name}.{key} differs after resume"


def test_stop_ends_the_run_within_two_seconds_with_an_evaluation_in_flight(tmp_path, small_config, slow_quality):
    control = TrainingControl()
    ended_at = {}

    class Clock(TrainerCallback):
        def on_end(self, event):
            ended_at["t"] = time.perf_counter()
            ended_at["event"] = event

    trainer = Trainer(small_config(steps=100_000, eval_every=20, eval_samples=2000), out=tmp_path)
    thread = threading.Thread(target=lambda: trainer.run(control, [Clock()]))
    thread.start()
    assert slow_quality.started.wait(120)  # an evaluation is in flight (~8 batches, 4 s)
    stop_at = time.perf_counter()
    control.stop()
    thread.join(30)
    assert ended_at["t"] - stop_at <= 2.0
    event = ended_at["event"]
    assert event.reason == "stopped" and "was cancelled" in event.message and "ganstudio eval" in event.message
    assert event.checkpoint is not None and event.checkpoint.is_file()
    quality = [t for t in threading.enumerate() if t.name == "quality"]
    for t in quality:
        t.join(2.0)  # the cancelled evaluation ends within one batch
    assert not any(t.is_alive() for t in quality)


def test_weights_that_really_diverge_end_the_run_with_the_last_good_checkpoint(tmp_path, small_config, monkeypatch):
    # The weights overflow at step 9 while the losses that step returned are finite (as at a huge
    # learning rate, where losses reach 1e30 before the weights become inf). Reports are rarer than
    # grids and checkpoints here, so those must check the weights.
    from ganstudio.models.gan import MLPGAN

    real_step = MLPGAN.train_step
    calls = {"n": 0}

    def step_that_overflows(self, batch):
        metrics = real_step(self, batch)
        calls["n"] += 1
        if calls["n"] == 9:
            with torch.no_grad():
                next(self.networks()["generator"].parameters()).fill_(float("inf"))
        return metrics

    monkeypatch.setattr(MLPGAN, "train_step", step_that_overflows)
    config = small_config(steps=100, checkpoint_every=2, sample_every=5)
    trainer = Trainer(config, out=tmp_path, report_interval_s=10.0)
    ended = trainer.run()
    assert ended.reason == "diverged", ended.message
    run = trainer.run_folder
    assert ended.checkpoint is not None and ended.checkpoint.name in ended.message
    assert ended.checkpoint == run.latest_checkpoint()
    for _, path in run.list_checkpoints():  # never a NaN checkpoint
        family, _, _ = load_generator(path, torch.device("cpu"))
        assert all(torch.isfinite(p).all() for net in family.networks().values() for p in net.parameters())
