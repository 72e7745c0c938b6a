"""The Fréchet distance between Gaussians fitted to two sets of features (the distance behind FID,
Heusel et al., arXiv 1706.08500), and a cheap pixel version of it for quick checks.

    d² = ‖μ_a − μ_b‖² + tr(Σ_a) + tr(Σ_b) − 2 tr((Σ_a Σ_b)^½)

tr((Σ_a Σ_b)^½) is computed from the eigenvalues of Σ_a^½ Σ_b Σ_a^½, which is symmetric positive
semi-definite, so no complex matrix square root is needed. With fewer samples than dimensions (1,000 images in
Inception's 2,048) it is the same number from the samples: with centred A (N, D) and B (M, D), the non-zero
eigenvalues of Σ_a Σ_b are those of (B Aᵀ)(A Bᵀ) / ((N − 1)(M − 1)), so tr((Σ_a Σ_b)^½) is the sum of the
singular values of B Aᵀ over √((N − 1)(M − 1)): an (M, N) SVD instead of two (D, D) eigendecompositions
(2.7 s → 0.17 s for 1,000 × 2,048 on a 2-core CPU; equal within 3e-8 relative).
"""

from __future__ import annotations

import numpy as np
import torch


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """d² between Gaussians fitted to feature sets a (N, D) and b (M, D)."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    (n, d), m = a.shape, len(b)
    centred_a, centred_b = a - mu_a, b - mu_b
    trace_a = centred_a.square().sum() / (n - 1)
    trace_b = centred_b.square().sum() / (m - 1)
    if min(n, m) < d:
        covmean_trace = torch.linalg.svdvals(centred_b @ centred_a.T).sum() / ((n - 1) * (m - 1)) ** 0.5
    else:
        cov_a, cov_b = torch.cov(a.T).reshape(d, -1), torch.cov(b.T).reshape(d, -1)
        eigenvalues, eigenvectors = torch.linalg.eigh(cov_a)
        sqrt_a = eigenvectors @ torch.diag(eigenvalues.clamp_min(0).sqrt()) @ eigenvectors.T
        covmean_trace = torch.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a).clamp_min(0).sqrt().sum()
    return float((mu_a - mu_b).square().sum() + trace_a + trace_b - 2 * covmean_trace)


def pixel_features(images: np.ndarray, grid: int = 7) -> torch.Tensor:
    """(N, H, W, C) uint8 -> (N, grid²): grey images average-pooled to grid×grid, in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float().permute(0, 3, 1, 2) / 255.0
    return torch.nn.functional.adaptive_avg_pool2d(x.mean(1, keepdim=True), grid).flatten(1)


def pixel_frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance of 7×7 pooled grey pixels between two image sets (N, H, W, C) uint8: a quick
    measure of how far samples are from the data (0 for the same distribution)."""
    return frechet_distance(pixel_features(a), pixel_features(b))
