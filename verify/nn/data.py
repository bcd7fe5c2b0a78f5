"""Data sets for the torch path: scikit-learn's bundled 8x8 digits (default) and real MNIST read
from IDX files in a directory the user names. Nothing is ever downloaded.

Normalization
-------------
``'scalar'`` (default): pixels are divided by their maximum (16 for digits, 255 for MNIST), then one
scalar mean and one scalar standard deviation, both taken over every pixel of the *training* set,
are subtracted/divided — the way MNIST is usually normalized (0.1307/0.3081). Constant pixels stay
constant (they become ``-mean/std``).

``'per_feature'``: each pixel is standardized with its own training mean/std; pixels that are
constant on the training set (std = 0) are mapped to 0. (With this option the large-rho failure of
SAM on digits is a different one: weights collapse and oscillate, GradRatio >> 1. The diagnostics in
:mod:`verify.nn.point_check` tell the two apart.)

``'none'``: pixels/max only.

The train/test split of digits is fixed (stratified, ``random_state=0``, 25 % test), so every run and
every seed sees the same 1347 training and 450 test images.
"""
from __future__ import annotations

import functools
import gzip
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SamVerifyError

NORMALIZATIONS = ("scalar", "per_feature", "none")


class DataFileError(SamVerifyError):
    """A data file that was asked for is missing (nothing is downloaded)."""


class DataFormatError(SamVerifyError):
    """A data file exists but is not what it claims to be (bad magic number, truncated, ...)."""


class DataMismatchError(SamVerifyError):
    """Data that is not the data a checkpoint was trained on."""


@dataclass
class Dataset:
    """Train/test arrays (numpy float64 features, int64 labels) and how they were made."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    normalization: str
    n_classes: int = 10
    stats: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])

    def constant_features(self, tol: float = 0.0) -> np.ndarray:
        """Indices of input features that are constant on the training set (they create extra
        continuous parameter symmetries of an MLP; see :mod:`verify.nn.point_check`)."""
        spread = self.X_train.max(axis=0) - self.X_train.min(axis=0)
        return np.flatnonzero(spread <= tol)

    def identity(self) -> dict:
        """What a checkpoint records of its data: name, normalization, sizes and a fingerprint of
        the training arrays, so that a check or a resume on other data is refused, not run."""
        return dict(self._identity)

    @functools.cached_property
    def _identity(self) -> dict:
        # hashed once per data set (0.5 s at MNIST size; every chunk of a sweep records it)
        import hashlib
        h = hashlib.sha256(np.ascontiguousarray(self.X_train, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.y_train, dtype=np.int64).tobytes())
        return {"name": self.name, "normalization": self.normalization, "n_train": self.n_train,
                "n_test": int(self.X_test.shape[0]), "sha256": h.hexdigest()[:16]}

    def require_identity(self, recorded: dict | None, what: str) -> None:
        """Raise when ``recorded`` (a checkpoint's :meth:`identity`) is not this data set."""
        if not recorded:
            return                          # checkpoints from before identities were recorded
        mine = self.identity()
        diff = {k: (recorded.get(k), mine[k]) for k in ("name", "normalization", "n_train", "sha256")
                if recorded.get(k) != mine[k]}
        if diff:
            raise DataMismatchError(
                f"{what}: the checkpoint was trained on other data ("
                + ", ".join(f"{k} {a!r} there, {b!r} here" for k, (a, b) in diff.items())
                + "); load the same data (e.g. --n-train, --normalization, --mnist-dir)")

    def tensors(self, device=None, dtype=None):
        """(X_train, y_train, X_test, y_test) as torch tensors."""
        import torch
        dtype = dtype or torch.float64
        f = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
        g = lambda a: torch.as_tensor(a, dtype=torch.long, device=device)  # noqa: E731
        return f(self.X_train), g(self.y_train), f(self.X_test), g(self.y_test)

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first ``n_train`` / ``n_test`` samples (same normalization statistics)."""
        _check_counts(n_train, n_test)
        return Dataset(self.name, self.X_train[:n_train],
                       self.y_train[:n_train], self.X_test[:n_test], self.y_test[:n_test],
                       self.normalization, self.n_classes, dict(self.stats))


def _check_counts(n_train, n_test) -> None:
    # a slice [:n] with n <= 0 would silently drop samples from the end or keep all of them
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        if n is not None and int(n) < 1:
            raise SamVerifyError(f"{name} must be >= 1 (or omitted for all samples), got {n}")


def normalize(X_train: np.ndarray, X_test: np.ndarray, how: str):
    """Apply one of :data:`NORMALIZATIONS` with statistics from the training set only."""
    if how not in NORMALIZATIONS:
        raise SamVerifyError(f"unknown normalization {how!r}; choose one of {NORMALIZATIONS}")
    if how == "none":
        return X_train, X_test, {}
    if how == "scalar":
        mean, std = float(X_train.mean()), float(X_train.std())
        return (X_train - mean) / std, (X_test - mean) / std, {"mean": mean, "std": std}
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    safe = np.where(std > 0, std, 1.0)
    tr, te = (X_train - mean) / safe, (X_test - mean) / safe
    tr[:, std == 0] = 0.0
    te[:, std == 0] = 0.0
    return tr, te, {"n_constant": int((std == 0).sum())}


def load_digits(normalization: str = "scalar", test_size: float = 0.25, random_state: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 images), pixels/16, fixed stratified split."""
    from sklearn.datasets import load_digits as _ld
    from sklearn.model_selection import train_test_split
    X, y = _ld(return_X_y=True)
    X = X.astype(np.float64) / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, random_state=random_state,
                                          stratify=y)
    Xtr, Xte, stats = normalize(Xtr, Xte, normalization)
    return Dataset("digits", Xtr, ytr.astype(np.int64), Xte, yte.astype(np.int64), normalization,
                   10, stats)


