"""Training speed inside the app against the headless engine, same config, one process.

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_gui.py [--family dcgan] [--seconds 20]

Both runs report images/s from the engine's own reports after a warm-up; the GUI run drives the
full main window (plots, sample grid, progress) while it trains. Target: GUI >= 90 % of headless.

The headless reference runs as `ganstudio train` does, on the main thread of a fresh process (spawned
for each round). It must not run in this process: once a thread has run a parallel torch op, its
OpenMP team stays, and libgomp then spins only briefly in every other team (it manages more threads
than there are CPUs), which costs the app's training thread 15-30 % on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from ganstudio.config import RunConfig
from ganstudio.gui.main_window import MainWindow
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import Trainer, TrainerCallback


class _Throughput(TrainerCallback):
    """Images/s between the first report after ``warmup_s`` and the last one."""

    def __init__(self, batch_size: int, warmup_s: float):
        self.batch_size, self.warmup_s = batch_size, warmup_s
        self.t_start = time.perf_counter()
        self.first = self.last = None

    def on_step(self, e):
        now = time.perf_counter()
        if now - self.t_start < self.warmup_s:
            return
        self.first = self.first or (e.step, now)
        self.last = (e.step, now)

    def images_per_s(self) -> float:
        (s0, t0), (s1, t1) = self.first, self.last
        return (s1 - s0) * self.batch_size / (t1 - t0)


def headless(config: RunConfig, seconds: float, out: Path) -> float:
    meter = _Throughput(config.train.batch_size, warmup_s=2)
    control = TrainingControl()

    class StopAfter(TrainerCallback):
        def on_step(self, e):
            if time.perf_counter() - meter.t_start > seconds:
                control.stop()

    Trainer(config, out=out).run(control, [meter, StopAfter()])
    return meter.images_per_s()


def in_fresh_process(function, *args):
    """``function(*args)`` in a new Python process, which has ended (and idles no CPU) on return."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result = pool.apply(function, args)
        pool.close()
        pool.join()
    return result


def in_gui(config: RunConfig, seconds: float, out: Path) -> float:
    app = QApplication.instance() or QApplication([])
    window = MainWindow(runs_dir=out, settings=QSettings(str(out / "s.ini"), QSettings.Format.IniFormat))
    window.setup.set_config(config)
    window.show()
    meter = _Throughput(config.train.batch_size, warmup_s=2)
    window.controller.step.connect(lambda e: meter.on_step(e))  # measured where the GUI receives it
    window.start_action.trigger()
    start_cpu, start = time.thread_time(), time.perf_counter()
    result = {}

    def finish() -> None:
        result["gui_share"] = (time.thread_time() - start_cpu) / (time.perf_counter() - start)
        print(f"plot redraw interval: {window.plots._pace.interval_ms:.0f} ms")
        window.controller.shutdown()  # before quit(): Qt 6 closes the windows, which would ask
        app.quit()

    QTimer.singleShot(int(seconds * 1000), finish)
    app.exec()  # the app's own event loop, as a person runs it
    gui_share = result["gui_share"]
    window.deleteLater()
    app.processEvents()
    print(f"GUI thread CPU: {gui_share:.1%} of one core")
    return meter.images_per_s()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="gan")
    parser.add_argument("--seconds", type=float, default=20, help="per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating headless/GUI pairs")
    args = parser.parse_args()
    width = {"width": 32} if args.family == "dcgan" else {}
    config = RunConfig().replace(model={"family": args.family, **width},
                                 train={"epochs": 1000, "sample_every": 200, "device": "cpu"})
    base, gui = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i in range(args.rounds):  # alternate, so drifts of the machine hit both alike
            base.append(in_fresh_process(headless, config, args.seconds, tmp / f"h{i}"))
            gui.append(in_gui(config, args.seconds, tmp / f"g{i}"))
    print(f"{args.family}: headless {' '.join(f'{x:,.0f}' for x in base)} img/s; "
          f"GUI {' '.join(f'{x:,.0f}' for x in gui)} img/s; "
          f"GUI/headless (means) {np.mean(gui) / np.mean(base):.2f}")


if __name__ == "__main__":
    main()
