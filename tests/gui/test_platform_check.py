"""On a minimal Linux the app names the xcb packages to install instead of letting Qt abort."""

from pathlib import Path

import pytest

from ganstudio.gui import app
from ganstudio.gui.platform_check import debian_package, xcb_problem

pytestmark = pytest.mark.gui


def fake_qt(tmp_path: Path) -> Path:
    """A PySide6-like Qt folder with the xcb plugin and its library (empty files)."""
    for path in ("lib/libQt6XcbQpa.so.6", "plugins/platforms/libqxcb.so"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    return tmp_path


def loader_without(*missing: str):
    """A dlopen that fails like glibc's: the plugin names the first missing library; sonames fail alone."""
    loaded = []

    def load(name: str) -> None:
        loaded.append(name)
        if name.endswith(".so") or name.endswith(".so.6"):
            raise OSError(f"{missing[0]}: cannot open shared object file: No such file or directory")
        if name in missing:
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    load.loaded = loaded
    return load


def test_missing_xcb_libraries_name_their_packages_and_offscreen(tmp_path):
    line = xcb_problem({}, "linux", fake_qt(tmp_path), loader_without("libxcb-cursor.so.0", "libxcb-keysyms.so.1"))
    assert "\n" not in line
    assert "sudo apt-get install libxcb-cursor0 libxcb-keysyms1 " in line
    assert "libxcb-icccm4" not in line
    assert "QT_QPA_PLATFORM=offscreen" in line


def test_an_unknown_missing_library_is_named_by_debians_rule(tmp_path):
    line = xcb_problem({"QT_QPA_PLATFORM": "xcb"}, "linux", fake_qt(tmp_path), loader_without("libxkbcommon-x11.so.0"))
    assert "missing libxkbcommon-x11.so.0." in line
    assert "apt-get install libxkbcommon-x11-0 " in line
    assert debian_package("libxcb-render-util.so.0.0.0") == "libxcb-render-util0"
    assert debian_package("weird.so") == "weird.so"


@pytest.mark.parametrize("environ, platform", [({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
                                               ({"QT_QPA_PLATFORM": "wayland"}, "linux"),
                                               ({"XDG_SESSION_TYPE": "wayland"}, "linux"),
                                               ({}, "darwin")])
def test_no_check_where_qt_does_not_use_xcb(tmp_path, environ, platform):
    load = loader_without("libxcb-cursor.so.0")
    assert xcb_problem(environ, platform, fake_qt(tmp_path), load) is None
    assert load.loaded == []


def test_silent_when_the_plugin_loads_or_fails_otherwise(tmp_path):
    qt = fake_qt(tmp_path)
    assert xcb_problem({}, "linux", qt, lambda name: None) is None

    def broken(name: str) -> None:
        raise OSError(f"{name}: undefined symbol: xcb_foo")

    assert xcb_problem({}, "linux", qt, broken) is None  # Qt's own message says more than we could


def test_the_app_exits_with_the_line_instead_of_opening(monkeypatch, capsys):
    monkeypatch.setattr(app, "xcb_problem", lambda: "ganstudio: Qt cannot open a window, missing x.")
    monkeypatch.setattr(app, "MainWindow", lambda: pytest.fail("no window without the platform plugin"))
    assert app.run_app() == 1
    assert capsys.readouterr().err == "ganstudio: Qt cannot open a window, missing x.\n"
