"""What a z model's code can come from besides sampling: the class of a conditional model, and a real
image projected into z (GAN inversion; the VAE's encoder gives it a head start). Each part shows only
for models that have it."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu, QToolButton, QWidget

from ganstudio.snapshot import GeneratorSnapshot


class ConditioningBar(QWidget):
    """``label_chosen(int)``: draw this class; ``encode_requested(str)``: find the z of this image file, or
    of a random image of the run's data set when the string is empty."""

    label_chosen = Signal(int)
    encode_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.class_label = QLabel("Class:")
        self.classes = QComboBox()
        self.classes.setToolTip("The class the conditional generator draws")
        self.encode = QToolButton()
        self.encode.setText("Open a real image")
        self.encode.setToolTip("Find the z whose image is closest to a real image (or drop an image file on the "
                               "tab) and explore around it: every direction then edits your image")
        self.encode.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.encode)
        self.from_data = menu.addAction("A random image of the training data")
        self.from_file = menu.addAction("An image file…")
        self.encode.setMenu(menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.class_label, self.classes, self.encode):
            layout.addWidget(w)
        self.classes.activated.connect(self.label_chosen)
        self.from_data.triggered.connect(lambda: self.encode_requested.emit(""))
        self.from_file.triggered.connect(self._choose_file)
        self.show_for(None)

    def show_for(self, snapshot: GeneratorSnapshot | None) -> None:
        """Offer what ``snapshot``'s model takes; keeps the chosen class when the classes are the same."""
        names = snapshot.class_names if snapshot is not None else ()
        if names != tuple(self.classes.itemText(i) for i in range(self.classes.count())):
            self.classes.clear()
            self.classes.addItems(list(names))
        if snapshot is not None and snapshot.label is not None:
            self.classes.setCurrentIndex(snapshot.label)
        for w in (self.class_label, self.classes):
            w.setVisible(bool(names))
        self.encode.setVisible(snapshot is not None and not snapshot.translates and not snapshot.enhances
                               and snapshot.differentiable)  # projection follows G's gradients
        self.setVisible(bool(names) or self.encode.isVisibleTo(self))

    @Slot()
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a real image", "",
                                              "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.encode_requested.emit(path)
