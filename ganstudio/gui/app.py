"""Starting the desktop app."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from ganstudio import __version__
from ganstudio.gui.main_window import MainWindow
from ganstudio.gui.platform_check import xcb_problem


def run_app(argv: list[str] | None = None) -> int:
    problem = xcb_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("ganstudio")
    app.setOrganizationName("ganstudio")
    app.setApplicationVersion(__version__)
    window = MainWindow()
    window.show()
    return app.exec()
