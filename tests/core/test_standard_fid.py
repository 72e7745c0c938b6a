"""The standard FID network (TF Inception-v3 through torch-fidelity): our KID and FID equal torch-fidelity's on
the same images saved as PNG files - with random weights of its layout (runs anywhere), and with the real
weights when they are in the torch hub cache; without the weights or the extra, the domain features."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganstudio.config import DataConfig
from ganstudio.metrics import features as features_module
from ganstudio.metrics.features import FeatureNetwork, feature_network, standard_inception_features
from ganstudio.metrics.frechet import frechet_distance
from ganstudio.metrics.kid import polynomial_mmd2

IMAGES = 4  # per folder: the Inception forward at 299 × 299 costs ~0.2 s an image on one core


@pytest.fixture
def fidelity(monkeypatch):
    """torch_fidelity (else skip), with its torch.load(..., weights_only=False) forced to the safe loader."""
    module = pytest.importorskip("torch_fidelity")
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    return module


@pytest.fixture
def no_domain_training(monkeypatch):
    """domain_features without training a network: the fallback is all these tests look at."""
    stub = FeatureNetwork("domain", "domain features (stub)", torch.nn.Flatten())
    monkeypatch.setattr(features_module, "domain_features", lambda config, data=None, check=None: stub)


def random_weights(path: Path) -> Path:
    """A weights file of torch-fidelity's layout: torchvision's Inception-v3 has the same names and shapes but
    for the 1008-way fc. He-normal convolutions keep the 2048 features of order one."""
    from torchvision.models import inception_v3

    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = inception_v3(weights=None, aux_logits=False, init_weights=False)
        net.fc = torch.nn.Linear(2048, 1008)
        for layer in net.modules():
            if isinstance(layer, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    torch.save(net.state_dict(), path)
    return path


def measures(fidelity, tmp_path: Path, weights_path: Path | None, fid: bool) -> dict[str, tuple[float, float]]:
    """{"kid": (ours, torch-fidelity's)[, "fid": (ours, theirs)]} between random 32×32 RGB images and random grey
    ones, theirs read from PNG files. KID on the whole sets (one subset of all images) costs nothing; each FID
    costs seconds on a CPU (eigenvalues of 2048 × 2048 matrices)."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (IMAGES, 32, 32, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (IMAGES, 32, 32, 1), dtype=np.uint8)
    for name, images in (("rgb", rgb), ("grey", grey)):
        (tmp_path / name).mkdir()
        for i, image in enumerate(images):
            Image.fromarray(image.squeeze(-1) if name == "grey" else image).save(tmp_path / name / f"{i}.png")
    network = standard_inception_features(weights_path)
    assert network.name == "inception_standard"
    a, b = network.features(rgb), network.features(grey)
    theirs = fidelity.calculate_metrics(input1=str(tmp_path / "rgb"), input2=str(tmp_path / "grey"), fid=fid,
                                        kid=True, kid_subsets=1, kid_subset_size=IMAGES, cuda=False, cache=False,
                                        verbose=False, save_cpu_ram=True,
                                        feature_extractor_weights_path=weights_path and str(weights_path))
    found = {"kid": (polynomial_mmd2(a, b), theirs["kernel_inception_distance_mean"])}
    if fid:
        found["fid"] = (frechet_distance(a, b), theirs["frechet_inception_distance"])
    return found


def test_our_kid_equals_torch_fidelitys_from_pngs_with_random_weights(tmp_path, fidelity):
    """The pipeline (uint8 as in a PNG, grey to RGB, TF's resize, the network) without the 2048-d FIDs."""
    ours, theirs = measures(fidelity, tmp_path, random_weights(tmp_path / "random-inception.pth"), fid=False)["kid"]
    assert theirs > 0.01 and ours == pytest.approx(theirs, rel=1e-3)


@pytest.mark.slow  # two FIDs in 2048 dimensions: ~6 s on 2 idle cores (eigenvalues of 2048 × 2048 matrices)
def test_our_fid_equals_torch_fidelitys_from_pngs_with_random_weights(tmp_path, fidelity):
    found = measures(fidelity, tmp_path, random_weights(tmp_path / "random-inception.pth"), fid=True)
    for ours, theirs in found.values():
        assert theirs > 0.01 and ours == pytest.approx(theirs, rel=1e-3)


@pytest.mark.slow
def test_our_fid_equals_torch_fidelitys_from_pngs_with_the_real_weights(tmp_path, fidelity):
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

    cached = Path(torch.hub.get_dir()) / "checkpoints" / URL_INCEPTION_V3.rsplit("/", 1)[-1]
    if not cached.exists():
        pytest.skip(f"the standard FID weights are not in the torch hub cache ({cached})")
    for ours, theirs in measures(fidelity, tmp_path, None, fid=True).values():
        assert theirs > 0 and ours == pytest.approx(theirs, rel=1e-3)


def test_offline_the_standard_fid_falls_back_to_the_domain_features(tmp_path, monkeypatch, fidelity,
                                                                     no_domain_training):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # nothing cached
    monkeypatch.setattr(features_module, "_reachable", lambda url: "URLError: offline")
    network, note = feature_network("inception_standard", DataConfig())
    assert network.name == "domain" and "not available" in note and "offline" in note


def test_without_the_extra_the_standard_fid_says_how_to_install_it(monkeypatch, no_domain_training):
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # import torch_fidelity... raises ImportError
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", None)
    network, note = feature_network("inception_standard", DataConfig())
    assert network.name == "domain" and 'pip install "ganstudio[fid]"' in note
