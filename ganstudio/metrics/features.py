"""Feature networks for FID-like measures: images -> vectors. Numbers from different networks are
never mixed: each network has a ``name`` that the metric keys carry (``fid_domain``, ``fid_inception``,
``fid_inception_standard``).

- ``domain``: trained by the app on the run's own real images, so every data set - built-in, offline
  or private - gets a quality curve. With known factors (faces) or classes it is the attribute model
  (ganstudio.latent.attributes), read at its 128-d penultimate layer; without labels, the code of a
  small auto-encoder. Both are trained once per data configuration (seconds) and cached.
- ``inception``: torchvision's Inception-v3 (ImageNet weights, 2048-d pool features), the network of
  the standard FID (Heusel et al., arXiv 1706.08500; these weights differ slightly from the
  TensorFlow ones of published FIDs). The weights download once; offline, FeaturesUnavailable says so.
- ``inception_standard``: the TensorFlow Inception-v3 (2015-12-05) of published FIDs, through the optional
  extra ``fid`` (torch-fidelity; pytorch-fid ports the same weights): our FID equals torch-fidelity's on the
  same images saved as PNG files. Downloads once too; without the extra or offline, FeaturesUnavailable.
"""

from __future__ import annotations

import functools
import io
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.config import FEATURE_KINDS, DataConfig
from ganstudio.data import dataset_version, load_dataset
from ganstudio.data.base import ImageSet
from ganstudio.data.cache import cache_key, load_module, save_module
from ganstudio.errors import UserError
from ganstudio.latent.attributes import AttributeModel, AttributeNet, attribute_model_for
from ganstudio.private_rng import build_module

REACH_TIMEOUT_S = 5.0  # how long to wait for a download server before falling back
AUTOENCODER_VERSION = 1


class FeaturesUnavailable(UserError):
    """A feature network cannot be had here (e.g. Inception weights offline)."""


@dataclass(frozen=True)
class FeatureNetwork:
    name: str  # one of FEATURE_KINDS: the suffix of the metric keys
    description: str  # in words, for plot titles and the CLI
    net: nn.Module  # (N, C, H, W) in [-1, 1] -> (N, D); CPU, eval mode
    attributes: AttributeModel | None = None  # factor or class coverage come from it

    @torch.no_grad()
    def features(self, images: np.ndarray, batch_size: int = 250,
                 check: Callable[[], None] = lambda: None) -> torch.Tensor:
        """(N, H, W, C) uint8 -> (N, D) float32; ``check()`` runs before each batch (it may raise to
        cancel)."""
        x = torch.from_numpy(np.array(images, np.float32)).permute(0, 3, 1, 2) / 127.5 - 1.0
        out = []
        for chunk in x.split(batch_size):
            check()
            out.append(self.net(chunk).float())
        return torch.cat(out)


class Penultimate(nn.Module):
    """An AttributeNet without its output layer: its 128-d hidden features."""

    def __init__(self, net: AttributeNet):
        super().__init__()
        self.attribute_net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] > 32:
            x = F.adaptive_avg_pool2d(x, 32)
        return self.attribute_net.net[:-1](x)


