"""Unpaired image folders (A/ and B/, for CycleGAN and DiscoGAN) and binary attributes for image folders
(a CelebA-style attributes file, or one-hot sub-folder classes, for StarGAN). Caches go to the session's
temp folder (tests/conftest.py)."""

import pytest
import torch
from PIL import Image

from ganstudio.config import DataConfig
from ganstudio.data import list_datasets, load_dataset
from ganstudio.data.base import DOMAIN_A, DOMAIN_B
from ganstudio.data.batches import DeviceBatches
from ganstudio.errors import DataError


def _colour(path, value):
    """An 8×8 RGB square of (value, 0, 255 - value)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (value, 0, 255 - value)).save(path)


def _unpaired(tmp_path, a=5, b=7, names=("A", "B")):
    """A/ with ``a`` images of red 10..10+a-1, B/ with ``b`` of red 100..100+b-1."""
    for i in range(a):
        _colour(tmp_path / names[0] / f"{i:02d}.png", 10 + i)
    for i in range(b):
        _colour(tmp_path / names[1] / f"{i:02d}.png", 100 + i)
    return tmp_path


def _load(root, dataset="unpaired", **data):
    return load_dataset(DataConfig(**{"dataset": dataset, "root": str(root), "channels": 3, **data}))


def _red(images):
    return images[:, 0, 4, 4].tolist()


# --- unpaired folders --------------------------------------------------------------------------------


def test_a_then_b_with_their_domains(tmp_path):
    data = _load(_unpaired(tmp_path))
    assert data.images.shape == (12, 3, 28, 28) and data.domain_names == ("A", "B")
    assert data.domains.tolist() == [0] * 5 + [1] * 7
    assert _red(data.images) == [10, 11, 12, 13, 14, 100, 101, 102, 103, 104, 105, 106]
    named = data.tensors()
    assert _red(named[DOMAIN_A]) == [10, 11, 12, 13, 14] and len(named[DOMAIN_B]) == 7
    assert data.warnings == () and data.labels is None and data.attributes is None
    assert "unpaired" in list_datasets()


def test_lower_case_folders_keep_their_names(tmp_path):
    data = _load(_unpaired(tmp_path, names=("a", "b")))
    assert data.domain_names == ("a", "b") and data.domains.tolist() == [0] * 5 + [1] * 7


def test_num_images_caps_each_domain_at_its_share(tmp_path):
    data = _load(_unpaired(tmp_path, a=6, b=12), num_images=9)
    assert _red(data.images) == [10, 11, 12, 100, 101, 102, 103, 104, 105]  # 3 of 6 and 6 of 12, sorted
    small = _load(tmp_path, num_images=3)  # a share below 3 is raised to 3
    assert small.domains.tolist() == [0, 0, 0, 1, 1, 1]


def test_held_out_split_keeps_both_domains(tmp_path):
    rest, held = _load(_unpaired(tmp_path)).split(4, seed=0)
    assert len(rest) == 8 and len(held) == 4
    for part in (rest, held):
        assert set(part.domains.tolist()) == {0, 1} and part.domain_names == ("A", "B")
    a_values = set(_red(rest.tensors()[DOMAIN_A]) + _red(held.tensors()[DOMAIN_A]))
    assert a_values == {10, 11, 12, 13, 14}


def test_batches_draw_a_and_b_of_one_size_from_collections_of_different_lengths(tmp_path):
    named = _load(_unpaired(tmp_path)).tensors()
    batches = DeviceBatches({k: named[k] for k in (DOMAIN_A, DOMAIN_B)}, batch_size=4,
                            device=torch.device("cpu"), seed=0)
    assert batches.steps_per_epoch == 1  # a pass over the longer collection (7 // 4)
    seen_a = set()
    for step in range(6):
        batch = batches.batch(step)
        assert batch[DOMAIN_A].shape == batch[DOMAIN_B].shape == (4, 3, 28, 28)
        a, b = (((batch[k][:, 0, 4, 4] + 1) * 127.5).round().int().tolist() for k in (DOMAIN_A, DOMAIN_B))
        assert set(a) <= set(range(10, 15)) and set(b) <= set(range(100, 107))
        assert len(set(a)) == 4  # no image twice within a batch
        seen_a |= set(a)
    assert seen_a == set(range(10, 15))


def test_corrupt_files_are_skipped_and_named(tmp_path):
    _unpaired(tmp_path)
    (tmp_path / "B" / "broken.png").write_bytes(b"not an image")
    (tmp_path / "B" / "empty.jpg").write_bytes(b"")
    data = _load(tmp_path)
    assert len(data) == 12
    assert data.warnings == ("Skipped 2 files that are empty, damaged or not images: B/broken.png, B/empty.jpg.",)


def test_missing_root_is_an_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        _load(tmp_path / "nowhere")


def test_missing_domain_folder_names_it_and_what_was_found(tmp_path):
    _colour(tmp_path / "A" / "0.png", 0)
    (tmp_path / "extra").mkdir()
    with pytest.raises(DataError) as error:
        _load(tmp_path)
    assert "has no B/ folder" in str(error.value) and "it holds A/, extra/" in str(error.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"has no A/ folder \(it holds no sub-folders\)"):
        _load(empty)


def test_a_domain_without_images_is_an_error(tmp_path):
    _unpaired(tmp_path, b=0)
    (tmp_path / "B").mkdir()
    with pytest.raises(DataError, match=r"B holds no png, jpg, jpeg, webp or bmp images"):
        _load(tmp_path)


def test_a_domain_without_a_readable_image_is_an_error(tmp_path):
    _unpaired(tmp_path, b=0)
    (tmp_path / "B").mkdir()
    for name in ("x.png", "y.jpg", "z.png"):
        (tmp_path / "B" / name).write_bytes(b"junk")
    with pytest.raises(DataError, match=r"None of the 3 image files in \S+B could be read \(x.png, y.jpg, z.png"):
        _load(tmp_path)


def test_a_domain_with_fewer_than_three_usable_images_is_an_error(tmp_path):
    _unpaired(tmp_path, a=3, b=3)
    (tmp_path / "A" / "01.png").write_bytes(b"junk")
    with pytest.raises(DataError, match=r"A has only 2 usable image\(s\); each of A/ and B/ needs at least 3"):
        _load(tmp_path)


# --- attributes for image folders --------------------------------------------------------------------


def _faces(root, count=4):
    """root/img/000001.png ... with red 10, 20, ..."""
    for i in range(count):
        _colour(root / "img" / f"{i + 1:06d}.png", 10 * (i + 1))
    return root


CELEBA_TXT = """4
Smiling  Male Eyeglasses
000001.png  1 -1 -1
000002.png -1  1 -1
000004.png  1  1  1
000009.png -1 -1 -1
"""


def test_attributes_from_a_celeba_text_file(tmp_path, monkeypatch):
    root = _faces(tmp_path / "data")
    (tmp_path / "list_attr_celeba.txt").write_text(CELEBA_TXT)
    data = _load(root, "folder", attributes_file=str(tmp_path / "list_attr_celeba.txt"))
    assert data.attribute_names == ("Smiling", "Male", "Eyeglasses")
    assert data.attributes.dtype == torch.float32
    assert data.attributes.tolist() == [[1, 0, 0], [0, 1, 0], [1, 1, 1]]  # matched by bare file name
    assert _red(data.images) == [10, 20, 40]
    assert data.warnings == (
        "1 image has no row in list_attr_celeba.txt and is left out: img/000003.png.",
        "1 row of list_attr_celeba.txt names a file not found in " + str(root.resolve()) + ": 000009.png.",
    )
    monkeypatch.setattr(Image, "open", None)  # the second load decodes nothing: the cache keeps the names
    cached = _load(root, "folder", attributes_file=str(tmp_path / "list_attr_celeba.txt"))
    assert cached.attributes.equal(data.attributes) and cached.images.equal(data.images)


def test_attributes_match_relative_paths_and_skip_ambiguous_bare_names(tmp_path):
    for folder, value in (("x", 10), ("y", 20)):
        _colour(tmp_path / folder / "1.png", value)
    _colour(tmp_path / "x" / "2.png", 30)
    table = tmp_path / "attrs.txt"
    table.write_text("3\nSmiling\nx/1.png 1\n1.png -1\n2.png 0\n")
    data = _load(tmp_path, "folder", attributes_file=str(table))
    assert _red(data.images) == [10, 30] and data.attributes.tolist() == [[1], [0]]
    assert "1 image has no row in attrs.txt and is left out: y/1.png." in data.warnings
    assert any("1 row of attrs.txt names a file not found" in w and w.endswith(": 1.png.") for w in data.warnings)


def test_attributes_from_a_csv_with_zero_one_values(tmp_path):
    root = _faces(tmp_path / "data", count=2)
    csv = tmp_path / "list_attr_celeba.csv"
    csv.write_text("image_id,Smiling,Male\n000001.png,1,0\n000002.png,0,1\n")
    data = _load(root, "folder", attributes_file=str(csv))
    assert data.attribute_names == ("Smiling", "Male") and data.attributes.tolist() == [[1, 0], [0, 1]]
    assert data.warnings == ()


def test_labels_give_one_hot_attributes_named_after_the_sub_folders(tmp_path):
    for folder, count in (("blond", 2), ("dark", 3), ("grey", 1)):
        for i in range(count):
            _colour(tmp_path / folder / f"{i}.png", i)
    data = _load(tmp_path, "folder", labels=True)
    assert data.attribute_names == data.class_names == ("blond", "dark", "grey")
    assert data.attributes.tolist() == [[1, 0, 0]] * 2 + [[0, 1, 0]] * 3 + [[0, 0, 1]]
    assert _load(tmp_path, "folder").attributes is None


@pytest.mark.parametrize("text, message", [
    ("3\nSmiling Male\n000001.png 1 -1\n000002.png 1\n000003.png 1 1\n",
     r"attrs.txt, line 4: expected a file name and 2 values, found 1 values"),
    ("2\nSmiling Male\n000001.png 1 -1\n000002.png 2 1\n",
     r"attrs.txt, line 4: '2' for Smiling is not 1, -1 or 0"),
    ("many\nSmiling\n000001.png 1\n", r"attrs.txt, line 1: the first line should be the number of images, not 'many'"),
    ("5\nSmiling\n000001.png 1\n", r"attrs.txt, line 1: says 5 images, but the file has 1 rows"),
    ("1\nSmiling\n000001.png 1\n000001.png -1\n", r"attrs.txt, line 1: says 1 images"),
    ("2\nSmiling\n000001.png 1\n000001.png -1\n", r"attrs.txt, line 4: 000001.png already has a row \(line 3\)"),
    ("image_id,Smiling\n000001.png,1\n000002.png,yes\n", r"attrs.txt, line 3: 'yes' for Smiling is not 1, -1 or 0"),
    ("", r"attributes file \S+ is empty"),
])
def test_bad_attribute_files_name_the_line_and_the_problem(tmp_path, text, message):
    root = _faces(tmp_path / "data")
    (tmp_path / "attrs.txt").write_text(text)
    with pytest.raises(DataError, match=message):
        _load(root, "folder", attributes_file=str(tmp_path / "attrs.txt"))


def test_attributes_that_name_no_image_of_the_folder_are_an_error(tmp_path):
    root = _faces(tmp_path / "data")
    (tmp_path / "attrs.txt").write_text("1\nSmiling\nother.jpg 1\n")
    with pytest.raises(DataError, match=r"None of the 4 images in \S+ has a row in attrs.txt .*such as other.jpg"):
        _load(root, "folder", attributes_file=str(tmp_path / "attrs.txt"))
    with pytest.raises(DataError, match="Cannot read the attributes file"):
        _load(root, "folder", attributes_file=str(tmp_path / "missing.txt"))
