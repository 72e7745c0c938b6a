"""DCGAN (Radford et al., arXiv 1511.06434): transposed-conv generator, strided-conv discriminator,
BatchNorm, ReLU in G, LeakyReLU(0.2) in D, weights from N(0, 0.02).

The stacks (ganstudio.models.conv) cover the tutorial's 28 px model (width 112) and the paper's
32/64 px one (width 64). A smaller width (e.g. 32, the app's default) trains faster on a CPU.
"""

from __future__ import annotations

from torch import nn

from ganstudio.models import register_family
from ganstudio.models.adversarial import AdversarialFamily
from ganstudio.models.conv import ConvDecoder, ConvEncoder, dcgan_init_


def dcgan_default_width(image_size: int) -> int:
    """The tutorial's 112 at 28 px, the paper's 64 at 32/64 px."""
    return 112 if image_size == 28 else 64


@register_family("dcgan")
class DCGAN(AdversarialFamily):
    description = "deep convolutional GAN (the tutorial's at 28 px; the paper's stack at 32/64 px)"
    channels_last = True

    def default_width(self) -> int:
        return dcgan_default_width(self.image_shape[1])

    def build_generator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        g = ConvDecoder(self.latent_dim, channels, size, self.width)
        dcgan_init_(g)
        return g

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        d = ConvEncoder(channels, size, self.width)
        dcgan_init_(d)
        return d
