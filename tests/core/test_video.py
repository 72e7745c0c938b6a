"""MP4 export through the ffmpeg that the ``video`` extra (imageio-ffmpeg) ships, without a system ffmpeg."""

import numpy as np
import pytest

from ganstudio import images
from ganstudio.errors import UserError


def _frames(n: int = 12) -> list[np.ndarray]:
    ramp = np.linspace(0, 255, n).astype(np.uint8)
    return [np.full((15, 21, 3), value, np.uint8) for value in ramp]  # odd sizes: padded to even


def test_the_video_extra_writes_mp4_with_no_ffmpeg_on_the_path(tmp_path, monkeypatch):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    assert images.mp4_encoder() == imageio_ffmpeg.get_ffmpeg_exe()
    path = tmp_path / "ramp.mp4"
    images.save_mp4(_frames(12), path, fps=6, scale=2)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == 12 and seconds == pytest.approx(2.0, abs=0.2)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert meta["size"] == (42, 30)  # 21×15 doubled, then rounded up to even numbers
    first, *_, last = [np.frombuffer(f, np.uint8) for f in reader]
    assert abs(float(first.mean()) - 0) < 4 and abs(float(last.mean()) - 255) < 4  # the ramp survives H.264


def test_without_any_ffmpeg_the_message_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    monkeypatch.setitem(__import__("sys").modules, "imageio_ffmpeg", None)
    assert images.mp4_encoder() is None
    with pytest.raises(UserError, match=r"ganstudio\[video\]"):
        images.save_mp4(_frames(2), tmp_path / "x.mp4")
    assert not list(tmp_path.iterdir())
