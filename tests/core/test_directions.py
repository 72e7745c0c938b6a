"""Direction maths: SeFa, PCA and supervised fits recover planted directions; walks; direction files."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from ganstudio.latent.directions import (
    Direction,
    DirectionsError,
    apply_directions,
    direction_stability,
    fit_direction,
    latent_projection,
    load_directions,
    pca_directions,
    save_directions,
    sefa_directions,
    supervised_directions,
)
from ganstudio.latent.walks import interpolation_path, lerp, slerp, traversal, traversal_strengths
from ganstudio.models.conv import ConvDecoder
from ganstudio.models.gan import MLPGenerator

LATENT = 16


def unit(v):
    return v / np.linalg.norm(v)


def planted_generator(u: np.ndarray, strength: float = 6.0) -> nn.Module:
    """An MLP whose first layer responds to z mostly along u."""
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(LATENT, 64), nn.LeakyReLU(0.2), nn.Linear(64, 32), nn.Tanh())
    with torch.no_grad():
        a = torch.randn(64, 1)
        g[0].weight.mul_(0.05).add_(strength * a @ torch.from_numpy(u).float()[None])
    return g


def test_sefa_recovers_a_planted_direction():
    u = unit(np.random.default_rng(1).normal(size=LATENT))
    directions = sefa_directions(planted_generator(u), LATENT, k=3)
    assert abs(directions[0].vector @ u) > 0.99
    assert directions[0].score > 10 * directions[1].score
    assert directions[0].layer == "0" and directions[0].method == "sefa"


def test_sefa_on_random_weights_gives_sorted_orthonormal_eigenvectors():
    torch.manual_seed(3)
    g = MLPGenerator(LATENT, (1, 8, 8))
    directions = sefa_directions(g, LATENT, k=LATENT)
    v = np.stack([d.vector for d in directions])
    np.testing.assert_allclose(v @ v.T, np.eye(LATENT), atol=1e-5)
    a = g.net[0].weight.detach().double().numpy()
    for d in directions:
        np.testing.assert_allclose(a.T @ a @ d.vector, d.score * d.vector, rtol=1e-4, atol=1e-6)
    scores = [d.score for d in directions]
    assert scores == sorted(scores, reverse=True)


def test_latent_projection_folds_the_dcgan_batchnorm():
    torch.manual_seed(0)
    g = ConvDecoder(LATENT, 1, 28, width=8).eval()
    bn = g.net[1]
    with torch.no_grad():  # non-trivial statistics, as after training
        bn.running_var.uniform_(0.5, 2.0)
        bn.running_mean.normal_()
        bn.weight.normal_(1.0, 0.3)
    a, layer = latent_projection(g, LATENT)
    assert layer == "net.0"
    z = torch.randn(5, LATENT)
    first = nn.Sequential(g.net[0], g.net[1])
    with torch.no_grad():
        moved = first(z[:, :, None, None]) - first(torch.zeros(1, LATENT, 1, 1))
    np.testing.assert_allclose(moved.flatten(1).double().numpy(), (z.double() @ a.T).numpy(), atol=1e-4)


def test_pca_recovers_a_planted_direction_in_sigma_units():
    u = unit(np.random.default_rng(2).normal(size=LATENT))
    directions = pca_directions(planted_generator(u), LATENT, k=4, n_samples=5000)
    top = directions[0]
    assert top.layer == "1" and top.method == "pca"
    assert abs(top.vector @ u) > 0.95
    assert 0.5 < top.score <= 1.0  # explained variance ratio
    assert 0.5 < top.sigma < 2.0  # one σ of the component ≈ one unit of z along u
    assert np.isclose(np.linalg.norm(top.vector), 1.0, atol=1e-5)


def test_pca_rejects_an_unknown_layer():
    with pytest.raises(DirectionsError, match="unknown layer"):
        pca_directions(planted_generator(unit(np.ones(LATENT))), LATENT, layer="nope", n_samples=100)


def test_fit_direction_finds_the_label_normal_and_orthogonalises():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2000, LATENT))
    u, w = unit(rng.normal(size=LATENT)), unit(rng.normal(size=LATENT))
    d = fit_direction(z, z @ u + 0.1 * rng.normal(size=2000), "u")
    assert d.vector @ u > 0.99 and d.score > 0.95
    other = Direction("w", "supervised", w.astype(np.float32))
    conditional = fit_direction(z, z @ u, "u", orthogonal_to=[other])
    assert abs(conditional.vector @ w) < 1e-5
    with pytest.raises(ValueError, match="same"):
        fit_direction(z[:5], np.ones(5), "flat")


def test_a_few_marked_codes_give_the_separating_direction():
    rng = np.random.default_rng(4)
    u = unit(rng.normal(size=LATENT))
    a = rng.normal(size=(4, LATENT)) - 2 * u
    b = rng.normal(size=(4, LATENT)) + 2 * u
    d = fit_direction(np.concatenate([a, b]), [0] * 4 + [1] * 4, "A → B", method="marked")
    assert d.vector @ u > 0.7  # 8 codes in 16 dimensions: close, not exact


def test_supervised_directions_are_conditional_and_ranked():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(3000, LATENT))
    u, v = unit(rng.normal(size=LATENT)), unit(rng.normal(size=LATENT))
    labels = np.stack([z @ u, z @ (0.6 * u + 0.8 * v) + rng.normal(size=3000)], axis=1)
    first, second = supervised_directions(z, labels, ["yaw", "smile"])
    assert (first.name, first.rank, second.rank) == ("yaw", 1, 2)
    # Each is orthogonal to the other attribute's own normal: moving along yaw leaves the linear
    # prediction of smile unchanged, and the reverse.
    assert abs(first.vector @ unit(0.6 * u + 0.8 * v)) < 0.05
    assert abs(second.vector @ u) < 0.05
    plain_yaw, _ = supervised_directions(z, labels, ["yaw", "smile"], conditional=False)
    assert plain_yaw.vector @ u > 0.99 and abs(plain_yaw.vector @ unit(0.6 * u + 0.8 * v)) > 0.5
    # Strength in units of the attribute's σ: one unit moves yaw (= z·u, σ 1) by about 1.
    assert plain_yaw.sigma == pytest.approx(1.0, rel=0.05)
    shift = (z[:5] + plain_yaw.step) @ u - z[:5] @ u
    np.testing.assert_allclose(shift, 1.0, rtol=0.05)


def test_direction_stability_ignores_sign_and_order():
    eye = np.eye(3, dtype=np.float32)
    previous = [Direction(str(i), "sefa", eye[i]) for i in range(3)]
    current = [Direction("a", "sefa", -eye[2]), Direction("b", "sefa", unit(eye[0] + eye[1]).astype(np.float32))]
    np.testing.assert_allclose(direction_stability(previous, current), [1.0, np.sqrt(0.5)], atol=1e-6)


def test_apply_directions_combines_strengths():
    eye = np.eye(3, dtype=np.float32)
    dirs = [Direction("x", "sefa", eye[0], sigma=2.0), Direction("y", "sefa", eye[1])]
    np.testing.assert_allclose(apply_directions(np.zeros(3), dirs, [1.5, -1.0]), [3.0, -1.0, 0.0])


def test_slerp_and_lerp():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=LATENT).astype(np.float32), 2 * rng.normal(size=LATENT).astype(np.float32)
    for f in (lerp, slerp):
        np.testing.assert_allclose(f(a, b, 0.0), a, atol=1e-5)
        np.testing.assert_allclose(f(a, b, 1.0), b, atol=1e-5)
    mid = slerp(a, b, 0.5)
    assert np.isclose(np.linalg.norm(mid), (np.linalg.norm(a) + np.linalg.norm(b)) / 2, rtol=1e-5)
    assert np.linalg.norm(lerp(a, -a, 0.5)) < 1e-6  # lerp cuts through the origin
    np.testing.assert_allclose(slerp(a, 3 * a, 0.5), 2 * a, rtol=1e-5)  # parallel: no division by zero
    path = interpolation_path(a, b, 5, "slerp")
    assert path.shape == (5, LATENT)
    with pytest.raises(ValueError):
        interpolation_path(a, b, 5, "cubic")


def test_traversal_spans_the_strengths():
    strengths = traversal_strengths(7, 3.0)
    np.testing.assert_allclose(strengths, [-3, -2, -1, 0, 1, 2, 3])
    codes = traversal(np.zeros(4, np.float32), np.array([1, 0, 0, 0], np.float32), strengths)
    np.testing.assert_allclose(codes[:, 0], strengths)


def test_direction_files_round_trip_and_reject_bad_input(tmp_path):
    dirs = sefa_directions(MLPGenerator(LATENT, (1, 8, 8)), LATENT, k=3, source="step_0000040.json")
    path = tmp_path / "dirs.json"
    save_directions(dirs, path, LATENT)
    loaded = load_directions(path, LATENT)
    assert [d.name for d in loaded] == ["SeFa 1", "SeFa 2", "SeFa 3"]
    assert loaded[0].source == "step_0000040.json" and loaded[0].layer == "net.0"
    np.testing.assert_allclose(loaded[1].vector, dirs[1].vector, atol=1e-6)
    with pytest.raises(DirectionsError, match="latent size is 8"):
        load_directions(path, 8)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DirectionsError, match="not a readable"):
        load_directions(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DirectionsError, match="not a ganstudio direction file"):
        load_directions(tmp_path / "other.json")
    doc = json.loads(path.read_text())
    doc["directions"][0]["vector"][0] = "NaN"
    (tmp_path / "nan.json").write_text(json.dumps(doc))
    with pytest.raises(DirectionsError, match="invalid"):
        load_directions(tmp_path / "nan.json")
    with pytest.raises(DirectionsError, match="does not exist"):
        load_directions(tmp_path / "missing.json")


def test_sefa_tracker_records_shares_and_stability():
    from ganstudio.latent.tracking import SefaTracker

    torch.manual_seed(0)
    g = MLPGenerator(LATENT, (1, 8, 8))
    tracker = SefaTracker(LATENT, k=3)
    first = tracker.record(g, 10)
    assert set(first) == {"step", "sefa_share_1", "sefa_share_2", "sefa_share_3"}
    assert 0 < first["sefa_share_3"] <= first["sefa_share_1"] < 1
    same = tracker.record(g, 20)
    assert same["sefa_stability_1"] == pytest.approx(1.0, abs=1e-5)  # nothing changed: settled
    with torch.no_grad():
        g.net[0].weight.copy_(torch.randn_like(g.net[0].weight))
    moved = tracker.record(g, 30)
    # New weights: SeFa 1 turned a lot, or it is gone and new directions were born.
    assert moved.get("sefa_stability_1", 0.0) < 0.95 and len(moved) > 1
