"""The built-in data set: procedurally drawn faces with known, independent factors. No download.

Every image is a head-and-shoulders portrait drawn back to front: background (a colour with a soft
vertical gradient), shoulders, long hair hanging behind the head, neck, head (skin-coloured ellipse
with a soft dark outline), ears, the hair cap with its fringe, eyebrows, eyes (white almond, dark
iris, upper lid line), nose and mouth. The features sit on a sphere: turning the head moves them
sideways by ``sin(angle)``, narrows the far eye by ``cos(angle)``, lets the nose (which stands out
from the sphere) move further than the eyes, shows the ear and the hair at the back of the turned
head and hides the other ear. Factors, drawn uniformly and independently per image:

    yaw          [-1, 1]  face direction: -1 looks to the image's left, +1 to its right (±46°)
    pitch        [-1, 1]  -1 looks down, +1 up (±23°)
    smile        [-1, 1]  mouth curvature: frown to smile
    eye_open     [0, 1]   eye opening: 0 is a closed lid line, 1 wide open
    skin_tone    [0, 1]   light to dark skin
    hair_color   [0, 1]   platinum blond -> golden -> auburn -> brown -> black (grey: light to dark)
    hair_length  [0, 1]   short cap above the ears to long hair past the jaw on both sides
    light        [-1, 1]  where the light comes from: -1 the image's left, +1 its right (±69°); 0 in
                          front. The head is shaded as a lit sphere, the rest by a gentle gradient.

Nuisances that are not factors: background and shirt colour, head position (±3 % of the image)
and size (±5 %). Grey images (one channel) are the luminance (0.299 R + 0.587 G + 0.114 B) of the
colour drawing, composited directly in luminance, which is the same thing because compositing is
linear. Shading multiplies each pixel's colour, so it keeps that true.

Exact pairs for the image-to-image families (``pair_from``): "edges" draws every part's outline from
the geometry; "relight" draws the same face lit from the other side (light -> -light) as the input.

Two unpaired domains (``domains``, for CycleGAN and DiscoGAN) split the faces by a factor: serious |
smiling, light | dark hair, looking left | right, lit from the left | right; faces within a tenth of
the factor's range of the threshold belong to neither. Each face also comes with its counterfactual,
the same face with the factor mirrored about the threshold (smile -> -smile), which only evaluation
reads. Every face has five binary attributes (StarGAN's domains, CelebA's shape): hair_light,
smiling, looking_right, lit_from_right, long_hair.

Drawing: numpy over a chunk of images at once; every shape is a signed distance in pixels built
from per-column and per-row terms ((n, 1, S) and (n, S, 1) broadcast to (n, S, S)), turned into
coverage by ``clip(0.5 - distance, 0, 1)`` (analytic anti-aliasing) and alpha-composited. Chunks
run in a few threads (numpy releases the GIL) and write disjoint slices, so the result does not
depend on the thread count. Images are drawn at the requested size, not resized.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.config import DataConfig
from ganstudio.data import register_dataset
from ganstudio.data.base import DataError, ImageSet
from ganstudio.data.cache import cache_key, load_arrays, save_arrays

FACTOR_NAMES = ("yaw", "pitch", "smile", "eye_open", "skin_tone", "hair_color", "hair_length", "light")
FACTOR_RANGES: dict[str, tuple[float, float]] = {
    "yaw": (-1.0, 1.0), "pitch": (-1.0, 1.0), "smile": (-1.0, 1.0), "eye_open": (0.0, 1.0),
    "skin_tone": (0.0, 1.0), "hair_color": (0.0, 1.0), "hair_length": (0.0, 1.0), "light": (-1.0, 1.0),
}
# What raising or lowering each factor does, in words (the explorer names directions with them).
FACTOR_WORDS = {
    "yaw": ("turns to the right", "turns to the left"), "pitch": ("looks up", "looks down"),
    "smile": ("smiles", "frowns"), "eye_open": ("opens the eyes", "closes the eyes"),
    "skin_tone": ("darker skin", "lighter skin"), "hair_color": ("darker hair", "lighter hair"),
    "hair_length": ("longer hair", "shorter hair"), "light": ("lit from the right", "lit from the left"),
}
DRAWING_VERSION = 3  # bump whenever the drawing changes: cached data sets are then redrawn
OUTLINE_VERSION = 1  # the same for the outline drawings (``pair_from="edges"``)
EXACT_PAIRS = ("edges", "relight")  # inputs faces draws itself rather than makes from the picture
# factor -> (threshold, (the domain below it, the domain above it)); factors as in FACTOR_RANGES.
DOMAINS = {"smile": (0.0, ("serious", "smiling")), "hair_color": (0.5, ("light hair", "dark hair")),
           "yaw": (0.0, ("looking left", "looking right")), "light": (0.0, ("lit from the left", "lit from the right"))}
DOMAIN_MARGIN = 0.1  # share of a factor's range on each side of its threshold that belongs to no domain
# attribute -> (factor, threshold, 1 above the threshold (else below)).
ATTRIBUTES = {"hair_light": ("hair_color", 0.5, False), "smiling": ("smile", 0.0, True),
              "looking_right": ("yaw", 0.0, True), "lit_from_right": ("light", 0.0, True),
              "long_hair": ("hair_length", 0.5, True)}
OUTLINE_THRESHOLD, OUTLINE_RAMP = 4.0, 24.0  # 2×2 grey range (of 255) where a line starts, and becomes black
MAX_YAW, MAX_PITCH, MAX_LIGHT = 0.8, 0.4, 1.2  # radians at yaw, pitch, light = ±1
AMBIENT, DIFFUSE, DARKEST = 0.55, 0.5, 0.4  # head shade = clip(AMBIENT + DIFFUSE · n·l, DARKEST, ·)
BACKGROUND_LIGHT = 0.15  # background and body: 1 ± this at the image's edges, towards the light
CHUNK_PIXELS = 1 << 18  # pixels per chunk: a (chunk, S, S) float32 array is 1 MiB
MAX_THREADS = 4

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
_SKIN_STOPS = np.array([[248, 222, 200], [222, 172, 132], [160, 108, 74], [104, 66, 46]], np.float32) / 255
_HAIR_STOPS = np.array([[238, 214, 150], [206, 154, 72], [160, 72, 36], [96, 60, 36], [30, 26, 24]],
                       np.float32) / 255
_EYE_WHITE = np.array([0.96, 0.95, 0.93], np.float32)
_IRIS = np.array([0.16, 0.10, 0.07], np.float32)
_LID = np.array([0.10, 0.07, 0.06], np.float32)


# -- public API ------------------------------------------------------------------------------------

def sample_factors(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Independent uniform factors in ``FACTOR_RANGES``: name -> (n,) float32."""
    return {name: rng.uniform(*FACTOR_RANGES[name], size=n).astype(np.float32) for name in FACTOR_NAMES}


