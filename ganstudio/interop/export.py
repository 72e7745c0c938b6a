"""Write a run's generator as ONNX (``torch.onnx.export``, the torch.export-based exporter) or TorchScript
(``torch.jit.trace``), with a JSON sidecar next to it (``G.onnx`` -> ``G.onnx.json``)::

    {"format": "ganstudio-generator", "family": "dcgan", "step": 5000,
     "inputs": [{"name": "z", "shape": ["batch", 100], "dtype": "float32", "meaning": "..."}],
     "outputs": [{"name": "image", "shape": ["batch", 1, 28, 28], "range": [-1, 1], ...}],
     "class_names": [...], "domain_names": [...], "scale": 1, "config": {the run's configuration}}

The inputs are the family's ``generator_inputs`` in order, with a free batch dimension; the example inputs
are the run's own fixed ones (held-out images for the translation families).
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import ganstudio
from ganstudio.checkpoint import load_generator
from ganstudio.data.base import LABEL, NOISY, SOURCE
from ganstudio.errors import UserError
from ganstudio.fileio import atomic_write_bytes, atomic_write_text
from ganstudio.models.base import TARGET, Family, Z
from ganstudio.models.noise import LatentNoise, NoiseDropout

FORMATS = {".onnx": "onnx", ".pt": "torchscript"}
SIDECAR_FORMAT = "ganstudio-generator"
OPSET = 18  # the oldest opset torch.onnx's exporter writes; onnxruntime >= 1.14 runs it
INPUT_MEANINGS = {
    Z: "latent code, float32, drawn from N(0, I)",
    LABEL: "class index, int64 (class_names)",
    SOURCE: "source image, float32 (N, C, H, W) in [-1, 1]",
    TARGET: "target domain code, float32 (N, K): 1 = into B / has the attribute (domain_names)",
    NOISY: "noisy speech, float32 (N, 1, samples) in [-1, 1] at 16 kHz",
}


@dataclass(frozen=True)
class Exported:
    path: Path
    sidecar: Path
    max_difference: float | None  # |onnxruntime − torch| on the example inputs; None when not compared
    stochastic: bool  # the generator draws noise inside (pix2pix's dropout, SEGAN's z): outputs vary per run


def sidecar_path(path: str | Path) -> Path:
    """``G.onnx`` -> ``G.onnx.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def export_generator(run: str | Path, out: str | Path, fmt: str | None = None) -> Exported:
    """Write the generator of ``run`` (a run folder: its latest checkpoint; or a checkpoint file) to ``out``
    in ``fmt`` (default: from the suffix, .onnx or .pt), and its sidecar. ONNX exports of deterministic
    generators are run once with onnxruntime (when installed) on the example inputs and compared with torch."""
    out = Path(out)
    fmt = fmt or FORMATS.get(out.suffix.lower())
    if fmt not in FORMATS.values():
        raise UserError(f"cannot tell the format of '{out.name}': use --format onnx or torchscript (or a .onnx or "
                        ".pt file name)")
    family, info, fixed = load_generator(run, torch.device("cpu"))
    module = family.portable_generator.eval()
    examples = tuple(fixed[name][:2].contiguous() for name in family.generator_inputs)
    output_name = "enhanced" if family.takes(NOISY) else "image"
    stochastic = any(isinstance(m, (NoiseDropout, LatentNoise)) for m in module.modules())
    with torch.no_grad():
        expected = module(*examples)
    difference = None
    if fmt == "onnx":
        atomic_write_bytes(out, _onnx_bytes(module, examples, family, output_name))
        if not stochastic:
            difference = _onnx_difference(out, family.generator_inputs, examples, expected)
    else:
        atomic_write_bytes(out, _torchscript_bytes(module, examples, family))
    sidecar = sidecar_path(out)
    description = _description(family, examples, expected, output_name, fmt, info.step, info.config, stochastic)
    atomic_write_text(sidecar, json.dumps(description, indent=2))
    return Exported(out, sidecar, difference, stochastic)


def _onnx_bytes(module: nn.Module, examples: tuple[torch.Tensor, ...], family: Family, output_name: str) -> bytes:
    batch = torch.export.Dim("batch")
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(module, examples, input_names=list(family.generator_inputs),
                                        output_names=[output_name], opset_version=OPSET, dynamo=True,
                                        dynamic_shapes=tuple({0: batch} for _ in examples))
        buffer = io.BytesIO()
        program.save(buffer)
    except ImportError as e:
        raise UserError(f'ONNX export needs the onnx extra: pip install "ganstudio[onnx]" ({e})') from None
    except Exception as e:  # noqa: BLE001  torch.export's many failure types: say which family and why
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"the {family.name} generator cannot be written as ONNX ({first_line}); try "
                        "--format torchscript") from None
    return buffer.getvalue()


def _onnx_difference(path: Path, names: tuple[str, ...], examples: tuple[torch.Tensor, ...],
                     expected: torch.Tensor) -> float | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {name: x.numpy() for name, x in zip(names, examples)})
    return float((torch.from_numpy(got) - expected).abs().max())


def _torchscript_bytes(module: nn.Module, examples: tuple[torch.Tensor, ...], family: Family) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in favour of torch.export; tools still read it
        try:
            traced = torch.jit.trace(module, examples, check_trace=False)
        except Exception as e:  # noqa: BLE001
            raise UserError(f"the {family.name} generator cannot be traced to TorchScript ({e})") from None
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    return buffer.getvalue()


def _description(family: Family, examples: tuple[torch.Tensor, ...], output: torch.Tensor, output_name: str,
                 fmt: str, step: int, config: dict, stochastic: bool) -> dict:
    """The sidecar: enough for a tool that knows nothing of ganstudio to feed the generator and read it."""
    inputs = [{"name": name, "shape": ["batch", *x.shape[1:]], "dtype": str(x.dtype).removeprefix("torch."),
               "meaning": INPUT_MEANINGS[name]} for name, x in zip(family.generator_inputs, examples)]
    if output_name == "image":
        meaning = "images, float32 (N, C, H, W) in [-1, 1]: uint8 = round((x + 1) * 127.5)"
    else:
        meaning = "enhanced speech, float32 (N, 1, samples) in [-1, 1] at 16 kHz"
    return {
        "format": SIDECAR_FORMAT, "version": 1, "file_format": fmt, "family": family.name, "step": step,
        "inputs": inputs,
        "outputs": [{"name": output_name, "shape": ["batch", *output.shape[1:]], "dtype": "float32",
                     "range": [-1, 1], "meaning": meaning}],
        "latent_dim": family.latent_dim if family.takes(Z) else 0,
        "image_shape": list(family.image_shape),
        "class_names": list(family.class_names) if family.takes(LABEL) else [],
        "domain_names": list(family.model_cfg.domain_names) if family.takes(TARGET) else [],
        "target_size": family.target_size if family.takes(TARGET) else 0,  # K of the target input (N, K)
        "scale": family.output_scale,
        "stochastic": stochastic,
        "config": config,
        "versions": {"ganstudio": ganstudio.__version__, "torch": torch.__version__},
    }
