"""Do CUDA graphs pay for small GANs? The MLP GAN and DCGAN's training step, plain against one CUDA graph
replayed per step (issue 18: small models are launch-bound on a GPU).

    python tests/benchmarks/cuda_graphs.py                 # on the GPU
    python tests/benchmarks/cuda_graphs.py --device cpu    # a dry run of the plain half (no graphs on a CPU)

The graph holds the family's whole ``train_step`` (D's step, then G's, both Adam updates) captured as in
PyTorch's "whole network capture" recipe: optimisers made capturable, warm-up steps on a side stream,
gradients set to None before the capture, the batch copied into static tensors before each replay; random
draws inside the step (z, dropout) are replayed with fresh numbers by the graph-safe generator. Prints
steps/s for both and their ratio, and each one's D and G losses after the same number of steps (they
should be alike: the same maths, different random draws).
"""

from __future__ import annotations

import argparse
import time

import torch

from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.data.batches import DeviceBatches
from ganstudio.models import build_family, family_class
from ganstudio.training.device import describe_device, select_device, tune_for

CASES = {
    "MLP GAN 28 px grey, batch 64": ({"family": "gan"}, {"image_size": 28, "channels": 1}),
    "DCGAN 28 px grey, batch 64 (width 112)": ({"family": "dcgan", "width": None}, {"image_size": 28, "channels": 1}),
    "DCGAN 64 px RGB, batch 64 (width 64)": ({"family": "dcgan", "width": None}, {"image_size": 64, "channels": 3}),
}


def setup(model: dict, data: dict, device: torch.device, batch_size: int):
    config = RunConfig().replace(model=model, data={**data, "num_images": 10_000},
                                 train={"device": str(device), "batch_size": batch_size})
    torch.manual_seed(0)
    family = build_family(config.data, config.model, config.train, device)
    images = load_dataset(config.data)
    needed = {name: images.tensors()[name] for name in family_class(config.model.family).needs}
    return family, DeviceBatches(needed, batch_size, device, 0, channels_last=family.channels_last)


def losses(metrics: dict[str, torch.Tensor]) -> str:
    return ", ".join(f"{k} {float(v):.3f}" for k, v in metrics.items() if k.startswith("loss"))


def plain(family, batches, steps: int, device: torch.device) -> tuple[float, str]:
    for step in range(3):  # warm-up (cuDNN's autotuner)
        family.train_step(batches.batch(step))
    sync(device)
    start = time.perf_counter()
    for step in range(steps):
        metrics = family.train_step(batches.batch(step))
    sync(device)
    return steps / (time.perf_counter() - start), losses(metrics)


def graphed(family, batches, steps: int) -> tuple[float, str]:
    for opt in family.optimizers().values():
        for group in opt.param_groups:
            group["capturable"] = True
    static = batches.batch(0)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            family.train_step(static)
    torch.cuda.current_stream().wait_stream(side)
    for opt in family.optimizers().values():
        opt.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        metrics = family.train_step(static)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(steps):
        for name, tensor in batches.batch(step).items():
            static[name].copy_(tensor)
        graph.replay()
    torch.cuda.synchronize()
    return steps / (time.perf_counter() - start), losses(metrics)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    device = select_device(args.device)
    tune_for(device)
    print(f"{describe_device(device)}, torch {torch.__version__}; {args.steps} steps each")
    for name, (model, data) in CASES.items():
        family, batches = setup(model, data, device, args.batch_size)
        plain_rate, plain_losses = plain(family, batches, args.steps, device)
        line = f"{name:42s} plain {plain_rate:8,.0f} steps/s ({plain_losses})"
        if device.type == "cuda":
            family, batches = setup(model, data, device, args.batch_size)
            try:
                graph_rate, graph_losses = graphed(family, batches, args.steps)
                line += f"   graph {graph_rate:8,.0f} steps/s ({graph_losses})   x{graph_rate / plain_rate:.2f}"
            except RuntimeError as e:  # a step that cannot be captured: say what, measure the rest
                line += f"   graph: cannot capture ({str(e).splitlines()[0]})"
        print(line, flush=True)


if __name__ == "__main__":
    main()
