"""Training under torch.distributed: two CPU processes (gloo) against one, and `torchrun -m ganstudio train`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

RUNS = Path(__file__).with_name("distributed_runs.py")
SCENARIOS = ("mlp", "dcgan", "wgan_gp", "began", "cyclegan", "cyclegan_resumed", "srgan", "straight", "resumed", "nan")


def launch(out: Path, world: int, *scenarios: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([sys.executable, str(RUNS), str(out), str(world), *scenarios],
                            capture_output=True, text=True, timeout=240, env=os.environ)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> Path:
    """Every scenario, run by two processes."""
    return launch(tmp_path_factory.mktemp("two"), 2, *SCENARIOS)


def weights(folder: Path, rank: int) -> dict[str, torch.Tensor]:
    return load_file(str(folder / f"rank{rank}.safetensors"))


def ended(folder: Path, rank: int) -> dict:
    return json.loads((folder / f"rank{rank}.json").read_text())


@pytest.mark.parametrize("scenario", ["mlp", "dcgan", "wgan_gp", "began", "cyclegan", "srgan"])
def test_ranks_hold_bit_identical_weights(two, scenario):
    """Averaged gradients, the same optimiser steps, BatchNorm statistics averaged at the end (DCGAN's and
    BEGAN's D), a gradient penalty and an n_critic loop (WGAN-GP), BEGAN's k_t averaged each step, the
    unpaired translators (two G, two D, a pool of fakes each: one for the run) and super-resolution's random
    crops in phases."""
    a, b = weights(two / scenario, 0), weights(two / scenario, 1)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert ended(two / scenario, 0)["reason"] == ended(two / scenario, 1)["reason"] == "finished"
    assert ended(two / scenario, 0)["training_state"] == ended(two / scenario, 1)["training_state"]
    if scenario == "began":
        assert ended(two / scenario, 0)["training_state"]["k_t"] == pytest.approx(0.4)


def test_two_processes_of_30_equal_one_of_60(two, tmp_path):
    """The MLP GAN (dropout off: each process draws its own masks) with a global batch of 60: 2 × 30 rows
    give the weights of 1 × 60 (the same z rows, data rows and mean gradient) up to float rounding."""
    one = launch(tmp_path, 1, "mlp")
    a, b = weights(two / "mlp", 0), weights(one / "mlp", 0)
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5
    halfway = load_file(str(next((two / "mlp" / "runs").glob("*/checkpoints/step_0000010.safetensors"))))
    assert max((halfway[f"net/{k}"] - a[k]).abs().max().item() for k in a) > 1e-3  # the last 10 steps moved them


def test_only_the_first_process_writes_the_run_folder(two):
    for scenario in SCENARIOS:
        assert len(list((two / scenario / "runs").iterdir())) == 1, scenario
        assert ended(two / scenario, 0)["wrote_run"] and not ended(two / scenario, 1)["wrote_run"]
    config = json.loads(next((two / "dcgan" / "runs").glob("*/config.json")).read_text())
    assert config["train"]["world_size"] == 2


@pytest.mark.parametrize("straight, resumed", [("straight", "resumed"), ("cyclegan", "cyclegan_resumed")])
def test_resume_is_exact(two, straight, resumed):
    """DCGAN, and CycleGAN with its pools of fakes (every process's fakes; the swaps drawn alike)."""
    a, b = weights(two / straight, 0), weights(two / resumed, 0)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    if straight == "cyclegan":
        assert all(image.abs().sum() > 0 for image in a["pool_a/images"])  # the pool is full


def test_nan_on_one_process_stops_both(two):
    """Rank 1's batches turn NaN from the 8th step: both processes end 'diverged' at the same step (the next
    report, which the lead's clock times, or the sample grid's finite check at step 10) and nothing non-finite
    is saved."""
    first, second = ended(two / "nan", 0), ended(two / "nan", 1)
    assert first["reason"] == second["reason"] == "diverged"
    assert first["step"] == second["step"] and 8 <= first["step"] <= 10
    run = next((two / "nan" / "runs").iterdir())
    assert not (run / "checkpoints").exists() or not list((run / "checkpoints").iterdir())


def test_torchrun_trains_and_the_run_opens_like_any_other(tmp_path):
    """The real launcher: `torchrun --nproc_per_node 2 -m ganstudio train`; one run folder, its curves,
    samples and a generator that loads."""
    from ganstudio.checkpoint import load_generator
    from ganstudio.training.runs import RunFolder

    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "ganstudio", "train", "--family", "dcgan", "--width", "8", "--num-images", "240",
               "--image-size", "32", "--max-steps", "12", "--batch-size", "32", "--device", "cpu",
               "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=os.environ)
    assert result.returncode == 0, result.stderr[-4000:]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events].count("start") == 1  # one process reports
    assert "2 processes" in next(e for e in events if e["event"] == "start")["device"]
    (path,) = tmp_path.iterdir()
    run = RunFolder.open(path)
    assert run.read_config().train.world_size == 2
    assert run.read_metrics() and run.list_samples()
    family, info, fixed = load_generator(run.latest_checkpoint(), torch.device("cpu"))
    assert info.step == 12
    assert family.render(fixed).isfinite().all()


def test_a_batch_that_does_not_split_evenly_is_refused():
    from ganstudio.distributed import Shard
    from ganstudio.errors import ConfigError

    with pytest.raises(ConfigError, match="multiple of 3"):
        Shard(0, 3).local_batch_size(64)
    assert Shard(2, 4).rows(64) == slice(32, 48)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs (NCCL)")
def test_nccl_on_two_gpus(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "ganstudio", "train", "--family", "dcgan", "--num-images", "1024", "--max-steps", "50",
               "--batch-size", "64", "--device", "cuda", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=os.environ)
    assert result.returncode == 0, result.stderr[-4000:]
    (path,) = tmp_path.iterdir()
    assert (path / "checkpoints" / "step_0000050.json").exists()
