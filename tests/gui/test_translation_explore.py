"""The families that translate into a domain, in the app: CycleGAN's direction buttons and cycle strip,
StarGAN's attribute sliders (extrapolation, the classifier's readout, the strip), the setup form's domains
and attributes file, and the sample grid's caption naming the domains."""

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.main_window import MainWindow
from ganstudio.gui.widgets.attribute_controls import AttributeControls
from ganstudio.gui.widgets.direction_controls import DirectionControls
from ganstudio.gui.widgets.explore_panel import ExplorePanel
from ganstudio.gui.widgets.sample_panel import SamplePanel
from ganstudio.gui.widgets.setup_form import SetupForm
from ganstudio.images import save_png, to_uint8
from ganstudio.models import family_class
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer
from ganstudio.training.runs import RunFolder

pytestmark = pytest.mark.gui
WAIT_MS = 10_000


def train(tmp_path_factory, family: str):
    from conftest import make_small_config

    # One thread: ten steps need no more, and a busy machine makes a team of OpenMP threads spin.
    trainer = Trainer(make_small_config(family, steps=10, threads=1), out=tmp_path_factory.mktemp(f"{family}-runs"))
    trainer.run()
    return trainer.run_folder.path


@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory):
    return train(tmp_path_factory, "cyclegan")


@pytest.fixture(scope="module")
def stargan_run(tmp_path_factory):
    return train(tmp_path_factory, "stargan")


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return shown


@pytest.fixture
def explore(qtbot, errors):
    """An Explore tab; ``explore(run)`` shows that run's checkpoint and waits for its first output."""
    tasks = BackgroundTasks()
    panel = ExplorePanel(tasks)
    qtbot.addWidget(panel)
    panel.resize(1300, 850)
    panel.show()
    messages = []
    panel.message.connect(messages.append)

    def show(run):
        panel.set_snapshot(GeneratorSnapshot.from_checkpoint(run))
        qtbot.waitUntil(lambda: panel.sketch.output is not None, timeout=WAIT_MS)
        return panel

    yield show
    panel.shutdown()
    tasks.shutdown()
    assert messages == []


def held_out(snapshot: GeneratorSnapshot, index: int) -> np.ndarray:
    """Held-out input ``index`` as the pad hands it out: (1, H, W, C) uint8."""
    return to_uint8(snapshot.fixed["source"][index:index + 1])


def click_held_out(qtbot, sketch, index: int) -> None:
    qtbot.mouseClick(sketch.held_out, Qt.MouseButton.LeftButton, pos=sketch.held_out.cell_rect(index).center())


def wait_for_output(qtbot, sketch, expected: np.ndarray) -> None:
    qtbot.waitUntil(lambda: np.array_equal(sketch.output, expected), timeout=WAIT_MS)


# -- CycleGAN ----------------------------------------------------------------------------------------

def test_direction_buttons_translate_each_way_and_the_cycle_shows_three_images(qtbot, explore, cyclegan_run):
    panel = explore(cyclegan_run)
    sketch = panel.sketch
    control = sketch.control
    assert isinstance(control, DirectionControls) and control.isVisible()
    assert not sketch.resample.isVisible()  # no dropout noise to resample
    assert (control.to_b.text(), control.to_a.text()) == ("serious → smiling", "smiling → serious")
    assert "serious (A)" in sketch.held_out_title.text() and "smiling (B)" in sketch.held_out_title.text()

    reference = GeneratorSnapshot.from_checkpoint(cyclegan_run)  # its own copy: the panel's renders in a thread
    source = held_out(reference, 0)  # the first held-out input, a serious face: into smiling
    into_b, into_a = reference.translate(source, target=1.0), reference.translate(source, target=0.0)
    assert not np.array_equal(into_b, into_a)
    assert control.to_b.isChecked()
    wait_for_output(qtbot, sketch, into_b[0])
    assert sketch.output_title.text().endswith("as smiling")

    qtbot.waitUntil(lambda: control.cycle.shown() == 3, timeout=WAIT_MS)
    back = reference.translate(into_b, target=0.0)
    cycle = [view.image() for view in control.cycle.views]
    assert [image.size().width() for image in cycle] == [32, 32, 32]
    assert [label.text() for label in control.cycle.captions] == ["input", "→ smiling", "back → serious"]
    shown_back = np.frombuffer(cycle[2].constBits(), np.uint8).reshape(32, cycle[2].bytesPerLine())[:, :32]
    assert np.array_equal(shown_back, back[0, :, :, 0])  # grey faces

    qtbot.mouseClick(control.to_a, Qt.MouseButton.LeftButton)
    assert control.to_a.isChecked() and not control.to_b.isChecked()
    wait_for_output(qtbot, sketch, into_a[0])
    assert sketch.output_title.text().endswith("as serious")
    qtbot.waitUntil(lambda: control.cycle.captions[1].text() == "→ serious", timeout=WAIT_MS)
    assert control.cycle.shown() == 3 and control.cycle.captions[2].text() == "back → smiling"


