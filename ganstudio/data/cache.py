"""A disk cache of decoded or generated data sets, and of small trained helper networks, under the
user's cache folder.

Arrays are stored with ``numpy.savez`` and read with ``allow_pickle=False``, weights as safetensors
with JSON beside them: a cache file can never execute code. ``GANSTUDIO_CACHE`` overrides the folder (tests point it at a temp dir).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch

from ganstudio.fileio import atomic_write_bytes, atomic_write_text


def cache_dir() -> Path:
    """``$GANSTUDIO_CACHE``, else the platform's user cache folder + ``/ganstudio``."""
    if env := os.environ.get("GANSTUDIO_CACHE"):
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "ganstudio"


def cache_key(**parts: object) -> str:
    """A short stable hash of JSON-able parts (sizes, seeds, file lists)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def load_arrays(kind: str, key: str) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when absent or unreadable (a bad cache file is just a miss)."""
    path = cache_dir() / kind / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None


def save_arrays(kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Store arrays atomically; a cache that cannot be written is not an error."""
    folder = cache_dir() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(folder / f"{key}.npz", buffer.getvalue())
    except OSError:
        pass


def load_module(kind: str, key: str, module: torch.nn.Module) -> dict | None:
    """Load a cached module's weights (safetensors) into ``module``; returns its JSON metadata, or
    None when absent, unreadable or of another shape (a miss)."""
    folder = cache_dir() / kind
    try:
        meta = json.loads((folder / f"{key}.json").read_text())
        module.load_state_dict(safetensors.torch.load_file(folder / f"{key}.safetensors"))
        return meta
    except (OSError, ValueError, KeyError, RuntimeError, safetensors.SafetensorError):
        return None


def save_module(kind: str, key: str, module: torch.nn.Module, meta: dict) -> None:
    """Store a module's weights and JSON metadata (weights first: the JSON marks it complete)."""
    folder = cache_dir() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / f"{key}.safetensors", safetensors.torch.save(module.state_dict()))
        atomic_write_text(folder / f"{key}.json", json.dumps(meta))
    except OSError:
        pass
