"""Generator snapshots (live and from checkpoints) and the attribute models that label images."""

import numpy as np
import pytest
import torch

from ganstudio.config import DataConfig
from ganstudio.data import load_dataset
from ganstudio.latent.attributes import attribute_model_for, train_attribute_model
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import Trainer, TrainerCallback


class Snapshots(TrainerCallback):
    def __init__(self, control, at_step):
        self.control, self.at_step, self.taken = control, at_step, []

    def on_step(self, e):
        if e.step >= self.at_step and not self.taken:
            self.control.request_snapshot()

    def on_snapshot(self, snapshot):
        self.taken.append(snapshot)


def test_live_snapshot_is_a_frozen_copy(tmp_path, small_config):
    control = TrainingControl()
    callback = Snapshots(control, at_step=10)
    trainer = Trainer(small_config(steps=40), out=tmp_path, report_interval_s=0)
    trainer.run(control, [callback])
    (snapshot,) = callback.taken
    assert 10 <= snapshot.step < 40 and snapshot.source.startswith("live training, step")
    assert snapshot.generator is not trainer.family.generator
    z = np.random.default_rng(0).normal(size=(4, 100)).astype(np.float32)
    images = snapshot.render(z)
    assert images.shape == (4, 28, 28, 1) and images.dtype == np.uint8
    final = GeneratorSnapshot.of_family(trainer.family, 40, trainer.config).render(z)
    assert not np.array_equal(images, final)  # training went on; the snapshot did not follow
    assert all(not p.requires_grad for p in snapshot.generator.parameters())


def test_snapshot_requested_while_paused_arrives(tmp_path, small_config):
    control = TrainingControl()

    class PauseThenAsk(TrainerCallback):
        taken = []

        def on_step(self, e):
            if e.step == 5:
                control.pause()
                control.request_snapshot()

        def on_snapshot(self, snapshot):
            self.taken.append(snapshot.step)
            control.resume()

    callback = PauseThenAsk()
    Trainer(small_config(steps=20), out=tmp_path, report_interval_s=0).run(control, [callback])
    assert callback.taken == [5]


def test_checkpoint_snapshot_renders_like_the_trainer(tmp_path, small_config):
    trainer = Trainer(small_config(steps=20), out=tmp_path)
    trainer.run()
    snapshot = GeneratorSnapshot.from_checkpoint(trainer.run_folder.path)
    assert snapshot.step == 20 and snapshot.checkpoint.name == "step_0000020.json"
    z = torch.randn(3, 100)
    expected = trainer.family.generate(z)
    torch.testing.assert_close(snapshot.images(z), expected)


@pytest.mark.slow  # trains an attribute model of its own (400 steps, 3,000 faces), and one for 600 faces unless cached
def test_attribute_model_reads_face_factors_and_is_cached(tmp_path):
    config = DataConfig(num_images=3000)
    data = load_dataset(config)
    model = train_attribute_model(data, steps=400)
    held_out = load_dataset(DataConfig(num_images=500, seed=7))
    predicted = model.predict(held_out.images.float() / 127.5 - 1)
    truth = np.stack([held_out.factors[n] for n in model.names], axis=1)
    r2 = 1 - ((predicted - truth) ** 2).mean(0) / truth.var(0)
    assert model.names[0] == "yaw" and r2[0] > 0.8, dict(zip(model.names, r2))

    small = DataConfig(num_images=600)
    first = attribute_model_for(small)
    again = attribute_model_for(small)  # from the cache: identical weights
    x = held_out.images[:8].float() / 127.5 - 1
    np.testing.assert_allclose(first.predict(x), again.predict(x), rtol=1e-5)


def test_class_labels_give_class_probabilities_and_unlabelled_data_says_why():
    import pytest

    from ganstudio.data.base import ImageSet
    from ganstudio.latent.attributes import attribute_targets
    from ganstudio.latent.directions import DirectionsError

    rng = torch.Generator().manual_seed(0)
    dark = torch.randint(0, 60, (300, 1, 28, 28), generator=rng, dtype=torch.uint8)
    bright = torch.randint(190, 255, (300, 1, 28, 28), generator=rng, dtype=torch.uint8)
    data = ImageSet(images=torch.cat([dark, bright]), labels=torch.tensor([0] * 300 + [1] * 300),
                    class_names=("night", "day"), name="toy")
    model = train_attribute_model(data, steps=150)
    assert model.kind == "classes" and model.names == ("night", "day")
    probabilities = model.predict(torch.cat([dark[:5], bright[:5]]).float() / 127.5 - 1)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)
    assert (probabilities[:5, 0] > 0.9).all() and (probabilities[5:, 1] > 0.9).all()
    with pytest.raises(DirectionsError, match="mark images A and B"):
        attribute_targets(ImageSet(images=dark, name="plain"))
