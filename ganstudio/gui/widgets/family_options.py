"""The settings a family declares for itself (``Family.options``, e.g. BEGAN's γ), as spin boxes."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox, QWidget

from ganstudio.models import family_class
from ganstudio.models.base import FamilyOption


def _box_for(option: FamilyOption) -> QSpinBox | QDoubleSpinBox:
    if option.integer:
        box = QSpinBox()
        box.setRange(int(option.minimum), int(option.maximum))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(4)
        box.setRange(option.minimum, option.maximum)
        box.setSingleStep(10 ** math.floor(math.log10(max(option.default, 1e-3))) / 10)  # a tenth of its decade
    if option.zero_means:
        box.setSpecialValueText(option.zero_means)
    box.setValue(option.default)
    box.setToolTip(option.help)
    return box


class FamilyOptionsBox(QGroupBox):
    """``show_family(name, values)`` lays out that family's options; ``values()`` reads them. Hidden for
    families without options."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Family settings", parent)
        self._form = QFormLayout(self)
        self.boxes: dict[str, QSpinBox | QDoubleSpinBox] = {}

    def show_family(self, name: str, values: dict[str, float] | None = None) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self.boxes = {}
        for option in family_class(name).options:
            box = _box_for(option)
            if values and option.key in values:
                box.setValue(values[option.key])
            self.boxes[option.key] = box
            self._form.addRow(option.label, box)
        self.setTitle(f"{name} settings")
        self.setVisible(bool(self.boxes))

    def values(self) -> dict[str, float]:
        return {key: box.value() for key, box in self.boxes.items()}
