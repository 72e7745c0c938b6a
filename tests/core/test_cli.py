"""The command line: headless training, sampling, help and one-line errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganstudio.cli import main
from ganstudio.training.runs import RunFolder


def run_cli(*args, cwd=None, timeout=300):
    """Run ``python -m ganstudio`` in a subprocess (stdout is a pipe, so progress comes as JSON lines)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "ganstudio", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = run_cli("train", "--family", "gan", "--dataset", "faces", "--num-images", "600", "--batch-size", "30",
                     "--max-steps", "40", "--sample-every", "20", "--device", "cpu", "--out", str(out))
    assert result.returncode == 0, result.stderr
    (run,) = out.iterdir()
    return run, result


def test_train_writes_run_and_json_progress(cli_run):
    run, result = cli_run
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["status", "start"] and kinds[-1] == "end" and "step" in kinds
    assert "Preparing the data set “faces”" in events[0]["message"]  # what the wait before the start is
    assert events[-1]["reason"] == "finished" and events[-1]["step"] == 40
    assert {"loss_d", "loss_g", "images_per_s", "eta_s"} <= set(next(e for e in events if e["event"] == "step"))
    assert (run / "config.json").is_file() and (run / "samples" / "step_0000040.png").is_file()
    assert (run / "checkpoints" / "step_0000040.safetensors").is_file()


def test_resume_continues_from_its_step(cli_run):
    run, _ = cli_run
    result = run_cli("train", "--resume", str(run), "--max-steps", "50")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    start = next(e for e in events if e["event"] == "start")  # after "preparing the data set" news
    assert start["start_step"] == 40 and events[-1]["step"] == 50


@pytest.mark.parametrize("target", ["grid.png", "pngs/", "arr.npz"])
def test_sample_outputs(cli_run, tmp_path, target, capsys):
    run, _ = cli_run
    out = tmp_path / target
    assert main(["sample", str(run), "-n", "9", "--seed", "3", "-o", str(out) + ("/" if target.endswith("/") else "")]) == 0
    if target == "grid.png":
        assert Image.open(out).size == (3 * 30 + 2, 3 * 30 + 2)
    elif target == "pngs/":
        files = sorted(out.glob("*.png"))
        assert len(files) == 9 and Image.open(files[0]).size == (28, 28)
    else:
        with np.load(out, allow_pickle=False) as npz:
            assert npz["images"].shape == (9, 28, 28, 1) and npz["images"].dtype == np.uint8
    assert "Wrote 9 images" in capsys.readouterr().out


def test_sample_seed_is_reproducible(cli_run, tmp_path):
    run, _ = cli_run
    for name in ("a.npz", "b.npz"):
        main(["sample", str(run), "-n", "4", "--seed", "7", "-o", str(tmp_path / name)])
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        assert np.array_equal(a["images"], b["images"])


@pytest.mark.parametrize("args, message", [
    (["sample", "no/such/run", "-o", "x.png"], "checkpoint not found"),
    (["train", "--resume", "no/such/run"], "not a ganstudio run folder"),
    (["train", "--dataset", "folder", "--data-root", "no/such/folder"], "no/such/folder"),
    (["train", "--epochs", "0"], "epochs must be at least 1"),
])
def test_bad_input_is_one_line_without_traceback(args, message, tmp_path):
    result = run_cli(*args, "--out", str(tmp_path)) if args[0] == "train" and "--resume" not in args else run_cli(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unknown_output_kind_is_refused(cli_run, tmp_path, capsys):
    run, _ = cli_run
    assert main(["sample", str(run), "-o", str(tmp_path / "x.jpg2")]) == 2
    assert "cannot tell what to write" in capsys.readouterr().err


def test_help_is_complete(capsys):
    for args in (["--help"], ["train", "--help"], ["sample", "--help"], ["gui", "--help"]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 0
    text = capsys.readouterr().out
    for option in ("--family", "--dataset", "--data-root", "--image-size", "--channels", "--max-steps",
                   "--max-minutes", "--device", "--resume", "--checkpoint", "--seed", "dcgan", "fashion-mnist"):
        assert option in text


def test_ctrl_c_stops_cleanly_with_a_checkpoint(tmp_path):
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "ganstudio", "train", "--num-images", "600", "--batch-size", "30",
                             "--device", "cpu", "--out", str(tmp_path), "--epochs", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    steps = []
    for line in proc.stdout:  # the Ctrl-C handler is in place before the first step is reported
        record = json.loads(line)
        if record["event"] == "step":
            steps.append(record["step"])
            total = record["total_steps"]
            if len(steps) == 2:  # training is under way, not just started
                break
    assert len(steps) == 2, proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    end = json.loads(out.splitlines()[-1])
    assert end["event"] == "end" and end["reason"] == "stopped"
    assert steps[-1] <= end["step"] < total
    assert os.path.isfile(end["checkpoint"])


def test_eval_prints_the_quality_of_a_checkpoint(cli_run, capsys):
    run, _ = cli_run
    assert main(["eval", str(run), "-n", "100", "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert values["step"] == RunFolder(run).list_checkpoints()[-1][0] and values["features"] == "domain"
    assert values["fid_domain"] > 0 and 0 <= values["recall_domain"] <= 1 and 0 <= values["coverage_yaw"] <= 1
    assert main(["eval", str(run), "-n", "5"]) == 2
