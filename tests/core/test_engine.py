"""The training engine: learning, resume, controls, divergence, events."""

import threading
import types

import numpy as np
import pytest
import torch
from conftest import DEVICE, StopAt

from ganstudio.checkpoint import load_generator
from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.images import to_uint8
from ganstudio.metrics.features import domain_features
from ganstudio.models import list_families
from ganstudio.models.gan import MLPGAN
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import Trainer, TrainerCallback
from ganstudio.training.runs import RunFolder
from ganstudio.upscale import upscale


class Recorder(TrainerCallback):
    def __init__(self):
        self.events = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            return lambda event: object.__getattribute__(self, "events").append((name, event))
        return object.__getattribute__(self, name)

    def of(self, hook):
        return [e for h, e in self.events if h == hook]


def test_mlp_gan_moves_samples_towards_the_data(tmp_path, pixel_fd):
    """400 steps of the tutorial's GAN on faces: the Fréchet distance between pooled pixel statistics
    of generated and real images falls below 40 % of its starting value (measured: 1.01 -> 0.26)."""
    config = RunConfig().replace(
        data={"dataset": "faces", "num_images": 6000}, model={"family": "gan"},
        train={"max_steps": 400, "sample_every": 400, "num_samples": 256, "device": DEVICE},
    )
    recorder = Recorder()
    trainer = Trainer(config, out=tmp_path)
    ended = trainer.run(callbacks=[recorder])
    assert ended.reason == "finished" and ended.step == 400

    real = load_dataset(config.data).images[:1000].permute(0, 2, 3, 1).numpy()
    torch.manual_seed(config.train.seed)  # the untrained generator, built exactly as the trainer built it
    untrained = MLPGAN(config.data, config.model, config.train, torch.device("cpu"))
    z = torch.randn(1000, 100, generator=torch.Generator().manual_seed(5))
    before = pixel_fd(to_uint8(untrained.generate(z)), real)
    after = pixel_fd(to_uint8(trainer.family.generate(z)), real)
    print(f"pixel FD before {before:.3f} after {after:.3f}")
    assert after < 0.4 * before

    steps = recorder.of("on_step")
    assert steps and steps[-1].step == 400 and steps[-1].images_per_s > 0
    assert set(steps[-1].metrics) == {"loss_d", "loss_g", "d_real", "d_fake"}
    assert recorder.of("on_samples")[-1].images.shape == (256, 28, 28, 1)


@pytest.mark.parametrize("family", list(list_families()))
def test_resume_continues_exactly(tmp_path, small_config, family):
    """Stopping at step 22 and resuming to 40 gives the same weights and metrics as 40 steps at once
    (22: mid-way through WGAN's critic cycle; BEGAN's k_t, CycleGAN's fake pool, the learning-rate
    schedules and the like travel in the checkpoint)."""
    config = small_config(family, steps=40, epochs=1000)
    whole = Trainer(config, out=tmp_path / "a", report_interval_s=0)
    whole.run()

    first = Trainer(config, out=tmp_path / "b", report_interval_s=0)
    control = TrainingControl()
    assert first.run(control, [StopAt(22, control)]).step == 22
    resumed = Trainer.resume(first.run_folder.path, report_interval_s=0)
    ended = resumed.run()
    assert ended.step == 40

    for name, net in whole.family.networks().items():
        other = resumed.family.networks()[name].state_dict()
        for key, value in net.state_dict().items():
            assert torch.equal(value, other[key]), f"{name}.{key} differs after resume"
    keys = [m.key for m in whole.family.metrics]
    metrics_whole = {r["step"]: [r.get(k) for k in keys] for r in whole.run_folder.read_metrics()}
    metrics_resumed = {r["step"]: [r.get(k) for k in keys] for r in resumed.run_folder.read_metrics() if "event" not in r}
    assert metrics_resumed == metrics_whole
    assert [s for s, _ in resumed.run_folder.list_samples()] == [20, 22, 40]


def test_checkpoint_reproduces_samples(tmp_path, small_config):
    trainer = Trainer(small_config("dcgan", steps=30), out=tmp_path)
    trainer.run()
    family, info, fixed = load_generator(trainer.run_folder.path, torch.device("cpu"))
    assert info.step == 30
    torch.testing.assert_close(family.render(fixed), trainer.family.render(fixed), rtol=0, atol=0)


