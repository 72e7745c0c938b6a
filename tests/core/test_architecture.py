"""The core is Qt-free (importing and training never loads Qt) and its layers point one way."""

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    """pyproject's import-linter contracts: core layers point one way, only the GUI imports Qt."""
    result = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                             "sys.exit(lint_imports())"], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_core_imports_no_qt(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        import ganstudio.cli, ganstudio.config, ganstudio.data, ganstudio.models, ganstudio.images
        from ganstudio.config import RunConfig
        from ganstudio.training.engine import Trainer
        cfg = RunConfig().replace(data={{"num_images": 120}}, train={{"max_steps": 3, "device": "cpu"}})
        Trainer(cfg, out={str(tmp_path)!r}).run()
        qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6"))
        print(qt)
        assert not qt, qt
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout


def test_families_and_datasets_are_registered():
    from ganstudio.data import list_datasets
    from ganstudio.models import list_families

    assert {"faces", "mnist", "fashion-mnist", "folder"} <= set(list_datasets())
    assert {"gan", "dcgan"} <= set(list_families())
