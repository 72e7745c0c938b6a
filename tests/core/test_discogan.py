"""DiscoGAN: its networks and feature matching against the authors' code, its 1-in-3 discriminator
schedule and curriculum, exact resume, and a short run that learns (about 25 s on one core)."""

import pytest
import torch
from torch import nn

from ganstudio.config import RunConfig
from ganstudio.models import build_family, family_class
from ganstudio.models.discogan import feature_matching
from ganstudio.training.engine import Trainer, TrainerCallback


def discogan_config(steps: int, checkpoint_every: int = 10**6, **options) -> RunConfig:
    """Faces at 32 px split into serious (A) and smiling (B); the family's own width (16) and training
    defaults (batch 64), on one CPU thread."""
    return RunConfig().replace(
        data={"num_images": 1500, "image_size": 32, "channels": 3, "domains": "smile"},
        model={"family": "discogan", "width": None, "options": options},
        train={**family_class("discogan").train_defaults(), "max_steps": steps, "epochs": 1000, "device": "cpu",
               "threads": 1, "sample_every": 10**6, "checkpoint_every": checkpoint_every, "eval_every": 0})


def test_networks_and_feature_matching_are_the_authors():
    """At 64 px and width 64 the convolutions are model.py's, layer for layer; the feature-matching loss
    is their get_fm_loss (HingeEmbeddingLoss of the squared difference of batch means against ones)."""
    cfg = discogan_config(1).replace(data={"image_size": 64}, model={"width": 64})
    family = build_family(cfg.data, cfg.model, cfg.train, torch.device("cpu"))
    assert family.train_defaults()["batch_size"] == 64

    def convs(module):
        return [(type(m).__name__, tuple(m.weight.shape), m.stride, m.padding, m.bias is None)
                for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]

    down = [(3, 64), (64, 128), (128, 256), (256, 512)]
    up = [(512, 256), (256, 128), (128, 64), (64, 3)]  # ConvTranspose2d weights are (in, out, k, k)
    assert convs(family.G_ab) == ([("Conv2d", (o, i, 4, 4), (2, 2), (1, 1), True) for i, o in down]
                                  + [("ConvTranspose2d", (i, o, 4, 4), (2, 2), (1, 1), True) for i, o in up])
    assert convs(family.D_a) == ([("Conv2d", (o, i, 4, 4), (2, 2), (1, 1), True) for i, o in down]
                                 + [("Conv2d", (1, 512, 4, 4), (1, 1), (0, 0), True)])
    norms = [m.num_features for m in family.G_ab.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms == [128, 256, 512, 256, 128, 64]  # none after the first conv nor the last
    logits, features = family.D_a(torch.rand(5, 3, 64, 64) * 2 - 1)
    assert logits.shape == (5,) and [f.shape[1:] for f in features] == [(128, 16, 16), (256, 8, 8), (512, 4, 4)]

    real = [torch.randn(6, 4, 3, 3), torch.randn(6, 2, 2, 2)]
    fake = [torch.randn(6, 4, 3, 3), torch.randn(6, 2, 2, 2)]
    hinge = nn.HingeEmbeddingLoss()
    theirs = sum(hinge((r.mean(0) - f.mean(0)) ** 2, torch.ones(r.shape[1:])) for r, f in zip(real, fake))
    assert torch.allclose(feature_matching(real, fake), theirs)


class _StepRecorder(TrainerCallback):
    """Records, for each training step, which optimisers stepped and the curriculum rate it reported."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.steps: list[tuple[tuple[str, ...], float]] = []

    def on_start(self, event) -> None:
        family = self.trainer.family
        stepped: list[str] = []
        for name, opt in family.optimizers().items():
            def counting_step(*args, _name=name, _step=opt.step, **kwargs):
                stepped.append(_name)
                return _step(*args, **kwargs)
            opt.step = counting_step
        train_step = family.train_step

        def recording(batch):
            stepped.clear()
            metrics = train_step(batch)
            self.steps.append((tuple(stepped), float(metrics["recon_rate"])))
            return metrics
        family.train_step = recording


def test_discriminators_learn_one_step_in_three_and_the_curriculum_switches(tmp_path):
    """As the code: iterations 0, 3, 6, ... update both discriminators, the others both generators;
    the reconstruction weight is the starting rate before ``gan_curriculum`` iterations, then the other."""
    trainer = Trainer(discogan_config(12, gan_curriculum=7, starting_rate=0.05, default_rate=0.4), out=tmp_path)
    recorder = _StepRecorder(trainer)
    trainer.run(callbacks=[recorder])
    assert [s[0] for s in recorder.steps] == [("discriminators",) if i % 3 == 0 else ("generators",)
                                              for i in range(12)]
    assert [s[1] for s in recorder.steps] == pytest.approx([0.05] * 7 + [0.4] * 5)
    assert trainer.family.training_state() == {"iteration": 12}

    trainer = Trainer(discogan_config(8, update_interval=4), out=tmp_path)
    recorder = _StepRecorder(trainer)
    trainer.run(callbacks=[recorder])
    assert [s[0] == ("discriminators",) for s in recorder.steps] == [True, False, False, False] * 2
    assert [s[1] for s in recorder.steps] == pytest.approx([0.01] * 8)  # the code's starting rate for its 10,000 iterations


def test_resume_is_exact(tmp_path):
    """20 steps in one go equal 10 steps and a resume to 20, weight for weight (batch-norm statistics
    included): the schedule (10 is not a D step) and the curriculum (switching at 15) carry over."""
    straight = Trainer(discogan_config(20, checkpoint_every=10, gan_curriculum=15), out=tmp_path / "straight")
    straight.run()
    first = Trainer(discogan_config(10, checkpoint_every=10, gan_curriculum=15), out=tmp_path / "resumed")
    first.run()
    resumed = Trainer.resume(first.run_folder.path, train_overrides={"max_steps": 20})
    recorder = _StepRecorder(resumed)
    assert resumed.run(callbacks=[recorder]).step == 20
    assert [s[0] == ("discriminators",) for s in recorder.steps] == [i % 3 == 0 for i in range(10, 20)]
    assert [s[1] for s in recorder.steps] == pytest.approx([0.01] * 5 + [0.5] * 5)
    assert resumed.family.training_state() == straight.family.training_state() == {"iteration": 20}
    for name, network in straight.family.networks().items():
        theirs = resumed.family.networks()[name].state_dict()
        for key, value in network.state_dict().items():
            assert torch.equal(value, theirs[key]), f"{name}.{key}"


def test_a_short_run_learns_to_reconstruct(tmp_path):
    """150 steps (about 15 s) with a 30-step curriculum: the feature-matching losses fall to under a
    third of their first reports, the cycle reconstruction MSE to under 0.8 of it (measured: FM 0.35 ->
    0.07, reconstruction 0.083 -> 0.052, on the [0, 1] scale; copying the domain's mean image scores
    0.029, which longer runs approach)."""
    trainer = Trainer(discogan_config(150, gan_curriculum=30), out=tmp_path, report_interval_s=0)
    assert trainer.run().step == 150
    records = [r for r in trainer.run_folder.read_metrics() if "recon_a" in r]
    assert len(records) >= 100

    def mean(rows, *keys):
        return sum(r[k] for r in rows for k in keys) / (len(rows) * len(keys))

    head, tail = records[:5], records[-5:]
    print(f"reconstruction {mean(head, 'recon_a', 'recon_b'):.3f} -> {mean(tail, 'recon_a', 'recon_b'):.3f}, "
          f"feature matching {mean(head, 'fm_ab', 'fm_ba'):.3f} -> {mean(tail, 'fm_ab', 'fm_ba'):.3f}")
    assert mean(tail, "recon_a", "recon_b") < 0.8 * mean(head, "recon_a", "recon_b")
    assert mean(tail, "fm_ab", "fm_ba") < mean(head, "fm_ab", "fm_ba") / 3
    assert (head[0]["recon_rate"], tail[-1]["recon_rate"]) == pytest.approx((0.01, 0.5))
