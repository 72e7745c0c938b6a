"""The run-setup panel: data set (with a preview of real images, or of input/image pairs), family,
sizes, optimiser and device. Rows a family cannot use are hidden: the latent size for a family without
z, the paired input for a family that needs none, the faces' domains for a family without two domains, the
attributes file for a family without attributes; image sizes are the family's. Rows a data set cannot use
are hidden too (the config rejects them): domains are the drawn faces', an attributes file is an image
folder's. The speech data sets show their own settings (window, noises, SNRs); a family that enhances speech
(SEGAN) is offered only those, and choosing it selects its built-in speech.

Its values are a :class:`RunConfig` and start at its defaults. The TensorBoard box is greyed, saying how to
install the extra, while the extra is missing (the config keeps its value for when it is installed).
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ganstudio.config import (
    DOMAIN_FACTORS,
    DRAWN_PAIRS,
    FEATURE_KINDS,
    IMAGE_SIZES,
    PAIR_TRANSFORMS,
    PAIRED_DATASETS,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
)
from ganstudio.data import list_datasets
from ganstudio.data.base import ATTRIBUTES, DOMAIN_A, NOISY, SOURCE
from ganstudio.data.faces import DOMAINS
from ganstudio.data.speech import SPEECH_DATASETS
from ganstudio.errors import ConfigError
from ganstudio.gui.widgets.family_options import FamilyOptionsBox
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.gui.widgets.speech_data_box import SpeechDataBox
from ganstudio.models import family_class, list_families
from ganstudio.models.base import Z
from ganstudio.training.device import describe_device
from ganstudio.training.tensorboard_log import INSTALL_HINT, TB_DIR, tensorboard_available

PAIR_LABELS = {"edges": "its edges (a line drawing)", "grey": "its grey version (colourise)",
               "blur": "a blurred copy (deblur)", "downscale": "a 4× smaller copy (upscale)",
               "relight": "the face lit from the other side (relight)"}
CROPS_START_SIZE = 64  # super-resolution's patches when the form's size is not one of its sizes (16 -> 64 at ×4)
CROPS_ROOT_HINT = "folder of photos, any size"
ROOT_HINTS = {"folder": "folder of images", "pairs": "A/ and B/ folders, or side-by-side images",
              "unpaired": "a folder with A/ and B/", "speech-folder": "folder of WAV files of clean speech",
              "speech-pairs": "a folder with noisy/ and clean/ WAVs",
              "mnist": "torchvision root (optional)", "fashion-mnist": "torchvision root (optional)"}


def detected_devices() -> list[tuple[str, str]]:
    """(value, label) pairs: auto with what it picks, then each device found."""
    devices = [("cpu", describe_device(torch.device("cpu")))]
    if torch.backends.mps.is_available():
        devices.insert(0, ("mps", "Apple MPS"))
    for i in range(torch.cuda.device_count()):
        devices.insert(i, (f"cuda:{i}", f"CUDA: {torch.cuda.get_device_name(i)}"))
    return [("auto", f"Auto — {devices[0][1]}"), *devices]


def data_mismatch(family: str, dataset: str) -> str | None:
    """Why ``family`` cannot train on ``dataset``, in the app's words, where the run would refuse it at once
    (a speech family on images); None otherwise."""
    if family_class(family).takes(NOISY) and dataset not in SPEECH_DATASETS:
        return (f"{family} enhances speech: choose the data set speech (built in), speech-folder (a folder of WAV "
                f"files of clean speech) or speech-pairs (noisy/ and clean/ folders), not {dataset}")
    return None


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    box.setGroupSeparatorShown(True)
    return box


def _double(low: float, high: float, value: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class SetupForm(QWidget):
    """``config()`` reads the form; ``set_config()`` fills it. ``preview_requested(DataConfig)`` asks the
    window to load a few real images; ``show_preview``/``show_preview_error`` display the answer."""

    preview_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        m, t = ModelConfig(), TrainConfig()

        # Data.
        self.dataset = QComboBox()
        for name, description in list_datasets().items():
            self.dataset.addItem(name, name)
            self.dataset.setItemData(self.dataset.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.root = QLineEdit()
        self.browse = QPushButton("…")
        self.browse.setToolTip("Choose a folder")
        self.browse.setFixedWidth(32)
        root_row = QHBoxLayout()
        root_row.addWidget(self.root, 1)
        root_row.addWidget(self.browse)
        self.labels = QCheckBox("sub-folders are classes")
        self.image_size = QComboBox()
        for size in IMAGE_SIZES:
            self.image_size.addItem(f"{size} × {size}", size)
        self.pair_from = QComboBox()
        for name in PAIR_TRANSFORMS:
            self.pair_from.addItem(PAIR_LABELS[name], name)
        self.pair_from.setToolTip("Image-to-image families learn to make each image from an input; the input is "
                                  "made from the image by this transform")
        self.domains = QComboBox()
        for factor in DOMAIN_FACTORS:
            a, b = DOMAINS[factor][1]
            self.domains.addItem(f"{a} | {b}", factor)
        self.domains.setToolTip("CycleGAN and DiscoGAN translate between two unpaired collections: the faces "
                                "split by this factor (A below its middle, B above)")
        self.attributes_file = QLineEdit()
        self.attributes_file.setPlaceholderText("none: sub-folders are the attributes")
        self.attributes_file.setToolTip("StarGAN: a file of binary attributes per image (CelebA's "
                                        "list_attr_celeba.txt layout); without one, tick 'sub-folders are "
                                        "classes' and each sub-folder is a domain")
        self.browse_attributes = QPushButton("…")
        self.browse_attributes.setToolTip("Choose an attributes file")
        self.browse_attributes.setFixedWidth(32)
        attributes_row = self.attributes_row = QHBoxLayout()
        attributes_row.addWidget(self.attributes_file, 1)
        attributes_row.addWidget(self.browse_attributes)
        self.channels = QComboBox()
        self.channels.addItem("grey", 1)
        self.channels.addItem("RGB", 3)
        self.speech = SpeechDataBox()
        self.preview = ImageView("preview of real images")
        self.preview.setObjectName("dataPreview")
        self.preview.setMinimumSize(120, 60)
        self.preview.setMaximumHeight(110)

        # Model.
        self.family = QComboBox()
        for name, cls in list_families().items():
            self.family.addItem(name, name)
            self.family.setItemData(self.family.count() - 1, cls.description, Qt.ItemDataRole.ToolTipRole)
        self.latent_dim = _spin(1, 4096, m.latent_dim)
        self.width = _spin(0, 1024, 0, 8)
        self.width.setSpecialValueText("default")
        self.family_options = FamilyOptionsBox()
        self.width.setToolTip("Base channels of convolutional families. 'default' is the family's own (DCGAN: the "
                              "tutorial's 112 at 28 px, the paper's 64 at 32/64 px); 32 trains fast on a CPU")

        # Training.
        self.epochs = _spin(1, 100_000, t.epochs)
        self.batch_size = _spin(1, 8192, t.batch_size)
        self.lr_g = _double(1e-6, 1.0, t.lr_g, 6, 1e-5)
        self.lr_d = _double(1e-6, 1.0, t.lr_d, 6, 1e-5)
        self.beta1 = _double(0.0, 0.999, t.beta1, 3, 0.05)
        self.beta2 = _double(0.0, 0.9999, t.beta2, 4, 0.001)
        self.sample_every = _spin(1, 1_000_000, t.sample_every, 50)
        self.eval_every = _spin(0, 1_000_000, t.eval_every, 500)
        self.eval_every.setSpecialValueText("off")
        self.eval_every.setToolTip("Steps between quality evaluations (FID, KID, precision/recall) on a background "
                                   "thread; each takes about a second on a CPU")
        self.stop_no_improvement = _spin(0, 1000, t.stop_after_no_improvement)
        self.stop_no_improvement.setSpecialValueText("never")
        self.stop_no_improvement.setSuffix(" evaluations")
        self.stop_no_improvement.setToolTip("Stop the run when the FID has not improved for this many evaluations")
        self.eval_features = QComboBox()
        labels = {"inception": "Inception (ImageNet)", "inception_standard": "standard FID Inception"}
        for kind in FEATURE_KINDS:
            self.eval_features.addItem(labels.get(kind, kind), kind)
        self.eval_features.setToolTip("domain: a small net trained on this data (works offline); Inception "
                                      "(ImageNet): torchvision's weights; standard FID Inception: the TF weights of "
                                      "published FIDs (needs pip install \"ganstudio[fid]\"); both download once")
        self.device = QComboBox()
        for value, label in detected_devices():
            self.device.addItem(label, value)
        self.seed = _spin(0, 2**31 - 1, t.seed)
        self.tensorboard = QCheckBox("TensorBoard logs")
        self.tensorboard.setEnabled(tensorboard_available())
        self.tensorboard.setToolTip(f"Also write TensorBoard event files under the run's {TB_DIR}/ folder "
                                    "(tensorboard --logdir runs/)" if self.tensorboard.isEnabled() else
                                    f"Needs the TensorBoard extra: {INSTALL_HINT}")
        self._tensorboard = t.tensorboard  # the config's wish, kept while the extra is missing

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._forms: dict[str, QFormLayout] = {}
        for title, rows in (
            ("Data", [("Data set", self.dataset), ("Location", root_row), ("", self.labels),
                      ("Attributes file", attributes_row), ("Image size", self.image_size),
                      ("Channels", self.channels), ("Input made from", self.pair_from), ("Domains", self.domains),
                      ("Real images", self.preview)]),
            ("Model", [("Family", self.family), ("Latent size", self.latent_dim), ("Width", self.width)]),
            ("Training", [("Epochs", self.epochs), ("Batch size", self.batch_size), ("G learning rate", self.lr_g),
                          ("D learning rate", self.lr_d), ("Adam β1", self.beta1), ("Adam β2", self.beta2),
                          ("Samples every", self.sample_every), ("Quality every", self.eval_every),
                          ("Quality features", self.eval_features), ("Stop if no better for", self.stop_no_improvement),
                          ("Device", self.device), ("Seed", self.seed), ("", self.tensorboard)]),
        ):
            group = QGroupBox(title)
            form = self._forms[title] = QFormLayout(group)
            for label, field in rows:
                form.addRow(label, field)
            layout.addWidget(group)
            if title == "Data":
                layout.addWidget(self.speech)
            if title == "Model":
                layout.addWidget(self.family_options)
        layout.addStretch(1)

        self._preview_timer = QTimer(self, singleShot=True, interval=300)
        self._preview_timer.timeout.connect(self._request_preview)
        self.browse.clicked.connect(self._choose_folder)
        self.browse_attributes.clicked.connect(self._choose_attributes_file)
        self.dataset.currentIndexChanged.connect(self._on_dataset_changed)
        self.family.activated.connect(self._on_family_chosen)
        for box in (self.dataset, self.image_size, self.channels, self.pair_from, self.domains):
            box.currentIndexChanged.connect(self._preview_timer.start)
        self.root.editingFinished.connect(self._preview_timer.start)
        self.attributes_file.editingFinished.connect(self._preview_timer.start)
        self.labels.toggled.connect(self._preview_timer.start)
        self.speech.changed.connect(self._preview_timer.start)
        self.set_config(RunConfig())

    # -- config <-> form ----------------------------------------------------------------------------

    def config(self) -> RunConfig:
        """The form's values (raises ConfigError for invalid combinations)."""
        problem = data_mismatch(self.family.currentData(), self.dataset.currentData())
        if problem:
            raise ConfigError(problem)
        return RunConfig(
            data=self._data_config(),
            model=ModelConfig(family=self.family.currentData(), latent_dim=self.latent_dim.value(),
                              width=self.width.value() or None, options=self.family_options.values()),
            train=TrainConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(),
                              lr_g=self.lr_g.value(), lr_d=self.lr_d.value(), beta1=self.beta1.value(),
                              beta2=self.beta2.value(), sample_every=self.sample_every.value(),
                              eval_every=self.eval_every.value(), eval_features=self.eval_features.currentData(),
                              stop_after_no_improvement=self.stop_no_improvement.value(),
                              device=self.device.currentData(), seed=self.seed.value(),
                              tensorboard=self.tensorboard.isChecked() if self.tensorboard.isEnabled()
                              else self._tensorboard),
        )

    def set_config(self, config: RunConfig) -> None:
        d, m, t = config.data, config.model, config.train
        for box, value in ((self.dataset, d.dataset), (self.family, m.family)):
            box.setCurrentIndex(max(0, box.findData(value)))
        self._show_family_rows()
        for box, value in ((self.image_size, d.image_size), (self.channels, d.channels),
                           (self.pair_from, d.pair_from or PAIR_TRANSFORMS[0]), (self.domains, d.domains or "smile"),
                           (self.device, t.device),
                           (self.eval_features, t.eval_features)):
            index = box.findData(value)
            if index >= 0:
                box.setCurrentIndex(index)
        self.root.setText(d.root or "")
        self.attributes_file.setText(d.attributes_file or "")
        self.labels.setChecked(d.labels)
        self._tensorboard = t.tensorboard
        self.tensorboard.setChecked(t.tensorboard and self.tensorboard.isEnabled())
        self.speech.set_values(d)
        self.latent_dim.setValue(m.latent_dim)
        self.width.setValue(m.width or 0)
        self.family_options.show_family(self.family.currentData(), m.options)
        for box, value in ((self.epochs, t.epochs), (self.batch_size, t.batch_size), (self.lr_g, t.lr_g),
                           (self.lr_d, t.lr_d), (self.beta1, t.beta1), (self.beta2, t.beta2),
                           (self.sample_every, t.sample_every), (self.eval_every, t.eval_every),
                           (self.stop_no_improvement, t.stop_after_no_improvement), (self.seed, t.seed)):
            box.setValue(value)
        self._on_dataset_changed()

    @Slot()
    def _on_family_chosen(self) -> None:
        """A family picked by the person brings its paper's optimiser settings, how often it shows samples and
        quality, and its own options."""
        name = self.family.currentData()
        if data_mismatch(name, self.dataset.currentData()) or (
                self.dataset.currentData() in SPEECH_DATASETS and family_class(name).default_dataset not in SPEECH_DATASETS):
            self.dataset.setCurrentIndex(self.dataset.findData(family_class(name).default_dataset))  # its own data
        defaults = family_class(name).train_defaults()
        for key, box in (("batch_size", self.batch_size), ("lr_g", self.lr_g), ("lr_d", self.lr_d),
                         ("beta1", self.beta1), ("beta2", self.beta2), ("sample_every", self.sample_every),
                         ("eval_every", self.eval_every)):
            box.setValue(defaults[key])
        self.width.setValue(family_class(name).start_width() or 0)
        self.family_options.show_family(name)
        self._show_family_rows()
        self._preview_timer.start()

    def _show_family_rows(self) -> None:
        """Rows and sizes for the chosen family: latent size only with a z, the paired input only for a
        family that translates, the FID's settings only for one measured by FID, the image sizes it is built
        for (the nearest one kept; super-resolution starts at 64 px patches). A family that trains on crops of
        the images (super-resolution) asks for a patch size."""
        cls = family_class(self.family.currentData())
        self._forms["Model"].setRowVisible(self.latent_dim, cls.takes(Z))
        for row in (self.eval_features, self.stop_no_improvement):  # FID's: speech is measured by its SNR
            self._forms["Training"].setRowVisible(row, not cls.takes(NOISY))
        self._show_data_rows()
        current = self.image_size.currentData()
        self.image_size.blockSignals(True)
        self.image_size.clear()
        for size in cls.image_sizes:
            self.image_size.addItem(f"{size} × {size}", size)
        self.image_size.blockSignals(False)
        nearest = min(cls.image_sizes, key=lambda size: abs(size - (current or 0)))
        if cls.trains_on_crops and current not in cls.image_sizes and CROPS_START_SIZE in cls.image_sizes:
            nearest = CROPS_START_SIZE
        self.image_size.setCurrentIndex(self.image_size.findData(nearest))
        self._offer_datasets()
        self._label_rows()

    def _label_rows(self) -> None:
        """Image rows worded for the data: patches for a family that crops, spectrograms for speech (whose
        sample grids and preview are pictures of spectrograms; a speech family's are grey)."""
        cls = family_class(self.family.currentData())
        speech = self.dataset.currentData() in SPEECH_DATASETS
        form = self._forms["Data"]
        form.labelForField(self.image_size).setText(
            "Patch size" if cls.trains_on_crops else "Spectrogram size" if speech else "Image size")
        self.image_size.setToolTip("The high-resolution patches it learns from, cut from the images at their own "
                                   "size (64: from 16 px at ×4)" if cls.trains_on_crops else
                                   "Size of the spectrogram pictures (sample grids, preview)" if speech else "")
        form.setRowVisible(self.channels, not (speech and cls.takes(NOISY)))
        form.labelForField(self.preview).setText("Real clips" if speech else "Real images")
        self.preview.setToolTip("Spectrograms of a few clips: noisy above clean, low frequencies at the bottom"
                                if speech else "")

    def _offer_datasets(self) -> None:
        """A family that enhances speech is offered the speech data sets only (the others are greyed, with
        the reason as their tooltip)."""
        name = self.family.currentData()
        model = self.dataset.model()
        for index in range(self.dataset.count()):
            problem = data_mismatch(name, self.dataset.itemData(index))
            model.item(index).setEnabled(problem is None)
            self.dataset.setItemData(index, problem or list_datasets()[self.dataset.itemData(index)],
                                     Qt.ItemDataRole.ToolTipRole)

    def _offer_pairings(self, dataset: str) -> None:
        """Offer the inputs this data set can have: pairings another data set draws are hidden."""
        for index in range(self.pair_from.count()):
            owner = DRAWN_PAIRS.get(self.pair_from.itemData(index))
            self.pair_from.view().setRowHidden(index, owner is not None and owner != dataset)
        if self.pair_from.view().isRowHidden(self.pair_from.currentIndex()):
            self.pair_from.setCurrentIndex(0)

    def _needs_pair_transform(self) -> bool:
        """The family needs pairs and the data set has none of its own (nor is two unpaired collections)."""
        return (SOURCE in family_class(self.family.currentData()).needs
                and self.dataset.currentData() not in (*PAIRED_DATASETS, "unpaired"))

    def _pair_from(self) -> str | None:
        """The paired-input transform when the family needs one, else None."""
        return self.pair_from.currentData() if self._needs_pair_transform() else None

    def _needs_domains(self) -> bool:
        """A two-domain family on the drawn faces, which a factor splits into two domains."""
        return DOMAIN_A in family_class(self.family.currentData()).needs and self.dataset.currentData() == "faces"

    def _takes_attributes_file(self) -> bool:
        """A family that learns attributes, on an image folder (which may come with a file of them)."""
        return ATTRIBUTES in family_class(self.family.currentData()).needs and self.dataset.currentData() == "folder"

    def _show_data_rows(self) -> None:
        hint = ROOT_HINTS.get(self.dataset.currentData())
        if self.dataset.currentData() == "folder" and family_class(self.family.currentData()).trains_on_crops:
            hint = CROPS_ROOT_HINT
        self.root.setPlaceholderText(hint or "built in, nothing to choose")
        form = self._forms["Data"]
        form.setRowVisible(self.pair_from, self._needs_pair_transform())
        form.setRowVisible(self.domains, self._needs_domains())
        form.setRowVisible(self.attributes_row, self._takes_attributes_file())

    def _data_config(self, **extra) -> DataConfig:
        """The form's data settings; only those the family and the data set take."""
        attributes = self.attributes_file.text().strip() if self._takes_attributes_file() else ""
        return family_class(self.family.currentData()).data_settings(DataConfig(
            dataset=self.dataset.currentData(), image_size=self.image_size.currentData(),
            channels=self.channels.currentData(), root=self.root.text().strip() or None,
            labels=self.labels.isChecked(), pair_from=self._pair_from(),
            domains=self.domains.currentData() if self._needs_domains() else None,
            attributes_file=attributes or None,
            **(self.speech.values() if self.dataset.currentData() in SPEECH_DATASETS else {}), **extra))

    # -- preview ------------------------------------------------------------------------------------

    @Slot(object)
    def show_preview(self, grid: np.ndarray) -> None:
        self.preview.set_array(grid)

    @Slot(str)
    def show_preview_error(self, message: str) -> None:
        self.preview.set_placeholder(message)

    @Slot()
    def _request_preview(self) -> None:
        data = self._data_config(num_images=16)
        self.preview.set_placeholder("loading…")
        self.preview_requested.emit(data)

    @Slot()
    def _on_dataset_changed(self) -> None:
        name = self.dataset.currentData()
        hint = ROOT_HINTS.get(name)
        for widget in (self.root, self.browse):
            widget.setEnabled(hint is not None)
        self.labels.setEnabled(name == "folder")
        self._offer_pairings(name)
        self.speech.show_for(name)
        self._show_data_rows()
        self._label_rows()
        self._preview_timer.start()

    @Slot()
    def _choose_attributes_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an attributes file", self.attributes_file.text() or
                                              self.root.text(), "Attribute lists (*.txt *.csv);;All files (*)")
        if path:
            self.attributes_file.setText(path)
            self._preview_timer.start()

    @Slot()
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder", self.root.text())
        if folder:
            self.root.setText(folder)
            self._preview_timer.start()
