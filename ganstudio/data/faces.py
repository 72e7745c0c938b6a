"""The built-in data set: procedurally drawn faces with known, independent factors. No download.

Each face is composited from signed-distance shapes with analytic anti-aliasing, drawn for a whole
batch at once (torch, in chunks): background, hair behind the head, ears, head with a soft outline,
hair cap, eyebrows, eyes (white, iris, lids), nose, mouth. Features sit on a sphere, so turning the
head moves them sideways and foreshortens the far side. Factors, drawn uniformly and independently:

    yaw          [-1, 1]  face direction: -1 looks to the image's left, +1 to its right (±49°)
    pitch        [-1, 1]  -1 looks down, +1 up (±25°)
    smile        [-1, 1]  frown to smile (mouth curvature)
    eye_open     [0, 1]   closed to wide open
    skin_tone    [0, 1]   light to dark
    hair_color   [0, 1]   blond -> auburn -> brown -> black
    hair_length  [0, 1]   short cap to long hair past the jaw

Background colour and a small jitter of head size and position vary too, but are not factors.
"""

from __future__ import annotations

import numpy as np
import torch

from ganstudio.config import DataConfig
from ganstudio.data import register_dataset
from ganstudio.data.base import ImageSet
from ganstudio.data.cache import cache_key, load_arrays, save_arrays

FACTOR_NAMES = ("yaw", "pitch", "smile", "eye_open", "skin_tone", "hair_color", "hair_length")
FACTOR_RANGES = {"yaw": (-1.0, 1.0), "pitch": (-1.0, 1.0), "smile": (-1.0, 1.0), "eye_open": (0.0, 1.0),
                 "skin_tone": (0.0, 1.0), "hair_color": (0.0, 1.0), "hair_length": (0.0, 1.0)}
DRAWING_VERSION = 1  # bump when the drawing changes: cached data sets are then redrawn
CHUNK = 256  # images drawn at once: temporaries stay in the CPU cache
MAX_YAW, MAX_PITCH = 0.85, 0.45  # radians

_SKIN_LIGHT, _SKIN_DARK = (242, 208, 182), (92, 58, 40)
_HAIR_STOPS = np.array([[232, 204, 120], [165, 72, 38], [92, 60, 36], [26, 22, 20]], np.float32)


