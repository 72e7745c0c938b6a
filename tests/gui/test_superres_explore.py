"""Super-resolution (SRGAN) in the app: the Explore tab's pane with bicubic | SR in one view behind a wipe,
the zoom lens, the α slider between the MSE phase and the GAN, large images tile by tile with progress,
export; the Quality tab's PSNR beside bicubic's; the GAN phase marked on the plots; the setup form."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ganstudio.config import RunConfig
from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.main_window import MainWindow
from ganstudio.gui.widgets.explore_panel import ExplorePanel
from ganstudio.gui.widgets.quality_panel import QualityPanel
from ganstudio.gui.widgets.superres_pane import _Bicubic
from ganstudio.images import to_uint8
from ganstudio.models import family_class
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer
from ganstudio.upscale import TILE, tiles, upscale

pytestmark = pytest.mark.gui
WAIT_MS = 15_000


def sr_config(steps: int | None, mse_steps: int = 10) -> RunConfig:
    """8 -> 32 px RGB faces at ×4, a tiny G (width 8, 2 blocks), the pixel content loss (no feature network
    to fetch or train), one thread."""
    return RunConfig().replace(
        data={"num_images": 200, "image_size": 32, "channels": 3},
        model={"family": "srgan", "width": 8, "options": {"mse_steps": mse_steps, "blocks": 2, "content": 0}},
        train={**family_class("srgan").train_defaults(), "max_steps": steps, "epochs": 10**4, "device": "cpu",
               "eval_every": 0, "sample_every": 10**6, "checkpoint_every": 10, "threads": 1})


@pytest.fixture(scope="module")
def sr_run(tmp_path_factory):
    """20 steps, the GAN phase from step 10: checkpoints before (10) and after (20) it began."""
    trainer = Trainer(sr_config(20), out=tmp_path_factory.mktemp("sr-runs"), report_interval_s=0)
    trainer.run()
    return trainer.run_folder


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return shown


@pytest.fixture
def explore(qtbot, errors, sr_run):
    """The Explore tab showing the run's last checkpoint (past its MSE phase), its first result shown."""
    tasks = BackgroundTasks()
    panel = ExplorePanel(tasks)
    qtbot.addWidget(panel)
    panel.resize(1300, 850)
    panel.show()
    messages = []
    panel.message.connect(messages.append)
    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(sr_run.path))
    qtbot.waitUntil(lambda: panel.superres.result is not None, timeout=WAIT_MS)
    panel.messages = messages
    yield panel
    panel.shutdown()
    tasks.shutdown()
    assert [m for m in messages if not m.startswith("Saved")] == []


