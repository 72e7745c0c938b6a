"""The built-in faces: shapes, determinism, independent factors that really change the picture."""

import numpy as np
import pytest

from ganstudio.config import DataConfig
from ganstudio.data import load_dataset
from ganstudio.data.faces import FACTOR_NAMES, FACTOR_RANGES, make_faces, render_faces, sample_factors


@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3), (64, 3), (64, 1)])
def test_shapes_and_types(size, channels):
    images, factors = make_faces(10, size, channels, seed=0)
    assert images.shape == (10, channels, size, size) and images.dtype == np.uint8
    assert set(factors) == set(FACTOR_NAMES) and all(v.shape == (10,) for v in factors.values())


def test_deterministic_in_the_seed():
    a, fa = make_faces(50, 28, 1, seed=3)
    b, fb = make_faces(50, 28, 1, seed=3)
    c, _ = make_faces(50, 28, 1, seed=4)
    assert np.array_equal(a, b) and all(np.array_equal(fa[k], fb[k]) for k in fa)
    assert not np.array_equal(a, c)


def test_factors_in_range_and_independent():
    factors = sample_factors(20_000, np.random.default_rng(0))
    for name, (low, high) in FACTOR_RANGES.items():
        assert low <= factors[name].min() and factors[name].max() <= high
    corr = np.corrcoef(np.stack([factors[n] for n in FACTOR_NAMES]))
    off_diagonal = corr[~np.eye(len(FACTOR_NAMES), dtype=bool)]
    assert np.abs(off_diagonal).max() < 0.05


def _sweep(name, values, n=32, size=64):
    base = sample_factors(n, np.random.default_rng(1))
    out = []
    for value in values:
        factors = {k: v.copy() for k, v in base.items()}
        factors[name][:] = value
        out.append(render_faces(factors, size, 3, np.random.default_rng(2)).astype(np.float32))
    return out


def test_yaw_turns_the_face_left_and_right():
    """Turning changes the picture a lot, and yaw -1 is close to the mirror image of yaw +1 (the
    drawing is symmetric apart from a small position jitter)."""
    left, centre, right = _sweep("yaw", (-1.0, 0.0, 1.0))
    change = np.abs(left - right).mean()
    assert change > 10 and np.abs(left - centre).mean() > 5
    assert np.abs(left - right[..., ::-1]).mean() < 0.4 * change


def test_smile_changes_the_mouth_region():
    frown, smile = _sweep("smile", (-1.0, 1.0))
    mouth = (slice(None), slice(None), slice(44, 60), slice(16, 48))
    rest = (slice(None), slice(None), slice(0, 30), slice(None))
    assert np.abs(frown - smile)[mouth].mean() > 5 * np.abs(frown - smile)[rest].mean()


def test_registry_load_and_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path))
    config = DataConfig(dataset="faces", num_images=500, image_size=32, channels=3)
    first = load_dataset(config)
    assert tuple(first.images.shape) == (500, 3, 32, 32) and set(first.factors) == set(FACTOR_NAMES)
    assert list((tmp_path / "faces").glob("*.npz"))
    import ganstudio.data.faces as faces

    monkeypatch.setattr(faces, "make_faces", lambda *a: pytest.fail("cache was not used"))
    second = load_dataset(config)
    assert np.array_equal(first.images.numpy(), second.images.numpy())
    assert np.array_equal(first.factors["yaw"], second.factors["yaw"])
