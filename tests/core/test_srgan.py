"""SRGAN: crops from images of any size, the two training phases and the network interpolation between
them, what a short run learns, and the quality record beside bicubic."""

import numpy as np
import pytest
import torch
from conftest import StopAt
from PIL import Image

from ganstudio.config import DataConfig, RunConfig
from ganstudio.data import load_dataset
from ganstudio.data.photos import CropBatches, Photos
from ganstudio.errors import DataError
from ganstudio.images import to_uint8
from ganstudio.metrics.superres import high_frequency_power, low_resolution_inputs
from ganstudio.metrics.translation import psnr, ssim, translate_all
from ganstudio.models import family_class
from ganstudio.models.srgan import bicubic_upscale, low_resolution
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import Trainer, TrainerCallback


def sr_config(steps: int, image_size: int = 32, mse_steps: int = 10, content: int = 0, **data) -> RunConfig:
    """A small SRGAN run on faces; the pixel content loss unless ``content`` (features: the domain network
    trains first, once per data configuration)."""
    data = {"num_images": 400, "image_size": image_size, "channels": 3, **data}
    options = {"mse_steps": mse_steps, "blocks": 2, "content": content}
    return RunConfig().replace(
        data=data, model={"family": "srgan", "width": 8, "options": options},
        train={**family_class("srgan").train_defaults(), "max_steps": steps, "epochs": 10**4, "device": "cpu",
               "eval_every": 0, "sample_every": 10**6, "checkpoint_every": 10**6})


def random_image(rng, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (3, h, w), dtype=np.uint8)


class Recorder(TrainerCallback):
    def __init__(self):
        self.warnings = []

    def on_warning(self, event):
        self.warnings.append(event)


# -- photos and crops ---------------------------------------------------------------------------------

def test_crops_of_images_of_mixed_sizes_are_the_pixels_at_their_positions():
    rng = np.random.default_rng(0)
    arrays = [random_image(rng, 40, 90), random_image(rng, 75, 33), random_image(rng, 32, 32)]
    photos = Photos.from_arrays(arrays)
    index, top, left = torch.tensor([1, 0, 2, 1]), torch.tensor([43, 8, 0, 0]), torch.tensor([1, 58, 0, 0])
    crops = photos.crops(index, top, left, 32)
    for b in range(4):
        i, y, x = int(index[b]), int(top[b]), int(left[b])
        assert np.array_equal(crops[b].numpy(), arrays[i][:, y:y + 32, x:x + 32])
    assert np.array_equal(photos.centre_crops(32)[0].numpy(), arrays[0][:, 4:36, 29:61])
    assert np.array_equal(photos.subset(torch.tensor([2, 0])).image(1).numpy(), arrays[0])


def test_crop_batches_are_reproducible_by_step_and_cover_every_position():
    """Three photos give batches of 8 (a stream of passes); a step's batch is the same from a fresh loader
    (exact resume); positions vary over the whole image."""
    rng = np.random.default_rng(1)
    photos = Photos.from_arrays([random_image(rng, 48, 64), random_image(rng, 40, 40), random_image(rng, 64, 36)])
    batches = CropBatches(photos, 32, 8, torch.device("cpu"), seed=3)
    again = CropBatches(photos, 32, 8, torch.device("cpu"), seed=3)
    first = batches.batch(5)["image"]
    assert first.shape == (8, 3, 32, 32) and first.dtype == torch.float32 and -1 <= first.min() <= first.max() <= 1
    assert torch.equal(again.batch(5)["image"], first)
    assert not torch.equal(batches.batch(6)["image"], first)
    counts = np.bincount(np.concatenate([batches.indices(s).numpy() for s in range(30)]), minlength=3)
    assert counts.tolist() == [80, 80, 80]  # every pass shows each photo once
    with pytest.raises(ValueError, match="smaller than the 50 px"):
        CropBatches(photos, 50, 8, torch.device("cpu"), seed=0)


def test_a_folder_of_photos_keeps_their_sizes_and_names_the_small_ones(tmp_path):
    rng = np.random.default_rng(2)
    for name, (h, w) in {"wide.png": (70, 130), "tall.jpg": (120, 66), "thumb.png": (20, 20)}.items():
        Image.fromarray(random_image(rng, h, w).transpose(1, 2, 0)).save(tmp_path / name)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    data = load_dataset(DataConfig(dataset="folder", root=str(tmp_path), image_size=64, channels=3, full_size=True))
    assert sorted(map(tuple, data.photos.sizes.tolist())) == [(70, 130), (120, 66)]
    assert data.images.shape == (2, 3, 64, 64)
    assert any("thumb.png" in w and "smaller than the 64 px" in w for w in data.warnings)
    assert any("broken.png" in w for w in data.warnings)
    with pytest.raises(DataError, match="smaller than the 128 px patches"):
        load_dataset(DataConfig(dataset="folder", root=str(tmp_path), image_size=128, channels=3, full_size=True))


def test_srgan_trains_on_patches_of_full_size_photos(tmp_path):
    """A folder of 300×200 photos: the run crops 32 px patches from them (the photos are not shrunk)."""
    rng = np.random.default_rng(3)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(random_image(rng, 200, 300).transpose(1, 2, 0)).save(folder / f"{i}.png")
    config = sr_config(3).replace(data={"dataset": "folder", "root": str(folder), "num_images": None})
    trainer = Trainer(config, out=tmp_path / "runs", report_interval_s=0)
    assert trainer.run().step == 3
    assert trainer.config.data.full_size and trainer.run_folder.read_config().data.full_size
    assert trainer.batches.photos.sizes.tolist() == [[200, 300]] * 3  # one held out


