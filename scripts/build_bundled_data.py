"""Build the small exact datasets shipped inside ``memo_utils/bundled``.

Run once from the repository root with the shared archives beside the checkout:

    python scripts/build_bundled_data.py ../shared/data

The sources are checked against the SHA-256 sums published in shared/data/README.md,
and the outputs' sums are written to ``memo_utils/bundled/SHA256SUMS`` so that the
package can verify them at load time.
"""

import hashlib
import sys
from pathlib import Path

import numpy as np

SOURCE_SHA256 = {
    "mnist.npz": "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
    "cifar10_exact_train_first4000.npz": "0836cfd52738e36989292d4899fac21bb548f3c8d09e948c8f19273ec3f4a8ae",
}
MNIST_TRAIN, MNIST_TEST = 10_000, 2_000
CIFAR_TRAIN = 3_000  # of the exact first 4,000 training images; the other 1,000 are the test split
OUT = Path(__file__).resolve().parents[1] / "memo_utils" / "bundled"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main(source_dir):
    source_dir = Path(source_dir)
    for name, expected in SOURCE_SHA256.items():
        got = sha256(source_dir / name)
        if got != expected:
            sys.exit(f"{name}: sha256 {got} differs from the published {expected}")
    mnist = np.load(source_dir / "mnist.npz")
    np.savez_compressed(
        OUT / "mnist_small.npz",
        x_train=mnist["x_train"][:MNIST_TRAIN],
        y_train=mnist["y_train"][:MNIST_TRAIN],
        x_test=mnist["x_test"][:MNIST_TEST],
        y_test=mnist["y_test"][:MNIST_TEST],
    )
    cifar = np.load(source_dir / "cifar10_exact_train_first4000.npz")
    x, y = cifar["x_train"], cifar["y_train"]
    np.savez_compressed(
        OUT / "cifar10_small.npz",
        x_train=x[:CIFAR_TRAIN],
        y_train=y[:CIFAR_TRAIN],
        x_test=x[CIFAR_TRAIN:],
        y_test=y[CIFAR_TRAIN:],
    )
    sums = "".join(f"{sha256(OUT / f)}  {f}\n" for f in ("cifar10_small.npz", "mnist_small.npz"))
    (OUT / "SHA256SUMS").write_text(sums)
    print(sums, end="")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
