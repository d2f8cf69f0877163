#!/usr/bin/env bash
# Run the gpu profile (and the benchmark) on a machine with a CUDA GPU, then render the book anywhere.
#
# On a GPU workstation or server with this checkout and `make venv` (or any Python with torch):
#     scripts/gpu_session.sh easy_examples loss_sensitivity capacity critical_sample_ratio \
#         regularization dissection turn_over_dropout bench
#     with the data folder in data_carry/ (mnist.npz, cifar10_jpeg.npz from shared/data) or in
#     $MEMO_DATA_DIR; then bring results/ and bench/ back, commit them, and run `make book PROFILE=gpu`.
# Steps run in order: a chapter name (run with --profile gpu), CHAPTER/PART or CHAPTER/PART/CELL (one part
#     or cell, when a chapter does not fit a time-limited call), `bench`, or bench:CASE,CASE (part of the
#     benchmark: bench:mlp,per-example then bench:vgg11,small-alexnet,unrolled end in one report).
# Without CUDA it stops, unless FORCE=1 (then the gpu profile runs on the CPU: hours).
# For a machine without network or Jupyter (the project's lent device):
#     scripts/gpu_session.sh prepare     (here, once: copies the archives into data_carry/ and downloads the
#     wheels such a machine may lack, Pillow, BackPACK, tqdm, filelock and psutil, at the lock's versions and
#     hashes, for Python $WHEEL_PYTHON (default 3.12), into .whl/; both folders are git-ignored: carry them).
#     There, the carried wheels are installed first; with $OUT set, results/ and bench/ are packed into
#     $OUT/gpu-results.tgz after every step, so a call that runs out of time still brings back what finished.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -eq 0 || "${1:-}" == -h || "${1:-}" == --help ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
fi

if [[ "${1:-}" == prepare ]]; then
    mkdir -p data_carry .whl
    cp ../shared/data/mnist.npz ../shared/data/cifar10_jpeg.npz data_carry/
    # the lock's entries (version and hashes) of the wheels to carry
    awk '/^[A-Za-z]/ { keep = tolower($0) ~ /^(pillow|backpack-for-pytorch|einops|unfoldnd|tqdm|filelock|psutil)==/ } keep' \
        requirements.lock > .whl/requirements.txt
    python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: --python-version "${WHEEL_PYTHON:-3.12}" \
        --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 -d .whl -r .whl/requirements.txt
    ls -l data_carry .whl
    exit 0
fi

PY=${PYTHON:-python3}
if [[ -d .whl ]]; then  # exactly the lock's versions, each checked against the lock's hashes; a failure stops here
    $PY -m pip install --quiet --no-index --no-deps --require-hashes --find-links .whl -r .whl/requirements.txt
fi
if ! $PY -c "import sys, torch; print('torch', torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'); sys.exit(not torch.cuda.is_available())"; then
    if [[ "${FORCE:-}" != 1 ]]; then
        echo "error: no CUDA device here: the gpu profile would take hours on this CPU (FORCE=1 runs it anyway)" >&2
        exit 2
    fi
fi
DATA=${MEMO_DATA_DIR:-data_carry}
for step in "$@"; do
    start=$SECONDS
    if [[ "$step" == bench ]]; then
        $PY -m memo_utils bench --trace
    elif [[ "$step" == bench:* ]]; then  # bench:mlp,per-example then bench:vgg11,small-alexnet,unrolled
        $PY -m memo_utils bench --trace --cases "${step#bench:}"
    elif [[ "$step" == */* ]]; then  # CHAPTER/PART or CHAPTER/PART/CELL: one part or cell, to fit a call
        $PY -m memo_utils run "${step%%/*}" --profile gpu --data-dir "$DATA" --part "${step#*/}"
    else
        $PY -m memo_utils run "$step" --profile gpu --data-dir "$DATA"
    fi
    echo "step $step: $((SECONDS - start)) s"
    if [[ -n "${OUT:-}" ]]; then
        tar czf "$OUT/gpu-results.tgz" results $(test -d bench && echo bench)
    fi
done
