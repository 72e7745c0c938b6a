"""Short distributed runs for test_distributed.py: ``python distributed_runs.py OUT WORLD SCENARIO...`` starts
WORLD processes (gloo on the CPU, a file rendezvous) that run each scenario in turn. Every process writes,
per scenario, its final weights (``OUT/<scenario>/rank<r>.safetensors``) and what the run ended with
(``rank<r>.json``); the runs' folders go to ``OUT/<scenario>/runs``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import save_file


def config(family: str, steps: int, batch_size: int = 60, data: dict | None = None, **model):
    from ganstudio.config import RunConfig

    return RunConfig().replace(
        data={"dataset": "faces", "num_images": 240, "image_size": 28 if family == "gan" else 32, **(data or {})},
        model={"family": family, "width": 8, **model},
        train={"max_steps": steps, "batch_size": batch_size, "sample_every": 10, "checkpoint_every": 10,
               "eval_every": 0, "device": "cpu", "threads": 1},
    )


def run(cfg, runs: Path, resume_at: int | None = None):
    from ganstudio.training.engine import Trainer

    if resume_at is None:
        trainer = Trainer(cfg, out=runs)
        return trainer, trainer.run()
    first = Trainer(cfg.replace(train={"max_steps": resume_at}), out=runs)
    first.run()
    folder = [None]
    if first.run_folder is not None:
        folder = [str(first.run_folder.path)]
    dist.broadcast_object_list(folder)  # the test's own processes: the lead's run folder path
    trainer = Trainer.resume(folder[0], train_overrides={"max_steps": cfg.train.max_steps})
    return trainer, trainer.run()


def poison_rank_1_at(step: int) -> None:
    """From ``step`` on, rank 1's batches hold NaN."""
    from ganstudio.data.batches import DeviceBatches

    batch = DeviceBatches.batch

    def poisoned(self, at):
        out = batch(self, at)
        if dist.get_rank() == 1 and at >= step:
            out = {k: v * float("nan") if v.is_floating_point() else v for k, v in out.items()}
        return out

    DeviceBatches.batch = poisoned


def start_began_at_rank_dependent_k() -> None:
    """BEGAN's k_t starts at 0.3 on rank 0 and 0.5 on rank 1 (and stays, with λ_k = 0): only averaging it
    after each step makes the processes agree (on 0.4)."""
    from ganstudio.models.began import BEGAN

    begin = BEGAN.begin

    def begin_at_rank_k(self, step, total):
        begin(self, step, total)
        self.k.fill_(0.3 + 0.2 * dist.get_rank())

    BEGAN.begin = begin_at_rank_k


# A pool of 3 with 4 fakes a step swaps from the second step on; no decay, so a run stopped early has the same rates.
CYCLEGAN = config("cyclegan", 6, batch_size=4, data={"domains": "smile", "channels": 3},
                  options={"pool_size": 3, "decay_from": 1.0})
SCENARIOS = {
    "mlp": lambda runs: run(config("gan", 30, options={"dropout": 0}), runs),
    "dcgan": lambda runs: run(config("dcgan", 20), runs),
    "wgan_gp": lambda runs: run(config("wgan-gp", 6), runs),
    "began": lambda runs: (start_began_at_rank_dependent_k(), run(config("began", 12, options={"lambda_k": 0.0}), runs))[1],
    "cyclegan": lambda runs: run(CYCLEGAN, runs),
    "cyclegan_resumed": lambda runs: run(CYCLEGAN, runs, resume_at=3),
    "srgan": lambda runs: run(config("srgan", 4, batch_size=8, data={"image_size": 64},
                                     options={"mse_steps": 2, "content": 0}), runs),
    "straight": lambda runs: run(config("dcgan", 20), runs),
    "resumed": lambda runs: run(config("dcgan", 20), runs, resume_at=10),
    "nan": lambda runs: (poison_rank_1_at(7), run(config("gan", 30), runs))[1],
}


def worker(rank: int, world: int, out: str, scenarios: list[str]) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    dist.init_process_group("gloo", init_method=f"file://{out}/rendezvous-{os.getppid()}", rank=rank,
                            world_size=world)
    torch.set_num_threads(1)
    for name in scenarios:
        folder = Path(out) / name
        folder.mkdir(parents=True, exist_ok=True)
        trainer, ended = SCENARIOS[name](folder / "runs")
        weights = {f"{net}/{key}": value.detach().contiguous()
                   for net, module in trainer.family.networks().items()
                   for key, value in module.state_dict().items() if value.is_floating_point()}
        save_file(weights, str(folder / f"rank{rank}.safetensors"))
        state = trainer.family.training_state()
        (folder / f"rank{rank}.json").write_text(json.dumps(
            {"step": ended.step, "reason": ended.reason, "checkpoint": str(ended.checkpoint),
             "wrote_run": trainer.run_folder is not None, "training_state": state}))
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    out, world, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    mp.start_processes(worker, args=(world, out, names), nprocs=world, start_method="spawn")
