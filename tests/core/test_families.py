"""Every GAN family: its declared interface, that it learns on faces, options and defaults, and the
conditional and encoding extras."""

from functools import cache

import numpy as np
import pytest
import torch
from conftest import DEVICE, data_for

from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.data.faces import ATTRIBUTES
from ganstudio.data.pairs import source_channels
from ganstudio.errors import ConfigError
from ganstudio.images import to_uint8
from ganstudio.latent.directions import sefa_directions
from ganstudio.models import build_family, family_class, list_families
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer


@cache
def faces_classes() -> tuple[str, ...]:
    """The built-in faces' class names (loaded on first use, after the cache fixture is in place)."""
    return load_dataset(RunConfig().data.__class__(num_images=60)).class_names


def config_for(family: str, steps: int = 40, size: int = 28, channels: int = 1, **train) -> RunConfig:
    """The family's own training defaults, on faces, on the tests' device, width 16."""
    return RunConfig().replace(
        data={"dataset": "faces", "num_images": 3000, "channels": channels, **data_for(family, size)},
        model={"family": family, "width": 16},
        train={**family_class(family).train_defaults(), "max_steps": steps, "epochs": 1000, "device": DEVICE,
               "sample_every": 10**6, "checkpoint_every": 10**6, "eval_every": 0, **train})


@pytest.mark.parametrize("size,channels", [(28, 1), (64, 3)])
@pytest.mark.parametrize("name", list(list_families()))
def test_family_reports_what_it_declares_at_both_sizes(name, size, channels):
    """Whatever a family needs and reads, it trains on a batch of those names, reports its metrics (all of
    them by the second step: SRGAN's first phase is one step) and renders its fixed inputs into images of
    the data's shape."""
    domains = ("serious", "smiling") if "a" in family_class(name).needs else tuple(ATTRIBUTES)
    phases = {"mse_steps": 1} if any(o.key == "mse_steps" for o in family_class(name).options) else {}  # SRGAN
    cfg = config_for(name, size=size, channels=channels).replace(
        model={"width": 8, "class_names": faces_classes(), "domain_names": domains, "options": phases})
    family = build_family(cfg.data, cfg.model, cfg.train, torch.device(DEVICE))
    size = cfg.data.image_size
    image = lambda n: torch.rand(n, channels, size, size) * 2 - 1  # noqa: E731
    available = {"image": image(6), "label": torch.arange(6) % len(faces_classes()),
                 "source": torch.rand(6, source_channels(cfg.data), size, size) * 2 - 1,
                 "a": image(6), "b": image(6), "attributes": (torch.rand(6, len(ATTRIBUTES)) > 0.5).float(),
                 "noisy": torch.randn(6, 1, cfg.data.window) * 0.1, "clean": torch.randn(6, 1, cfg.data.window) * 0.1}
    batch = {name: available[name].to(DEVICE) for name in family.needs}
    for _ in range(2):
        metrics = family.train_step(batch)
    assert set(metrics) == {m.key for m in family.metrics}
    assert all(v.ndim == 0 and torch.isfinite(v) for v in metrics.values())
    fixed = family.fixed_inputs(3, torch.Generator().manual_seed(0), held_out=batch)
    images = family.pictures(family.render(fixed))
    assert images.shape == (len(images), channels, size, size) and len(images) >= 3 and images.abs().max() <= 1
    tiles, columns = family.sample_tiles(fixed, family.render(fixed))
    assert tiles.shape[1:] == images.shape[1:] and len(tiles) % columns == 0
    assert set(family.train_defaults()) == {"batch_size", "lr_g", "lr_d", "beta1", "beta2", "sample_every",
                                            "eval_every"}


# Steps and the bound on (pixel FD after) / (before), from measured runs (ratio in brackets).
LEARNING = {
    "dcgan": (1000, 0.4),  # 0.16; 0.24 with instance noise (still on at step 1,000)
    "wgan": (600, 0.8),  # 0.60
    "wgan-gp": (800, 0.6),  # 0.36 (0.41 at 1,200)
    "cgan": (1200, 0.6),  # 0.40; 0.08 with instance noise
    "ebgan": (400, 0.4),  # 0.05 (0.04 at 1,000)
    "began": (500, 0.5),  # 0.25 (0.22 at 1,000)
    "vae": (300, 0.5),  # 0.17-0.34
}