def expected(snapshot: GeneratorSnapshot, lr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bicubic, SR) of an (h, w, C) uint8 input."""
    import dataclasses

    bicubic = upscale(dataclasses.replace(snapshot, generator=_Bicubic(snapshot.scale)), lr)
    return bicubic, upscale(snapshot, lr)


def held_out_lr(snapshot: GeneratorSnapshot, index: int) -> np.ndarray:
    return to_uint8(snapshot.fixed["source"][index:index + 1])[0]


def shown_pixel(wipe, x: int, y: int) -> tuple[int, int, int]:
    """The colour the view shows at the centre of image pixel (x, y)."""
    rect = wipe.image_rect()
    h, w = wipe.images()[0].shape[:2]
    at = QPoint(rect.left() + int((x + 0.5) * rect.width() / w), rect.top() + int((y + 0.5) * rect.height() / h))
    colour = wipe.grab().toImage().pixelColor(at)
    return colour.red(), colour.green(), colour.blue()


def most_different(bicubic: np.ndarray, sr: np.ndarray, xs: range) -> tuple[int, int]:
    """The pixel (x, y) in columns ``xs`` of the lower half (away from the labels and the wipe's handle)
    where bicubic and SR differ most; they must differ there by more than the check's tolerance."""
    difference = np.abs(bicubic.astype(int) - sr).max(axis=2)
    h = len(difference)
    y, x = np.unravel_index(np.argmax(difference[h // 2 + 2:, xs.start:xs.stop]), (h - h // 2 - 2, len(xs)))
    y, x = int(y) + h // 2 + 2, int(x) + xs.start
    assert difference[y, x] >= 3, "bicubic and SR should differ somewhere here"
    return x, y


def test_the_pane_shows_for_a_super_resolution_snapshot_and_not_for_others(qtbot, explore, sr_run, tmp_path):
    from conftest import make_small_config

    panel, pane = explore, explore.superres
    assert panel.body.currentWidget() is pane and pane.isVisible() and not panel.sketch.isVisible()
    reference = GeneratorSnapshot.from_checkpoint(sr_run.path)
    bicubic, sr = expected(reference, held_out_lr(reference, 0))  # it starts from the first held-out patch
    assert np.array_equal(pane.result.bicubic, bicubic) and np.array_equal(pane.result.sr, sr)
    assert pane.wipe.captions == ("bicubic", "SR ×4") and "8 × 8 → 32 × 32 px (×4)" in pane.title.text()

    pix2pix = Trainer(make_small_config("pix2pix", steps=2, threads=1), out=tmp_path)
    pix2pix.run()
    panel.set_snapshot(GeneratorSnapshot.from_checkpoint(pix2pix.run_folder.path))
    assert panel.body.currentWidget() is panel.sketch and not pane.isVisible()
    qtbot.waitUntil(lambda: panel.sketch.output is not None, timeout=WAIT_MS)
    panel.set_snapshot(reference)
    assert panel.body.currentWidget() is pane


def test_picking_a_held_out_patch_shows_bicubic_left_and_sr_right(qtbot, explore, sr_run):
    pane = explore.superres
    reference = GeneratorSnapshot.from_checkpoint(sr_run.path)
    lr = held_out_lr(reference, 2)
    bicubic, sr = expected(reference, lr)
    qtbot.mouseClick(pane.held_out, Qt.MouseButton.LeftButton, pos=pane.held_out.cell_rect(2).center())
    qtbot.waitUntil(lambda: np.array_equal(pane.result.sr, sr), timeout=WAIT_MS)
    assert np.array_equal(pane.result.bicubic, bicubic)
    assert pane.input_view.image().width() == 8 and pane.original_view.isVisible()
    assert pane.original_view.image().width() == 32  # the held-out patch itself
    assert pane.size_label.text() == "SR result: 32 × 32 px"

    wipe = pane.wipe
    assert wipe.split == 0.5
    left, right = most_different(bicubic, sr, range(1, 14)), most_different(bicubic, sr, range(18, 31))
    assert np.abs(np.subtract(shown_pixel(wipe, *left), bicubic[left[1], left[0]])).max() <= 1
    assert np.abs(np.subtract(shown_pixel(wipe, *right), sr[right[1], right[0]])).max() <= 1


def test_dragging_the_wipe_moves_the_split(qtbot, explore):
    wipe = explore.superres.wipe
    rect = wipe.image_rect()
    y = rect.top() + rect.height() * 3 // 4
    moved = []
    wipe.split_changed.connect(moved.append)
    qtbot.mousePress(wipe, Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + rect.width() // 2, y))
    for fraction in (0.6, 0.7, 0.8):
        qtbot.mouseMove(wipe, QPoint(rect.left() + int(fraction * rect.width()), y))
    qtbot.mouseRelease(wipe, Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + int(0.8 * rect.width()), y))
    assert wipe.split == pytest.approx(0.8, abs=0.01) and len(moved) >= 3
    assert abs(wipe.split_x() - (rect.left() + 0.8 * rect.width())) <= 1
    bicubic, sr = wipe.images()
    x, y = most_different(bicubic, sr, range(17, 24))  # now left of the line: bicubic
    assert np.abs(np.subtract(shown_pixel(wipe, x, y), bicubic[y, x])).max() <= 1


def test_the_lens_shows_the_pixels_under_the_pointer_enlarged(qtbot, explore):
    pane = explore.superres
    wipe = pane.wipe
    rect = wipe.image_rect()
    pointer = QPoint(rect.left() + rect.width() // 3, rect.top() + rect.height() // 2)
    qtbot.mouseMove(wipe, pointer)
    qtbot.waitUntil(lambda: wipe.lens_box() is not None, timeout=WAIT_MS)
    x, y, side, zoom = wipe.lens_box()
    px, py = wipe.image_point(pointer)
    assert x <= px < x + side and y <= py < y + side and zoom >= 4
    bicubic, sr = wipe.images()
    crops = wipe.lens_crops()
    for crop, image in zip(crops, (bicubic, sr)):
        assert crop.shape == (side * zoom, side * zoom, 3)
        assert np.array_equal(crop[::zoom, ::zoom], image[y:y + side, x:x + side])
    picture = wipe.grab().toImage()
    for panel, image in zip(wipe.lens_rects(), (bicubic, sr)):  # both panels drawn, nearest
        for i, j in ((1, 1), (side - 2, side - 3)):
            colour = picture.pixelColor(panel.left() + j * zoom + zoom // 2, panel.top() + i * zoom + zoom // 2)
            assert np.abs(np.subtract((colour.red(), colour.green(), colour.blue()), image[y + i, x + j])).max() <= 1
    qtbot.mouseClick(pane.lens, Qt.MouseButton.LeftButton)  # "Zoom lens" off
    assert not pane.lens.isChecked() and wipe.lens_box() is None


def test_alpha_re_renders_between_the_mse_phase_and_the_gan_and_waits_for_the_gan_phase(qtbot, explore, sr_run):
    pane = explore.superres
    reference = GeneratorSnapshot.from_checkpoint(sr_run.path)
    assert reference.blend_ends is not None and pane.alpha.isEnabled() and pane.alpha.value() == pane.alpha.maximum()
    at_gan = pane.result.sr.copy()
    lr = held_out_lr(reference, 0)
    pane.alpha.setFocus()
    qtbot.keyClick(pane.alpha, Qt.Key.Key_Home)  # α = 0: the MSE phase's G
    qtbot.waitUntil(lambda: pane.result.alpha == 0.0, timeout=WAIT_MS)
    assert np.array_equal(pane.result.sr, upscale(reference.with_alpha(0.0), lr))
    assert not np.array_equal(pane.result.sr, at_gan)
    assert pane.alpha_value.text() == "α = 0.00" and "(×4, α = 0.00)" in pane.title.text()
    pane.alpha.setValue(50)
    qtbot.waitUntil(lambda: pane.result.alpha == 0.5, timeout=WAIT_MS)
    assert np.array_equal(pane.result.sr, upscale(reference.with_alpha(0.5), lr))

    before_gan = dict(sr_run.list_checkpoints())[10]  # the GAN phase had not begun
    explore.set_snapshot(GeneratorSnapshot.from_checkpoint(before_gan))
    assert not pane.alpha.isEnabled() and "once the GAN phase has begun (step 10)" in pane.alpha_note.text()
    qtbot.waitUntil(lambda: pane.result.alpha == 1.0, timeout=WAIT_MS)  # rendered as it is, no blend


def test_a_large_image_is_upscaled_tile_by_tile_with_progress_and_exported(qtbot, explore, tmp_path, monkeypatch):
    pane = explore.superres
    rng = np.random.default_rng(0)
    photo = np.clip(np.linspace(0, 255, 600)[None, :, None] + rng.normal(0, 20, (400, 600, 3)), 0, 255)
    Image.fromarray(photo.astype(np.uint8)).save(tmp_path / "photo.png")
    values = []
    pane.progress.bar.valueChanged.connect(values.append)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "photo.png"), ""))
    qtbot.mouseClick(pane.open_button, Qt.MouseButton.LeftButton)
    count = len(tiles(400, 600, TILE))
    assert count > 4 and pane.progress.bar.isVisible() and pane.progress.bar.maximum() == count
    qtbot.waitUntil(lambda: pane.result.sr.shape == (1600, 2400, 3), timeout=60_000)
    assert values[-1] == count and len(set(values)) >= count and not pane.progress.bar.isVisible()
    assert pane.result.bicubic.shape == (1600, 2400, 3) and not pane.original_view.isVisible()
    assert pane.size_label.text() == "SR result: 2,400 × 1,600 px"
    assert "photo.png: 600 × 400 → 2,400 × 1,600 px (×4)" in pane.title.text()

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "big"), ""))
    qtbot.mouseClick(pane.export_button, Qt.MouseButton.LeftButton)
    with Image.open(tmp_path / "big.png") as written:
        assert written.size == (2400, 1600)
        assert np.array_equal(np.asarray(written), pane.result.sr)
    assert explore.messages[-1] == "Saved big.png (2,400 × 1,600 px)"


