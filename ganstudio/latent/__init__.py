"""Latent-space tools: generator snapshots, directions (SeFa, PCA, supervised), walks, rendering."""
