"""ONNX generators from anywhere, run by onnxruntime, for the explorer.

A file written by ``ganstudio export`` brings its sidecar (what each input means, the run's configuration);
one written elsewhere (e.g. ``torch.onnx.export`` of a PyTorch DCGAN) is read from the graph alone: one float
input z of shape (N, D) or (N, D, 1, 1), optionally an int64 class input, and one image output (N, C, H, W)
whose range is read from the last node (Tanh: [-1, 1]; Sigmoid: [0, 1]).

What the explorer's maths needs from a generator besides rendering:

- SeFa reads the layer that takes z (``latent_projection``): the graph's first Gemm, MatMul or ConvTranspose
  fed by z (through reshapes) is mirrored as a torch layer from its weights (and a BatchNormalization right
  after it), so SeFa reads it like any generator's.
- PCA (GANSpace) needs activations: :meth:`OnnxGenerator.activation_layers` lists the graph's non-linearities
  and :meth:`OnnxGenerator.record_activations` runs a session with that tensor added as an output.

Loading parses the protobuf and checks it (``onnx.checker``); nothing is unpickled. There are no gradients,
so projecting a real image into z is not offered for these generators.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganstudio.config import IMAGE_SIZES, DataConfig, ModelConfig, RunConfig
from ganstudio.errors import ConfigError, UserError
from ganstudio.interop.export import SIDECAR_FORMAT, sidecar_path
from ganstudio.snapshot import ClassConditioned, GeneratorSnapshot

EXTERNAL_DATASET = "onnx"  # the data "set" of a generator made elsewhere: none here to learn names from
ACTIVATIONS = ("Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Gelu", "Sigmoid", "Tanh", "HardSigmoid", "Softplus")
RESHAPES = ("Unsqueeze", "Reshape", "Flatten", "Identity", "Cast", "Squeeze")


class OnnxError(UserError):
    """An ONNX file that cannot be opened as a generator, and why."""


def onnx_available() -> bool:
    """Is the onnx extra (onnx and onnxruntime) installed? (Cheap: nothing is imported.)"""
    try:
        return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))
    except (ImportError, ValueError):  # a broken or blocked installation counts as none
        return False


def _onnx_modules():
    try:
        import onnx
        import onnxruntime
    except ImportError:
        raise OnnxError('opening ONNX generators needs the onnx extra: pip install "ganstudio[onnx]"') from None
    return onnx, onnxruntime


class OnnxGenerator(nn.Module):
    """``inputs`` (torch tensors, in the order of ``input_names``) -> outputs (N, ...) float32 in [-1, 1],
    computed by onnxruntime on the CPU. A graph with a fixed batch size is run in chunks of that size."""

    def __init__(self, model, input_names: tuple[str, ...], output_name: str, output_range: tuple[float, float],
                 fixed_batch: int | None):
        super().__init__()
        _, onnxruntime = _onnx_modules()
        self._model = model
        self.input_names, self.output_name = input_names, output_name
        self.output_range, self.fixed_batch = output_range, fixed_batch
        self._sessions: dict[str, object] = {}
        self._session = self._session_for(output_name, onnxruntime)
        mirrored = _first_layer_of(model, input_names[0])
        if mirrored is not None:
            self.first_layer = mirrored[0]
            if mirrored[1] is not None:
                self.first_norm = mirrored[1]

    def _session_for(self, output: str, onnxruntime=None):
        if output not in self._sessions:
            onnxruntime = onnxruntime or _onnx_modules()[1]
            model = self._model
            if output not in {o.name for o in model.graph.output}:
                import onnx

                model = onnx.ModelProto()
                model.CopyFrom(self._model)
                model.graph.output.append(onnx.helper.make_tensor_value_info(output, onnx.TensorProto.FLOAT, None))
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            self._sessions[output] = onnxruntime.InferenceSession(
                model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return self._sessions[output]

    def _run(self, output: str, inputs: tuple[torch.Tensor, ...]) -> np.ndarray:
        session = self._session_for(output)
        arrays = [x.detach().cpu().numpy() for x in inputs]
        n = len(arrays[0])
        step = self.fixed_batch or n
        chunks = []
        for start in range(0, n, step):
            part = [a[start:start + step] for a in arrays]
            short = step - len(part[0])
            if self.fixed_batch and short:  # pad the last chunk of a fixed-batch graph
                part = [np.concatenate([p, np.repeat(p[-1:], short, axis=0)]) for p in part]
            result = session.run([output], dict(zip(self.input_names, part)))[0]
            chunks.append(result[:len(result) - short] if self.fixed_batch and short else result)
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = torch.from_numpy(self._run(self.output_name, inputs))
        low, high = self.output_range
        return out if (low, high) == (-1.0, 1.0) else (out - low) * (2.0 / (high - low)) - 1.0

    # -- what PCA needs (ganstudio.latent.directions asks for these by name) --

    def activation_layers(self) -> list[str]:
        """The graph's non-linearities' output tensors, in graph order (the last one, the image, excluded)."""
        names = [node.output[0] for node in self._model.graph.node if node.op_type in ACTIVATIONS]
        return [name for name in names if name != self.output_name]

    def record_activations(self, layer: str, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """(N, features) float32: tensor ``layer`` for each z (N, latent_dim), flattened."""
        del batch_size  # onnxruntime takes the whole batch
        return torch.from_numpy(self._run(layer, (z,))).flatten(1)


def _constants(graph) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    values[node.output[0]] = numpy_helper.to_array(attribute.t)
    return values


def _first_layer_of(model, z_name: str) -> tuple[nn.Module, nn.Module | None] | None:
    """The first Gemm / MatMul / ConvTranspose that z reaches through reshapes (or as the first part of a
    Concat), as a torch layer with the graph's weights, and a BatchNormalization right after it; or None."""
    from onnx import helper

    graph = model.graph
    constants = _constants(graph)
    tensor = z_name
    for node in graph.node:
        if tensor not in node.input:
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type in RESHAPES or (node.op_type == "Concat" and node.input[0] == tensor
                                        and attributes.get("axis") in (1, -1)):
            tensor = node.output[0]
            continue
        weight = constants.get(node.input[1]) if len(node.input) > 1 else None
        if weight is None or node.input[0] != tensor:
            return None
        weight = torch.from_numpy(np.array(weight, np.float32))
        if node.op_type == "Gemm" and weight.ndim == 2:
            weight = weight if attributes.get("transB", 0) else weight.T
            layer = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        elif node.op_type == "MatMul" and weight.ndim == 2:
            weight = weight.T
            layer = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        elif node.op_type == "ConvTranspose" and weight.ndim == 4 and attributes.get("group", 1) == 1:
            layer = nn.ConvTranspose2d(weight.shape[0], weight.shape[1], tuple(weight.shape[2:]), bias=False)
        else:
            return None
        layer.weight.data.copy_(weight)
        return layer.requires_grad_(False), _norm_after(graph, node.output[0], constants)
    return None


