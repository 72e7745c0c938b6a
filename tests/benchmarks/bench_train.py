"""Training speed: the classic tutorial's loop against the ganstudio engine, same model, same batch,
same images, in one process. Run: ``python tests/benchmarks/bench_train.py [--quick] [--device cuda]``.

The tutorial loop: a DataLoader (batch 60, shuffle) over a data set that behaves like
``torchvision.datasets.MNIST`` (uint8 images in a tensor, each turned into a PIL image, then
ToTensor + Normalize), Sigmoid + BCELoss, no detach (D's backward runs through G), a new z for the
G step, default Adam, ``nn.Dropout``. The engine: ``Trainer.run`` as the CLI and GUI use it.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time

import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.models import build_family
from ganstudio.models.gan import MaskDropout
from ganstudio.training.device import select_device
from ganstudio.training.engine import Trainer, TrainerCallback


class MNISTLike(Dataset):
    """What ``torchvision.datasets.MNIST.__getitem__`` does, for any channel count."""

    def __init__(self, images: torch.Tensor):
        self.data = images.permute(0, 2, 3, 1).contiguous()  # (N, H, W, C) uint8
        c = images.shape[1]
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * c, (0.5,) * c)])

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        image = self.data[i].numpy()
        image = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        return self.transform(image), 0


def tutorial_models(config: RunConfig, device: torch.device) -> tuple[nn.Module, nn.Module]:
    """The family's G, and its D with nn.Dropout and a final Sigmoid, as the tutorial writes them."""
    torch.manual_seed(0)
    family = build_family(config.data, config.model, config.train, torch.device("cpu"))
    g, d = copy.deepcopy(family.G), copy.deepcopy(family.D)
    for name, module in d.named_modules():
        for child_name, child in module.named_children():
            if isinstance(child, MaskDropout):
                setattr(module, child_name, nn.Dropout(child.p))
    return g.to(device), nn.Sequential(d, nn.Sigmoid()).to(device)


def tutorial_images_per_s(config: RunConfig, images: torch.Tensor, steps: int, device: torch.device) -> float:
    g, d = tutorial_models(config, device)
    t = config.train
    opt_g = torch.optim.Adam(g.parameters(), lr=t.lr_g, betas=(t.beta1, t.beta2))
    opt_d = torch.optim.Adam(d.parameters(), lr=t.lr_d, betas=(t.beta1, t.beta2))
    loss = nn.BCELoss()
    loader = DataLoader(MNISTLike(images), batch_size=t.batch_size, shuffle=True, drop_last=True)
    nz = config.model.latent_dim
    done, start = -1, None
    while done < steps:
        for real, _ in loader:
            if done == 0:  # the first step is warm-up
                start = time.perf_counter()
            if done == steps:
                break
            real = real.to(device)
            b = real.shape[0]
            ones, zeros = torch.ones(b, 1, device=device), torch.zeros(b, 1, device=device)
            fake = g(torch.randn(b, nz, device=device))
            loss_d = loss(d(real), ones) + loss(d(fake), zeros)
            d.zero_grad()
            loss_d.backward()
            opt_d.step()
            fake = g(torch.randn(b, nz, device=device))
            loss_g = loss(d(fake), ones)
            g.zero_grad()
            loss_g.backward()
            opt_g.step()
            done += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * t.batch_size / (time.perf_counter() - start)


class _Clock(TrainerCallback):
    """Times the loop from the first report (warm-up done) to the last."""

    def __init__(self):
        self.first = self.last = None

    def on_step(self, e):
        now = time.perf_counter()
        if self.first is None:
            self.first = (e.step, now)
        self.last = (e.step, now)


def engine_images_per_s(config: RunConfig, steps: int) -> float:
    clock = _Clock()
    config = config.replace(train={"max_steps": steps + 1, "sample_every": 10**9, "checkpoint_every": 10**9})
    with tempfile.TemporaryDirectory() as out:
        Trainer(config, out=out, report_interval_s=0.05).run(callbacks=[clock])
    (s0, t0), (s1, t1) = clock.first, clock.last
    return (s1 - s0) * config.train.batch_size / (t1 - t0)


CASES = {
    "MLP GAN 28 px (tutorial)": ({"family": "gan"}, {"image_size": 28, "channels": 1}, 400),
    "DCGAN 28 px (tutorial, width 112)": ({"family": "dcgan", "width": None}, {"image_size": 28, "channels": 1}, 40),
    "DCGAN 64 px RGB (width 64)": ({"family": "dcgan", "width": None}, {"image_size": 64, "channels": 3}, 12),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="the MLP GAN only")
    parser.add_argument("--repeats", type=int, default=2, help="best of N alternating runs")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply step counts (e.g. 20 on a GPU)")
    args = parser.parse_args()
    device = select_device(args.device)
    print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    for name, (model, data, steps) in CASES.items():
        if args.quick and "MLP" not in name:
            continue
        steps = int(steps * args.scale)
        config = RunConfig().replace(model=model, data={**data, "num_images": 20_000}, train={"device": args.device})
        images = load_dataset(config.data).images
        tutorial, engine = [], []
        for _ in range(args.repeats):
            tutorial.append(tutorial_images_per_s(config, images, steps, device))
            engine.append(engine_images_per_s(config, steps))
        print(f"{name:36s} tutorial {max(tutorial):8,.0f} img/s   engine {max(engine):8,.0f} img/s   "
              f"ratio {max(engine) / max(tutorial):5.2f}x")


if __name__ == "__main__":
    main()
