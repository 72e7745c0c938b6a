"""Progress of the run: a bar with step/epoch, images/s, elapsed time and ETA.

Reports arrive up to 20 times a second; the panel shows the newest one 4 times a second (each
repaint costs the GUI thread CPU time that training on a small machine needs)."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from ganstudio.events import StepReport, format_duration


class ProgressPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setObjectName("progressBar")
        self.bar.setTextVisible(True)
        self.speed = QLabel()
        self.times = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.speed)
        layout.addWidget(self.times)
        self._pending: StepReport | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._show_pending)
        self._timer.start()
        self.reset()

    def reset(self, step: int = 0, total: int = 0) -> None:
        self._pending = None
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(step)
        self.bar.setFormat(f"step {step:,} / {total:,}" if total else "idle")
        self.speed.setText("– img/s")
        self.times.setText("elapsed --:--  ETA --:--")

    def show_starting(self) -> None:
        """Between Start and the run's first report: the data set is loaded (or, built in, made) first."""
        self.reset()
        self.bar.setFormat("starting: preparing the data…")

    def update_report(self, report: StepReport) -> None:
        """Show ``report`` at the next refresh."""
        self._pending = report

    def shows_newest(self) -> bool:
        """True once the newest report received is on screen."""
        return self._pending is None

    @Slot()
    def _show_pending(self) -> None:
        report, self._pending = self._pending, None
        if report is None:
            return
        self.bar.setRange(0, max(report.total_steps, 1))
        self.bar.setValue(report.step)
        self.bar.setFormat(f"step {report.step:,} / {report.total_steps:,}   epoch {report.epoch:.2f}")
        self.speed.setText(f"{report.images_per_s:,.0f} img/s")
        self.times.setText(f"elapsed {format_duration(report.elapsed_s)}  ETA {format_duration(report.eta_s)}")
