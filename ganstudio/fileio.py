"""Crash-safe file writes: a temp file in the same folder, flush + fsync, then ``os.replace``.

A reader sees either the old file or the complete new one, also after SIGKILL or power loss.

Fault injection for tests: with ``GANSTUDIO_TEST_PAUSE_IN_WRITE`` set to a marker path, every
``atomic_write_bytes`` writes half its data to the temp file, then creates the marker (holding the
target's path) and blocks until someone deletes it; a test can SIGKILL the writer right there, inside
the write and before the rename, every time. Unset (always, outside tests), it costs one dict lookup.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".tmp-"
PAUSE_ENV = "GANSTUDIO_TEST_PAUSE_IN_WRITE"


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Open a binary temp file next to ``path``; on clean exit it replaces ``path`` atomically."""
    path = Path(path)
    tmp = path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_writer(path) as f:
        if marker := os.environ.get(PAUSE_ENV):
            half = len(data) // 2
            f.write(data[:half])
            f.flush()
            _pause_in_write(Path(marker), Path(path))
            data = data[half:]
        f.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temp_files(folder: str | Path) -> int:
    """Delete temp files left by a killed writer; returns how many were removed."""
    removed = 0
    for tmp in Path(folder).glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


def _pause_in_write(marker: Path, target: Path) -> None:
    """The test hook (see the module docstring): announce ``target`` in ``marker``, wait for its removal."""
    staging = marker.with_name(marker.name + ".writing")
    staging.write_text(str(target))
    os.replace(staging, marker)  # the test never reads a half-written marker
    while marker.exists():
        time.sleep(0.005)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
