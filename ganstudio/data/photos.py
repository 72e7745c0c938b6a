"""Images of any size, kept at their own resolution, and random square crops from them: the training
data of super-resolution, which learns from high-resolution patches of whole photos (SRGAN, Ledig et al.,
arXiv 1609.04802, section 3.2: random 96×96 crops) rather than from photos shrunk to the patch size.

The images of a set share a channel count and are packed into one flat uint8 buffer, so a batch of crops
is a single gather on whichever device holds it (no per-sample Python work)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ganstudio.data.base import IMAGE
from ganstudio.data.batches import as_model_input
from ganstudio.distributed import ONE_PROCESS, Shard


class Photos:
    """N images of channel count C and sizes (H_i, W_i), packed.

    pixels:  (Σ C·H_i·W_i,) uint8, image i at ``offsets[i]`` in C×H_i×W_i order.
    sizes:   (N, 2) int64, (H_i, W_i).
    offsets: (N,) int64.
    """

    def __init__(self, pixels: torch.Tensor, sizes: torch.Tensor, channels: int):
        if pixels.dtype != torch.uint8 or pixels.ndim != 1:
            raise ValueError("pixels must be a flat uint8 tensor")
        counts = channels * sizes[:, 0] * sizes[:, 1]
        if int(counts.sum()) != pixels.numel():
            raise ValueError("the sizes do not add up to the pixels")
        self.pixels, self.sizes, self.channels = pixels, sizes.to(torch.int64), channels
        self.offsets = torch.cumsum(counts, 0) - counts

    @classmethod
    def from_arrays(cls, images: Sequence[np.ndarray]) -> Photos:
        """(C, H_i, W_i) uint8 arrays of one channel count -> Photos."""
        channels = {a.shape[0] for a in images}
        if len(channels) != 1:
            raise ValueError(f"the images differ in channel count: {sorted(channels)}")
        sizes = torch.tensor([a.shape[1:] for a in images], dtype=torch.int64).reshape(-1, 2)
        pixels = torch.from_numpy(np.concatenate([np.ascontiguousarray(a).ravel() for a in images]))
        return cls(pixels, sizes, channels.pop())

    @classmethod
    def from_images(cls, images: torch.Tensor) -> Photos:
        """(N, C, H, W) uint8 images of one size -> Photos (no copy when contiguous)."""
        n, c, h, w = images.shape
        return cls(images.contiguous().view(-1), torch.tensor([[h, w]] * n, dtype=torch.int64).reshape(-1, 2), c)

    def __len__(self) -> int:
        return len(self.sizes)

    @property
    def device(self) -> torch.device:
        return self.pixels.device

    def image(self, i: int) -> torch.Tensor:
        """Image ``i`` as a (C, H, W) uint8 view."""
        h, w = (int(v) for v in self.sizes[i])
        start = int(self.offsets[i])
        return self.pixels[start:start + self.channels * h * w].view(self.channels, h, w)

    def subset(self, index: torch.Tensor) -> Photos:
        return Photos.from_arrays([self.image(int(i)).cpu().numpy() for i in index]) if len(index) else \
            Photos(torch.empty(0, dtype=torch.uint8), torch.empty(0, 2, dtype=torch.int64), self.channels)

    def to(self, device: torch.device) -> Photos:
        moved = Photos.__new__(Photos)
        moved.pixels, moved.sizes, moved.offsets, moved.channels = (
            self.pixels.to(device), self.sizes.to(device), self.offsets.to(device), self.channels)
        return moved

    def crops(self, index: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: int) -> torch.Tensor:
        """(B, C, size, size) uint8: the square at (top, left) of image index[b], for (B,) int64 tensors on
        this set's device. One gather."""
        width = self.sizes[index, 1].view(-1, 1, 1, 1)
        plane = self.sizes[index, 0].view(-1, 1, 1, 1) * width
        span = torch.arange(size, device=self.device)
        channel = torch.arange(self.channels, device=self.device).view(1, -1, 1, 1)
        flat = (self.offsets[index].view(-1, 1, 1, 1) + channel * plane
                + (top.view(-1, 1, 1, 1) + span.view(1, 1, -1, 1)) * width + left.view(-1, 1, 1, 1) + span.view(1, 1, 1, -1))
        return self.pixels[flat]

    def centre_crops(self, size: int) -> torch.Tensor:
        """(N, C, size, size) uint8: each image's central square."""
        index = torch.arange(len(self), device=self.device)
        return self.crops(index, (self.sizes[:, 0] - size) // 2, (self.sizes[:, 1] - size) // 2, size)


class CropBatches:
    """Batches of random ``size``-pixel squares cropped from ``photos``, on ``device``.

    ``batch(step)`` gives {IMAGE: (B, C, size, size) float32 in [-1, 1]}. The images are drawn in a stream
    of per-pass permutations seeded by (seed, pass), so a batch may hold more crops than there are images
    (a folder of five photos trains at batch 16), and each crop's position is drawn from a generator seeded
    by (seed, step): any step can be reproduced without saved state (exact resume). An epoch is one pass.
    ``batch_size`` is the global batch; a process of a distributed run (``shard``) gets its rows of it."""

    def __init__(self, photos: Photos, size: int, batch_size: int, device: torch.device, seed: int,
                 channels_last: bool = False, shard: Shard = ONE_PROCESS):
        small = (photos.sizes < size).any(dim=1)
        if small.any():
            raise ValueError(f"{int(small.sum())} images are smaller than the {size} px crops")
        self.photos = photos.to(device)
        self.size, self.batch_size, self.device, self.seed = size, batch_size, device, seed
        self.rows = shard.rows(batch_size)
        self.steps_per_epoch = max(1, len(photos) // batch_size)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.resident = True
        self._orders: dict[int, torch.Tensor] = {}

    def _order(self, number: int) -> torch.Tensor:
        if number not in self._orders:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + number)
            self._orders = {number: torch.randperm(len(self.photos), generator=g)}  # keeps the latest pass only
        return self._orders[number]

    def indices(self, step: int) -> torch.Tensor:
        """The (B,) image indices of ``step``: items step·B .. step·B + B − 1 of the stream of passes."""
        n = len(self.photos)
        items = range(step * self.batch_size, (step + 1) * self.batch_size)
        return torch.stack([self._order(i // n)[i % n] for i in items])

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        index = self.indices(step)
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + 7_919 * step + 1)
        room = self.photos.sizes.cpu()[index] - self.size + 1  # (B, 2) positions that fit
        top, left = (torch.floor(torch.rand(len(index), generator=g) * room[:, k]).long() for k in (0, 1))
        index, top, left = index[self.rows], top[self.rows], left[self.rows]
        crops = self.photos.crops(index.to(self.device), top.to(self.device), left.to(self.device), self.size)
        return as_model_input({IMAGE: crops}, self.memory_format)
