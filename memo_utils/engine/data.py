"""Datasets (MNIST, CIFAR-10) and the papers' noise: randX and randY.

Images are kept as compact uint8 arrays and converted once to a float tensor on the
training device, so training indexes the whole dataset there (no DataLoader in the hot
path). Sources, in order of preference:

1. ``data_dir`` (or ``$MEMO_DATA_DIR``): a folder like ``shared/data`` holding
   ``mnist.npz``, ``cifar10_exact_train_first4000.npz`` and ``cifar10_jpeg.npz``;
   when one is given it is the only source tried, so a wrong path is an error rather
   than a quiet fallback to the small bundled sample;
2. a torchvision download (``MEMO_ALLOW_DOWNLOAD=1``), cached as the package's own ``.npz``
   with a ``.sha256`` sidecar written at conversion;
3. the small exact sample bundled with the package (10,000 + 2,000 MNIST images;
   the exact first 4,000 CIFAR-10 training images split 3,000 / 1,000).

Every archive is checked against a known SHA-256 before it is read (the published sums of
``shared/data``, the sidecar of the download cache, the bundled ``SHA256SUMS``), so a
truncated or altered file is one clear line, not a zipfile traceback or a wrong figure; and every
archive, whatever its source, must hold uint8 images of the dataset's shape with integer labels
in 0-9, one per image (checked from the arrays' headers and labels, without decoding images).

``source`` picks the archive without decoding any image and ``fingerprint`` turns it into
a small dict that the results cache can key on; ``load_source`` then reads the images.
A dataset records where it came from and whether it is exact, so that figures built on
the lossy JPEG copy of CIFAR-10 can say so.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, DataUnavailableError

DATASETS = ("mnist", "cifar10")
NUM_CLASSES = 10
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "bundled"
DOWNLOAD_CACHE = Path(os.environ.get("MEMO_CACHE_DIR", Path.home() / ".cache" / "memo_utils"))
# The sums published in shared/data/README.md: a data folder's archives must match them.
PUBLISHED_SHA256 = {
    "mnist.npz": "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
    "cifar10_exact_train_first4000.npz": "0836cfd52738e36989292d4899fac21bb548f3c8d09e948c8f19273ec3f4a8ae",
    "cifar10_jpeg.npz": "e579558dc285c2665fc6824e30049a1a7cb96dbbb17985f0bdcf01efb26d6561",
}
EXACT_CIFAR_TRAIN = 3000  # the exact first 4,000 CIFAR-10 images are split 3,000 train / 1,000 test
_SHARED_HINT = "expected a folder like shared/data with mnist.npz, cifar10_exact_train_first4000.npz, cifar10_jpeg.npz"


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


@dataclass(frozen=True)
class DataSource:
    """One verified archive chosen for a dataset, known without decoding its images.

    Cheap to build (the archive's hash is memoised), so a page can ask for it on every
    render and key its cached results on ``fingerprint(source)``.
    """

    name: str  # "mnist" or "cifar10"
    path: Path  # the archive
    sha256: str  # of the archive, checked against its published sum, sidecar or SHA256SUMS
    label: str  # what a figure calls it, e.g. "CIFAR-10 (JPEG copy)"
    exact: bool  # False for the lossy JPEG copy of CIFAR-10
    origin: str  # "bundled", "data_dir" or "torchvision"
    layout: str  # how to read it: "arrays" (x/y train/test), "exact_first4000" (split 3,000 / 1,000), "jpeg"
    n_train: int  # training images it gives


def source(name, *, min_train=0, data_dir=None, allow_download=None):
    """Return the ``DataSource`` that ``load`` would read, verified but not decoded.

    ``data_dir`` defaults to ``$MEMO_DATA_DIR``; when set it is the only source tried and
    must hold a verified archive with at least ``min_train`` training images. Otherwise the
    torchvision cache (downloaded first when ``allow_download``, default
    ``$MEMO_ALLOW_DOWNLOAD``) and then the bundled sample are tried.
    """
    if name not in DATASETS:
        raise ConfigError(f"dataset={name!r} is not allowed: choose one of {', '.join(DATASETS)}")
    if allow_download is None:
        allow_download = os.environ.get("MEMO_ALLOW_DOWNLOAD", "") not in ("", "0")
    parameter = "data_dir" if data_dir else "MEMO_DATA_DIR"
    data_dir = data_dir or os.environ.get("MEMO_DATA_DIR")
    if data_dir:
        return _from_data_dir(name, data_dir, min_train, parameter)
    for candidate in (lambda: _from_download_cache(name, allow_download), lambda: _bundled(name)):
        found = candidate()
        if found is not None and found.n_train >= min_train:
            return found
    raise DataUnavailableError(
        f"{name}: no source with {min_train} training images. Provide it in one of three ways: "
        f"set data_dir (or MEMO_DATA_DIR) to a folder with the shared archives (mnist.npz, "
        f"cifar10_jpeg.npz); allow the torchvision download (MEMO_ALLOW_DOWNLOAD=1, needs a "
        f"network); or use the smoke/cpu profile, which runs on the bundled sample"
    )


def explicit_dir(data_dir=None):
    """(parameter, folder) of an explicitly given data folder: ``data_dir``, else ``$MEMO_DATA_DIR``; None when
    neither is set. An explicit folder is used or nothing is: results computed from another source are never
    served in its place. ``data_dir=''`` is refused rather than read as unset."""
    if data_dir is not None and not str(data_dir).strip():
        raise ConfigError("data_dir='' is not allowed: give a folder like shared/data, or leave it unset (None)")
    if data_dir is not None:
        return "data_dir", data_dir
    env = os.environ.get("MEMO_DATA_DIR", "")
    return ("MEMO_DATA_DIR", env) if env.strip() else None


def fingerprint(source):
    """A small JSON-serialisable dict naming the data exactly: equal for equal archives and labels."""
    return {"dataset": source.name, "label": source.label, "sha256": source.sha256, "origin": source.origin}


def load_source(source):
    """Read the images of ``source``, refusing an archive that changed since it was chosen."""
    found = file_sha256(source.path) if source.path.exists() else "missing"
    if found != source.sha256:
        raise DataUnavailableError(
            f"{source.path} changed after it was chosen (SHA-256 {found[:12]}, expected "
            f"{source.sha256[:12]}): {_remedy(source.origin, source.path)}"
        )
    try:
        with np.load(source.path) as d:
            if source.layout == "exact_first4000":
                x, y = d["x_train"], d["y_train"]
                n = EXACT_CIFAR_TRAIN
                arrays = x[:n], y[:n], x[n:], y[n:]
            elif source.layout == "jpeg":
                arrays = (
                    _decode_jpegs(d["train_jpeg"], d["train_offsets"]),
                    d["y_train"],
                    _decode_jpegs(d["test_jpeg"], d["test_offsets"]),
                    d["y_test"],
                )
            else:
                arrays = d["x_train"], d["y_train"], d["x_test"], d["y_test"]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as error:
        raise DataUnavailableError(
            f"{source.path} cannot be read ({_one_line(error)}): {_remedy(source.origin, source.path)}"
        ) from None
    return ImageData(source.name, *arrays, source.origin, source.label, source.exact)


def load(name, *, min_train=0, data_dir=None, allow_download=None):
    """Return the images of ``source(name, ...)``: the first source with ``min_train`` training images.

    ``allow_download`` defaults to ``$MEMO_ALLOW_DOWNLOAD`` (set it to 1 on a machine with a
    network to let torchvision fetch the full datasets).
    """
    return load_source(source(name, min_train=min_train, data_dir=data_dir, allow_download=allow_download))


_HASHES = {}


def file_sha256(path):
    """SHA-256 of a file, computed once per process for each version of it: pages ask on every render. A version
    is its path, inode, size, mtime and ctime: a replaced file with the same size and a restored mtime still has
    another inode or ctime (no program can set ctime back), so it is hashed again."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key not in _HASHES:
        _HASHES[key] = _digest(path)
    return _HASHES[key]


def _digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _one_line(error):
    return " ".join(f"{type(error).__name__}: {error}".split())


def _remedy(origin, path):
    if origin == "data_dir":
        return f"re-copy {path.name} from shared/data (sums in shared/data/README.md), or remove it"
    if origin == "torchvision":
        return f"delete {path} (and {path.name}.sha256) so that it is downloaded again (MEMO_ALLOW_DOWNLOAD=1)"
    return "rebuild the bundled data with scripts/build_bundled_data.py"


IMAGE_SHAPES = {"mnist": (28, 28), "cifar10": (32, 32, 3)}  # one image, stored as uint8


_CHECKED = {}  # (SHA-256, dataset, layout) -> training images: each archive's contents are checked once per process


def _checked(path, name, layout, origin):
    """:func:`_check_contents`, once per archive content (``file_sha256`` is memoised): chapters ask for their
    sources on every run and every cell."""
    key = (file_sha256(path), name, layout)
    if key not in _CHECKED:
        _CHECKED[key] = _check_contents(path, name, layout, origin)
    return _CHECKED[key]


def _check_contents(path, name, layout, origin):
    """Training images in an archive, after checking what every source must hold, bundled, folder or download
    alike: uint8 images of the dataset's shape, integer labels in 0-9, one label per image. Reads the arrays'
    headers and the small label and offset arrays only (no image is decoded), so a page can afford it on
    every render; a wrong archive is one line here, not a traceback or a wrong figure later."""
    try:
        with zipfile.ZipFile(path) as archive:
            splits = ("train",) if layout == "exact_first4000" else ("train", "test")
            n_train = None
            for split in splits:
                labels = _array(archive, f"y_{split}")
                if labels.ndim != 1 or labels.dtype.kind not in "iu":
                    return _invalid(path, origin, f"y_{split} is {labels.dtype} {labels.shape}, not integer labels")
                if len(labels) and not 0 <= labels.min() <= labels.max() < NUM_CLASSES:
                    return _invalid(path, origin, f"y_{split} holds labels outside 0-{NUM_CLASSES - 1}")
                if layout == "jpeg":
                    offsets, (size,), _ = _array(archive, f"{split}_offsets"), *_header(archive, f"{split}_jpeg")[:2]
                    if (
                        offsets.shape != (len(labels) + 1,)
                        or offsets.dtype.kind not in "iu"
                        or (np.diff(offsets) < 0).any()
                        or offsets[0] < 0
                        or offsets[-1] > size
                    ):
                        return _invalid(
                            path, origin, f"{split}_offsets do not split {split}_jpeg into {len(labels)} images"
                        )
                else:
                    shape, dtype = _header(archive, f"x_{split}")
                    if dtype != np.uint8 or shape != (len(labels), *IMAGE_SHAPES[name]):
                        return _invalid(
                            path,
                            origin,
                            f"x_{split} is {dtype} {shape}, expected uint8 "
                            f"{(len(labels), *IMAGE_SHAPES[name])} for {len(labels)} labels",
                        )
                n_train = len(labels) if n_train is None else n_train
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as error:
        raise DataUnavailableError(f"{path} cannot be read ({_one_line(error)}): {_remedy(origin, path)}") from None
    return n_train


def _array(archive, key):
    with archive.open(f"{key}.npy") as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _header(archive, key):
    """(shape, dtype) of an array in an .npz archive, from its header alone."""
    with archive.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    return shape, dtype


def _invalid(path, origin, problem):
    raise DataUnavailableError(f"{path} is not a valid archive ({problem}): {_remedy(origin, path)}")


def _from_data_dir(name, data_dir, min_train, parameter):
    folder = Path(data_dir).expanduser()
    where = f"{parameter}={str(data_dir)!r}"
    if not folder.exists():
        raise DataUnavailableError(f"{where} does not exist: {_SHARED_HINT}")
    if not folder.is_dir():
        raise DataUnavailableError(f"{where} is a file, not a folder: {_SHARED_HINT}")
    if name == "mnist":
        options = [("mnist.npz", "arrays", "MNIST", True)]
    else:
        options = [("cifar10_jpeg.npz", "jpeg", "CIFAR-10 (JPEG copy)", False)]
        if min_train <= EXACT_CIFAR_TRAIN:  # the exact images are preferred whenever they suffice
            options.insert(
                0, ("cifar10_exact_train_first4000.npz", "exact_first4000", "CIFAR-10 (exact first 4,000)", True)
            )
    present = [option for option in options if (folder / option[0]).is_file()]
    if not present:
        wanted = " or ".join(option[0] for option in options)
        raise DataUnavailableError(f"{where} holds no {wanted}: {_SHARED_HINT}")
    filename, layout, label, exact = present[0]
    path = folder / filename
    sha256 = _verify_published(path)
    n_train = _checked(path, name, layout, "data_dir")
    if layout == "exact_first4000":
        n_train = min(n_train, EXACT_CIFAR_TRAIN)
    if n_train < min_train:
        raise DataUnavailableError(
            f"{where} holds no {name} archive with {min_train} training images ({filename} has {n_train}): "
            f"{_SHARED_HINT}"
        )
    return DataSource(name, path, sha256, label, exact, "data_dir", layout, n_train)


def _verify_published(path):
    """Check a data folder's archive against the sum published in shared/data/README.md."""
    expected = PUBLISHED_SHA256[path.name]
    found = file_sha256(path)
    if found != expected:
        raise DataUnavailableError(
            f"{path} does not match its published checksum (SHA-256 {found[:12]}..., expected "
            f"{expected[:12]}...): {_remedy('data_dir', path)}"
        )
    return found


def _decode_jpegs(buffer, offsets):
    from PIL import Image  # only the JPEG copy needs Pillow

    images = np.empty((len(offsets) - 1, 32, 32, 3), dtype=np.uint8)
    for i in range(len(images)):
        blob = buffer[offsets[i] : offsets[i + 1]].tobytes()
        images[i] = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
    return images


def _from_download_cache(name, allow_download):
    path = DOWNLOAD_CACHE / f"{name}.npz"
    if not path.exists():
        if not allow_download:
            return None
        _download_with_torchvision(name, path)
    sha256 = _verify_cache(path)
    return DataSource(
        name,
        path,
        sha256,
        "MNIST" if name == "mnist" else "CIFAR-10",
        True,
        "torchvision",
        "arrays",
        _checked(path, name, "arrays", "torchvision"),
    )


def _verify_cache(path):
    """Check the converted download against the sum written beside it at conversion.

    A cache converted before sidecars existed is read through once (zip CRCs, expected
    arrays) and its sum recorded, so an old but sound cache is not downloaded again.
    """
    sidecar = path.with_name(path.name + ".sha256")
    found = file_sha256(path)
    if sidecar.exists():
        expected = (sidecar.read_text().split() or [""])[0]
        if found != expected:
            raise DataUnavailableError(
                f"{path} does not match the checksum recorded in {sidecar.name} when it was converted "
                f"(SHA-256 {found[:12]}..., expected {expected[:12]}...): {_remedy('torchvision', path)}"
            )
        return found
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
            missing = {"x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"} - set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataUnavailableError(
            f"{path} cannot be read ({_one_line(error)}): {_remedy('torchvision', path)}"
        ) from None
    if damaged or missing:
        problem = f"{damaged} is damaged" if damaged else f"it lacks {', '.join(sorted(missing))}"
        raise DataUnavailableError(f"{path} cannot be read ({problem}): {_remedy('torchvision', path)}")
    try:
        _write_sidecar(path, found)
    except OSError:
        pass  # a read-only cache stays usable; it is simply checked again next time
    return found


def _write_sidecar(path, sha256):
    sidecar = path.with_name(path.name + ".sha256")
    tmp = sidecar.with_name(f"{sidecar.name}.tmp{os.getpid()}")
    tmp.write_text(f"{sha256}  {path.name}\n")
    os.replace(tmp, sidecar)


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
    _write_sidecar(path, _digest(tmp))  # before the archive, so that no archive is ever left without one
    os.replace(tmp, path)


def _bundled(name):
    filename = "mnist_small.npz" if name == "mnist" else "cifar10_small.npz"
    path = BUNDLED_DIR / filename
    sums = BUNDLED_DIR / "SHA256SUMS"
    rebuild = _remedy("bundled", path)
    try:
        lines = sums.read_text().splitlines()
    except OSError as error:
        raise DataUnavailableError(f"{sums} cannot be read ({_one_line(error)}): {rebuild}") from None
    expected = {parts[1].lstrip("*"): parts[0] for parts in map(str.split, lines) if len(parts) == 2}
    if filename not in expected:
        raise DataUnavailableError(f"{filename} has no entry in {sums}: {rebuild}")
    if not path.is_file():
        raise DataUnavailableError(f"{path} is missing: {rebuild}")
    found = file_sha256(path)
    if found != expected[filename]:
        raise DataUnavailableError(
            f"{path} does not match its SHA256SUMS entry (SHA-256 {found[:12]}..., expected "
            f"{expected[filename][:12]}...): {rebuild}"
        )
    label = "MNIST (bundled sample)" if name == "mnist" else "CIFAR-10 (exact first 4,000)"
    return DataSource(name, path, found, label, True, "bundled", "arrays", _checked(path, name, "arrays", "bundled"))


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


def random_crop_flip(x, generator, padding=4, fill=0.0):
    """The standard CIFAR-10 augmentation, one draw per image: pad by ``padding`` pixels with ``fill``,
    crop back to the original size at a random offset, flip horizontally with probability 1/2.

    ``fill`` is the value of a black pixel in the images' units (torchvision's ``RandomCrop``
    pads raw images with zeros). Offsets and flips come from the CPU ``generator``, so a run
    augments alike on every device.
    """
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (padding,) * 4, value=fill)
    offsets = torch.randint(2 * padding + 1, (2, n), generator=generator).to(x.device)
    flips = (torch.rand(n, generator=generator) < 0.5).to(x.device)
    rows = (offsets[0, :, None] + torch.arange(h, device=x.device))[:, :, None]  # (n, h, 1)
    cols = offsets[1, :, None] + torch.arange(w, device=x.device)  # (n, w)
    cols = torch.where(flips[:, None], cols.flip(1), cols)[:, None, :]  # (n, 1, w)
    return padded[torch.arange(n, device=x.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


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
