"""Plain-language warnings: discriminator winning and mode collapse."""

import numpy as np

from ganstudio.metrics.health import HealthMonitor, mean_pairwise_distance
from ganstudio.training.events import SamplesReport, StepReport


def report(step, loss_d):
    return StepReport(step, 0.0, 10_000, {"loss_d": loss_d, "loss_g": 5.0}, 100.0, 1.0, None)


def test_discriminator_winning_is_reported_once_per_episode():
    monitor = HealthMonitor(real_diversity=1.0, winning_steps=300)
    warnings = [w for step in range(0, 1000, 10) for w in monitor.observe_step(report(step, 0.01))]
    assert len(warnings) == 1 and warnings[0].kind == "discriminator_winning" and warnings[0].step == 300
    assert "learning rate" in warnings[0].message
    assert monitor.observe_step(report(1000, 1.2)) == []  # recovered
    again = [w for step in range(1010, 1400, 10) for w in monitor.observe_step(report(step, 0.01))]
    assert len(again) == 1


def test_healthy_losses_give_no_warning():
    monitor = HealthMonitor(real_diversity=1.0)
    assert not [w for step in range(0, 2000, 10) for w in monitor.observe_step(report(step, 1.1))]


def test_mode_collapse_from_alike_samples():
    rng = np.random.default_rng(0)
    varied = rng.integers(0, 256, (64, 28, 28, 1), dtype=np.uint8)
    alike = np.repeat(varied[:1], 64, axis=0)
    monitor = HealthMonitor(real_diversity=mean_pairwise_distance(varied))
    assert monitor.observe_samples(SamplesReport(1000, varied)) == []
    (warning,) = monitor.observe_samples(SamplesReport(1200, alike))
    assert warning.kind == "mode_collapse" and "0%" in warning.message


def test_no_collapse_warning_during_warmup():
    varied = np.random.default_rng(1).integers(0, 256, (16, 8, 8, 3), dtype=np.uint8)
    monitor = HealthMonitor(real_diversity=mean_pairwise_distance(varied), warmup_steps=400)
    assert monitor.observe_samples(SamplesReport(200, np.repeat(varied[:1], 16, axis=0))) == []


def test_mean_pairwise_distance():
    a = np.zeros((2, 1, 1, 1), np.uint8)
    a[1] = 255
    assert abs(mean_pairwise_distance(a) - 1.0) < 1e-9
