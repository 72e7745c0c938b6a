"""Explorer latency: a z slider is dragged (one move every 16 ms, as a mouse drag sends them); for
every image shown, the time from the slider's value change to the image being set in the view.

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_explore.py [--moves 300]

Targets (issue 5, this 2-core CPU): p95 <= 16 ms for the MLP GAN, <= 33 ms for a 64x64 DCGAN. Eight
SeFa directions are loaded, so every move also re-renders their traversal strips (7 images each),
as in real use.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ganstudio.config import RunConfig
from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.widgets.explore_panel import ExplorePanel
from ganstudio.latent.discover import discover_directions
from ganstudio.models import build_family
from ganstudio.snapshot import GeneratorSnapshot

CONFIGS = {
    "MLP GAN 28x28 grey": RunConfig(),
    "DCGAN 64x64 RGB (width 64)": RunConfig().replace(data={"image_size": 64, "channels": 3},
                                                      model={"family": "dcgan"}),
}


def measure(app: QApplication, config: RunConfig, moves: int) -> np.ndarray:
    family = build_family(config.data, config.model, config.train, "cpu")
    snapshot = GeneratorSnapshot.of_family(family, 0, config)
    tasks = BackgroundTasks()
    panel = ExplorePanel(tasks)
    panel.resize(1300, 850)
    panel.show()
    panel.set_snapshot(snapshot)
    panel.state.add_directions(discover_directions(snapshot, "sefa", 8))
    sent: dict[int, float] = {}
    latencies: list[float] = []
    request = panel.renderer.request

    def timed_request(channel, codes):
        stamp = request(channel, codes)
        if channel == "image":
            sent[stamp] = time.perf_counter()
        return stamp

    panel.renderer.request = timed_request
    last_shown = [0]

    def on_rendered(channel, stamp, images):  # runs after the view got the image (connected later)
        if channel == "image" and stamp in sent and stamp > last_shown[0]:
            last_shown[0] = stamp
            latencies.append(time.perf_counter() - sent[stamp])

    panel.renderer._thread.rendered.connect(on_rendered)
    slider = panel.sliders.sliders[0]
    values = (300 * np.sin(np.linspace(0, 6 * np.pi, moves))).astype(int)
    position = [0]

    def move() -> None:
        if position[0] == moves:
            timer.stop()
            QTimer.singleShot(300, app.quit)
            return
        slider.setValue(int(values[position[0]]) + (1 if values[position[0]] == slider.value() else 0))
        position[0] += 1

    timer = QTimer()
    timer.setInterval(16)
    timer.timeout.connect(move)
    QTimer.singleShot(500, timer.start)  # let the first strips render
    app.exec()
    panel.shutdown()
    tasks.shutdown()
    panel.deleteLater()
    app.processEvents()
    return np.array(latencies) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=300)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    for name, config in CONFIGS.items():
        ms = measure(app, config, args.moves)
        print(f"{name}: {len(ms)} images shown for {args.moves} moves; slider -> image "
              f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, max {ms.max():.1f} ms")


if __name__ == "__main__":
    main()
