"""Quality measures: the Fréchet distance, KID, precision/recall, the feature networks and evaluate."""

import numpy as np
import pytest
import torch

from ganstudio.config import DataConfig
from ganstudio.data import load_dataset
from ganstudio.metrics.features import FeaturesUnavailable, domain_features, feature_network
from ganstudio.metrics.frechet import frechet_distance
from ganstudio.metrics.kid import kernel_inception_distance
from ganstudio.metrics.precision_recall import precision_recall


def gaussian(n, mean, scales, rotation, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, len(scales), generator=g, dtype=torch.float64) * torch.as_tensor(scales) + mean) @ rotation.T


def test_frechet_distance_matches_the_closed_form_for_known_gaussians():
    """For Gaussians with covariances diagonal in one basis, d² = ‖μa − μb‖² + Σ (σa − σb)²; the
    estimate from 200k samples matches it (and a shared rotation changes nothing)."""
    d = 4
    rotation = torch.linalg.qr(torch.randn(d, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
    sa, sb = torch.tensor([1.0, 2.0, 0.5, 1.5]), torch.tensor([2.0, 1.0, 1.0, 0.5])
    mu_a, mu_b = torch.tensor([0.0, 1.0, 0.0, 0.0]), torch.tensor([1.0, 0.0, 0.0, 2.0])
    expected = float((mu_a - mu_b).square().sum() + (sa - sb).square().sum())
    a = gaussian(200_000, mu_a, sa, rotation, 1)
    b = gaussian(200_000, mu_b, sb, rotation, 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)
    assert abs(frechet_distance(a, a)) < 1e-6


def test_fid_and_kid_grow_as_a_set_is_blended_with_noise():
    g = torch.Generator().manual_seed(3)
    real = torch.randn(1500, 16, generator=g) @ torch.randn(16, 16, generator=g)
    other = torch.randn(1500, 16, generator=g) @ torch.randn(16, 16, generator=g)
    noise = (torch.randn(1500, 16, generator=g) + 2) * real.std()  # shifted and scaled: plainly other
    fids, kids = [], []
    for alpha in (0.0, 0.25, 0.5, 0.75, 1.0):
        blended = (1 - alpha) * real[:750] + alpha * noise[:750]
        fids.append(frechet_distance(real[750:], blended))
        kids.append(kernel_inception_distance(real[750:], blended, subsets=5, subset_size=500)[0])
    assert all(x < y for x, y in zip(fids, fids[1:])), fids
    assert all(x < y for x, y in zip(kids, kids[1:])), kids
    assert fids[0] < 0.05 * fids[-1] and abs(kids[0]) < 0.02 * kids[-1]
    assert frechet_distance(real, other) > 0  # a different distribution is not at zero


def test_kid_is_unbiased_for_small_samples():
    """Two small samples of one distribution: KID averages to 0 (FID would be positive)."""
    g = torch.Generator().manual_seed(4)
    values = [kernel_inception_distance(torch.randn(50, 8, generator=g), torch.randn(50, 8, generator=g),
                                        subsets=1, subset_size=50)[0] for _ in range(200)]
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))


def test_precision_recall_of_real_against_real_and_of_a_collapsed_generator():
    g = torch.Generator().manual_seed(5)
    real, real_again = torch.randn(1000, 8, generator=g), torch.randn(1000, 8, generator=g)
    assert precision_recall(real, real) == (1.0, 1.0)
    precision, recall = precision_recall(real, real_again)
    assert precision > 0.85 and recall > 0.85
    collapsed = real[:1].repeat(1000, 1) + 0.01 * torch.randn(1000, 8, generator=g)  # always the same image
    precision, recall = precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.05


def test_domain_features_separate_real_faces_from_noise():
    config = DataConfig(num_images=3000)
    features = domain_features(config)
    assert features.name == "domain" and features.attributes is not None
    images = load_dataset(config).images.permute(0, 2, 3, 1).numpy()
    a, b = features.features(images[:1000]), features.features(images[1000:2000])
    noise = np.random.default_rng(0).integers(0, 256, images[:1000].shape, dtype=np.uint8)
    assert a.shape == (1000, 128)
    assert frechet_distance(a, b) < 0.05 * frechet_distance(a, features.features(noise))


@pytest.mark.slow  # trains a feature network of its own
def test_unlabelled_data_get_an_autoencoder_and_inception_falls_back_offline(tmp_path, monkeypatch):
    from PIL import Image
    rng = np.random.default_rng(0)
    for i in range(40):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    config = DataConfig(dataset="folder", root=str(tmp_path))
    features = domain_features(config)
    assert "auto-encoder" in features.description and features.attributes is None
    assert features.features(np.zeros((3, 28, 28, 1), np.uint8)).shape == (3, 128)

    import ganstudio.metrics.features as module

    def offline():
        raise FeaturesUnavailable("the Inception weights are not available (URLError: offline)")
    monkeypatch.setattr(module, "inception_features", offline)
    fallback, note = feature_network("inception", config)
    assert fallback.name == "domain" and "not available" in note


