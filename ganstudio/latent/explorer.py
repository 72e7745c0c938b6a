"""What the latent explorer shows, without any GUI: a base code, directions with strengths, and
listeners told what changed (the view observes this model and never owns the numbers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ganstudio.latent.directions import Direction, apply_directions

Listener = Callable[[str], None]  # called with "base", "strengths" or "directions"


class LatentState:
    """The shown code is ``base + Σ strength_j · step_j`` over the directions."""

    def __init__(self, latent_dim: int):
        self.latent_dim = latent_dim
        self.base = np.zeros(latent_dim, np.float32)
        self.directions: list[Direction] = []
        self.strengths: list[float] = []
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _changed(self, what: str) -> None:
        for listener in self._listeners:
            listener(what)

    def current(self) -> np.ndarray:
        """(latent_dim,) float32: the code on screen."""
        return apply_directions(self.base, self.directions, self.strengths)

    def without(self, index: int) -> np.ndarray:
        """The code on screen without direction ``index``'s own contribution (a strip's centre)."""
        return self.current() - self.strengths[index] * self.directions[index].step

    def set_base(self, z: np.ndarray) -> None:
        z = np.asarray(z, np.float32).reshape(-1)
        if z.shape != (self.latent_dim,) or not np.isfinite(z).all():
            raise ValueError(f"a code needs {self.latent_dim} finite numbers, got {z.size}")
        self.base = z.copy()
        self._changed("base")

    def set_component(self, index: int, value: float) -> None:
        self.base[index] = value
        self._changed("base")

    def set_strength(self, index: int, value: float) -> None:
        self.strengths[index] = float(value)
        self._changed("strengths")

    def reset_strengths(self) -> None:
        self.strengths = [0.0] * len(self.directions)
        self._changed("strengths")

    def add_directions(self, directions: Sequence[Direction]) -> None:
        for d in directions:
            if d.vector.shape != (self.latent_dim,):
                raise ValueError(f"direction {d.name!r} has {d.vector.size} dimensions, not {self.latent_dim}")
        self.directions += list(directions)
        self.strengths += [0.0] * len(directions)
        self._changed("directions")

    def replace_method(self, method: str, directions: Sequence[Direction]) -> None:
        """The directions of ``method`` replaced by ``directions`` of the same names (a tracker's newer
        vectors, ``latent.tracking``): each keeps its place and strength; names no longer found go, new
        ones come last at strength 0."""
        given = {d.name: d for d in directions}
        pairs = [(_keep_effect(given.pop(d.name), d), s) if d.method == method else (d, s)
                 for d, s in zip(self.directions, self.strengths) if d.method != method or d.name in given]
        pairs += [(d, 0.0) for d in given.values()]
        self.directions, self.strengths = [d for d, _ in pairs], [s for _, s in pairs]
        self._changed("directions")

    def set_effects(self, effects: dict[str, str]) -> None:
        """What the named directions do, in words (``latent.probes.propose_name``)."""
        self.directions = [replace(d, effect=effects.get(d.name, d.effect)) for d in self.directions]
        self._changed("directions")

    def clear_directions(self) -> None:
        self.directions, self.strengths = [], []
        self._changed("directions")

    def rename(self, index: int, name: str) -> None:
        self.directions[index] = replace(self.directions[index], name=name)


def _keep_effect(new: Direction, old: Direction) -> Direction:
    """A newer vector of a direction keeps its measured effect until it is measured again."""
    return new if new.effect else replace(new, effect=old.effect)


def code_to_text(z: np.ndarray) -> str:
    """A code as one line of comma-separated numbers (to copy)."""
    return ", ".join(f"{v:.4f}" for v in np.asarray(z).reshape(-1))


def code_from_text(text: str, latent_dim: int) -> np.ndarray:
    """The inverse of ``code_to_text``; also accepts spaces, brackets and newlines. ValueError if it
    is not ``latent_dim`` finite numbers."""
    cleaned = text.replace("[", " ").replace("]", " ").replace(",", " ").split()
    try:
        z = np.array([float(v) for v in cleaned], np.float32)
    except ValueError:
        raise ValueError("the text is not a list of numbers") from None
    if z.shape != (latent_dim,) or not np.isfinite(z).all():
        raise ValueError(f"a code needs {latent_dim} finite numbers, the text has {z.size}")
    return z
