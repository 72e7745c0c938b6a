"""The Quality tab: FID, KID, precision/recall and coverage curves (translation models: L1, PSNR, SSIM
on held-out pairs and FID; domain translation: the counterfactual error, flipped and kept attributes;
super-resolution: PSNR, SSIM and detail beside bicubic's in the same plots; speech enhancement: the SNR and
segmental SNR gained over the noisy input, and both beside the noisy input's) from the evaluations the engine
runs every N steps, labelled with the feature network they were measured in, and what each costs."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ganstudio.events import QualityReport
from ganstudio.gui.widgets.loss_plot import MetricPlots
from ganstudio.models.base import MetricInfo

EMPTY = ("Sample quality is measured every N steps while training ('Quality every' in the run setup); the "
         "first evaluation waits a few seconds while a feature network trains on the data, once.")


# Keys of the domain-translation records (ganstudio/metrics/domains.py) -> (label, plot).
_RATIO = "L1 to the true counterfactual ÷ leaving the input as it is (< 1 is better)"
_READ = "share of translations read as asked (higher is better)"
_KEPT = "change of what should stay, share of its range (lower is better)"
TRANSLATION_KEYS = {
    "counterfactual_ratio": ("whole image", _RATIO),
    "counterfactual_ratio_changed": ("where the truth changes", _RATIO),
    "counterfactual_l1": ("L1", "L1 to the true counterfactual (lower is better)"),
    "flipped_ab": ("flipped A → B", _READ),
    "flipped_ba": ("flipped B → A", _READ),
    "requested": ("requested attribute", _READ),
    "kept": ("other attributes kept", _READ),
    "requested_by_d": ("requested, by D's classifier", _READ),
    "yaw_change": ("yaw", _KEPT),
    "hair_change": ("hair colour", _KEPT),
}

# Keys of the super-resolution records (ganstudio/metrics/superres.py) -> (label, plot): each beside bicubic's.
_DETAIL = "detail compared with the real images (1 = as real)"
SUPERRES_KEYS = {
    "psnr": ("SR", "PSNR on held-out patches, dB (higher is better); bicubic for reference"),
    "psnr_bicubic": ("bicubic", "PSNR on held-out patches, dB (higher is better); bicubic for reference"),
    "ssim": ("SR", "SSIM on held-out patches (higher is better); bicubic for reference"),
    "ssim_bicubic": ("bicubic", "SSIM on held-out patches (higher is better); bicubic for reference"),
    "sharpness": ("sharpness, SR", _DETAIL),
    "sharpness_bicubic": ("sharpness, bicubic", _DETAIL),
    "high_frequency": ("fine detail, SR", _DETAIL),
    "high_frequency_bicubic": ("fine detail, bicubic", _DETAIL),
}

# Keys of the speech-enhancement records (ganstudio/metrics/speech.py) -> (label, plot).
_GAIN = "improvement over the noisy input, dB (higher is better; 0 = no better than the input)"
_SEGMENTAL = "segmental SNR (30 ms frames), dB (higher is better); the noisy input for reference"
SPEECH_KEYS = {
    "snr_gain": ("SNR", _GAIN),
    "segsnr_gain": ("segmental SNR", _GAIN),
    "snr": ("enhanced", "SNR to the clean speech, dB (higher is better); the noisy input for reference"),
    "snr_noisy": ("noisy input", "SNR to the clean speech, dB (higher is better); the noisy input for reference"),
    "segsnr": ("enhanced", _SEGMENTAL),
    "segsnr_noisy": ("noisy input", _SEGMENTAL),
}
SPEECH_EMPTY = ("How much G cleans the held-out clips is measured every N steps while training ('Quality every' in "
                "the run setup): the SNR to the clean speech, over the whole clip and per 30 ms frame (segmental), "
                "and the gain over the noisy input.")


def quality_metrics(keys: list[str], features: str) -> tuple[MetricInfo, ...]:
    """MetricInfos for the keys of a quality record, grouped into plots; titles name the features."""
    infos = []
    superres, speech = "psnr_bicubic" in keys, "snr_gain" in keys
    if speech:  # the gains first: they say at a glance whether G helps
        return tuple(MetricInfo(key, *SPEECH_KEYS[key]) for key in SPEECH_KEYS if key in keys)
    for key in keys:
        if superres and key in SUPERRES_KEYS:
            infos.append(MetricInfo(key, *SUPERRES_KEYS[key]))
        elif key.startswith("fid_"):
            direction = {"ab": "A → B", "ba": "B → A"}.get(key.rsplit("_", 1)[-1])
            infos.append(MetricInfo(key, f"FID {direction}" if direction else "FID",
                                    f"FID — {features} (lower is better)"))
        elif key.startswith("kid_"):
            infos.append(MetricInfo(key, "KID × 1000", f"KID × 1000 — {features} (lower is better)"))
        elif key.startswith(("precision_", "recall_")):
            infos.append(MetricInfo(key, key.split("_")[0], "precision (fidelity) and recall (coverage)"))
        elif key == "heldout_l1":
            infos.append(MetricInfo(key, "L1", "L1 to the targets of held-out pairs (lower is better)"))
        elif key in ("psnr", "ssim"):
            infos.append(MetricInfo(key, key.upper(), f"{key.upper()} on held-out pairs (higher is better)"))
        elif key in TRANSLATION_KEYS:
            infos.append(MetricInfo(key, *TRANSLATION_KEYS[key]))
        elif key.startswith("coverage_") or key == "class_coverage":
            infos.append(MetricInfo(key, key.removeprefix("coverage_").replace("_", " "),
                                    "coverage of the data's factors or classes (1 = as in the data)"))
    return tuple(infos)


def is_quality_record(record: dict) -> bool:
    return "snr_gain" in record or any(key.startswith("fid_") for key in record)


class QualityPanel(QWidget):
    """``add_report(QualityReport)``; ``set_history(records)`` for an opened run's metrics.jsonl."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel(EMPTY)
        self.label.setWordWrap(True)
        self.plots = MetricPlots(smoothing=0.0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.plots, 1)
        self.evaluations = 0
        self._marks: list[tuple[int, str]] = []  # drawn once the plots exist (with the first evaluation)

    def clear(self, speech: bool = False) -> None:
        """Start over; ``speech``: the run's model enhances speech (the empty tab says what it will show)."""
        self.plots.set_metrics(())
        self.label.setText(SPEECH_EMPTY if speech else EMPTY)
        self.evaluations = 0
        self._marks = []

    def mark_event(self, step: int, label: str) -> None:
        self._marks.append((step, label))
        if self.evaluations:
            self.plots.mark_event(step, label)

    def add_report(self, report: QualityReport) -> None:
        self._add(report.step, report.values, report.features)
        where = "against the clean speech" if "snr_gain" in report.values else f"in {report.features}"
        self.label.setText(f"{self.evaluations} evaluation(s) {where}; the last, at step "
                           f"{report.step:,}, took {report.seconds:.1f} s on a background thread.")

    def set_history(self, records: list[dict], features: str = "the run's features") -> None:
        self.clear()
        for record in filter(is_quality_record, records):
            self._add(int(record["step"]), record, features)
        if self.evaluations:
            self.label.setText(f"{self.evaluations} evaluation(s) recorded in this run.")

    def _add(self, step: int, values: dict, features: str) -> None:
        if not self.evaluations:
            self.plots.set_metrics(quality_metrics(list(values), features))
            for step_, label in self._marks:
                self.plots.mark_event(step_, label)
            self.plots.mark_level(_DETAIL, 1.0, "as real")
            self.plots.mark_level(_GAIN, 0.0, "as the noisy input")
        self.plots.add_report(step, values)
        self.evaluations += 1