def sample_factors(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Independent uniform factors: name -> (n,) float32."""
    return {name: rng.uniform(low, high, n).astype(np.float32) for name, (low, high) in FACTOR_RANGES.items()}


def make_faces(n: int, size: int, channels: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(images (n, channels, size, size) uint8, factors name -> (n,) float32), deterministic in seed."""
    rng = np.random.default_rng(seed)
    factors = sample_factors(n, rng)
    return render_faces(factors, size, channels, rng), factors


def render_faces(factors: dict[str, np.ndarray], size: int, channels: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Draw faces with the given factors ((N,) arrays); ``rng`` draws the nuisances.
    Returns (N, channels, size, size) uint8."""
    n = len(factors["yaw"])
    nuisance = {"background": rng.uniform(0.15, 0.85, (n, 3)).astype(np.float32),
                "jitter": rng.uniform(-1, 1, (n, 3)).astype(np.float32)}
    out = np.empty((n, channels, size, size), np.uint8)
    with torch.no_grad():
        for start in range(0, n, CHUNK):
            part = slice(start, start + CHUNK)
            f = {k: torch.from_numpy(np.ascontiguousarray(v[part]))[:, None, None] for k, v in factors.items()}
            nz = {k: torch.from_numpy(np.ascontiguousarray(v[part])) for k, v in nuisance.items()}
            rgb = _draw(f, nz, size)  # (n, 3, H, W) in [0, 1]
            if channels == 1:
                rgb = (rgb * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            out[part] = (rgb * 255).round_().clamp_(0, 255).to(torch.uint8).numpy()
    return out


# -- drawing ---------------------------------------------------------------------------------------

def _coverage(sd: torch.Tensor, size: int) -> torch.Tensor:
    """Signed distance (image units, 2 = full width; negative inside) -> anti-aliased alpha."""
    return (0.5 - sd * (size / 2)).clamp_(0, 1)


def _ellipse(u, v, x0, y0, rx, ry):
    """Approximate signed distance to an axis-aligned ellipse."""
    return (torch.sqrt(((u - x0) / rx) ** 2 + ((v - y0) / ry) ** 2) - 1) * torch.minimum(rx, ry)


def _over(canvas: torch.Tensor, colour: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Composite colour (N, 3, 1, 1) with alpha (N, H, W) over canvas (N, 3, H, W)."""
    a = alpha[:, None]
    return canvas * (1 - a) + colour * a


def _lerp_colour(low, high, t):
    low, high = torch.tensor(low) / 255, torch.tensor(high) / 255
    return (low + (high - low) * t[..., None]).view(-1, 3, 1, 1)


def _hair_colour(t: torch.Tensor) -> torch.Tensor:
    stops = torch.from_numpy(_HAIR_STOPS) / 255
    x = t.flatten() * (len(stops) - 1)
    i = x.floor().clamp(max=len(stops) - 2).long()
    w = (x - i)[:, None]
    return (stops[i] * (1 - w) + stops[i + 1] * w).view(-1, 3, 1, 1)


def _draw(f: dict[str, torch.Tensor], nz: dict[str, torch.Tensor], size: int) -> torch.Tensor:
    n = f["yaw"].shape[0]
    axis = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    v, u = torch.meshgrid(axis, axis, indexing="ij")  # v grows downwards
    u, v = u[None], v[None]
    jitter = nz["jitter"][:, :, None, None]
    yaw, pitch = f["yaw"] * MAX_YAW, f["pitch"] * MAX_PITCH
    scale = 1 + 0.05 * jitter[:, 2]
    cx = 0.04 * jitter[:, 0] + 0.08 * torch.sin(yaw)
    cy = 0.10 + 0.04 * jitter[:, 1]
    rx = 0.60 * scale * (1 - 0.06 * yaw.abs())
    ry = 0.72 * scale

    def on_head(a: float | torch.Tensor, b: float):
        """A point at angles (a right, b down) on the head's sphere -> (x, y, horizontal foreshortening)."""
        angle = a + yaw
        return cx + rx * torch.sin(angle), cy + ry * torch.sin(b - pitch), torch.cos(angle).clamp_min(0.05)

    skin = _lerp_colour(_SKIN_LIGHT, _SKIN_DARK, f["skin_tone"].flatten())
    hair = _hair_colour(f["hair_color"])
    ink = torch.full((n, 3, 1, 1), 0.12)

    # Background: a colour with a soft vertical gradient.
    canvas = nz["background"][:, :, None, None] * (1.05 - 0.15 * (v[:, None] + 1) / 2)

    # Hair behind the head, from above the crown down to a length set by hair_length.
    top, bottom = cy - ry * 1.08, cy + ry * (-0.1 + 1.15 * f["hair_length"])
    back = _ellipse(u, v, cx - 0.05 * torch.sin(yaw), (top + bottom) / 2, rx * 1.16, (bottom - top) / 2)
    canvas = _over(canvas, hair, _coverage(back, size))

    # Ears, hidden when they turn behind the head.
    for side in (-1.0, 1.0):
        ex, ey, facing = on_head(side * 1.45, 0.05)
        ear = _ellipse(u, v, ex, ey, 0.07 * (0.4 + facing), torch.full_like(ex, 0.11))
        visible = (torch.cos(side * 1.45 + yaw) > -0.25).float()
        canvas = _over(canvas, skin * 0.85, _coverage(ear, size) * visible)

    # Head with a darker outline.
    head = _ellipse(u, v, cx, cy, rx, ry)
    canvas = _over(canvas, skin * 0.55, _coverage(head - 0.03, size))
    canvas = _over(canvas, skin, _coverage(head, size))

    # Hair cap: the head's top, above a fringe line that dips at the sides; its parting follows yaw.
    part = cx + rx * 0.8 * torch.sin(yaw)
    fringe = cy - ry * 0.42 + 0.55 * ((u - part) / rx) ** 2 * ry * 0.5
    cap = torch.maximum(_ellipse(u, v, cx, cy - 0.02, rx * 1.07, ry * 1.04), v - fringe)
    canvas = _over(canvas, hair, _coverage(cap, size))

    # Eyes and brows.
    openness = 0.12 + 0.88 * f["eye_open"]
    for side in (-1.0, 1.0):
        ex, ey, facing = on_head(side * 0.40, -0.10)
        half_w, half_h = 0.13 * facing, 0.09 * openness
        white = _ellipse(u, v, ex, ey, half_w, half_h)
        canvas = _over(canvas, skin * 0.5, _coverage(white - 0.012, size))
        canvas = _over(canvas, torch.full((n, 3, 1, 1), 0.97), _coverage(white, size))
        iris = _ellipse(u, v, ex + 0.04 * torch.sin(yaw), ey - 0.01 * pitch, 0.07 * facing,
                        torch.full_like(ex, 0.07))
        canvas = _over(canvas, ink, _coverage(torch.maximum(iris, white), size))
        brow = _ellipse(u, v, ex, ey - 0.09 - 0.07 * openness, 0.13 * facing, torch.full_like(ex, 0.026))
        canvas = _over(canvas, hair * 0.8, _coverage(brow, size))

    # Nose: the tip stands out from the sphere, so it moves further than the eyes when turning.
    nx, ny, _ = on_head(0.0, 0.14)
    nose = _ellipse(u, v, nx + 0.12 * torch.sin(yaw), ny, torch.full_like(nx, 0.055), torch.full_like(nx, 0.1))
    canvas = _over(canvas, skin * 0.62, _coverage(nose, size))

    # Mouth: an arc whose curvature is the smile.
    mx, my, facing = on_head(0.0, 0.45)
    half_w = 0.21 * facing
    du = u - mx - 0.03 * torch.sin(yaw)
    curve = my - f["smile"] * 0.5 * (du / 0.21) ** 2 * 0.21
    mouth = torch.maximum((v - curve).abs() - 0.034, du.abs() - half_w)
    canvas = _over(canvas, torch.tensor([0.55, 0.12, 0.15]).view(1, 3, 1, 1).expand(n, 3, 1, 1),
                   _coverage(mouth, size))
    return canvas.clamp_(0, 1)


# -- the registered data set ------------------------------------------------------------------------

@register_dataset("faces", "built-in procedurally drawn faces with known factors (yaw, pitch, smile, ...); "
                           "no download")
def load_faces(cfg: DataConfig) -> ImageSet:
    n = cfg.num_images or (60_000 if cfg.image_size <= 32 else 20_000)
    key = cache_key(version=DRAWING_VERSION, n=n, size=cfg.image_size, channels=cfg.channels, seed=cfg.seed)
    arrays = load_arrays("faces", key)
    if arrays is None or set(arrays) != {"images", *FACTOR_NAMES}:
        images, factors = make_faces(n, cfg.image_size, cfg.channels, cfg.seed)
        save_arrays("faces", key, {"images": images, **factors})
    else:
        images, factors = arrays["images"], {name: arrays[name] for name in FACTOR_NAMES}
    return ImageSet(images=torch.from_numpy(images), factors=factors, name="faces")