def test_picking_a_held_out_b_input_translates_it_into_a(qtbot, explore, cyclegan_run):
    panel = explore(cyclegan_run)
    sketch, control = panel.sketch, panel.sketch.control
    reference = GeneratorSnapshot.from_checkpoint(cyclegan_run)
    targets = reference.fixed["target"][:, 0]
    b = int(np.flatnonzero(targets.numpy() == 0)[0])  # the first smiling face (translated into A)
    click_held_out(qtbot, sketch, b)
    assert control.to_a.isChecked()  # smiling → serious
    wait_for_output(qtbot, sketch, reference.translate(held_out(reference, b), target=0.0)[0])

    click_held_out(qtbot, sketch, 0)  # a serious face: back to serious → smiling
    assert control.to_b.isChecked()
    wait_for_output(qtbot, sketch, reference.translate(held_out(reference, 0), target=1.0)[0])


def test_a_face_drawn_by_the_factors_goes_into_the_other_domain(qtbot, explore, cyclegan_run):
    panel = explore(cyclegan_run)
    sketch, control = panel.sketch, panel.sketch.control
    assert sketch.has_factors and sketch.face.isVisibleTo(sketch)
    sketch.face.sliders["smile"].setValue(100)  # a broad smile: into serious
    assert control.to_a.isChecked()
    sketch.face.sliders["smile"].setValue(0)  # a frown: into smiling
    assert control.to_b.isChecked()


def test_discogan_gets_the_same_direction_buttons(qtbot, explore, tmp_path_factory):
    run = train(tmp_path_factory, "discogan")
    panel = explore(run)
    sketch, control = panel.sketch, panel.sketch.control
    assert isinstance(control, DirectionControls) and control.to_b.text() == "serious → smiling"
    reference = GeneratorSnapshot.from_checkpoint(run)
    source = held_out(reference, 0)
    qtbot.mouseClick(control.to_a, Qt.MouseButton.LeftButton)
    wait_for_output(qtbot, sketch, reference.translate(source, target=0.0)[0])
    qtbot.mouseClick(control.to_b, Qt.MouseButton.LeftButton)
    wait_for_output(qtbot, sketch, reference.translate(source, target=1.0)[0])
    qtbot.waitUntil(lambda: control.cycle.shown() == 3, timeout=WAIT_MS)


# -- StarGAN -----------------------------------------------------------------------------------------

def test_attribute_sliders_start_at_the_input_and_move_the_output(qtbot, explore, stargan_run):
    panel = explore(stargan_run)
    sketch = panel.sketch
    control = sketch.control
    assert isinstance(control, AttributeControls) and control.isVisible()
    names = ("hair_light", "smiling", "looking_right", "lit_from_right", "long_hair")
    assert control.names == names and len(control.sliders) == len(control.readout) == 5
    reference = GeneratorSnapshot.from_checkpoint(stargan_run)
    attributes = reference.fixed["attributes"].numpy()
    assert np.array_equal(control.target(), attributes[0])  # the first held-out input's own attributes
    click_held_out(qtbot, sketch, 1)
    assert np.array_equal(control.target(), attributes[1])
    wait_for_output(qtbot, sketch, reference.translate(held_out(reference, 1), target=attributes[1])[0])

    # Moving "smiling" renders again, into the code the sliders show.
    smiling = control.sliders[1]
    wanted = attributes[1].copy()
    wanted[1] = 1 - wanted[1]
    with qtbot.waitSignal(sketch.output_shown, timeout=WAIT_MS):
        smiling.set_number(wanted[1])
    assert np.array_equal(control.target(), wanted)
    wait_for_output(qtbot, sketch, reference.translate(held_out(reference, 1), target=wanted)[0])
    assert control.strip_attribute.currentText() == "smiling"  # the strip follows the slider last moved
    qtbot.waitUntil(lambda: control.strip.image() is not None, timeout=WAIT_MS)
    assert control.strip.image().width() == 7 * 33 + 1  # seven outputs, smiling from 0 to 1

    qtbot.mouseClick(control.reset, Qt.MouseButton.LeftButton)
    assert np.array_equal(control.target(), attributes[1])


