"""Batches for the training loop, with no per-sample work: the whole data set is a few named tensors
(on the GPU when they fit), and each batch is an index into a per-epoch permutation."""

from __future__ import annotations

import torch

from ganstudio.data.base import UNPAIRED
from ganstudio.distributed import ONE_PROCESS, Shard

# Keep the data set on the GPU when it needs at most this share of the free memory.
GPU_RESIDENT_SHARE = 0.4


def as_model_input(tensors: dict[str, torch.Tensor], memory_format=torch.contiguous_format) -> dict[str, torch.Tensor]:
    """Named data tensors as a family reads them: uint8 images -> float32 in [-1, 1] (in
    ``memory_format``), int16 waveforms -> float32 in [-1, 1); class indices unchanged."""
    def convert(t: torch.Tensor) -> torch.Tensor:
        if t.dtype == torch.uint8:
            return t.float().div_(127.5).sub_(1.0).contiguous(memory_format=memory_format)
        return t.float().div_(32768.0) if t.dtype == torch.int16 else t

    return {name: convert(t) for name, t in tensors.items()}


class DeviceBatches:
    """tensors: name -> (N, ...) tensors, e.g. {"image": uint8 (N, C, H, W), "label": int64 (N,)}.

    ``batch(step)`` gives step's dict of the same names on the device, images as float32 in [-1, 1].
    The names share one order (they describe the same items), except the unpaired domains
    (``UNPAIRED``), which are collections of their own, of any length, each drawn in its own order.
    Epoch e of a collection is a permutation seeded by (seed, collection, e), so any step can be
    reproduced without saved loader state (exact resume). An epoch is a pass over the longest
    collection; a shorter one starts its next pass when it runs out. The last incomplete batch of a
    pass is dropped. ``batch_size`` is the global batch; a process of a distributed run (``shard``) gets
    its rows of it, so the run sees the batches of a one-process run whatever the number of processes.
    """

    def __init__(self, tensors: dict[str, torch.Tensor], batch_size: int, device: torch.device, seed: int,
                 channels_last: bool = False, shard: Shard = ONE_PROCESS):
        shared = {name: t for name, t in tensors.items() if name not in UNPAIRED}
        groups = ([shared] if shared else []) + [{name: tensors[name]} for name in UNPAIRED if name in tensors]
        self.collections = [_Collection(group, index) for index, group in enumerate(groups)]
        smallest = min(c.length for c in self.collections)
        if batch_size > smallest:
            raise ValueError("batch size larger than the data set")
        self.device = device
        self.batch_size = batch_size
        self.rows = shard.rows(batch_size)
        self.steps_per_epoch = max(c.length for c in self.collections) // batch_size
        self.seed = seed
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.resident = device.type != "cuda" or self._fits_on_gpu(tensors)
        store = device if self.resident else torch.device("cpu")
        for c in self.collections:
            c.tensors = {name: t.to(store) for name, t in c.tensors.items()}
        self.staging = None if self.resident else _PinnedStaging(self._gather, device)

    def _fits_on_gpu(self, tensors: dict[str, torch.Tensor]) -> bool:
        free, _ = torch.cuda.mem_get_info(self.device)
        return sum(t.numel() * t.element_size() for t in tensors.values()) <= GPU_RESIDENT_SHARE * free

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        picked = self._gather(step) if self.staging is None else self.staging.take(step)
        return as_model_input(picked, self.memory_format)

    def _gather(self, step: int, out: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """Step's rows of every named tensor, where the data are (or into ``out``'s tensors)."""
        picked = {}
        for c in self.collections:
            idx = c.indices(step, self.batch_size, self.seed)[self.rows]
            for name, t in c.tensors.items():
                picked[name] = torch.index_select(t, 0, idx, out=out[name]) if out else t.index_select(0, idx)
        return picked


class _PinnedStaging:
    """A data set too large for the GPU stays in (pageable) CPU memory; each batch is gathered into one of
    two pinned buffers and copied to the GPU on a side stream, one step ahead, so the copy overlaps the
    previous step's compute (a copy from pageable memory, or a pinned one made by ``index_select``'s
    fresh output, would not be asynchronous).

    ``gather(step, out)`` fills the pinned tensors ``out`` with step's rows (``gather(step)`` allocates)."""

    def __init__(self, gather, device: torch.device):
        self.gather, self.device = gather, device
        self.stream = torch.cuda.Stream(device)
        template = gather(0)
        self.buffers = [{name: torch.empty_like(t).pin_memory() for name, t in template.items()} for _ in range(2)]
        self.copied: list[torch.cuda.Event | None] = [None, None]  # when each buffer's last copy finished
        self.ahead: tuple[int, dict[str, torch.Tensor], torch.cuda.Event] | None = None

    def _start(self, step: int) -> None:
        slot = step % 2
        if self.copied[slot] is not None:
            self.copied[slot].synchronize()  # the copy two steps back has finished reading this buffer
        pinned = self.gather(step, self.buffers[slot])
        with torch.cuda.stream(self.stream):
            on_gpu = {name: t.to(self.device, non_blocking=True) for name, t in pinned.items()}
            done = torch.cuda.Event()
            done.record(self.stream)
        self.copied[slot] = done
        self.ahead = (step, on_gpu, done)

    def take(self, step: int) -> dict[str, torch.Tensor]:
        """Step's batch on the GPU, ordered after its copy on the current stream; starts the next one's."""
        if self.ahead is None or self.ahead[0] != step:
            self._start(step)
        _, on_gpu, done = self.ahead
        current = torch.cuda.current_stream(self.device)
        current.wait_event(done)
        for t in on_gpu.values():
            t.record_stream(current)  # the allocator must not reuse them before this stream is done
        self._start(step + 1)
        return on_gpu


class _Collection:
    """Named tensors of one length, drawn in one order; ``index`` tells collections' orders apart."""

    def __init__(self, tensors: dict[str, torch.Tensor], index: int):
        length = {len(t) for t in tensors.values()}
        if len(length) != 1:
            raise ValueError(f"the named tensors differ in length: {({k: len(t) for k, t in tensors.items()})}")
        self.tensors, self.index, self.length = tensors, index, length.pop()
        self._pass, self._order = -1, torch.empty(0, dtype=torch.int64)

    def indices(self, step: int, batch_size: int, seed: int) -> torch.Tensor:
        """Step's ``batch_size`` indices: batch ``k`` of pass ``p`` over this collection."""
        per_pass = self.length // batch_size
        number, k = divmod(step, per_pass)
        if number != self._pass:
            # The first collection keeps the seeding of the single-collection loader (runs resume alike).
            g = torch.Generator().manual_seed(seed * 1_000_003 + number + self.index * 7_919_000_001)
            self._order = torch.randperm(self.length, generator=g).to(next(iter(self.tensors.values())).device)
            self._pass = number
        return self._order[k * batch_size:(k + 1) * batch_size]
