"""Data loaders: bundled digits, IDX (gz or not), .npz, image folders; bad paths; the stratified split."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from qvec.apps.classify.data import load_dataset, read_idx, stratified_split
from qvec.errors import InputError


def _idx_bytes(array: np.ndarray) -> bytes:
    """The IDX format by its specification: two zero bytes, type 0x08 (ubyte), ndim, big-endian sizes, data."""
    return b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _write_mnist(folder, images: np.ndarray, labels: np.ndarray, gz: bool, prefix: str = "train") -> None:
    folder.mkdir(exist_ok=True)
    for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = _idx_bytes(array)
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)


def _tiny_images(n: int = 20, classes: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 5, 4), dtype=np.uint8), np.arange(n, dtype=np.uint8) % classes


def test_digits_are_bundled_8x8_in_unit_range() -> None:
    data = load_dataset("digits")
    assert data.images.shape == (1797, 8, 8) and data.images.dtype == np.float32
    assert data.images.min() == 0 and data.images.max() == 1
    assert data.classes == tuple("0123456789") and np.bincount(data.labels).min() >= 170


@pytest.mark.parametrize("gz", [False, True])
def test_an_idx_folder_reads_back_what_was_written(tmp_path, gz) -> None:
    images, labels = _tiny_images()
    _write_mnist(tmp_path / "mnist", images, labels, gz)
    data = load_dataset("mnist", tmp_path / "mnist")
    np.testing.assert_array_equal(data.images, images / np.float32(255))
    np.testing.assert_array_equal(data.labels, labels)


def test_the_t10k_pair_is_pooled_and_fashion_classes_are_named(tmp_path) -> None:
    images, labels = _tiny_images(30, classes=10)
    _write_mnist(tmp_path / "f", images[:20], labels[:20], gz=True)
    _write_mnist(tmp_path / "f", images[20:], labels[20:], gz=False, prefix="t10k")
    data = load_dataset("fashion-mnist", tmp_path / "f")
    assert len(data) == 30 and data.classes[0] == "T-shirt" and data.classes[9] == "Boot"


def test_read_idx_matches_numpy_for_a_3d_array(tmp_path) -> None:
    images, _ = _tiny_images()
    (tmp_path / "x").write_bytes(_idx_bytes(images))
    np.testing.assert_array_equal(read_idx(tmp_path / "x"), images)


@pytest.mark.parametrize("content, message", [
    (b"\x08\x03\x00\x00rest", "bad magic number"),
    (_idx_bytes(np.zeros((2, 3, 3), np.uint8))[:-1], "header .* says"),
    (b"\x00\x00\x08\x03\x00", "header truncated"),
])
def test_a_malformed_idx_file_is_one_error_naming_it(tmp_path, content, message) -> None:
    (tmp_path / "train-images-idx3-ubyte").write_bytes(content)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(InputError, match=rf"train-images-idx3-ubyte: .*{message}"):
        load_dataset("mnist", tmp_path)


def test_an_idx_folder_without_labels_names_the_missing_file(tmp_path) -> None:
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(np.zeros((2, 3, 3), np.uint8)))
    with pytest.raises(InputError, match="no train-labels-idx1-ubyte"):
        load_dataset("mnist", tmp_path)


@pytest.mark.parametrize("keys", [("x", "y"), ("images", "labels"), ("x_train", "y_train")])
def test_npz_files_with_each_naming(tmp_path, keys) -> None:
    images, labels = _tiny_images()
    np.savez(tmp_path / "d.npz", **{keys[0]: images, keys[1]: labels.astype(np.int64) + 3})
    data = load_dataset("npz", tmp_path / "d.npz")
    np.testing.assert_array_equal(data.images * 255, images.astype(np.float32))
    np.testing.assert_array_equal(data.labels, labels)  # 3, 4 -> 0, 1
    assert data.classes == ("3", "4")


@pytest.mark.parametrize("arrays, message", [
    ({"a": np.zeros(3)}, "expected arrays x and y.*found a"),
    ({"x": np.zeros((4, 2, 2)), "y": np.zeros(3, np.int64)}, "labels must be 4 integers"),
    ({"x": np.full((2, 2, 2), 2.0), "y": np.zeros(2, np.int64)}, r"values must lie in \[0, 1\]"),
])
def test_a_malformed_npz_is_one_error_naming_it(tmp_path, arrays, message) -> None:
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InputError, match=rf"bad.npz: .*{message}"):
        load_dataset("npz", tmp_path / "bad.npz")


def test_a_file_that_is_not_npz_is_one_error(tmp_path) -> None:
    (tmp_path / "x.npz").write_text("not a zip")
    with pytest.raises(InputError, match="x.npz: not a readable .npz"):
        load_dataset("npz", tmp_path / "x.npz")


def _image_folder(root, sizes=((10, 6), (7, 9))) -> None:
    for label, colour in (("cats", (200, 0, 0)), ("dogs", (0, 0, 255))):
        (root / label).mkdir(parents=True)
        for i, size in enumerate(sizes):
            Image.new("RGB", size, colour).save(root / label / f"{i}.png")


def test_an_image_folder_is_resized_with_classes_from_sub_folders(tmp_path) -> None:
    _image_folder(tmp_path)
    grey = load_dataset("images", tmp_path, image_size=5, grey=True)
    colour = load_dataset("images", tmp_path, image_size=5, grey=False)
    assert grey.images.shape == (4, 5, 5) and colour.images.shape == (4, 5, 5, 3)
    assert grey.classes == ("cats", "dogs") and grey.labels.tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(colour.images[0, 2, 2], [200 / 255, 0, 0], atol=1e-6)
    np.testing.assert_allclose(grey.images[0, 2, 2], round(200 * 299 / 1000) / 255, atol=1e-6)  # ITU-R 601-2 luma


def test_an_unreadable_image_is_named(tmp_path) -> None:
    _image_folder(tmp_path)
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="broken.png: not a readable image"):
        load_dataset("images", tmp_path)


@pytest.mark.parametrize("name", ["mnist", "npz", "images"])
def test_a_missing_path_is_one_error_naming_it(tmp_path, name) -> None:
    with pytest.raises(InputError, match=f"--data {tmp_path / 'nowhere'}: no such file or folder"):
        load_dataset(name, tmp_path / "nowhere")


def test_a_dataset_that_needs_a_path_says_so() -> None:
    with pytest.raises(InputError, match="--dataset mnist needs --data PATH"):
        load_dataset("mnist")


def test_split_is_stratified_seeded_and_disjoint() -> None:
    data = load_dataset("digits")
    train, test = stratified_split(data, test_fraction=0.2, seed=3)
    again, _ = stratified_split(data, test_fraction=0.2, seed=3)
    np.testing.assert_array_equal(train.images, again.images)
    assert len(test) == round(0.2 * len(data)) and len(train) + len(test) == len(data)
    np.testing.assert_allclose(np.bincount(test.labels) / len(test), np.bincount(data.labels) / len(data), atol=0.01)
    flat_train = {row.tobytes() for row in train.flat()}
    assert sum(row.tobytes() in flat_train for row in test.flat()) <= 5  # digits holds a few duplicate images


def test_split_caps_are_stratified_subsets() -> None:
    train, test = stratified_split(load_dataset("digits"), test_fraction=0.2, seed=0, train_size=100, test_size=50)
    assert len(train) == 100 and len(test) == 50
    assert np.bincount(train.labels).min() >= 9 and np.bincount(test.labels).min() >= 4


def test_fashion_names_follow_the_label_values_present(tmp_path) -> None:
    images, _ = _tiny_images(4)
    _write_mnist(tmp_path / "f", images, np.array([9, 0, 9, 0], np.uint8), gz=False)
    assert load_dataset("fashion-mnist", tmp_path / "f").classes == ("T-shirt", "Boot")
