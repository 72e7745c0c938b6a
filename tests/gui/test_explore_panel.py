"""The latent explorer, driven by clicks and slider moves, offscreen."""

import json
import threading

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.main_window import MainWindow
from ganstudio.gui.widgets.explore_panel import ExplorePanel
from ganstudio.latent.directions import Direction, save_directions
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def run_path(tmp_path_factory):
    from conftest import make_small_config

    trainer = Trainer(make_small_config(steps=60, checkpoint_every=30), out=tmp_path_factory.mktemp("runs"))
    trainer.run()
    return trainer.run_folder.path


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text))
    # pytest-qt closes windows before fixtures end: closing during training is answered "yes, stop".
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return shown


@pytest.fixture
def panel(qtbot, run_path, errors):
    tasks = BackgroundTasks()
    panel = ExplorePanel(tasks)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(run_path))
    qtbot.waitUntil(lambda: panel.current_image is not None, timeout=10_000)
    yield panel
    panel.shutdown()
    tasks.shutdown()


def shown(panel) -> np.ndarray:
    return panel.current_image.copy()


def wait_for_new_image(qtbot, panel, before):
    qtbot.waitUntil(lambda: not np.array_equal(panel.current_image, before), timeout=5000)


def test_moving_a_z_slider_changes_the_image(qtbot, panel):
    assert len(panel.sliders.sliders) == 100
    before = shown(panel)
    panel.sliders.sliders[3].setValue(290)  # as a drag does
    wait_for_new_image(qtbot, panel, before)
    assert panel.state.base[3] == pytest.approx(2.9)
    assert panel.current_image.shape == (28, 28, 1)


def test_clicking_a_candidate_explores_it(qtbot, panel):
    qtbot.waitUntil(lambda: len(panel.candidates._images) == 16, timeout=5000)
    before = shown(panel)
    cell = panel.candidates.cell_rect(5).center()
    from PySide6.QtCore import Qt

    qtbot.mouseClick(panel.candidates, Qt.MouseButton.LeftButton, pos=cell)
    np.testing.assert_array_equal(panel.state.base, panel.candidate_codes[5])
    wait_for_new_image(qtbot, panel, before)


def test_direction_slider_moves_along_its_strip(qtbot, panel):
    qtbot.mouseClick(panel.directions.find, __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.directions.list.rows) == 8, timeout=10_000)
    qtbot.waitUntil(lambda: 0 in panel.strips, timeout=5000)
    strip = panel.strips[0]
    assert strip.shape[0] == 7
    panel.directions.list.rows[0].slider.setValue(300)  # strength +3 = the strip's last frame
    qtbot.waitUntil(lambda: np.array_equal(panel.current_image, strip[-1]), timeout=5000)
    panel.directions.list.rows[0].slider.setValue(-300)
    qtbot.waitUntil(lambda: np.array_equal(panel.current_image, strip[0]), timeout=5000)
    assert panel.directions.list.rows[0].value.text() == "-3.00"


def test_a_second_find_replaces_its_methods_directions_and_shows_them(qtbot, panel, monkeypatch):
    from PySide6.QtCore import Qt

    from ganstudio.gui.widgets import directions_tab

    gate = threading.Event()  # holds each find until the busy state is checked
    real = directions_tab.discover_directions
    monkeypatch.setattr(directions_tab, "discover_directions", lambda *a, **k: (gate.wait(10), real(*a, **k))[1])
    panel.state.add_directions([Direction("A → B", "marked", np.eye(100, dtype=np.float32)[0])])
    panel.state.set_strength(0, 1.0)
    panel.directions.method.setCurrentIndex(panel.directions.method.findData("sefa"))

    def rows():
        return panel.directions.list.rows

    def find() -> None:
        gate.clear()
        qtbot.mouseClick(panel.directions.find, Qt.MouseButton.LeftButton)
        assert (panel.directions.find.isEnabled(), panel.directions.find.text()) == (False, "Finding…")
        assert panel.directions.find_status.text() == "Finding SeFa directions…"
        panel.set_snapshot(panel.snapshot)  # "follow training" brings a snapshot: Find stays busy
        assert not panel.directions.find.isEnabled()
        gate.set()
        qtbot.waitUntil(panel.directions.find.isEnabled, timeout=10_000)
        assert panel.directions.find.text() == "Find"

    find()
    assert [d.method for d in panel.state.directions] == ["marked"] + ["sefa"] * 8
    assert panel.directions.find_status.text() == "Found 8 SeFa directions, below the earlier 1."
    find()  # the same method again: its directions are replaced, the others keep their strengths
    assert [d.method for d in panel.state.directions] == ["marked"] + ["sefa"] * 8
    assert panel.state.strengths[0] == 1.0 and rows()[0].value.text() == "+1.00"
    assert panel.directions.find_status.text() == "Found 8 SeFa directions, in place of the previous 8."
    qtbot.mouseClick(panel.directions.keep_found, Qt.MouseButton.LeftButton)
    find()  # kept: the new ones come below, scrolled to the top of the list
    assert len(panel.state.directions) == 17
    assert panel.directions.find_status.text() == "Found 8 SeFa directions, below the earlier 9."
    assert panel.directions.list.verticalScrollBar().value() == rows()[9].y() > 0
    assert not rows()[9].visibleRegion().isEmpty() and rows()[0].visibleRegion().isEmpty()


