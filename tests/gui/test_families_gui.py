"""The app with the other families: the setup form offers their settings and defaults, and the
explorer offers a class for conditional models and encoding for the VAE."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.widgets.explore_panel import ExplorePanel
from ganstudio.gui.widgets.setup_form import SetupForm
from ganstudio.images import save_png
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

pytestmark = pytest.mark.gui


def choose_family(form: SetupForm, name: str) -> None:
    """What picking an entry of the family list does."""
    index = form.family.findData(name)
    form.family.setCurrentIndex(index)
    form.family.activated.emit(index)


def test_choosing_a_family_brings_its_defaults_and_settings(qtbot):
    form = SetupForm()
    qtbot.addWidget(form)
    form.show()
    assert form.config().model.family == "dcgan" and form.config().model.width == 32
    assert set(form.family_options.boxes) == {"instance_noise", "instance_noise_steps"}  # DCGAN: its instance noise

    choose_family(form, "wgan-gp")
    config = form.config()
    assert (config.train.lr_g, config.train.beta1, config.train.beta2, config.train.batch_size) == (1e-4, 0.0, 0.9, 64)
    assert form.family_options.isVisible() and set(form.family_options.boxes) == {"n_critic", "gp_weight"}
    form.family_options.boxes["n_critic"].setValue(3)
    assert form.config().model.options == {"n_critic": 3, "gp_weight": 10.0}

    choose_family(form, "began")
    form.family_options.boxes["gamma"].setValue(0.7)
    config = form.config()
    assert config.model.options["gamma"] == 0.7 and config.train.batch_size == 16

    form.eval_every.setValue(500)
    form.eval_features.setCurrentIndex(form.eval_features.findData("inception"))
    form.stop_no_improvement.setValue(4)
    config = form.config()
    assert (config.train.eval_every, config.train.eval_features, config.train.stop_after_no_improvement) == (
        500, "inception", 4)
    restored = SetupForm()
    qtbot.addWidget(restored)
    restored.set_config(config)
    assert restored.config() == config

    choose_family(form, "srgan")  # 0 for "choose for me" reads as such, as the width's does
    assert form.family_options.boxes["d_width"].text() == form.family_options.boxes["blocks"].text() == "default"
    form.family_options.boxes["d_width"].setValue(64)
    assert form.config().model.options["d_width"] == 64 and form.family_options.boxes["d_width"].text() == "64"

    choose_family(form, "segan")  # ~2 steps/s on a CPU: shows its clips and measures them sooner
    assert (form.config().train.sample_every, form.config().train.eval_every) == (50, 250)
    choose_family(form, "gan")
    assert form.config().train.lr_g == 2e-4 and form.config().model.options == {"dropout": 0.5}  # the tutorial's
    assert (form.config().train.sample_every, form.config().train.eval_every) == (200, 1000)


def trained(tmp_path, family, steps=30):
    from conftest import make_small_config

    trainer = Trainer(make_small_config(family, steps=steps), out=tmp_path)
    trainer.run()
    return trainer.run_folder.path


@pytest.fixture
def panel(qtbot):
    tasks = BackgroundTasks()
    panel = ExplorePanel(tasks)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    yield panel
    panel.shutdown()
    tasks.shutdown()


def test_explorer_draws_the_chosen_class(qtbot, panel, tmp_path):
    snapshot = GeneratorSnapshot.from_checkpoint(trained(tmp_path, "cgan"))
    panel.set_snapshot(snapshot)
    qtbot.waitUntil(lambda: panel.current_image is not None, timeout=10_000)
    bar = panel.conditioning
    assert bar.classes.isVisible() and bar.encode.isVisible()
    assert [bar.classes.itemText(i) for i in range(bar.classes.count())] == list(snapshot.class_names)
    before = panel.current_image.copy()

    bar.classes.setCurrentIndex(4)
    bar.classes.activated.emit(4)
    qtbot.waitUntil(lambda: not np.array_equal(panel.current_image, before), timeout=5000)
    expected = snapshot.with_label(4).render(panel.state.current()[None])[0]
    qtbot.waitUntil(lambda: np.array_equal(panel.current_image, expected), timeout=5000)

    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(snapshot.checkpoint))  # a new snapshot keeps the class
    assert panel.snapshot.label == 4 and bar.classes.currentIndex() == 4


def test_explorer_projects_a_real_image_into_the_vae_starting_from_its_encoder(qtbot, panel, tmp_path, monkeypatch):
    snapshot = GeneratorSnapshot.from_checkpoint(trained(tmp_path, "vae", steps=60))
    panel.set_snapshot(snapshot)
    qtbot.waitUntil(lambda: panel.current_image is not None, timeout=10_000)
    bar = panel.conditioning
    assert bar.encode.isVisible() and not bar.classes.isVisible() and not panel.real_image.isVisible()

    from ganstudio.data import load_dataset
    real = load_dataset(snapshot.config.data).images[7].permute(1, 2, 0).numpy()
    save_png(real, tmp_path / "face.png")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "face.png"), ""))
    with qtbot.waitSignal(panel.real_image.projected, timeout=60_000) as blocker:
        bar.from_file.trigger()
    found = blocker.args[0]
    assert np.array_equal(panel.state.current(), found.z) and panel.real_image.isVisible()
    shown_z = np.array([slider.value() for slider in panel.sliders.sliders]) / 100  # the z sliders show it
    assert np.abs(shown_z - np.clip(found.z, -3, 3)).max() <= 0.006
    encoded = snapshot.render(snapshot.encode(real[None]))[0].astype(float)
    encoder_psnr = 10 * np.log10(255**2 / np.mean((encoded - real) ** 2))
    assert found.psnr > encoder_psnr - 0.5  # the encoder's z is a start the optimisation refines
    qtbot.waitUntil(lambda: np.array_equal(panel.current_image, found.reconstruction), timeout=5000)

    before = panel.state.current().copy()
    with qtbot.waitSignal(panel.real_image.projected, timeout=60_000):
        bar.from_data.trigger()
    assert not np.allclose(panel.state.current(), before)


def test_a_projection_can_be_cancelled_and_a_newer_one_wins(qtbot, panel, tmp_path):
    snapshot = GeneratorSnapshot.from_checkpoint(trained(tmp_path, "gan", steps=20))
    panel.set_snapshot(snapshot)
    qtbot.waitUntil(lambda: panel.current_image is not None, timeout=10_000)
    before = panel.state.current().copy()
    panel.project_image("")
    qtbot.mouseClick(panel.real_image.cancel, Qt.MouseButton.LeftButton)
    assert panel.real_image.caption.text() == "Cancelled."
    panel.project_image("")
    panel.project_image("")  # the second replaces the first
    results = []
    panel.real_image.projected.connect(results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=60_000)
    panel.tasks.shutdown()
    assert len(results) == 1 and not np.allclose(panel.state.current(), before)

def test_projecting_into_a_conditional_model_switches_to_the_class_found(qtbot, panel, tmp_path):
    snapshot = GeneratorSnapshot.from_checkpoint(trained(tmp_path, "cgan"))
    panel.set_snapshot(snapshot)
    qtbot.waitUntil(lambda: panel.current_image is not None, timeout=10_000)
    image = snapshot.with_label(3).render(np.random.default_rng(2).standard_normal((1, snapshot.latent_dim)))[0]
    save_png(image, tmp_path / "three.png")
    with qtbot.waitSignal(panel.real_image.projected, timeout=60_000) as blocker:
        panel.project_image(str(tmp_path / "three.png"))
    found = blocker.args[0]
    assert found.label is not None
    assert panel.snapshot.label == found.label == panel.conditioning.classes.currentIndex()
    assert np.array_equal(panel.state.current(), found.z)
    qtbot.waitUntil(lambda: np.array_equal(panel.current_image, found.reconstruction), timeout=5000)


def test_an_image_file_dropped_on_the_tab_is_projected(qtbot, panel, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    snapshot = GeneratorSnapshot.from_checkpoint(trained(tmp_path, "gan", steps=20))
    panel.set_snapshot(snapshot)
    qtbot.waitUntil(lambda: panel.current_image is not None, timeout=10_000)
    save_png(snapshot.render(np.zeros((1, snapshot.latent_dim)))[0], tmp_path / "dropped.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "dropped.png"))])
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(panel.real_image.projected, timeout=60_000) as blocker:
        panel.dropEvent(drop)
    assert blocker.args[0].psnr > 25  # the generator's own image: found again
