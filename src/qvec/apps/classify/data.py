"""Image data sets for the classifier: scikit-learn's bundled digits, MNIST-style IDX or .npz files, or a
folder of images in class sub-folders; and a seeded, stratified train/test split.

Every loader returns an ``ImageDataset`` of float32 images in [0, 1] (``[N, H, W]`` grey or ``[N, H, W, 3]``
colour) and integer labels. A missing or malformed file is an ``InputError`` that names it.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qvec.errors import InputError

__all__ = ["DATASETS", "ImageDataset", "load_dataset", "load_digits", "load_idx_folder", "load_image_folder",
           "load_npz", "read_idx", "stratified_split"]

DATASETS = ("digits", "mnist", "fashion-mnist", "npz", "images")
FASHION_CLASSES = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class ImageDataset:
    """Images ``[N, H, W]`` or ``[N, H, W, C]`` (float32 in [0, 1]), labels ``[N]`` (int64) and class names."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.images) != len(self.labels):
            raise InputError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray) -> ImageDataset:
        return ImageDataset(self.images[indices], self.labels[indices], self.classes)

    def flat(self) -> np.ndarray:
        """The images as rows of pixels ``[N, H * W * C]``."""
        return self.images.reshape(len(self.images), -1)


def load_digits() -> ImageDataset:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes): no download."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    return ImageDataset((bunch.images / 16.0).astype(np.float32), bunch.target.astype(np.int64),
                        tuple(str(name) for name in bunch.target_names))


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (the MNIST format; gzipped or not) as an array of its declared type and shape."""
    try:
        raw = path.read_bytes()
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_TYPES or data[3] == 0:
        raise InputError(f"{path}: not an IDX file (bad magic number)")
    ndim, dtype = data[3], np.dtype(_IDX_TYPES[data[2]])
    header = 4 + 4 * ndim
    if len(data) < header:
        raise InputError(f"{path}: IDX header truncated")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise InputError(f"{path}: IDX data holds {len(data)} bytes, its header {shape} says {expected}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape)


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, f"{stem}.gz", stem.replace("-idx", ".idx"), f"{stem.replace('-idx', '.idx')}.gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_folder(folder: Path, classes: tuple[str, ...] | None = None) -> ImageDataset:
    """MNIST or Fashion-MNIST from ``folder``: ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
    (``.gz`` or not), and the ``t10k-`` pair too when present (both are pooled, then split by ``stratified_split``)."""
    images, labels = [], []
    for prefix in ("train", "t10k"):
        image_file, label_file = _idx_file(folder, f"{prefix}-images-idx3-ubyte"), _idx_file(folder, f"{prefix}-labels-idx1-ubyte")
        if image_file is None and label_file is None and prefix == "t10k":
            continue
        if image_file is None or label_file is None:
            missing = f"{prefix}-images-idx3-ubyte" if image_file is None else f"{prefix}-labels-idx1-ubyte"
            raise InputError(f"--data {folder}: no {missing}[.gz] in this folder (MNIST-style IDX files expected)")
        pixels, targets = read_idx(image_file), read_idx(label_file)
        if pixels.ndim != 3 or targets.ndim != 1 or len(pixels) != len(targets):
            raise InputError(f"{image_file}: expected images [N, H, W] and {label_file.name} labels [N], "
                             f"got {pixels.shape} and {targets.shape}")
        images.append(pixels)
        labels.append(targets)
    return _dataset(np.concatenate(images), np.concatenate(labels), folder, classes)


def _dataset(images: np.ndarray, labels: np.ndarray, source: Path, classes: tuple[str, ...] | None) -> ImageDataset:
    """Images scaled to [0, 1] (integers by 255), labels as 0..K-1; ``classes`` names them when given."""
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
        raise InputError(f"{source}: images must be [N, H, W] or [N, H, W, 1 or 3], got shape {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images) or not np.issubdtype(labels.dtype, np.integer):
        raise InputError(f"{source}: labels must be {len(images)} integers, got {labels.dtype} of shape {labels.shape}")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    scaled = images.astype(np.float32) / (255.0 if np.issubdtype(images.dtype, np.integer) else 1.0)
    if not np.isfinite(scaled).all() or scaled.min() < 0 or scaled.max() > 1:
        raise InputError(f"{source}: image values must lie in [0, 1] (floats) or [0, 255] (integers)")
    values, codes = np.unique(labels, return_inverse=True)
    named = classes is not None and 0 <= values.min() and values.max() < len(classes)
    names = tuple(classes[value] if named else str(value) for value in values)
    return ImageDataset(scaled, codes.astype(np.int64), names)


def load_npz(path: Path) -> ImageDataset:
    """Images and labels from an ``.npz``: arrays ``x``/``y`` or ``images``/``labels``, or Keras' ``x_train``,
    ``y_train`` (with ``x_test``, ``y_test`` pooled in when present)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npz ({exc})") from None
    for image_key, label_key in (("x", "y"), ("images", "labels")):
        if image_key in arrays and label_key in arrays:
            return _dataset(arrays[image_key], arrays[label_key], path, None)
    if "x_train" in arrays and "y_train" in arrays:
        has_test = "x_test" in arrays and "y_test" in arrays
        images = np.concatenate([arrays["x_train"], arrays["x_test"]]) if has_test else arrays["x_train"]
        labels = np.concatenate([arrays["y_train"], arrays["y_test"]]) if has_test else arrays["y_train"]
        return _dataset(images, labels, path, None)
    raise InputError(f"{path}: expected arrays x and y, images and labels, or x_train and y_train; "
                     f"found {', '.join(sorted(arrays)) or 'none'}")


