"""Randomness for helper threads that never touches torch's global generator.

The training thread draws from the global CPU generator (noise, dropout) and restores it from
checkpoints for an exact resume. A helper thread (quality measures, the explorer's attribute model)
that seeded or drew from it would silently change the run. Helpers build and train their networks
with a private ``torch.Generator`` instead:

    net = build_module(lambda: AttributeNet(1, 7), seed=0)   # PyTorch's default init, privately drawn
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)

# Layers whose default initialisation is uniform in ±1/sqrt(fan_in) for weight and bias
# (kaiming_uniform_ with a = sqrt(5), as their reset_parameters does).
_FAN_IN_UNIFORM = (nn.Linear, nn.modules.conv._ConvNd)
# Layers whose reset_parameters draws nothing.
_DETERMINISTIC = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.PReLU)


def build_module(factory: Callable[[], M], seed: int) -> M:
    """``factory()`` built on the meta device, then given PyTorch's default initial weights drawn from
    ``torch.Generator().manual_seed(seed)`` on the CPU. Raises TypeError for a layer it cannot
    initialise (so a new layer type is never left uninitialised)."""
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    for layer in module.modules():
        if isinstance(layer, _FAN_IN_UNIFORM):
            bound = 1.0 / math.sqrt(layer.weight[0].numel())  # fan_in, also for transposed convs
            with torch.no_grad():
                layer.weight.uniform_(-bound, bound, generator=generator)
                if layer.bias is not None:
                    layer.bias.uniform_(-bound, bound, generator=generator)
        elif isinstance(layer, _DETERMINISTIC):
            layer.reset_parameters()
        elif next(layer.parameters(recurse=False), None) is not None or next(layer.buffers(recurse=False), None) is not None:
            raise TypeError(f"build_module cannot initialise {type(layer).__name__}")
    return module
