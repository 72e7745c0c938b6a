"""Class-conditional GAN (Mirza & Osindero, arXiv 1411.1784) on the DCGAN stacks.

G reads z concatenated with the class as a one-hot vector (the paper's concatenation; z comes first,
so SeFa reads the z columns of G's first layer). D is a projection discriminator (Miyato & Koyama,
arXiv 1802.05637): D(x, y) = ψ(φ(x)) + ⟨embed(y), Σ_hw φ(x)⟩, with φ the DCGAN discriminator's last
hidden map. The fakes of a step get the real batch's labels; the BCE objective is the tutorial's.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.data.base import IMAGE, LABEL
from ganstudio.models import register_family
from ganstudio.models.adversarial import AdversarialFamily
from ganstudio.models.base import Z
from ganstudio.models.conv import CONV_IMAGE_SIZES, ConvDecoder, ConvEncoder, dcgan_init_
from ganstudio.models.dcgan import dcgan_default_width


class ConditionalGenerator(nn.Module):
    """(z (N, latent_dim), labels (N,)) -> images (N, C, H, W)."""

    def __init__(self, latent_dim: int, num_classes: int, channels: int, image_size: int, width: int):
        super().__init__()
        self.num_classes = num_classes
        self.decoder = ConvDecoder(latent_dim + num_classes, channels, image_size, width)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        one_hot = F.one_hot(labels, self.num_classes).to(z.dtype)
        return self.decoder(torch.cat([z, one_hot], dim=1))


class ProjectionDiscriminator(nn.Module):
    """(images (N, C, H, W), labels (N,)) -> logits (N, 1)."""

    def __init__(self, num_classes: int, channels: int, image_size: int, width: int):
        super().__init__()
        self.encoder = ConvEncoder(channels, image_size, width)
        self.embed = nn.Embedding(num_classes, self.encoder.feature_channels)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        features = self.encoder.features(images)
        projection = (self.embed(labels) * features.sum(dim=(2, 3))).sum(dim=1, keepdim=True)
        return self.encoder.head(features) + projection


@register_family("cgan")
class ConditionalGAN(AdversarialFamily):
    image_sizes = CONV_IMAGE_SIZES
    description = "class-conditional DCGAN: choose the class of each image (needs labelled data)"
    needs = frozenset({IMAGE, LABEL})
    generator_inputs = (Z, LABEL)
    channels_last = True

    def default_width(self) -> int:
        return dcgan_default_width(self.image_shape[1])

    def architecture(self) -> dict[str, object]:
        return {**super().architecture(), "classes": len(self.class_names)}

    def build_generator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        g = ConditionalGenerator(self.latent_dim, len(self.class_names), channels, size, self.width)
        dcgan_init_(g)
        return g

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        d = ProjectionDiscriminator(len(self.class_names), channels, size, self.width)
        dcgan_init_(d.encoder)
        return d

    def generate_batch(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.G(z, labels)

    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.D(images, labels)

    def fixed_inputs(self, num_samples, generator, held_out):
        """One row per class, as many columns as the square grid of ``num_samples`` would have
        (fewer with many classes: at most ~128 images)."""
        classes = len(self.class_names)
        columns = max(1, min(math.isqrt(num_samples), 128 // classes))
        return self.fixed_inputs_from_z(self.sample_latent(classes * columns, generator))

    def fixed_inputs_from_z(self, z):
        columns = len(z) // len(self.class_names)
        return {Z: z, LABEL: torch.arange(len(self.class_names)).repeat_interleave(columns)}

    def sample_tiles(self, inputs, outputs):
        return outputs, len(outputs) // len(self.class_names)