def load_image_folder(folder: Path, image_size: int, grey: bool) -> ImageDataset:
    """A folder of class sub-folders of images (Cats vs Dogs, say), each resized to ``image_size`` squared."""
    from PIL import Image, UnidentifiedImageError

    class_folders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_folders) < 2:
        raise InputError(f"--data {folder}: expected one sub-folder of images per class (at least 2), "
                         f"found {len(class_folders)}")
    images, labels = [], []
    for label, class_folder in enumerate(class_folders):
        files = sorted(p for p in class_folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputError(f"{class_folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
        for file in files:
            try:
                with Image.open(file) as image:
                    resized = image.convert("L" if grey else "RGB").resize((image_size, image_size), Image.BILINEAR)
            except (OSError, UnidentifiedImageError) as exc:
                raise InputError(f"{file}: not a readable image ({exc})") from None
            images.append(np.asarray(resized, dtype=np.uint8))
            labels.append(label)
    return ImageDataset(np.stack(images).astype(np.float32) / 255.0, np.array(labels, dtype=np.int64),
                        tuple(p.name for p in class_folders))


def load_dataset(name: str, path: Path | str | None = None, *, image_size: int = 28, grey: bool = True) -> ImageDataset:
    """The data set ``name`` (one of ``DATASETS``); all but ``digits`` read ``path`` (a folder, or an .npz file)."""
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; accepted: {', '.join(DATASETS)}")
    if name == "digits":
        if path is not None:
            raise InputError("--dataset digits is bundled and reads no --data; pick --dataset mnist, "
                             "fashion-mnist, npz or images for a path")
        return load_digits()
    if path is None:
        raise InputError(f"--dataset {name} needs --data PATH")
    path = Path(path)
    if not path.exists():
        raise InputError(f"--data {path}: no such file or folder")
    if name == "npz":
        return load_npz(path)
    if not path.is_dir():
        raise InputError(f"--data {path}: --dataset {name} reads a folder")
    if name == "images":
        return load_image_folder(path, image_size, grey)
    return load_idx_folder(path, FASHION_CLASSES if name == "fashion-mnist" else None)


def stratified_split(data: ImageDataset, *, test_fraction: float, seed: int, train_size: int | None = None,
                     test_size: int | None = None) -> tuple[ImageDataset, ImageDataset]:
    """A seeded split that keeps the class proportions; ``train_size``/``test_size`` cap each part (a stratified
    subset, as ``--quick-test`` takes)."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(data))
    n_test = max(int(round(test_fraction * len(data))), len(data.classes))
    if n_test >= len(data) - len(data.classes) or np.bincount(data.labels).min() < 2:
        raise InputError(f"{len(data)} images in {len(data.classes)} classes are too few to split into train "
                         "and test sets with every class in both")
    train, test = train_test_split(indices, test_size=n_test, stratify=data.labels, random_state=seed)
    return data.subset(_cap(train, train_size, data.labels, seed)), data.subset(_cap(test, test_size, data.labels, seed))


def _cap(indices: np.ndarray, size: int | None, labels: np.ndarray, seed: int) -> np.ndarray:
    """At most ``size`` of ``indices``, chosen stratified and seeded."""
    if size is None or size >= len(indices):
        return indices
    from sklearn.model_selection import train_test_split

    if size < len(np.unique(labels[indices])):
        raise InputError(f"a subset of {size} cannot hold one image of each of {len(np.unique(labels))} classes")
    kept, _ = train_test_split(indices, train_size=size, stratify=labels[indices], random_state=seed)
    return np.sort(kept)
