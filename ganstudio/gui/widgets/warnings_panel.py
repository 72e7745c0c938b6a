"""Plain-language warnings about the run: what happened, what it means, what to try."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QWidget

from ganstudio.events import TrainingWarning


class WarningsPanel(QListWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("warningsPanel")
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._icons = {
            "warning": self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
            "error": self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            "info": self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation),
        }

    def add_warning(self, warning: TrainingWarning) -> None:
        self.add_message(f"Step {warning.step:,}: {warning.message}", "warning")

    def add_message(self, text: str, level: str = "info") -> None:
        item = QListWidgetItem(self._icons[level], text)
        item.setToolTip(text)
        self.addItem(item)
        self.scrollToBottom()

    def messages(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
