"""The run folder: everything one run leaves on disk, readable by the CLI, the GUI and people.

    runs/2026-11-24_131500-dcgan-faces/
        config.json                 the RunConfig
        metrics.jsonl               one JSON object per report, append-only
        samples/step_0000200.png    sample grids from the run's fixed z
        checkpoints/step_0001000.safetensors + .json
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from ganstudio.config import RunConfig
from ganstudio.errors import ConfigError, RunError
from ganstudio.fileio import atomic_write_text, remove_stale_temp_files
from ganstudio.training.checkpoint import checkpoint_name, latest_checkpoint

_STEP_FILE = re.compile(r"step_(\d+)\.")


class RunFolder:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def create(cls, root: str | Path, config: RunConfig) -> RunFolder:
        """A new, uniquely named folder under ``root`` with ``config.json`` written."""
        stamp = time.strftime("%Y-%m-%d_%H%M%S")
        base = f"{stamp}-{config.model.family}-{config.data.dataset}"
        root = Path(root).expanduser()
        for suffix in ("", *(f"-{i}" for i in range(2, 1000))):
            path = root / f"{base}{suffix}"
            try:
                path.mkdir(parents=True)
                break
            except FileExistsError:
                continue
        run = cls(path)
        run.samples_dir.mkdir()
        run.checkpoints_dir.mkdir()
        run.write_config(config)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        """An existing run; cleans temp files a killed writer left behind."""
        run = cls(Path(path).expanduser())
        if not run.config_path.is_file():
            raise RunError(f"{run.path} is not a ganstudio run folder (no config.json)")
        for folder in (run.path, run.samples_dir, run.checkpoints_dir):
            folder.mkdir(exist_ok=True)
            remove_stale_temp_files(folder)
        return run

    # -- paths -----------------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    def sample_path(self, step: int) -> Path:
        return self.samples_dir / f"{checkpoint_name(step)}.png"

    # -- contents ---------------------------------------------------------------------------------

    def write_config(self, config: RunConfig) -> None:
        atomic_write_text(self.config_path, config.to_json())

    def read_config(self) -> RunConfig:
        try:
            return RunConfig.load(self.config_path)
        except ConfigError as e:
            raise RunError(str(e)) from None

    @property
    def sefa_path(self) -> Path:
        return self.path / "sefa.jsonl"

    def append_metrics(self, record: dict[str, Any]) -> None:
        _append_record(self.metrics_path, record)

    def read_metrics(self) -> list[dict[str, Any]]:
        """The records of the run's current history (see ``_read_records``)."""
        return _read_records(self.metrics_path)

    def append_sefa(self, record: dict[str, Any]) -> None:
        """SeFa's spectrum and direction stability at a step (how directions emerge in training)."""
        _append_record(self.sefa_path, record)

    def read_sefa(self) -> list[dict[str, Any]]:
        return _read_records(self.sefa_path)


    def list_samples(self) -> list[tuple[int, Path]]:
        """(step, grid PNG) pairs in step order."""
        return sorted((int(m.group(1)), p) for p in self.samples_dir.glob("step_*.png")
                      if (m := _STEP_FILE.match(p.name)))

    def list_checkpoints(self) -> list[tuple[int, Path]]:
        """(step, checkpoint JSON) pairs of complete checkpoints in step order."""
        return sorted((int(m.group(1)), p) for p in self.checkpoints_dir.glob("step_*.json")
                      if (m := _STEP_FILE.match(p.name)) and p.with_suffix(".safetensors").is_file())

    def latest_checkpoint(self) -> Path | None:
        return latest_checkpoint(self.checkpoints_dir)

    def best_checkpoint(self) -> tuple[int, Path, float] | None:
        """(step, JSON, FID) of the checkpoint with the lowest FID among the run's quality evaluations
        (those taken at a checkpoint's step), or None when no checkpoint was evaluated."""
        fids = {int(r["step"]): v for r in self.read_metrics() for k, v in r.items() if k.startswith("fid_")}
        evaluated = [(fids[step], step, path) for step, path in self.list_checkpoints() if step in fids]
        if not evaluated:
            return None
        fid, step, path = min(evaluated)
        return step, path, fid

    def prune_checkpoints(self, keep: int, protect: int | None = None) -> None:
        """Delete all but the newest ``keep`` checkpoints and the one at step ``protect`` (the best so
        far), JSON first: the pair stops counting."""
        for step, json_path in self.list_checkpoints()[:-keep]:
            if step == protect:
                continue
            json_path.unlink(missing_ok=True)
            json_path.with_suffix(".safetensors").unlink(missing_ok=True)


def _append_record(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a run's current history: after a resume from step k, records past k
    written before the resume are dropped. A torn last line (killed writer) is skipped."""
    records: list[dict[str, Any]] = []
    if not path.is_file():
        return records
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            step = record.get("step", 0)
            while records and records[-1].get("step", 0) >= step:
                records.pop()
            records.append(record)
    return records
