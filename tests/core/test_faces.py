"""The built-in faces: shapes, determinism, independent factors that really change the picture, cache."""

import numpy as np
import pytest

import ganstudio.data.faces as faces
from ganstudio.config import DataConfig
from ganstudio.data import list_datasets, load_dataset
from ganstudio.data.faces import FACTOR_NAMES, FACTOR_RANGES, make_faces, render_faces, sample_factors


def _factors(n: int, seed: int = 1, **fixed: float) -> dict[str, np.ndarray]:
    factors = sample_factors(n, np.random.default_rng(seed))
    for name, value in fixed.items():
        factors[name] = np.full(n, value, np.float32)
    return factors


def _render(factors, size=64, channels=3, rng_seed=None) -> np.ndarray:
    rng = None if rng_seed is None else np.random.default_rng(rng_seed)
    return render_faces(factors, size, channels, rng).astype(np.float32)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_types(size, channels):
    images, factors = make_faces(7, size, channels, seed=0)
    assert images.shape == (7, channels, size, size) and images.dtype == np.uint8
    assert tuple(factors) == FACTOR_NAMES
    assert all(v.shape == (7,) and v.dtype == np.float32 for v in factors.values())
    assert images.std() > 20  # a picture, not a flat colour


def test_deterministic_in_the_seed():
    a, fa = make_faces(40, 28, 1, seed=3)
    b, fb = make_faces(40, 28, 1, seed=3)
    c, fc = make_faces(40, 28, 1, seed=4)
    assert a.tobytes() == b.tobytes() and all(np.array_equal(fa[k], fb[k]) for k in FACTOR_NAMES)
    assert not np.array_equal(a, c) and not np.array_equal(fa["yaw"], fc["yaw"])


def test_chunking_and_threads_do_not_change_the_pictures(monkeypatch):
    whole, _ = make_faces(50, 32, 3, seed=5)
    monkeypatch.setattr(faces, "CHUNK_PIXELS", 7 * 32 * 32)  # 8 chunks of 7 faces, several threads
    monkeypatch.setattr(faces, "MAX_THREADS", 3)
    chunked, _ = make_faces(50, 32, 3, seed=5)
    assert whole.tobytes() == chunked.tobytes()


def test_grey_is_the_luminance_of_colour():
    factors = _factors(16)
    rgb = _render(factors, 32, 3, rng_seed=2)
    grey = _render(factors, 32, 1, rng_seed=2)
    luminance = (rgb * np.array([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1)).sum(1, keepdims=True)
    assert np.abs(grey - luminance).max() <= 1.5  # rounding of each


def test_factors_in_range_and_independent():
    factors = sample_factors(20_000, np.random.default_rng(0))
    for name, (low, high) in FACTOR_RANGES.items():
        values = factors[name]
        assert low <= values.min() and values.max() <= high
        assert values.min() < low + 0.01 and values.max() > high - 0.01  # the whole range is used
    corr = np.corrcoef(np.stack([factors[name] for name in FACTOR_NAMES]))
    assert np.abs(corr[~np.eye(len(FACTOR_NAMES), dtype=bool)]).max() < 0.05


def test_render_rejects_missing_factors():
    factors = _factors(3)
    del factors["smile"]
    with pytest.raises(ValueError, match="smile"):
        render_faces(factors, 28, 1, None)


@pytest.mark.parametrize("name", FACTOR_NAMES)
def test_every_factor_changes_the_picture(name):
    low, high = FACTOR_RANGES[name]
    base = _factors(16)
    a = _render(dict(base, **{name: np.full(16, low, np.float32)}), 28, 1, rng_seed=2)
    b = _render(dict(base, **{name: np.full(16, high, np.float32)}), 28, 1, rng_seed=2)
    changed = np.abs(a - b).max(axis=(1, 2, 3))
    assert (changed > 30).all(), changed  # at 28 px grey, in every single face


def test_yaw_turns_left_and_right_as_mirror_images():
    """Without nuisances the drawing is left-right symmetric, so yaw -1 lit from one side is the mirror
    image of yaw +1 lit from the other; and the turn is a big change."""
    base = _factors(24)
    left = _render(dict(base, yaw=np.full(24, -1.0, np.float32)))
    right = _render(dict(base, yaw=np.full(24, 1.0, np.float32), light=-base["light"]))
    assert np.abs(left - right).mean(axis=(1, 2, 3)).min() > 5
    assert np.abs(left - right[..., ::-1]).max() <= 1


@pytest.mark.parametrize("size", [28, 64])
def test_yaw_moves_the_features_sideways(size):
    """The darkness-weighted horizontal centre (eyes, nose, mouth) of light faces with short blond
    hair, lit from the front, moves right as yaw goes from -1 to +1, in every face, even at 28 px grey."""
    n = 32
    base = _factors(n, skin_tone=0.0, hair_color=0.0, hair_length=0.0, light=0.0)
    x = np.arange(size) + 0.5 - size / 2
    centres = []
    for yaw in (-1.0, -0.5, 0.0, 0.5, 1.0):
        grey = render_faces(dict(base, yaw=np.full(n, yaw, np.float32)), size, 1, None)[:, 0].astype(np.float32)
        darkness = np.clip(110 - grey, 0, None)
        centres.append((darkness.sum(1) * x).sum(1) / darkness.sum((1, 2)))
    centres = np.array(centres)  # (yaw, face), pixels right of the image centre
    assert (np.diff(centres.mean(1)) > 0.3).all()
    assert (centres[4] - centres[0] > 0.08 * size).all()
    assert (centres[3] - centres[1] > 0.04 * size).all()


def test_smile_changes_only_the_mouth():
    base = _factors(24, yaw=0.0, pitch=0.0)
    frown = _render(dict(base, smile=np.full(24, -1.0, np.float32)), rng_seed=2)
    smile = _render(dict(base, smile=np.full(24, 1.0, np.float32)), rng_seed=2)
    diff = np.abs(frown - smile)
    mouth = (Ellipsis, slice(34, 56), slice(16, 48))  # 64 px, head facing the camera
    assert (diff[mouth].max(axis=(1, 2, 3)) > 40).all() and diff[mouth].mean() > 2
    outside = diff.copy()
    outside[mouth] = 0
    assert outside.max() == 0


def test_registry_loads_and_caches(monkeypatch, tmp_path):
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path))
    assert "faces" in list_datasets()
    first = load_dataset(DataConfig(dataset="faces", num_images=500))
    assert tuple(first.images.shape) == (500, 1, 28, 28) and first.name == "faces"
    assert tuple(first.factors) == FACTOR_NAMES and all(len(v) == 500 for v in first.factors.values())
    assert len(list((tmp_path / "faces").glob("*.npz"))) == 1

    monkeypatch.setattr(faces, "make_faces", lambda *args: pytest.fail("the cache was not used"))
    second = load_dataset(DataConfig(dataset="faces", num_images=500))
    assert np.array_equal(first.images.numpy(), second.images.numpy())
    assert all(np.array_equal(first.factors[k], second.factors[k]) for k in FACTOR_NAMES)
    assert second.factors["yaw"].dtype == np.float32


