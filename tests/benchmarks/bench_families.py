"""Training speed of every family: images/s through the engine at 28 px grey and 64 px RGB, with the
app's default width (32) (``--sizes 128``: 128 px RGB too) and each family's own batch size and optimiser settings. Ratios are against
DCGAN at the same size, measured in the same process.

    python tests/benchmarks/bench_families.py [--device cuda] [--scale 10] [--families wgan,vae]
"""

from __future__ import annotations

import argparse

import torch
from bench_train import engine_images_per_s

from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.models import family_class, list_families
from ganstudio.training.device import select_device

SIZES = {28: ("28 px grey", {"image_size": 28, "channels": 1}, 150), 64: ("64 px RGB", {"image_size": 64, "channels": 3}, 25),
         128: ("128 px RGB", {"image_size": 128, "channels": 3}, 8)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply step counts (e.g. 20 on a GPU)")
    parser.add_argument("--families", help="comma-separated (default: all)")
    parser.add_argument("--sizes", default="28,64", help="comma-separated, of 28, 64, 128")
    args = parser.parse_args()
    device = select_device(args.device)
    families = args.families.split(",") if args.families else list(list_families())
    if "dcgan" not in families:
        families.insert(0, "dcgan")
    print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    for size in map(int, args.sizes.split(",")):
        size_name, data, steps = SIZES[size]
        steps = max(5, int(steps * args.scale))
        results = {}
        for name in [f for f in families if size in family_class(f).image_sizes]:
            config = RunConfig().replace(
                model={"family": name}, data={**data, "num_images": 5_000},
                train={**family_class(name).train_defaults(), "device": args.device, "epochs": 10**6})
            load_dataset(config.data)  # drawn and cached before timing
            # Classes for cgan come from the data (faces: 6); other families ignore them.
            results[name] = (engine_images_per_s(config, steps), config.train.batch_size)
        reference = results["dcgan"][0]
        print(f"\n{size_name}, width 32, {steps} steps each:")
        print(f"  {'family':<9} {'batch':>5} {'images/s':>9} {'vs dcgan':>9}")
        for name, (speed, batch) in results.items():
            print(f"  {name:<9} {batch:>5} {speed:>9,.0f} {speed / reference:>9.2f}")


if __name__ == "__main__":
    main()
