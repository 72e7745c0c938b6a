"""TensorBoard event files under RUN/tb/ (the tensorboard extra): what a run writes, resumes, switching it off,
failures that never stop training, and the CLI flag."""

import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

from ganstudio.cli import main
from ganstudio.config import RunConfig
from ganstudio.events import QualityReport, RunEnded, RunStarted, StepReport
from ganstudio.training import tensorboard_log
from ganstudio.training.engine import Trainer
from ganstudio.training.runs import RunFolder
from ganstudio.training.tensorboard_log import TensorBoardLog


def read_events(run_path):
    events = EventAccumulator(str(run_path / "tb"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def scalar_steps(events, tag):
    return [s.step for s in events.Scalars(tag)]


def report_steps(run: RunFolder) -> list[int]:
    return [r["step"] for r in run.read_metrics() if "loss_d" in r]


def test_a_run_writes_metrics_samples_and_hparams(tmp_path, small_config):
    trainer = Trainer(small_config("gan", steps=40, sample_every=20), out=tmp_path, report_interval_s=0)
    trainer.run()
    run = trainer.run_folder
    events = read_events(run.path)

    family_metrics = {"loss_d", "loss_g", "d_real", "d_fake"}
    assert set(events.Tags()["scalars"]) == {f"train/{k}" for k in family_metrics} | {"speed/images_per_s"}
    records = [r for r in run.read_metrics() if "loss_d" in r]
    assert [r["step"] for r in records] == list(range(1, 41))
    for tag in events.Tags()["scalars"]:
        assert scalar_steps(events, tag) == report_steps(run)
    assert [s.value for s in events.Scalars("train/loss_g")] == pytest.approx([r["loss_g"] for r in records])
    assert [image.step for image in events.Images("samples")] == [20, 40]
    assert events.Images("samples")[0].width == 8 * 30 + 2  # the saved grid: 64 tiles of 28 px, padding 2

    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    hparams = HParamsPluginData.FromString(content).session_start_info.hparams
    assert hparams["model.family"].string_value == "gan"
    assert hparams["train.lr_g"].number_value == pytest.approx(2e-4)
    assert hparams["train.max_steps"].number_value == 40 and "data.root" not in hparams  # None: left out


def test_a_rollback_appends_and_drops_the_abandoned_branch(tmp_path, small_config):
    """Resumed from step 20 of 40 and trained to 30: TensorBoard shows steps 1..30 once each (purge_step 21
    drops what the first session logged after step 20), as metrics.jsonl's history does."""
    first = Trainer(small_config("gan", steps=40, sample_every=20, checkpoint_every=20), out=tmp_path,
                    report_interval_s=0)
    first.run()
    run = first.run_folder
    (step_20, checkpoint), _ = run.list_checkpoints()
    assert step_20 == 20
    Trainer.resume(run.path, checkpoint, train_overrides={"max_steps": 30}, report_interval_s=0).run()

    events = read_events(run.path)
    assert len(list((run.path / "tb").glob("events.out.tfevents.*"))) == 2  # one per session, same folder
    assert scalar_steps(events, "train/loss_d") == report_steps(run) == list(range(1, 31))
    assert [image.step for image in events.Images("samples")] == [20, 30]


@pytest.mark.parametrize("installed", [True, False])
def test_no_tb_folder_when_switched_off_or_not_installed(tmp_path, small_config, monkeypatch, installed):
    monkeypatch.setattr(tensorboard_log, "tensorboard_available", lambda: installed)
    trainer = Trainer(small_config("gan", steps=2, tensorboard=not installed), out=tmp_path)
    assert trainer.run().reason == "finished"
    assert not (trainer.run_folder.path / "tb").exists()


def test_quality_values_are_scalars(tmp_path):
    run = RunFolder.create(tmp_path, RunConfig())
    log = TensorBoardLog()
    log.on_start(RunStarted(run.path, "CPU", 0, 2000, 100, ()))
    log.on_quality(QualityReport(1000, {"fid_domain": 12.5, "kid_domain": 0.01}, "domain", 1.0))
    log.on_quality(QualityReport(2000, {"fid_domain": 9.5, "kid_domain": 0.005}, "domain", 1.0))
    log.on_end(RunEnded(2000, "finished"))
    events = read_events(run.path)
    assert [(s.step, s.value) for s in events.Scalars("quality/fid_domain")] == [(1000, 12.5), (2000, 9.5)]
    assert scalar_steps(events, "quality/kid_domain") == [1000, 2000]


def test_a_failure_to_write_is_one_warning_and_training_goes_on(tmp_path):
    warnings = []
    run = RunFolder.create(tmp_path, RunConfig())
    (run.path / "tb").write_text("a file where the folder should be")
    log = TensorBoardLog(warn=warnings.append)
    log.on_start(RunStarted(run.path, "CPU", 0, 10, 10, ()))
    log.on_step(StepReport(1, 0.1, 10, {"loss_d": 1.0}, 100.0, 0.1, 1.0))
    log.on_end(RunEnded(1, "finished"))
    assert [(w.kind, w.step) for w in warnings] == [("tensorboard", 0)]
    assert "TensorBoard logs could not be written" in warnings[0].message

    (run.path / "tb").unlink()
    log = TensorBoardLog(warn=warnings.append)
    log.on_start(RunStarted(run.path, "CPU", 0, 10, 10, ()))

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    log.writer.add_scalar = disk_full
    for step in (1, 2):
        log.on_step(StepReport(step, 0.1, 10, {"loss_d": 1.0}, 100.0, 0.1, 1.0))
    log.on_end(RunEnded(2, "finished"))
    assert [(w.kind, w.step) for w in warnings[1:]] == [("tensorboard", 1)] and "No space left" in warnings[1].message


def test_configs_from_before_the_option_load_with_it_on():
    old = RunConfig().to_dict()
    del old["train"]["tensorboard"]
    assert RunConfig.from_dict(old).train.tensorboard is True


def test_cli_flag(tmp_path, monkeypatch, capsys):
    """--no-tensorboard writes no tb/ folder (and says so in config.json); a resume with --tensorboard starts
    one; --tensorboard without the extra is a one-line error naming the pip command."""
    args = ["train", "--family", "gan", "--num-images", "600", "--batch-size", "30", "--max-steps", "2",
            "--eval-every", "0", "--device", "cpu", "--out", str(tmp_path)]
    assert main([*args, "--no-tensorboard"]) == 0
    (run,) = tmp_path.iterdir()
    assert not (run / "tb").exists() and RunFolder(run).read_config().train.tensorboard is False
    assert main(["train", "--resume", str(run), "--max-steps", "4", "--tensorboard"]) == 0
    assert RunFolder(run).read_config().train.tensorboard is True
    assert scalar_steps(read_events(run), "train/loss_d")[-1] == 4

    monkeypatch.setattr(tensorboard_log, "tensorboard_available", lambda: False)
    capsys.readouterr()
    assert main([*args, "--tensorboard"]) == 2
    assert 'pip install "ganstudio[tensorboard]"' in capsys.readouterr().err
    assert len(list(tmp_path.iterdir())) == 1  # no run started
