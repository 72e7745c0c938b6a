"""Checkpoints: safe loading, clear errors, atomic saves that survive SIGKILL."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganstudio.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    load_generator,
    read_checkpoint_info,
    read_tensors,
)
from ganstudio.errors import CheckpointError
from ganstudio.training.engine import Trainer
from ganstudio.training.runs import RunFolder


@pytest.fixture
def trained_run(tmp_path, small_config):
    trainer = Trainer(small_config(steps=10), out=tmp_path)
    trainer.run()
    return trainer


class _Payload:
    """Unpickling this would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_pickle_is_never_executed(trained_run, tmp_path):
    marker = tmp_path / "pwned"
    info = read_checkpoint_info(trained_run.run_folder.path)
    evil = pickle.dumps({"generator": _Payload(str(marker))})
    info.tensors_path.write_bytes(evil)  # a pickle posing as the weights file, JSON made to agree
    meta = json.loads(info.json_path.read_text())
    meta["tensors_bytes"] = len(evil)
    info.json_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load_generator(info.json_path, torch.device("cpu"))
    # A bare pickle (a .pt file) is not accepted either.
    pt = tmp_path / "model.pt"
    pt.write_bytes(evil)
    with pytest.raises(CheckpointError, match="not a .*ganstudio checkpoint"):
        load_generator(pt, torch.device("cpu"))
    assert not marker.exists()


def test_truncated_checkpoint_gives_clear_error(trained_run):
    info = read_checkpoint_info(trained_run.run_folder.path)
    data = info.tensors_path.read_bytes()
    info.tensors_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_generator(trained_run.run_folder.path, torch.device("cpu"))


def test_checkpoint_of_another_model_names_the_differences(trained_run, tmp_path, small_config):
    other = Trainer(small_config("dcgan", steps=2).replace(data={"image_size": 32, "channels": 3}), out=tmp_path)
    other.run()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(other.run_folder.path, trained_run.family)
    message = str(err.value)
    for word in ("family dcgan vs gan", "resolution 32 vs 28", "channels 3 vs 1"):
        assert word in message
    assert "latent size" not in message


def test_garbage_json_and_missing_files(trained_run, tmp_path):
    info = read_checkpoint_info(trained_run.run_folder.path)
    info.json_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="not a readable"):
        read_checkpoint_info(info.json_path)
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint_info(tmp_path / "nothing.json")
    with pytest.raises(CheckpointError, match="no complete checkpoint"):
        read_checkpoint_info(tmp_path)


SAVER = textwrap.dedent("""
    import sys, torch
    from ganstudio.config import RunConfig
    from ganstudio.models import build_family
    from ganstudio.checkpoint import save_checkpoint
    from pathlib import Path
    cfg = RunConfig().replace(model={"family": "dcgan", "width": 16}, data={"image_size": 64, "channels": 3})
    family = build_family(cfg.data, cfg.model, cfg.train, torch.device("cpu"))
    folder = Path(sys.argv[1])
    step = 1
    while True:
        save_checkpoint(folder, family, step=step, epoch=0, config=cfg.to_dict(), fixed_inputs={"z": torch.zeros(4, 100)})
        step += 1
        with torch.no_grad():
            for p in family.generator.parameters():
                p.add_(1.0)
""")