@pytest.mark.parametrize("name", list(LEARNING))
def test_family_moves_samples_towards_the_data(tmp_path, pixel_fd, name):
    """A short CPU run on faces brings the samples' pooled pixel statistics much closer to the data's
    (Fréchet distance over 7×7 pooled images; the untrained generator is built as the trainer built it)."""
    steps, bound = LEARNING[name]
    config = config_for(name, steps)
    trainer = Trainer(config, out=tmp_path)
    assert trainer.run().step == steps
    real = load_dataset(config.data).images[:1000].permute(0, 2, 3, 1).numpy()
    torch.manual_seed(config.train.seed)
    untrained = build_family(config.data, trainer.config.model, config.train, torch.device("cpu"))
    z = torch.randn(1000, 100, generator=torch.Generator().manual_seed(5))
    labels = torch.arange(1000) % 6
    before = pixel_fd(to_uint8(untrained.generate(z, labels)), real)
    after = pixel_fd(to_uint8(trainer.family.generate(z, labels)), real)
    print(f"{name}: pixel FD {before:.3f} -> {after:.3f} ({after / before:.2f})")
    assert after < bound * before


@pytest.mark.slow
def test_conditional_gan_draws_the_class_it_is_given(tmp_path):
    """A labelled image folder of faces darkened ("dark") and lightened ("light"): after a short run,
    the images drawn for each class have that class's brightness."""
    from PIL import Image

    faces = load_dataset(config_for("cgan").data.__class__(num_images=600)).images[:, 0].numpy()
    dark, light = faces[:300] // 3, 255 - (255 - faces[300:]) // 3
    for name, images in (("dark", dark), ("light", light)):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i, image in enumerate(images):
            Image.fromarray(image).save(tmp_path / "data" / name / f"{i}.png")
    config = config_for("cgan", 1500).replace(data={"dataset": "folder", "root": str(tmp_path / "data"),
                                                   "labels": True, "num_images": None})
    trainer = Trainer(config, out=tmp_path / "runs")
    trainer.run()
    assert trainer.config.model.class_names == ("dark", "light")
    z = torch.randn(400, 100, generator=torch.Generator().manual_seed(1))
    real_brightness = [float(dark.mean()), float(light.mean())]
    for label in (0, 1):
        fake = (trainer.family.generate(z, torch.full((400,), label)) + 1) * 127.5
        print(f"class {label}: generated brightness {fake.mean():.0f}, real {real_brightness[label]:.0f}")
        assert abs(float(fake.mean()) - real_brightness[label]) < 0.25 * abs(real_brightness[1] - real_brightness[0])


def test_options_resolve_with_defaults_and_reject_bad_values():
    wgan = family_class("wgan")
    assert wgan.resolve_options({}) == {"n_critic": 5, "clip": 0.01}
    assert wgan.resolve_options({"n_critic": 3.0}) == {"n_critic": 3, "clip": 0.01}
    with pytest.raises(ConfigError, match="no option gamma"):
        wgan.resolve_options({"gamma": 0.5})
    with pytest.raises(ConfigError, match="must be in"):
        family_class("began").resolve_options({"gamma": 3})
    assert family_class("wgan-gp").train_defaults() == {"batch_size": 64, "lr_g": 1e-4, "lr_d": 1e-4,
                                                         "beta1": 0.0, "beta2": 0.9, "sample_every": 200,
                                                         "eval_every": 1000}
    assert family_class("dcgan").train_defaults() == {"batch_size": 60, "lr_g": 2e-4, "lr_d": 2e-4,
                                                       "beta1": 0.5, "beta2": 0.999, "sample_every": 200,
                                                       "eval_every": 1000}
    assert family_class("segan").train_defaults()["sample_every"] == 50  # slow steps: samples sooner


