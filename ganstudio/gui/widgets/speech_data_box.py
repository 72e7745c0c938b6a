"""The run setup's speech settings (``DataConfig.window``, ``noises``, ``snrs``, ``noise_root``), shown for
the speech data sets: the window each example has, and — where the app mixes the noise in itself (speech,
speech-folder; speech-pairs come mixed) — which noises at which signal-to-noise ratios."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ganstudio.audio import SAMPLE_RATE
from ganstudio.config import DataConfig
from ganstudio.data.noise import NOISES
from ganstudio.data.speech import SPEECH_DATASETS
from ganstudio.errors import ConfigError

MIXED_DATASETS = ("speech-pairs",)  # come with their noisy versions: nothing to mix in
WINDOWS = (1024, 2048, 4096, 8192, 16384)
FOLDER = "folder"
NOISE_TIPS = {"white": "hiss, equal power at every frequency", "pink": "1/f: rain, a waterfall",
              "brown": "1/f²: a rumble", "hum": "mains hum at 50 or 60 Hz with its harmonics",
              "babble": "a crowd: 8-16 other speakers talking at once", FOLDER: "your own noise recordings (WAV files)"}


def parse_snrs(text: str) -> tuple[float, ...]:
    """"0, 5, 10" -> (0.0, 5.0, 10.0); raises ConfigError naming what is not a number."""
    values = []
    for part in text.replace(";", ",").replace(" ", ",").split(","):
        if part.strip():
            try:
                values.append(float(part.strip().replace("−", "-")))
            except ValueError:
                raise ConfigError(f"the SNRs must be numbers in dB separated by commas, not '{part.strip()}'") from None
    if not values:
        raise ConfigError("speech needs at least one SNR (dB) to mix the noise at, e.g. 0, 5, 10, 15")
    return tuple(values)


class SpeechDataBox(QGroupBox):
    """``show_for(dataset)`` shows the rows that data set takes (hidden for image data); ``values()`` the
    DataConfig fields, ``set_values(data)`` fills them; ``changed`` when one changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Speech", parent)
        d = DataConfig()
        self.window = QComboBox()
        for samples in WINDOWS:
            self.window.addItem(f"{samples:,} samples ({samples / SAMPLE_RATE:.2f} s)", samples)
        self.window.setToolTip("Each example is this many samples at 16 kHz; the SEGAN paper: 16,384 (about 1 s). "
                               "Shorter windows train faster on a CPU; any length is enhanced afterwards")
        self.noise_boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for i, name in enumerate((*NOISES, FOLDER)):
            box = self.noise_boxes[name] = QCheckBox(name)
            box.setToolTip(NOISE_TIPS.get(name, ""))
            grid.addWidget(box, i // 3, i % 3)
        self.noise_root = QLineEdit()
        self.noise_root.setPlaceholderText("a folder of noise WAV files")
        self.browse = QPushButton("…")
        self.browse.setFixedWidth(32)
        self.browse.setToolTip("Choose a folder of noise recordings")
        root_row = self.root_row = QHBoxLayout()
        root_row.addWidget(self.noise_root, 1)
        root_row.addWidget(self.browse)
        self.snrs = QLineEdit()
        self.snrs.setPlaceholderText("e.g. 0, 5, 10, 15")
        self.snrs.setToolTip("Signal-to-noise ratios in dB, separated by commas: each clip is mixed at one of "
                             "them (the noise types take turns). Lower is noisier; the paper: 0, 5, 10, 15")
        self.mixed_note = QLabel("These pairs come mixed: no noise is added.")
        self.mixed_note.setStyleSheet("color: gray")
        self.mixed_note.setWordWrap(True)
        self.form = QFormLayout(self)
        self.form.addRow("Window", self.window)
        self.form.addRow("Noises", grid)
        self._noise_grid = grid
        self.form.addRow("Noise folder", root_row)
        self.form.addRow("SNRs (dB)", self.snrs)
        self.form.addRow("", self.mixed_note)
        self._dataset = "speech"
        self.set_values(d)
        self.window.currentIndexChanged.connect(self.changed)
        for box in self.noise_boxes.values():
            box.toggled.connect(self._on_noise_toggled)
        self.snrs.editingFinished.connect(self.changed)
        self.noise_root.editingFinished.connect(self.changed)
        self.browse.clicked.connect(self._choose_folder)
        self.show_for("faces")

    def show_for(self, dataset: str) -> None:
        """Visible for the speech data sets, with the noise rows where the app mixes the noise in."""
        self._dataset = dataset
        self.setVisible(dataset in SPEECH_DATASETS)
        mixes = dataset not in MIXED_DATASETS
        self.form.setRowVisible(self._noise_grid, mixes)
        self.form.setRowVisible(self.snrs, mixes)
        self.form.setRowVisible(self.root_row, mixes and self.noise_boxes[FOLDER].isChecked())
        self.form.setRowVisible(self.mixed_note, not mixes)

    def values(self) -> dict:
        """DataConfig's speech fields (raises ConfigError for SNRs that are not numbers)."""
        chosen = [name for name in self._order if self.noise_boxes[name].isChecked()]
        noises = tuple(chosen + [name for name, box in self.noise_boxes.items() if box.isChecked() and name not in chosen])
        root = self.noise_root.text().strip() or None
        return {"window": self.window.currentData(), "noises": noises, "snrs": parse_snrs(self.snrs.text()),
                "noise_root": root if FOLDER in noises else None}

    def set_values(self, data: DataConfig) -> None:
        index = self.window.findData(data.window)
        self.window.setCurrentIndex(index if index >= 0 else self.window.findData(DataConfig().window))
        self._order = list(data.noises)  # the order they take turns in: as given, new ones after
        for name, box in self.noise_boxes.items():
            box.blockSignals(True)
            box.setChecked(name in data.noises)
            box.blockSignals(False)
        self.snrs.setText(", ".join(f"{s:g}" for s in data.snrs))
        self.noise_root.setText(data.noise_root or "")
        self.show_for(self._dataset)

    @Slot()
    def _on_noise_toggled(self) -> None:
        self.show_for(self._dataset)
        self.changed.emit()

    @Slot()
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of noise recordings", self.noise_root.text())
        if folder:
            self.noise_root.setText(folder)
            self.changed.emit()