def test_cache_key_covers_size_channels_and_seed(monkeypatch, tmp_path):
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path))
    a = load_dataset(DataConfig(dataset="faces", num_images=20, image_size=32, channels=3, seed=1))
    b = load_dataset(DataConfig(dataset="faces", num_images=20, image_size=32, channels=3, seed=2))
    c = load_dataset(DataConfig(dataset="faces", num_images=20, image_size=64, channels=1, seed=1))
    assert tuple(c.images.shape) == (20, 1, 64, 64)
    assert not np.array_equal(a.images.numpy(), b.images.numpy())
    assert len(list((tmp_path / "faces").glob("*.npz"))) == 3


def test_edges_of_faces_are_exact_line_drawings_of_the_same_faces():
    """pair_from="edges" on faces: the outlines are drawn from each face's own factors and nuisances
    (not found in the picture), black on white; where the outline draws a line, the picture has an edge."""
    import torch

    from ganstudio.config import DataConfig
    from ganstudio.data import load_dataset
    from ganstudio.data.faces import make_face_sources
    from ganstudio.data.pairs import make_sources

    data = load_dataset(DataConfig(num_images=200, image_size=32, channels=3, pair_from="edges"))
    assert torch.equal(data.sources, torch.from_numpy(make_face_sources(200, 32, 3, 0, "edges")))
    lines = data.sources < 128
    assert 0.05 < lines.float().mean() < 0.4 and (data.sources[:, :, 0, 0] == 255).all()
    picture_edges = 255 - make_sources(data.images, "edges").float()  # Sobel, found in the picture
    assert picture_edges[lines].mean() > 3 * picture_edges[~lines].mean()


def test_light_brightens_the_side_it_comes_from():
    """Light from the image's left (-1) makes the left half of the head brighter than the right, and
    the other way round: in every face, by a lot, at 32 px."""
    base = _factors(24, yaw=0.0)
    halves = []
    for light in (-1.0, 1.0):
        grey = render_faces(dict(base, light=np.full(24, light, np.float32)), 32, 1, None).astype(np.float32)
        head = grey[:, 0, 8:24]  # rows through the face
        halves.append(head[:, :, 6:16].mean((1, 2)) - head[:, :, 16:26].mean((1, 2)))
    assert (halves[0] > 15).all() and (halves[1] < -15).all(), halves


def test_relight_pairs_are_the_same_faces_lit_from_the_other_side(monkeypatch, tmp_path):
    """pair_from="relight": each input is its own face (same factors and nuisances) with the light
    mirrored; only faces draws such pairs."""
    import torch

    from ganstudio.errors import ConfigError

    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path))
    data = load_dataset(DataConfig(num_images=64, image_size=32, channels=3, pair_from="relight"))
    rng = np.random.default_rng(0)
    factors = sample_factors(64, rng)
    expected = render_faces(dict(factors, light=-factors["light"]), 32, 3, rng)
    assert data.sources.shape == data.images.shape and torch.equal(data.sources, torch.from_numpy(expected))
    difference = (data.sources.float() - data.images.float()).abs().mean((1, 2, 3)).numpy()
    strong = np.abs(factors["light"]) > 0.5
    assert difference[strong].min() > 8 and difference[np.abs(factors["light"]) < 0.05].max() < 2
    with pytest.raises(ConfigError, match="needs --dataset faces"):
        DataConfig(dataset="folder", pair_from="relight")