def test_a_newer_request_cancels_a_running_upscale(qtbot, explore, tmp_path):
    pane = explore.superres
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (400, 600, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    assert pane.open_file(tmp_path / "a.png")
    qtbot.waitUntil(lambda: pane.progress.bar.value() >= 1, timeout=WAIT_MS)
    qtbot.mouseClick(pane.held_out, Qt.MouseButton.LeftButton, pos=pane.held_out.cell_rect(1).center())
    qtbot.waitUntil(lambda: pane.progress.cancelled == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: pane.result.sr.shape == (32, 32, 3) and pane.held_out_index == 1, timeout=WAIT_MS)
    assert not pane.progress.bar.isVisible()


def test_a_newer_snapshot_lets_the_running_upscale_finish_then_upscales_again(qtbot, explore, sr_run, tmp_path):
    """Live training sends a snapshot every few seconds: a large image would never finish if each cancelled
    it, so the running one finishes and the image is upscaled again with the newest snapshot."""
    pane = explore.superres
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (200, 300, 3), dtype=np.uint8)).save(tmp_path / "b.png")
    assert pane.open_file(tmp_path / "b.png")
    started = pane.progress.latest
    qtbot.waitUntil(lambda: pane.progress.bar.value() >= 1, timeout=WAIT_MS)
    explore.set_snapshot(GeneratorSnapshot.from_checkpoint(dict(sr_run.list_checkpoints())[10]))
    qtbot.waitUntil(lambda: pane.result.generation == started, timeout=WAIT_MS)  # the first one, finished
    qtbot.waitUntil(lambda: pane.result.generation == started + 1, timeout=WAIT_MS)  # again, newest snapshot
    assert pane.progress.cancelled == 0 and pane.result.sr.shape == (800, 1200, 3)
    assert not pane.alpha.isEnabled()


