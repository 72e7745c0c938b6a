"""Directions keep their identity across checkpoints: matching under permutation and sign flips, names
that follow, births, fades and splits; and SeFa on a generator whose planted directions rotate and swap."""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from ganstudio.latent.directions import Direction, sefa_directions
from ganstudio.latent.tracking import DirectionTracker, best_assignment, match_directions


def directions(vectors, prefix="SeFa"):
    return [Direction(f"{prefix} {i + 1}", "sefa", np.asarray(v, np.float32) / np.linalg.norm(v), rank=i + 1)
            for i, v in enumerate(vectors)]


def test_best_assignment_is_the_optimum_of_every_small_case():
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, columns = (int(n) for n in rng.integers(1, 6, size=2))
        m = rng.random((rows, columns))
        found = best_assignment(m)
        assert len(found) == min(rows, columns)
        assert len({r for r, _ in found}) == len({c for _, c in found}) == len(found)
        if rows <= columns:
            best = max(sum(m[r, p[r]] for r in range(rows)) for p in itertools.permutations(range(columns), rows))
        else:
            best = max(sum(m[p[c], c] for c in range(columns)) for p in itertools.permutations(range(rows), columns))
        assert sum(m[r, c] for r, c in found) == pytest.approx(best)


def test_matching_sees_through_permutations_and_sign_flips():
    basis = np.linalg.qr(np.random.default_rng(1).standard_normal((12, 5)))[0].T  # 5 orthonormal vectors
    before = directions(basis)
    order = [3, 0, 4, 1, 2]
    after = directions([basis[i] * (-1) ** k for k, i in enumerate(order)])
    assert match_directions(before, after) == {k: (i, pytest.approx(1.0)) for k, i in enumerate(order)}


def test_greedy_matching_would_be_wrong_here():
    """New direction 0 resembles old 0 most, but taking that leaves new 1 with nothing: the best total
    pairs 0 with 1 and 1 with 0."""
    sim = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert best_assignment(sim) == [(0, 1), (1, 0)]


class PlantedGenerator(nn.Module):
    """G(z) = A z with AᵀA's eigenvectors chosen: SeFa finds exactly those, ranked by eigenvalue."""

    def __init__(self, vectors: np.ndarray, strengths: list[float]):
        super().__init__()
        self.layer = nn.Linear(vectors.shape[1], vectors.shape[1], bias=False)
        a = np.diag(np.sqrt(strengths + [0.01] * (vectors.shape[1] - len(strengths)))) @ vectors
        self.layer.weight.data = torch.tensor(a, dtype=torch.float32)

    def forward(self, z):
        return self.layer(z)


def test_sefa_directions_keep_their_names_while_they_rotate_and_swap_ranks():
    rng = np.random.default_rng(2)
    dim = 10
    basis = np.linalg.qr(rng.standard_normal((dim, dim)))[0].T
    tracker = DirectionTracker("SeFa")
    strengths = [9.0, 6.0, 4.0]
    first = tracker.update(100, sefa_directions(PlantedGenerator(basis, strengths), dim, k=3))
    names = {d.name: d.vector for d in first}
    tracker.rename("SeFa 2", "smile")

    # The first and third planted directions turn by 10° towards each other; the first two swap strengths.
    c, s = np.cos(np.radians(10)), np.sin(np.radians(10))
    rotated = basis.copy()
    rotated[0], rotated[2] = c * basis[0] + s * basis[2], c * basis[2] - s * basis[0]
    second = tracker.update(200, sefa_directions(PlantedGenerator(rotated, [6.0, 9.0, 4.0]), dim, k=3))
    assert [d.name for d in second] == ["SeFa 1", "smile", "SeFa 3"]
    for d, old in zip(second, [names["SeFa 1"], names["SeFa 2"], names["SeFa 3"]]):
        assert float(d.vector @ old) > 0.9  # same identity, sign aligned
    assert tracker.lives["smile"].steps == [100, 200]
    assert tracker.lives["SeFa 1"].stability[-1] == pytest.approx(c, abs=1e-5)  # it turned by 10°

    # SeFa 3 fades; a new direction appears and gets a fresh number.
    third = tracker.update(300, directions([rotated[1], rotated[0], rotated[5]]))
    assert [d.name for d in third] == ["SeFa 1", "smile", "SeFa 4"]
    assert tracker.lives["SeFa 3"].faded == 300 and tracker.lives["SeFa 4"].born == 300


def test_a_direction_that_splits_in_two_is_recorded_as_a_split():
    basis = np.eye(6)
    tracker = DirectionTracker("PCA")
    tracker.update(1, directions([basis[0], basis[1]], "PCA"))
    halves = [basis[0] * 0.8 + basis[2] * 0.6, basis[0] * 0.6 - basis[2] * 0.8]  # PCA 1 splits into two
    after = tracker.update(2, directions([halves[0], basis[1], halves[1]], "PCA"))
    assert [d.name for d in after] == ["PCA 1", "PCA 2", "PCA 3"]
    assert tracker.lives["PCA 3"].split_from == "PCA 1"


def test_sefa_records_follow_identities_and_tell_their_lives():
    from ganstudio.latent.tracking import SefaTracker, describe_lives

    dim = 10
    basis = np.linalg.qr(np.random.default_rng(4).standard_normal((dim, dim)))[0].T
    tracker = SefaTracker(dim, k=2)
    records = [tracker.record(PlantedGenerator(basis, [9.0, 4.0]), 100),
               tracker.record(PlantedGenerator(basis, [4.0, 9.0]), 200),  # the two swap ranks
               tracker.record(PlantedGenerator(basis[[0, 7, 1, 2, 3, 4, 5, 6, 8, 9]], [9.0, 4.0]), 300)]
    assert records[1]["sefa_share_1"] < records[1]["sefa_share_2"]  # identity, not rank
    assert records[1]["sefa_stability_1"] == pytest.approx(1.0, abs=1e-5)
    assert "sefa_share_2" not in records[2] and "sefa_share_3" in records[2]  # SeFa 2 faded, 3 was born
    assert describe_lives(records) == ["SeFa 1: from step 100, settled since 200",
                                       "SeFa 2: from step 100, faded after 200",
                                       "SeFa 3: from step 300, still turning"]
