import io
import json
import os
import sys
import types

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA

from memo_utils.engine import data
from memo_utils.errors import ConfigError, DataUnavailableError


def test_bundled_mnist_is_the_exact_head_of_mnist_and_passes_its_checksum():
    mnist = data.load("mnist")
    assert mnist.source == "bundled" and mnist.exact
    assert mnist.x_train.shape == (10000, 28, 28) and mnist.x_test.shape == (2000, 28, 28)
    if (SHARED_DATA / "mnist.npz").exists():
        with np.load(SHARED_DATA / "mnist.npz") as full:
            np.testing.assert_array_equal(mnist.x_train, full["x_train"][:10000])
            np.testing.assert_array_equal(mnist.y_test, full["y_test"][:2000])


def test_bundled_cifar_is_the_exact_first_4000_split_3000_1000():
    cifar = data.load("cifar10")
    assert cifar.x_train.shape == (3000, 32, 32, 3) and cifar.x_test.shape == (1000, 32, 32, 3)
    assert cifar.x_train[0, 0, 0, 0] == 59  # the first red value of data_batch_1


def test_a_tampered_bundled_file_is_refused(tmp_path, monkeypatch):
    for name in ("mnist_small.npz", "SHA256SUMS"):
        (tmp_path / name).write_bytes((data.BUNDLED_DIR / name).read_bytes())
    with open(tmp_path / "mnist_small.npz", "ab") as f:
        f.write(b"x")
    monkeypatch.setattr(data, "BUNDLED_DIR", tmp_path)
    with pytest.raises(DataUnavailableError, match="SHA256SUMS"):
        data.load("mnist")


def test_missing_full_data_names_the_three_ways_to_provide_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DOWNLOAD_CACHE", tmp_path)
    with pytest.raises(DataUnavailableError) as error:
        data.load("mnist", min_train=60000)
    message = str(error.value)
    assert "data_dir" in message and "torchvision" in message and "bundled" in message
    assert "\n" not in message


def test_unknown_dataset_is_a_one_line_error():
    with pytest.raises(ConfigError, match="dataset='svhn' is not allowed: choose one of mnist, cifar10"):
        data.load("svhn")


@pytest.mark.slow  # decodes 60,000 JPEGs
@pytest.mark.skipif(not (SHARED_DATA / "cifar10_jpeg.npz").exists(), reason="needs ../shared/data")
def test_full_cifar_from_the_shared_folder_is_labelled_as_the_jpeg_copy():
    cifar = data.load("cifar10", min_train=50000, data_dir=SHARED_DATA)
    assert cifar.label == "CIFAR-10 (JPEG copy)" and not cifar.exact
    assert cifar.x_train.shape == (50000, 32, 32, 3)
    small = data.load("cifar10", min_train=3000, data_dir=SHARED_DATA)
    assert small.exact and small.label == "CIFAR-10 (exact first 4,000)"


# --- data sources: verified archives, explicit data_dir, fingerprints --------------------------


def _mnist_like(path, n=20, seed=0):
    """A tiny archive with the layout of mnist.npz (and of the converted torchvision cache)."""
    rng = np.random.default_rng(seed)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, n, dtype=np.uint8),
        x_test=rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        y_test=np.arange(4, dtype=np.uint8),
    )
    return path


def _cifar_jpeg_like(path, n=6):
    """A tiny archive with the layout of cifar10_jpeg.npz: JPEG files concatenated, with offsets."""
    from PIL import Image

    arrays = {}
    for split in ("train", "test"):
        blobs = []
        for i in range(n):
            out = io.BytesIO()
            Image.fromarray(np.full((32, 32, 3), 20 * i, dtype=np.uint8)).save(out, format="JPEG")
            blobs.append(np.frombuffer(out.getvalue(), dtype=np.uint8))
        arrays[f"{split}_jpeg"] = np.concatenate(blobs)
        arrays[f"{split}_offsets"] = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
        arrays[f"y_{split}"] = np.arange(n, dtype=np.uint8) % 10
    np.savez(path, **arrays)
    return path


