"""Image-to-image models in the app: the setup form's paired input, and the Explore tab's sketch pad whose
output follows the pen, on a checkpoint and on the live snapshot while training runs."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.main_window import MainWindow
from ganstudio.gui.widgets.explore_panel import ExplorePanel
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def run_path(tmp_path_factory):
    from conftest import make_small_config

    trainer = Trainer(make_small_config("pix2pix", steps=60), out=tmp_path_factory.mktemp("runs"))
    trainer.run()
    return trainer.run_folder.path


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text))
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
    qtbot.waitUntil(lambda: panel.sketch.output is not None, timeout=10_000)
    yield panel
    panel.shutdown()
    tasks.shutdown()


def wait_for_new_output(qtbot, sketch, before):
    qtbot.waitUntil(lambda: not np.array_equal(sketch.output, before), timeout=5000)


def test_a_drawn_stroke_changes_the_output(qtbot, panel, tmp_path, run_path):
    sketch = panel.sketch
    assert panel.body.currentWidget() is sketch and sketch.isVisible() and not panel.sliders.isVisible()
    snapshot = GeneratorSnapshot.from_checkpoint(run_path)  # its own copy: the panel's renders in its thread
    held_out = snapshot.fixed["source"]
    assert np.array_equal(sketch.output, snapshot.translate(((held_out[:1] + 1) * 127.5).round().byte()
                                                            .permute(0, 2, 3, 1).numpy())[0])  # starts from the first

    qtbot.mouseClick(sketch.clear, Qt.MouseButton.LeftButton)
    blank = sketch.pad.array()
    assert blank.min() == 255
    wait_for_new_output(qtbot, sketch, None)
    before = sketch.output.copy()
    pad = sketch.pad
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(pad.width() // 3, pad.height() // 3))
    for i in range(1, 6):
        qtbot.mouseMove(pad, QPoint(pad.width() // 3 + 20 * i, pad.height() // 3 + 15 * i))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(pad.width() // 3 + 100, pad.height() // 3 + 75))
    drawn = pad.array()
    assert drawn.min() < 100 and (drawn < 200).sum() > 5  # a dark line at the model's resolution
    wait_for_new_output(qtbot, sketch, before)

    before = sketch.output.copy()
    qtbot.mouseClick(sketch.resample, Qt.MouseButton.LeftButton)  # pix2pix's dropout noise, redrawn
    wait_for_new_output(qtbot, sketch, before)

    out, source = sketch.export_to(tmp_path / "mine.png")
    assert out.is_file() and source.name == "mine-input.png" and source.is_file()


def test_faces_factors_draw_a_fresh_input(qtbot, panel):
    sketch = panel.sketch
    assert sketch.factors.isVisible() and sketch.has_factors
    before_input, before = sketch.pad.array(), sketch.output.copy()
    sketch.sliders["yaw"].setValue(0)  # the head turned to the image's left
    assert not np.array_equal(sketch.pad.array(), before_input)
    wait_for_new_output(qtbot, sketch, before)
    left = sketch.pad.array()
    sketch.sliders["yaw"].setValue(100)
    right = sketch.pad.array()
    assert not np.array_equal(left, right)


def test_a_strip_along_a_factor_and_its_gif(qtbot, panel, tmp_path):
    sketch = panel.sketch
    qtbot.waitUntil(lambda: sketch.strip.image() is not None, timeout=5000)
    assert sketch.strip.image().width() == 7 * 33 + 1  # seven outputs, yaw from one end to the other
    sketch.export_gif_to(tmp_path / "yaw.gif")
    qtbot.waitUntil(lambda: (tmp_path / "yaw.gif").is_file(), timeout=5000)
    from PIL import Image
    with Image.open(tmp_path / "yaw.gif") as gif:
        assert gif.n_frames == 24


def test_switching_between_a_z_model_and_a_translation_model(qtbot, panel, tmp_path_factory, run_path):
    """From pix2pix to a DCGAN and back: each renders its own kind of input, nothing crosses over."""
    from conftest import make_small_config

    messages = []
    panel.message.connect(messages.append)
    dcgan = Trainer(make_small_config("dcgan", steps=5), out=tmp_path_factory.mktemp("z-runs"))
    dcgan.run()
    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(dcgan.run_folder.path))
    assert panel.body.currentWidget() is panel.latent_body
    qtbot.waitUntil(lambda: panel.current_image is not None, timeout=10_000)
    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(run_path))
    assert panel.body.currentWidget() is panel.sketch
    before = panel.sketch.output.copy()
    qtbot.mouseClick(panel.sketch.clear, Qt.MouseButton.LeftButton)
    wait_for_new_output(qtbot, panel.sketch, before)
    assert messages == []


def test_a_file_that_is_not_an_image_is_named(qtbot, panel, tmp_path):
    messages = []
    panel.message.connect(messages.append)
    (tmp_path / "broken.png").write_bytes(b"nope")
    before = panel.sketch.pad.array()
    panel.sketch.load_file(tmp_path / "broken.png")
    assert messages and "broken.png" in messages[0]
    assert np.array_equal(panel.sketch.pad.array(), before)  # the drawing is kept


def test_sketching_on_the_live_generator_while_training_runs(qtbot, tmp_path, errors):
    from conftest import make_small_config

    window = MainWindow(runs_dir=tmp_path / "runs", settings=QSettings(str(tmp_path / "s.ini"),
                                                                        QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        config = make_small_config("pix2pix", steps=100_000).replace(train={"max_steps": None, "epochs": 1000})
        window.setup.set_config(config)
        assert window.setup.config().data.pair_from == "edges"
        assert not window.setup.latent_dim.isVisibleTo(window.setup)  # pix2pix has no z
        window.start_action.trigger()
        qtbot.waitUntil(lambda: window.plots.point_count() > 2, timeout=60_000)
        window.tabs.setCurrentWidget(window.explore)  # a live snapshot
        sketch = window.explore.sketch
        qtbot.waitUntil(lambda: sketch.output is not None, timeout=10_000)
        assert window.explore.snapshot.source.startswith("live training")
        before = sketch.output.copy()
        qtbot.mouseClick(sketch.clear, Qt.MouseButton.LeftButton)
        wait_for_new_output(qtbot, sketch, before)
        assert window.controller.running
        assert errors == []
    finally:
        window.controller.shutdown()
        window.explore.shutdown()
        window.tasks.shutdown()


def test_setup_form_offers_paired_inputs_only_where_needed(qtbot):
    from ganstudio.gui.widgets.setup_form import SetupForm

    form = SetupForm()
    qtbot.addWidget(form)
    form.show()
    assert not form.pair_from.isVisibleTo(form) and form.latent_dim.isVisibleTo(form)
    assert [form.image_size.itemData(i) for i in range(form.image_size.count())] == [28, 32, 64]
    form.family.setCurrentIndex(form.family.findData("pix2pix"))
    form.family.activated.emit(form.family.currentIndex())
    assert form.pair_from.isVisibleTo(form) and not form.latent_dim.isVisibleTo(form)
    assert [form.image_size.itemData(i) for i in range(form.image_size.count())] == [32, 64, 128, 256]
    assert form.width.value() == 0 and form.width.text() == "default"  # pix2pix's own: 16 at 32 px
    config = form.config()
    assert config.data.pair_from == "edges" and config.data.image_size == 32 and config.model.family == "pix2pix"
    form.dataset.setCurrentIndex(form.dataset.findData("pairs"))  # a paired folder brings its own inputs
    assert not form.pair_from.isVisibleTo(form)
    assert form.config().data.pair_from is None
