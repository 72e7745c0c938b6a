"""GPU training speed: the tutorial's 100 epochs of MNIST with its MLP GAN through the engine (target: under
60 s on one H100-class GPU), every family's images/s at 64 and 128 px, and the MLP GAN and DCGAN under the
tutorial's own DataLoader loop on the same device, as ratios (engine / tutorial).

    python tests/benchmarks/gpu.py                       # on the GPU (CUDA), everything
    python tests/benchmarks/gpu.py --device cpu --epochs 1 --scale 0.1 --families gan,dcgan   # a dry run

MNIST is read from --data-root when it is there (torchvision's layout); otherwise the built-in faces at
28 px, 60,000 grey images (MNIST's shape and count), stand in, and the table says so.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from bench_train import engine_images_per_s, tutorial_images_per_s

from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.errors import UserError
from ganstudio.models import family_class, list_families
from ganstudio.training.device import describe_device, select_device
from ganstudio.training.engine import Trainer, TrainerCallback

TUTORIAL_TARGET_S = 60.0
SIZES = {"64 px RGB": 64, "128 px RGB": 128}


class _Timer(TrainerCallback):
    """Training time from the first report to the end (data preparation and the first steps' warm-up
    excluded), and the steps it covers."""

    def __init__(self):
        self.first = self.end = None

    def on_step(self, e):
        if self.first is None:
            self.first = (e.step, time.perf_counter())

    def on_end(self, e):
        self.end = (e.step, time.perf_counter())


def mnist_config(device: str, data_root: str | None) -> tuple[RunConfig, str]:
    """The tutorial's MLP GAN on MNIST (batch 60, Adam 2e-4, betas 0.5), or on faces shaped like it."""
    train = {"device": device, "batch_size": 60, "sample_every": 10**9, "checkpoint_every": 10**9,
             "eval_every": 0}
    if data_root:
        config = RunConfig().replace(data={"dataset": "mnist", "data_root": data_root},
                                     model={"family": "gan"}, train=train)
        try:
            load_dataset(config.data)
            return config, "MNIST"
        except UserError as e:
            print(f"MNIST not available ({e}); faces stand in")
    config = RunConfig().replace(data={"dataset": "faces", "num_images": 60_000, "image_size": 28, "channels": 1},
                                 model={"family": "gan"}, train=train)
    load_dataset(config.data)  # drawn and cached before timing
    return config, "faces 28 px grey, 60,000 (MNIST's shape)"


def tutorial_100_epochs(device: str, data_root: str | None, epochs: int) -> None:
    config, what = mnist_config(device, data_root)
    config = config.replace(train={"epochs": epochs})
    timer = _Timer()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        Trainer(config, out=out).run(callbacks=[timer])
        wall = time.perf_counter() - start
    steps = timer.end[0] - timer.first[0]
    training = timer.end[1] - timer.first[1]
    per_step = training / steps
    total_steps = timer.end[0]
    print(f"\nThe tutorial's MLP GAN, {epochs} epochs of {what}: {total_steps:,} steps")
    print(f"  engine: {total_steps * per_step:6.1f} s of training ({per_step * 1e3:.3f} ms/step), "
          f"{wall:6.1f} s wall with start-up; target < {TUTORIAL_TARGET_S:.0f} s for 100 epochs: "
          f"{'MET' if epochs == 100 and total_steps * per_step < TUTORIAL_TARGET_S else '-'}")
    images = load_dataset(config.data).images
    tutorial = tutorial_images_per_s(config, images, min(3000, total_steps), select_device(device))
    engine = total_steps * config.train.batch_size / (total_steps * per_step)
    print(f"  tutorial loop (DataLoader): {tutorial:,.0f} img/s, engine {engine:,.0f} img/s, ratio {engine / tutorial:.2f}x;"
          f" the tutorial's 100 epochs would take {100 * len(images) / tutorial:,.0f} s")


def families_table(device: str, families: list[str], scale: float) -> None:
    for size_name, size in SIZES.items():
        steps = max(5, int((300 if size == 64 else 120) * scale))
        print(f"\n{size_name}, width 32, each family's batch size, {steps} steps each:")
        print(f"  {'family':<9} {'batch':>5} {'images/s':>10} {'tutorial loop':>14} {'ratio':>6}")
        for name in families:
            cls = family_class(name)
            if size not in cls.image_sizes:
                print(f"  {name:<9} {'-':>5} {'(built for ' + ', '.join(map(str, cls.image_sizes)) + ' px)':>10}")
                continue
            data = {"dataset": cls.default_dataset, "num_images": 2_000, "image_size": size, "channels": 3}
            if "source" in cls.needs:  # pix2pix: faces from their edges
                data["pair_from"] = "edges"
            if "a" in cls.needs:  # the unpaired two-domain families: serious <-> smiling
                data["domains"] = "smile"
            if name == "segan":
                data = {"dataset": "speech", "num_images": 2_000}
            config = RunConfig().replace(model={"family": name}, data=data,
                                         train={**cls.train_defaults(), "device": device, "epochs": 10**6})
            try:
                load_dataset(cls.data_settings(config.data))
                speed = engine_images_per_s(config, steps)
            except Exception as e:  # noqa: BLE001  a table row per family, whatever happens
                print(f"  {name:<9} failed: {type(e).__name__}: {e}")
                continue
            tutorial = ""
            if name in ("gan", "dcgan") and size in cls.image_sizes:
                images = load_dataset(config.data).images
                reference = tutorial_images_per_s(config, images, steps, select_device(device))
                tutorial = f"{reference:>14,.0f} {speed / reference:>6.2f}"
            print(f"  {name:<9} {config.train.batch_size:>5} {speed:>10,.0f} {tutorial}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data-root", help="a folder with torchvision's MNIST/raw/")
    parser.add_argument("--epochs", type=int, default=100, help="epochs of the tutorial run (100: the target)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the family table's step counts")
    parser.add_argument("--families", help="comma-separated (default: all)")
    parser.add_argument("--skip-tutorial", action="store_true")
    args = parser.parse_args()
    device = select_device(args.device)
    print(f"device: {describe_device(device)}, torch {torch.__version__}")
    if not args.skip_tutorial:
        tutorial_100_epochs(args.device, args.data_root, args.epochs)
    families_table(args.device, args.families.split(",") if args.families else list(list_families()), args.scale)


if __name__ == "__main__":
    main()