def test_the_classifier_readout_follows_the_output(qtbot, explore, stargan_run):
    panel = explore(stargan_run)
    sketch, control = panel.sketch, panel.sketch.control
    reference = GeneratorSnapshot.from_checkpoint(stargan_run)
    attributes = reference.fixed["attributes"].numpy()

    def expected(index: int) -> np.ndarray:
        return reference.read_attributes(reference.translate(held_out(reference, index), target=attributes[index]))[0]

    qtbot.waitUntil(lambda: control.reading is not None and np.allclose(control.reading, expected(0), atol=1e-6),
                    timeout=WAIT_MS)
    first = control.reading.copy()
    assert first.shape == (5,) and ((0 <= first) & (first <= 1)).all()
    assert [bar.value() for bar in control.readout] == [round(100 * p) for p in first]
    assert [label.text() for label in control.readout_labels] == [f"{100 * p:.0f}%" for p in first]
    click_held_out(qtbot, sketch, 2)  # another output
    second = expected(2)
    assert not np.array_equal(second, first)
    qtbot.waitUntil(lambda: np.allclose(control.reading, second, atol=1e-6), timeout=WAIT_MS)


def test_a_slider_outside_the_trained_range_shows_the_extrapolation_note(qtbot, explore, stargan_run):
    panel = explore(stargan_run)
    control = panel.sketch.control
    smiling = control.sliders[1]
    assert (smiling.minimum(), smiling.maximum()) == (-100, 200)  # −1 … 2
    smiling.set_number(0.5)
    assert not control.note.isVisible() and control.extrapolating() == []
    smiling.set_number(1.6)
    assert control.note.isVisible() and "smiling" in control.note.text() and control.extrapolating() == ["smiling"]
    assert "extrapolating" in panel.sketch.output_title.text()
    control.sliders[0].set_number(-0.4)
    assert control.extrapolating() == ["hair_light", "smiling"]
    smiling.set_number(1.0)
    control.sliders[0].set_number(0.0)
    assert not control.note.isVisible()


def test_a_loaded_image_starts_the_sliders_at_what_the_classifier_reads(qtbot, explore, stargan_run, tmp_path):
    panel = explore(stargan_run)
    reference = GeneratorSnapshot.from_checkpoint(stargan_run)
    image = held_out(reference, 3)[0]
    save_png(image, tmp_path / "face.png")
    panel.sketch.load_file(tmp_path / "face.png")
    read = reference.read_attributes(image[None])[0]
    qtbot.waitUntil(lambda: np.allclose(panel.sketch.control.target(), np.round(read, 2)), timeout=WAIT_MS)


def test_switching_from_cyclegan_to_stargan_swaps_the_controls(qtbot, explore, cyclegan_run, stargan_run):
    panel = explore(cyclegan_run)
    sketch = panel.sketch
    direction, attributes = sketch.controls
    assert direction.isVisible() and not attributes.isVisible()
    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(stargan_run))
    assert attributes.isVisible() and not direction.isVisible() and sketch.control is attributes
    before = sketch.output.copy()
    qtbot.mouseClick(sketch.clear, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not np.array_equal(sketch.output, before), timeout=WAIT_MS)


def test_pix2pix_between_them_takes_no_target_and_keeps_its_noise(qtbot, explore, tmp_path_factory, cyclegan_run):
    panel = explore(train(tmp_path_factory, "pix2pix"))
    sketch = panel.sketch
    pix2pix = panel.snapshot
    assert sketch.control is None and not any(c.isVisible() for c in sketch.controls)
    assert sketch.resample.isVisible() and sketch.output_title.text() == "<b>Output</b>"
    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(cyclegan_run))
    assert isinstance(sketch.control, DirectionControls) and not sketch.resample.isVisible()
    qtbot.waitUntil(lambda: sketch.control.cycle.shown() == 3, timeout=WAIT_MS)
    panel.set_snapshot(pix2pix)
    assert sketch.control is None and sketch.resample.isVisible()
    before = sketch.output.copy()
    qtbot.mouseClick(sketch.resample, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not np.array_equal(sketch.output, before), timeout=WAIT_MS)


# -- setup form and sample grid -----------------------------------------------------------------------

def choose(box, data) -> None:
    index = box.findData(data)
    box.setCurrentIndex(index)
    box.activated.emit(index)