# -- the two phases and network interpolation --------------------------------------------------------

def test_the_gan_phase_starts_after_the_mse_phase_and_alpha_blends_the_two(tmp_path):
    """D rests for mse_steps; the MSE phase's G is kept; α = 0 renders as that G, α = 1 as the final G."""
    config = sr_config(20, mse_steps=10).replace(train={"checkpoint_every": 10})
    trainer = Trainer(config, out=tmp_path, report_interval_s=0)
    trainer.run()
    records = [r for r in trainer.run_folder.read_metrics() if "event" not in r]
    assert all("loss_d" not in r for r in records if r["step"] <= 10)
    assert all("loss_d" in r for r in records if r["step"] > 10)
    checkpoints = dict(trainer.run_folder.list_checkpoints())
    at_change = GeneratorSnapshot.from_checkpoint(checkpoints[10])
    final = GeneratorSnapshot.from_checkpoint(checkpoints[20])
    assert at_change.blend_ends is None  # the GAN phase had not begun
    lr = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    assert np.array_equal(final.with_alpha(0.0).translate(lr), at_change.translate(lr))
    assert np.array_equal(final.with_alpha(1.0).translate(lr), final.translate(lr))
    halfway = final.with_alpha(0.5).translate(lr).astype(int)
    assert not np.array_equal(halfway, final.translate(lr))
    assert final.scale == 4 and final.translate(lr).shape == (2, 32, 32, 3)


def test_resume_across_the_phase_change_is_exact(tmp_path, quick_attribute_model):
    """With the feature content loss: its network is built when the GAN phase begins, and the run says which."""
    config = sr_config(30, mse_steps=15, content=1)
    whole = Trainer(config, out=tmp_path / "a", report_interval_s=0)
    whole.run()
    first = Trainer(config, out=tmp_path / "b", report_interval_s=0)
    control = TrainingControl()
    assert first.run(control, [StopAt(12, control)]).step == 12
    resumed = Trainer.resume(first.run_folder.path, report_interval_s=0)
    warnings = Recorder()
    assert resumed.run(callbacks=[warnings]).step == 30
    assert [(w.step, w.kind) for w in warnings.warnings] == [(15, "features")]
    assert "domain features" in warnings.warnings[0].message  # VGG19's weights are not on this machine
    for name, net in whole.family.networks().items():
        other = resumed.family.networks()[name].state_dict()
        for key, value in net.state_dict().items():
            assert torch.equal(value, other[key]), f"{name}.{key} differs after resume"


# -- what it learns -----------------------------------------------------------------------------------

def test_a_short_mse_phase_beats_bicubic_on_held_out_faces(tmp_path):
    """8 -> 32 px faces, 200 steps of the MSE phase (G of width 16, 2 blocks, lr 1e-3): held-out PSNR
    over 1 dB above bicubic's (measured +1.8 dB) and a higher SSIM."""
    config = sr_config(200, mse_steps=10**6, num_images=1000).replace(
        model={"width": 16, "options": {"mse_steps": 10**6, "blocks": 2}}, train={"lr_g": 1e-3})
    trainer = Trainer(config, out=tmp_path, report_interval_s=0)
    trainer.run()
    snapshot = GeneratorSnapshot.from_checkpoint(trainer.run_folder.path)
    _, held = family_class("srgan").split_data(load_dataset(config.data), 64, 0)
    real = held.images[:100]
    lr = low_resolution_inputs(snapshot, real)
    outputs, bicubic = translate_all(snapshot, to_uint8(lr)), to_uint8(bicubic_upscale(lr, 4))
    hwc = real.permute(0, 2, 3, 1).numpy()
    assert psnr(outputs, hwc).mean() > psnr(bicubic, hwc).mean() + 1.0
    assert ssim(outputs, hwc).mean() > ssim(bicubic, hwc).mean()
    assert high_frequency_power(bicubic) < high_frequency_power(outputs) < high_frequency_power(hwc)


def test_the_r1_penalty_keeps_the_discriminator_smooth_on_real_patches(tmp_path):
    """50 GAN steps: D's squared gradient with respect to real patches (what G follows, through SR) is
    ~35× smaller with the default R1 penalty than with the paper's D (measured 1.6 against 55)."""
    def slope_after_training(options):
        config = sr_config(60, mse_steps=10).replace(model={"options": {"mse_steps": 10, "blocks": 2, **options}})
        trainer = Trainer(config, out=tmp_path / str(options), report_interval_s=0)
        trainer.run()
        hr = (load_dataset(config.data).images[:64].float() / 127.5 - 1).requires_grad_(True)
        slope, = torch.autograd.grad(trainer.family.D.eval()(hr).sum(), hr)
        return slope.square().sum((1, 2, 3)).mean().item()

    assert slope_after_training({}) < 0.1 * slope_after_training({"r1": 0})


def test_low_resolution_and_bicubic_keep_a_flat_image_flat():
    flat = torch.full((1, 3, 64, 64), 0.25)
    assert torch.allclose(low_resolution(flat, 4), torch.full((1, 3, 16, 16), 0.25), atol=1e-6)
    assert torch.allclose(low_resolution(flat, 2, bicubic=False), torch.full((1, 3, 32, 32), 0.25))
    assert torch.allclose(bicubic_upscale(torch.full((1, 3, 16, 16), 0.25), 4), flat, atol=1e-6)