def test_cpu_bf16_is_for_the_families_that_measured_it(monkeypatch):
    """On a CPU with bf16 arithmetic a family with ``cpu_bf16`` (SEGAN) trains in bf16 autocast unless the run
    says --no-amp; the other families, and CPUs without bf16, train in fp32."""
    from ganstudio.models import base

    def step_dtype(name: str, cpu_has_bf16: bool, **train) -> torch.dtype:
        monkeypatch.setattr(base, "cpu_has_bf16", lambda: cpu_has_bf16)
        cfg = config_for(name, device="cpu", **train)
        family = build_family(cfg.data, cfg.model, cfg.train, torch.device("cpu"))
        with family.autocast():
            return torch.nn.functional.conv1d(torch.ones(1, 1, 4), torch.ones(1, 1, 2)).dtype

    assert step_dtype("segan", True) == torch.bfloat16
    assert step_dtype("segan", True, amp=False) == step_dtype("segan", False) == torch.float32
    assert step_dtype("dcgan", True) == torch.float32


def test_conditional_family_needs_classes(tmp_path):
    config = config_for("cgan")
    with pytest.raises(ConfigError, match="needs a data set with at least two classes"):
        build_family(config.data, config.model, config.train, torch.device("cpu"))
    image_dir = tmp_path / "flat"
    image_dir.mkdir()
    from PIL import Image
    for i in range(4):
        Image.new("L", (28, 28), i * 60).save(image_dir / f"{i}.png")
    folder = config.replace(data={"dataset": "folder", "root": str(image_dir), "num_images": None})
    with pytest.raises(ConfigError, match="needs a data set"):
        Trainer(folder, out=tmp_path / "runs").run()
    assert not (tmp_path / "runs").exists()


def test_conditional_run_draws_one_row_per_class_and_explores_by_class(tmp_path):
    config = config_for("cgan", steps=20, sample_every=20).replace(data={"num_images": 600},
                                                                  train={"batch_size": 30})
    trainer = Trainer(config, out=tmp_path)
    trainer.run()
    assert trainer.config.model.class_names == faces_classes()
    assert RunConfig.load(trainer.run_folder.path / "config.json").model.class_names == faces_classes()
    grid = trainer.run_folder.list_samples()[-1][1]
    from ganstudio.images import read_png
    image = read_png(grid)
    assert image.shape[0] == 6 * (28 + 2) + 2 and image.shape[1] == 8 * (28 + 2) + 2  # 6 classes x 8

    snapshot = GeneratorSnapshot.from_checkpoint(trainer.run_folder.path)
    assert snapshot.class_names == faces_classes() and snapshot.label == 0
    z = np.random.default_rng(0).normal(size=(4, 100)).astype(np.float32)
    first, other = snapshot.render(z), snapshot.with_label(3).render(z)
    assert not np.array_equal(first, other)
    assert np.array_equal(other, to_uint8(trainer.family.generate(torch.from_numpy(z), torch.full((4,), 3))))
    directions = sefa_directions(snapshot.generator, 100, 3)  # z columns only, not the class ones
    assert all(d.vector.shape == (100,) for d in directions)
    with pytest.raises(ValueError):
        snapshot.with_label(6)


@pytest.mark.slow
def test_vae_encodes_real_images_near_their_code(tmp_path):
    """After a short run the decoder's image of encode(x) is much closer to x than images of random z."""
    config = config_for("vae", steps=300)
    trainer = Trainer(config, out=tmp_path)
    trainer.run()
    snapshot = GeneratorSnapshot.from_checkpoint(trainer.run_folder.path)
    real = load_dataset(config.data).images[:64].permute(0, 2, 3, 1).numpy()
    z = snapshot.encode(real)
    assert z.shape == (64, 100)
    err_encoded = np.abs(snapshot.render(z).astype(float) - real).mean()
    err_random = np.abs(snapshot.render(np.random.default_rng(0).normal(size=(64, 100))).astype(float) - real).mean()
    assert err_encoded < 0.6 * err_random, (err_encoded, err_random)
    with pytest.raises(ValueError, match="no encoder"):
        GeneratorSnapshot.of_family(build_family(config.data, RunConfig().model, config.train, "cpu"), 0,
                                    config).encode(real)


