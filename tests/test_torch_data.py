"""Data loading for the torch path: digits normalization/split and the MNIST IDX reader."""
import gzip
import os
import struct

import numpy as np
import pytest

from verify.nn.data import DataFileError, DataFormatError, load, load_digits, load_mnist, read_idx
from verify.errors import SamVerifyError


def test_digits_scalar_normalization_and_fixed_split():
    d = load_digits()
    assert d.X_train.shape == (1347, 64) and d.X_test.shape == (450, 64)
    assert abs(d.X_train.mean()) < 1e-12 and abs(d.X_train.std() - 1) < 1e-12
    assert d.stats["mean"] > 0 and d.normalization == "scalar"
    d2 = load_digits()
    assert np.array_equal(d.y_train, d2.y_train) and np.array_equal(d.X_test, d2.X_test)
    assert list(d.constant_features()) == list(d2.constant_features())
    assert list(d.constant_features()) == [0, 24, 32, 39]   # always-blank pixels of the split


def test_digits_per_feature():
    d = load_digits("per_feature")
    live = d.X_train.std(0) > 0
    assert np.allclose(d.X_train[:, live].mean(0), 0, atol=1e-12)
    assert np.allclose(d.X_train[:, live].std(0), 1, atol=1e-12)
    assert np.all(d.X_train[:, ~live] == 0)
    with pytest.raises(ValueError):
        load_digits("bogus")


def _write_idx(path, arr, magic_dims, compress=False):
    header = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    raw = header + arr.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)


def _fake_mnist(tmp_path, n=20, compress=False):
    rng = np.random.RandomState(0)
    for part, m in (("train", n), ("t10k", n // 2)):
        _write_idx(tmp_path / f"{part}-images-idx3-ubyte", rng.randint(0, 256, (m, 28, 28)), 3, compress)
        _write_idx(tmp_path / f"{part}-labels-idx1-ubyte", rng.randint(0, 10, m), 1, compress)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reader_on_synthetic_idx(tmp_path, compress):
    _fake_mnist(tmp_path, compress=compress)
    d = load_mnist(tmp_path)
    assert d.X_train.shape == (20, 784) and d.X_test.shape == (10, 784)
    assert abs(d.X_train.mean()) < 1e-12
    assert load("mnist", mnist_dir=str(tmp_path), n_train=5).n_train == 5


def test_mnist_missing_and_malformed(tmp_path):
    with pytest.raises(DataFileError, match="not found"):
        load_mnist(tmp_path)
    with pytest.raises(DataFileError, match="does not exist"):
        load_mnist(tmp_path / "nope")
    with pytest.raises(DataFileError):
        load("mnist")
    _fake_mnist(tmp_path)
    bad = tmp_path / "train-labels-idx1-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")   # declares 9 labels, holds 3
    with pytest.raises(DataFormatError, match="declares"):
        load_mnist(tmp_path)
    bad.write_bytes(b"garbage!")
    with pytest.raises(DataFormatError, match="magic"):
        read_idx(bad)
    (tmp_path / "t.idx").write_bytes(b"\x00\x00")
    with pytest.raises(DataFormatError, match="truncated"):
        read_idx(tmp_path / "t.idx")
    _fake_mnist(tmp_path)
    with pytest.raises(DataFormatError, match="expected"):
        read_idx(tmp_path / "train-labels-idx1-ubyte", 2051)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((10, 20, 20)), 3)   # 20x20 test images
    with pytest.raises(DataFormatError, match="not one data set"):
        load_mnist(tmp_path)
    _fake_mnist(tmp_path)
    for n in (0, -5):
        with pytest.raises(SamVerifyError, match="n_train"):
            load_mnist(tmp_path, n_train=n)


MNIST_DIR = os.environ.get("SAM_VERIFY_MNIST_DIR", "")


@pytest.mark.skipif(not (MNIST_DIR and os.path.isdir(MNIST_DIR)),
                    reason="real MNIST IDX files absent (set SAM_VERIFY_MNIST_DIR)")
def test_real_mnist():
    d = load_mnist(MNIST_DIR)
    assert d.X_train.shape == (60000, 784) and d.X_test.shape == (10000, 784)
    assert abs(d.stats["mean"] - 0.1307) < 1e-3 and abs(d.stats["std"] - 0.3081) < 1e-3


# The default suite runs the MNIST commands on a small model (784-4-10, d = 3,190) and 20 synthetic
# images, without the attraction test (tests/test_torch_check.py runs it); --runslow adds the
# paper's configuration (784-128-10, d = 101,770, 60 images) with it. Nearly all of the paper-size
# run's time (12 min on a loaded machine, profiled) is the attraction test's distance estimate: LSMR
# on the matrix-free SAM-map Jacobian, ~3000 Hessian-vector products at d = 1e5 (and still
# ~470 products, 20 s, at d = 3,190); of the small run's remaining time most went to timing torch
# thread counts (tests/test_threads.py checks that policy), so it runs on one thread.
@pytest.mark.parametrize("width,n_images,attraction_steps", [
    (4, 20, 0), pytest.param(128, 60, 2, marks=pytest.mark.slow, id="paper-size")])
def test_mnist_commands_on_synthetic_idx(tmp_path, capsys, monkeypatch, width, n_images, attraction_steps):
    """The MNIST configuration through the command line (sweep, train with a checkpoint, check at the
    stalled point), on synthetic IDX files and a few steps, so that the path the GPU run takes is
    exercised on CPU; the check reports the model's dimension and, within budgets far below d,
    that nothing converged rather than the estimates as results."""
    import json
    from verify.cli import main
    from verify.nn.threads import ENV
    if width < 128:
        monkeypatch.setenv(ENV, "1")
    _fake_mnist(tmp_path, n=n_images)
    common = ["--data", "mnist", "--mnist-dir", str(tmp_path), "--width", str(width), "--quiet", "--json"]
    assert main(["mlp", "sweep", "--rhos", "1.0,1.9", "--seeds", "2", "--steps", "4",
                 "--row-chunk", "3", "--workers", "0", *common]) == 0
    sw = json.loads(capsys.readouterr().out)
    assert sw["data"] == "mnist" and len(sw["rows"]) == 4          # (SAM-only, switching) x 2 rhos
    ck = tmp_path / "run.pt"
    assert main(["mlp", "train", "--rho", "1.9", "--steps", "4", "--seeds", "1", "--out", str(ck),
                 *common]) == 0
    capsys.readouterr()
    assert main(["mlp", "check", "--checkpoint", str(ck), "--mnist-dir", str(tmp_path),
                 "--sigma-budget", "8", "--map-budget", "8", "--attraction-steps", str(attraction_steps),
                 "--json"]) == 0
    chk = json.loads(capsys.readouterr().out)
    assert chk["dim"] == 784 * width + width + width * 10 + 10
    assert ("attraction" in chk) is (attraction_steps > 0)
    if attraction_steps:
        assert chk["attraction"]["steps"] == attraction_steps
    # within the budgets nothing converges, and the output says so rather than reporting the
    # estimates as results
    assert chk["converged"] == {"du_extremes": False, "sym_du_min": False, "sigma_min": False,
                                "sam_map": False}
    assert chk["sigma_min"]["value"] is None and chk["sigma_min"]["lower_bound"] is None