def _norm_after(graph, tensor: str, constants: dict[str, np.ndarray]) -> nn.Module | None:
    from onnx import helper

    for node in graph.node:
        if node.op_type == "BatchNormalization" and node.input[0] == tensor:
            scale, bias, mean, var = (constants.get(name) for name in node.input[1:5])
            if any(v is None for v in (scale, bias, mean, var)):
                return None
            epsilon = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "epsilon"), 1e-5)
            norm = nn.BatchNorm2d(len(scale), eps=float(epsilon)).eval().requires_grad_(False)
            for name, value in (("weight", scale), ("bias", bias), ("running_mean", mean), ("running_var", var)):
                getattr(norm, name).data.copy_(torch.from_numpy(np.array(value, np.float32)))
            return norm
    return None


def _dims(value_info) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim]


def _read_sidecar(path: Path) -> dict | None:
    sidecar = sidecar_path(path)
    if not sidecar.exists():
        return None
    try:
        description = json.loads(sidecar.read_text())
    except (OSError, ValueError) as e:
        raise OnnxError(f"{sidecar.name} cannot be read ({e}); remove it to open {path.name} from its graph alone") \
            from None
    if not isinstance(description, dict) or description.get("format") != SIDECAR_FORMAT:
        raise OnnxError(f"{sidecar.name} is not a ganstudio generator description; remove it to open {path.name} "
                        "from its graph alone")
    return description


def open_onnx_generator(path: str | Path) -> GeneratorSnapshot:
    """A snapshot that renders with the ONNX generator at ``path`` (and its sidecar, when there is one)."""
    path = Path(path)
    onnx, _ = _onnx_modules()
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as e:  # noqa: BLE001  protobuf, checker and file errors all mean "not a usable model"
        raise OnnxError(f"{path.name} is not a valid ONNX model ({type(e).__name__}: {str(e)[:200]})") from None
    description = _read_sidecar(path)
    if description is not None:
        return _described_snapshot(path, model, description)
    return _graph_snapshot(path, model)