def wheel(widget, notches: int) -> None:
    """The mouse wheel turned over the middle of ``widget`` (negative: towards the user, scrolling down),
    delivered as the window system does."""
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    window = widget.window()
    QTest.wheelEvent(window.windowHandle(), widget.mapTo(window, widget.rect().center()), QPoint(0, 120 * notches))


def test_the_wheel_scrolls_the_lists_and_moves_only_a_focused_slider(qtbot, panel):
    panel.tools.setCurrentIndex(1)  # z
    slider, bar = panel.sliders.sliders[2], panel.sliders.verticalScrollBar()
    before = slider.value()
    wheel(slider, -1)
    assert slider.value() == before and bar.value() > 0  # the list scrolled instead
    bar.setValue(0)
    panel.activateWindow()
    slider.setFocus()  # as a click or Tab does
    qtbot.waitUntil(slider.hasFocus)
    wheel(slider, -1)
    assert slider.value() < before and bar.value() == 0

    panel.tools.setCurrentIndex(0)  # directions
    panel.state.add_directions([Direction(f"d{i}", "pca", np.eye(100, dtype=np.float32)[i]) for i in range(12)])
    slider, bar = panel.directions.list.rows[1].slider, panel.directions.list.verticalScrollBar()
    wheel(slider, -1)
    assert slider.value() == 0 and panel.state.strengths[1] == 0.0 and bar.value() > 0


def test_marking_a_and_b_fits_a_direction(qtbot, panel):
    qtbot.waitUntil(lambda: len(panel.candidates._images) == 16, timeout=5000)
    from PySide6.QtCore import Qt

    for index, button in ((0, panel.mark_a), (1, panel.mark_a), (2, panel.mark_b), (3, panel.mark_b)):
        qtbot.mouseClick(panel.candidates, Qt.MouseButton.LeftButton, pos=panel.candidates.cell_rect(index).center())
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert panel.candidates.marks == {0: "A", 1: "A", 2: "B", 3: "B"}
    qtbot.mouseClick(panel.fit_marks, Qt.MouseButton.LeftButton)
    (direction,) = panel.state.directions
    assert direction.method == "marked"
    a, b = panel.candidate_codes[:2], panel.candidate_codes[2:4]
    assert (b @ direction.vector).mean() > (a @ direction.vector).mean()


def test_saved_direction_set_loads_again(qtbot, panel, tmp_path, monkeypatch, errors):
    vector = np.zeros(100, np.float32)
    vector[7] = 1
    panel.state.add_directions([Direction("turn", "supervised", vector, score=0.8, source="test")])
    target = tmp_path / "dirs.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    from PySide6.QtCore import Qt

    qtbot.mouseClick(panel.directions.save_button, Qt.MouseButton.LeftButton)
    assert json.loads(target.read_text())["directions"][0]["name"] == "turn"
    qtbot.mouseClick(panel.directions.clear_button, Qt.MouseButton.LeftButton)
    assert panel.state.directions == []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(panel.directions.load_button, Qt.MouseButton.LeftButton)
    assert [d.name for d in panel.state.directions] == ["turn"]
    assert panel.directions.list.rows[0].name.text() == "turn"
    save_directions([Direction("x", "sefa", np.ones(5, np.float32))], tmp_path / "small.json", 5)
    assert not panel.directions.load(tmp_path / "small.json")
    assert "latent size is 100" in errors[-1]