# -- MNIST from IDX files --------------------------------------------------------------------------
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        p = directory / name
        if p.is_file():
            return p
    raise DataFileError(f"MNIST file {stem} (or {stem}.gz) not found in {directory}; put the four "
                        f"IDX files there (this library never downloads data)")


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a uint8 array, checking its header."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"IDX file {path} does not exist")
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataFormatError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 8:
        raise DataFormatError(f"IDX file {path} is truncated ({len(raw)} bytes, no header)")
    zero, dtype_code, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    magic = struct.unpack(">I", raw[:4])[0]
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 2, 3, 4):
        raise DataFormatError(f"IDX file {path} has magic number {magic:#010x}; expected an "
                              f"unsigned-byte IDX file (0x0000080N)")
    if expected_magic is not None and magic != expected_magic:
        raise DataFormatError(f"IDX file {path} has magic number {magic} but {expected_magic} was "
                              f"expected ({'images' if expected_magic == 2051 else 'labels'})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(f"IDX file {path} is truncated inside its header")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    count = int(np.prod(dims))
    if len(raw) - header != count:
        raise DataFormatError(f"IDX file {path} declares shape {dims} ({count} bytes) but holds "
                              f"{len(raw) - header} data bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(directory: str | os.PathLike, normalization: str = "scalar",
               n_train: int | None = None, n_test: int | None = None) -> Dataset:
    """Real MNIST from the four IDX files in ``directory`` (plain or .gz); flattened to 784
    features, pixels/255, then normalized as in :func:`normalize`."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataFileError(f"MNIST directory {directory} does not exist (nothing is downloaded)")
    arrays = {}
    for key, stem in MNIST_FILES.items():
        arrays[key] = read_idx(_find(directory, stem), 2051 if "images" in key else 2049)
    for part in ("train", "test"):
        imgs, labs = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if imgs.ndim != 3 or labs.ndim != 1 or imgs.shape[0] != labs.shape[0]:
            raise DataFormatError(f"MNIST {part} images {imgs.shape} and labels {labs.shape} do not "
                                  f"match")
        if labs.size and labs.max() > 9:
            raise DataFormatError(f"MNIST {part} labels contain {int(labs.max())} > 9")
    _check_counts(n_train, n_test)
    shapes = {part: arrays[f"{part}_images"].shape[1:] for part in ("train", "test")}
    if shapes["train"] != shapes["test"]:
        raise DataFormatError(f"MNIST train images are {shapes['train']} but test images are "
                              f"{shapes['test']}: not one data set")
    if not len(arrays["train_images"]):
        raise DataFormatError(f"the MNIST training file in {directory} holds no images")
    Xtr = arrays["train_images"].reshape(len(arrays["train_images"]), -1)[:n_train] / 255.0
    Xte = arrays["test_images"].reshape(len(arrays["test_images"]), -1)[:n_test] / 255.0
    ytr = arrays["train_labels"][:n_train].astype(np.int64)
    yte = arrays["test_labels"][:n_test].astype(np.int64)
    Xtr, Xte, stats = normalize(Xtr.astype(np.float64), Xte.astype(np.float64), normalization)
    return Dataset("mnist", Xtr, ytr, Xte, yte, normalization, 10, stats)


def load(name: str = "digits", normalization: str = "scalar", mnist_dir: str | None = None,
         **kw) -> Dataset:
    """``load('digits')`` or ``load('mnist', mnist_dir=...)``."""
    if name == "digits":
        return load_digits(normalization, **kw)
    if name == "mnist":
        if not mnist_dir:
            raise DataFileError("MNIST needs --mnist-dir: a directory holding the four IDX files")
        return load_mnist(mnist_dir, normalization, **kw)
    raise SamVerifyError(f"unknown data set {name!r}; choose 'digits' or 'mnist'")
