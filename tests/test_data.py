import numpy as np
import pytest
import torch

from memo_utils import data
from memo_utils.errors import ConfigError, DataUnavailableError

from conftest import SHARED_DATA


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


@pytest.mark.skipif(not (SHARED_DATA / "cifar10_jpeg.npz").exists(), reason="needs ../shared/data")
def test_full_cifar_from_the_shared_folder_is_labelled_as_the_jpeg_copy():
    cifar = data.load("cifar10", min_train=50000, data_dir=SHARED_DATA)
    assert cifar.label == "CIFAR-10 (JPEG copy)" and not cifar.exact
    assert cifar.x_train.shape == (50000, 32, 32, 3)
    small = data.load("cifar10", min_train=3000, data_dir=SHARED_DATA)
    assert small.exact and small.label == "CIFAR-10 (exact first 4,000)"


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
