"""Plain-language warnings when training goes wrong, from the numbers the engine already has.

- Discriminator winning: D's loss stays near 0 (D(x) ~ 1, D(G(z)) ~ 0) for many steps, so G gets
  almost no gradient (Goodfellow et al. 2014, sec. 3; Arjovsky & Bottou, arXiv 1701.04862).
- G ignores D (translation, e.g. pix2pix): the weighted adversarial term is under 2 % of G's loss and
  not falling for many steps, so λ·L1 does all the work and the outputs turn out as blurry as L1 alone
  makes them (Isola et al. 2016, section 4.2).
- Diverging (the BCE objective): a loss stays above ``loss_ceiling`` (25: D's logits beyond ±25, where
  a sigmoid is 1e-11 from 0 or 1), i.e. the learning rate is far too high; the run goes on, unlike a NaN.
- Mode collapse: the fixed-z samples look alike; their mean pairwise distance falls far below that of
  the same number of real images; or, from the quality evaluations, recall (coverage of the real
  data) falls far below its best; or samples look real (precision) but cover almost nothing (recall,
  and the factor or class coverage where it is measured).
- Oscillation: the FID turns up and down over the last evaluations and rises at least twice by more
  than half its lowest value (a falling FID with one bump is progress, not oscillation).
- No progress: the FID has not improved on its best for a number of evaluations.
"""

from __future__ import annotations

import itertools

import numpy as np

from ganstudio.events import QualityReport, SamplesReport, StepReport, TrainingWarning

