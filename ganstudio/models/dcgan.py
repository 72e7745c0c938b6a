"""DCGAN (Radford et al., arXiv 1511.06434): transposed-conv generator, strided-conv discriminator,
BatchNorm, ReLU in G, LeakyReLU(0.2) in D, weights from N(0, 0.02).

The stacks (ganstudio.models.conv) cover the tutorial's 28 px model (width 112), the paper's 32/64 px one
(width 64) and 16, 128 and 256 px (the paper's stack with levels added or removed at the low-resolution
end, at most 512 channels at width 64). A smaller width (e.g. 32, the app's default) trains faster on a CPU.

Departs from the paper by default: **instance noise** (Sønderby et al., arXiv 1610.04490; Arjovsky &
Bottou, arXiv 1701.04862): D sees real and generated images with Gaussian noise added, σ 0.1 (pixels in
[-1, 1]) at step 0 falling linearly to 0 at step 2,000; from then on the maths is the paper's.
``--option instance_noise=0`` is the tutorial's exact objective from the first step.

Why, measured on faces (28 px, grey, width 32, batch 60, Adam 2e-4; domain FID of 1,000 samples at steps
500/1,000/1,500/2,000; seeds 0, 1, 2; ``tests/benchmarks/quality_curve.py --steps``):

- the paper's maths: D separates G's first images within ~300 steps (D(x) 0.99, D(G(z)) 0.02) and G
  collapses to one flat grey image (sample std 0.08 at step 100, 0.008 from step 300; the data's is 0.34):
  FID 64/64/64/63, 62/62/62/8.5, 64/59/6.1/4.6, with the collapse and D-winning warnings at steps 400 and
  ~670 on every seed. At initialisation half of the narrow generator's output energy is at the
  checkerboard frequency (0.5 % in the data) and its contrast is half the data's: easy for D.
- instance noise σ 0.1 over 2,000 steps (the default): 9.9/6.6/4.1/7.5, 10.7/6.8/4.4/7.0, 9.3/5.6/4.7/7.0,
  no warning; the FID rises for a few hundred steps as the noise ends (recall halves), then falls: 3.8,
  3.3, 3.1, 2.9, 3.1, 3.0 at steps 2,500 to 5,000 (the README's five epochs; the paper's maths: 4.5 in
  issue 12).
- over 5,000 steps: 10.3/6.6/4.9/4.0 (2.5 at 4,000) but the same rise at the end of the five-epoch run
  (5.6 at step 5,000). σ 0.05: 9.0/7.2/4.2/7.3 (a recall-collapse warning at 2,000), 9.4/8.7/5.3/5.7.
- one-sided label smoothing (real target 0.9): 64/29/7.0/4.7 and the collapse warning — not enough.
- PyTorch's default initialisation instead of N(0, 0.02): 10.1/7.5/7.0/6.9, 9.0/7.7/6.4/6.3,
  15.5/8.2/7.2/6.6.
- D's learning rate halved (1e-4): 6.0/4.9/3.7/3.2, 6.7/4.8/4.1/3.6, 5.8/4.9/4.6/3.8 — as good, but the
  app's first launch and ``RunConfig()`` take the tutorial's 2e-4 from TrainConfig, not the family's.
"""

from __future__ import annotations

from torch import nn

from ganstudio.models import register_family
from ganstudio.models.adversarial import AdversarialFamily
from ganstudio.models.conv import CONV_IMAGE_SIZES, ConvDecoder, ConvEncoder, dcgan_init_


def dcgan_default_width(image_size: int) -> int:
    """The tutorial's 112 at 28 px, the paper's 64 at 32/64 px."""
    return 112 if image_size == 28 else 64


class DCGANGenerator:
    """DCGAN's generator and default widths, for the families that keep them (DCGAN, WGAN(-GP), EBGAN);
    mixed into a Family."""

    def default_width(self) -> int:
        return dcgan_default_width(self.image_shape[1])

    def build_generator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        g = ConvDecoder(self.latent_dim, channels, size, self.width)
        dcgan_init_(g)
        return g


@register_family("dcgan")
class DCGAN(DCGANGenerator, AdversarialFamily):
    image_sizes = CONV_IMAGE_SIZES
    description = "deep convolutional GAN (the tutorial's at 28 px; the paper's stack at 16-256 px)"
    channels_last = True

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        d = ConvEncoder(channels, size, self.width)
        dcgan_init_(d)
        return d
