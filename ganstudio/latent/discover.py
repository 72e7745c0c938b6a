"""One entry point for finding directions in a generator snapshot, shared by the CLI and the app,
and the traversal strip that shows what a direction does."""

from __future__ import annotations

import numpy as np
import torch

from ganstudio.images import image_grid
from ganstudio.latent.attributes import AttributeModel, attribute_model_for
from ganstudio.latent.directions import Direction, pca_directions, sefa_directions, supervised_directions
from ganstudio.latent.walks import traversal, traversal_strengths
from ganstudio.snapshot import GeneratorSnapshot

DISCOVERY_METHODS = {
    "sefa": "SeFa: from the weights of the layer that reads z (instant, no labels)",
    "pca": "PCA of activations after a non-linearity (GANSpace; seconds, no labels)",
    "supervised": "named directions from the data set's factors or classes (trains an attribute model once)",
}


def attribute_directions(snapshot: GeneratorSnapshot, model: AttributeModel, n_samples: int = 3000,
                         seed: int = 0) -> list[Direction]:
    """Supervised directions named after the attribute model's outputs (yaw, smile, ... or classes):
    label ``n_samples`` generated images with ``model``, fit each attribute in z (conditional)."""
    z = torch.randn(n_samples, snapshot.latent_dim, generator=torch.Generator().manual_seed(seed))
    labels = model.predict(snapshot.images(z))
    return supervised_directions(z.numpy(), labels, model.names, source=snapshot.source)


def discover_directions(snapshot: GeneratorSnapshot, method: str, k: int = 10, layer: str | None = None,
                        n_samples: int | None = None, seed: int = 0) -> list[Direction]:
    """The top-``k`` directions of ``snapshot``'s generator by one of ``DISCOVERY_METHODS``."""
    snapshot = snapshot.on_cpu()  # the methods' maths and samples are on the CPU
    if method == "sefa":
        return sefa_directions(snapshot.generator, snapshot.latent_dim, k, source=snapshot.source)
    if method == "pca":
        return pca_directions(snapshot.generator, snapshot.latent_dim, k, layer, n_samples or 20_000, seed,
                              source=snapshot.source)
    if method == "supervised":
        model = attribute_model_for(snapshot.config.data)
        return attribute_directions(snapshot, model, n_samples or 3000, seed)[:k]
    raise ValueError(f"unknown method {method!r}; use one of {', '.join(DISCOVERY_METHODS)}")


def traversal_frames(snapshot: GeneratorSnapshot, direction: Direction, z: np.ndarray, steps: int = 7,
                     extent: float = 3.0) -> np.ndarray:
    """(steps, H, W, C) uint8: z moved along ``direction`` from -extent to +extent."""
    return snapshot.render(traversal(z, direction.step, traversal_strengths(steps, extent)))


def strip(frames: np.ndarray, padding: int = 2) -> np.ndarray:
    """Frames (N, H, W, C) side by side in one row with uniform padding."""
    return image_grid(frames, columns=len(frames), padding=padding)
