"""Plain-language warnings when training goes wrong, from the numbers the engine already has.

- Discriminator winning: D's loss stays near 0 (D(x) ~ 1, D(G(z)) ~ 0) for many steps, so G gets
  almost no gradient (Goodfellow et al. 2014, sec. 3; Arjovsky & Bottou, arXiv 1701.04862).
- Mode collapse: the fixed-z samples look alike; their mean pairwise distance falls far below that of
  the same number of real images.
"""

from __future__ import annotations

import numpy as np

from ganstudio.training.events import SamplesReport, StepReport, TrainingWarning


def mean_pairwise_distance(images: np.ndarray) -> float:
    """Mean L2 distance between all pairs of (N, H, W, C) uint8 images, scaled to [0, 1] pixels."""
    x = images.reshape(len(images), -1).astype(np.float64) / 255.0
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    n = len(x)
    return float(np.sqrt(d2).sum() / max(n * (n - 1), 1))


class HealthMonitor:
    """Feed it reports; it returns warnings, each once per episode (again only after recovery)."""

    def __init__(self, real_diversity: float, d_loss_floor: float | None = 0.05, winning_steps: int = 300,
                 collapse_ratio: float = 0.3, warmup_steps: int = 400):
        self.real_diversity = real_diversity
        self.d_loss_floor, self.winning_steps = d_loss_floor, winning_steps
        self.collapse_ratio, self.warmup_steps = collapse_ratio, warmup_steps
        self._low_since: int | None = None
        self._active: set[str] = set()

    def _once(self, kind: str, condition: bool, step: int, message: str) -> list[TrainingWarning]:
        if not condition:
            self._active.discard(kind)
            return []
        if kind in self._active:
            return []
        self._active.add(kind)
        return [TrainingWarning(step, kind, message)]

    def observe_step(self, report: StepReport) -> list[TrainingWarning]:
        loss_d = report.metrics.get("loss_d")
        if loss_d is None or self.d_loss_floor is None:
            return []
        if loss_d < self.d_loss_floor:
            self._low_since = report.step if self._low_since is None else self._low_since
        else:
            self._low_since = None
        winning = self._low_since is not None and report.step - self._low_since >= self.winning_steps
        return self._once(
            "discriminator_winning", winning, report.step,
            f"The discriminator is winning: its loss has stayed near 0 for {report.step - (self._low_since or 0)} "
            "steps, so the generator gets almost no signal to learn from. Try a lower discriminator "
            "learning rate, a smaller discriminator, or a WGAN-GP family.")

    def observe_samples(self, report: SamplesReport) -> list[TrainingWarning]:
        if report.step < self.warmup_steps or len(report.images) < 4 or self.real_diversity <= 0:
            return []
        ratio = mean_pairwise_distance(report.images) / self.real_diversity
        return self._once(
            "mode_collapse", ratio < self.collapse_ratio, report.step,
            f"Possible mode collapse: the samples look alike (their diversity is {ratio:.0%} of the "
            "real images'). Training may recover; if not, try a lower learning rate, a larger batch, "
            "or restart from an earlier checkpoint.")
