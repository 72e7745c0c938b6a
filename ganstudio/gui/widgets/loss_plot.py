"""Live metric plots: one pyqtgraph plot per group a family declares (e.g. losses, D outputs),
raw curves faint and EMA-smoothed curves bold, x in steps with epoch marks.

Reports are appended to growable numpy buffers; a timer redraws only when something changed, at up
to 30 Hz, slower when the GUI thread's CPU share goes over a budget (painting axes and curves is the
GUI's main cost, and on a small CPU every core it takes is a core training loses). The view range
grows in steps instead of following every new point, so the axes (cached as pixmaps) are re-laid out
and repainted only when a step is taken. Downsampling ('peak') and clip-to-view keep 100k+ points
smooth. Clicking a plot emits the step.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ganstudio.models.base import MetricInfo

COLOURS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2"]
MAX_EPOCH_MARKS = 200


class GrowingSeries:
    """x/y float64 buffers that double when full; ``view()`` gives the filled part."""

    def __init__(self, capacity: int = 1024):
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0
        self.y_min, self.y_max = np.inf, -np.inf

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.concatenate([self.x, np.empty_like(self.x)])
            self.y = np.concatenate([self.y, np.empty_like(self.y)])
        self.x[self.n], self.y[self.n] = x, y
        self.n += 1
        if np.isfinite(y):
            self.y_min, self.y_max = min(self.y_min, y), max(self.y_max, y)

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


class AdaptiveInterval:
    """A redraw interval that keeps the calling thread's CPU share near ``budget``: it grows 25 % per
    tick while the thread used more than that since the last tick, and shrinks back towards
    ``fastest_ms`` otherwise."""

    def __init__(self, budget: float = 0.05, fastest_ms: int = 33, slowest_ms: int = 500):
        self.budget, self.fastest_ms, self.slowest_ms = budget, fastest_ms, slowest_ms
        self.interval_ms = float(fastest_ms)
        self._cpu, self._wall = time.thread_time(), time.perf_counter()

    def next_interval(self) -> int:
        cpu, wall = time.thread_time(), time.perf_counter()
        share = (cpu - self._cpu) / max(wall - self._wall, 1e-6)
        self._cpu, self._wall = cpu, wall
        factor = 1.25 if share > self.budget else 0.9
        self.interval_ms = min(max(self.interval_ms * factor, self.fastest_ms), self.slowest_ms)
        return round(self.interval_ms)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is >= ``x`` (x > 0)."""
    power = 10.0 ** np.floor(np.log10(x))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= x)


class SteppedRange:
    """Keeps a plot's view around its data in steps: x ends at a 1-2-5 number above the last step,
    y is refitted (10 % padding) only when data leaves it or fills less than half of it. Following
    stops when the person pans or zooms, and starts again with the plot's auto-range button."""

    def __init__(self, plot: pg.PlotItem):
        self.plot, self.view = plot, plot.getViewBox()
        self.following = True
        self.view.disableAutoRange()
        self.view.sigRangeChangedManually.connect(self._stop_following)
        plot.autoBtn.clicked.connect(self._follow_again)  # runs after pyqtgraph's own handler

    def reset(self) -> None:
        self.following = True
        self.view.disableAutoRange()
        self.view.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)

    def fit(self, x_max: float, y_min: float, y_max: float) -> None:
        if not self.following or not np.isfinite([x_max, y_min, y_max]).all():
            return
        (x0, x1), (y0, y1) = self.view.viewRange()
        x_range = (0.0, nice_ceiling(max(x_max, 1.0))) if x_max > x1 or x1 > 5 * max(x_max, 1.0) else None
        y_range = None
        span = max(y_max - y_min, 1e-6)
        if y_min < y0 or y_max > y1 or span < 0.5 * (y1 - y0):
            y_range = (y_min - 0.1 * span, y_max + 0.1 * span)
        if x_range or y_range:
            self.view.setRange(xRange=x_range or (x0, x1), yRange=y_range or (y0, y1), padding=0)

    @Slot()
    def _stop_following(self) -> None:
        self.following = False

    @Slot()
    def _follow_again(self) -> None:
        self.following = True
        self.view.disableAutoRange()


class _Metric:
    def __init__(self, info: MetricInfo, plot: pg.PlotItem, colour: str, smoothing: float):
        self.info = info
        self.raw, self.smooth = GrowingSeries(), GrowingSeries()
        self.ema: float | None = None
        self.smoothing = smoothing
        faint = pg.mkColor(colour)
        faint.setAlpha(70)
        self.raw_curve = plot.plot(pen=pg.mkPen(faint, width=1))
        self.smooth_curve = plot.plot(pen=pg.mkPen(colour, width=2), name=info.label)
        for curve in (self.raw_curve, self.smooth_curve):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)

    def append(self, step: int, value: float) -> None:
        self.ema = value if self.ema is None else self.smoothing * self.ema + (1 - self.smoothing) * value
        self.raw.append(step, value)
        self.smooth.append(step, self.ema)

    def redraw(self) -> None:
        self.raw_curve.setData(*self.raw.view())
        self.smooth_curve.setData(*self.smooth.view())


