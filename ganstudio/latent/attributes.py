"""Attribute models: a small CNN trained on a data set's real images to predict what the data set
knows about each image, so that generated images can be labelled for supervised directions and
directions can be measured.

- ``faces``: its generative factors (yaw, pitch, smile, ...) by regression, in their own units.
- data sets with classes (MNIST, folder-per-class): class probabilities, one column per class.

A trained model is cached (weights in safetensors, the rest in JSON) per data configuration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ganstudio.config import DataConfig
from ganstudio.data import dataset_version, list_datasets, load_dataset
from ganstudio.data.base import ImageSet
from ganstudio.data.cache import cache_dir, cache_key, load_module, save_module
from ganstudio.latent.directions import DirectionsError
from ganstudio.private_rng import build_module

MODEL_VERSION = 1


class AttributeNet(nn.Module):
    """(N, C, H, W) in [-1, 1] -> (N, outputs): images over 32 px are shrunk to 32 px (attributes
    are coarse), then three stride-2 convs, a 4×4 pool (keeps where things are, which is what yaw
    is about) and two linear layers."""

    def __init__(self, channels: int, outputs: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 64, 3, 2, 1), nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(64 * 16, 128), nn.LeakyReLU(0.2),
            nn.Linear(128, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] > 32:
            x = F.adaptive_avg_pool2d(x, 32)
        return self.net(x)


@dataclass(frozen=True)
class AttributeModel:
    net: AttributeNet  # CPU, eval mode
    names: tuple[str, ...]  # one per output column
    kind: str  # "factors" (regression) or "classes" (probabilities)
    mean: np.ndarray  # (outputs,) factor means (zeros for classes)
    std: np.ndarray  # (outputs,) factor standard deviations (ones for classes)

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 512) -> np.ndarray:
        """(N, C, H, W) float in [-1, 1] -> (N, len(names)): factors in their units, or class
        probabilities."""
        out = torch.cat([self.net(chunk.float()) for chunk in images.split(batch_size)])
        if self.kind == "classes":
            return out.softmax(1).numpy()
        return out.numpy() * self.std + self.mean


def attribute_targets(data: ImageSet) -> tuple[tuple[str, ...], str, np.ndarray]:
    """(names, kind, targets (N, outputs) float32) that a data set offers."""
    if data.factors:
        names = tuple(data.factors)
        return names, "factors", np.stack([data.factors[n] for n in names], axis=1).astype(np.float32)
    if data.labels is not None:
        names = data.class_names or tuple(str(i) for i in range(int(data.labels.max()) + 1))
        return tuple(names), "classes", data.labels.numpy().astype(np.float32)[:, None]
    raise DirectionsError(f"the data set {data.name or ''!s} has neither known factors nor class labels, so "
                          "there is nothing to learn named directions from; mark images A and B in the "
                          "explorer instead")


def train_attribute_model(data: ImageSet, steps: int = 1000, batch_size: int = 128, seed: int = 0,
                          check: Callable[[], None] = lambda: None) -> AttributeModel:
    """Fit an ``AttributeNet`` to the data set's factors (MSE on standardised values) or classes
    (cross-entropy). Noise of a random strength is added to half of the batches so the model also
    reads the grainy images of a young generator. All randomness comes from a private generator
    seeded with ``seed`` (this runs beside a training thread); ``check()`` runs before every step (it may
    raise to cancel)."""
    names, kind, targets = attribute_targets(data)
    mean = targets.mean(0) if kind == "factors" else np.zeros(len(names), np.float32)
    std = targets.std(0) + 1e-6 if kind == "factors" else np.ones(len(names), np.float32)
    y = torch.from_numpy((targets - mean) / std if kind == "factors" else targets)
    net = build_module(lambda: AttributeNet(data.images.shape[1], len(names)), seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps)
    rng = torch.Generator().manual_seed(seed)
    for step in range(steps):
        check()
        idx = torch.randint(len(data), (batch_size,), generator=rng)
        x = data.images[idx].float().div_(127.5).sub_(1.0)
        if step % 2:
            x = x + torch.randn(x.shape, generator=rng) * torch.rand((len(x), 1, 1, 1), generator=rng) * 0.3
        out = net(x)
        loss = F.cross_entropy(out, y[idx, 0].long()) if kind == "classes" else F.mse_loss(out, y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return AttributeModel(net.eval().requires_grad_(False), names, kind, mean.astype(np.float32),
                          std.astype(np.float32))


def attribute_model_for(config: DataConfig, data: ImageSet | None = None,
                        check: Callable[[], None] = lambda: None) -> AttributeModel:
    """The attribute model of a data configuration: from the cache, else trained (seconds) and cached."""
    if config.dataset not in list_datasets():  # e.g. a generator opened from an ONNX file: no data came with it
        raise DirectionsError("there are no images with known factors or classes behind this generator to name "
                              "directions from; mark candidates A and B and fit the direction between them instead")
    key = cache_key(data=config.__dict__, images=dataset_version(config.dataset), version=MODEL_VERSION)
    kind = "attributes"
    try:
        info = json.loads((cache_dir() / kind / f"{key}.json").read_text())
        net = build_module(lambda: AttributeNet(config.channels, len(info["names"])), 0)
    except (OSError, ValueError, KeyError, TypeError):
        info = None
    if info is not None and load_module(kind, key, net) is not None:
        return AttributeModel(net.eval().requires_grad_(False), tuple(info["names"]), info["kind"],
                              np.asarray(info["mean"], np.float32), np.asarray(info["std"], np.float32))
    model = train_attribute_model(data if data is not None else load_dataset(config), check=check)
    save_module(kind, key, model.net, {"names": model.names, "kind": model.kind, "mean": model.mean.tolist(),
                                       "std": model.std.tolist()})
    return model
