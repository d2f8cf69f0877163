"""What the book was executed with: the source's git commit, package versions, device, data checksums."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

from ..engine import devices
from ..engine.data import BUNDLED_DIR

PACKAGES = (
    "memo_utils",
    "torch",
    "torchvision",
    "numpy",
    "scipy",
    "matplotlib",
    "ipywidgets",
    "papermill",
    "jupytext",
    "jupyter-book",
    "myst-nb",
    "sphinx",
)


def package_versions():
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def data_checksums(data_dir=None):
    """SHA-256 of the bundled sample and, when given, of the archives in ``data_dir``."""
    files = sorted(BUNDLED_DIR.glob("*.npz"))
    data_dir = data_dir or os.environ.get("MEMO_DATA_DIR")
    if data_dir:
        files += sorted(Path(data_dir).glob("*.npz"))
    return {str(f.name if f.parent == BUNDLED_DIR else f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


ROOT = Path(__file__).resolve().parents[2]


def source(root=ROOT):
    """The git commit the pages were executed from, whether tracked files differed from it, and the repository's
    ``origin`` URL (None where the clone has none, or where there is no git checkout at all)."""

    def git(*args):
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    return {
        "commit": git("rev-parse", "HEAD"),
        "modified": bool(git("status", "--porcelain", "--untracked-files=no")),
        "repository": git("remote", "get-url", "origin") or None,
    }


def describe(data_dir=None):
    return {
        "source": source(),
        "packages": package_versions(),
        "device": devices.description(),
        "default_device": devices.default_device(),
        "platform": platform.platform(),
        "data_sha256": data_checksums(data_dir),
    }
