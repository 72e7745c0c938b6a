"""Playing a clip. In the app through QtMultimedia where it is installed (the optional PySide6-Addons);
PySide6-Essentials lacks it, and then the clip is written to a temporary WAV file and handed to the
system's player (``QDesktopServices.openUrl``).

``play(samples, name)`` is what widgets call; it goes through ``play_wav(path)``, the one function tests
replace. Temporary files live in one private folder, removed when the app exits (a system player may
still be reading the last one until then)."""

from __future__ import annotations

import atexit
import itertools
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from ganstudio.audio import write_wav

try:  # PySide6-Addons: absent from PySide6-Essentials (the .pyi stubs are there, the libraries are not)
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
except ImportError:  # pragma: no cover - depends on the installation
    QAudioOutput = QMediaPlayer = None

_folder: Path | None = None
_numbers = itertools.count(1)
_player: tuple[object, object] | None = None  # (QMediaPlayer, QAudioOutput), kept alive between clips


def plays_in_app() -> bool:
    """Does playback happen in the app (QtMultimedia), rather than in the system's player?"""
    return QMediaPlayer is not None


def how_it_plays() -> str:
    """In words, for tooltips."""
    return ("Play it in the app" if plays_in_app() else
            "Play it in your system's audio player (this app's Qt has no audio output: PySide6-Addons adds it)")


def temporary_wav(samples: np.ndarray, name: str = "clip") -> Path:
    """Write (L,) float samples in [-1, 1] to a fresh 16-bit 16 kHz WAV file in the app's temporary folder."""
    global _folder
    if _folder is None or not _folder.is_dir():
        _folder = Path(tempfile.mkdtemp(prefix="ganstudio-audio-"))
        atexit.register(shutil.rmtree, _folder, True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "clip"
    path = _folder / f"{next(_numbers):03d}_{stem}.wav"
    write_wav(path, np.asarray(samples, np.float32))
    return path


def play_wav(path: Path) -> str:
    """Play a WAV file (a new clip replaces the one playing in the app); what happened, in words."""
    global _player
    if QMediaPlayer is not None:
        if _player is None:
            player, output = QMediaPlayer(), QAudioOutput()
            player.setAudioOutput(output)
            _player = (player, output)
        player = _player[0]
        player.stop()
        player.setSource(QUrl.fromLocalFile(str(path)))
        player.play()
        return f"Playing {path.name}"
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return f"Opened {path.name} in the system's audio player"
    return f"No audio player could open {path} (this app's Qt has no audio output: install PySide6-Addons)"


def play(samples: np.ndarray, name: str = "clip") -> str:
    """Play (L,) float samples at 16 kHz; what happened, in words."""
    return play_wav(temporary_wav(samples, name))