def _publish(monkeypatch, path):
    """Make ``path`` the published archive of its name, as the README's sums are for shared/data."""
    monkeypatch.setitem(data.PUBLISHED_SHA256, path.name, data.file_sha256(path))


def _one_line_error(call, *needles):
    with pytest.raises(DataUnavailableError) as error:
        call()
    message = str(error.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message


@pytest.mark.skipif(not (SHARED_DATA / "cifar10_exact_train_first4000.npz").exists(), reason="needs ../shared/data")
def test_a_truncated_shared_archive_in_a_data_folder_is_one_line_naming_it_and_both_sums(tmp_path):
    real = (SHARED_DATA / "cifar10_exact_train_first4000.npz").read_bytes()
    (tmp_path / "cifar10_exact_train_first4000.npz").write_bytes(real[: len(real) // 2])
    message = _one_line_error(
        lambda: data.load("cifar10", data_dir=tmp_path),
        str(tmp_path / "cifar10_exact_train_first4000.npz"),
        "0836cfd52738",
        "re-copy",
    )
    truncated = data.file_sha256(tmp_path / "cifar10_exact_train_first4000.npz")
    assert truncated[:12] in message


def test_a_garbage_archive_in_a_data_folder_is_refused_by_its_published_sum_and_extras_are_ignored(
    tmp_path, monkeypatch
):
    _publish(monkeypatch, _mnist_like(tmp_path / "mnist.npz"))
    (tmp_path / "notes.txt").write_text("not an archive")
    (tmp_path / "svhn.npz").write_bytes(b"garbage")  # an unknown extra file is nobody's business
    mnist = data.load("mnist", data_dir=tmp_path)
    assert mnist.source == "data_dir" and mnist.x_train.shape == (20, 28, 28)
    expected = data.PUBLISHED_SHA256["mnist.npz"]
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 garbage, not a zip archive")
    _one_line_error(
        lambda: data.load("mnist", data_dir=tmp_path),
        str(tmp_path / "mnist.npz"),
        expected[:12],
        "published",
        "re-copy",
        "remove it",
    )


def test_a_torchvision_cache_that_does_not_match_its_sidecar_says_to_delete_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DOWNLOAD_CACHE", tmp_path)
    cache = _mnist_like(tmp_path / "mnist.npz")
    (tmp_path / "mnist.npz.sha256").write_text("0" * 64 + "  mnist.npz\n")
    _one_line_error(lambda: data.load("mnist"), str(cache), "mnist.npz.sha256", "delete", "000000000000")


def test_an_unreadable_torchvision_cache_without_a_sidecar_says_to_delete_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DOWNLOAD_CACHE", tmp_path)
    (tmp_path / "mnist.npz").write_bytes(b"truncated")
    _one_line_error(lambda: data.load("mnist"), str(tmp_path / "mnist.npz"), "delete")


def test_the_torchvision_conversion_writes_a_sidecar_that_later_loads_check(tmp_path, monkeypatch):
    class FakeMNIST:  # stands in for torchvision.datasets.MNIST, which needs a network
        def __init__(self, root, train, download):
            n = 30 if train else 5
            self.data = np.full((n, 28, 28), 7, dtype=np.uint8)
            self.targets = np.arange(n) % 10

    fake = types.SimpleNamespace(datasets=types.SimpleNamespace(MNIST=FakeMNIST, CIFAR10=FakeMNIST))
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DOWNLOAD_CACHE", tmp_path)
    chosen = data.source("mnist", allow_download=True)
    assert chosen.origin == "torchvision" and chosen.n_train == 30
    assert (tmp_path / "mnist.npz.sha256").read_text().split()[0] == chosen.sha256
    assert data.load("mnist").x_train.shape == (30, 28, 28)  # found again in the cache, without a download
    _mnist_like(tmp_path / "mnist.npz", n=30, seed=1)  # the cache is replaced behind the sidecar's back
    _one_line_error(lambda: data.load("mnist"), "delete")


def test_an_old_sound_torchvision_cache_without_a_sidecar_is_read_through_and_given_one(tmp_path, monkeypatch):
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DOWNLOAD_CACHE", tmp_path)
    cache = _mnist_like(tmp_path / "mnist.npz")
    assert data.source("mnist").origin == "torchvision"
    assert (tmp_path / "mnist.npz.sha256").read_text().split()[0] == data.file_sha256(cache)


def test_a_bundled_file_missing_from_SHA256SUMS_is_a_one_line_error(tmp_path, monkeypatch):
    (tmp_path / "mnist_small.npz").write_bytes((data.BUNDLED_DIR / "mnist_small.npz").read_bytes())
    sums = (data.BUNDLED_DIR / "SHA256SUMS").read_text().splitlines()
    (tmp_path / "SHA256SUMS").write_text("\n".join(line for line in sums if "mnist_small" not in line) + "\n")
    monkeypatch.setattr(data, "BUNDLED_DIR", tmp_path)
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DOWNLOAD_CACHE", tmp_path / "no-cache")
    _one_line_error(
        lambda: data.load("mnist"),
        "mnist_small.npz has no entry",
        str(tmp_path / "SHA256SUMS"),
        "build_bundled_data.py",
    )


@pytest.mark.parametrize("kind", ["nonexistent", "file", "empty", "other_dataset_only"])
def test_an_unusable_data_dir_is_a_one_line_error_naming_it_not_a_fallback(tmp_path, kind):
    folder = tmp_path / "data"
    if kind == "file":
        folder.write_text("not a folder")
    elif kind != "nonexistent":
        folder.mkdir()
    if kind == "other_dataset_only":
        (folder / "cifar10_jpeg.npz").write_bytes(b"unused")
    message = _one_line_error(
        lambda: data.load("mnist", data_dir=folder),
        f"data_dir={str(folder)!r}",
        "mnist.npz, cifar10_exact_train_first4000.npz, cifar10_jpeg.npz",
    )
    if kind in ("empty", "other_dataset_only"):
        assert "holds no mnist.npz" in message


def test_memo_data_dir_is_named_when_it_is_the_unusable_source(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMO_DATA_DIR", str(tmp_path / "absent"))
    _one_line_error(lambda: data.source("cifar10"), f"MEMO_DATA_DIR={str(tmp_path / 'absent')!r}", "does not exist")


def test_a_data_dir_too_small_for_min_train_is_an_error_not_the_bundled_sample(tmp_path, monkeypatch):
    _publish(monkeypatch, _mnist_like(tmp_path / "mnist.npz", n=20))
    _one_line_error(
        lambda: data.load("mnist", min_train=100, data_dir=tmp_path),
        f"data_dir={str(tmp_path)!r}",
        "100 training images",
        "mnist.npz has 20",
    )
    # CIFAR-10 beyond the exact 3,000 needs the JPEG copy, which this folder lacks
    with np.load(data.BUNDLED_DIR / "cifar10_small.npz") as small:
        np.savez(
            tmp_path / "cifar10_exact_train_first4000.npz", x_train=small["x_train"][:40], y_train=small["y_train"][:40]
        )
    _publish(monkeypatch, tmp_path / "cifar10_exact_train_first4000.npz")
    assert data.source("cifar10", data_dir=tmp_path).exact
    _one_line_error(lambda: data.source("cifar10", min_train=4000, data_dir=tmp_path), "holds no cifar10_jpeg.npz")


def test_fingerprints_are_small_json_equal_for_equal_archives_and_differ_otherwise(tmp_path, monkeypatch):
    a, b, c = (tmp_path / "a", tmp_path / "b", tmp_path / "c")
    for folder in (a, b, c):
        folder.mkdir()
    _mnist_like(a / "mnist.npz", seed=0)
    (b / "mnist.npz").write_bytes((a / "mnist.npz").read_bytes())  # the same archive, copied
    _mnist_like(c / "mnist.npz", seed=1)
    _publish(monkeypatch, a / "mnist.npz")
    fa, fb = (data.fingerprint(data.source("mnist", data_dir=folder)) for folder in (a, b))
    assert fa == fb and json.loads(json.dumps(fa)) == fa
    _publish(monkeypatch, c / "mnist.npz")
    fc = data.fingerprint(data.source("mnist", data_dir=c))
    assert fc != fa and fc["sha256"] != fa["sha256"]
    # the JPEG copy and the exact split of CIFAR-10 are different data with different labels
    _publish(monkeypatch, _cifar_jpeg_like(a / "cifar10_jpeg.npz"))
    with np.load(data.BUNDLED_DIR / "cifar10_small.npz") as small:
        np.savez(a / "cifar10_exact_train_first4000.npz", x_train=small["x_train"][:40], y_train=small["y_train"][:40])
    _publish(monkeypatch, a / "cifar10_exact_train_first4000.npz")
    exact = data.source("cifar10", min_train=5, data_dir=a)
    (a / "cifar10_exact_train_first4000.npz").rename(tmp_path / "aside.npz")
    jpeg = data.source("cifar10", min_train=5, data_dir=a)
    assert exact.exact and exact.layout == "exact_first4000"  # the exact images are preferred when they suffice
    assert not jpeg.exact and jpeg.label == "CIFAR-10 (JPEG copy)"
    assert data.fingerprint(exact) != data.fingerprint(jpeg)
    assert data.fingerprint(data.source("cifar10")) != data.fingerprint(exact)  # bundled vs data_dir


@pytest.mark.skipif(not (SHARED_DATA / "cifar10_jpeg.npz").exists(), reason="needs ../shared/data")
def test_shared_fingerprints_tell_the_jpeg_copy_from_the_exact_split_without_decoding(monkeypatch):
    monkeypatch.setattr(data, "_decode_jpegs", lambda *a: pytest.fail("source() must not decode images"))
    exact = data.source("cifar10", min_train=3000, data_dir=SHARED_DATA)
    jpeg = data.source("cifar10", min_train=50000, data_dir=SHARED_DATA)
    assert exact.n_train == 3000 and jpeg.n_train == 50000
    assert data.fingerprint(exact)["sha256"] == data.PUBLISHED_SHA256["cifar10_exact_train_first4000.npz"]
    assert data.fingerprint(jpeg)["sha256"] == data.PUBLISHED_SHA256["cifar10_jpeg.npz"]
    assert data.fingerprint(exact)["label"] != data.fingerprint(jpeg)["label"]


def test_load_source_reads_what_source_chose_and_refuses_a_file_changed_since(tmp_path, monkeypatch):
    _publish(monkeypatch, _cifar_jpeg_like(tmp_path / "cifar10_jpeg.npz"))
    chosen = data.source("cifar10", data_dir=tmp_path)
    cifar = data.load_source(chosen)
    assert cifar.x_train.shape == (6, 32, 32, 3) and cifar.source == "data_dir" and not cifar.exact
    assert abs(int(cifar.x_train[3].mean()) - 60) <= 2  # decoded: JPEG of a flat grey 60 stays near 60
    _cifar_jpeg_like(tmp_path / "cifar10_jpeg.npz", n=7)
    _one_line_error(lambda: data.load_source(chosen), "changed after it was chosen", str(tmp_path / "cifar10_jpeg.npz"))


@pytest.mark.parametrize(
    "change,problem",
    [
        (dict(x_train=np.zeros((20, 32, 32), np.uint8)), "x_train is uint8 (20, 32, 32), expected uint8 (20, 28, 28)"),
        (dict(x_train=np.zeros((20, 28, 28), np.float32)), "x_train is float32"),
        (dict(y_train=np.full(20, 10, np.uint8)), "y_train holds labels outside 0-9"),
        (dict(y_test=-np.ones(4, np.int64)), "y_test holds labels outside 0-9"),
        (dict(y_train=np.zeros(20, np.float32)), "y_train is float32 (20,), not integer labels"),
        (dict(y_train=np.zeros(19, np.uint8)), "expected uint8 (19, 28, 28) for 19 labels"),
    ],
)
def test_a_download_cache_with_wrong_shapes_dtypes_labels_or_lengths_is_refused_in_one_line(
    tmp_path, monkeypatch, change, problem
):
    monkeypatch.delenv("MEMO_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DOWNLOAD_CACHE", tmp_path)
    with np.load(_mnist_like(tmp_path / "mnist.npz")) as sound:
        arrays = {**dict(sound), **change}
    np.savez(tmp_path / "mnist.npz", **arrays)  # trusted on first use: no sidecar yet
    _one_line_error(lambda: data.source("mnist"), str(tmp_path / "mnist.npz"), problem, "delete")


def test_jpeg_offsets_that_do_not_split_the_buffer_are_refused(tmp_path, monkeypatch):
    path = _cifar_jpeg_like(tmp_path / "cifar10_jpeg.npz")
    with np.load(path) as sound:
        arrays = dict(sound)
    arrays["train_offsets"] = arrays["train_offsets"][::-1].copy()
    np.savez(path, **arrays)
    _publish(monkeypatch, path)
    _one_line_error(lambda: data.source("cifar10", data_dir=tmp_path), "train_offsets do not split train_jpeg")


def test_a_file_is_hashed_once_per_version_and_again_when_replaced_behind_a_restored_mtime(tmp_path, monkeypatch):
    calls = []
    digest = data._digest
    monkeypatch.setattr(data, "_digest", lambda path: calls.append(path) or digest(path))
    path = tmp_path / "archive.npz"
    path.write_bytes(b"abc")
    first = data.file_sha256(path)
    assert data.file_sha256(path) == first and len(calls) == 1
    os.utime(path, ns=(1, 1))  # touched: hash again
    assert data.file_sha256(path) == first and len(calls) == 2
    mtime = path.stat().st_mtime_ns
    replaced = tmp_path / "other.npz"
    replaced.write_bytes(b"xyz")  # the same size
    os.replace(replaced, path)
    os.utime(path, ns=(mtime, mtime))  # and the old mtime restored
    assert data.file_sha256(path) == data._digest(path) != first and len(calls) == 4


def _real(n=2000):
    mnist = data.load("mnist")
    return data.to_tensor(mnist.x_train[:n]), torch.as_tensor(mnist.y_train[:n], dtype=torch.long)


def test_randy_replaces_exactly_the_chosen_fraction_of_labels_and_keeps_inputs():
    x, y = _real()
    x2, y2, mask = data.corrupt(x, y, kind="randY", fraction=0.3, generator=torch.Generator().manual_seed(0))
    assert mask.sum() == 600
    assert torch.equal(x2, x) and torch.equal(y2[~mask], y[~mask])
    # uniformly random labels agree with the originals about 1 time in 10
    assert 0.05 < (y2[mask] == y[mask]).float().mean() < 0.16


def test_randx_noise_matches_the_real_data_mean_and_variance():
    x, y = _real()
    x2, y2, mask = data.corrupt(x, y, kind="randX", fraction=1.0, generator=torch.Generator().manual_seed(0))
    assert mask.all() and torch.equal(y2, y)
    assert abs(float(x2.mean() - x.mean())) < 0.01
    assert abs(float(x2.std() - x.std())) < 0.01
    assert abs(float(x2[:, :, :2, :2].mean() - x.mean())) < 0.02  # no digit structure left: corners are not blank


def test_the_corruption_is_fixed_by_the_seed():
    x, y = _real(500)
    a = data.corrupt(x, y, kind="randY", fraction=0.5, generator=torch.Generator().manual_seed(3))
    b = data.corrupt(x, y, kind="randY", fraction=0.5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[1], b[1]) and torch.equal(a[2], b[2])


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_a_noise_fraction_outside_0_1_is_refused(fraction):
    x, y = _real(10)
    with pytest.raises(ConfigError, match=r"noise fraction=.* must be in \[0, 1\]"):
        data.corrupt(x, y, kind="randY", fraction=fraction, generator=torch.Generator())
