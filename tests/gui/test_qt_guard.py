"""Guard against PySide6 6.12.0 on Python < 3.12, which corrupts the refcounts of None and True
(void Qt calls, signal emits) and aborts the interpreter."""

import sys
from importlib.metadata import version

import pytest

pytestmark = pytest.mark.gui


def test_installed_pyside6_is_not_the_broken_release():
    if sys.version_info < (3, 12):
        assert not version("PySide6-Essentials").startswith("6.12.0")


def test_void_calls_and_emits_keep_refcounts(qapp):
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        ping = Signal(int)

    received = []
    emitter = Emitter()
    emitter.ping.connect(received.append)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(10_000):
        emitter.setObjectName(f"e{i % 7}")
        emitter.blockSignals(False)
        emitter.ping.emit(i)
    assert len(received) == 10_000
    # Other code may hold a few more references now, never thousands fewer.
    assert sys.getrefcount(None) >= none_before - 100
    assert sys.getrefcount(True) >= true_before - 100
