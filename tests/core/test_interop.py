"""Generators that travel: `ganstudio export` to ONNX and TorchScript, and ONNX generators (ours with their
sidecar, or a DCGAN written by plain `torch.onnx.export`) opened for the explorer through onnxruntime."""

import json
import sys

import numpy as np
import pytest
import torch
from torch import nn

from ganstudio.cli import main
from ganstudio.latent.directions import DirectionsError, sefa_directions
from ganstudio.latent.discover import discover_directions
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from ganstudio.interop.onnx_generator import OnnxError, open_onnx_generator


def _run(tmp_path_factory, family: str):
    from conftest import make_small_config

    trainer = Trainer(make_small_config(family, steps=2), out=tmp_path_factory.mktemp(family))
    trainer.run()
    return trainer.run_folder.path


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    return _run(tmp_path_factory, "dcgan")


def _z(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def _cos(a, b) -> list[float]:
    return [abs(float(x.vector @ y.vector)) for x, y in zip(a, b)]


def test_export_then_open_gives_the_runs_images_and_directions(dcgan_run, tmp_path, capsys):
    out = tmp_path / "G.onnx"
    assert main(["export", str(dcgan_run), "-o", str(out)]) == 0
    assert "matches torch's" in capsys.readouterr().out
    sidecar = json.loads((tmp_path / "G.onnx.json").read_text())
    assert sidecar["family"] == "dcgan" and sidecar["inputs"][0]["name"] == "z"
    assert sidecar["inputs"][0]["shape"] == ["batch", 100] and sidecar["outputs"][0]["range"] == [-1, 1]

    ours, theirs = GeneratorSnapshot.from_checkpoint(dcgan_run), open_onnx_generator(out)
    z = _z(5, 100)  # not the export's batch of 2: the batch dimension is free
    assert float((theirs.images(z) - ours.images(z)).abs().max()) <= 1e-4
    assert theirs.config == ours.config and not theirs.differentiable
    assert min(_cos(discover_directions(theirs, "sefa", 4), discover_directions(ours, "sefa", 4))) > 0.999
    pca = [discover_directions(s, "pca", 2, n_samples=600) for s in (theirs, ours)]
    assert min(_cos(*pca)) > 0.99


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_export_runs_without_ganstudio(dcgan_run, tmp_path):
    out = tmp_path / "G.pt"
    assert main(["export", str(dcgan_run), "-o", str(out)]) == 0
    assert json.loads((tmp_path / "G.pt.json").read_text())["file_format"] == "torchscript"
    loaded = torch.jit.load(str(out))  # our own file, just written
    z = torch.from_numpy(_z(3, 100))
    expected = GeneratorSnapshot.from_checkpoint(dcgan_run).images(z)
    with torch.no_grad():
        assert float((loaded(z) - expected).abs().max()) <= 1e-5


def test_a_conditional_generator_keeps_its_classes(tmp_path_factory, tmp_path):
    run = _run(tmp_path_factory, "cgan")
    assert main(["export", str(run), "-o", str(tmp_path / "G.onnx")]) == 0
    ours, theirs = GeneratorSnapshot.from_checkpoint(run), open_onnx_generator(tmp_path / "G.onnx")
    assert theirs.class_names == ours.class_names and len(ours.class_names) >= 2
    z = _z(4, ours.latent_dim)
    for label in (0, 1):
        difference = theirs.with_label(label).images(z) - ours.with_label(label).images(z)
        assert float(difference.abs().max()) <= 1e-4


def test_a_two_way_translator_exports_both_directions(tmp_path_factory, tmp_path):
    run = _run(tmp_path_factory, "cyclegan")
    assert main(["export", str(run), "-o", str(tmp_path / "G.onnx")]) == 0
    ours, theirs = GeneratorSnapshot.from_checkpoint(run), open_onnx_generator(tmp_path / "G.onnx")
    assert theirs.translates and theirs.takes_target and theirs.domain_names == ours.domain_names
    sources = ((ours.fixed["source"][:4].permute(0, 2, 3, 1) + 1) * 127.5).round().byte().numpy()
    mixed = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)  # rows go different ways in one batch
    for target in (1.0, 0.0, mixed):
        difference = theirs.translate(sources, target=target).astype(int) - ours.translate(sources, target=target)
        assert np.abs(difference).max() <= 1  # uint8 rounding of float outputs equal within 1e-4


class PyTorchExampleGenerator(nn.Module):
    """The generator of PyTorch's DCGAN example (examples/dcgan/main.py), at 32 px and narrow: z (N, nz, 1, 1)."""

    def __init__(self, nz: int = 16, ngf: int = 8, nc: int = 3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


def test_a_dcgan_written_by_torch_onnx_export_opens_in_the_explorer(tmp_path):
    torch.manual_seed(0)
    net = PyTorchExampleGenerator()
    with torch.no_grad():  # trained-looking BatchNorm statistics, so that folding them matters
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2.0), m.weight.uniform_(0.5, 1.5)
    net.eval()
    path = tmp_path / "netG.onnx"
    torch.onnx.export(net, (torch.randn(1, 16, 1, 1),), str(path))  # as a user would: batch 1, no names

    snapshot = open_onnx_generator(path)
    assert (snapshot.latent_dim, snapshot.image_shape) == (16, (3, 32, 32))
    z = _z(3, 16)
    with torch.no_grad():
        expected = net(torch.from_numpy(z)[:, :, None, None])
    assert float((snapshot.images(z) - expected).abs().max()) <= 1e-4
    assert snapshot.render(z).shape == (3, 32, 32, 3)
    ours = sefa_directions(net, 16, 3)
    assert min(_cos(discover_directions(snapshot, "sefa", 3), ours)) > 0.999  # BatchNorm folded the same way
    assert len(discover_directions(snapshot, "pca", 2, n_samples=300)) == 2
    with pytest.raises(DirectionsError, match="fit the direction"):
        discover_directions(snapshot, "supervised", 2)

    directions = tmp_path / "d.json"  # the CLI's z tools take it too
    assert main(["directions", str(path), "--method", "sefa", "-k", "2", "-o", str(directions)]) == 0
    assert main(["traverse", str(path), "--direction", f"{directions}:0", "-o", str(tmp_path / "strip.png")]) == 0
    assert (tmp_path / "strip.png").exists()


def test_malformed_or_unsuitable_files_say_why(dcgan_run, tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07not a protobuf at all" * 10)
    with pytest.raises(OnnxError, match="not a valid ONNX model"):
        open_onnx_generator(junk)
    good = tmp_path / "G.onnx"
    assert main(["export", str(dcgan_run), "-o", str(good)]) == 0
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(OnnxError, match="not a valid ONNX model"):
        open_onnx_generator(truncated)
    (tmp_path / "G.onnx.json").write_text("{not json")
    with pytest.raises(OnnxError, match="remove it"):
        open_onnx_generator(good)


def test_an_image_to_image_graph_without_sidecar_is_refused_clearly(tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Tanh()).eval()
    path = tmp_path / "translator.onnx"
    torch.onnx.export(net, (torch.randn(1, 3, 16, 16),), str(path), input_names=["photo"])
    with pytest.raises(OnnxError, match="draw from one latent input z"):
        open_onnx_generator(path)


def test_without_the_extra_the_message_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(OnnxError, match=r"ganstudio\[onnx\]"):
        open_onnx_generator(tmp_path / "any.onnx")


def test_export_needs_a_known_format(dcgan_run, tmp_path, capsys):
    assert main(["export", str(dcgan_run), "-o", str(tmp_path / "G.bin")]) == 2
    assert "--format onnx or torchscript" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
