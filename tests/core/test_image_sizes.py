"""The convolutional families at every size from 16 to 256 px, grey or RGB; quality measured at the ends."""

import pytest
import torch
from conftest import DEVICE

from ganstudio.config import RunConfig
from ganstudio.models import build_family, family_class
from ganstudio.models.conv import CONV_IMAGE_SIZES, level_channels
from ganstudio.training.engine import Trainer, TrainerCallback

CONV_FAMILIES = ("dcgan", "wgan", "wgan-gp", "cgan", "ebgan", "began", "vae")


def test_channels_double_away_from_the_image_up_to_eight_times_the_width():
    assert level_channels(64, 4) == [64, 128, 256, 512]  # the paper's 64 px stack, unchanged
    assert level_channels(64, 5) == [64, 128, 256, 512, 512]  # 128 px: one more level, no wider
    assert level_channels(32, 6) == [32, 64, 128, 256, 256, 256]


@pytest.mark.parametrize("size,channels", [(16, 1), (128, 3), (256, 1)])
@pytest.mark.parametrize("name", CONV_FAMILIES)
def test_conv_families_train_and_render_at_the_new_sizes(name, size, channels):
    assert size in family_class(name).image_sizes and set(family_class(name).image_sizes) == set(CONV_IMAGE_SIZES)
    cfg = RunConfig().replace(data={"image_size": size, "channels": channels},
                              model={"family": name, "width": 4, "class_names": ("a", "b")},
                              train={"device": DEVICE})
    family = build_family(cfg.data, cfg.model, cfg.train, torch.device(DEVICE))
    batch = {"image": (torch.rand(2, channels, size, size) * 2 - 1).to(DEVICE), "label": torch.tensor([0, 1]).to(DEVICE)}
    metrics = family.train_step({k: batch[k] for k in family.needs})
    assert all(torch.isfinite(v) for v in metrics.values())
    out = family.render(family.fixed_inputs(2, torch.Generator().manual_seed(0), {}))
    assert out.shape == (2, channels, size, size) and out.abs().max() <= 1


@pytest.mark.slow
@pytest.mark.parametrize("size,channels", [(16, 1), (128, 3)])
def test_a_run_samples_and_measures_quality_at_the_smallest_and_a_large_size(tmp_path, size, channels):
    config = RunConfig().replace(
        data={"dataset": "faces", "num_images": 200, "image_size": size, "channels": channels},
        model={"family": "dcgan", "width": 4},
        train={"max_steps": 4, "batch_size": 20, "num_samples": 16, "sample_every": 4, "eval_every": 4,
               "eval_samples": 50, "device": DEVICE, "threads": 1})
    records = []

    class Quality(TrainerCallback):
        def on_quality(self, event):
            records.append(event)

    trainer = Trainer(config, out=tmp_path)
    assert trainer.run(callbacks=[Quality()]).reason == "finished"
    assert records and all(v == v for v in records[-1].values.values())
    assert trainer.run_folder.list_samples()
