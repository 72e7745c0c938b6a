"""Latent-space tools: rendering generator output to images (and, later, directions and walks)."""
