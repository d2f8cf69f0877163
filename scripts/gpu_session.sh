#!/usr/bin/env bash
# The runs of a GPU session, for the device machine (Python 3.12 and torch, no Jupyter, no network).
#
# Here, once:   scripts/gpu_session.sh prepare
#     copies the archives the gpu profiles read (mnist.npz, cifar10_jpeg.npz; 30 MB) from
#     ../shared/data into data_carry/, and downloads the wheels the device may lack (Pillow for
#     the JPEG copy, BackPACK for the benchmark, tqdm, filelock and psutil for memo_utils), at the
#     lock's versions and checked against its hashes, into .whl/. Both folders are git-ignored:
#     name them in the device call's `carry`.
# There:        scripts/gpu_session.sh easy_examples loss_sensitivity bench
#     installs the carried wheels, then runs each step in order (a step is a chapter name,
#     run with `--profile gpu`; CHAPTER/PART, only that part or cell, when a chapter does not fit
#     one 10-minute call; `bench`; or bench:CASE,CASE, part of the benchmark, so that it fits the calls:
#     bench:mlp,per-example in one call, bench:vgg11,small-alexnet,unrolled in the next, one report;
#     each benchmark call first measures the device-to-device copy GB/s and GEMM TFLOP/s, and profiles
#     every row).
# A device session, one call each (10 minutes at most): bench:mlp,per-example; bench:vgg11,small-alexnet,unrolled;
#     then easy_examples, loss_sensitivity, capacity, critical_sample_ratio, regularization, dissection, and
#     turn_over_dropout part by part (scores, validation, dynamics, subsets, cifar, corruption).
#     results/ and bench/ fill as on any machine; with $OUT set they are packed into $OUT/gpu-results.tgz after every step, so a call that
#     runs out of time still brings back what finished. Back here: tar xzf gpu-results.tgz,
#     then commit results/ and bench/ and run `make book PROFILE=gpu`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == prepare ]]; then
    mkdir -p data_carry .whl
    cp ../shared/data/mnist.npz ../shared/data/cifar10_jpeg.npz data_carry/
    # the lock's entries (version and hashes) of the wheels to carry
    awk '/^[A-Za-z]/ { keep = tolower($0) ~ /^(pillow|backpack-for-pytorch|einops|unfoldnd|tqdm|filelock|psutil)==/ } keep' \
        requirements.lock > .whl/requirements.txt
    python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: --python-version 3.12 \
        --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 -d .whl -r .whl/requirements.txt
    ls -l data_carry .whl
    exit 0
fi

PY=${PYTHON:-python3}
if [[ -d .whl ]]; then  # exactly the lock's versions, each checked against the lock's hashes; a failure stops here
    $PY -m pip install --quiet --no-index --no-deps --require-hashes --find-links .whl -r .whl/requirements.txt
fi
$PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')"
for step in "$@"; do
    start=$SECONDS
    if [[ "$step" == bench ]]; then
        $PY -m memo_utils bench --trace
    elif [[ "$step" == bench:* ]]; then  # bench:mlp,per-example then bench:vgg11,small-alexnet,unrolled
        $PY -m memo_utils bench --trace --cases "${step#bench:}"
    elif [[ "$step" == */* ]]; then  # CHAPTER/PART or CHAPTER/PART/CELL: one part or cell, to fit a call
        $PY -m memo_utils run "${step%%/*}" --profile gpu --data-dir data_carry --part "${step#*/}"
    else
        $PY -m memo_utils run "$step" --profile gpu --data-dir data_carry
    fi
    echo "step $step: $((SECONDS - start)) s"
    if [[ -n "${OUT:-}" ]]; then
        tar czf "$OUT/gpu-results.tgz" results $(test -d bench && echo bench)
    fi
done