WINNING_ADVICE = "Try a lower discriminator learning rate, a smaller discriminator, or a WGAN-GP family."


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
                 collapse_ratio: float = 0.3, warmup_steps: int = 400, stall_evaluations: int = 5,
                 oscillation_window: int = 6, loss_ceiling: float = 25.0, diverging_steps: int = 100,
                 narrow_coverage: float = 0.35, winning_advice: str = WINNING_ADVICE,
                 loss_weights: tuple[float, float] | None = None, ignored_share: float = 0.02):
        """``loss_weights``: (adversarial weight, L1 weight λ) of a translation family's G loss; with them
        the monitor watches the share of the adversarial term in ``loss_g_adv`` and ``l1``."""
        self.real_diversity = real_diversity
        self.stall_evaluations, self.oscillation_window = stall_evaluations, oscillation_window
        self._fids: list[tuple[int, float]] = []
        self._best_recall = 0.0
        self._narrow_count = 0
        self.narrow_coverage = narrow_coverage
        self.d_loss_floor, self.winning_steps = d_loss_floor, winning_steps
        self.collapse_ratio, self.warmup_steps = collapse_ratio, warmup_steps
        self._low_since: int | None = None
        self.loss_ceiling, self.diverging_steps = loss_ceiling, diverging_steps
        self._high_since: int | None = None
        self.winning_advice = winning_advice
        self.loss_weights, self.ignored_share = loss_weights, ignored_share
        self._ignored_since: tuple[int, float] | None = None  # (step, adversarial loss then)
        self._active: set[str] = set()
        self.cleared: list[tuple[int, str]] = []  # (step, kind): a warned condition that no longer holds

    def _once(self, kind: str, condition: bool, step: int, message: str) -> list[TrainingWarning]:
        if not condition:
            if kind in self._active:
                self._active.discard(kind)
                self.cleared.append((step, kind))
            return []
        if kind in self._active:
            return []
        self._active.add(kind)
        return [TrainingWarning(step, kind, message)]

    def observe_step(self, report: StepReport) -> list[TrainingWarning]:
        warnings = self._observe_ignored_discriminator(report)
        loss_d = report.metrics.get("loss_d")
        if loss_d is None or self.d_loss_floor is None:
            return warnings
        if loss_d < self.d_loss_floor:
            self._low_since = report.step if self._low_since is None else self._low_since
        else:
            self._low_since = None
        winning = self._low_since is not None and report.step - self._low_since >= self.winning_steps
        warnings += self._once(
            "discriminator_winning", winning, report.step,
            f"The discriminator is winning: its loss has stayed near 0 for {report.step - (self._low_since or 0)} "
            f"steps, so the generator gets almost no signal to learn from. {self.winning_advice}")
        # The BCE losses of a healthy run stay below ~10; above the ceiling D's logits have run away.
        loss = max(loss_d, report.metrics.get("loss_g", 0.0))
        if loss > self.loss_ceiling:
            self._high_since = report.step if self._high_since is None else self._high_since
        else:
            self._high_since = None
        diverging = self._high_since is not None and report.step - self._high_since >= self.diverging_steps
        warnings += self._once(
            "diverging", diverging, report.step,
            f"Training is diverging: the losses have exploded (now {loss:.3g}; a healthy run stays below 10), "
            "so the discriminator's outputs have run off and the images saturate. The learning rates are far "
            "too high: lower them (e.g. ×0.1) and restart, or roll back to an earlier checkpoint.")
        return warnings

    def _observe_ignored_discriminator(self, report: StepReport) -> list[TrainingWarning]:
        adversarial, l1 = report.metrics.get("loss_g_adv"), report.metrics.get("l1")
        if self.loss_weights is None or adversarial is None or l1 is None or not self.loss_weights[0]:
            return []  # adversarial weight 0: L1 alone on purpose
        w_adv, w_l1 = self.loss_weights
        share = w_adv * adversarial / max(w_adv * adversarial + w_l1 * l1, 1e-12)
        if share >= self.ignored_share or report.step < self.warmup_steps:
            self._ignored_since = None
        elif self._ignored_since is None:
            self._ignored_since = (report.step, adversarial)
        since = self._ignored_since
        ignored = since is not None and report.step - since[0] >= self.winning_steps and adversarial >= 0.9 * since[1]
        return self._once(
            "generator_ignores_discriminator", ignored, report.step,
            f"The generator ignores the discriminator: the adversarial term is {share:.1%} of its loss and has "
            f"not fallen for {report.step - since[0] if since else 0} steps, so the L1 term does all the work and "
            "the outputs will be as blurry as L1 alone makes them. Lower the L1 weight λ (the paper: 100) or "
            "raise the adversarial weight.")

    def observe_samples(self, report: SamplesReport) -> list[TrainingWarning]:
        if report.step < self.warmup_steps or len(report.images) < 4 or self.real_diversity <= 0:
            return []
        ratio = mean_pairwise_distance(report.images) / self.real_diversity
        return self._once(
            "mode_collapse", ratio < self.collapse_ratio, report.step,
            f"Possible mode collapse: the samples look alike (their diversity is {ratio:.0%} of the "
            "real images'). Training may recover; if not, try a lower learning rate, a larger batch, "
            "or restart from an earlier checkpoint.")

    def observe_quality(self, report: QualityReport) -> list[TrainingWarning]:
        fid = next((v for k, v in report.values.items() if k.startswith("fid_")), None)
        recall = next((v for k, v in report.values.items() if k.startswith("recall_")), None)
        precision = next((v for k, v in report.values.items() if k.startswith("precision_")), 0.0)
        warnings: list[TrainingWarning] = []
        if recall is not None:
            self._best_recall = max(self._best_recall, recall)
            fell = self._best_recall >= 0.2 and recall < 0.4 * self._best_recall
            warnings += self._once(
                "recall_collapse", fell, report.step,
                f"The generator covers less and less of the data: recall fell to {recall:.0%} from "
                f"{self._best_recall:.0%} (mode collapse). Try a lower learning rate, a WGAN-GP family, or "
                "resume from an earlier checkpoint.")
            # Samples that look real but cover almost nothing, twice in a row (once is normal just as a
            # generator starts to work; noise from an untrained one has neither precision nor recall).
            # Where factor or class coverage is measured it must agree: the MLP GAN's and the VAE's
            # samples have recall ~0 in the domain features for their first thousand steps yet cover the
            # faces' factors at 0.45-0.6, while a collapse onto 1 or 3 faces covers them at 0.05 or 0.16
            # (10 faces: 0.43).
            coverage = [v for k, v in report.values.items() if k.startswith("coverage_") or k == "class_coverage"]
            narrow = (recall < 0.05 and precision > 0.3
                      and (not coverage or sum(coverage) / len(coverage) < self.narrow_coverage))
            self._narrow_count = self._narrow_count + 1 if narrow else 0
            warnings += self._once(
                "narrow_samples", self._narrow_count >= 2, report.step,
                f"The samples look real but cover almost none of the data (recall {recall:.0%}, precision "
                f"{precision:.0%}): the generator may have collapsed onto a few images. Try a lower learning "
                "rate or a WGAN-GP family.")
        if fid is None:
            return warnings
        self._fids.append((report.step, fid))
        best_index = min(range(len(self._fids)), key=lambda i: self._fids[i][1])
        since_best = len(self._fids) - 1 - best_index
        best_step, best_fid = self._fids[best_index]
        warnings += self._once(
            "no_progress", since_best >= self.stall_evaluations, report.step,
            f"No progress in quality: the FID has not improved on {best_fid:.3g} (step {best_step:,}) for "
            f"{since_best} evaluations. Early on a generator may still take off; later, try a lower learning "
            f"rate, or roll back to the best checkpoint (Run → Resume from best).")
        recent = [v for _, v in self._fids[-self.oscillation_window:]]
        turns = sum((b - a) * (c - b) < 0 for a, b, c in zip(recent, recent[1:], recent[2:]))
        big_rises = sum(b - a > 0.5 * min(recent) for a, b in itertools.pairwise(recent))
        swinging = len(recent) == self.oscillation_window and turns >= self.oscillation_window - 3 and big_rises >= 2
        warnings += self._once(
            "oscillation", swinging, report.step,
            "The quality oscillates: the FID goes up and down by more than half its best value between "
            "evaluations. The players may be circling each other: try lower learning rates (both), or "
            "for the classic GAN a smaller discriminator learning rate.")
        return warnings
