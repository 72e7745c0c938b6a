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
    assert sketch.face.isVisible() and sketch.has_factors
    before_input, before = sketch.pad.array(), sketch.output.copy()
    sketch.face.sliders["yaw"].setValue(0)  # the head turned to the image's left
    assert not np.array_equal(sketch.pad.array(), before_input)
    wait_for_new_output(qtbot, sketch, before)
    left = sketch.pad.array()
    sketch.face.sliders["yaw"].setValue(100)
    right = sketch.pad.array()
    assert not np.array_equal(left, right)


def test_a_strip_along_a_factor_and_its_gif(qtbot, panel, tmp_path):
    sketch = panel.sketch
    qtbot.waitUntil(lambda: sketch.face.strip.image() is not None, timeout=5000)
    assert sketch.face.strip.image().width() == 7 * 33 + 1  # seven outputs, yaw from one end to the other
    sketch.export_animation_to("strip", tmp_path / "yaw.gif")
    qtbot.waitUntil(lambda: (tmp_path / "yaw.gif").is_file(), timeout=5000)
    from PIL import Image
    with Image.open(tmp_path / "yaw.gif") as gif:
        assert gif.n_frames == 24


def test_interpolating_two_faces_drawn_by_the_sliders_goes_through_their_factors(qtbot, panel):
    """A = head turned left, B = turned right (both drawn by the sliders): halfway is the face looking
    ahead, drawn, not a double exposure of the two; the output follows the scrub."""
    sketch = panel.sketch
    sketch.tools.setCurrentWidget(sketch.interpolation)
    yaw = sketch.face.sliders["yaw"]
    yaw.setValue(0)
    qtbot.mouseClick(sketch.interpolation.set_a, Qt.MouseButton.LeftButton)
    yaw.setValue(100)
    qtbot.mouseClick(sketch.interpolation.set_b, Qt.MouseButton.LeftButton)
    yaw.setValue(50)
    ahead = sketch.pad.array().copy()
    assert sketch.interpolation.scrub.isEnabled()
    before = sketch.output.copy()
    sketch.interpolation.scrub.setValue(0)
    sketch.interpolation.scrub.setValue(50)
    assert np.array_equal(sketch.pad.array(), ahead)
    wait_for_new_output(qtbot, sketch, before)
    a, b = sketch.ends["a"][0], sketch.ends["b"][0]
    crossfade = np.rint((a.astype(float) + b) / 2)
    assert np.abs(ahead - crossfade).mean() > 5


def test_interpolating_two_held_out_inputs_crossfades_them_and_exports(qtbot, panel, tmp_path, monkeypatch):
    import ganstudio.gui.widgets.sketch_panel as sketch_module

    sketch = panel.sketch
    sketch._pick_held_out(0)
    qtbot.mouseClick(sketch.interpolation.set_a, Qt.MouseButton.LeftButton)
    sketch._pick_held_out(1)
    qtbot.mouseClick(sketch.interpolation.set_b, Qt.MouseButton.LeftButton)
    a, b = sketch.ends["a"][0].astype(float), sketch.ends["b"][0].astype(float)
    assert sketch.ends["a"][1] is None and not np.array_equal(a, b)
    sketch.interpolation.scrub.setValue(25)
    assert np.abs(sketch.pad.array() - (0.75 * a + 0.25 * b)).max() <= 0.5

    sketch.export_animation_to("interpolation", tmp_path / "ab.gif")
    qtbot.waitUntil(lambda: (tmp_path / "ab.gif").is_file(), timeout=5000)
    from PIL import Image
    with Image.open(tmp_path / "ab.gif") as gif:
        assert gif.n_frames == 24  # A to B and back
    written = []
    monkeypatch.setattr(sketch_module, "save_mp4", lambda frames, path, **kw: written.append((len(frames), path)))
    sketch.export_animation_to("interpolation", tmp_path / "ab.mp4")
    qtbot.waitUntil(lambda: bool(written), timeout=5000)
    assert written == [(24, tmp_path / "ab.mp4")]


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
    assert [form.image_size.itemData(i) for i in range(form.image_size.count())] == [16, 28, 32, 64, 128, 256]
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


def test_relit_faces_are_offered_for_faces_only(qtbot):
    from ganstudio.gui.widgets.setup_form import SetupForm

    form = SetupForm()
    qtbot.addWidget(form)
    form.show()
    form.family.setCurrentIndex(form.family.findData("pix2pix"))
    form.family.activated.emit(form.family.currentIndex())
    relight = form.pair_from.findData("relight")
    assert not form.pair_from.view().isRowHidden(relight)
    form.pair_from.setCurrentIndex(relight)
    assert form.config().data.pair_from == "relight"
    form.dataset.setCurrentIndex(form.dataset.findData("folder"))
    assert form.pair_from.view().isRowHidden(relight) and form.pair_from.currentData() == "edges"
