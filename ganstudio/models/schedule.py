"""The learning-rate schedule of CycleGAN (section 4 of arXiv 1703.10593: the rate is kept for the first
100 epochs and decays linearly to zero over the next 100) and StarGAN (the same over its last 10 of 20
epochs): constant until a share of the run, then a straight line to zero at its last step."""

from __future__ import annotations

import torch


class LinearDecay:
    """Scales the optimisers' learning rates by ``factor(step)`` each step; the base rates are the ones
    they hold when the schedule is made (the run's, or a rollback's lowered ones)."""

    def __init__(self, optimizers: list[torch.optim.Optimizer], start_step: int, total_steps: int,
                 decay_from: float = 0.5):
        self.optimizers = optimizers
        self.base = [[group["lr"] for group in opt.param_groups] for opt in optimizers]
        self.step = start_step
        self.total = max(total_steps, 1)
        self.decay_start = decay_from * self.total

    def factor(self, step: int) -> float:
        """1 before the decay starts, then linearly down to 0 at the last step."""
        if step < self.decay_start:
            return 1.0
        return max(0.0, (self.total - step) / max(self.total - self.decay_start, 1.0))

    def advance(self) -> float:
        """Set this step's rates and move on; returns the factor used."""
        factor = self.factor(self.step)
        for opt, rates in zip(self.optimizers, self.base):
            for group, lr in zip(opt.param_groups, rates):
                group["lr"] = lr * factor
        self.step += 1
        return factor
