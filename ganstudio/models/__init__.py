"""GAN family registry: ``@register_family("name")``, ``list_families()``, ``build_family(...)``.

A new family is one module in this package with a decorated :class:`Family` subclass, plus its import
at the bottom of this file.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ganstudio.config import DataConfig, ModelConfig, TrainConfig
from ganstudio.errors import ConfigError
from ganstudio.models.base import Family, FamilyOption, MetricInfo

_FAMILIES: dict[str, type[Family]] = {}


def register_family(name: str) -> Callable[[type[Family]], type[Family]]:
    def decorator(cls: type[Family]) -> type[Family]:
        cls.name = name
        _FAMILIES[name] = cls
        return cls

    return decorator


def list_families() -> dict[str, type[Family]]:
    return dict(_FAMILIES)


def family_class(name: str) -> type[Family]:
    try:
        return _FAMILIES[name]
    except KeyError:
        raise ConfigError(f"unknown GAN family '{name}'; choose one of: {', '.join(_FAMILIES)}") from None


def saved_config(config: dict) -> dict:
    """A run configuration as a run folder or checkpoint saved it (a dict), with the options it lacks set
    as its version of ganstudio had them (``Family.saved_options``); unknown families are left alone."""
    model = dict(config.get("model", {}))
    if model.get("family") not in _FAMILIES:
        return config
    model["options"] = _FAMILIES[model["family"]].saved_options(dict(model.get("options", {})))
    return {**config, "model": model}


def build_family(data: DataConfig, model: ModelConfig, train: TrainConfig, device: torch.device) -> Family:
    return family_class(model.family)(data, model, train, device)


# Families register on import; this order is the order the app and CLI list them in.
from ganstudio.models import gan, dcgan, wgan, cgan, ebgan, began, vae, pix2pix, cyclegan, discogan, stargan, srgan, segan  # noqa: E402,F401,I001

__all__ = ["Family", "FamilyOption", "MetricInfo", "build_family", "family_class", "list_families", "register_family"]
