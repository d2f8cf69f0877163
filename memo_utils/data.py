"""Datasets (MNIST, CIFAR-10) and the papers' noise: randX and randY.

Images are kept as compact uint8 arrays and converted once to a float tensor on the
training device, so training indexes the whole dataset there (no DataLoader in the hot
path). Sources, in order of preference:

1. ``data_dir`` (or ``$MEMO_DATA_DIR``): a folder like ``shared/data`` holding
   ``mnist.npz``, ``cifar10_exact_train_first4000.npz`` and ``cifar10_jpeg.npz``;
2. a torchvision download (``MEMO_ALLOW_DOWNLOAD=1``), cached as the package's own ``.npz``;
3. the small exact sample bundled with the package (10,000 + 2,000 MNIST images;
   the exact first 4,000 CIFAR-10 training images split 3,000 / 1,000).

A dataset records where it came from and whether it is exact, so that figures built on
the lossy JPEG copy of CIFAR-10 can say so.
"""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import ConfigError, DataUnavailableError

DATASETS = ("mnist", "cifar10")
NUM_CLASSES = 10
BUNDLED_DIR = Path(__file__).parent / "bundled"
DOWNLOAD_CACHE = Path(os.environ.get("MEMO_CACHE_DIR", Path.home() / ".cache" / "memo_utils"))


@dataclass(frozen=True)
class ImageData:
    """uint8 images (N, H, W) or (N, H, W, 3) with integer labels, and their provenance."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # "bundled", "data_dir" or "torchvision"
    label: str  # what a figure calls it, e.g. "CIFAR-10 (JPEG copy)"
    exact: bool


def load(name, *, min_train=0, data_dir=None, allow_download=None):
    """Return the first source of ``name`` holding at least ``min_train`` training images.

    ``allow_download`` defaults to ``$MEMO_ALLOW_DOWNLOAD`` (set it to 1 on a machine with a
    network to let torchvision fetch the full datasets).
    """
    if allow_download is None:
        allow_download = os.environ.get("MEMO_ALLOW_DOWNLOAD", "") not in ("", "0")
    if name not in DATASETS:
        raise ConfigError(f"dataset={name!r} is not allowed: choose one of {', '.join(DATASETS)}")
    data_dir = data_dir or os.environ.get("MEMO_DATA_DIR")
    candidates = []
    if data_dir:
        candidates.append(lambda: _from_data_dir(name, Path(data_dir), min_train))
    candidates.append(lambda: _from_download_cache(name, allow_download))
    candidates.append(lambda: _bundled(name))
    for candidate in candidates:
        data = candidate()
        if data is not None and len(data.x_train) >= min_train:
            return data
    raise DataUnavailableError(
        f"{name}: no source with {min_train} training images. Provide it in one of three ways: "
        f"set data_dir (or MEMO_DATA_DIR) to a folder with the shared archives (mnist.npz, "
        f"cifar10_jpeg.npz); allow the torchvision download (MEMO_ALLOW_DOWNLOAD=1, needs a "
        f"network); or use the smoke/cpu profile, which runs on the bundled sample"
    )


def _from_data_dir(name, folder, min_train):
    if name == "mnist":
        path = folder / "mnist.npz"
        if not path.exists():
            return None
        with np.load(path) as d:
            return ImageData("mnist", d["x_train"], d["y_train"], d["x_test"], d["y_test"],
                             "data_dir", "MNIST", True)
    exact = folder / "cifar10_exact_train_first4000.npz"
    jpeg = folder / "cifar10_jpeg.npz"
    if exact.exists() and min_train <= 3000:
        with np.load(exact) as d:
            x, y = d["x_train"], d["y_train"]
        return ImageData("cifar10", x[:3000], y[:3000], x[3000:], y[3000:], "data_dir",
                         "CIFAR-10 (exact first 4,000)", True)
    if jpeg.exists():
        with np.load(jpeg) as d:
            return ImageData("cifar10", _decode_jpegs(d["train_jpeg"], d["train_offsets"]),
                             d["y_train"], _decode_jpegs(d["test_jpeg"], d["test_offsets"]),
                             d["y_test"], "data_dir", "CIFAR-10 (JPEG copy)", False)
    return None


def _decode_jpegs(buffer, offsets):
    from PIL import Image  # only the JPEG copy needs Pillow

    images = np.empty((len(offsets) - 1, 32, 32, 3), dtype=np.uint8)
    for i in range(len(images)):
        blob = buffer[offsets[i]:offsets[i + 1]].tobytes()
        images[i] = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
    return images


def _from_download_cache(name, allow_download):
    path = DOWNLOAD_CACHE / f"{name}.npz"
    if not path.exists():
        if not allow_download:
            return None
        _download_with_torchvision(name, path)
    with np.load(path) as d:
        return ImageData(name, d["x_train"], d["y_train"], d["x_test"], d["y_test"],
                         "torchvision", "MNIST" if name == "mnist" else "CIFAR-10", True)


def _download_with_torchvision(name, path):
    import torchvision  # only a download needs torchvision

    root = path.parent / "torchvision"
    cls = torchvision.datasets.MNIST if name == "mnist" else torchvision.datasets.CIFAR10
    train = cls(root, train=True, download=True)
    test = cls(root, train=False, download=True)
    arrays = {}
    for split, ds in (("train", train), ("test", test)):
        arrays[f"x_{split}"] = np.asarray(ds.data, dtype=np.uint8)
        arrays[f"y_{split}"] = np.asarray(ds.targets, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _bundled(name):
    filename = "mnist_small.npz" if name == "mnist" else "cifar10_small.npz"
    path = BUNDLED_DIR / filename
    expected = dict(line.split()[::-1] for line in (BUNDLED_DIR / "SHA256SUMS").read_text().splitlines())
    if hashlib.sha256(path.read_bytes()).hexdigest() != expected[filename]:
        raise DataUnavailableError(f"{path} does not match its SHA256SUMS entry: rebuild it with scripts/build_bundled_data.py")
    with np.load(path) as d:
        label = "MNIST (bundled sample)" if name == "mnist" else "CIFAR-10 (exact first 4,000)"
        return ImageData(name, d["x_train"], d["y_train"], d["x_test"], d["y_test"], "bundled", label, True)


def to_tensor(images, device="cpu", downscale=None):
    """uint8 images -> float32 (N, C, H, W) in [0, 1], optionally average-pooled by ``downscale``."""
    x = torch.as_tensor(images, device=device)
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    x = x.float().div_(255.0)
    if downscale:
        x = torch.nn.functional.avg_pool2d(x, downscale)
    return x


def standardize(x_train, *others):
    """Scale every split by the training set's mean and standard deviation."""
    mean, std = x_train.mean(), x_train.std()
    return [(x - mean) / std for x in (x_train, *others)]


