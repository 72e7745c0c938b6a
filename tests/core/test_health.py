"""Plain-language warnings: discriminator winning and mode collapse."""

import numpy as np

from ganstudio.events import QualityReport, SamplesReport, StepReport
from ganstudio.metrics.health import HealthMonitor, mean_pairwise_distance


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


def losses(step, loss_d, loss_g):
    return StepReport(step, 0.0, 10_000, {"loss_d": loss_d, "loss_g": loss_g}, 100.0, 1.0, None)


def test_exploding_losses_warn_of_divergence_once_they_last():
    """The MLP GAN at lr x50 (tests/benchmarks/warning_calibration.py): D's logits run off, the G loss
    reaches 1e5 while the D loss jumps between 0 and 17; a healthy run's BCE losses stay below ~10."""
    monitor = HealthMonitor(real_diversity=1.0, diverging_steps=100)
    healthy = [w for step in range(0, 2000, 10) for w in monitor.observe_step(losses(step, 0.3, 7.0))]
    assert healthy == []
    spike = [w for step in range(2000, 2050, 10) for w in monitor.observe_step(losses(step, 0.5, 40.0))]
    assert spike == [] and monitor.observe_step(losses(2050, 0.5, 2.0)) == []  # a short spike is not divergence
    exploding = [w for step in range(3000, 3300, 10)
                 for w in monitor.observe_step(losses(step, 17.0 if step % 50 == 0 else 0.0, 1e5))]
    assert [(w.step, w.kind) for w in exploding] == [(3100, "diverging")]
    assert "learning rate" in exploding[0].message
    no_bce = HealthMonitor(real_diversity=1.0, d_loss_floor=None)  # e.g. a Wasserstein critic's losses
    assert not [w for step in range(0, 500, 10) for w in no_bce.observe_step(losses(step, 100.0, 100.0))]


def test_a_warning_that_stops_holding_is_recorded_as_cleared():
    monitor = HealthMonitor(real_diversity=1.0, winning_steps=100)
    for step in range(0, 200, 10):
        monitor.observe_step(report(step, 0.01))
    monitor.observe_step(report(200, 0.9))
    assert monitor.cleared == [(200, "discriminator_winning")]


def quality(step, fid, precision=0.7, recall=0.6):
    return QualityReport(step, {"fid_domain": fid, "precision_domain": precision, "recall_domain": recall},
                         "domain features", 0.5)


def test_a_falling_fid_with_a_bump_is_not_an_oscillation():
    """The default DCGAN at lr x50 (warning_calibration.py, 90 s): the FID falls from 13 to 5.6 with one
    rise of 4; the old rule (range > half the best, three turns) called it an oscillation."""
    monitor = HealthMonitor(real_diversity=1.0)
    fids = [13.3, 17.6, 10.1, 9.4, 9.9, 5.6, 6.2, 4.4, 5.8]
    assert [w.kind for i, fid in enumerate(fids) for w in monitor.observe_quality(quality(250 * (i + 1), fid))] == []
    swinging = HealthMonitor(real_diversity=1.0)
    fids = [10, 30, 12, 28, 11, 31]
    assert "oscillation" in [w.kind for i, fid in enumerate(fids)
                             for w in swinging.observe_quality(quality(100 * (i + 1), fid))]


def test_narrow_samples_need_low_factor_coverage_where_it_is_measured():
    """The MLP GAN and the VAE on faces: recall 0.00-0.05 and precision 0.3-0.7 for their first ~1,000
    steps while their samples cover the factors at 0.45-0.6 (warning_calibration.py): no warning. A
    collapse onto three faces covers them at 0.16: a warning. Without coverage, recall decides alone."""
    def values(coverage, recall=0.0, precision=0.5):
        out = {"fid_domain": 20.0, "precision_domain": precision, "recall_domain": recall}
        return out | ({f"coverage_{f}": coverage for f in ("yaw", "smile")} if coverage is not None else {})

    def narrow_warnings(coverage):
        monitor = HealthMonitor(real_diversity=1.0)
        return [w.kind for step in (250, 500, 750)
                for w in monitor.observe_quality(QualityReport(step, values(coverage), "domain", 0.5))]

    assert narrow_warnings(0.55) == []
    assert narrow_warnings(0.16) == ["narrow_samples"]
    assert narrow_warnings(None) == ["narrow_samples"]
    monitor = HealthMonitor(real_diversity=1.0)
    classes = {"fid_domain": 20.0, "precision_domain": 0.9, "recall_domain": 0.0, "class_coverage": 0.2}
    assert [w.kind for step in (1, 2) for w in monitor.observe_quality(QualityReport(step, classes, "domain", 0.5))] == [
        "narrow_samples"]



def translation_report(step, adversarial, l1):
    return StepReport(step, 0.0, 10_000, {"loss_d": 0.5, "loss_g_adv": adversarial, "l1": l1}, 100.0, 1.0, None)


def test_a_generator_that_ignores_its_discriminator_is_named_and_l1_alone_on_purpose_is_not():
    """pix2pix's healthy default: adversarial ~1.5 next to 100·L1 ~20 (7 %). With λ = 1000 the adversarial
    term is 0.7 % of G's loss; flat for 300 steps after the warm-up, that is "G ignores D"."""
    healthy = HealthMonitor(real_diversity=1.0, loss_weights=(1.0, 100.0))
    assert not [w for s in range(0, 2000, 10) for w in healthy.observe_step(translation_report(s, 1.5, 0.2))]
    ignoring = HealthMonitor(real_diversity=1.0, loss_weights=(1.0, 1000.0))
    warnings = [w for s in range(0, 2000, 10) for w in ignoring.observe_step(translation_report(s, 1.5, 0.2))]
    assert [w.kind for w in warnings] == ["generator_ignores_discriminator"] and warnings[0].step == 700
    assert "L1 weight" in warnings[0].message
    learning = HealthMonitor(real_diversity=1.0, loss_weights=(1.0, 1000.0))  # G answers D: the term falls
    assert not [w for s in range(0, 2000, 10)
                for w in learning.observe_step(translation_report(s, 1.5 * 0.999 ** s, 0.2))]
    on_purpose = HealthMonitor(real_diversity=1.0, loss_weights=(0.0, 100.0))
    assert not [w for s in range(0, 2000, 10) for w in on_purpose.observe_step(translation_report(s, 5.0, 0.2))]
