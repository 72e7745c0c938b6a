"""The live sample grid from the run's fixed inputs (z, or held-out inputs for a translation model),
with the timeline to scrub through its history. Its caption says how the family lays the grid out, naming
the domains or attributes of the models that translate into them. A model that enhances speech (SEGAN) gets
its held-out clips to look at and listen to (``show_sounds``), with the grid of their spectrograms in a
second tab."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from ganstudio.config import RunConfig
from ganstudio.data.base import ATTRIBUTES, DOMAIN_A, NOISY, SOURCE
from ganstudio.data.faces import ATTRIBUTES as FACE_ATTRIBUTES
from ganstudio.data.faces import DOMAINS
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.gui.widgets.speech_samples import HeldOutSounds, SpeechSamples
from ganstudio.gui.widgets.timeline import SampleTimeline
from ganstudio.models.base import Family

CAPTIONS = {  # (title, placeholder) for z models and for models that translate an input
    False: ("<b>Samples</b> from a fixed set of z", ("Samples appear here once training starts.\nThe same 64 latent "
                                                     "vectors are drawn every time, so you can watch each one evolve.")),
    True: ("<b>Held-out inputs</b> | outputs | targets", ("Translations appear here once training starts: rows of input "
                                                          "| output | target\nfor the same held-out inputs every time, "
                                                          "so you can watch each one evolve.")),
}
SAME_INPUTS = "\nfor the same held-out inputs every time, so you can watch each one evolve."


def domain_names(config: RunConfig | None) -> tuple[str, ...]:
    """The domains (A, B) or attributes a run's model translates into: the run's own once it has started,
    else what its data will give where the config tells (the drawn faces), else ()."""
    if config is None:
        return ()
    if config.model.domain_names:
        return tuple(config.model.domain_names)
    if config.data.dataset == "faces":
        return DOMAINS[config.data.domains][1] if config.data.domains in DOMAINS else tuple(FACE_ATTRIBUTES)
    return ()


def captions_for(family: type[Family], config: RunConfig | None = None) -> tuple[str, str]:
    """(title, placeholder) of the grid of ``family``'s samples."""
    names = domain_names(config)
    if DOMAIN_A in family.needs:  # CycleGAN, DiscoGAN: cycles both ways
        a, b = names if len(names) == 2 else ("A", "B")
        title = f"<b>Held-out cycles</b> — rows: A | G(A) | F(G(A)) with A = {a}, and B | F(B) | G(F(B)) with B = {b}"
        placeholder = (f"Cycles appear here once training starts: each {a} input, as {b}, and back; then each {b} "
                       f"input, as {a}, and back")
        return title, placeholder + SAME_INPUTS
    if ATTRIBUTES in family.needs:  # StarGAN: one attribute flipped at a time
        flipped = ", ".join(name.replace("_", " ") for name in names) if names else "in turn"
        return (f"<b>Held-out inputs</b> — each row: input, then each attribute flipped: {flipped}",
                "Translations appear here once training starts: each input, then the input with one attribute "
                "flipped at a time" + SAME_INPUTS)
    if family.takes(NOISY):  # speech enhancement: clips to listen to, and their spectrograms in the grid
        return ("<b>Held-out clips</b> — noisy input | enhanced | clean",
                "Spectrograms of the held-out clips appear here once training starts: rows of noisy input | "
                "enhanced | clean, low frequencies at the bottom" + SAME_INPUTS)
    if family.takes(SOURCE) and SOURCE not in family.needs:  # super-resolution: its inputs are made from the images
        return ("<b>Held-out patches</b> — each: low-resolution input | bicubic | SR | original",
                "Upscaled patches appear here once training starts: each held-out patch as low-resolution input | "
                "bicubic | SR | original" + SAME_INPUTS)
    return CAPTIONS[SOURCE in family.needs]


class SamplePanel(QWidget):
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("sampleTitle")
        self.title.setWordWrap(True)
        self.view = ImageView()
        self._caption = CAPTIONS[False]
        self.view.set_placeholder(self._caption[1])
        self.view.setObjectName("sampleGrid")
        self.speech = SpeechSamples()  # audio families: the clips, with the grid of spectrograms beside
        self.grid_view = ImageView()
        self.speech_tabs = QTabWidget()
        self.speech_tabs.addTab(self.speech, "Listen")
        self.speech_tabs.addTab(self.grid_view, "Spectrogram grid")
        self.body = QStackedWidget()
        self.body.addWidget(self.view)
        self.body.addWidget(self.speech_tabs)
        self.timeline = SampleTimeline()
        self._image: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.timeline)
        self.timeline.frame_changed.connect(self._show_frame)
        self.speech.message.connect(self.message)
        self._set_title(None)

    def clear(self) -> None:
        self.timeline.clear()
        self._image = None
        self.view.set_array(None)
        self.grid_view.set_array(None)
        self.speech.clear()
        self._set_title(None)

    def show_family(self, family: type[Family], config: RunConfig | None = None) -> None:
        """Word the grid for ``family``: samples from z, held-out inputs with outputs and targets, cycles
        through two domains or attributes flipped (named from ``config`` where it tells); clips to listen
        to for a model that enhances speech."""
        self._caption = captions_for(family, config)
        self.view.set_placeholder(self._caption[1])
        self.grid_view.set_placeholder(self._caption[1])
        self.body.setCurrentWidget(self.speech_tabs if family.takes(NOISY) else self.view)
        self._set_title(None)

    def show_sounds(self, step: int, sounds: dict[str, np.ndarray]) -> None:
        """A speech model's held-out clips at ``step``: {"noisy", "enhanced", "clean"}: (N, L) float32."""
        self.speech.show_sounds(step, sounds)

    @Slot(object)
    def show_held_out(self, result: HeldOutSounds) -> None:
        """Clips rendered from a checkpoint (an opened run), unless a live report came first."""
        if self.speech.step is None or self.speech.step < result.step:
            self.speech.show_sounds(result.step, result.sounds)

    def has_sounds(self) -> bool:
        return self.speech.step is not None

    def current_image(self) -> np.ndarray | None:
        return self._image

    def _set_title(self, step: int | None) -> None:
        self.title.setText(self._caption[0] + (f" — step {step:,}" if step is not None else ""))

    @Slot(int, object)
    def _show_frame(self, step: int, image: np.ndarray) -> None:
        self._image = image
        self.view.set_array(image)
        self.grid_view.set_array(image)
        self._set_title(step)
