"""Sample quality of a generator against real images, in one feature network's space.

``evaluate`` returns a flat record of numbers whose keys carry the feature network's name, so that
curves from different networks are never mixed:

    fid_<net>, kid_<net>         Fréchet distance and KID (×1000) between real and generated features
    precision_<net>, recall_<net>  fidelity and coverage (k = 3 nearest-neighbour manifolds)
    coverage_<factor>            known factors (faces): overlap of the histograms of the factor as the
                                 attribute model reads it in real and in generated images (1 = same)
    class_coverage               labelled data: overlap of the predicted class histogram of generated
                                 images with the real class frequencies
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ganstudio.data.faces import FACTOR_RANGES
from ganstudio.metrics.features import FeatureNetwork
from ganstudio.metrics.frechet import frechet_distance
from ganstudio.metrics.kid import kernel_inception_distance
from ganstudio.metrics.precision_recall import precision_recall
from ganstudio.snapshot import GeneratorSnapshot

HISTOGRAM_BINS = 20


def generated_images(snapshot: GeneratorSnapshot, n: int, seed: int = 0) -> np.ndarray:
    """(n, H, W, C) uint8 from z drawn with ``seed``; conditional models draw every class equally."""
    z = torch.randn(n, snapshot.latent_dim, generator=torch.Generator().manual_seed(seed)).numpy()
    if snapshot.label is None:
        return snapshot.render(z)
    classes = len(snapshot.class_names)
    images = np.empty((n, snapshot.image_shape[1], snapshot.image_shape[2], snapshot.image_shape[0]), np.uint8)
    for c in range(classes):
        images[c::classes] = snapshot.with_label(c).render(z[c::classes])
    return images


def histogram_overlap(a: np.ndarray, b: np.ndarray, low: float, high: float) -> float:
    """Σ min(p, q) of the two histograms over [low, high] (1 − total variation distance)."""
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    p = np.histogram(np.clip(a, low, high), edges)[0] / max(len(a), 1)
    q = np.histogram(np.clip(b, low, high), edges)[0] / max(len(b), 1)
    return float(np.minimum(p, q).sum())


def evaluate(snapshot: GeneratorSnapshot, real: np.ndarray, features: FeatureNetwork, n: int = 1000,
             seed: int = 0, check: Callable[[], None] = lambda: None) -> dict[str, float]:
    """Quality of ``snapshot``'s images against ``real`` (M, H, W, C) uint8; ``n`` generated images.
    ``check()`` runs between feature batches (it may raise to cancel)."""
    fake = generated_images(snapshot, n, seed)
    real_features, fake_features = features.features(real, check=check), features.features(fake, check=check)
    suffix = features.name
    kid, _ = kernel_inception_distance(real_features, fake_features, subsets=10, subset_size=min(n, len(real), 500),
                                       seed=seed)
    precision, recall = precision_recall(real_features, fake_features)
    record = {f"fid_{suffix}": frechet_distance(real_features, fake_features), f"kid_{suffix}": kid * 1000,
              f"precision_{suffix}": precision, f"recall_{suffix}": recall}
    model = features.attributes
    if model is not None:
        to_float = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1.0  # noqa: E731
        read_real, read_fake = model.predict(to_float(real)), model.predict(to_float(fake))
        if model.kind == "factors":
            for i, name in enumerate(model.names):
                low, high = FACTOR_RANGES.get(name, (float(read_real[:, i].min()), float(read_real[:, i].max())))
                record[f"coverage_{name}"] = histogram_overlap(read_real[:, i], read_fake[:, i], low, high)
        else:
            classes = read_real.shape[1]
            real_share = np.bincount(read_real.argmax(1), minlength=classes) / len(read_real)
            fake_share = np.bincount(read_fake.argmax(1), minlength=classes) / len(read_fake)
            record["class_coverage"] = float(np.minimum(real_share, fake_share).sum())
    return record
