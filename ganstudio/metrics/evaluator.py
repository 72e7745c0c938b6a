"""Quality measured during training, off the training step's critical path.

One background thread first prepares the feature network (trained once per data set, then cached)
and a fixed sample of real images — ``prepare()`` starts this with the first training step, so that
it is done before the first evaluation — then evaluates generator snapshots one at a time, on one core. A snapshot that arrives while one is being evaluated is skipped:
at most one evaluation is in flight. The training loop collects the results, records and reports them.

``cancel()`` ends the preparation within one training step of the feature network and an evaluation
within one feature batch: a stopped run does not wait for it, and a process that exits waits at most
that long (a daemon thread would be killed inside torch at exit, which aborts the interpreter).
"""

from __future__ import annotations

import queue
import threading
import time

import numpy as np
import torch

from ganstudio.config import DataConfig
from ganstudio.data.base import ImageSet
from ganstudio.metrics.evaluate import evaluate
from ganstudio.metrics.features import FeatureNetwork, feature_network
from ganstudio.metrics.translation import held_out_quality
from ganstudio.snapshot import GeneratorSnapshot


class EvaluationCancelled(Exception):
    """Raised inside the quality thread when its work was cancelled."""


class QualityEvaluator:
    """``prepare()`` readies the features; ``submit(snapshot)`` starts an evaluation unless one is
    running; ``collect()`` returns a finished record ({"step", "eval_seconds", "fid_domain", ...});
    ``note`` says which features are used when they are not the ones asked for."""

    def __init__(self, data_config: DataConfig, data: ImageSet, samples: int, features: str = "domain",
                 seed: int = 0, held_out: ImageSet | None = None):
        """``held_out``: translation families are measured on these (up to ``samples`` of them)."""
        self.samples = samples
        self.features: FeatureNetwork | None = None  # set on the quality thread
        self.note: str | None = None
        self.pending_step: int | None = None  # the step being evaluated (or finished, not collected)
        self._setup_args = (data_config, data, features, seed)
        self._real: np.ndarray | None = None
        self._held = held_out
        self._prepare_error: BaseException | None = None
        self._ready = threading.Event()
        self._cancelled = threading.Event()
        self._jobs: queue.SimpleQueue[GeneratorSnapshot | None] = queue.SimpleQueue()
        self._result: dict[str, float] | BaseException | None = None
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the quality thread -----------------------------------------------------------------------

    def _work(self) -> None:
        try:
            torch.set_num_threads(1)  # one core; the training thread keeps its own count
            data_config, data, kind, seed = self._setup_args
            if data.clean is None:  # speech is measured against its clean clips, without features
                self.features, self.note = feature_network(kind, data_config, data, check=self._check)
                order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed + 2))[:self.samples]
                self._real = _hwc(data.images[order])
        except BaseException as e:  # noqa: BLE001  raised by wait_ready() and the next collect()
            self._prepare_error = self._result = e
            self._finished.set()
            return
        finally:
            self._ready.set()
        while (snapshot := self._jobs.get()) is not None:
            try:
                start = time.perf_counter()
                if self._held is None:
                    record = evaluate(snapshot, self._real, self.features, n=self.samples, check=self._check)
                else:
                    record = held_out_quality(snapshot, self._held, self.features, self.samples, self._check)
                self._result = {"step": snapshot.step, "eval_seconds": round(time.perf_counter() - start, 3), **record}
            except EvaluationCancelled:
                return
            except BaseException as e:  # noqa: BLE001
                self._result = e
            self._finished.set()

    def _check(self) -> None:
        """Called between batches of an evaluation."""
        if self._cancelled.is_set():
            raise EvaluationCancelled

    # -- the training thread ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Start preparing the feature network now (else with the first evaluation)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="quality")
            self._thread.start()

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the preparation; True once done. Raises what it raised."""
        self.prepare()
        ready = self._ready.wait(timeout_s)
        if self._prepare_error is not None:
            raise self._prepare_error
        return ready

    def submit(self, snapshot: GeneratorSnapshot) -> bool:
        """Evaluate ``snapshot`` in the background; False (skipped) if an evaluation is running."""
        if self.pending_step is not None or self._cancelled.is_set():
            return False
        self.prepare()
        self.pending_step = snapshot.step
        self._jobs.put(snapshot)
        return True

    def collect(self, wait_s: float = 0.0) -> dict[str, float] | None:
        """A finished record, or None. Raises what the preparation or evaluation raised."""
        if self.pending_step is None or not self._finished.wait(max(wait_s, 0.0)):
            return None
        result, self._result = self._result, None
        self._finished.clear()
        self.pending_step = None
        if isinstance(result, BaseException):
            raise result
        return result

    def cancel(self) -> None:
        """Stop the thread: an evaluation in flight ends within one feature batch, unrecorded."""
        self._cancelled.set()
        self._jobs.put(None)


def _hwc(images: torch.Tensor) -> np.ndarray:
    """uint8 (N, C, H, W) tensor -> (N, H, W, C) array."""
    return images.permute(0, 2, 3, 1).numpy()
