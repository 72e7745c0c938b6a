"""The desktop app (PySide6 + pyqtgraph). It drives the Qt-free core and holds no training logic."""
