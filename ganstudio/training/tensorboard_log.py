"""TensorBoard event files beside a run's own logs, with the optional extra (``pip install "ganstudio[tensorboard]"``),
so that ``tensorboard --logdir runs/`` shows ganstudio runs beside others:

    RUN/tb/events.out.tfevents.*   train/<metric> and speed/images_per_s at each report, quality/<measure> at
                                   each evaluation, "samples" (the run's sample grid) at each sample step, and
                                   the run's config as hyper-parameters (hparams plugin)

The engine adds a :class:`TensorBoardLog` to the lead process's callbacks when ``TrainConfig.tensorboard`` is set
and the extra is installed; without the extra nothing changes.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path

from ganstudio.config import RunConfig
from ganstudio.events import QualityReport, RunEnded, RunStarted, SamplesReport, StepReport, TrainingWarning
from ganstudio.images import image_grid, read_png
from ganstudio.training.engine import TrainerCallback
from ganstudio.training.runs import RunFolder

TB_DIR = "tb"  # under the run folder
INSTALL_HINT = 'pip install "ganstudio[tensorboard]"'


def tensorboard_available() -> bool:
    """Whether the tensorboard extra is installed (``torch.utils.tensorboard`` needs it); imports nothing."""
    return importlib.util.find_spec("tensorboard") is not None


def flat_hparams(config: RunConfig) -> dict[str, bool | int | float | str]:
    """The config as the hparams plugin's values: {"train.lr_g": 0.0002, "model.options.n_critic": 5.0,
    "data.noises": "babble,white", ...}; sequences joined by commas, None left out (shown blank)."""
    flat: dict[str, bool | int | float | str] = {}

    def add(name: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{name}.{key}" if name else key, inner)
        elif isinstance(value, (list, tuple)):
            flat[name] = ",".join(map(str, value))
        elif value is not None:
            flat[name] = value

    add("", config.to_dict())
    return flat


def _guarded(hook):
    """A hook that writes while the log is open and turns a failure into one warning: training goes on."""

    @functools.wraps(hook)
    def guarded(self: TensorBoardLog, event) -> None:
        if self.writer is None:
            return
        try:
            hook(self, event)
        except Exception as e:  # noqa: BLE001  the log is an extra: say so once and train on without it
            self._fail(event.step, e)

    return guarded


class TensorBoardLog(TrainerCallback):
    """Writes a run's events to ``RUN/tb/`` with ``torch.utils.tensorboard.SummaryWriter``:

    - on_start: the run's config (``config.json``) as hparams, once, when the folder is new; a resumed run
      (from step k) appends to the same folder with ``purge_step`` k + 1, so TensorBoard drops what an abandoned
      branch logged after step k, as the run folder sets its grids and checkpoints aside.
    - on_step: ``train/<metric>`` for each of the family's metrics and ``speed/images_per_s``. The hparams
      table shows their last values as the run's metrics.
    - on_quality: ``quality/<measure>`` (fid_domain, kid_domain, precision_domain, ...).
    - on_samples: ``samples``, the grid PNG the run saved (the family's layout, e.g. input | output | target),
      else the images in a square grid.
    - on_end: flushes and closes.

    Events reach the disk every ``flush_secs`` (a live TensorBoard follows the run) and at the end. A failure to
    write closes the log and becomes one ``TrainingWarning`` handed to ``warn``, never an exception.
    """

    def __init__(self, warn: Callable[[TrainingWarning], None] = lambda warning: None, flush_secs: float = 10):
        self.warn, self.flush_secs = warn, flush_secs
        self.writer = None  # a SummaryWriter while open

    def on_start(self, event: RunStarted) -> None:
        folder = Path(event.run_dir) / TB_DIR
        try:
            from torch.utils.tensorboard import SummaryWriter
            from torch.utils.tensorboard.summary import hparams

            new = not any(folder.glob("events.out.tfevents.*"))
            self.writer = SummaryWriter(folder, purge_step=event.start_step + 1 if event.start_step else None,
                                        flush_secs=self.flush_secs)
            if new:  # the session's hparams only: TensorBoard gathers the experiment from all runs' sessions
                _, session_start, _ = hparams(flat_hparams(RunFolder(event.run_dir).read_config()), {})
                self.writer.file_writer.add_summary(session_start)
        except Exception as e:  # noqa: BLE001  the log is an extra: say so once and train on without it
            self._fail(event.start_step, e)

    @_guarded
    def on_step(self, event: StepReport) -> None:
        for key, value in event.metrics.items():
            self.writer.add_scalar(f"train/{key}", value, event.step)
        self.writer.add_scalar("speed/images_per_s", event.images_per_s, event.step)

    @_guarded
    def on_quality(self, event: QualityReport) -> None:
        for key, value in event.values.items():
            self.writer.add_scalar(f"quality/{key}", value, event.step)

    @_guarded
    def on_samples(self, event: SamplesReport) -> None:
        grid = read_png(event.path) if event.path is not None else image_grid(event.images)
        self.writer.add_image("samples", grid, event.step, dataformats="HWC")

    @_guarded
    def on_end(self, event: RunEnded) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close (again: nothing)."""
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()

    def _fail(self, step: int, error: Exception) -> None:
        with contextlib.suppress(Exception):
            self.close()
        self.warn(TrainingWarning(step, "tensorboard", f"TensorBoard logs could not be written "
                                                       f"({type(error).__name__}: {error}); training goes on "
                                                       f"without them."))
