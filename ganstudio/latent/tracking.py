"""Directions that keep their identity while the model trains.

SeFa and PCA find their directions afresh at every checkpoint or snapshot, ranked by strength: as the
model learns, two directions swap ranks, a direction's sign flips (an eigenvector's sign is arbitrary)
and its vector turns a little. ``match_directions`` pairs the new directions with the previous ones by
absolute cosine (the assignment that maximises the total, as the Hungarian method finds it), and
``DirectionTracker`` carries each one's name, sign and history across steps: when it appeared, how
much it still turns, when it faded or split in two. ``SefaTracker`` does it for the run's SeFa directions
at every sample grid (the Explore tab's "Over training" view).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from ganstudio.latent.directions import Direction, latent_projection, sefa_directions
from ganstudio.models.base import MetricInfo

SAME = 0.5  # |cos| at or above which a new direction continues an old one
def best_assignment(similarity: np.ndarray) -> list[tuple[int, int]]:
    """The (row, column) pairs, one for each row when rows ≤ columns (else one for each column), that
    maximise the summed ``similarity``: the linear assignment problem, by the Hungarian method with
    potentials (Kuhn 1955, Munkres 1957; O(n² m)). scipy's ``linear_sum_assignment`` does the same but
    would add a 40 MB dependency for this one call on at most 50 × 50 matrices."""
    if similarity.shape[0] > similarity.shape[1]:
        return sorted((r, c) for c, r in best_assignment(similarity.T))
    rows, columns = similarity.shape
    cost = -np.asarray(similarity, np.float64)  # maximise similarity = minimise its negative
    u, v = np.zeros(rows + 1), np.zeros(columns + 1)  # potentials; index 0 is a sentinel
    owner = np.zeros(columns + 1, int)  # owner[j]: the row (1-based) column j is assigned to
    for row in range(1, rows + 1):
        owner[0], column = row, 0
        slack = np.full(columns + 1, np.inf)
        previous = np.zeros(columns + 1, int)
        used = np.zeros(columns + 1, bool)
        while owner[column]:  # grow an alternating tree until a free column is reached
            used[column] = True
            r = owner[column]
            reduced = cost[r - 1] - u[r] - v[1:]
            better = ~used[1:] & (reduced < slack[1:])
            slack[1:][better] = reduced[better]
            previous[1:][better] = column
            free = np.where(used[1:], np.inf, slack[1:])
            nearest = int(np.argmin(free)) + 1
            delta = free[nearest - 1]
            u[owner[used]] += delta
            v[used] -= delta
            slack[1:][~used[1:]] -= delta
            column = nearest
        while column:  # flip the augmenting path
            owner[column] = owner[previous[column]]
            column = previous[column]
    return sorted((owner[j] - 1, j - 1) for j in range(1, columns + 1) if owner[j])


def match_directions(previous: Sequence[Direction], current: Sequence[Direction]) -> dict[int, tuple[int, float]]:
    """current index -> (previous index, |cos|) for the pairs of the best assignment whose |cos| ≥ SAME."""
    if not previous or not current:
        return {}
    similarity = np.abs(np.stack([d.vector for d in current]) @ np.stack([d.vector for d in previous]).T)
    return {c: (p, float(similarity[c, p])) for c, p in best_assignment(similarity) if similarity[c, p] >= SAME}


@dataclass
class DirectionLife:
    """One tracked direction over training."""

    name: str
    born: int  # the step it was first seen
    steps: list[int] = field(default_factory=list)
    stability: list[float] = field(default_factory=list)  # |cos| to itself at the previous step (1 = settled)
    faded: int | None = None  # the step it was last missing, if it faded
    split_from: str | None = None  # the direction it split off from, if it did


class DirectionTracker:
    """Follows one method's directions across steps: ``update(step, found)`` returns ``found`` renamed,
    sign-aligned and ordered like the previous ones (new directions after them, named ``<prefix> N``
    with numbers never reused), and records each one's life in ``lives``."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.current: list[Direction] = []
        self.lives: dict[str, DirectionLife] = {}
        self._next = 1

    def rename(self, old: str, new: str) -> None:
        """A person named a direction: the name follows it from now on."""
        self.current = [replace(d, name=new) if d.name == old else d for d in self.current]
        if old in self.lives:
            self.lives[new] = self.lives.pop(old)
            self.lives[new].name = new

    def update(self, step: int, found: Sequence[Direction]) -> list[Direction]:
        matches = match_directions(self.current, found)
        kept: dict[int, Direction] = {}
        for index, (previous_index, cosine) in matches.items():
            previous = self.current[previous_index]
            vector = found[index].vector
            if float(vector @ previous.vector) < 0:
                vector = -vector
            kept[previous_index] = replace(found[index], name=previous.name, vector=vector)
            life = self.lives[previous.name]
            life.steps.append(step)
            life.stability.append(cosine)
        for previous_index, previous in enumerate(self.current):
            if previous_index not in kept:
                self.lives[previous.name].faded = step
        new = []
        for index, direction in enumerate(found):
            if index in matches:
                continue
            name = f"{self.prefix} {self._next}"
            self._next += 1
            parent = self._split_parent(direction)
            self.lives[name] = DirectionLife(name, step, [step], [float("nan")], split_from=parent)
            new.append(replace(direction, name=name))
        self.current = [kept[i] for i in sorted(kept)] + new
        return list(self.current)

    def _split_parent(self, direction: Direction) -> str | None:
        """The previous direction a new one split off: the one it still leans on most, if |cos| ≥ SAME / 2
        (a direction that splits in two continues as the closer half; the other half is new)."""
        if not self.current:
            return None
        cosines = [abs(float(direction.vector @ d.vector)) for d in self.current]
        best = int(np.argmax(cosines))
        return self.current[best].name if cosines[best] >= SAME / 2 else None