def make_faces(n: int, size: int, channels: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``n`` random faces: (images (n, channels, size, size) uint8, factors name -> (n,) float32).

    Deterministic in (n, size, channels, seed)."""
    rng = np.random.default_rng(seed)
    factors = sample_factors(n, rng)
    return render_faces(factors, size, channels, rng), factors


def make_face_sources(n: int, size: int, channels: int, seed: int, pair_from: str) -> np.ndarray:
    """The exact inputs (``EXACT_PAIRS``) of the faces ``make_faces(n, size, channels, seed)`` draws."""
    rng = np.random.default_rng(seed)
    return render_sources(sample_factors(n, rng), size, channels, rng, pair_from)


def render_sources(factors: dict[str, np.ndarray], size: int, channels: int, rng: np.random.Generator | None,
                   pair_from: str) -> np.ndarray:
    """What faces draws beside the faces ``render_faces(factors, size, channels, rng)`` draws: "edges"
    their outlines (1 channel), "relight" the same faces lit from the other side, a factor of
    ``DOMAINS`` their counterfactuals (that factor mirrored about its threshold). (N, C', S, S) uint8."""
    if pair_from == "edges":
        return render_outlines(factors, size, rng)
    if pair_from == "relight":
        return render_faces(mirrored(factors, "light"), size, channels, rng)
    if pair_from in DOMAINS:
        return render_faces(mirrored(factors, pair_from), size, channels, rng)
    raise ValueError(f"faces draws no '{pair_from}' inputs; it draws {', '.join(EXACT_PAIRS + tuple(DOMAINS))}")


def mirrored(factors: dict[str, np.ndarray], factor: str) -> dict[str, np.ndarray]:
    """``factors`` with ``factor`` mirrored about its domain threshold (smile -> -smile, hair h -> 1 - h)."""
    threshold = DOMAINS[factor][0]
    return dict(factors, **{factor: 2 * threshold - np.asarray(factors[factor])})


def face_attributes(factors: dict[str, np.ndarray]) -> np.ndarray:
    """The five binary ``ATTRIBUTES`` of faces with these factors: (N, 5) float32 in {0, 1}."""
    return np.stack([(factors[f] > t) == above for f, t, above in ATTRIBUTES.values()], axis=1).astype(np.float32)


def render_outlines(factors: dict[str, np.ndarray], size: int, rng: np.random.Generator | None) -> np.ndarray:
    """The outlines of the faces ``render_faces`` draws from the same arguments: each part painted in
    its own flat grey, then a line wherever neighbouring pixels differ (the 2×2 range; anti-aliased
    boundaries give soft lines). (N, 1, size, size) uint8."""
    parts = F.pad(torch.from_numpy(render_faces(factors, size, 1, rng, flat_parts=True)).float(), (0, 1, 0, 1),
                  mode="replicate")
    spread = F.max_pool2d(parts, 2, 1) + F.max_pool2d(-parts, 2, 1)
    line = ((spread - OUTLINE_THRESHOLD) / OUTLINE_RAMP).clamp(0, 1)
    return (255 * (1 - line)).round().to(torch.uint8).numpy()


def render_faces(factors: dict[str, np.ndarray], size: int, channels: int,
                 rng: np.random.Generator | None, flat_parts: bool = False) -> np.ndarray:
    """Draw one face per entry of the factor arrays (name -> (N,), clipped to ``FACTOR_RANGES``).

    ``rng`` draws the nuisances (background, shirt, head jitter), so the same factors with an rng in
    the same state give the same pictures; None draws no nuisances: centred heads of the standard
    size on one fixed background, e.g. to see what a single factor does. ``flat_parts`` paints every
    part in its own flat grey instead of its colours, unlit (for ``render_outlines``).
    Returns (N, channels, size, size) uint8."""
    missing = [name for name in FACTOR_NAMES if name not in factors]
    if missing:
        raise ValueError(f"missing face factors: {', '.join(missing)}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, not {channels}")
    if size < 8:
        raise ValueError(f"faces need at least 8 pixels, not {size}")
    f = {name: np.clip(np.asarray(factors[name], np.float64).reshape(-1), *FACTOR_RANGES[name])
         for name in FACTOR_NAMES}
    n = len(f["yaw"])
    if any(len(value) != n for value in f.values()):
        raise ValueError("all factor arrays must have the same length")
    params = _layout(f, _sample_nuisances(n, rng), size, channels)
    if flat_parts:
        colours = sorted(key for key in params if key.startswith("c_"))
        for i, key in enumerate(colours):
            params[key] = np.full((n, channels), (i + 1) / (len(colours) + 1), np.float32)
    out = np.empty((n, channels, size, size), np.uint8)
    chunk = max(1, CHUNK_PIXELS // (size * size))
    starts = range(0, n, chunk)

    def work(start: int) -> None:
        part = slice(start, min(start + chunk, n))
        _draw_chunk({key: value[part] for key, value in params.items()}, size, out[part], lit=not flat_parts)

    threads = min(MAX_THREADS, os.cpu_count() or 1, len(starts))
    if threads <= 1:
        for start in starts:
            work(start)
    else:
        with ThreadPoolExecutor(threads, thread_name_prefix="faces") as pool:
            list(pool.map(work, starts))  # list(): re-raise worker errors
    return out


# -- per-image layout: where everything goes, in pixels --------------------------------------------

def _sample_nuisances(n: int, rng: np.random.Generator | None) -> dict[str, np.ndarray]:
    if rng is None:
        return {"background": np.tile([0.62, 0.66, 0.72], (n, 1)), "shirt": np.tile([0.32, 0.42, 0.58], (n, 1)),
                "jitter": np.zeros((n, 3))}
    return {
        "background": _hsv_to_rgb(rng.uniform(0, 1, n), rng.uniform(0.12, 0.5, n), rng.uniform(0.45, 0.9, n)),
        "shirt": _hsv_to_rgb(rng.uniform(0, 1, n), rng.uniform(0.25, 0.65, n), rng.uniform(0.3, 0.8, n)),
        "jitter": rng.uniform(-1, 1, (n, 3)),
    }


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(n,) hue, saturation, value in [0, 1] -> (n, 3) RGB."""
    k = (np.array([5.0, 3.0, 1.0]) + h[:, None] * 6) % 6
    return v[:, None] - (v * s)[:, None] * np.clip(np.minimum(k, 4 - k), 0, 1)


def _ramp(stops: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Piecewise-linear colour ramp: stops (k, 3), t (n,) in [0, 1] -> (n, 3)."""
    x = t * (len(stops) - 1)
    i = np.minimum(x.astype(int), len(stops) - 2)
    w = (x - i)[:, None]
    return stops[i] * (1 - w) + stops[i + 1] * w


def _layout(f: dict[str, np.ndarray], nz: dict[str, np.ndarray], size: int, channels: int
            ) -> dict[str, np.ndarray]:
    """Per-image scalars (n,) in pixels (x right, y down, 0 at the image centre) and colours (n, C)."""
    s = float(size)
    jx, jy, js = nz["jitter"].T
    yaw, pitch = f["yaw"] * MAX_YAW, f["pitch"] * MAX_PITCH
    scale = 1 + 0.05 * js
    cx, cy = 0.03 * s * jx, (0.03 + 0.03 * jy) * s
    rx, ry = 0.27 * s * scale, 0.335 * s * scale
    sy, cyw, sp, cp = np.sin(yaw), np.cos(yaw), np.sin(pitch), np.cos(pitch)

    def project(a: float | np.ndarray, b: float, r: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Point at longitude a (right), latitude b (down) on the head sphere (radius r) -> screen x, y."""
        x, y, z = r * np.sin(a) * np.cos(b), r * np.sin(b), r * np.cos(a) * np.cos(b)
        x, z = x * cyw + z * sy, z * cyw - x * sy  # turn (yaw) about the vertical axis
        y = y * cp - z * sp  # nod (pitch) about the horizontal axis
        return cx + rx * x, cy + ry * y

    p: dict[str, np.ndarray] = {"cx": cx, "cy": cy, "rx": rx, "ry": ry, "yaw": yaw, "pitch": pitch,
                                "light": f["light"] * MAX_LIGHT}
    # Head: the face side narrows a little and leads the turn.
    p["head_x"], p["head_rx"] = cx + 0.035 * s * sy, rx * (1 - 0.05 * np.abs(sy))
    # Eyes: corners at longitudes ±0.38 ∓ 0.21; the far eye is narrower because its corners are
    # closer together on screen.
    openness = 0.06 + 0.94 * f["eye_open"]
    for side, name in ((-1, "l"), (1, "r")):
        x0, y0 = project(side * 0.38 - 0.21, 0.0)
        x1, y1 = project(side * 0.38 + 0.21, 0.0)
        facing = np.clip(np.cos(side * 0.38 + yaw), 0.0, 1.0)
        p[f"eye_{name}_x"], p[f"eye_{name}_y"] = (x0 + x1) / 2, (y0 + y1) / 2
        p[f"eye_{name}_w"] = np.maximum((x1 - x0) / 2, 0.02 * s)
        p[f"eye_{name}_up"] = 0.062 * s * openness * cp
        p[f"eye_{name}_lo"] = 0.036 * s * openness * cp
        p[f"iris_{name}_x"] = p[f"eye_{name}_x"] + 0.25 * p[f"eye_{name}_w"] * sy
        p[f"iris_{name}_r"] = 0.04 * s * (0.55 + 0.45 * facing)
        bx0, by0 = project(side * 0.38 - 0.26, -0.26)
        bx1, by1 = project(side * 0.38 + 0.26, -0.26)
        p[f"brow_{name}_x"], p[f"brow_{name}_y"] = (bx0 + bx1) / 2, (by0 + by1) / 2
        p[f"brow_{name}_w"] = np.maximum((bx1 - bx0) / 2, 0.02 * s)
        # Ears at longitude ±1.55 show while they face the camera, and long hair covers them.
        ex, ey = project(side * 1.55, 0.04)
        show = np.clip((np.cos(side * 1.55 + yaw) + 0.35) / 0.25, 0, 1)
        show = show * np.clip((0.6 - f["hair_length"]) / 0.15, 0, 1)
        p[f"ear_{name}_x"], p[f"ear_{name}_y"] = ex, ey
        p[f"ear_{name}_w"] = 0.055 * s * show * (0.5 + 0.5 * np.abs(np.sin(side * 1.55 + yaw)))
        p[f"ear_{name}_h"] = 0.085 * s * np.maximum(show, 1e-3)
    # Nose: a ridge from between the eyes to the tip, which stands out from the sphere, so it moves
    # further than the eyes when the head turns.
    p["bridge_x"], p["bridge_y"] = project(0.0, 0.02, 1.02)
    p["nose_x"], p["nose_y"] = project(0.0, 0.22, 1.16)
    p["nose_side"] = sy
    # Mouth: corners at longitude ±0.33; smile lifts the corners against the middle.
    mx0, my0 = project(-0.33, 0.47)
    mx1, my1 = project(0.33, 0.47)
    p["mouth_x"], p["mouth_y"], p["mouth_w"] = (mx0 + mx1) / 2, (my0 + my1) / 2, (mx1 - mx0) / 2
    p["mouth_bend"] = 0.065 * s * f["smile"] * cp
    # Hair: long hair hangs behind the head down to length; the cap follows the head's turn.
    length = f["hair_length"]
    p["hair_len"] = length
    p["hang_bottom"] = cy + ry * (-0.1 + 1.55 * length)
    p["hang_w"] = rx * (1.04 + 0.16 * length)
    p["hang_x"] = cx - 0.05 * s * sy
    p["vol_x"], p["vol_y"] = cx - 0.03 * s * sy, cy - 0.035 * s
    p["vol_rx"], p["vol_ry"] = rx * 1.08, ry * 1.06
    # Neck and shoulders do not turn.
    p["neck_x"] = cx + 0.01 * s * sy
    p["body_x"] = 0.5 * cx

    skin = _ramp(_SKIN_STOPS, f["skin_tone"])
    hair = _ramp(_HAIR_STOPS, f["hair_color"])
    colours = {
        "c_background": nz["background"], "c_shirt": nz["shirt"], "c_skin": skin,
        "c_outline": skin * 0.55, "c_neck": skin * 0.82, "c_ear": skin * 0.88, "c_hair": hair,
        "c_hair_edge": hair * 0.62, "c_brow": hair * 0.55 + 0.06, "c_nose": skin * 0.78, "c_nostril": skin * 0.6,
        "c_mouth": skin * np.array([0.5, 0.24, 0.24]),
        "c_white": np.broadcast_to(_EYE_WHITE, skin.shape), "c_iris": np.broadcast_to(_IRIS, skin.shape),
        "c_lid": np.broadcast_to(_LID, skin.shape),
    }
    for key, rgb in colours.items():
        p[key] = rgb @ _LUMA[:, None] if channels == 1 else rgb
    return {key: np.ascontiguousarray(value, np.float32) for key, value in p.items()}


# -- drawing one chunk -----------------------------------------------------------------------------

def _draw_chunk(p: dict[str, np.ndarray], size: int, out: np.ndarray, lit: bool = True) -> None:
    """Draw the faces described by ``p`` (per-image arrays (n,), colours (n, C)) into out (n, C, S, S);
    ``lit`` shades them by their light."""
    n = len(p["cx"])
    g = {key: (value.reshape(n, -1, 1, 1) if key.startswith("c_") else value.reshape(n, 1, 1))
         for key, value in p.items()}
    axis = np.arange(size, dtype=np.float32) + np.float32(0.5 - size / 2)
    u, v = axis.reshape(1, 1, size), axis.reshape(1, size, 1)
    half_px = np.float32(0.5)

    # Background: a colour that darkens a little towards the bottom.
    canvas = g["c_background"] * (1.06 - 0.14 * (v[:, None] / size + 0.5))
    canvas = np.ascontiguousarray(np.broadcast_to(canvas, (n, canvas.shape[1], size, size)))
    scratch = np.empty_like(canvas)

    def paint(colour: np.ndarray, alpha: np.ndarray) -> None:
        """canvas += (colour - canvas) * alpha; colour (n, C, 1, 1), alpha (n, S, S)."""
        np.subtract(colour, canvas, out=scratch)
        np.multiply(scratch, alpha[:, None], out=scratch)
        np.add(canvas, scratch, out=canvas)

    def coverage(sd: np.ndarray, grow: float | np.ndarray = 0.0) -> np.ndarray:
        """Signed distance in pixels (negative inside) -> coverage, in place; grow widens the shape."""
        np.subtract(half_px + grow, sd, out=sd)
        return np.clip(sd, 0, 1, out=sd)

    def ellipse(x0, y0, rx, ry) -> np.ndarray:
        """Approximate signed distance to axis-aligned ellipses, (n, S, S)."""
        sd = np.square((v - y0) / ry) + np.square((u - x0) / rx)
        np.sqrt(sd, out=sd)
        sd -= 1
        sd *= np.minimum(rx, ry)
        return sd

    def band(mid, half, centre, reach, upright: bool = False) -> np.ndarray:
        """Signed distance to a horizontal band: centre line mid and half thickness half per column
        (n, 1, S), cut off beyond |u - centre| > reach. ``upright``: the same turned vertical, with
        mid and half per row (n, S, 1) and the cut-off along v."""
        along, across, axis = (v, u, 1) if upright else (u, v, 2)
        half = np.minimum(half, reach - np.abs(along - centre))
        steep = np.abs(np.gradient(mid, axis=axis)) + np.abs(np.gradient(half, axis=axis))
        sd = np.abs(across - mid)
        sd -= half
        sd *= 1 / np.sqrt(1 + steep * steep)
        return sd

    def pick(left: str, right: str, split) -> np.ndarray:
        """Per column: the left feature's parameter left of split, the right one's right of it."""
        return np.where(u < split, g[left], g[right])

    # Shoulders (a wide ellipse rising from the bottom edge) and long hair behind the head.
    paint(g["c_shirt"], coverage(ellipse(g["body_x"], np.float32(0.66 * size), np.float32(0.42 * size),
                                         np.float32(0.26 * size))))
    hang_bottom = g["hang_bottom"] - 0.08 * size * np.square(np.square((u - g["hang_x"]) / g["hang_w"]))
    hang = np.maximum(v - hang_bottom, g["cy"] - v)  # rows between the head's middle and the ends
    np.maximum(hang, np.abs(u - g["hang_x"]) - g["hang_w"], out=hang)
    np.minimum(hang, ellipse(g["vol_x"], g["vol_y"], g["vol_rx"], g["vol_ry"]), out=hang)
    paint(g["c_hair"], coverage(hang))

    # Neck, then the head with a soft darker outline.
    neck = np.maximum(np.abs(u - g["neck_x"]) - 0.105 * size, g["cy"] - v)
    paint(g["c_neck"], coverage(neck))
    head = ellipse(g["head_x"], g["cy"], g["head_rx"], g["ry"])
    outline_width = 0.022 * size + 0.3
    paint(g["c_outline"], coverage(head.copy(), outline_width))
    paint(g["c_skin"], coverage(head))

    # Ears, each drawn only on its side of the head.
    ears_split = g["cx"]
    ears = ellipse(pick("ear_l_x", "ear_r_x", ears_split), (g["ear_l_y"] + g["ear_r_y"]) / 2,
                   np.maximum(pick("ear_l_w", "ear_r_w", ears_split), 1e-3), pick("ear_l_h", "ear_r_h", ears_split))
    paint(g["c_ear"], coverage(ears))

    # Hair cap: the hair volume above a hairline that depends on the longitude of each column on
    # the turned head: a fringe over the forehead, dropping to the ears at the sides (to the jaw
    # for long hair) and to the nape at the back.
    lon = np.arcsin(np.clip((u - g["cx"]) / g["rx"], -1, 1)) - g["yaw"]
    side = np.clip((np.abs(lon) - 0.95) / 0.5, 0, 1)
    side = side * side * (3 - 2 * side)
    fringe = -0.52 + 0.10 * np.square(lon) + 0.04 * np.cos(7 * lon) * np.clip(1 - np.square(lon / 0.8), 0, 1)
    side_level = -0.12 + 0.9 * g["hair_len"]
    back = np.clip((np.abs(lon) - 1.6) / 0.3, 0, 1)
    lat = fringe + side * (side_level - fringe) + back * np.maximum(0.55 - side_level, 0)
    hairline = g["cy"] + g["ry"] * (np.sin(lat) * np.cos(g["pitch"])
                                    - np.cos(lat) * np.cos(np.clip(lon, -np.pi, np.pi)) * np.sin(g["pitch"]))
    steep = np.abs(np.gradient(hairline, axis=2))
    cap = (v - hairline) * (1 / np.sqrt(1 + steep * steep))
    np.maximum(cap, ellipse(g["vol_x"], g["vol_y"], g["vol_rx"], g["vol_ry"]), out=cap)
    paint(g["c_hair_edge"], coverage(cap.copy(), 0.012 * size + 0.25))
    paint(g["c_hair"], coverage(cap))

    # Eyebrows: thin arches.
    split = (g["eye_l_x"] + g["eye_r_x"]) / 2
    bx, bw = pick("brow_l_x", "brow_r_x", split), pick("brow_l_w", "brow_r_w", split)
    t2 = np.square((u - bx) / bw)
    brow_mid = pick("brow_l_y", "brow_r_y", split) - 0.03 * size * (1 - t2)
    paint(g["c_brow"], coverage(band(brow_mid, (0.014 * size + 0.25) * (1 - 0.5 * t2), bx, bw)))

    # Eyes: white almond between the lids, dark iris inside it, upper lid line on top.
    ex, ew, ey = pick("eye_l_x", "eye_r_x", split), pick("eye_l_w", "eye_r_w", split), pick("eye_l_y", "eye_r_y", split)
    up, lo = pick("eye_l_up", "eye_r_up", split), pick("eye_l_lo", "eye_r_lo", split)
    t2 = np.clip(np.square((u - ex) / ew), 0, 1)
    lens = 1 - t2
    white = band(ey + (lo - up) / 2 * lens, (up + lo) / 2 * lens, ex, ew)
    paint(g["c_white"], coverage(white.copy()))
    ix, ir = pick("iris_l_x", "iris_r_x", split), pick("iris_l_r", "iris_r_r", split)
    iris = np.square(v - ey) + np.square(u - ix)
    np.sqrt(iris, out=iris)
    iris -= ir
    np.maximum(iris, white, out=iris)
    paint(g["c_iris"], coverage(iris))
    lid_w = ew * 1.12
    t2 = np.clip(np.square((u - ex) / lid_w), 0, 1)
    paint(g["c_lid"], coverage(band(ey - up * lens, (0.012 * size + 0.3) * (1 - 0.6 * t2), ex, lid_w)))

    # Nose: a shaded ridge from the bridge to the tip (a line down the middle when facing the
    # camera, slanting towards the turn otherwise), and the shadow under the tip.
    drop = g["nose_y"] - g["bridge_y"]
    along = np.clip((v - g["bridge_y"]) / drop, 0, 1)
    ridge_x = g["bridge_x"] + along * (g["nose_x"] - g["bridge_x"]) + 0.012 * size * g["nose_side"]
    ridge = band(ridge_x, (0.012 * size + 0.2) * (0.4 + 0.6 * along), (g["bridge_y"] + g["nose_y"]) / 2,
                 drop / 2, upright=True)
    paint(g["c_nose"], coverage(ridge))
    tip = ellipse(g["nose_x"] + 0.01 * size * g["nose_side"], g["nose_y"] + 0.012 * size,
                  np.float32(0.04 * size), np.float32(0.022 * size))
    paint(g["c_nostril"], coverage(tip))

    # Mouth: a lens-shaped line whose corners rise with the smile.
    t2 = np.clip(np.square((u - g["mouth_x"]) / g["mouth_w"]), 0, 1)
    mid = g["mouth_y"] + g["mouth_bend"] * (0.5 - t2)
    paint(g["c_mouth"], coverage(band(mid, (0.022 * size + 0.25) * np.sqrt(1 - t2), g["mouth_x"], g["mouth_w"])))

    if lit:
        canvas *= _shade(g, u, v, size)[:, None]
    canvas *= 255
    canvas += 0.5
    np.clip(canvas, 0, 255, out=canvas)
    out[...] = canvas.astype(np.uint8)


def _shade(g: dict[str, np.ndarray], u: np.ndarray, v: np.ndarray, size: int) -> np.ndarray:
    """Brightness (n, S, S) under a light at angle ``light`` in the horizontal plane (0: from the camera):
    Lambert shading of a sphere around the head (hair included), clipped so the far side stays readable,
    fading out to a left-right gradient over the background and body."""
    x = (u - g["head_x"]) / (1.15 * g["head_rx"])
    y = (v - g["cy"]) / (1.15 * g["ry"])
    inside = 1 - np.square(x) - np.square(y)
    facing = np.sqrt(np.clip(inside, 0, 1))  # the normal's component towards the camera
    lambert = x * np.sin(g["light"]) + facing * np.cos(g["light"])
    head = np.clip(AMBIENT + DIFFUSE * lambert, DARKEST, None)
    background = 1 + BACKGROUND_LIGHT * np.sin(g["light"]) * (2 * u / size)
    weight = np.clip(4 * inside, 0, 1)
    return (background + weight * (head - background)).astype(np.float32)


# -- the registered data set ------------------------------------------------------------------------

@register_dataset("faces", "built-in procedurally drawn faces with known factors (yaw, pitch, smile, ...); "
                           "no download", version=DRAWING_VERSION)
def load_faces(cfg: DataConfig) -> ImageSet:
    """``cfg.num_images`` faces (default 60,000 up to 32 px, else 20,000), drawn once and cached; with
    ``pair_from="edges"`` their exact line drawings as sources (the other transforms are generic)."""
    n = cfg.num_images or (60_000 if cfg.image_size <= 32 else 20_000)
    key = cache_key(version=DRAWING_VERSION, n=n, size=cfg.image_size, channels=cfg.channels, seed=cfg.seed)
    arrays = load_arrays("faces", key)
    expected = (n, cfg.channels, cfg.image_size, cfg.image_size)
    if (arrays is None or set(arrays) != {"images", *FACTOR_NAMES} or arrays["images"].shape != expected
            or arrays["images"].dtype != np.uint8):
        try:
            images, factors = make_faces(n, cfg.image_size, cfg.channels, cfg.seed)
        except MemoryError as exc:
            raise DataError(f"not enough memory to draw {n} faces at {cfg.image_size} px") from exc
        save_arrays("faces", key, {"images": images, **factors})
    else:
        images, factors = arrays["images"], {name: arrays[name].astype(np.float32) for name in FACTOR_NAMES}
    labels, class_names = face_classes(factors)
    sources = torch.from_numpy(_drawn(n, cfg, cfg.pair_from)) if cfg.pair_from in EXACT_PAIRS else None
    faces = ImageSet(images=torch.from_numpy(images), labels=torch.from_numpy(labels), sources=sources,
                     class_names=class_names, factors=factors, name="faces",
                     attributes=torch.from_numpy(face_attributes(factors)), attribute_names=tuple(ATTRIBUTES))
    return faces if cfg.domains is None else _split_into_domains(faces, n, cfg)


def _split_into_domains(faces: ImageSet, n: int, cfg: DataConfig) -> ImageSet:
    """The faces on either side of the domain factor's threshold (beyond the margin), with their
    domain (0 below, 1 above) and their counterfactuals."""
    threshold, names = DOMAINS[cfg.domains]
    low, high = FACTOR_RANGES[cfg.domains]
    value = faces.factors[cfg.domains]
    keep = torch.from_numpy(np.nonzero(np.abs(value - threshold) > DOMAIN_MARGIN * (high - low))[0])
    counterfactuals = torch.from_numpy(_drawn(n, cfg, cfg.domains))
    domains = torch.from_numpy((value > threshold).astype(np.int64))
    return dataclasses.replace(faces, domains=domains, domain_names=names, counterfactuals=counterfactuals).subset(keep)


def _drawn(n: int, cfg: DataConfig, what: str) -> np.ndarray:
    """``render_sources(..., what)`` for the data set's faces, drawn once and cached."""
    channels = 1 if what == "edges" else cfg.channels
    key = cache_key(version=OUTLINE_VERSION, drawing=DRAWING_VERSION, n=n, size=cfg.image_size, seed=cfg.seed,
                    pair_from=what, channels=channels)
    arrays = load_arrays("face-sources", key)
    if arrays is not None and set(arrays) == {"sources"} and arrays["sources"].shape == (
            n, channels, cfg.image_size, cfg.image_size):
        return arrays["sources"]
    sources = make_face_sources(n, cfg.image_size, cfg.channels, cfg.seed, what)
    save_arrays("face-sources", key, {"sources": sources})
    return sources


def face_classes(factors: dict[str, np.ndarray]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class labels for conditional models: yaw in thirds (as seen in the image) × smiling or not.
    Returns (labels (N,) int64, six class names)."""
    turn = np.digitize(factors["yaw"], [-1 / 3, 1 / 3])  # 0 left, 1 frontal, 2 right
    smiling = (factors["smile"] > 0).astype(np.int64)
    names = tuple(f"{t}, {s}" for t in ("turned left", "frontal", "turned right") for s in ("serious", "smiling"))
    return (turn * 2 + smiling).astype(np.int64), names
