"""Checkpoints that cannot execute code: tensors in safetensors, everything else in JSON.

A checkpoint is a pair in ``checkpoints/``::

    step_0001000.safetensors   net/<network>/<name>, optim/<optimiser>/<param index>/<key>,
                               fixed/<input> (the sample grid's fixed generator inputs: z, label, source…)
    step_0001000.json          architecture, step, epoch, run config, RNG state (lists of ints),
                               optimiser hyper-parameters, the family's training state (e.g. BEGAN's
                               k_t), library versions, the tensors file's size

Both are written atomically, tensors first: the JSON is the commit record, so a save killed at any
moment leaves the previous pair loadable. Loading reads and checks the JSON (format, family, shape)
before any tensor is touched, and never unpickles anything. Format 1 (before named inputs) stored
only ``sample_z``; it loads as the family's fixed inputs around that z.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch

import ganstudio
from ganstudio.config import RunConfig
from ganstudio.errors import CheckpointError, ConfigError
from ganstudio.fileio import atomic_write_bytes, atomic_write_text
from ganstudio.models import build_family, saved_config
from ganstudio.models.base import Family, Tensors

FORMAT = "ganstudio-checkpoint"
FORMAT_VERSION = 2
FIXED = "fixed/"  # prefix of the fixed generator inputs' tensors
# Fields of Family.architecture() a checkpoint must match, with words for the error message.
ARCHITECTURE_WORDS = {"family": "family", "image_size": "resolution", "channels": "channels",
                      "latent_dim": "latent size", "width": "width", "classes": "number of classes"}


@dataclass(frozen=True)
class CheckpointInfo:
    """The JSON half of a checkpoint, checked."""

    json_path: Path
    tensors_path: Path
    step: int
    epoch: int
    architecture: dict[str, Any]
    config: dict[str, Any]
    meta: dict[str, Any]


def checkpoint_name(step: int) -> str:
    return f"step_{step:07d}"


def save_checkpoint(folder: Path, family: Family, *, step: int, epoch: int, config: dict[str, Any],
                    fixed_inputs: Tensors) -> Path:
    """Write the pair for ``step`` into ``folder``; returns the JSON path."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {FIXED + name: value.detach().cpu().contiguous() for name, value in fixed_inputs.items()}
    for name, net in family.networks().items():
        for key, value in net.state_dict().items():
            tensors[f"net/{name}/{key}"] = value.detach().cpu().contiguous()
    optimizers = {}
    for name, opt in family.optimizers().items():
        state = opt.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, param_state in state["state"].items():
            for key, value in param_state.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optim/{name}/{index}/{key}"] = value.detach().cpu().contiguous()
                else:
                    scalars.setdefault(str(index), {})[key] = value
        optimizers[name] = {"param_groups": state["param_groups"], "scalar_state": scalars}

    stem = checkpoint_name(step)
    tensors_path = folder / f"{stem}.safetensors"
    blob = safetensors.torch.save(tensors)
    atomic_write_bytes(tensors_path, blob)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tensors_file": tensors_path.name,
        "tensors_bytes": len(blob),
        "step": step,
        "epoch": epoch,
        "architecture": family.architecture(),
        "config": config,
        "optimizers": optimizers,
        "training_state": family.training_state(),
        "rng": {"torch_cpu": torch.get_rng_state().tolist(),
                "torch_cuda": [s.tolist() for s in torch.cuda.get_rng_state_all()]
                if torch.cuda.is_available() and torch.cuda.is_initialized() else []},
        "versions": {"ganstudio": ganstudio.__version__, "torch": torch.__version__,
                     "safetensors": safetensors.__version__, "python": platform.python_version()},
    }
    json_path = folder / f"{stem}.json"
    atomic_write_text(json_path, json.dumps(meta))
    return json_path


def resolve_checkpoint(path: str | Path) -> Path:
    """A run folder, a ``checkpoints/`` folder, a ``.json`` or a ``.safetensors`` -> the JSON path."""
    path = Path(path).expanduser()
    if path.is_dir():
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        latest = latest_checkpoint(folder)
        if latest is None:
            raise CheckpointError(f"there is no complete checkpoint in {folder}")
        return latest
    if path.suffix == ".safetensors":
        path = path.with_suffix(".json")
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    return path


def latest_checkpoint(folder: Path) -> Path | None:
    """The JSON of the highest-step complete pair in ``folder``, or None."""
    for json_path in sorted(folder.glob("step_*.json"), reverse=True):
        if json_path.with_suffix(".safetensors").is_file():
            return json_path
    return None


