"""Quality of the families that translate into a domain, on held-out images:

two domains (CycleGAN, DiscoGAN), A's images translated into B and B's into A:
    fid_<net>_ab, fid_<net>_ba   Fréchet distance between the translations and the real images of
                                 the domain they were translated into
    counterfactual_l1            drawn data: mean |translation − the same face drawn in the other domain|
                                 (pixels in [-1, 1]), the truth that real unpaired data never has
    counterfactual_ratio         that L1 over the identity mapping's (the input left as it is): < 1 is better
                                 than doing nothing
    counterfactual_ratio_changed the same ratio on the pixels the truth changes (by > 8 grey levels): where
                                 a factor touches few pixels (a smile at 32 px: ~1 %), the whole-image
                                 ratio mostly measures how exactly G copies the rest
    flipped                      faces: share of translations whose domain factor the attribute model
                                 reads on the other side of the threshold (flipped_ab, flipped_ba: each way)
    yaw_change, hair_change      faces: mean |change| of the other factors, as a share of their range

attributes (StarGAN), each held-out image with each attribute flipped in turn:
    requested                    faces: share of outputs whose flipped attribute the attribute model reads
                                 as requested (requested_<name>: for each attribute)
    kept                         faces: share of (output, unrequested attribute) that keep the input's value
    requested_by_d               share the model's own classifier (its discriminator) reads as requested
    fid_<net>                    Fréchet distance between all outputs and the held-out images
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ganstudio.data.base import ImageSet
from ganstudio.data.faces import ATTRIBUTES, DOMAINS, FACTOR_RANGES
from ganstudio.metrics.features import FeatureNetwork
from ganstudio.metrics.frechet import frechet_distance
from ganstudio.metrics.translation import translate_all
from ganstudio.snapshot import GeneratorSnapshot

CHANGED_GREY_LEVELS = 8
SIDE_FACTORS = {"yaw": "yaw_change", "hair_color": "hair_change"}  # factors an unpaired translation must keep


def _hwc(images: torch.Tensor) -> np.ndarray:
    return images.permute(0, 2, 3, 1).numpy()


def _read_factors(features: FeatureNetwork, images: np.ndarray) -> dict[str, np.ndarray] | None:
    model = features.attributes
    if model is None or model.kind != "factors":
        return None
    x = torch.from_numpy(np.array(images, np.float32)).permute(0, 3, 1, 2) / 127.5 - 1.0
    return dict(zip(model.names, model.predict(x).T, strict=True))


def unpaired_quality(snapshot: GeneratorSnapshot, held: ImageSet, features: FeatureNetwork, samples: int,
                     check: Callable[[], None] = lambda: None) -> dict[str, float]:
    """The two-domain record above, on up to ``samples`` held-out images of each domain."""
    a, b = (held.images[held.domains == d][:samples] for d in (0, 1))
    a_to_b, b_to_a = (translate_all(snapshot, _hwc(a), check, 1.0), translate_all(snapshot, _hwc(b), check, 0.0))
    record = {}
    for key, real, translated in ((f"fid_{features.name}_ab", b, a_to_b), (f"fid_{features.name}_ba", a, b_to_a)):
        record[key] = frechet_distance(features.features(_hwc(real), check=check),
                                       features.features(translated, check=check))
    if held.counterfactuals is not None:
        truth = np.concatenate([_hwc(held.counterfactuals[held.domains == d][:samples]) for d in (0, 1)]).astype(np.float32)
        inputs = np.concatenate([_hwc(a), _hwc(b)]).astype(np.float32)
        outputs = np.concatenate([a_to_b, b_to_a]).astype(np.float32)
        error, identity = np.abs(outputs - truth), np.abs(inputs - truth)
        changed = identity.max(axis=-1) > CHANGED_GREY_LEVELS  # (N, H, W): where the truth differs from the input
        record |= {"counterfactual_l1": float(error.mean() / 127.5),
                   "counterfactual_ratio": float(error.mean() / max(identity.mean(), 1e-6)),
                   "counterfactual_ratio_changed": float(error[changed].mean() / max(identity[changed].mean(), 1e-6))
                   if changed.any() else float("nan")}
    factor = snapshot.config.data.domains
    before = _read_factors(features, np.concatenate([_hwc(a), _hwc(b)]))
    if factor is not None and before is not None:
        after = _read_factors(features, np.concatenate([a_to_b, b_to_a]))
        threshold = DOMAINS[factor][0]
        wanted = np.concatenate([np.ones(len(a), bool), np.zeros(len(b), bool)])  # above the threshold?
        flipped = (after[factor] > threshold) == wanted
        record |= {"flipped": float(flipped.mean()), "flipped_ab": float(flipped[:len(a)].mean()),
                   "flipped_ba": float(flipped[len(a):].mean())}
        for name, key in SIDE_FACTORS.items():
            if name != factor:
                low, high = FACTOR_RANGES[name]
                record[key] = float(np.abs(after[name] - before[name]).mean() / (high - low))
    return record


def flipped_targets(attributes: np.ndarray) -> np.ndarray:
    """(N, K) codes -> (N·K, K): each row K times, the k-th copy with attribute k flipped (image-major)."""
    n, k = attributes.shape
    targets = np.repeat(attributes[:, None, :], k, axis=1)
    targets[:, np.arange(k), np.arange(k)] = 1 - targets[:, np.arange(k), np.arange(k)]
    return targets.reshape(n * k, k)


def face_attributes_read(features: FeatureNetwork, images: np.ndarray) -> np.ndarray | None:
    """The faces' five binary attributes as the attribute model reads them: (N, 5) bool, or None."""
    factors = _read_factors(features, images)
    if factors is None:
        return None
    return np.stack([(factors[f] > t) == above for f, t, above in ATTRIBUTES.values()], axis=1)


def attribute_quality(snapshot: GeneratorSnapshot, held: ImageSet, features: FeatureNetwork, samples: int,
                      check: Callable[[], None] = lambda: None) -> dict[str, float]:
    """The attribute record above, on up to ``samples`` held-out images."""
    images = _hwc(held.images[:samples])
    attributes = held.attributes[:samples].numpy()
    n, k = attributes.shape
    targets = flipped_targets(attributes)
    outputs = translate_all(snapshot, np.repeat(images, k, axis=0), check, targets)
    requested = np.tile(np.eye(k, dtype=bool), (n, 1))  # which column each output was asked to flip
    record = {f"fid_{features.name}": frechet_distance(features.features(images, check=check),
                                                       features.features(outputs, check=check))}
    if snapshot.reader is not None:
        by_d = snapshot.read_attributes(outputs) > 0.5
        record["requested_by_d"] = float((by_d == (targets > 0.5))[requested].mean())
    if snapshot.config.data.dataset == "faces" and snapshot.domain_names == tuple(ATTRIBUTES):
        read = face_attributes_read(features, outputs)
        if read is not None:
            wanted = targets > 0.5
            right = read == wanted
            record["requested"] = float(right[requested].mean())
            record["kept"] = float(right[~requested].mean())
            record |= {f"requested_{name}": float(right[requested[:, i], i].mean()) for i, name in enumerate(ATTRIBUTES)}
    return record