def test_default_dcgan_learns_from_the_start(tmp_path):
    """The app's default model (DCGAN width 32 on faces) with the paper's maths lets D win within ~300
    steps and G collapse to one flat grey image (sample std ~0.01, D loss ~0.1); with the default instance
    noise its samples keep the data's contrast (std ~0.4; the data's is 0.34) and D does not saturate."""
    config = RunConfig().replace(data={"num_images": 3000},
                                 train={"max_steps": 300, "device": "cpu", "threads": 1, "eval_every": 0,
                                        "sample_every": 10**6, "checkpoint_every": 10**6})
    trainer = Trainer(config, out=tmp_path)
    trainer.run()
    assert trainer.family.settings["instance_noise"] > 0
    reports = [r for r in trainer.run_folder.read_metrics() if "loss_d" in r][-5:]
    loss_d = sum(r["loss_d"] for r in reports) / len(reports)
    samples = trainer.family.generate(torch.randn(256, 100, generator=torch.Generator().manual_seed(0)))
    print(f"sample std {samples.std():.3f}, D loss {loss_d:.3f}")
    assert samples.std() > 0.2 and loss_d > 0.3


def test_dcgan_without_instance_noise_takes_the_tutorials_step():
    """``instance_noise=0``: one step is exactly the tutorial's (BCE on D(x) -> 1, D(G(z)) -> 0, then
    the non-saturating G loss on the same fakes), weight for weight."""
    import copy

    import torch.nn.functional as F

    config = config_for("dcgan").replace(model={"options": {"instance_noise": 0}})
    torch.manual_seed(0)
    family = build_family(config.data, config.model, config.train, torch.device("cpu"))
    G, D = copy.deepcopy(family.G), copy.deepcopy(family.D)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    for step in range(3):
        torch.manual_seed(step)
        family.train_step({"image": real})
        torch.manual_seed(step)
        fake = G(torch.randn(8, 100))
        opt_d.zero_grad()
        real_logits, fake_logits = D(real), D(fake.detach())
        (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
         + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))).backward()
        opt_d.step()
        opt_g.zero_grad()
        logits = D(fake)
        F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)).backward()
        opt_g.step()
    for mine, theirs in ((family.G, G), (family.D, D)):
        for a, b in zip(mine.state_dict().values(), theirs.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_instance_noise_anneals_to_zero_and_resumes_where_it_was():
    dcgan = family_class("dcgan")
    assert dcgan.resolve_options({}) == {"instance_noise": 0.1, "instance_noise_steps": 2000}
    assert "instance_noise" not in family_class("gan").resolve_options({})  # the MLP GAN keeps the tutorial's maths
    config = config_for("dcgan").replace(model={"width": 8})
    family = build_family(config.data, config.model, config.train, torch.device("cpu"))
    sigmas = {}
    for steps in (0, 500, 1000, 2000, 3000):
        family.steps_done = steps
        sigmas[steps] = family.instance_noise_sigma()
    assert sigmas == pytest.approx({0: 0.1, 500: 0.075, 1000: 0.05, 2000: 0.0, 3000: 0.0})
    family.steps_done = 1234
    resumed = build_family(config.data, config.model, config.train, torch.device("cpu"))
    resumed.load_training_state(family.training_state())
    assert resumed.instance_noise_sigma() == family.instance_noise_sigma()
    resumed.load_training_state({})  # a checkpoint from before the option was trained without noise
    assert resumed.instance_noise_sigma() == 0.0


@pytest.mark.parametrize("family, options", [("srgan", {"mse_steps": 3, "blocks": 2}), ("segan", {})])
def test_the_generator_that_renders_is_a_moving_average_of_g(tmp_path, small_config, family, options):
    """After each step θ_avg ← β'·θ_avg + (1 − β')·θ_G with β' = min(β, (1 + t) / (10 + t)); ``average=0``
    renders G itself."""
    def trained(steps: int, folder: str, **more):
        config = small_config(family, steps=steps).replace(model={"options": {**options, **more}})
        trainer = Trainer(config, out=tmp_path / folder, report_interval_s=0)
        trainer.run()
        return trainer.family

    six, seven = trained(6, "a"), trained(7, "b")
    assert seven.generator is seven.G_average
    beta = 7 / 16  # the update after step t = 6
    averages = 0
    for key, value in seven.G_average.state_dict().items():
        if value.is_floating_point():
            expected = beta * six.G_average.state_dict()[key] + (1 - beta) * seven.G.state_dict()[key]
            torch.testing.assert_close(value, expected)
            averages += not torch.allclose(value, seven.G.state_dict()[key])
    assert averages > 5  # the average is not G

    plain = trained(6, "c", average=0)
    for key, value in plain.G_average.state_dict().items():
        assert torch.equal(value, plain.G.state_dict()[key])