class FeatureAutoEncoder(nn.Module):
    """For data without labels: an AttributeNet trunk encodes to 128 numbers, an MLP decodes a 16×16
    version of the image from them."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.encoder = AttributeNet(channels, 128)
        self.decoder = nn.Sequential(nn.Linear(128, 512), nn.LeakyReLU(0.2), nn.Linear(512, channels * 256), nn.Tanh())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encoder(x)
        return self.decoder(code).view(-1, self.channels, 16, 16), code


class _Encoder(nn.Module):
    def __init__(self, autoencoder: FeatureAutoEncoder):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.encoder(x)


def train_feature_autoencoder(data: ImageSet, steps: int = 1000, batch_size: int = 128, seed: int = 0,
                              check: Callable[[], None] = lambda: None) -> FeatureAutoEncoder:
    model = build_module(lambda: FeatureAutoEncoder(data.images.shape[1]), seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    rng = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        check()
        x = data.images[torch.randint(len(data), (batch_size,), generator=rng)].float().div_(127.5).sub_(1.0)
        reconstruction, _ = model(x)
        loss = F.mse_loss(reconstruction, F.adaptive_avg_pool2d(x, 16))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval().requires_grad_(False)


def domain_features(config: DataConfig, data: ImageSet | None = None,
                    check: Callable[[], None] = lambda: None) -> FeatureNetwork:
    """The run's own feature network (trained now, or from the cache); ``check()`` runs before every
    training step (it may raise to cancel)."""
    data = data if data is not None else load_dataset(config)
    if data.factors or data.labels is not None:
        model = attribute_model_for(config, data, check)
        what = "factors" if model.kind == "factors" else "classes"
        return FeatureNetwork("domain", f"domain features (a net trained on this data's {what})",
                              Penultimate(model.net).eval(), model)
    key = cache_key(data=config.__dict__, images=dataset_version(config.dataset), version=AUTOENCODER_VERSION)
    autoencoder = build_module(lambda: FeatureAutoEncoder(config.channels), 0)
    if load_module("feature-autoencoders", key, autoencoder) is None:
        autoencoder = train_feature_autoencoder(data, check=check)
        save_module("feature-autoencoders", key, autoencoder, {"channels": config.channels})
    return FeatureNetwork("domain", "domain features (an auto-encoder trained on this data)",
                          _Encoder(autoencoder.eval().requires_grad_(False)))


class _InceptionPool(nn.Module):
    """[-1, 1] images of any size and channel count -> Inception-v3's 2048-d pool features."""

    def __init__(self, inception: nn.Module):
        super().__init__()
        inception.fc = nn.Identity()
        self.inception = inception.eval()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x.expand(-1, 3, -1, -1) + 1) / 2
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return self.inception((x - self.mean) / self.std)


def inception_features() -> FeatureNetwork:
    """Inception-v3 with ImageNet weights (downloaded once by torchvision into the torch cache)."""
    from torchvision.models import Inception_V3_Weights, inception_v3

    try:
        _reachable_unless_cached(Inception_V3_Weights.IMAGENET1K_V1.url)
        state = Inception_V3_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    except Exception as e:  # noqa: BLE001  urllib, SSL and file errors all mean "no weights here"
        raise FeaturesUnavailable(
            f"the Inception weights are not available ({type(e).__name__}: {e}); they download once "
            "with an internet connection. Using the domain features instead.") from None
    with torch.device("meta"):  # no random initialisation: it would draw from the training thread's generator
        net = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=True)
    net.load_state_dict(state, assign=True)
    return FeatureNetwork("inception", "Inception-v3 features (ImageNet weights)", _InceptionPool(net))


