"""Quality measured during training, off the training step's critical path.

A single background thread prepares, with the first evaluation, the feature network (trained once per
data set, cached) and a fixed sample of real images, then evaluates generator snapshots one at a time. A snapshot that
arrives while one is still being evaluated is skipped, so the cost stays bounded: at most one
evaluation in flight. Results are collected by the training loop, which records and reports them.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

from ganstudio.config import DataConfig
from ganstudio.data.base import ImageSet
from ganstudio.latent.snapshot import GeneratorSnapshot
from ganstudio.metrics.evaluate import evaluate
from ganstudio.metrics.features import FeatureNetwork, feature_network


class QualityEvaluator:
    """``submit(snapshot)`` starts an evaluation unless one is running; ``collect()`` returns finished
    records ({"step", "eval_seconds", "fid_domain", ...}); ``note`` says which features are used."""

    def __init__(self, data_config: DataConfig, data: ImageSet, samples: int, features: str = "domain",
                 seed: int = 0):
        self.samples = samples
        self.features: FeatureNetwork | None = None  # set by _prepare on the quality thread
        self.note: str | None = None
        self._pending: Future | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quality")
        self._setup_args = (data_config, data, features, seed)
        self._setup: Future | None = None  # started with the first evaluation: short runs pay nothing

    def _prepare(self, data_config: DataConfig, data: ImageSet, kind: str, seed: int) -> np.ndarray:
        torch.set_num_threads(1)  # one core for quality; the training thread keeps its own count
        self.features, self.note = feature_network(kind, data_config, data)
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed + 2))[:self.samples]
        return data.images[order].permute(0, 2, 3, 1).numpy()

    def _evaluate(self, snapshot: GeneratorSnapshot) -> dict[str, float]:
        real = self._setup.result()
        start = time.perf_counter()
        record = evaluate(snapshot, real, self.features, n=self.samples)
        return {"step": snapshot.step, "eval_seconds": round(time.perf_counter() - start, 3), **record}

    def submit(self, snapshot: GeneratorSnapshot) -> bool:
        """Evaluate ``snapshot`` in the background; False (skipped) if an evaluation is running."""
        if self._pending is not None:  # running, or finished and not collected yet
            return False
        if self._setup is None:
            self._setup = self._pool.submit(self._prepare, *self._setup_args)
        self._pending = self._pool.submit(self._evaluate, snapshot)
        return True

    def collect(self, wait_s: float = 0.0) -> dict[str, float] | None:
        """A finished record, or None. Raises what the evaluation raised."""
        pending = self._pending
        if pending is None:
            return None
        if not pending.done():
            if wait_s <= 0:
                return None
            try:
                pending.result(timeout=wait_s)
            except TimeoutError:
                return None
        self._pending = None
        return pending.result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