def test_pause_and_stop_take_effect_within_a_step(tmp_path, small_config):
    control = TrainingControl()
    steps_seen = []
    paused_at = threading.Event()

    class PauseAfterTen(TrainerCallback):
        def on_step(self, e):
            steps_seen.append(e.step)
            if e.step == 10:
                control.pause()
                paused_at.set()

    trainer = Trainer(small_config(steps=10_000), out=tmp_path, report_interval_s=0)
    thread = threading.Thread(target=lambda: trainer.run(control, [PauseAfterTen()]))
    thread.start()
    assert paused_at.wait(60)
    threading.Event().wait(0.3)
    assert steps_seen[-1] <= 11  # at most the step in flight
    control.stop()
    thread.join(30)
    assert not thread.is_alive()
    run = RunFolder.open(trainer.run_folder.path)
    assert run.list_checkpoints()[-1][0] == steps_seen[-1]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, small_config, monkeypatch):
    real_step = MLPGAN.train_step
    calls = {"n": 0}

    def step_that_diverges(self, batch):
        metrics = real_step(self, batch)
        calls["n"] += 1
        if calls["n"] > 25:
            metrics["loss_d"] = torch.tensor(float("nan"))
        return metrics

    monkeypatch.setattr(MLPGAN, "train_step", step_that_diverges)
    recorder = Recorder()
    trainer = Trainer(small_config(steps=100, checkpoint_every=20), out=tmp_path, report_interval_s=0)
    ended = trainer.run(callbacks=[recorder])
    assert ended.reason == "diverged"
    assert "loss_d = nan" in ended.message and "step_0000020" in ended.message
    assert [s for s, _ in trainer.run_folder.list_checkpoints()] == [20]
    load_generator(trainer.run_folder.path, torch.device("cpu"))  # still loadable


def test_small_data_set_clamps_batch_and_warns(tmp_path, small_config):
    config = small_config(steps=5).replace(data={"num_images": 12})
    recorder = Recorder()
    ended = Trainer(config, out=tmp_path).run(callbacks=[recorder])
    assert ended.reason == "finished"
    warnings = recorder.of("on_warning")
    assert any(w.kind == "batch_clamped" and "12 images" in w.message for w in warnings)


def test_failed_start_leaves_no_run_folder(tmp_path):
    config = RunConfig().replace(data={"dataset": "folder", "root": str(tmp_path / "missing")})
    with pytest.raises(Exception, match="missing"):
        Trainer(config, out=tmp_path / "runs").run()
    assert not (tmp_path / "runs").exists()


def test_run_folder_layout(tmp_path, small_config):
    trainer = Trainer(small_config(steps=40, checkpoint_every=20), out=tmp_path)
    trainer.run()
    run = trainer.run_folder
    assert run.path.parent == tmp_path and run.path.name.endswith("-gan-faces")
    given = small_config(steps=40, checkpoint_every=20)  # and every option's value, the defaults too
    assert RunConfig.load(run.config_path) == given.replace(model={"options": {"dropout": 0.5}})
    assert [s for s, _ in run.list_samples()] == [20, 40]
    assert [s for s, _ in run.list_checkpoints()] == [20, 40]
    records = run.read_metrics()
    assert records[-1]["step"] == 40 and {"loss_d", "loss_g", "images_per_s", "epoch"} <= set(records[-1])


def test_sefa_is_tracked_at_every_sample_grid(tmp_path, small_config):
    seen = []

    class Grids(TrainerCallback):
        def on_samples(self, e):
            seen.append(e.sefa)

    trainer = Trainer(small_config(steps=60), out=tmp_path)
    trainer.run(callbacks=[Grids()])
    records = trainer.run_folder.read_sefa()
    assert [r["step"] for r in records] == [20, 40, 60]
    assert "sefa_stability_1" not in records[0] and 0 <= records[2]["sefa_stability_1"] <= 1
    assert seen[-1] == records[-1]


@pytest.mark.slow  # trains the domain feature network (~20 s alone) and 600 steps with real evaluations
def test_quality_is_measured_in_the_background_and_the_domain_fid_falls(tmp_path):
    """Every 150 steps the engine evaluates a snapshot on its quality thread; the records land in
    metrics.jsonl and reach the callbacks; over 600 steps of the MLP GAN the domain FID falls."""
    config = RunConfig().replace(data={"num_images": 3000}, model={"family": "gan"},
                                 train={"max_steps": 600, "epochs": 100, "eval_every": 150, "eval_samples": 500,
                                        "sample_every": 10**6, "device": DEVICE})
    domain_features(config.data)  # trained once per data set and cached, as a second run finds it
    recorder = Recorder()
    trainer = Trainer(config, out=tmp_path)
    assert trainer.run(callbacks=[recorder]).reason == "finished"
    reports = recorder.of("on_quality")
    records = [r for r in trainer.run_folder.read_metrics() if "fid_domain" in r]
    assert [r["step"] for r in records] == [r.step for r in reports] and len(records) >= 3
    assert records[-1]["step"] == 600  # the last evaluation is waited for
    assert {"kid_domain", "precision_domain", "recall_domain", "coverage_yaw", "eval_seconds"} <= set(records[0])
    fids = [r["fid_domain"] for r in records]
    print("domain FID:", [(r["step"], round(r["fid_domain"], 2)) for r in records])
    assert fids[-1] < 0.6 * fids[0]
    assert "domain features" in reports[0].features