def read_checkpoint_info(path: str | Path) -> CheckpointInfo:
    """Read and check the JSON half (no tensor is read). Raises CheckpointError with the reason."""
    json_path = resolve_checkpoint(path)
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{json_path} is not a readable ganstudio checkpoint ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{json_path} is not a ganstudio checkpoint")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{json_path} was written by a newer ganstudio; please update ganstudio")
    tensors_path = json_path.with_name(str(meta.get("tensors_file", "")))
    if not tensors_path.is_file() or tensors_path.parent != json_path.parent:
        raise CheckpointError(f"the weights file of {json_path.name} is missing ({tensors_path.name})")
    size = tensors_path.stat().st_size
    if size != meta.get("tensors_bytes"):
        raise CheckpointError(f"{tensors_path} is truncated or damaged ({size} bytes, "
                              f"expected {meta.get('tensors_bytes')})")
    return CheckpointInfo(json_path=json_path, tensors_path=tensors_path, step=int(meta["step"]),
                          epoch=int(meta["epoch"]), architecture=dict(meta["architecture"]),
                          config=saved_config(dict(meta["config"])), meta=meta)


def check_architecture(info: CheckpointInfo, family: Family) -> None:
    """Raise CheckpointError naming every difference between the checkpoint and ``family``."""
    expected = family.architecture()
    diffs = [f"{word} {info.architecture.get(key)} vs {expected.get(key)}"
             for key, word in ARCHITECTURE_WORDS.items() if info.architecture.get(key) != expected.get(key)]
    if diffs:
        raise CheckpointError(f"{info.json_path.name} does not fit this model (checkpoint vs model: "
                              f"{', '.join(diffs)})")


def read_tensors(info: CheckpointInfo, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    try:
        return safetensors.torch.load_file(str(info.tensors_path), device=str(device))
    except Exception as e:  # safetensors raises its own error type for every kind of damage
        raise CheckpointError(f"{info.tensors_path} is not a valid safetensors file ({e})") from None


def load_checkpoint(path: str | Path, family: Family, *, with_optimizers: bool = True,
                    restore_rng: bool = False, networks: Collection[str] | None = None,
                    ) -> tuple[CheckpointInfo, dict[str, torch.Tensor]]:
    """Load weights (of ``networks``, by default all; and optimiser state, RNG state) into ``family``; returns
    (info, the run's fixed generator inputs on the CPU)."""
    info = read_checkpoint_info(path)
    check_architecture(info, family)
    tensors = family.upgrade_tensors(read_tensors(info, family.device))
    try:
        for name, net in family.networks().items():
            if networks is not None and name not in networks:
                continue
            prefix = f"net/{name}/"
            net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        if with_optimizers:
            for name, opt in family.optimizers().items():
                opt.load_state_dict(_optimizer_state(name, info.meta["optimizers"][name], tensors))
                _match_param_layouts(opt)
        if info.meta.get("format_version", 1) < 2:
            fixed = family.fixed_inputs_from_z(tensors["sample_z"].cpu())
        else:
            fixed = {k[len(FIXED):]: v.cpu() for k, v in tensors.items() if k.startswith(FIXED)}
        family.load_training_state(dict(info.meta.get("training_state", {})))
    except (KeyError, RuntimeError, ValueError, TypeError) as e:
        raise CheckpointError(f"{info.tensors_path.name} does not fit this model ({e})") from None
    if restore_rng:
        torch.set_rng_state(torch.tensor(info.meta["rng"]["torch_cpu"], dtype=torch.uint8))
        cuda_states = info.meta["rng"]["torch_cuda"]
        if cuda_states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in cuda_states])
    return info, fixed


def load_generator(path: str | Path, device: torch.device) -> tuple[Family, CheckpointInfo, dict[str, torch.Tensor]]:
    """Rebuild a run's family from a checkpoint (run folder, .json or .safetensors) for inference:
    (family with weights loaded, generator in eval mode; info; the run's fixed generator inputs)."""
    info = read_checkpoint_info(path)
    try:
        config = RunConfig.from_dict(info.config)
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f"{info.json_path.name} holds an invalid run configuration ({e})") from None
    family = build_family(config.data, config.model, config.train, device)
    # Only what rendering reads: a run whose discriminator a later version builds otherwise (a changed
    # default width) still opens.
    _, fixed = load_checkpoint(info.json_path, family, with_optimizers=False,
                               networks=family.rendering_networks(info.step))
    family.generator.eval()
    return family, info, fixed


def _match_param_layouts(opt: torch.optim.Optimizer) -> None:
    """Give per-parameter state the parameter's memory layout (e.g. channels_last): fused and
    foreach optimiser kernels assume they match, and checkpoints store tensors contiguous."""
    for param, state in opt.state.items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.shape == param.shape and value.stride() != param.stride():
                state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def _optimizer_state(name: str, saved: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    prefix = f"optim/{name}/"
    for key, value in tensors.items():
        if key.startswith(prefix):
            index, field = key[len(prefix):].split("/", 1)
            state.setdefault(int(index), {})[field] = value
    for index, scalars in saved["scalar_state"].items():
        state.setdefault(int(index), {}).update(scalars)
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
              for group in saved["param_groups"]]
    return {"state": state, "param_groups": groups}
