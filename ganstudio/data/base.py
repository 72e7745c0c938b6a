"""What every data source returns: uint8 images N×C×H×W plus optional labels, paired source images,
two unpaired domains, binary attributes, factors and speech. A batch is a dict of named tensors; the names
(``IMAGE``, ``LABEL``, ``SOURCE``, ``DOMAIN_A``, ``DOMAIN_B``, ``ATTRIBUTES``, ``CLEAN``, ``NOISY``) are how a
data set says what it provides and a family says what it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganstudio.errors import DataError  # noqa: F401  (re-exported for data sources)

if TYPE_CHECKING:
    from ganstudio.data.photos import Photos

IMAGE = "image"  # (N, C, H, W): the images a generator learns to make (a translation's targets)
LABEL = "label"  # (N,) int64 class index
SOURCE = "source"  # (N, C', H, W): paired data's input image for each IMAGE (a sketch, a grey photo)
DOMAIN_A = "a"  # (N_a, C, H, W): one of two unpaired collections (CycleGAN's X: serious faces, horses)
DOMAIN_B = "b"  # (N_b, C, H, W): the other (Y: smiling faces, zebras); any count, never matched with A
ATTRIBUTES = "attributes"  # (N, K) float32 in {0, 1}: each image's binary attributes (StarGAN's domains)
CLEAN = "clean"  # (N, 1, L) int16: clean speech, L samples at 16 kHz (SEGAN's targets)
NOISY = "noisy"  # (N, 1, L) int16: the same speech with noise mixed in (SEGAN's inputs)
UNPAIRED = (DOMAIN_A, DOMAIN_B)  # names that are collections of their own: each drawn in its own order


@dataclass(frozen=True)
class ImageSet:
    """A whole data set in memory.

    images:  (N, C, H, W) uint8 tensor, C in {1, 3}.
    labels:  (N,) int64 tensor of class indices, or None.
    sources: (N, C', H, W) uint8 tensor, the input paired with each image (paired data), or None.
    class_names: one name per class index (empty without labels).
    factors: name -> (N,) float32 array of generative factors (procedural data only), e.g. yaw.
    warnings: plain sentences for the person (skipped files, clamped sizes).
    domains: (N,) int64, 0 or 1: which of two unpaired collections each image belongs to (A or B), or None.
    domain_names: what A and B are, e.g. ("serious", "smiling").
    counterfactuals: (N, C, H, W) uint8, each image as it would look in the other domain (drawn data
        only; for measuring an unpaired translation against a truth real data never has), or None.
    attributes: (N, K) float32 in {0, 1}, or None; attribute_names: one name per column.
    photos: the N images at their own sizes (image folders read for super-resolution, which crops
        patches from them; ``images`` then holds each one's central image_size square), or None.
    clean, noisy: (N, 1, L) int16 waveforms (speech: ``images`` then holds each clean clip's log spectrogram,
        what the data look like), or None.
    """

    images: torch.Tensor
    labels: torch.Tensor | None = None
    sources: torch.Tensor | None = None
    class_names: tuple[str, ...] = ()
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    name: str = ""
    domains: torch.Tensor | None = None
    domain_names: tuple[str, ...] = ()
    counterfactuals: torch.Tensor | None = None
    attributes: torch.Tensor | None = None
    attribute_names: tuple[str, ...] = ()
    photos: Photos | None = None
    clean: torch.Tensor | None = None
    noisy: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 N×C×H×W, got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError("labels and images differ in length")
        if self.sources is not None and (self.sources.dtype != torch.uint8 or self.sources.ndim != 4
                                         or len(self.sources) != len(self.images)):
            raise ValueError(f"sources must be uint8 N×C×H×W like the images, got {self.sources.dtype} "
                             f"{tuple(self.sources.shape)}")
        if self.domains is not None and (len(self.domains) != len(self.images) or len(self.domain_names) != 2):
            raise ValueError("domains need one entry per image and two domain names")
        if self.counterfactuals is not None and self.counterfactuals.shape != self.images.shape:
            raise ValueError("counterfactuals must have the images' shape")
        if self.attributes is not None and (self.attributes.ndim != 2 or len(self.attributes) != len(self.images)
                                            or self.attributes.shape[1] != len(self.attribute_names)):
            raise ValueError("attributes must be (N, K) with one name per column")
        if self.photos is not None and len(self.photos) != len(self.images):
            raise ValueError("photos need one entry per image")
        for name, clip in (("clean", self.clean), ("noisy", self.noisy)):
            if clip is not None and (clip.dtype != torch.int16 or clip.ndim != 3 or len(clip) != len(self.images)):
                raise ValueError(f"{name} speech must be int16 (N, 1, L) with one clip per image, got {clip.dtype} "
                                 f"{tuple(clip.shape)}")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def tensors(self) -> dict[str, torch.Tensor]:
        """What this data set provides, by name: IMAGE always; LABEL, SOURCE, ATTRIBUTES, CLEAN, NOISY and the
        two unpaired domains (DOMAIN_A, DOMAIN_B: the images of each) when it has them."""
        named = {IMAGE: self.images, LABEL: self.labels, SOURCE: self.sources, ATTRIBUTES: self.attributes,
                 CLEAN: self.clean, NOISY: self.noisy}
        if self.domains is not None:
            named |= {DOMAIN_A: self.images[self.domains == 0], DOMAIN_B: self.images[self.domains == 1]}
        return {name: tensor for name, tensor in named.items() if tensor is not None}

    def split(self, count: int, seed: int) -> tuple[ImageSet, ImageSet]:
        """(the rest, ``count`` held-out items drawn with ``seed``): the same fields, disjoint items.
        Unpaired data holds out from each domain in proportion to its size (at least one each, and
        never a domain's last image)."""
        g = torch.Generator().manual_seed(seed)
        if self.domains is None:
            order = torch.randperm(len(self), generator=g)
            held = order[:count]
        else:
            held = torch.cat([self._held_from(torch.nonzero(self.domains == d).flatten(), count, g) for d in (0, 1)])
        keep = torch.ones(len(self), dtype=torch.bool)
        keep[held] = False
        return self.subset(torch.nonzero(keep).flatten()), self.subset(held.sort().values)

    def _held_from(self, members: torch.Tensor, count: int, g: torch.Generator) -> torch.Tensor:
        share = min(max(1, round(count * len(members) / len(self))), len(members) - 1)
        return members[torch.randperm(len(members), generator=g)[:share]]

    def subset(self, index: torch.Tensor) -> ImageSet:
        pick = lambda t: None if t is None else t[index]  # noqa: E731
        return ImageSet(self.images[index], pick(self.labels), pick(self.sources), self.class_names,
                        {k: v[index.numpy()] for k, v in self.factors.items()}, self.warnings, self.name,
                        pick(self.domains), self.domain_names, pick(self.counterfactuals), pick(self.attributes),
                        self.attribute_names, None if self.photos is None else self.photos.subset(index),
                        pick(self.clean), pick(self.noisy))


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
