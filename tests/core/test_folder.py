"""Image folders: mixed modes and sizes, bad files skipped with one warning, labels, and the cache."""

import os

import numpy as np
import pytest
from PIL import Image, ImageOps

from ganstudio.config import DataConfig
from ganstudio.data import list_datasets, load_dataset
from ganstudio.data.folder import load_folder
from ganstudio.errors import DataError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))


def _save(path, img, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kwargs)
    return path


def _solid(path, value, size=(20, 20)):
    """A grey square of one value, as RGB png."""
    return _save(path, Image.new("RGB", size, (value, value, value)))


def _load(root, **kwargs):
    return load_folder(DataConfig(dataset="folder", root=str(root), **kwargs))


def _opens(monkeypatch):
    """Count Image.open calls from now on."""
    calls = []
    real_open = Image.open

    def counting_open(*args, **kwargs):
        calls.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    return calls


@pytest.fixture
def mixed(tmp_path):
    """Ten images in every mode the loader must handle, different sizes and aspect ratios, nested."""
    root = tmp_path / "mixed"
    rng = np.random.default_rng(0)
    _save(root / "grey.png", Image.fromarray(rng.integers(0, 256, (30, 40), dtype=np.uint8)))
    _save(root / "photo.JPG", Image.fromarray(rng.integers(0, 256, (80, 50, 3), dtype=np.uint8)))
    rgba = np.zeros((32, 48, 4), dtype=np.uint8)
    rgba[:, 24:] = (255, 0, 0, 255)
    _save(root / "a" / "rgba.png", Image.fromarray(rgba, "RGBA"))
    _save(root / "a" / "la.png", Image.new("LA", (16, 16), (0, 0)))
    _save(root / "a" / "palette.png", Image.new("RGB", (21, 13), (0, 128, 255)).convert("P"))
    pal = Image.new("P", (20, 20), 1)
    pal.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    _save(root / "a" / "palette_trns.png", pal, transparency=1)
    _save(root / "b" / "deep16.png", Image.fromarray(np.full((24, 24), 40000, dtype=np.uint16)))
    _save(root / "b" / "cmyk.jpg", Image.new("CMYK", (30, 60), (0, 255, 255, 0)))
    _save(root / "b" / "c" / "nested.webp", Image.new("RGB", (64, 64), (10, 20, 30)))
    _save(root / "b" / "c" / "old.bmp", Image.new("RGB", (7, 5), (200, 100, 0)))
    return root


@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 28), (1, 64), (3, 64)])
def test_mixed_modes_give_uint8_images_of_the_configured_shape(mixed, channels, size):
    data = _load(mixed, channels=channels, image_size=size)
    assert tuple(data.images.shape) == (10, channels, size, size)
    assert data.images.dtype.is_floating_point is False and str(data.images.dtype) == "torch.uint8"
    assert data.labels is None and data.class_names == () and data.warnings == ()


def test_modes_convert_to_the_right_colours(mixed):
    data = _load(mixed, channels=3, image_size=28)
    names = sorted(p.relative_to(mixed).as_posix() for p in mixed.rglob("*.*"))
    assert len(names) == len(data)
    colour = {name: data.images[i].float().mean(dim=(1, 2)).tolist() for i, name in enumerate(names)}
    assert colour["a/la.png"] == pytest.approx([255, 255, 255])  # fully transparent: white
    assert colour["a/palette_trns.png"] == pytest.approx([255, 255, 255])
    assert colour["a/palette.png"] == pytest.approx([0, 128, 255], abs=2)
    assert colour["b/deep16.png"] == pytest.approx([155.6] * 3, abs=1)  # 40000/65535*255, not clipped
    assert colour["b/cmyk.jpg"] == pytest.approx([255, 0, 0], abs=8)
    assert colour["b/c/old.bmp"] == pytest.approx([200, 100, 0], abs=2)
    assert colour["b/c/nested.webp"] == pytest.approx([10, 20, 30], abs=4)


@pytest.mark.parametrize("channels", [1, 3])
def test_transparent_area_turns_white(tmp_path, channels):
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)  # transparent black on the left
    rgba[:, 20:] = (255, 0, 0, 255)  # opaque red on the right
    _save(tmp_path / "x.png", Image.fromarray(rgba, "RGBA"))
    image = _load(tmp_path, channels=channels, image_size=28).images[0]
    assert (image[:, :, :12] == 255).all()
    red = (255, 0, 0) if channels == 3 else (76,)  # luma of pure red
    assert image[:, :, 16:].float().mean(dim=(1, 2)).tolist() == pytest.approx(red, abs=1)


def test_exif_orientation_is_applied(tmp_path):
    # Wide and large enough for the JPEG decoder to scale it down; the centre square is white on top.
    stored = np.zeros((240, 480), dtype=np.uint8)
    stored[:120] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    path = _save(tmp_path / "phone.jpg", Image.fromarray(stored), exif=exif, quality=95)
    image = _load(tmp_path, channels=1, image_size=28).images[0, 0].float()
    assert image[:, :10].mean() < 30 and image[:, 18:].mean() > 225  # white top became the right side
    with Image.open(path) as img:
        expected = ImageOps.fit(ImageOps.exif_transpose(img), (28, 28), Image.Resampling.LANCZOS)
    assert np.abs(image.numpy() - np.asarray(expected, dtype=np.float32)).mean() < 3


