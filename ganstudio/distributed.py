"""Training across processes and machines with PyTorch's distributed package, launched by ``torchrun``.

    torchrun --nproc_per_node 2 -m ganstudio train --family dcgan ...

Every process (rank) holds the whole model and takes its rows of each global batch (the batch of a
one-process run, cut in ``world`` equal slices). Before every optimiser step the gradients are averaged
over the ranks (an all-reduce in the optimiser's step pre-hook), so all ranks take the same step and hold
bit-identical weights. This is StyleGAN3's scheme (``training_loop.py``: one all-reduce of the flattened
gradients before ``opt.step()``) rather than ``DistributedDataParallel``: a GAN step runs several forward
passes of D before one backward, ``autograd.grad`` for gradient penalties, n_critic loops and
``requires_grad`` toggles, where DDP's reducer (hooks on ``backward``, one reduction per forward) raises or
silently reduces the wrong pass. A hook on the optimiser sees exactly the gradients that are applied,
whatever the family did to make them, so no family needs distributed code.

What else must agree across ranks is averaged (BatchNorm running statistics before samples and checkpoints,
metric means, state such as BEGAN's k_t) or decided once (``agree``: stop, reports, checkpoints). Random
draws within a step come from streams seeded by (seed, rank, step), so a run resumes exactly without saved
generator states; z is drawn as this rank's rows of one global draw (``batch_randn``), so the latents of a
run do not depend on how many processes share it.

Backends: NCCL for CUDA, gloo on CPUs (SyncBatchNorm has no CPU kernel: BatchNorm normalises each rank's
slice by its own statistics, as the per-GPU batch statistics of DDP without SyncBatchNorm do).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ganstudio.errors import ConfigError

# Set while a distributed run trains: the step's shared random stream (see ``seed_step``).
_shared: dict[torch.device, torch.Generator] = {}
_step_seed: list[int | None] = [None]
_flags_group: list[object] = [None]  # a gloo group for the per-step control flags (CPU, no GPU sync)


@dataclass(frozen=True)
class Shard:
    """This process's place in the run: rank r of ``world`` processes takes rows [r·b, (r+1)·b) of every
    global batch of world·b rows."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0  # the process's index on its machine (its GPU)

    @property
    def lead(self) -> bool:
        """Rank 0 writes the run folder and reports; the others only train."""
        return self.rank == 0

    def rows(self, global_size: int) -> slice:
        """This rank's rows of a global batch (``global_size`` divisible by ``world``)."""
        local = global_size // self.world
        return slice(self.rank * local, (self.rank + 1) * local)

    def local_batch_size(self, global_size: int) -> int:
        if global_size % self.world:
            raise ConfigError(f"the batch size {global_size} cannot be split evenly over {self.world} processes; "
                              f"use a multiple of {self.world}")
        return global_size // self.world


ONE_PROCESS = Shard()


