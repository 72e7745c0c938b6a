"""ganstudio: train a GAN on your own images, watch it learn live, explore its latent space."""

__version__ = "0.1.0"
