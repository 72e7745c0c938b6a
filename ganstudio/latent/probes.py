"""Directions that name themselves: what moving along a direction does to the image, measured by simple
image probes that need no labels, plus the attribute model's factors or classes where the data has them.

Each probe maps images (N, C, H, W) in [-1, 1] to one number per image:

    brightness   mean luminance                       contrast    std of the luminance
    warmth       mean red minus blue (RGB only)       saturation  mean (max - min) over R, G, B (RGB only)
    x, y         the foreground's centre of mass, in image widths from the centre (right, down)
    size         the foreground's spread (root mean square distance from its centre), in image widths
    sharpness    mean |Laplacian| of the luminance    asymmetry   mean |image - its mirror image|

The foreground is where a pixel differs from the image's border (its median), so the centre and the
size follow the subject, not the background. ``measure_directions`` moves a batch of codes along each
direction from -α to +α and reports, per probe, the Pearson r between strength and probe value (within
each code, so that the codes' own differences do not dilute it) and
the change per unit strength in standard deviations of the probe over random samples (the effect
size); ``propose_name`` turns the strongest clear effects into words ("moves right (r 0.93),
slightly larger"). The directions × probes table of r is the entanglement heatmap; ``probe_direction``
and ``without_effect`` remove an unwanted effect (InterFaceGAN's conditional editing, Shen et al.,
arXiv 2005.09635).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.data.faces import FACTOR_WORDS
from ganstudio.latent.attributes import attribute_model_for
from ganstudio.latent.directions import Direction, DirectionsError, fit_direction, orthogonalise
from ganstudio.snapshot import GeneratorSnapshot

Probe = Callable[[torch.Tensor], torch.Tensor]  # (N, C, H, W) in [-1, 1] -> (N,)
CLEAR, NOTICEABLE = 0.5, 0.1  # an effect counts when |r| ≥ CLEAR and it moves the probe ≥ 0.1 sd per unit
STRENGTHS = np.linspace(-2.0, 2.0, 5)  # where each code is rendered along a direction

WORDS = {  # probe -> (word for an increase, word for a decrease)
    "brightness": ("brighter", "darker"), "contrast": ("more contrast", "less contrast"),
    "warmth": ("warmer", "cooler"), "saturation": ("more colourful", "greyer"),
    "x": ("moves right", "moves left"), "y": ("moves down", "moves up"), "size": ("larger", "smaller"),
    "sharpness": ("sharper", "softer"), "asymmetry": ("less symmetric", "more symmetric"),
}
_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


def _luminance(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, 1, H, W) in [0, 1]."""
    x = (x + 1) / 2
    return (x * _LUMA).sum(1, keepdim=True) if x.shape[1] == 3 else x