def quality(step, fid, precision=0.7, recall=0.6):
    from ganstudio.events import QualityReport
    return QualityReport(step, {"fid_domain": fid, "precision_domain": precision, "recall_domain": recall},
                         "domain features", 0.5)


def kinds(monitor, reports):
    return [w.kind for report in reports for w in monitor.observe_quality(report)]


def test_health_warns_of_collapse_stalls_and_oscillation_from_quality():
    from ganstudio.metrics.health import HealthMonitor

    monitor = HealthMonitor(real_diversity=1.0)
    assert kinds(monitor, [quality(100, 50, 0.0, 0.0), quality(150, 40, 0.6, 0.02),  # noise, a first good face,
                           quality(200, 30, 0.2, 0.3)]) == []  # then learning
    assert kinds(monitor, [quality(300, 25, 0.8, 0.1)]) == ["recall_collapse"]
    assert kinds(monitor, [quality(400, 24, 0.8, 0.5)]) == []  # recovered
    stalled = [quality(500 + 100 * i, 26 + i % 2) for i in range(5)]
    assert kinds(monitor, stalled) == ["no_progress"]
    swinging = HealthMonitor(real_diversity=1.0)
    assert "oscillation" in kinds(swinging, [quality(100 * i, 10 if i % 2 else 30) for i in range(1, 7)])


def test_a_collapsed_generator_gets_low_recall_and_a_warning():
    """A generator that always draws the same real face: precision high, recall near 0, a warning."""
    from torch import nn

    from ganstudio.config import RunConfig
    from ganstudio.events import QualityReport
    from ganstudio.metrics.evaluate import evaluate
    from ganstudio.metrics.health import HealthMonitor
    from ganstudio.snapshot import GeneratorSnapshot

    config = RunConfig().replace(data={"num_images": 3000})
    images = load_dataset(config.data).images
    face = images[0].float() / 127.5 - 1

    class SameFace(nn.Module):
        def forward(self, z):
            return face.expand(len(z), -1, -1, -1)

    snapshot = GeneratorSnapshot(SameFace(), 100, (1, 28, 28), 0, "collapsed", config)
    features = domain_features(config.data)
    real = images[1000:2000].permute(0, 2, 3, 1).numpy()
    values = evaluate(snapshot, real, features, n=500)
    assert values["recall_domain"] < 0.02 and values["precision_domain"] > 0.5, values
    assert values["coverage_yaw"] < 0.3  # one face has one yaw
    monitor = HealthMonitor(real_diversity=1.0)
    assert monitor.observe_quality(QualityReport(0, values, "domain", 1.0)) == []  # once may be a start
    warnings = monitor.observe_quality(QualityReport(1000, values, "domain", 1.0))
    assert [w.kind for w in warnings] == ["narrow_samples"] and "cover almost none" in warnings[0].message


@pytest.mark.slow  # trains a feature network of its own
def test_class_coverage_of_labelled_data(tmp_path):
    """A labelled folder (darkened and lightened faces): a generator that only draws dark faces covers
    half of the classes."""
    from PIL import Image
    from torch import nn

    from ganstudio.config import RunConfig
    from ganstudio.metrics.evaluate import evaluate
    from ganstudio.snapshot import GeneratorSnapshot

    faces = load_dataset(DataConfig(num_images=600)).images[:, 0].numpy()
    dark, light = faces[:300] // 3, 255 - (255 - faces[300:]) // 3
    for name, images in (("dark", dark), ("light", light)):
        (tmp_path / name).mkdir()
        for i, image in enumerate(images):
            Image.fromarray(image).save(tmp_path / name / f"{i}.png")
    config = RunConfig().replace(data={"dataset": "folder", "root": str(tmp_path), "labels": True})
    features = domain_features(config.data)
    assert features.attributes.kind == "classes"
    dark_faces = torch.from_numpy(dark[:200]).float()[:, None] / 127.5 - 1

    class DarkOnly(nn.Module):
        def forward(self, z):
            return dark_faces[torch.arange(len(z)) % 200]

    snapshot = GeneratorSnapshot(DarkOnly(), 100, (1, 28, 28), 0, "dark only", config)
    real = np.concatenate([dark[200:], light[200:]])[..., None]
    values = evaluate(snapshot, real, features, n=200)
    assert values["class_coverage"] == pytest.approx(0.5, abs=0.05)


def test_the_frechet_distance_from_samples_equals_the_one_from_covariances():
    """Fewer samples than dimensions (Inception's case) take the (M, N) SVD route; it must give the number
    the (D, D) route gives on the same features."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(40, 90, generator=g), torch.randn(60, 90, generator=g) * 1.3 + 0.2
    assert frechet_distance(a, b) == pytest.approx(_frechet_by_covariances(a, b), rel=1e-6)


def _frechet_by_covariances(a, b) -> float:
    a, b = a.double(), b.double()
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    values, vectors = torch.linalg.eigh(cov_a)
    root = vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T
    trace = torch.linalg.eigvalsh(root @ cov_b @ root).clamp_min(0).sqrt().sum()
    return float((a.mean(0) - b.mean(0)).square().sum() + cov_a.trace() + cov_b.trace() - 2 * trace)
