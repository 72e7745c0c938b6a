"""Sketch pad latency: from a pen event to the output on screen, for a 64 px pix2pix (issue 13: p95 ≤ 50 ms).

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_sketch.py [--moves 300] [--hz 60] [--training]

Moves the pen across the pad ``--moves`` times at ``--hz`` (a drag); for every output shown, the time
from the pen event whose drawing it rendered to the moment it is shown (latest-wins: outputs of
superseded drawings are never shown, so fewer outputs than pen events). ``--training`` runs a DCGAN
training thread (the app's default run) beside it, as when sketching on the live snapshot. The
reference line is the generator's forward alone on one thread.

Measured on the 2-core CPU (untrained weights; the latency does not depend on them):
    60 Hz:                      forward 11.7 ms; median 13.4, p95 17.9, max 22.9 ms (299 of 300 shown)
    120 Hz:                     forward 11.7 ms; median 17.9, p95 23.1, max 27.3 ms (193 of 300 shown)
    60 Hz, training beside it:  forward 11.1 ms; median 33.4, p95 45.3, max 52.0 ms (214 of 300 shown)
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ganstudio.config import RunConfig
from ganstudio.gui.render_service import RenderService
from ganstudio.gui.widgets.sketch_panel import SketchPanel
from ganstudio.models import build_family
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import Trainer


def snapshot_64px() -> GeneratorSnapshot:
    cfg = RunConfig().replace(data={"image_size": 64, "channels": 3, "pair_from": "edges"},
                              model={"family": "pix2pix", "width": None}, train={"device": "cpu"})
    family = build_family(cfg.data, cfg.model, cfg.train, torch.device("cpu"))
    return GeneratorSnapshot.of_family(family, 0, cfg, {"source": torch.zeros(1, 1, 64, 64)})


def forward_ms(snapshot: GeneratorSnapshot, repeats: int = 50) -> float:
    torch.set_num_threads(1)
    source = np.full((1, 64, 64, 1), 255, np.uint8)
    snapshot.translate(source)
    start = time.perf_counter()
    for _ in range(repeats):
        snapshot.translate(source)
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--hz", type=float, default=60)
    parser.add_argument("--training", action="store_true")
    args = parser.parse_args()
    app = QApplication([])
    snapshot = snapshot_64px()
    threads = torch.get_num_threads()
    reference = forward_ms(snapshot)
    torch.set_num_threads(threads)

    control, trainer_thread = TrainingControl(), None
    if args.training:
        config = RunConfig().replace(train={"device": "cpu", "eval_every": 0, "epochs": 1000})
        trainer_thread = threading.Thread(target=Trainer(config, out="/tmp/bench-sketch-runs").run, args=(control,))
        trainer_thread.start()
        time.sleep(5)

    renderer = RenderService()
    panel = SketchPanel(renderer)
    panel.resize(1000, 600)
    panel.show()
    panel.set_snapshot(snapshot)
    pen_times: dict[int, float] = {}  # request stamp -> time of the pen event behind it
    latencies: list[float] = []
    pending = {"t": 0.0}
    original_request = renderer.request

    def request(channel, inputs, noise_seed=0):
        stamp = original_request(channel, inputs, noise_seed)
        pen_times[stamp] = pending["t"]
        return stamp

    renderer.request = request
    # The stamp of the output on screen (RenderService shows only results newer than the last shown).
    def record() -> None:
        pen = pen_times.get(renderer._shown["sketch"])  # None: the first output, from before the drag
        if pen is not None:
            latencies.append(time.perf_counter() - pen)

    panel.output_shown.connect(record)

    pad = panel.pad
    centre = QPoint(pad.width() // 2, pad.height() // 2)
    pending["t"] = time.perf_counter()
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=centre)
    period = 1 / args.hz
    next_move = time.perf_counter()
    for i in range(args.moves):
        angle = i / 20
        point = centre + QPoint(int(80 * np.cos(angle)), int(80 * np.sin(angle)))
        while time.perf_counter() < next_move:
            app.processEvents()
        pending["t"] = time.perf_counter()
        QTest.mouseMove(pad, point)
        app.processEvents()
        next_move += period
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=centre)
    end = time.perf_counter() + 1
    while time.perf_counter() < end:
        app.processEvents()
    renderer.shutdown()
    if trainer_thread is not None:
        control.stop()
        trainer_thread.join()

    ms = np.array(latencies) * 1000
    print(f"64 px pix2pix (width {snapshot.config.model.width or 32}), pen at {args.hz:g} Hz, {args.moves} moves"
          f"{', training beside it' if args.training else ''}:")
    print(f"  reference: the generator's forward alone, 1 thread: {reference:.1f} ms")
    print(f"  pen event -> output shown: {len(ms)} outputs shown, median {np.median(ms):.1f} ms, "
          f"p95 {np.percentile(ms, 95):.1f} ms, max {ms.max():.1f} ms (target p95 <= 50 ms); "
          f"p95 / forward = {np.percentile(ms, 95) / reference:.1f}")


if __name__ == "__main__":
    main()