def _foreground(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The foreground weight (N, H, W) (distance of each pixel from the border's median colour) and the
    pixel coordinates u (columns), v (rows) in image widths from the centre."""
    n, c, h, w = x.shape
    border = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], dim=-1)  # (N, C, 2H + 2W)
    background = border.median(dim=-1).values.view(n, c, 1, 1)
    weight = (x - background).abs().sum(1)
    u = (torch.arange(w, dtype=x.dtype) + 0.5) / w - 0.5
    v = (torch.arange(h, dtype=x.dtype) + 0.5) / h - 0.5
    return weight, u.view(1, 1, w), v.view(1, h, 1)


def _centre(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    weight, u, v = _foreground(x)
    total = weight.sum((1, 2)).clamp_min(1e-6)
    cx, cy = (weight * u).sum((1, 2)) / total, (weight * v).sum((1, 2)) / total
    spread = (weight * ((u - cx.view(-1, 1, 1)).square() + (v - cy.view(-1, 1, 1)).square())).sum((1, 2)) / total
    return cx, cy, spread.sqrt()


PROBES: dict[str, Probe] = {
    "brightness": lambda x: _luminance(x).mean((1, 2, 3)),
    "contrast": lambda x: _luminance(x).flatten(1).std(1),
    "warmth": lambda x: ((x[:, 0] - x[:, 2]) / 2).mean((1, 2)),
    "saturation": lambda x: ((x.max(1).values - x.min(1).values) / 2).mean((1, 2)),
    "x": lambda x: _centre(x)[0],
    "y": lambda x: _centre(x)[1],
    "size": lambda x: _centre(x)[2],
    "sharpness": lambda x: F.conv2d(F.pad(_luminance(x), (1, 1, 1, 1), mode="replicate"), _LAPLACIAN).abs().mean((1, 2, 3)),
    "asymmetry": lambda x: ((x - x.flip(-1)).abs() / 2).mean((1, 2, 3)),
}
COLOUR_PROBES = ("warmth", "saturation")


def image_probes(channels: int) -> dict[str, Probe]:
    """The probes that apply to images with ``channels`` channels (colour ones need RGB)."""
    return {name: probe for name, probe in PROBES.items() if channels == 3 or name not in COLOUR_PROBES}


@dataclass(frozen=True)
class DirectionEffects:
    """What one direction does: per probe, Pearson r of strength and value, and the change per unit of
    strength in standard deviations of the probe over random samples."""

    direction: str
    r: dict[str, float]
    effect: dict[str, float]


@torch.no_grad()
def probe_values(snapshot: GeneratorSnapshot, z: np.ndarray, probes: dict[str, Probe]) -> dict[str, np.ndarray]:
    """probe -> (N,) values of the images of codes z (N, latent_dim)."""
    images = snapshot.images(z)
    return {name: probe(images).double().numpy() for name, probe in probes.items()}


def measure_directions(snapshot: GeneratorSnapshot, directions: Sequence[Direction], probes: dict[str, Probe],
                       n: int = 48, seed: int = 0) -> list[DirectionEffects]:
    """Move ``n`` random codes along each direction to each of ``STRENGTHS`` and measure the probes."""
    z = np.random.default_rng(seed).standard_normal((n, snapshot.latent_dim)).astype(np.float32)
    spread = {name: max(float(values.std()), 1e-9) for name, values in probe_values(snapshot, z, probes).items()}
    strengths = np.repeat(STRENGTHS, n)
    measured = []
    for direction in directions:
        moved = np.concatenate([z + s * direction.step for s in STRENGTHS])
        values = probe_values(snapshot, moved, probes)
        r, effect = {}, {}
        for name, v in values.items():
            within = (v.reshape(len(STRENGTHS), n) - v.reshape(len(STRENGTHS), n).mean(0)).reshape(-1)
            r[name] = _pearson(strengths, within)  # within each code: the codes' own spread does not count
            effect[name] = float(np.polyfit(strengths, v, 1)[0] / spread[name])
        measured.append(DirectionEffects(direction.name, r, effect))
    return measured


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if b.std() < 1e-12:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def propose_name(effects: DirectionEffects, words: dict[str, tuple[str, str]] | None = None) -> str:
    """The clear, noticeable effects in words, strongest first: the main one with its r, then up to two
    more, "slightly" when under half the main one's effect size; "no clear effect" otherwise."""
    words = {**WORDS, **(words or {})}
    clear = sorted((name for name, r in effects.r.items()
                    if abs(r) >= CLEAR and abs(effects.effect[name]) >= NOTICEABLE),
                   key=lambda name: -abs(effects.effect[name]))
    if not clear:
        return "no clear effect"
    parts = []
    main = abs(effects.effect[clear[0]])
    for i, name in enumerate(clear[:3]):
        up, down = words.get(name, (f"more {name}", f"less {name}"))
        text = up if effects.effect[name] > 0 else down
        if i == 0:
            text += f" (r {abs(effects.r[name]):.2f})"
        elif abs(effects.effect[name]) < main / 2:
            text = f"slightly {text}"
        parts.append(text)
    return ", ".join(parts)


def attribute_probes(names: Sequence[str], predict: Callable[[torch.Tensor], np.ndarray]) -> dict[str, Probe]:
    """Probes from an attribute model: one per factor or class (``predict`` maps images to (N, len(names)))."""
    return {name: (lambda x, i=i: torch.from_numpy(np.asarray(predict(x))[:, i].astype(np.float64)))
            for i, name in enumerate(names)}


def probe_direction(snapshot: GeneratorSnapshot, probe: Probe, name: str, n: int = 2000, seed: int = 1) -> Direction:
    """The z-direction along which ``probe`` grows (a linear model of it over ``n`` random codes)."""
    z = np.random.default_rng(seed).standard_normal((n, snapshot.latent_dim)).astype(np.float32)
    with torch.no_grad():
        values = torch.cat([probe(snapshot.images(chunk)) for chunk in np.array_split(z, max(1, n // 256))])
    return fit_direction(z, values.double().numpy(), name, method="supervised")


def without_effect(direction: Direction, unwanted: Sequence[Direction]) -> Direction:
    """``direction`` made orthogonal to the z-directions of unwanted effects (InterFaceGAN's conditional
    editing), unit length again, same sigma; named "<name> ⟂ <effects>"."""
    vector = orthogonalise(direction.vector.astype(np.float64), [d.vector for d in unwanted])
    norm = np.linalg.norm(vector)
    if norm < 1e-9:
        raise ValueError(f"{direction.name} lies entirely along {', '.join(d.name for d in unwanted)}")
    suffix = " ⟂ " + ", ".join(d.name for d in unwanted)
    return replace(direction, name=direction.name + suffix, vector=(vector / norm).astype(np.float32))


def probes_for(snapshot: GeneratorSnapshot, check: Callable[[], None] = lambda: None
               ) -> tuple[dict[str, Probe], dict[str, tuple[str, str]]]:
    """The image probes for the snapshot's images, plus one per factor or class of its data when the
    data has them (the attribute model: trained once, cached), and their words."""
    probes, words = image_probes(snapshot.image_shape[0]), {}
    try:
        model = attribute_model_for(snapshot.config.data, check=check)
    except DirectionsError:  # neither factors nor classes: the image probes only
        return probes, words
    probes |= attribute_probes(model.names, model.predict)
    if model.kind == "factors":
        words = {name: FACTOR_WORDS.get(name, (f"raises {name}", f"lowers {name}")) for name in model.names}
    return probes, words
