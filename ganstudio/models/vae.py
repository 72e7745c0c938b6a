"""A convolutional variational auto-encoder (Kingma & Welling, arXiv 1312.6114), to compare with the
GANs: stable to train, blurrier samples.

Encoder: the DCGAN discriminator stack ending in 2·latent_dim numbers (μ, log σ²). Decoder: the DCGAN
generator, which samples from z ~ N(0, I) like any GAN generator here. Per image, the loss is the
negative ELBO with a Gaussian likelihood of fixed variance 1/2 and a β-weighted KL (β = 1: the VAE):

    recon = Σ_pixels (x̂ − x)²        KL = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)
"""

from __future__ import annotations

import torch
from torch import nn

from ganstudio.data.base import IMAGE
from ganstudio.models import register_family
from ganstudio.models.base import Family, FamilyOption, MetricInfo, Tensors
from ganstudio.models.conv import CONV_IMAGE_SIZES, ConvDecoder, ConvEncoder
from ganstudio.models.dcgan import dcgan_default_width


class PosteriorMean(nn.Module):
    """images (N, C, H, W) -> μ (N, latent_dim): the encoder's best guess of z."""

    def __init__(self, encoder: ConvEncoder, latent_dim: int):
        super().__init__()
        self.encoder, self.latent_dim = encoder, latent_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)[:, :self.latent_dim]


@register_family("vae")
class VAE(Family):
    image_sizes = CONV_IMAGE_SIZES
    description = "variational auto-encoder: stable but blurry; encodes real images into z"
    channels_last = True
    can_encode = True
    metrics = (
        MetricInfo("recon", "reconstruction", "reconstruction error (sum of squares per image)"),
        MetricInfo("kl", "KL", "KL divergence to N(0, I) (nats per image)"),
    )
    options = (FamilyOption("beta", "KL weight β", 1.0, 0.0, 100.0, "weight of the KL term (1: the VAE; >1: β-VAE)"),)
    train_overrides = {"lr_g": 1e-3, "beta1": 0.9}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        channels, size, _ = self.image_shape
        self.encoder_net = self.place(ConvEncoder(channels, size, self.width, 2 * self.latent_dim, head_bias=True))
        self.decoder = self.place(ConvDecoder(self.latent_dim, channels, size, self.width))
        self.opt = self.adam([*self.encoder_net.parameters(), *self.decoder.parameters()], self.train_cfg.lr_g)

    def default_width(self) -> int:
        return dcgan_default_width(self.image_shape[1])

    @property
    def generator(self) -> nn.Module:
        return self.decoder

    @property
    def encoder(self) -> nn.Module:
        return PosteriorMean(self.encoder_net, self.latent_dim)

    def networks(self) -> dict[str, nn.Module]:
        return {"encoder": self.encoder_net, "decoder": self.decoder}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vae": self.opt}

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        real = batch[IMAGE]
        self.opt.zero_grad(set_to_none=True)
        with self.autocast():
            mu, logvar = self.encoder_net(real).float().chunk(2, dim=1)
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            reconstruction = self.decoder(z)
        recon = (reconstruction.float() - real.float()).square().flatten(1).sum(dim=1).mean()
        kl = (-0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(dim=1)).mean()
        (recon + self.settings["beta"] * kl).backward()
        self.opt.step()
        return {"recon": recon.detach(), "kl": kl.detach()}