def corrupt(x, y, *, kind, fraction, generator, num_classes=NUM_CLASSES):
    """Apply the papers' noise to a fraction of the training set, drawn once and returned.

    randY replaces the labels of the chosen examples with uniformly random classes;
    randX replaces their inputs with i.i.d. Gaussian noise with the real data's mean and
    variance (Arpit et al. 2017, section 2, following Zhang et al. 2017). Returns
    ``(x, y, mask)`` with ``mask[i]`` true where example ``i`` was corrupted.
    """
    if kind not in ("randX", "randY"):
        raise ConfigError(f"noise kind={kind!r} is not allowed: choose randX or randY")
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"noise fraction={fraction} is not allowed: must be in [0, 1]")
    n = len(y)
    chosen = torch.randperm(n, generator=generator)[: round(fraction * n)]
    mask = torch.zeros(n, dtype=torch.bool)
    mask[chosen] = True
    x, y = x.clone(), y.clone()
    mask_dev = mask.to(x.device)
    if kind == "randY":
        random_labels = torch.randint(num_classes, (n,), generator=generator).to(y.device)
        y = torch.where(mask_dev, random_labels, y)
    else:
        noise = torch.randn(x.shape, generator=generator).to(x.device) * x.std() + x.mean()
        x = torch.where(mask_dev.view(-1, *[1] * (x.ndim - 1)), noise, x)
    return x, y, mask
