"""File → Open ONNX generator: a generator written by plain `torch.onnx.export` in the Explore tab."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from torch import nn

from ganstudio.gui.main_window import MainWindow

pytestmark = pytest.mark.gui
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


@pytest.fixture
def onnx_file(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 3 * 16 * 16), nn.Tanh(),
                        nn.Unflatten(1, (3, 16, 16))).eval()
    path = tmp_path / "elsewhere.onnx"
    torch.onnx.export(net, (torch.randn(4, 8),), str(path))  # a fixed batch of 4, as a user's export may have
    return path


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: pytest.fail(f"error shown: {a[2]}"))
    w = MainWindow(runs_dir=tmp_path / "runs", settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.explore.shutdown()
    w.tasks.shutdown()


def test_an_onnx_generator_from_elsewhere_is_explored_with_sliders_and_sefa(qtbot, window, onnx_file, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(onnx_file), ""))
    assert window.open_onnx_action.isEnabled()
    window.open_onnx_action.trigger()
    explore = window.explore
    qtbot.waitUntil(lambda: explore.current_image is not None, timeout=10_000)
    assert window.tabs.currentWidget() is explore
    assert "elsewhere.onnx" in explore.source_label.text()
    assert explore.current_image.shape == (16, 16, 3) and len(explore.sliders.sliders) == 8
    assert not explore.conditioning.encode.isVisibleTo(explore)  # no gradients: no projection of real images

    before = explore.current_image.copy()
    explore.sliders.sliders[2].setValue(300)
    qtbot.waitUntil(lambda: not np.array_equal(explore.current_image, before), timeout=5000)

    explore.directions.method.setCurrentIndex(explore.directions.method.findData("sefa"))
    qtbot.mouseClick(explore.directions.find, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(explore.state.directions) == 8, timeout=10_000)
    assert explore.state.directions[0].method == "sefa"
