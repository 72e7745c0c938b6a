import pytest

from ganstudio.config import RunConfig
from ganstudio.errors import ConfigError


def test_json_round_trip():
    config = RunConfig().replace(data={"dataset": "folder", "root": "/x", "image_size": 64, "channels": 3},
                                 model={"family": "dcgan", "width": 32}, train={"max_minutes": 1.5})
    assert RunConfig.from_json(config.to_json()) == config


def test_defaults_are_the_tutorials():
    t = RunConfig().train
    assert (t.batch_size, t.lr_g, t.lr_d, t.beta1, t.beta2) == (60, 2e-4, 2e-4, 0.5, 0.999)
    assert RunConfig().model.latent_dim == 100 and RunConfig().data.dataset == "faces"


@pytest.mark.parametrize("bad, message", [
    ({"train": {"batch_size": 0}}, "batch size"),
    ({"data": {"image_size": 30}}, "image size"),
    ({"train": {"beta1": 1.0}}, "beta1"),
    ({"train": {"batchsize": 3}}, "unknown train settings: batchsize"),
    ({"train": {"seed": 1.5}}, "seed must be a whole number, not 1.5"),
    ({"model": {"latent_dim": "64"}}, "latent dim must be a whole number"),
    ({"data": {"channels": True}}, "channels must be a whole number"),
])
def test_bad_values_are_rejected(bad, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig.from_dict(bad)


def test_whole_floats_become_ints():
    """JSON and NAME=VALUE options may give 1.0 where an integer is meant; torch needs the int."""
    config = RunConfig.from_dict({"train": {"seed": 3.0, "max_steps": 10.0}, "model": {"width": 16.0}})
    assert (config.train.seed, config.train.max_steps, config.model.width) == (3, 10, 16)
    assert all(type(v) is int for v in (config.train.seed, config.train.max_steps, config.model.width))
