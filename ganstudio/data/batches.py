"""Batches for the training loop, with no per-sample work: the whole data set is a few named tensors
(on the GPU when they fit), and each batch is an index into a per-epoch permutation."""

from __future__ import annotations

import torch

# Keep the data set on the GPU when it needs at most this share of the free memory.
GPU_RESIDENT_SHARE = 0.4


def as_model_input(tensors: dict[str, torch.Tensor], memory_format=torch.contiguous_format) -> dict[str, torch.Tensor]:
    """Named data tensors as a family reads them: uint8 images -> float32 in [-1, 1] (in
    ``memory_format``); class indices unchanged."""
    return {name: t.float().div_(127.5).sub_(1.0).contiguous(memory_format=memory_format)
            if t.dtype == torch.uint8 else t for name, t in tensors.items()}


class DeviceBatches:
    """tensors: name -> (N, ...) tensors of one length, e.g. {"image": uint8 (N, C, H, W), "label":
    int64 (N,)}.

    ``batch(step)`` gives step's dict of the same names on the device, images as float32 in [-1, 1].
    Epoch e's order is a permutation seeded by (seed, e), so any step can be reproduced without saved
    loader state (exact resume). The last incomplete batch of an epoch is dropped.
    """

    def __init__(self, tensors: dict[str, torch.Tensor], batch_size: int, device: torch.device, seed: int,
                 channels_last: bool = False):
        length = {len(t) for t in tensors.values()}
        if len(length) != 1:
            raise ValueError(f"the named tensors differ in length: {({k: len(t) for k, t in tensors.items()})}")
        self.length = length.pop()
        if batch_size > self.length:
            raise ValueError("batch size larger than the data set")
        self.device = device
        self.batch_size = batch_size
        self.steps_per_epoch = self.length // batch_size
        self.seed = seed
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.resident = device.type != "cuda" or self._fits_on_gpu(tensors)
        store = device if self.resident else torch.device("cpu")
        self.tensors = {name: t.to(store) for name, t in tensors.items()}
        if not self.resident and torch.cuda.is_available():
            self.tensors = {name: t.pin_memory() for name, t in self.tensors.items()}
        self._epoch = -1
        self._order = torch.empty(0, dtype=torch.int64)

    def _fits_on_gpu(self, tensors: dict[str, torch.Tensor]) -> bool:
        free, _ = torch.cuda.mem_get_info(self.device)
        return sum(t.numel() * t.element_size() for t in tensors.values()) <= GPU_RESIDENT_SHARE * free

    def epoch_order(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._order = torch.randperm(self.length, generator=g).to(next(iter(self.tensors.values())).device)
            self._epoch = epoch
        return self._order

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        epoch, index = divmod(step, self.steps_per_epoch)
        idx = self.epoch_order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        picked = {name: t.index_select(0, idx).to(self.device, non_blocking=True) for name, t in self.tensors.items()}
        return as_model_input(picked, self.memory_format)
