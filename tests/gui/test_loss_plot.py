"""The metric plots' view follows the data in steps, and lets go when the person pans."""

import pytest

from ganstudio.gui.widgets.loss_plot import MetricPlots, nice_ceiling
from ganstudio.models.gan import MLPGAN

pytestmark = pytest.mark.gui


def test_nice_ceiling():
    assert [nice_ceiling(x) for x in (1, 1.5, 3, 7, 10, 11, 480, 2001)] == [1, 2, 5, 10, 10, 20, 500, 5000]


def test_view_grows_in_steps_and_stops_following_after_a_pan(qtbot):
    plots = MetricPlots()
    qtbot.addWidget(plots)
    plots.set_metrics(MLPGAN.metrics)
    view = plots.plots["losses"].getPlotItem().getViewBox()

    def report(step, loss):
        plots.add_report(step, {"loss_d": loss, "loss_g": loss, "d_real": 0.5, "d_fake": 0.5})
        plots._redraw()

    for step in range(1, 121):
        report(step, 1.0 + (step % 7) / 10)
    (x0, x1), (y0, y1) = view.viewRange()
    assert (x0, x1) == (0, 200)
    assert y0 < 1.0 and y1 > 1.6
    report(150, 1.3)  # inside the view: nothing moves, so the axes need no new layout
    assert view.viewRange()[0] == [0, 200]
    report(201, 4.0)
    assert view.viewRange()[0] == [0, 500] and view.viewRange()[1][1] > 4.0

    view.sigRangeChangedManually.emit(view.state["mouseEnabled"])  # as a drag or wheel zoom does
    report(900, 9.0)
    assert view.viewRange()[0] == [0, 500]  # the person's view is kept
