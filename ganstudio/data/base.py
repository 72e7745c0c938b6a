"""What every data source returns: uint8 images N×C×H×W plus optional labels, paired source images and
factors. A batch is a dict of named tensors; the names (``IMAGE``, ``LABEL``, ``SOURCE``) are how a
data set says what it provides and a family says what it needs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ganstudio.errors import DataError  # noqa: F401  (re-exported for data sources)

IMAGE = "image"  # (N, C, H, W): the images a generator learns to make (a translation's targets)
LABEL = "label"  # (N,) int64 class index
SOURCE = "source"  # (N, C', H, W): paired data's input image for each IMAGE (a sketch, a grey photo)


@dataclass(frozen=True)
class ImageSet:
    """A whole data set in memory.

    images:  (N, C, H, W) uint8 tensor, C in {1, 3}.
    labels:  (N,) int64 tensor of class indices, or None.
    sources: (N, C', H, W) uint8 tensor, the input paired with each image (paired data), or None.
    class_names: one name per class index (empty without labels).
    factors: name -> (N,) float32 array of generative factors (procedural data only), e.g. yaw.
    warnings: plain sentences for the person (skipped files, clamped sizes).
    """

    images: torch.Tensor
    labels: torch.Tensor | None = None
    sources: torch.Tensor | None = None
    class_names: tuple[str, ...] = ()
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 N×C×H×W, got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError("labels and images differ in length")
        if self.sources is not None and (self.sources.dtype != torch.uint8 or self.sources.ndim != 4
                                         or len(self.sources) != len(self.images)):
            raise ValueError(f"sources must be uint8 N×C×H×W like the images, got {self.sources.dtype} "
                             f"{tuple(self.sources.shape)}")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def tensors(self) -> dict[str, torch.Tensor]:
        """What this data set provides, by name: IMAGE always, LABEL and SOURCE when it has them."""
        named = {IMAGE: self.images, LABEL: self.labels, SOURCE: self.sources}
        return {name: tensor for name, tensor in named.items() if tensor is not None}

    def split(self, count: int, seed: int) -> tuple[ImageSet, ImageSet]:
        """(the rest, ``count`` held-out items drawn with ``seed``): the same fields, disjoint items."""
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        return self._subset(order[count:].sort().values), self._subset(order[:count].sort().values)

    def _subset(self, index: torch.Tensor) -> ImageSet:
        pick = lambda t: None if t is None else t[index]  # noqa: E731
        return ImageSet(self.images[index], pick(self.labels), pick(self.sources), self.class_names,
                        {k: v[index.numpy()] for k, v in self.factors.items()}, self.warnings, self.name)


def resize_images(images: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """Square uint8 images (N, C, h, h) -> (N, channels, size, size); grey <-> RGB by luminance/repeat."""
    if images.shape[1] != channels:
        if channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            images = (images.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
        else:
            images = images.expand(-1, 3, -1, -1)
    if images.shape[-1] != size:
        resized = torch.nn.functional.interpolate(
            images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        images = resized.round().clamp(0, 255).to(torch.uint8)
    return images.contiguous()
