"""Run → Resume from best: what to change so that the rollback does not replay the same path."""

from __future__ import annotations

import secrets

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QWidget

from ganstudio.training.engine import BranchChange


class RollbackDialog(QDialog):
    """Asks for a learning-rate scale (default ×0.5) and whether to draw new noise."""

    def __init__(self, step: int, fid: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Resume from best")
        intro = QLabel(f"Roll back to step {step:,} (FID {fid:.3g}) and continue from there. Later checkpoints "
                       "and sample grids are set aside in the run's branches/ folder.\n\nResuming is exact: with "
                       "the same settings the run would walk the same path again, so change something:")
        intro.setWordWrap(True)
        self.lr_scale = QDoubleSpinBox()
        self.lr_scale.setObjectName("lrScale")
        self.lr_scale.setRange(0.01, 10.0)
        self.lr_scale.setSingleStep(0.1)
        self.lr_scale.setDecimals(2)
        self.lr_scale.setPrefix("×")
        self.lr_scale.setValue(0.5)
        self.new_noise = QCheckBox("New noise and data order")
        self.new_noise.setObjectName("newNoise")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Roll back and train")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(intro)
        form.addRow("Learning rates", self.lr_scale)
        form.addRow("", self.new_noise)
        form.addRow(buttons)

    def change(self) -> BranchChange:
        seed = secrets.randbelow(2**31) if self.new_noise.isChecked() else None
        return BranchChange(lr_scale=round(self.lr_scale.value(), 4), seed=seed)