def test_training_stops_when_quality_stops_improving(tmp_path, small_config, monkeypatch):
    import ganstudio.metrics.evaluator as evaluator

    # The FID only grows; features and evaluation are stubs so that evaluations keep up with training.
    stub = types.SimpleNamespace(name="stub", description="stub features")
    monkeypatch.setattr(evaluator, "feature_network", lambda kind, config, data, **kw: (stub, None))
    monkeypatch.setattr(evaluator, "evaluate", lambda snapshot, real, features, n, **kw: {"fid_domain": snapshot.step})
    config = small_config(steps=400, eval_every=10, eval_samples=20, stop_after_no_improvement=3)
    ended = Trainer(config, out=tmp_path, report_interval_s=0).run()
    assert ended.reason == "no_improvement" and "not improved for 3 evaluations" in ended.message
    assert ended.step < 400


def test_the_best_checkpoint_is_kept_and_training_can_roll_back_to_it(tmp_path, small_config, monkeypatch, capsys):
    import ganstudio.metrics.evaluator as evaluator
    from ganstudio.cli import main

    stub = types.SimpleNamespace(name="stub", description="stub features")
    monkeypatch.setattr(evaluator, "feature_network", lambda kind, config, data, **kw: (stub, None))
    monkeypatch.setattr(evaluator, "evaluate", lambda snapshot, real, features, n, **kw: {
        "fid_stub": abs(snapshot.step - 40) + 1.0})  # best at step 40
    config = small_config(steps=100, eval_every=20, eval_samples=20, checkpoint_every=20, keep_checkpoints=1)
    trainer = Trainer(config, out=tmp_path, report_interval_s=0)
    trainer.run()
    run = trainer.run_folder
    steps = [s for s, _ in run.list_checkpoints()]
    assert steps[-1] == 100 and 40 in steps and len(steps) <= 3  # the newest, and the best protected
    step, path, fid = run.best_checkpoint()
    assert (step, fid) == (40, 1.0)

    assert main(["train", "--resume", str(run.path), "--from-best", "--max-steps", "45"]) == 0
    assert "Rolling back to step 40" in capsys.readouterr().err
    assert [r["step"] for r in run.read_metrics() if "loss_d" in r][-1] == 45


@pytest.mark.parametrize("family", ["dcgan", "stargan", "srgan"])
def test_live_snapshots_render_where_the_run_trains(tmp_path, small_config, family):
    """A run on a CUDA GPU hands the explorer and the quality evaluator snapshots on that GPU (on the CPU they
    stay there); what they render - images from z, translations, D's attribute readings, upscaled tiles -
    matches a CPU copy's."""
    trainer = Trainer(small_config(family, steps=2), out=tmp_path)
    trainer.run()
    live = GeneratorSnapshot.of_family(trainer.family, 2, trainer.config)
    cpu = live.on_cpu()
    assert live.device.type == torch.device(DEVICE).type and cpu.device.type == "cpu"
    assert (cpu is live) == (DEVICE == "cpu")
    rng = np.random.default_rng(0)
    channels, size, _ = live.image_shape
    if family == "dcgan":
        z = rng.standard_normal((4, live.latent_dim)).astype(np.float32)
        pairs = [(live.render(z), cpu.render(z))]
    elif family == "stargan":
        sources = rng.integers(0, 256, (4, size, size, channels), dtype=np.uint8)
        target = np.eye(live.target_size, dtype=np.float32)[0]
        pairs = [(live.translate(sources, target=target), cpu.translate(sources, target=target))]
        np.testing.assert_allclose(live.read_attributes(sources), cpu.read_attributes(sources), atol=0.02)
    else:
        image = rng.integers(0, 256, (10, 13, channels), dtype=np.uint8)
        pairs = [(upscale(live, image, tile=6), upscale(cpu, image, tile=6))]
    for a, b in pairs:
        assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).max() <= 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_data_set_too_large_for_the_gpu_is_staged_through_pinned_memory(monkeypatch):
    """The same batches, step after step, whether the data live on the GPU or are copied one step ahead."""
    import ganstudio.data.batches as batches

    tensors = {"image": torch.randint(0, 256, (500, 1, 8, 8), dtype=torch.uint8), "label": torch.arange(500)}
    resident = batches.DeviceBatches(tensors, 32, torch.device("cuda"), seed=3)
    monkeypatch.setattr(batches, "GPU_RESIDENT_SHARE", 0.0)
    staged = batches.DeviceBatches(tensors, 32, torch.device("cuda"), seed=3)
    assert resident.resident and not staged.resident
    for step in (0, 1, 2, 5, 6, 30):  # in order, and skipping ahead (a resume)
        a, b = resident.batch(step), staged.batch(step)
        assert all(torch.equal(a[k], b[k]) for k in a)
