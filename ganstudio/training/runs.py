"""The run folder: everything one run leaves on disk, readable by the CLI, the GUI and people.

    runs/2026-11-24_131500-dcgan-faces/
        config.json                 the RunConfig
        metrics.jsonl               one JSON object per report, append-only; a resume is a record
                                    {"event": "resume", "step": k, "from_step": k, ...}
        samples/step_0000200.png    sample grids from the run's fixed z
        checkpoints/step_0001000.safetensors + .json
        branches/<time>-after_<k>/  what a resume from step k set aside: the later checkpoints and
                                    grids of the abandoned branch (nothing is deleted)
        tb/                         TensorBoard event files, with the tensorboard extra (tensorboard_log.py)
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from ganstudio.checkpoint import checkpoint_name, latest_checkpoint
from ganstudio.config import RunConfig
from ganstudio.errors import ConfigError, RunError
from ganstudio.fileio import atomic_write_text, remove_stale_temp_files
from ganstudio.models import saved_config

_STEP_FILE = re.compile(r"step_(\d+)\.")
RESUME = "resume"  # the "event" of a resume record


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

    @property
    def branches_dir(self) -> Path:
        return self.path / "branches"

    def sample_path(self, step: int) -> Path:
        return self.samples_dir / f"{checkpoint_name(step)}.png"

    # -- contents ---------------------------------------------------------------------------------

    def write_config(self, config: RunConfig) -> None:
        atomic_write_text(self.config_path, config.to_json())

    def read_config(self) -> RunConfig:
        try:
            return RunConfig.from_dict(saved_config(RunConfig.load(self.config_path).to_dict()))
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
        return [r for r in _read_records(self.sefa_path) if "event" not in r]

    def start_branch(self, from_step: int, **details: Any) -> Path | None:
        """Mark a resume from step ``from_step`` (with what changed, e.g. lr_scale, seed) in the
        histories, and move checkpoints and grids of later steps (an abandoned branch, or what a
        killed session left after its last checkpoint) into ``branches/``; returns that folder."""
        later = [p for _, p in self.list_samples() if _step_of(p) > from_step]
        later += [p for p in self.checkpoints_dir.glob("step_*.*") if _step_of(p) > from_step]
        branch = None
        if later:
            branch = self.branches_dir / f"{time.strftime('%Y-%m-%d_%H%M%S')}-after_{from_step}"
            for path in later:
                target = branch / path.parent.name / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                path.replace(target)
        record = {"event": RESUME, "step": from_step, "from_step": from_step, "time": round(time.time(), 3),
                  **details, **({"set_aside": str(branch.relative_to(self.path))} if branch else {})}
        self.append_metrics(record)
        _append_record(self.sefa_path, record)
        return branch

    def resumes(self) -> list[dict[str, Any]]:
        """The resume records of the current history, oldest first."""
        return [r for r in self.read_metrics() if r.get("event") == RESUME]

    def list_samples(self) -> list[tuple[int, Path]]:
        """(step, grid PNG) pairs in step order."""
        return sorted((_step_of(p), p) for p in self.samples_dir.glob("step_*.png") if _STEP_FILE.match(p.name))

    def list_checkpoints(self) -> list[tuple[int, Path]]:
        """(step, checkpoint JSON) pairs of complete checkpoints in step order."""
        return sorted((_step_of(p), p) for p in self.checkpoints_dir.glob("step_*.json")
                      if _STEP_FILE.match(p.name) and p.with_suffix(".safetensors").is_file())

    def latest_checkpoint(self) -> Path | None:
        return latest_checkpoint(self.checkpoints_dir)

    def fids(self) -> dict[int, float]:
        """{step: FID} of the current history's quality evaluations."""
        return fids_of(self.read_metrics())

    def best_checkpoint(self, fids: dict[int, float] | None = None) -> tuple[int, Path, float] | None:
        """(step, JSON, FID) of the checkpoint with the lowest FID among the run's quality evaluations
        (``fids``, default: read from the history), or None when no checkpoint was evaluated."""
        fids = self.fids() if fids is None else fids
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


def fids_of(records: list[dict[str, Any]]) -> dict[int, float]:
    """{step: FID} of the quality records among ``records``."""
    return {int(r["step"]): v for r in records for k, v in r.items() if k.startswith("fid_")}


def _step_of(path: Path) -> int:
    return int(_STEP_FILE.match(path.name).group(1))


def _append_record(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a run's current history: a resume record from step k drops the records of
    later steps written before it. A torn line (killed writer) is skipped.

    Files written before resume records existed: there a report whose step is not past the previous
    report's marks a resume (quality records, appended late with an earlier step, never do)."""
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as f:
        records = []
        for line in f:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    history: list[dict[str, Any]] = []
    inferring, last_report = True, -1
    for record in records:
        step = record.get("step", 0)
        is_report = "eval_seconds" not in record and "event" not in record
        cut = None
        if record.get("event") == RESUME:
            cut, inferring = record["from_step"], False
        elif inferring and is_report and step <= last_report:
            cut = step - 1
        if cut is not None:
            history = [r for r in history if r.get("step", 0) <= cut]
        history.append(record)
        if is_report:
            last_report = step
    return history