def test_setup_form_offers_domains_and_an_attributes_file_where_they_apply(qtbot):
    form = SetupForm()
    qtbot.addWidget(form)
    form.show()
    assert not form.domains.isVisibleTo(form) and not form.attributes_file.isVisibleTo(form)
    choose(form.family, "cyclegan")
    assert form.domains.isVisibleTo(form) and form.domains.currentText() == "serious | smiling"
    assert form.config().data.domains == "smile" and form.config().data.pair_from is None
    choose(form.domains, "hair_color")
    config = form.config()
    assert config.data.domains == "hair_color" and config.model.family == "cyclegan"
    restored = SetupForm()
    qtbot.addWidget(restored)
    restored.set_config(config)
    assert restored.config() == config

    form.dataset.setCurrentIndex(form.dataset.findData("unpaired"))  # two folders: no factor to split by
    assert not form.domains.isVisibleTo(form) and form.config().data.domains is None
    assert "A/ and B/" in form.root.placeholderText() and form.root.isEnabled()

    choose(form.family, "pix2pix")  # pix2pix on unpaired folders: no transform the config would reject
    assert not form.pair_from.isVisibleTo(form) and form.config().data.pair_from is None

    choose(form.family, "stargan")
    form.dataset.setCurrentIndex(form.dataset.findData("folder"))
    assert form.attributes_file.isVisibleTo(form) and form.labels.isEnabled()
    form.attributes_file.setText("/data/list_attr_celeba.txt")
    assert form.config().data.attributes_file == "/data/list_attr_celeba.txt"
    form.dataset.setCurrentIndex(form.dataset.findData("faces"))  # the faces bring their own attributes
    assert not form.attributes_file.isVisibleTo(form) and form.config().data.attributes_file is None


def test_the_sample_grid_caption_names_the_domains(qtbot, cyclegan_run, stargan_run):
    panel = SamplePanel()
    qtbot.addWidget(panel)
    cyclegan = RunFolder.open(cyclegan_run).read_config()
    panel.show_family(family_class("cyclegan"), cyclegan)
    title = panel.title.text()
    assert "A | G(A) | F(G(A)) with A = serious" in title and "B | F(B) | G(F(B)) with B = smiling" in title
    stargan = RunFolder.open(stargan_run).read_config()
    panel.show_family(family_class("stargan"), stargan)
    assert "each attribute flipped: hair light, smiling, looking right, lit from right, long hair" in panel.title.text()
    panel.show_family(family_class("cyclegan"), cyclegan.replace(data={"domains": "yaw"}, model={"domain_names": ()}))
    assert "A = looking left" in panel.title.text()  # before the run names them: from the faces' split


def test_opening_a_cyclegan_run_and_exploring_it_live(qtbot, tmp_path, cyclegan_run, errors, monkeypatch):
    """A run opened from its folder: the grid's caption and the explorer on its checkpoint; then a new run
    trained in the window, explored live: the direction buttons work on the live snapshot."""
    from conftest import make_small_config

    window = MainWindow(runs_dir=tmp_path / "runs", settings=QSettings(str(tmp_path / "s.ini"),
                                                                        QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.open_run(cyclegan_run)
        assert "A = serious" in window.samples.title.text()
        window.tabs.setCurrentWidget(window.explore)
        sketch = window.explore.sketch
        qtbot.waitUntil(lambda: sketch.output is not None, timeout=WAIT_MS)
        assert isinstance(sketch.control, DirectionControls)

        config = make_small_config("cyclegan", threads=1).replace(train={"max_steps": None, "epochs": 1000})
        window.setup.set_config(config)
        assert window.setup.config().data.domains == "smile"
        monkeypatch.setattr(window.setup, "config", lambda: config)  # 600 faces (the form has no count)
        window.start_action.trigger()
        qtbot.waitUntil(lambda: window.plots.point_count() > 2, timeout=60_000)
        assert window.explore.snapshot_button.isEnabled()
        qtbot.mouseClick(window.explore.snapshot_button, Qt.MouseButton.LeftButton)  # a live snapshot
        qtbot.waitUntil(lambda: window.explore.snapshot.source.startswith("live training"), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: sketch.output is not None and sketch.control.cycle.shown() == 3, timeout=WAIT_MS)
        before = sketch.output.copy()
        into_a = not sketch.control.to_a.isChecked()
        qtbot.mouseClick(sketch.control.to_a if into_a else sketch.control.to_b, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not np.array_equal(sketch.output, before), timeout=WAIT_MS)
        assert window.controller.running and errors == []
    finally:
        window.controller.shutdown()
        window.explore.shutdown()
        window.tasks.shutdown()
