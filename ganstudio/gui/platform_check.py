"""Before the app opens a window on Linux: name the system packages Qt's xcb platform plugin lacks,
instead of letting Qt abort with "Could not load the Qt platform plugin "xcb"". Imports no Qt module."""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# X11 libraries PySide6 >= 6.5 needs that a minimal Debian/Ubuntu lacks. dlopen names only the first
# missing library, so these are probed one by one to name them all in one go.
XCB_LIBRARIES = ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1")
_MISSING = re.compile(r"([^\s:/]+\.so[.\d]*): cannot open shared object file")


def debian_package(soname: str) -> str:
    """Debian's package name for a library: libxcb-icccm.so.4 -> libxcb-icccm4, libfoo2.so.1 ->
    libfoo2-1; the file's name when it carries no version."""
    match = re.fullmatch(r"(lib[\w.+-]+?)\.so\.(\d+)(?:\.\d+)*", soname)
    if match is None:
        return soname
    name = match[1].lower()
    return f"{name}{'-' if name[-1].isdigit() else ''}{match[2]}"


def uses_xcb(environ: Mapping[str, str], platform: str) -> bool:
    """Whether Qt will pick the xcb plugin: Linux, QT_QPA_PLATFORM unset (outside a Wayland session) or xcb."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM")
    if not chosen:
        return environ.get("XDG_SESSION_TYPE") != "wayland"
    return chosen.partition(":")[0] == "xcb"


def missing_libraries(qt_dir: Path, load: Callable[[str], object]) -> list[str]:
    """The libraries the xcb plugin (and its libQt6XcbQpa) cannot find; [] when they load, or fail
    to load for another reason (then Qt reports it)."""
    try:
        for path in (qt_dir / "lib" / "libQt6XcbQpa.so.6", qt_dir / "plugins" / "platforms" / "libqxcb.so"):
            if path.exists():
                load(str(path))
        return []
    except OSError as e:
        first = _MISSING.search(str(e))
        if first is None:
            return []
    missing = [first[1]]
    for soname in XCB_LIBRARIES:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return list(dict.fromkeys(missing))


def xcb_problem(environ: Mapping[str, str] | None = None, platform: str = sys.platform, qt_dir: Path | None = None,
                load: Callable[[str], object] = ctypes.CDLL) -> str | None:
    """One line for stderr when Qt's xcb plugin would fail for lack of system libraries, else None."""
    if not uses_xcb(os.environ if environ is None else environ, platform):
        return None
    if qt_dir is None:
        import PySide6  # only its location; no Qt library is loaded

        qt_dir = Path(PySide6.__file__).parent / "Qt"
    missing = missing_libraries(qt_dir, load)
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(debian_package(soname) for soname in missing))
    return (f"ganstudio: Qt cannot open a window, missing {', '.join(missing)}. On Debian/Ubuntu: "
            f"sudo apt-get install {packages} (or QT_QPA_PLATFORM=offscreen runs ganstudio headless)")