class _StandardInception(nn.Module):
    """[-1, 1] images (N, 1 or 3, H, W) -> (N, 2048) pool features of torch-fidelity's TF Inception-v3. It takes
    the uint8 a PNG file would hold (rounded, clamped; grey repeated to RGB, as PIL's convert("RGB") does) and
    resizes to 299 × 299 itself with TensorFlow 1's bilinear."""

    def __init__(self, extractor: nn.Module):
        super().__init__()
        self.extractor = extractor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pixels = ((x.expand(-1, 3, -1, -1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
        return self.extractor(pixels)[0]


def standard_inception_features(weights_path: str | Path | None = None) -> FeatureNetwork:
    """The standard FID network (Heusel et al., arXiv 1706.08500): TensorFlow's Inception-v3 of 2015-12-05 as
    torch-fidelity ports it, its weights downloaded once into the torch hub cache (``weights_path``: a file
    of the same layout instead, e.g. random weights in tests)."""
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3, FeatureExtractorInceptionV3
    except ImportError:
        raise FeaturesUnavailable('the standard FID network needs torch-fidelity: pip install "ganstudio[fid]". '
                                  "Using the domain features instead.") from None
    try:
        if weights_path is None:
            _reachable_unless_cached(URL_INCEPTION_V3)
            # No check_hash: torch-fidelity does not check it either, and no offline session here could confirm
            # that the file's SHA-256 starts with its name's suffix; the safe loader is what protects us.
            state = torch.hub.load_state_dict_from_url(URL_INCEPTION_V3, progress=False, weights_only=True)
        else:
            state = torch.load(weights_path, weights_only=True)
    except Exception as e:  # noqa: BLE001  urllib, SSL and file errors all mean "no weights here"
        raise FeaturesUnavailable(
            f"the standard FID network's weights are not available ({type(e).__name__}: {e}); they download "
            "once with an internet connection. Using the domain features instead.") from None
    # torch-fidelity 0.4 unpickles its weights with weights_only=False (torch.hub.load_state_dict_from_url's
    # default, or torch.load(path, weights_only=False)). We read them above with the safe loader and hand it
    # only a stand-in of data-less meta tensors, built on the meta device (no random initialisation either: it
    # would draw from the training thread's generator), then put the real tensors in.
    stand_in = io.BytesIO()
    torch.save({key: value.to("meta") for key, value in state.items()}, stand_in)
    stand_in.seek(0)
    with torch.device("meta"):
        extractor = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                                feature_extractor_weights_path=stand_in)
    extractor.load_state_dict(state, assign=True)
    return FeatureNetwork("inception_standard",
                          "standard FID Inception (TF weights of published FIDs, via torch-fidelity)",
                          _StandardInception(extractor))


class _VGGFeatures(nn.Module):
    """[-1, 1] images (grey or RGB) -> VGG19's feature maps after conv5_4 and its ReLU (SRGAN's φ5,4)."""

    loss_scale = 1 / 12.75  # SRGAN, section 3.2: "to obtain VGG losses of a scale comparable to the MSE loss"

    def __init__(self, features: nn.Module):
        super().__init__()
        self.features = features
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(((x.expand(-1, 3, -1, -1) + 1) / 2 - self.mean) / self.std)


def vgg19_features() -> nn.Module:
    """VGG19 with ImageNet weights up to conv5_4's ReLU (downloaded once by torchvision; FeaturesUnavailable
    offline)."""
    from torchvision.models import VGG19_Weights, vgg19

    weights = VGG19_Weights.IMAGENET1K_V1
    try:
        _reachable_unless_cached(weights.url)
        state = weights.get_state_dict(progress=False)
    except Exception as e:  # noqa: BLE001  urllib, SSL and file errors all mean "no weights here"
        raise FeaturesUnavailable(f"VGG19's weights are not available ({type(e).__name__}: {e}); they download "
                                  "once with an internet connection") from None
    with torch.device("meta"):
        net = vgg19(weights=None)
    net.load_state_dict(state, assign=True)
    return _VGGFeatures(net.features[:36]).eval().requires_grad_(False)


@functools.cache
def _reachable(url: str) -> str | None:
    """None when ``url`` answers within a few seconds, else why not (asked once per process)."""
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=REACH_TIMEOUT_S).close()
    except (OSError, ValueError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def _reachable_unless_cached(url: str) -> None:
    """Raise OSError quickly when ``url``'s file is neither in torch's cache nor reachable (offline, the
    download would otherwise wait for the system's long network timeouts)."""
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urllib.parse.urlparse(url).path).name
    if not cached.exists() and (problem := _reachable(url)):
        raise OSError(f"cannot reach {urllib.parse.urlparse(url).netloc} ({problem})")


def content_network(config: DataConfig, data: ImageSet | None = None) -> tuple[nn.Module, str]:
    """A perceptual (content) loss's feature network and what it is, in words: VGG19's conv5_4 (SRGAN's)
    when its weights can be had, else the domain feature network."""
    try:
        return vgg19_features(), "VGG19 features (conv5_4, ImageNet weights), as in the paper"
    except FeaturesUnavailable as e:
        domain = domain_features(config, data)
        return domain.net, f"the {domain.description}, because {e}"


def feature_network(kind: str, config: DataConfig, data: ImageSet | None = None,
                    check: Callable[[], None] = lambda: None) -> tuple[FeatureNetwork, str | None]:
    """(network, a note for the person or None). An Inception that cannot be had falls back to domain."""
    if kind not in FEATURE_KINDS:
        raise UserError(f"unknown features '{kind}'; choose one of: {', '.join(FEATURE_KINDS)}")
    inceptions = {"inception": inception_features, "inception_standard": standard_inception_features}
    if kind in inceptions:
        try:
            return inceptions[kind](), None
        except FeaturesUnavailable as e:
            return domain_features(config, data, check), str(e)
    return domain_features(config, data, check), None
