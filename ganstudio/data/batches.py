"""Batches for the training loop, with no per-sample work: the whole data set is one uint8 tensor
(on the GPU when it fits), and each batch is an index into a per-epoch permutation."""

from __future__ import annotations

import torch

# Keep the data set on the GPU when it needs at most this share of the free memory.
GPU_RESIDENT_SHARE = 0.4


class DeviceBatches:
    """images: (N, C, H, W) uint8; labels: (N,) int64 or None.

    ``batch(step)`` gives step's (images (B, C, H, W) float32 in [-1, 1], labels (B,) or None) on the
    device. Epoch e's order is a permutation seeded by (seed, e), so any step can be reproduced
    without saved loader state (exact resume). The last incomplete batch of an epoch is dropped.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None, batch_size: int,
                 device: torch.device, seed: int, channels_last: bool = False):
        if batch_size > len(images):
            raise ValueError("batch size larger than the data set")
        self.device = device
        self.batch_size = batch_size
        self.steps_per_epoch = len(images) // batch_size
        self.seed = seed
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.resident = device.type != "cuda" or self._fits_on_gpu(images)
        store = device if self.resident else torch.device("cpu")
        self.images = images.to(store)
        self.labels = labels.to(store) if labels is not None else None
        if not self.resident and torch.cuda.is_available():
            self.images = self.images.pin_memory()
        self._epoch = -1
        self._order = torch.empty(0, dtype=torch.int64)

    def _fits_on_gpu(self, images: torch.Tensor) -> bool:
        free, _ = torch.cuda.mem_get_info(self.device)
        return images.numel() * images.element_size() <= GPU_RESIDENT_SHARE * free

    def epoch_order(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._order = torch.randperm(len(self.images), generator=g).to(self.images.device)
            self._epoch = epoch
        return self._order

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        epoch, index = divmod(step, self.steps_per_epoch)
        idx = self.epoch_order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.images.index_select(0, idx).to(self.device, non_blocking=True)
        images = images.float().div_(127.5).sub_(1.0).contiguous(memory_format=self.memory_format)
        labels = self.labels.index_select(0, idx).to(self.device, non_blocking=True) if self.labels is not None else None
        return images, labels
