"""Starting the desktop app."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from ganstudio import __version__
from ganstudio.gui.main_window import MainWindow


def run_app(argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("ganstudio")
    app.setOrganizationName("ganstudio")
    app.setApplicationVersion(__version__)
    window = MainWindow()
    window.show()
    return app.exec()