def test_an_unreadable_or_too_large_image_is_named(qtbot, explore, tmp_path):
    pane = explore.superres
    (tmp_path / "broken.png").write_bytes(b"nope")
    assert not pane.open_file(tmp_path / "broken.png")
    assert "broken.png" in explore.messages[-1]
    Image.new("RGB", (3000, 3000)).save(tmp_path / "huge.png")
    assert not pane.open_file(tmp_path / "huge.png")
    assert "huge.png is 3,000 × 3,000 px" in explore.messages[-1] and "Crop it" in explore.messages[-1]
    explore.messages.clear()
    assert pane.result.sr.shape == (32, 32, 3)  # what was shown stays


def test_quality_puts_psnr_beside_bicubic(qtbot):
    record = {"step": 100, "psnr": 25.3, "psnr_bicubic": 25.1, "ssim": 0.71, "ssim_bicubic": 0.72, "sharpness": 0.67,
              "sharpness_bicubic": 0.6, "high_frequency": 0.5, "high_frequency_bicubic": 0.1, "fid_domain": 1.5}
    panel = QualityPanel()
    panel.set_history([record])
    metrics = panel.plots.metrics
    groups = {key: m.info.plot for key, m in metrics.items()}
    assert groups["psnr"] == groups["psnr_bicubic"] and groups["psnr"].startswith("PSNR on held-out patches")
    assert "bicubic for reference" in groups["psnr"]
    assert groups["ssim"] == groups["ssim_bicubic"] != groups["psnr"]
    assert groups["sharpness"] == groups["sharpness_bicubic"] == groups["high_frequency"] == groups[
        "high_frequency_bicubic"] == "detail compared with the real images (1 = as real)"
    assert len(panel.plots.plots) == 4  # PSNR, SSIM, detail, FID
    assert (metrics["psnr"].info.label, metrics["psnr_bicubic"].info.label) == ("SR", "bicubic")


