"""Kernel Inception Distance (Bińkowski et al., arXiv 1801.01401): the unbiased estimate of the
squared MMD between two feature sets under the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³,
averaged over random subsets. Unlike FID it is unbiased, so small sample sets compare fairly."""

from __future__ import annotations

import numpy as np
import torch


def polynomial_mmd2(a: torch.Tensor, b: torch.Tensor) -> float:
    """Unbiased MMD² between a (m, d) and b (n, d):
    1/(m(m−1)) Σ_{i≠j} k(a_i, a_j) + 1/(n(n−1)) Σ_{i≠j} k(b_i, b_j) − 2/(mn) Σ_{i,j} k(a_i, b_j)."""
    a, b = a.double(), b.double()
    m, n, d = a.shape[0], b.shape[0], a.shape[1]
    k_aa = (a @ a.T / d + 1) ** 3
    k_bb = (b @ b.T / d + 1) ** 3
    k_ab = (a @ b.T / d + 1) ** 3
    within_a = (k_aa.sum() - k_aa.diagonal().sum()) / (m * (m - 1))
    within_b = (k_bb.sum() - k_bb.diagonal().sum()) / (n * (n - 1))
    return float(within_a + within_b - 2 * k_ab.mean())


def kernel_inception_distance(a: torch.Tensor, b: torch.Tensor, subsets: int = 10, subset_size: int = 1000,
                              seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the MMD² over ``subsets`` random subsets of both sets (the whole sets when they
    are smaller than ``subset_size``)."""
    rng = np.random.default_rng(seed)
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError("KID needs at least two samples in each set")
    values = [polynomial_mmd2(a[rng.choice(len(a), size, replace=False)], b[rng.choice(len(b), size, replace=False)])
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))
