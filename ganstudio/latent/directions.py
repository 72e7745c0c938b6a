"""Directions in z-space that change one aspect of the generated image, and three ways to find them.

- ``sefa_directions``: closed-form factorisation (Shen & Zhou, arXiv 2007.06600), from weights only.
- ``pca_directions``: GANSpace-style PCA of activations (Härkönen et al., arXiv 2004.02546).
- ``fit_direction`` / ``supervised_directions``: the normal of a linear model of labels in z
  (InterFaceGAN, Shen et al., arXiv 2005.09635), optionally orthogonal to other directions.

A direction moves a code as ``z + strength · sigma · vector`` (``Direction.step``): ``vector`` is a
unit vector, ``sigma`` the z-distance of one unit of strength: 1 for SeFa and marked directions, one
standard deviation of the principal component for PCA, of the attribute for supervised directions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganstudio.errors import UserError
from ganstudio.fileio import atomic_write_text

DIRECTIONS_FORMAT = "ganstudio-directions/1"
METHODS = ("sefa", "pca", "supervised", "marked")


class DirectionsError(UserError):
    """A direction file is missing, damaged or does not fit the generator."""


@dataclass(frozen=True)
class Direction:
    name: str
    method: str  # one of METHODS
    vector: np.ndarray = field(repr=False)  # (latent_dim,) float32, unit norm
    sigma: float = 1.0  # z-distance of one unit of strength
    score: float = 0.0  # eigenvalue (sefa), explained variance ratio (pca), R² (supervised/marked)
    rank: int = 0  # 1 = the method's strongest
    layer: str = ""  # the generator layer the method looked at
    source: str = ""  # the checkpoint it came from, or "live training, step N"
    effect: str = ""  # what it does to the image, measured (latent.probes.propose_name)

    @property
    def step(self) -> np.ndarray:
        """(latent_dim,) float32: the change of z for strength 1."""
        return (self.vector * self.sigma).astype(np.float32)

    def to_dict(self) -> dict:
        return {**asdict(self), "vector": [round(float(v), 7) for v in self.vector]}

    @classmethod
    def from_dict(cls, d: dict) -> Direction:
        try:
            vector = np.asarray(d["vector"], dtype=np.float32)
            direction = cls(name=str(d["name"]), method=str(d["method"]), vector=vector,
                            sigma=float(d.get("sigma", 1.0)), score=float(d.get("score", 0.0)),
                            rank=int(d.get("rank", 0)), layer=str(d.get("layer", "")),
                            source=str(d.get("source", "")), effect=str(d.get("effect", "")))
        except (KeyError, TypeError, ValueError) as e:
            raise DirectionsError(f"a direction entry is invalid ({e})") from None
        if vector.ndim != 1 or not np.isfinite(vector).all() or not math.isfinite(direction.sigma):
            raise DirectionsError(f"direction {direction.name!r} has an invalid vector or sigma")
        return direction


def apply_directions(z: np.ndarray, directions: Sequence[Direction], strengths: Sequence[float]) -> np.ndarray:
    """z (..., latent_dim) moved by each direction at its strength (directions combine additively)."""
    out = np.array(z, dtype=np.float32, copy=True)
    for direction, strength in zip(directions, strengths):
        out += float(strength) * direction.step
    return out


def save_directions(directions: Sequence[Direction], path: str | Path, latent_dim: int) -> None:
    """A direction set as JSON (vectors, names, methods, sources), written atomically."""
    document = {"format": DIRECTIONS_FORMAT, "latent_dim": latent_dim,
                "directions": [d.to_dict() for d in directions]}
    atomic_write_text(path, json.dumps(document, indent=1))


def load_directions(path: str | Path, latent_dim: int | None = None) -> list[Direction]:
    """The directions saved by ``save_directions``; checks they fit ``latent_dim`` when given."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DirectionsError(f"direction file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DirectionsError(f"{path.name} is not a readable direction file ({e})") from None
    if not isinstance(document, dict) or document.get("format") != DIRECTIONS_FORMAT:
        raise DirectionsError(f"{path.name} is not a ganstudio direction file")
    entries = document.get("directions")
    if not isinstance(entries, list):
        raise DirectionsError(f"{path.name} holds no list of directions")
    directions = [Direction.from_dict(d) if isinstance(d, dict) else Direction.from_dict({}) for d in entries]
    for d in directions:
        if latent_dim is not None and d.vector.shape != (latent_dim,):
            raise DirectionsError(f"{path.name}: direction {d.name!r} has {d.vector.shape[0]} dimensions, "
                                  f"the generator's latent size is {latent_dim}")
    return directions


# -- SeFa -----------------------------------------------------------------------------------------------

