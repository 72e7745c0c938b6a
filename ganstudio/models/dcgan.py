"""DCGAN (Radford et al., arXiv 1511.06434): transposed-conv generator, strided-conv discriminator,
BatchNorm, ReLU in G, LeakyReLU(0.2) in D, weights from N(0, 0.02).

The stacks (ganstudio.models.conv) cover the tutorial's 28 px model (width 112) and the paper's
32/64 px one (width 64). A smaller width (e.g. 32, the app's default) trains faster on a CPU.

Departs from the paper by default: **instance noise** (Sønderby et al., arXiv 1610.04490; Arjovsky &
Bottou, arXiv 1701.04862): D sees real and generated images with Gaussian noise added, σ 0.1 (pixels in
[-1, 1]) at step 0, falling linearly to 0 at step 5,000 (the end of the README's five-epoch run); from
then on the maths is the paper's. ``--option instance_noise=0`` is the tutorial's exact objective.

Why, measured on faces (28 px, grey, width 32, batch 60, Adam 2e-4, domain FID of 1,000 samples; seeds
0/1/2; tests/benchmarks/quality_curve.py): with the paper's maths D separates G's first images — low in
contrast and textured at the checkerboard frequency, as N(0, 0.02) weights make a narrow transposed-conv
stack — within ~300 steps (D(x) 0.99, D(G(z)) 0.02), and G collapses to one flat grey image (sample
std 0.008 against the data's 0.34): FID 63/64/62 at step 500 and 1,000, and it takes off only
between steps 1,500 and 2,000 (FID at 2,000: 63, 8.5, 4.6), with the collapse and D-winning warnings
at steps 400 and ~680. With the noise D cannot saturate on such details: FID 10.3/10.4/· at 500,
6.6/6.8/· at 1,000, 4.9/4.4/· at 1,500, 4.0/3.6/· at 2,000, 2.7 at 3,000, no warning. Also measured:
the noise annealed over 2,000 steps (FID 4.1–4.7 at 1,500, but a bump to 7–7.5 as it ends, once with a
recall warning), σ 0.05 (similar), one-sided label smoothing 0.9 (FID 64 at 500, 29 at 1,000: not
enough), PyTorch's default initialisation (9–15 at 500, 6.4–7.0 at 1,500) and D's learning rate halved
to 1e-4 (5.8–6.7 at 500, 3.7–4.6 at 1,500; as good, but a learning rate the app's and the API's
defaults would not pick up).
"""

from __future__ import annotations

from torch import nn

from ganstudio.models import register_family
from ganstudio.models.adversarial import AdversarialFamily, instance_noise_options
from ganstudio.models.conv import ConvDecoder, ConvEncoder, dcgan_init_


def dcgan_default_width(image_size: int) -> int:
    """The tutorial's 112 at 28 px, the paper's 64 at 32/64 px."""
    return 112 if image_size == 28 else 64


@register_family("dcgan")
class DCGAN(AdversarialFamily):
    description = "deep convolutional GAN (the tutorial's at 28 px; the paper's stack at 32/64 px)"
    channels_last = True
    options = instance_noise_options(instance_noise=0.1, instance_noise_steps=2000)

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