def _graph_snapshot(path: Path, model) -> GeneratorSnapshot:
    """A generator from elsewhere: z (and maybe a class) in, one image out."""
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    dims = _dims(inputs[0]) if len(inputs) == 1 else []
    latent = (len(dims) == 2 or dims[2:] == [1, 1]) and bool(dims[1:2] and dims[1])
    if not latent or inputs[0].type.tensor_type.elem_type != _onnx_modules()[0].TensorProto.FLOAT:
        names = ", ".join(f"{i.name} {_dims(i)}" for i in inputs)
        raise OnnxError(f"{path.name} reads {names}; the explorer opens generators that draw from one latent input z "
                        "of shape (N, D) or (N, D, 1, 1) (ganstudio's own exports bring a sidecar for the others)")
    z = inputs[0]
    latent_dim, fixed_batch = dims[1], dims[0]
    output = graph.output[0]
    low_high = {"Tanh": (-1.0, 1.0), "Sigmoid": (0.0, 1.0)}
    last = next((n for n in reversed(graph.node) if output.name in n.output), None)
    output_range = low_high.get(last.op_type if last is not None else "", (-1.0, 1.0))
    generator = _Latent(OnnxGenerator(model, (z.name,), output.name, output_range, fixed_batch), dims)
    image = generator(torch.zeros(1, latent_dim))
    if image.ndim != 4 or image.shape[1] not in (1, 3):
        raise OnnxError(f"{path.name} outputs {tuple(image.shape)}; the explorer shows images (N, 1 or 3, H, W)")
    c, h, w = image.shape[1:]
    data = DataConfig(dataset=EXTERNAL_DATASET, image_size=min(IMAGE_SIZES, key=lambda s: abs(s - h)), channels=c)
    config = RunConfig(data=data, model=ModelConfig(family="onnx", latent_dim=latent_dim, width=None))
    return GeneratorSnapshot(generator, latent_dim, (c, h, w), 0, f"{path.name} (ONNX)", config,
                             differentiable=False)


def _described_snapshot(path: Path, model, description: dict) -> GeneratorSnapshot:
    """A ganstudio export: the sidecar says what the inputs are."""
    try:
        config = RunConfig.from_dict(description["config"])
        input_names = tuple(entry["name"] for entry in description["inputs"])
        output = description["outputs"][0]
        generator = OnnxGenerator(model, input_names, output["name"], tuple(map(float, output["range"])), None)
        latent_dim = int(description["latent_dim"])
        image_shape = tuple(int(v) for v in description["image_shape"])
        class_names = tuple(description.get("class_names", ()))
    except (KeyError, TypeError, ValueError, ConfigError) as e:
        raise OnnxError(f"{sidecar_path(path).name} does not describe this generator ({type(e).__name__}: {e})") \
            from None
    graph_inputs = tuple(i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer})
    if graph_inputs != input_names:
        raise OnnxError(f"{path.name} reads {', '.join(graph_inputs)} but its sidecar says {', '.join(input_names)}")
    source = f"{path.name} (ONNX, {description.get('family', '?')} step {int(description.get('step', 0)):,})"
    label = None
    if class_names:
        generator, label = ClassConditioned(generator, 0), 0
    return GeneratorSnapshot(generator, latent_dim, image_shape, int(description.get("step", 0)), source, config,
                             class_names=class_names, label=label, inputs=input_names,
                             target_size=int(description.get("target_size", 0)),
                             scale=int(description.get("scale", 1)), differentiable=False)


class _Latent(nn.Module):
    """z (N, D) -> images, for a graph that reads z as (N, D, 1, 1) (the PyTorch DCGAN example's)."""

    def __init__(self, generator: OnnxGenerator, dims: list[int | None]):
        super().__init__()
        self.generator, self.rank = generator, len(dims)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z[:, :, None, None] if self.rank == 4 else z)

    def activation_layers(self) -> list[str]:
        return self.generator.activation_layers()

    def record_activations(self, layer: str, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        return self.generator.record_activations(layer, z[:, :, None, None] if self.rank == 4 else z)
