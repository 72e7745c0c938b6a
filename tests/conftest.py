"""Shared test set-up: Qt offscreen, a private cache folder, small configs."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from ganstudio.training.engine import TrainerCallback  # noqa: E402


# The device of the engine, family and explorer tests: `pytest --device cuda` runs them on a GPU.
DEVICE = "cpu"
ON_ANY_DEVICE = ("test_engine.py", "test_families.py", "test_family_contract.py", "test_distributed.py",
                 "test_directions.py", "test_explore_panel.py")


def pytest_addoption(parser):
    parser.addoption("--device", default="cpu", choices=("cpu", "cuda"),
                     help="cuda: run the engine, family and explorer tests on the GPU (skipped without one)")


def pytest_configure(config):
    global DEVICE
    DEVICE = config.getoption("--device")


def pytest_collection_modifyitems(config, items):
    if DEVICE != "cuda":
        return
    import torch

    for item in items:
        if not torch.cuda.is_available():
            item.add_marker(pytest.mark.skip(reason="--device cuda: no CUDA GPU here"))
        elif item.path.name not in ON_ANY_DEVICE:
            item.add_marker(pytest.mark.skip(reason="--device cuda runs the engine, family and explorer tests"))


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Data set caches go to a per-session temp folder, never the user's."""
    os.environ["GANSTUDIO_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


def data_for(family: str, size: int = 28) -> dict:
    """Data settings a family can train on, at its smallest size when ``size`` is not one of its sizes:
    faces paired with their edges for pix2pix, faces as serious | smiling for the two-domain families,
    a small built-in speech set in short windows for speech enhancement, faces (with their attributes) for
    the rest."""
    from ganstudio.models import family_class

    cls = family_class(family)
    size = size if size in cls.image_sizes else cls.image_sizes[0]
    if "source" in cls.needs:
        return {"pair_from": "edges", "image_size": size}
    if "a" in cls.needs:
        return {"domains": "smile", "image_size": size}
    if "clean" in cls.needs:
        return {"dataset": "speech", "window": 1024, "num_images": 200, "image_size": size}
    return {"image_size": size}


def make_small_config(family: str = "gan", steps: int = 40, **train):
    """A run that trains in seconds: 600 faces (paired with their edges for translation families), batch
    30, width 8 (conv families), on the tests' device (the CPU unless `pytest --device cuda`)."""
    from ganstudio.config import RunConfig

    return RunConfig().replace(
        data={"dataset": "faces", "num_images": 600, **data_for(family)},
        model={"family": family, "width": 8},
        train={"max_steps": steps, "batch_size": 30, "sample_every": 20, "checkpoint_every": 1000,
               "eval_every": 0, "device": DEVICE, **train},
    )


@pytest.fixture
def small_config():
    return make_small_config


@pytest.fixture
def pixel_fd():
    from ganstudio.metrics.frechet import pixel_frechet_distance

    return pixel_frechet_distance


@pytest.fixture
def slow_quality(monkeypatch):
    """Quality evaluations whose feature network takes 0.5 s per batch (as Inception does on a CPU);
    returns the network: its ``started`` event is set once an evaluation is in flight."""
    import threading
    import time

    from torch import nn

    import ganstudio.metrics.evaluator as evaluator
    from ganstudio.metrics.features import FeatureNetwork

    class SlowFeatures(nn.Module):
        def __init__(self):
            super().__init__()
            self.started = threading.Event()

        def forward(self, x):
            self.started.set()
            time.sleep(0.5)
            return x.flatten(1)[:, :16]

    net = SlowFeatures()
    monkeypatch.setattr(evaluator, "feature_network",
                        lambda kind, config, data, **kw: (FeatureNetwork("slow", "slow features", net), None))
    return net


@pytest.fixture
def quick_attribute_model(monkeypatch):
    """Attribute models (the faces' domain feature network) trained 50 steps instead of 1,000 (~28 s): for
    tests where what that network has learnt does not matter."""
    import functools

    from ganstudio.latent import attributes
    monkeypatch.setattr(attributes, "train_attribute_model",
                        functools.partial(attributes.train_attribute_model, steps=50))


class StopAt(TrainerCallback):
    """Asks the run to stop once it has reported ``step`` (reports every step: report_interval_s=0)."""

    def __init__(self, step: int, control):
        self.step, self.control = step, control

    def on_step(self, event):
        if event.step >= self.step:
            self.control.stop()