def current() -> Shard | None:
    """This process's shard when a process group is running (under torchrun), else None."""
    if not (dist.is_available() and dist.is_initialized()):
        return None
    return Shard(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def launched_by_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or ("RANK" in os.environ and "WORLD_SIZE" in os.environ)


def start(device: str = "auto") -> Shard:
    """Join the process group torchrun describes (environment variables): NCCL when this process trains on
    CUDA, else gloo; a gloo group for the control flags either way. Returns this process's shard."""
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    _flags_group[0] = dist.new_group(backend="gloo") if dist.get_backend() != "gloo" else None
    return current()


def stop() -> None:
    """Leave the process group (after a barrier, so no rank exits while another still writes)."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    _flags_group[0] = None


def training_device(device: torch.device, shard: Shard) -> torch.device:
    """A CUDA run trains each process on its own GPU: cuda:LOCAL_RANK."""
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", shard.local_rank)
    return device


# -- what is averaged -------------------------------------------------------------------------------------


def average_gradients_before_steps(optimizers: dict[str, torch.optim.Optimizer]) -> list:
    """Register, on each optimiser, a step pre-hook that replaces its parameters' gradients by their mean
    over the ranks (one all-reduce of the flattened gradients). Returns the hook handles."""
    return [opt.register_step_pre_hook(_average_gradients) for opt in optimizers.values()]


def _average_gradients(optimizer: torch.optim.Optimizer, args, kwargs) -> None:
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if grads:
        average_(grads)


def average_(tensors: list[torch.Tensor]) -> None:
    """In place: each tensor becomes its mean over the ranks (one all-reduce; all ranks get the same bits)."""
    flat = torch.cat([t.detach().reshape(-1).float() for t in tensors])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for t in tensors:
        t.detach().copy_(flat[offset:offset + t.numel()].view(t.shape))
        offset += t.numel()


def average_norm_statistics_(modules: list[torch.nn.Module]) -> None:
    """BatchNorm running means and variances become their means over the ranks (before samples and
    checkpoints: each rank updated them from its own slices)."""
    stats = [buffer for module in modules for m in module.modules()
             if isinstance(m, torch.nn.modules.batchnorm._NormBase) and m.track_running_stats
             for buffer in (m.running_mean, m.running_var) if buffer is not None]
    if stats:
        average_(stats)


def broadcast_(tensors: list[torch.Tensor], source: int = 0) -> None:
    """In place: every rank's tensors become the ``source`` rank's (e.g. the freshly built weights)."""
    for t in tensors:
        dist.broadcast(t.detach(), source)


def agree(flags: list[bool | float]) -> list[float]:
    """The maximum of each flag or number over the ranks: any rank's stop, the lead's clock-based decisions
    (the others pass 0). A CPU all-reduce (gloo): it never waits for the GPU."""
    values = torch.tensor([float(f) for f in flags], dtype=torch.float64)
    dist.all_reduce(values, dist.ReduceOp.MAX, group=_flags_group[0])
    return values.tolist()


# -- random streams ---------------------------------------------------------------------------------------


def mixed_seed(*parts: object) -> int:
    """A 63-bit seed from numbers and names, e.g. (seed, rank, step); different parts give unrelated seeds."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def seed_step(seed: int, step: int, shard: Shard) -> None:
    """Before a distributed step: torch's global generators from (seed, rank, step) (dropout, penalty
    noise: each rank's own), and the step's shared stream from (seed, step) (``batch_randn``)."""
    torch.manual_seed(mixed_seed(seed, shard.rank, step))
    _step_seed[0] = mixed_seed(seed, "shared", step)
    _shared.clear()


def end_steps() -> None:
    """After the loop: ``batch_randn`` draws from torch's global generator again."""
    _step_seed[0] = None
    _shared.clear()


def shared_generator(device: torch.device | str = "cpu") -> torch.Generator | None:
    """In a distributed step: the step's stream on ``device``, the same on every rank; otherwise None
    (draw from torch's global generator)."""
    device = torch.device(device)
    if _step_seed[0] is None or current() is None:
        return None
    if device not in _shared:
        _shared[device] = torch.Generator(device).manual_seed(_step_seed[0])
    return _shared[device]


def batch_randn(n: int, *shape: int, device: torch.device) -> torch.Tensor:
    """(n, *shape) float32 from N(0, 1). In a distributed step: this rank's n rows of one draw of n·world
    rows from the step's shared stream (so the global batch's noise is the same on 1 or N processes);
    otherwise from torch's global generator."""
    shared = shared_generator(device)
    if shared is None:
        return torch.randn(n, *shape, device=device)
    shard = current()
    rows = torch.randn(n * shard.world, *shape, generator=shared, device=device)
    return rows[shard.rank * n:(shard.rank + 1) * n]


def gather_rows(rows: torch.Tensor) -> torch.Tensor:
    """(n, ...) -> (n·world, ...): every rank's rows in rank order (the global batch), on every rank;
    ``rows`` itself in one process."""
    shard = current()
    if shard is None or shard.world == 1:
        return rows
    parts = [torch.empty_like(rows) for _ in range(shard.world)]
    dist.all_gather(parts, rows.contiguous())
    return torch.cat(parts)


def own_rows(global_rows: torch.Tensor) -> torch.Tensor:
    """The inverse of ``gather_rows``: this rank's rows of a global batch."""
    shard = current()
    return global_rows if shard is None else global_rows[shard.rows(len(global_rows))]