def latent_projection(generator: nn.Module, latent_dim: int) -> tuple[torch.Tensor, str]:
    """The first layer that consumes z as a matrix A (features, latent_dim), and its name.

    Linear: its weight's z columns (conditional models put z first). ConvTranspose2d: its weight
    (in, out, k, k) with the z input channels, as (out·k·k, latent_dim). A BatchNorm right after it
    is folded in with its eval-mode scale γ/√(var + ε) per output channel.
    """
    modules = [(name, m) for name, m in generator.named_modules() if not list(m.children())]
    for i, (name, layer) in enumerate(modules):
        if isinstance(layer, nn.Linear) and layer.in_features >= latent_dim:
            a = layer.weight.detach().double()[:, :latent_dim]
            channels, per_channel = layer.out_features, 1
        elif isinstance(layer, nn.ConvTranspose2d) and layer.in_channels >= latent_dim:
            w = layer.weight.detach().double()[:latent_dim]  # (latent, out, k, k)
            channels, per_channel = w.shape[1], w.shape[2] * w.shape[3]
            a = w.reshape(latent_dim, -1).T
        else:
            continue
        following = modules[i + 1][1] if i + 1 < len(modules) else None
        if isinstance(following, nn.modules.batchnorm._BatchNorm) and following.track_running_stats:
            scale = following.running_var.detach().double().add(following.eps).rsqrt()
            if following.affine:
                scale = scale * following.weight.detach().double()
            a = a * scale.repeat_interleave(per_channel)[:, None]
        assert a.shape == (channels * per_channel, latent_dim)
        return a.cpu(), name
    raise ValueError("the generator has no Linear or ConvTranspose2d layer that takes z")


def sefa_directions(generator: nn.Module, latent_dim: int, k: int = 10, source: str = "") -> list[Direction]:
    """The top-``k`` eigenvectors of AᵀA (A from ``latent_projection``), by eigenvalue, descending:
    the unit z-directions that change the first layer's output most. Signs are fixed so that the
    largest component is positive (comparable across checkpoints)."""
    a, layer = latent_projection(generator, latent_dim)
    eigenvalues, eigenvectors = torch.linalg.eigh(a.T @ a)  # ascending
    order = torch.argsort(eigenvalues, descending=True)[:k]
    directions = []
    for rank, i in enumerate(order.tolist(), start=1):
        v = eigenvectors[:, i]
        v = v * torch.sign(v[v.abs().argmax()])
        directions.append(Direction(f"SeFa {rank}", "sefa", v.float().numpy(), 1.0, float(eigenvalues[i]),
                                    rank, layer, source))
    return directions


def direction_stability(previous: Sequence[Direction], current: Sequence[Direction]) -> np.ndarray:
    """(len(current),): |cos| between each current direction and its best match among ``previous``
    (1 = the direction is already settled; sign flips do not count)."""
    if not previous or not current:
        return np.zeros(len(current), np.float32)
    p = np.stack([d.vector for d in previous])
    c = np.stack([d.vector for d in current])
    return np.abs(c @ p.T).max(axis=1).astype(np.float32)


# -- PCA (GANSpace) ---------------------------------------------------------------------------------------

def activation_layers(generator: nn.Module) -> list[str]:
    """Names of the generator's non-linearities, in order: the layers PCA can look at. A generator run
    outside torch (ganstudio.interop.onnx_generator) lists its own, and records them too."""
    if hasattr(generator, "activation_layers"):
        return generator.activation_layers()
    kinds = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh)
    return [name for name, m in generator.named_modules() if isinstance(m, kinds)]


@torch.no_grad()
def record_activations(generator: nn.Module, layer: str, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """(N, features) float32: the output of ``layer`` for each z (N, latent_dim), flattened."""
    if hasattr(generator, "record_activations"):
        return generator.record_activations(layer, z, batch_size)
    module = dict(generator.named_modules())[layer]
    captured: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda m, inputs, output: captured.append(output.flatten(1).float().cpu()))
    was_training = generator.training
    generator.eval()
    try:
        for chunk in z.split(batch_size):
            generator(chunk)
    finally:
        handle.remove()
        generator.train(was_training)
    return torch.cat(captured)


