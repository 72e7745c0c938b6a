"""Image probes on synthetic images with a known change, and directions that name themselves on a toy
generator whose directions are planted: one moves a blob right, one brightens it, one does nothing."""

import numpy as np
import pytest
import torch
from torch import nn

from ganstudio.config import RunConfig
from ganstudio.latent.directions import Direction
from ganstudio.latent.probes import (
    PROBES,
    DirectionEffects,
    image_probes,
    measure_directions,
    probe_direction,
    propose_name,
    without_effect,
)
from ganstudio.snapshot import GeneratorSnapshot

SIZE = 32


def blob(x=0.0, y=0.0, radius=0.12, level=1.0, background=-1.0, channels=1):
    """(1, C, S, S) in [-1, 1]: a soft disc at (x, y) image widths from the centre."""
    t = (torch.arange(SIZE) + 0.5) / SIZE - 0.5
    d = ((t.view(1, -1) - x).square() + (t.view(-1, 1) - y).square()).sqrt()
    disc = (1 - ((d - radius) * SIZE).clamp(0, 1))
    image = background + (level - background) * disc
    return image.expand(1, channels, SIZE, SIZE).clone()


def test_centre_and_size_follow_the_subject_not_the_background():
    left, right = blob(x=-0.2), blob(x=0.15, background=-0.6)  # another background too
    assert PROBES["x"](left).item() == pytest.approx(-0.2, abs=0.01)
    assert PROBES["x"](right).item() == pytest.approx(0.15, abs=0.01)
    assert PROBES["y"](blob(y=0.1)).item() == pytest.approx(0.1, abs=0.01)
    assert PROBES["size"](blob(radius=0.2)).item() > 1.5 * PROBES["size"](blob(radius=0.1)).item()


def test_brightness_contrast_sharpness_asymmetry_and_colour():
    dim, bright = blob(level=0.0), blob(level=1.0)
    assert PROBES["brightness"](bright) > PROBES["brightness"](dim)
    assert PROBES["contrast"](bright) > PROBES["contrast"](dim)
    soft = torch.nn.functional.avg_pool2d(bright, 5, 1, 2, count_include_pad=False)
    assert PROBES["sharpness"](bright) > 1.5 * PROBES["sharpness"](soft)
    assert PROBES["asymmetry"](blob(x=0.2)) > 10 * PROBES["asymmetry"](blob(x=0.0)) + 1e-6
    red = blob(channels=3)
    red[:, 1:] = -1
    assert PROBES["warmth"](red) > 0.05 and PROBES["saturation"](red) > PROBES["saturation"](blob(channels=3))
    assert set(image_probes(1)) == set(PROBES) - {"warmth", "saturation"}


class BlobGenerator(nn.Module):
    """z[0] moves the blob right, z[1] brightens it, the other 6 entries do nothing visible."""

    def forward(self, z):
        t = (torch.arange(SIZE) + 0.5) / SIZE - 0.5
        x = (0.08 * z[:, 0]).view(-1, 1, 1)
        d = ((t.view(1, 1, -1) - x).square() + t.view(1, -1, 1).square()).sqrt()
        disc = (1 - ((d - 0.15) * SIZE).clamp(0, 1))
        level = torch.tanh(0.4 * z[:, 1]).view(-1, 1, 1)
        return (-1 + (level + 1) * disc).unsqueeze(1)


def blob_snapshot():
    return GeneratorSnapshot(BlobGenerator(), 8, (1, SIZE, SIZE), 0, "toy", RunConfig())


def unit(i, dim=8):
    v = np.zeros(dim, np.float32)
    v[i] = 1
    return v


def test_planted_directions_name_themselves():
    snapshot = blob_snapshot()
    found = [Direction("SeFa 1", "sefa", unit(0)), Direction("SeFa 2", "sefa", -unit(1)),
             Direction("SeFa 3", "sefa", unit(5))]
    effects = measure_directions(snapshot, found, image_probes(1), n=24)
    right, darker, nothing = effects
    assert right.r["x"] > 0.95 and propose_name(right) == "moves right (r 1.00)"
    assert darker.r["brightness"] < -0.9 and propose_name(darker).startswith("darker")
    assert "moves" not in propose_name(darker)
    assert propose_name(nothing) == "no clear effect"


def test_a_weaker_second_effect_is_called_slight():
    effects = DirectionEffects("d", {"x": 0.9, "size": 0.7, "brightness": 0.1},
                               {"x": 1.2, "size": 0.4, "brightness": 0.01})
    assert propose_name(effects) == "moves right (r 0.90), slightly larger"


def test_a_direction_made_orthogonal_to_an_effect_loses_it():
    """A direction that mixes "right" and "brighter" keeps only "brighter" once made orthogonal to the
    z-direction of the x probe."""
    snapshot = blob_snapshot()
    mixed = Direction("mixed", "sefa", (unit(0) + unit(1)) / np.sqrt(2))
    x_direction = probe_direction(snapshot, PROBES["x"], "x", n=600)
    assert abs(float(x_direction.vector @ unit(0))) > 0.9
    clean = without_effect(mixed, [x_direction])
    assert clean.name == "mixed ⟂ x"
    before, after = measure_directions(snapshot, [mixed, clean], image_probes(1), n=24)
    assert before.effect["x"] > 0.5 and abs(after.effect["x"]) < 0.05 * before.effect["x"]
    assert after.r["brightness"] > 0.8 and propose_name(after).startswith("brighter")
