"""The history of generated images that CycleGAN's discriminators learn from (Shrivastava et al. 2017,
as used in section 4 of arXiv 1703.10593): a buffer of the last 50 fakes; each new fake is shown to D
as it is, or, with probability ½ once the buffer is full, swapped for a stored one. It damps the
oscillation of D chasing G's latest outputs."""

from __future__ import annotations

import torch
from torch import nn

from ganstudio import distributed


class ImagePool(nn.Module):
    """Stored images are buffers, so checkpoints keep the pool and a resume continues exactly. Its
    random choices come from the global generator, whose state checkpoints also keep.

    Under torchrun the pool is one for the run: each query gathers every process's fakes (the global
    batch) and draws its choices from the step's shared stream, so all processes hold the same pool (the
    lead's checkpoint is everyone's: a resume is exact) and each takes back its own rows."""

    def __init__(self, capacity: int, image_shape: tuple[int, int, int]):
        super().__init__()
        self.capacity = capacity
        self.register_buffer("images", torch.zeros(capacity, *image_shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """fakes (N, C, H, W) -> the N images D sees: each a fake, or a stored one it replaces."""
        if self.capacity == 0:
            return fakes
        fakes = distributed.gather_rows(fakes)
        out = fakes.clone()
        count = int(self.count)
        shared = distributed.shared_generator()
        swap = torch.rand(len(fakes), generator=shared) < 0.5
        slot = torch.randint(self.capacity, (len(fakes),), generator=shared)
        for i in range(len(fakes)):
            if count < self.capacity:
                self.images[count] = fakes[i]
                count += 1
            elif swap[i]:
                out[i] = self.images[slot[i]]
                self.images[slot[i]] = fakes[i]
        self.count.fill_(count)
        return distributed.own_rows(out)
