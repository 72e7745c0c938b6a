"""The setup form's "TensorBoard logs" box: bound to TrainConfig.tensorboard, greyed without the extra."""

import pytest

from ganstudio.config import RunConfig
from ganstudio.gui.widgets import setup_form
from ganstudio.gui.widgets.setup_form import SetupForm

pytestmark = pytest.mark.gui


def test_the_box_is_bound_to_the_config(qtbot, monkeypatch):
    monkeypatch.setattr(setup_form, "tensorboard_available", lambda: True)
    form = SetupForm()
    qtbot.addWidget(form)
    assert form.tensorboard.isEnabled() and form.tensorboard.isChecked() and form.config().train.tensorboard

    form.tensorboard.setChecked(False)
    config = form.config()
    assert config.train.tensorboard is False
    restored = SetupForm()
    qtbot.addWidget(restored)
    restored.set_config(RunConfig.from_json(config.to_json()))  # what the window remembers between launches
    assert not restored.tensorboard.isChecked() and restored.config() == config


def test_without_the_extra_the_box_says_how_to_install_it(qtbot, monkeypatch):
    monkeypatch.setattr(setup_form, "tensorboard_available", lambda: False)
    form = SetupForm()
    qtbot.addWidget(form)
    assert not form.tensorboard.isEnabled() and not form.tensorboard.isChecked()
    assert 'pip install "ganstudio[tensorboard]"' in form.tensorboard.toolTip()
    assert form.config().train.tensorboard  # the config's value is kept for when the extra is installed
    form.set_config(RunConfig().replace(train={"tensorboard": False}))
    assert form.config().train.tensorboard is False