class MetricPlots(QWidget):
    """``set_metrics`` builds the plots; ``add_report`` appends; ``mark_event`` draws a labelled line
    (e.g. a rollback); ``step_clicked(step)`` on click."""

    step_clicked = Signal(int)

    def __init__(self, smoothing: float = 0.9, parent: QWidget | None = None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=False)
        self.smoothing = smoothing
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotWidget] = {}  # shown now, by group
        self._made: dict[str, pg.PlotWidget] = {}  # every group's widget so far
        self.metrics: dict[str, _Metric] = {}
        self._ranges: dict[str, SteppedRange] = {}
        self._epoch_marks: list[pg.InfiniteLine] = []
        self.event_marks: list[tuple[int, str]] = []
        self._steps_per_epoch = 0
        self._last_epoch_marked = 0
        self._dirty = False
        self._pace = AdaptiveInterval()
        self._timer = QTimer(self)
        self._timer.setInterval(self._pace.fastest_ms)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def set_metrics(self, metrics: tuple[MetricInfo, ...], steps_per_epoch: int = 0) -> None:
        """Start over with plots for these metrics. Plot widgets are made once per group and reused
        (deleting pyqtgraph widgets while Python still holds their items can crash)."""
        for widget in self._made.values():
            widget.getPlotItem().clear()
            widget.hide()
        self.plots, self.metrics, self._epoch_marks, self.event_marks = {}, {}, [], []
        self._steps_per_epoch, self._last_epoch_marked = steps_per_epoch, 0
        for i, info in enumerate(metrics):
            if info.plot not in self.plots:
                self.plots[info.plot] = self._plot_widget(info.plot)
                self.plots[info.plot].show()
                self._ranges[info.plot].reset()
            self.metrics[info.key] = _Metric(info, self.plots[info.plot].getPlotItem(), COLOURS[i % len(COLOURS)],
                                             self.smoothing)
        for group, widget in self.plots.items():  # four or more names: two columns, so none falls off the plot
            curves = sum(info.plot == group for info in metrics)
            widget.getPlotItem().legend.setColumnCount(2 if curves > 3 else 1)
        self._dirty = True

    def _plot_widget(self, group: str) -> pg.PlotWidget:
        if group not in self._made:
            widget = pg.PlotWidget()
            widget.setObjectName(f"plot_{group}")
            widget.setBackground(None)
            item = widget.getPlotItem()
            item.setTitle(group[:1].upper() + group[1:])
            item.showGrid(x=True, y=True, alpha=0.2)
            item.setLabel("bottom", "step")
            item.addLegend(offset=(-10, 10))
            for axis in ("left", "bottom"):
                item.getAxis(axis).setCacheMode(pg.QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self._ranges[group] = SteppedRange(item)
            widget.scene().sigMouseClicked.connect(self._on_click)
            self.layout_.addWidget(widget, 1)
            self._made[group] = widget
        return self._made[group]

    def set_steps_per_epoch(self, steps_per_epoch: int) -> None:
        self._steps_per_epoch = steps_per_epoch

    def add_report(self, step: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            if key in self.metrics:
                self.metrics[key].append(step, value)
        self._mark_epochs(step)
        self._dirty = True

    def mark_event(self, step: int, label: str) -> None:
        """A red dashed line at ``step`` with ``label`` in every plot."""
        self.event_marks.append((step, label))
        pen = pg.mkPen("#d62728", width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine)
        for widget in self.plots.values():
            widget.addItem(pg.InfiniteLine(step, angle=90, pen=pen, label=label, labelOpts={
                "position": 0.9, "color": "#d62728", "anchors": [(0, 0.5), (0, 0.5)]}), ignoreBounds=True)

    def mark_level(self, group: str, value: float, label: str) -> None:
        """A grey dotted horizontal line at ``value`` with ``label`` in the plot of ``group`` (e.g. 1 = as real)."""
        widget = self.plots.get(group)
        if widget is not None:
            pen = pg.mkPen("#888888", width=1, style=pg.QtCore.Qt.PenStyle.DotLine)
            widget.addItem(pg.InfiniteLine(value, angle=0, pen=pen, label=label,
                                           labelOpts={"position": 0.03, "color": "#888888"}), ignoreBounds=True)

    def point_count(self) -> int:
        return max((m.raw.n for m in self.metrics.values()), default=0)

    def _mark_epochs(self, step: int) -> None:
        if self._steps_per_epoch <= 0:
            return
        epoch = step // self._steps_per_epoch
        while self._last_epoch_marked < epoch and len(self._epoch_marks) < MAX_EPOCH_MARKS:
            self._last_epoch_marked += 1
            x = self._last_epoch_marked * self._steps_per_epoch
            for widget in self.plots.values():
                line = pg.InfiniteLine(x, angle=90, pen=pg.mkPen("#888888", width=1, style=pg.QtCore.Qt.PenStyle.DotLine),
                                       label=f"epoch {self._last_epoch_marked}",
                                       labelOpts={"position": 0.95, "color": "#888888"})
                widget.addItem(line, ignoreBounds=True)
                self._epoch_marks.append(line)
        self._last_epoch_marked = max(self._last_epoch_marked, epoch)

    @Slot()
    def _redraw(self) -> None:
        self._timer.setInterval(self._pace.next_interval())
        if not self._dirty:
            return
        self._dirty = False
        for metric in self.metrics.values():
            metric.redraw()
        for group in self.plots:
            series = [m.raw for m in self.metrics.values() if m.info.plot == group and m.raw.n]
            if series:
                self._ranges[group].fit(max(s.x[s.n - 1] for s in series), min(s.y_min for s in series),
                                        max(s.y_max for s in series))

    @Slot(object)
    def _on_click(self, event) -> None:
        for widget in self.plots.values():
            view = widget.getPlotItem().getViewBox()
            if view.sceneBoundingRect().contains(event.scenePos()):
                step = view.mapSceneToView(event.scenePos()).x()
                self.step_clicked.emit(max(0, round(step)))
                return
