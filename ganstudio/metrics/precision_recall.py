"""Improved precision and recall (Kynkäänniemi et al., arXiv 1904.06991): each set's manifold is the
union of balls around its points, each ball reaching the point's k-th nearest neighbour in its own
set. Precision: the share of generated points inside the real manifold (fidelity). Recall: the share
of real points inside the generated manifold (coverage; it falls when the generator collapses)."""

from __future__ import annotations

import torch


def _knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """(N,): the distance from each point to its k-th nearest other point of the same set."""
    distances = torch.cdist(x, x)
    return distances.kthvalue(k + 1, dim=1).values  # the k+1-th smallest: the 1st is the point itself


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """(N,) bool: is each point within the ball of at least one centre?"""
    inside = torch.zeros(len(points), dtype=torch.bool)
    for chunk in range(0, len(points), 1024):
        d = torch.cdist(points[chunk:chunk + 1024], centres)
        inside[chunk:chunk + 1024] = (d <= radii[None, :]).any(dim=1)
    return inside


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """(precision, recall) of fake (n, d) against real (m, d) features."""
    real, fake = real.double(), fake.double()
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"precision and recall need more than k = {k} samples in each set")
    precision = _inside(fake, real, _knn_radii(real, k)).double().mean()
    recall = _inside(real, fake, _knn_radii(fake, k)).double().mean()
    return float(precision), float(recall)
