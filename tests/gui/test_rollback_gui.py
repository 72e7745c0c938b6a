"""Run → Resume from best in the window, and closing a window whose run takes long to stop."""

import time
import types

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QMessageBox

import ganstudio.metrics.evaluator as evaluator
from ganstudio.config import RunConfig
from ganstudio.gui.main_window import MainWindow
from ganstudio.gui.widgets.rollback_dialog import RollbackDialog
from ganstudio.training.engine import Trainer

pytestmark = pytest.mark.gui


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    return shown


def make_window(qtbot, tmp_path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(runs_dir=tmp_path / "runs", settings=settings)
    qtbot.addWidget(w)
    w.show()
    return w


def test_resume_from_best_asks_what_to_change_and_marks_the_rollback(qtbot, tmp_path, errors, monkeypatch):
    stub = types.SimpleNamespace(name="stub", description="stub features")
    monkeypatch.setattr(evaluator, "feature_network", lambda kind, config, data, **kw: (stub, None))
    monkeypatch.setattr(evaluator, "evaluate", lambda snapshot, real, features, n, **kw: {
        "fid_stub": abs(snapshot.step - 40) + 1.0})
    config = RunConfig().replace(data={"num_images": 600}, model={"family": "gan"}, train={
        "max_steps": 100, "batch_size": 30, "sample_every": 10, "checkpoint_every": 20, "eval_every": 20,
        "eval_samples": 20, "device": "cpu"})
    trainer = Trainer(config, out=tmp_path / "cli-runs", report_interval_s=0)
    trainer.run()
    trainer.run_folder.write_config(config.replace(train={"max_steps": 60}))

    def accept_with_new_noise(dialog: RollbackDialog) -> int:
        assert dialog.lr_scale.value() == 0.5  # the default offered
        dialog.new_noise.setChecked(True)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(RollbackDialog, "exec", accept_with_new_noise)
    w = make_window(qtbot, tmp_path)
    assert w.open_run(trainer.run_folder.path)
    assert w.samples.timeline.steps[-1] == 100
    w.best_action.trigger()
    qtbot.waitUntil(lambda: not w.controller.running and w.samples.timeline.steps[-1] == 60, timeout=60_000)
    assert not errors
    assert w.samples.timeline.steps == [10, 20, 30, 40, 50, 60]  # the old branch's 50..100 are gone
    (step, label), = w.plots.event_marks
    assert step == 40 and "lr ×0.5" in label and "new noise" in label
    assert max(w.plots.metrics["loss_d"].raw.view()[0]) == 60

    assert w.open_run(trainer.run_folder.path)  # reopened: the same history and mark
    assert w.samples.timeline.steps == [10, 20, 30, 40, 50, 60] and len(w.plots.event_marks) == 1
    assert w.close()


def test_closing_waits_for_a_slow_stop_instead_of_aborting(qtbot, tmp_path, errors, monkeypatch, capfd, slow_quality):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    w = make_window(qtbot, tmp_path)
    w.setup.set_config(RunConfig().replace(model={"family": "gan"}, data={"num_images": 600}, train={
        "epochs": 1000, "batch_size": 30, "eval_every": 20, "eval_samples": 1000, "device": "cpu"}))
    w.start_action.trigger()
    assert slow_quality.started.wait(120)  # an evaluation is in flight
    real_shutdown = w.controller.shutdown
    w.controller.shutdown = lambda timeout_ms=0: real_shutdown(timeout_ms=0)  # as if the stop took longer
    start = time.perf_counter()
    assert not w.close()  # not yet: the thread still runs
    assert w.isVisible() and "Stopping training" in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)  # closed once the run had ended
    assert time.perf_counter() - start < 5
    assert not w.controller.running
    assert "Destroyed while thread" not in capfd.readouterr().err
