"""What every data source returns: uint8 images N×C×H×W plus optional labels and factors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ganstudio.errors import DataError  # noqa: F401  (re-exported for data sources)


@dataclass(frozen=True)
class ImageSet:
    """A whole data set in memory.

    images:  (N, C, H, W) uint8 tensor, C in {1, 3}.
    labels:  (N,) int64 tensor of class indices, or None.
    class_names: one name per class index (empty without labels).
    factors: name -> (N,) float32 array of generative factors (procedural data only), e.g. yaw.
    warnings: plain sentences for the person (skipped files, clamped sizes).
    """

    images: torch.Tensor
    labels: torch.Tensor | None = None
    class_names: tuple[str, ...] = ()
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 N×C×H×W, got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError("labels and images differ in length")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


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