def pca_directions(generator: nn.Module, latent_dim: int, k: int = 10, layer: str | None = None,
                   n_samples: int = 20_000, seed: int = 0, source: str = "") -> list[Direction]:
    """GANSpace in z: PCA of the activations after a non-linearity (default: the first one; PCA of
    the first pre-activation would only re-derive SeFa), then the z-directions by least squares of
    z on the PCA coordinates normalised to unit variance. Direction i moves z by one standard
    deviation of component i per unit of strength; score = its explained variance ratio."""
    layers = activation_layers(generator)
    if not layers:
        raise ValueError("the generator has no non-linearity to take activations from")
    layer = layer or layers[0]
    if layer not in layers:
        raise DirectionsError(f"unknown layer {layer!r}; PCA can use: {', '.join(layers)}")
    device = next(generator.parameters(), torch.empty(0)).device
    z = torch.randn(n_samples, latent_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    x = record_activations(generator, layer, z).double()
    x -= x.mean(0)
    total_variance = x.pow(2).sum() / (n_samples - 1)
    k = min(k, x.shape[1], n_samples - 1)
    if x.shape[1] <= 4096:
        variances, components = torch.linalg.eigh(x.T @ x / (n_samples - 1))
        order = torch.argsort(variances, descending=True)[:k]
        variances, components = variances[order], components[:, order]
    else:  # wide layers: a randomised SVD of the centred data
        _, s, components = torch.svd_lowrank(x, q=k + 10, niter=4)
        variances, components = s[:k] ** 2 / (n_samples - 1), components[:, :k]
    coords = x @ components  # (N, k)
    coords /= coords.std(0, keepdim=True)
    u = torch.linalg.lstsq(coords, z.double().cpu()).solution  # (k, latent): z ≈ coords @ u
    directions = []
    for rank in range(1, k + 1):
        row = u[rank - 1]
        sigma = float(row.norm())
        directions.append(Direction(f"PCA {rank}", "pca", (row / sigma).float().numpy(), sigma,
                                    float(variances[rank - 1] / total_variance), rank, layer, source))
    return directions


# -- supervised (InterFaceGAN) ----------------------------------------------------------------------------

def orthogonalise(vector: np.ndarray, others: Sequence[np.ndarray]) -> np.ndarray:
    """``vector`` with its components along the span of ``others`` removed (not normalised)."""
    if not others:
        return vector
    basis, _ = np.linalg.qr(np.stack(others, axis=1).astype(np.float64))
    return vector - basis @ (basis.T @ vector)


MAX_TARGET_SIGMA = 2.0  # z-units; further out, codes leave the region the generator was trained on


def fit_direction(z: np.ndarray, target: np.ndarray, name: str, method: str = "supervised",
                  orthogonal_to: Sequence[Direction] = (), ridge: float = 1.0, source: str = "",
                  target_units: bool = False) -> Direction:
    """The unit normal of a ridge regression of ``target`` (N,) on z (N, latent_dim), pointing to
    larger targets; binary targets (0/1, e.g. marks A/B) give the separating direction of a linear
    discriminant. Made orthogonal to ``orthogonal_to`` (InterFaceGAN's conditional editing: moving
    along it leaves those attributes' linear predictions unchanged). score = R² of the fit.

    ``target_units``: one unit of strength moves the fitted prediction by one standard deviation of
    the target (sigma = 1 / slope along the direction, at most ``MAX_TARGET_SIGMA``), so strengths
    of different attributes compare; otherwise one unit is one unit of z."""
    z = np.asarray(z, np.float64)
    y = np.asarray(target, np.float64)
    if len(z) != len(y) or len(z) < 2:
        raise ValueError("need at least two labelled codes, one label each")
    if np.ptp(y) == 0:
        raise ValueError(f"all labels for {name!r} are the same: nothing to separate")
    zc, yc = z - z.mean(0), (y - y.mean()) / y.std()
    w = np.linalg.solve(zc.T @ zc + ridge * np.eye(z.shape[1]), zc.T @ yc)
    r2 = 1.0 - np.mean((yc - zc @ w) ** 2)
    w = orthogonalise(w, [d.vector for d in orthogonal_to])
    norm = np.linalg.norm(w)
    if norm < 1e-12:
        raise ValueError(f"the direction for {name!r} lies entirely within the directions it must avoid")
    vector = w / norm
    sigma = 1.0
    if target_units:
        slope = float(np.linalg.solve(zc.T @ zc + ridge * np.eye(z.shape[1]), zc.T @ yc) @ vector)
        sigma = min(1.0 / slope, MAX_TARGET_SIGMA) if slope > 0 else MAX_TARGET_SIGMA
    return Direction(name, method, vector.astype(np.float32), sigma, float(r2), 0, "z", source)


def supervised_directions(z: np.ndarray, labels: np.ndarray, names: Sequence[str], conditional: bool = True,
                          source: str = "") -> list[Direction]:
    """One direction per label column (labels: (N, len(names)), e.g. predicted yaw, smile, ...),
    ranked by R², strength in units of the label's standard deviation. With ``conditional`` each is made orthogonal to all the others' primal directions,
    so e.g. the yaw direction changes the other attributes as little as a linear model can."""
    primal = [fit_direction(z, labels[:, i], name, source=source, target_units=True) for i, name in enumerate(names)]
    if conditional:
        fitted = [fit_direction(z, labels[:, i], name, orthogonal_to=primal[:i] + primal[i + 1:], source=source,
                                target_units=True) for i, name in enumerate(names)]
        fitted = [replace(f, score=p.score) for f, p in zip(fitted, primal)]  # R² of the attribute itself
    else:
        fitted = primal
    order = np.argsort([-d.score for d in fitted], kind="stable")
    return [replace(fitted[i], rank=rank) for rank, i in enumerate(order, start=1)]