def _kill_inside_write(script, folder, marker, target):
    """Run the saver with the fault-injection hook on (ganstudio/fileio.py), let every atomic write
    through until the one to ``target``, and SIGKILL the saver while that write is half done."""
    env = dict(os.environ, GANSTUDIO_TEST_PAUSE_IN_WRITE=str(marker))
    proc = subprocess.Popen([sys.executable, str(script), str(folder)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        while True:
            deadline = time.monotonic() + 120
            while not marker.exists():
                assert proc.poll() is None, f"the saver exited: {proc.stderr.read()}"
                assert time.monotonic() < deadline, "the saver never reached its next write"
                time.sleep(0.01)
            if os.path.basename(marker.read_text()) == target:
                break
            marker.unlink()  # let this write finish; the saver pauses again in its next one
        temp = [p for p in folder.iterdir() if p.name.startswith(f".tmp-{target}.")]
        assert len(temp) == 1 and temp[0].stat().st_size > 0  # the kill lands mid-write, temp file half full
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
        marker.unlink(missing_ok=True)


@pytest.mark.parametrize("target", [
    "step_0000003.safetensors",  # inside the weights of a new checkpoint
    "step_0000003.json",  # its weights written, inside the JSON that commits them
])
def test_sigkill_during_save_leaves_previous_checkpoint_loadable(tmp_path, target):
    """SIGKILL a checkpoint save inside its write (a fault-injection hook pauses it there, so the kill
    lands in the write every time): the previous checkpoint is the latest complete one, it loads, and
    its generator weights are internally consistent; opening the run folder removes the temp file."""
    folder = tmp_path / "checkpoints"
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    _kill_inside_write(script, folder, tmp_path / "paused", target)

    latest = latest_checkpoint(folder)
    info = read_checkpoint_info(latest)
    assert info.step == 2  # step 3 was being saved
    tensors = read_tensors(info)
    # Every G weight was shifted by +1 per step, so all G tensors agree on one step count.
    first_bias = tensors["net/generator/net.1.bias"]  # BatchNorm bias, initialised to 0
    assert torch.allclose(first_bias, torch.full_like(first_bias, info.step - 1))
    load_generator(latest, torch.device("cpu"))

    (tmp_path / "config.json").write_text("{}")
    RunFolder.open(tmp_path)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("family", ["dcgan", "cgan"])
def test_runs_from_checkpoint_format_1_open_sample_and_resume(tmp_path, family):
    """tests/data/format1 holds runs written by ganstudio before named inputs (format 1: only sample_z
    stored). They load with the same fixed inputs (their saved grid is reproduced bit for bit) and resume;
    the new checkpoint is format 2."""
    import shutil

    from ganstudio.images import image_grid, read_png, to_uint8

    run = shutil.copytree(Path(__file__).parent.parent / "data" / "format1" / family, tmp_path / family)
    loaded, info, fixed = load_generator(run, torch.device("cpu"))
    assert info.meta["format_version"] == 1 and info.step == 4
    assert set(fixed) == ({"z", "label"} if family == "cgan" else {"z"})
    outputs = loaded.render(fixed)
    tiles, columns = loaded.sample_tiles(fixed, outputs)
    assert np.array_equal(image_grid(to_uint8(tiles), columns), read_png(run / "samples" / "step_0000004.png"))

    ended = Trainer.resume(run, train_overrides={"max_steps": 6}).run()
    assert ended.reason == "finished" and ended.step == 6
    resumed = read_checkpoint_info(run)
    assert resumed.meta["format_version"] == 2 and resumed.step == 6


def test_a_generator_opens_without_the_networks_only_training_reads(tmp_path, small_config):
    """Rendering reads G (SRGAN: and its MSE-phase G; StarGAN: and D, its attribute reader): an SRGAN run whose D
    no longer fits this version's D (a default width changed) still opens and renders; resuming it is refused."""
    from ganstudio.config import RunConfig
    from ganstudio.models import build_family
    from ganstudio.snapshot import GeneratorSnapshot

    config = small_config("srgan", steps=4)
    trainer = Trainer(config.replace(model={"options": {"d_width": 16, "mse_steps": 2}}), out=tmp_path)
    trainer.run()
    assert trainer.family.rendering_networks(4) == {"generator_average", "generator_mse"}
    info = read_checkpoint_info(trainer.run_folder.path)
    meta = json.loads(info.json_path.read_text())
    meta["config"]["model"]["options"]["d_width"] = 8  # as a later version would build its D
    info.json_path.write_text(json.dumps(meta))
    snapshot = GeneratorSnapshot.from_checkpoint(info.json_path)
    channels = snapshot.image_shape[0]
    assert snapshot.translate(np.zeros((1, 8, 8, channels), np.uint8)).shape == (1, 32, 32, channels)
    later = RunConfig.from_dict(meta["config"])
    with pytest.raises(CheckpointError, match="does not fit"):  # resuming needs D too
        load_checkpoint(info.json_path, build_family(later.data, later.model, later.train, torch.device("cpu")))

    stargan = Trainer(small_config("stargan", steps=1), out=tmp_path / "star")
    stargan.run()
    assert stargan.family.rendering_networks(1) == {"generator", "discriminator"}


def _drop_network(info, network: str) -> None:
    """Rewrite a checkpoint without ``network``'s tensors, as a version from before the network wrote it."""
    import safetensors.torch

    tensors = safetensors.torch.load_file(str(info.tensors_path))
    old = {k: v for k, v in tensors.items() if not k.startswith(f"net/{network}/")}
    assert len(old) < len(tensors)
    blob = safetensors.torch.save(old)
    info.tensors_path.write_bytes(blob)
    meta = json.loads(info.json_path.read_text())
    meta["tensors_bytes"] = len(blob)
    info.json_path.write_text(json.dumps(meta))


def test_an_srgan_run_from_before_the_weight_average_renders_with_g(tmp_path, small_config):
    """Checkpoints written before SRGAN kept a moving average of G's weights have no ``generator_average``:
    they open, render and resume with G itself in its place."""
    from ganstudio.snapshot import GeneratorSnapshot

    trainer = Trainer(small_config("srgan", steps=4).replace(model={"options": {"mse_steps": 2}}), out=tmp_path)
    trainer.run()
    info = read_checkpoint_info(trainer.run_folder.path)
    _drop_network(info, "generator_average")

    snapshot = GeneratorSnapshot.from_checkpoint(info.json_path)
    channels = snapshot.image_shape[0]
    lr = np.random.default_rng(0).integers(0, 256, (1, 8, 8, channels), dtype=np.uint8)
    trainer.family.G_average.load_state_dict(trainer.family.G.state_dict())
    g_itself = GeneratorSnapshot.of_family(trainer.family, 4, trainer.config)
    assert np.array_equal(snapshot.translate(lr), g_itself.translate(lr))
    assert Trainer.resume(trainer.run_folder.path, train_overrides={"max_steps": 5}).run().step == 5



def test_a_run_saved_before_a_default_changed_keeps_its_own(tmp_path, small_config):
    """Runs record every option; a saved config without a key predates it and gets the option's ``earlier``
    value. A SEGAN run from before its D was narrower than G, its G learnt with Adam, its kernels were shorter
    than the paper's and a moving average of G rendered (its config lists no options, its checkpoint has no
    average) renders as it did, with G itself, and resumes with its own D, kernels and optimiser."""
    from ganstudio.enhance import enhance_clips
    from ganstudio.snapshot import GeneratorSnapshot

    fresh = Trainer(small_config("segan", steps=1), out=tmp_path / "fresh")
    fresh.run()
    recorded = fresh.run_folder.read_config().model.options
    assert set(recorded) == {o.key for o in fresh.family.options} and recorded["d_scale"] == 0.5
    assert recorded["kernel"] == 15

    old_options = {"d_scale": 1.0, "adam": 0, "kernel": 31, "average": 0.0}
    trainer = Trainer(small_config("segan", steps=2).replace(model={"options": old_options}), out=tmp_path / "old")
    trainer.run()
    info = read_checkpoint_info(trainer.run_folder.path)
    noisy = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 1024)).astype(np.float32)
    before = enhance_clips(GeneratorSnapshot.from_checkpoint(info.json_path), noisy)
    _drop_network(info, "generator_average")
    for path, config in ((info.json_path, lambda m: m["config"]), (trainer.run_folder.config_path, lambda m: m)):
        saved = json.loads(path.read_text())
        config(saved)["model"]["options"] = {}  # as ganstudio wrote it before options were recorded
        path.write_text(json.dumps(saved))

    assert read_checkpoint_info(info.json_path).config["model"]["options"] == old_options
    assert np.array_equal(enhance_clips(GeneratorSnapshot.from_checkpoint(info.json_path), noisy), before)
    resumed = Trainer.resume(trainer.run_folder.path, train_overrides={"max_steps": 3})
    assert resumed.run().step == 3
    assert resumed.family.D.features[0].out_channels == resumed.family.G.net.encoder[0][0].out_channels
    assert isinstance(resumed.family.opt_g, torch.optim.RMSprop)
    assert resumed.family.G.net.encoder[0][0].kernel_size == resumed.family.D.features[0].kernel_size == (31,)
    for mean, now in zip(resumed.family.G_average.state_dict().values(), resumed.family.G.state_dict().values()):
        assert torch.equal(mean, now)