SEFA_TRACKED, SEFA_SERIES = 5, 12  # directions found per record; identities plotted (later ones are not)
SEFA_METRICS = tuple(MetricInfo(f"sefa_share_{i}", f"SeFa {i}", "SeFa spectrum: share of each direction")
                     for i in range(1, SEFA_SERIES + 1)) + tuple(
    MetricInfo(f"sefa_stability_{i}", f"SeFa {i}", "SeFa stability: |cos| to itself at the previous grid")
    for i in range(1, SEFA_SERIES + 1))


class SefaTracker:
    """SeFa at successive steps of one run, to show how directions emerge and settle. Each direction
    keeps its identity ("SeFa n", n in order of appearance) across records; a record holds, per identity
    n seen at this step, its eigenvalue as a share of the spectrum (``sefa_share_n``), from its second
    record on its |cos| to itself at the previous one (``sefa_stability_n``, 1 = it no longer turns),
    and when it split off another, that one's number (``sefa_split_n``)."""

    def __init__(self, latent_dim: int, k: int = SEFA_TRACKED):
        self.latent_dim, self.k = latent_dim, k
        self.tracker = DirectionTracker("SeFa")

    def record(self, generator: nn.Module, step: int) -> dict[str, float]:
        a, _ = latent_projection(generator, self.latent_dim)
        total = float(torch.linalg.matrix_norm(a) ** 2)  # = trace(AᵀA) = the sum of all eigenvalues
        record: dict[str, float] = {"step": step}
        for direction in self.tracker.update(step, sefa_directions(generator, self.latent_dim, self.k)):
            life, n = self.tracker.lives[direction.name], identity_number(direction.name)
            record[f"sefa_share_{n}"] = direction.score / total
            if len(life.steps) > 1:
                record[f"sefa_stability_{n}"] = life.stability[-1]
            elif life.split_from is not None:
                record[f"sefa_split_{n}"] = float(identity_number(life.split_from))
        return record


def identity_number(name: str) -> int:
    """"SeFa 7" -> 7."""
    return int(name.rsplit(" ", 1)[-1])


SETTLED = 0.99  # |cos| to itself at the previous record from which a direction counts as settled


def describe_lives(records: Sequence[dict[str, float]]) -> list[str]:
    """One line per SeFa identity in ``SefaTracker`` records: when it appeared (and what it split off),
    since when it is settled, or when it faded."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    settled: dict[int, int | None] = {}
    parents: dict[int, int] = {}
    for record in records:
        step = int(record["step"])
        for key, value in record.items():
            kind, _, number = key.rpartition("_")
            if not number.isdigit():
                continue
            n = int(number)
            if kind == "sefa_share":
                first.setdefault(n, step)
                last[n] = step
            elif kind == "sefa_stability":
                if value >= SETTLED:
                    settled[n] = settled.get(n) or step
                else:
                    settled[n] = None
            elif kind == "sefa_split":
                parents[n] = int(value)
    final = int(records[-1]["step"]) if records else 0
    lines = []
    for n in sorted(first):
        line = f"SeFa {n}: from step {first[n]:,}"
        if n in parents:
            line += f" (split off SeFa {parents[n]})"
        if last[n] < final:
            line += f", faded after {last[n]:,}"
        elif settled.get(n) is not None:
            line += f", settled since {settled[n]:,}"
        else:
            line += ", still turning"
        lines.append(line)
    return lines