def test_bad_files_are_skipped_and_named_in_one_warning(tmp_path):
    good = _save(tmp_path / "good.png", Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3),
                                                                                           dtype=np.uint8)))
    (tmp_path / "corrupt.png").write_bytes(os.urandom(500))
    (tmp_path / "truncated.png").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "letter.webp").write_text("not an image")
    (tmp_path / "notes.txt").write_text("not an image and not counted")
    data = _load(tmp_path, channels=3, image_size=28)
    assert len(data) == 1
    assert len(data.warnings) == 1
    warning = data.warnings[0]
    assert warning.startswith("Skipped 4 files") and "\n" not in warning
    for name in ("corrupt.png", "truncated.png", "empty.jpg", "letter.webp"):
        assert name in warning
    assert "notes.txt" not in warning and "good.png" not in warning


def test_many_bad_files_are_summarised(tmp_path):
    _solid(tmp_path / "good.png", 0)
    for i in range(8):
        (tmp_path / f"bad{i}.jpg").write_bytes(b"")
    (warning,) = _load(tmp_path).warnings
    assert "Skipped 8 files" in warning and "bad4.jpg and 3 more" in warning and "bad5.jpg" not in warning


def test_only_bad_files_is_an_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG nonsense")
    (tmp_path / "b.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="None of the 2 image files") as err:
        _load(tmp_path)
    assert "a.png" in str(err.value) and "b.jpg" in str(err.value)


def test_folder_without_images_is_an_error(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    _solid(tmp_path / ".hidden.png", 0)  # hidden files (e.g. macOS "._x.jpg") do not count
    (tmp_path / "sub").mkdir()
    with pytest.raises(DataError, match="no png, jpg") as err:
        _load(tmp_path)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("case", ["missing", "file", "none"])
def test_missing_folder_is_an_error(tmp_path, case):
    root = {"missing": tmp_path / "nope", "file": _solid(tmp_path / "x.png", 0), "none": None}[case]
    with pytest.raises(DataError, match="choose a folder with images") as err:
        load_folder(DataConfig(dataset="folder", root=None if root is None else str(root)))
    if root is not None:
        assert str(root) in str(err.value)


def test_labels_come_from_first_level_sub_folders(tmp_path):
    _solid(tmp_path / "dog" / "z.png", 30)
    _solid(tmp_path / "cat" / "y.png", 20)
    _solid(tmp_path / "cat" / "x.png", 10)
    _solid(tmp_path / "dog" / "deeper" / "w.png", 40)
    data = _load(tmp_path, labels=True)
    assert data.class_names == ("cat", "dog") and data.num_classes == 2
    assert data.labels.tolist() == [0, 0, 1, 1] and str(data.labels.dtype) == "torch.int64"
    # sorted relative paths: cat/x, cat/y, dog/deeper/w, dog/z
    assert data.images[:, 0, 10, 10].tolist() == [10, 20, 40, 30]

    unlabelled = _load(tmp_path, labels=False)
    assert unlabelled.labels is None and len(unlabelled) == 4 and unlabelled.class_names == ()


def test_labels_with_images_in_the_root_is_an_error(tmp_path):
    _solid(tmp_path / "cat" / "x.png", 10)
    _solid(tmp_path / "loose.png", 10)
    with pytest.raises(DataError, match="one sub-folder per class") as err:
        _load(tmp_path, labels=True)
    assert "loose.png" in str(err.value)


def test_num_images_takes_the_first_in_sorted_order(tmp_path):
    for i in (4, 0, 3, 1, 2):
        _solid(tmp_path / f"img{i}.png", 10 * i)
    assert _load(tmp_path).images[:, 0, 5, 5].tolist() == [0, 10, 20, 30, 40]
    assert _load(tmp_path, num_images=2).images[:, 0, 5, 5].tolist() == [0, 10]
    assert len(_load(tmp_path, num_images=50)) == 5


def test_num_images_replaces_bad_files_and_keeps_every_class(tmp_path):
    (tmp_path / "a" / "0.png").parent.mkdir()
    (tmp_path / "a" / "0.png").write_bytes(b"")
    for i in range(1, 4):
        _solid(tmp_path / "a" / f"{i}.png", i)
        _solid(tmp_path / "b" / f"{i}.png", 100 + i)
    data = _load(tmp_path, labels=True, num_images=4)
    assert data.labels.tolist() == [0, 0, 1, 1]
    assert data.images[:, 0, 5, 5].tolist() == [1, 2, 101, 102]
    assert "a/0.png" in data.warnings[0]


def test_second_load_is_a_cache_hit_and_changes_invalidate_it(tmp_path, monkeypatch):
    for i in range(3):
        _solid(tmp_path / f"{i}.png", 50 * i)
    (tmp_path / "bad.png").write_bytes(b"junk")
    first = _load(tmp_path, channels=3, image_size=32)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(Image, "open", no_decoding)
    second = _load(tmp_path, channels=3, image_size=32)
    assert second.images.equal(first.images)
    assert second.warnings == first.warnings and "bad.png" in second.warnings[0]
    monkeypatch.undo()
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))

    opened = _opens(monkeypatch)
    _load(tmp_path, channels=1, image_size=32)  # another channel count: its own cache entry
    assert len(opened) == 4
    st = (tmp_path / "1.png").stat()
    os.utime(tmp_path / "1.png", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    opened.clear()
    _load(tmp_path, channels=3, image_size=32)
    assert len(opened) == 4
    _solid(tmp_path / "3.png", 200)
    opened.clear()
    assert len(_load(tmp_path, channels=3, image_size=32)) == 4
    assert len(opened) == 5
    opened.clear()
    _load(tmp_path, channels=3, image_size=32)
    assert opened == []


def test_registered_as_folder(tmp_path):
    _solid(tmp_path / "x.png", 0)
    assert "folder" in list_datasets()
    data = load_dataset(DataConfig(dataset="folder", root=str(tmp_path)))
    assert tuple(data.images.shape) == (1, 1, 28, 28)
