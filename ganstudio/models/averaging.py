"""A moving average of a generator's weights, which renders in place of the generator itself (Yazıcı et al.,
"The Unusual Effectiveness of Averaging in GAN Training", arXiv 1806.04498): it smooths the step-to-step swings
of the weights that a GAN's (and Adam's) noisy steps leave."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def update_average(average: nn.Module, model: nn.Module, beta: float, step: int) -> None:
    """θ_avg ← β'·θ_avg + (1 − β')·θ over weights and buffers (BatchNorm statistics; integer buffers copied), after
    ``model``'s update at ``step``; β' = min(β, (1 + step) / (10 + step)), so that the first steps do not keep
    the initial weights. β = 0: ``average`` is ``model``."""
    weight = 1.0 - min(beta, (1 + step) / (10 + step))
    for mean, now in zip(average.state_dict().values(), model.state_dict().values(), strict=True):
        if mean.is_floating_point():
            mean.lerp_(now, weight)
        else:
            mean.copy_(now)


def with_average(tensors: dict[str, torch.Tensor], network: str = "generator",
                 average: str = "generator_average") -> dict[str, torch.Tensor]:
    """A checkpoint's tensors (``net/<name>/<key>``) with ``average`` filled in from ``network`` where a
    checkpoint written before the family kept an average lacks it: such runs render with the network itself."""
    if any(key.startswith(f"net/{average}/") for key in tensors):
        return tensors
    prefix = f"net/{network}/"
    return tensors | {f"net/{average}/{key[len(prefix):]}": value
                      for key, value in tensors.items() if key.startswith(prefix)}
