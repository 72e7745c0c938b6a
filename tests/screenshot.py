"""Render the main window after a short real training run to a PNG (for the README, and to look at).

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/screenshot.py resources/screenshot.png
    QT_QPA_PLATFORM=offscreen python tests/screenshot.py /tmp/window.png     # no X server needed
    ... tests/screenshot.py resources/explore.png --explore --family dcgan   # the Explore tab
    ... tests/screenshot.py resources/quality.png --quality                  # the Quality tab

With ``--explore`` the training keeps running while the Explore tab takes a live snapshot, finds the
named directions (faces: yaw, pitch, ...) and turns the first one up.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from ganstudio.config import RunConfig
from ganstudio.gui.main_window import MainWindow
from ganstudio.models import family_class


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--seconds", type=float, default=90, help="training time before the picture")
    parser.add_argument("--family", help="default: the app's (dcgan, width 32)")
    parser.add_argument("--explore", action="store_true", help="picture the Explore tab")
    parser.add_argument("--quality", action="store_true", help="picture the Quality tab (evaluations every 250 steps)")
    args = parser.parse_args()

    app = QApplication([])
    scratch = Path(tempfile.mkdtemp())
    window = MainWindow(runs_dir=scratch / "runs",
                        settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    family = args.family or RunConfig().model.family
    window.setup.set_config(RunConfig().replace(model={"family": family}, train={
        **family_class(family).train_defaults(), "epochs": 5, "sample_every": 100, "device": "cpu",
        **({"eval_every": 250} if args.quality else {})}))
    window.resize(1500, 900)
    window.show()

    def take_picture() -> None:
        window.controller.pause()
        window.grab().save(str(args.output))
        print(f"wrote {args.output}")
        window.controller.shutdown()
        app.quit()

    def explore() -> None:
        window.tabs.setCurrentWidget(window.explore)  # takes a live snapshot
        window.explore.directions.method.setCurrentIndex(window.explore.directions.method.findData("supervised"))
        QTimer.singleShot(2000, window.explore.directions.find.click)

    def turn_first_direction() -> None:
        rows = window.explore.directions.list.rows
        if rows:
            rows[0].slider.setValue(200)

    QTimer.singleShot(300, window.start_action.trigger)
    if args.explore:
        QTimer.singleShot(int(args.seconds * 1000) - 45_000, explore)
        QTimer.singleShot(int(args.seconds * 1000) - 3_000, turn_first_direction)
    if args.quality:
        QTimer.singleShot(1000, lambda: window.tabs.setCurrentWidget(window.quality))
    QTimer.singleShot(int(args.seconds * 1000), take_picture)
    app.exec()


if __name__ == "__main__":
    main()