def test_opening_an_sr_run_marks_the_gan_phase_and_explores_it(qtbot, tmp_path, errors, sr_run):
    window = MainWindow(runs_dir=tmp_path / "runs", settings=QSettings(str(tmp_path / "s.ini"),
                                                                        QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.open_run(sr_run.path)
        assert window.plots.event_marks == [(10, "GAN phase")]
        assert "bicubic | SR" in window.samples.title.text()
        window.tabs.setCurrentWidget(window.explore)
        pane = window.explore.superres
        qtbot.waitUntil(lambda: pane.result is not None, timeout=WAIT_MS)
        assert pane.isVisible() and pane.alpha.isEnabled()
        assert errors == []
    finally:
        window.explore.shutdown()
        window.tasks.shutdown()


def test_upscaling_the_live_generator_while_training_runs(qtbot, tmp_path, errors):
    window = MainWindow(runs_dir=tmp_path / "runs", settings=QSettings(str(tmp_path / "s.ini"),
                                                                        QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        window.setup.set_config(sr_config(None, mse_steps=10**6))
        window.start_action.trigger()
        assert window.plots.event_marks == [(10**6, "GAN phase")]
        qtbot.waitUntil(lambda: window.plots.point_count() > 2, timeout=60_000)
        window.tabs.setCurrentWidget(window.explore)  # a live snapshot
        pane = window.explore.superres
        qtbot.waitUntil(lambda: pane.result is not None, timeout=WAIT_MS)
        assert window.explore.snapshot.source.startswith("live training")
        assert pane.isVisible() and not pane.alpha.isEnabled()  # still in the MSE phase
        first = window.explore.snapshot.step
        window.explore.snapshot_button.click()  # a newer snapshot: the same patch, upscaled again
        qtbot.waitUntil(lambda: window.explore.snapshot.step > first, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: pane.result.generation > 1, timeout=WAIT_MS)
        assert pane.held_out_index == 0 and window.controller.running
        assert errors == []
    finally:
        window.controller.shutdown()
        window.explore.shutdown()
        window.tasks.shutdown()


def test_setup_form_offers_super_resolution_on_photos(qtbot):
    from ganstudio.gui.widgets.setup_form import SetupForm

    form = SetupForm()
    qtbot.addWidget(form)
    form.show()
    form.image_size.setCurrentIndex(form.image_size.findData(28))
    index = form.family.findData("srgan")
    form.family.setCurrentIndex(index)
    form.family.activated.emit(index)
    assert [form.image_size.itemData(i) for i in range(form.image_size.count())] == [32, 64, 128, 256]
    assert form.image_size.currentData() == 64  # 16 -> 64 at ×4, not the nearest 32
    assert form._forms["Data"].labelForField(form.image_size).text() == "Patch size"
    assert not form.latent_dim.isVisibleTo(form) and not form.pair_from.isVisibleTo(form)
    assert {"scale", "mse_steps"} <= set(form.family_options.boxes)
    form.dataset.setCurrentIndex(form.dataset.findData("folder"))
    assert form.root.placeholderText() == "folder of photos, any size"
    form.root.setText("/photos")
    config = form.config()
    assert (config.model.family, config.data.dataset, config.data.image_size, config.data.full_size) == (
        "srgan", "folder", 64, True)
    assert (config.train.batch_size, config.train.lr_g, config.train.lr_d) == (16, 1e-3, 3e-4)
