"""Paths through z-space: interpolation between two codes and traversals along a direction.

z arrays are (..., latent_dim) float32 numpy arrays.
"""

from __future__ import annotations

import numpy as np


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The straight line: (1 - t)·a + t·b."""
    return ((1.0 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; for GAN latents White, arXiv 1609.04468): follows the
    great circle between the directions of a and b while the norm goes linearly from |a| to |b|, so
    intermediate codes keep the norm a Gaussian z typically has (lerp passes close to the origin)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0 or norm_b == 0:
        return lerp(a, b, t)
    cos = np.clip(np.dot(a / norm_a, b / norm_b), -1.0, 1.0)
    omega = np.arccos(cos)
    if omega < 1e-6:  # (nearly) the same direction
        return lerp(a, b, t)
    unit = (np.sin((1 - t) * omega) * a / norm_a + np.sin(t * omega) * b / norm_b) / np.sin(omega)
    return (unit * ((1 - t) * norm_a + t * norm_b)).astype(np.float32)


INTERPOLATIONS = {"lerp": lerp, "slerp": slerp}


def interpolation_path(a: np.ndarray, b: np.ndarray, steps: int, method: str = "slerp") -> np.ndarray:
    """(steps, latent_dim): ``steps`` codes from a to b inclusive."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {method!r}: use {' or '.join(INTERPOLATIONS)}")
    return np.stack([INTERPOLATIONS[method](a, b, t) for t in np.linspace(0.0, 1.0, steps)])


def traversal_strengths(steps: int = 7, extent: float = 3.0) -> np.ndarray:
    """(steps,) evenly spaced strengths from -extent to +extent."""
    return np.linspace(-extent, extent, steps, dtype=np.float32)


def traversal(z: np.ndarray, step_vector: np.ndarray, strengths: np.ndarray) -> np.ndarray:
    """(len(strengths), latent_dim): z + s·step_vector for each strength s."""
    return (z[None, :] + strengths[:, None] * step_vector[None, :]).astype(np.float32)