def test_copy_paste_and_interpolation(qtbot, panel, errors):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    qtbot.mouseClick(panel.copy, Qt.MouseButton.LeftButton)
    z = panel.state.current()
    qtbot.mouseClick(panel.randomize, Qt.MouseButton.LeftButton)
    assert not np.allclose(panel.state.base, z)
    qtbot.mouseClick(panel.paste, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(panel.state.base, z, atol=1e-4)
    QGuiApplication.clipboard().setText("1, 2, three")
    qtbot.mouseClick(panel.paste, Qt.MouseButton.LeftButton)
    assert "not a list of numbers" in errors[-1]

    pane = panel.interpolation
    qtbot.mouseClick(pane.set_a, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.randomize, Qt.MouseButton.LeftButton)
    b = panel.state.current()
    qtbot.mouseClick(pane.set_b, Qt.MouseButton.LeftButton)
    pane.scrub.setValue(100)
    np.testing.assert_allclose(panel.state.base, b, atol=1e-5)
    pane.scrub.setValue(0)
    np.testing.assert_allclose(panel.state.base, z, atol=1e-4)
    before = panel.state.base.copy()
    qtbot.mouseClick(pane.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not np.allclose(panel.state.base, before), timeout=3000)
    qtbot.mouseClick(pane.play, Qt.MouseButton.LeftButton)


@pytest.fixture
def window(qtbot, tmp_path, errors):
    w = MainWindow(runs_dir=tmp_path / "runs",
                   settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.controller.shutdown()  # before the window closes: it would ask whether to stop
    w.explore.shutdown()
    w.tasks.shutdown()


def test_exploring_while_training_runs(qtbot, window, errors):
    from conftest import make_small_config
    from PySide6.QtCore import Qt

    from ganstudio.training.device import DEFAULT_CPU_THREADS

    window.setup.set_config(make_small_config(steps=100_000).replace(train={"max_steps": None, "epochs": 1000}))
    window.start_action.trigger()
    qtbot.waitUntil(lambda: window.plots.point_count() > 2, timeout=60_000)
    window.tabs.setCurrentWidget(window.explore)  # opening the tab takes a live snapshot
    qtbot.waitUntil(lambda: window.explore.current_image is not None, timeout=10_000)
    first = window.explore.snapshot
    assert first.source.startswith("live training")
    before = window.explore.current_image.copy()
    window.explore.sliders.sliders[0].setValue(-250)
    qtbot.waitUntil(lambda: not np.array_equal(window.explore.current_image, before), timeout=5000)
    qtbot.mouseClick(window.explore.snapshot_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.explore.snapshot.step > first.step, timeout=10_000)
    assert window.controller.running  # training went on all the while
    qtbot.waitUntil(lambda: window.explore.emergence.point_count() >= 1, timeout=10_000)  # SeFa per grid
    # The render thread runs on one intra-op thread; training keeps all of its own.
    assert f"CPU ({DEFAULT_CPU_THREADS} thread" in window.device_label.text(), window.device_label.text()
    assert errors == []


def test_found_directions_keep_their_names_and_strengths_on_a_later_checkpoint(qtbot, panel, run_path):
    """SeFa directions found on one checkpoint are found again on the next and matched to the listed
    ones: a renamed direction keeps its name, place and strength, with the newer vector."""
    from PySide6.QtCore import Qt

    checkpoints = sorted((run_path / "checkpoints").glob("step_*.json"))
    assert len(checkpoints) >= 2
    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(checkpoints[0]))
    panel.directions.method.setCurrentIndex(panel.directions.method.findData("sefa"))
    panel.directions.k.setValue(4)
    qtbot.mouseClick(panel.directions.find, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.state.directions) == 4, timeout=10_000)
    row = panel.directions.list.rows[1]
    row.name.setText("mine")
    row.name.editingFinished.emit()
    panel.state.set_strength(1, 1.5)
    old = panel.state.directions[1].vector.copy()

    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(checkpoints[-1]))
    names = [d.name for d in panel.state.directions]
    assert "mine" in names and len(names) >= 4
    index = names.index("mine")
    followed = panel.state.directions[index]
    assert panel.state.strengths[index] == 1.5 and panel.directions.list.rows[index].name.text() == "mine"
    assert float(followed.vector @ old) > 0.5 and not np.allclose(followed.vector, old)
    assert panel.directions.trackers["sefa"].lives["mine"].steps == [int(checkpoints[0].stem[5:]),
                                                          int(checkpoints[-1].stem[5:])]


def test_directions_name_themselves_and_an_effect_can_be_removed(qtbot, panel):
    from PySide6.QtCore import Qt

    panel.directions.method.setCurrentIndex(panel.directions.method.findData("sefa"))
    panel.directions.k.setValue(3)
    qtbot.mouseClick(panel.directions.find, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.effects.table.rowCount() == 3, timeout=120_000)  # may train the attribute model
    table = panel.effects.table
    probes = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert {"brightness", "x", "size", "yaw", "smile"} <= set(probes)  # faces: its factors are probes too
    assert all(d.effect for d in panel.state.directions)
    assert panel.state.directions[0].effect in panel.directions.list.rows[0].info.text()

    table.setCurrentCell(0, probes.index("brightness"))
    qtbot.mouseClick(panel.effects.remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.state.directions) == 4, timeout=30_000)
    added = panel.state.directions[-1]
    assert added.name == f"{panel.state.directions[0].name} ⟂ brightness"
    qtbot.waitUntil(lambda: table.rowCount() == 4, timeout=30_000)
    measured = panel.effects.measured
    assert abs(measured[3].effect["brightness"]) < 0.5 * abs(measured[0].effect["brightness"]) + 0.05


def test_over_training_tells_each_directions_life(qtbot, panel):
    records = [{"step": 100, "sefa_share_1": 0.3, "sefa_share_2": 0.2},
               {"step": 200, "sefa_share_1": 0.32, "sefa_stability_1": 0.995, "sefa_share_3": 0.1,
                "sefa_split_3": 2.0}]
    panel.set_sefa_history(records[:1])
    panel.add_sefa(200, records[1])
    assert panel.lives.text().splitlines() == ["SeFa 1: from step 100, settled since 200",
                                               "SeFa 2: from step 100, faded after 100",
                                               "SeFa 3: from step 200 (split off SeFa 2), still turning"]
