#!/usr/bin/env bash
# Set-up shared by run.sh and test.sh: a virtual environment with the pinned packages,
# reinstalled only when requirements.txt changes. Usage: scripts/setup.sh [--browser]
# A machine whose nvidia-smi lists a GPU gets the same TensorFlow with its CUDA libraries
# (tensorflow[and-cuda] for tensorflow-cpu), which then trains on the GPU with no flag;
# MNIST_EXPLORER_CPU=1 keeps the CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
reqs=requirements.txt other=tensorflow
if [ -z "${MNIST_EXPLORER_CPU:-}" ] && command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  reqs=.venv/requirements-gpu.txt other=tensorflow-cpu
  sed 's/^tensorflow-cpu==/tensorflow[and-cuda]==/' requirements.txt > "$reqs"
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum "$reqs" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing pinned packages from $reqs (first time: about 2 minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # the CPU and CUDA builds are one module under two names: the one not wanted goes first
  .venv/bin/python -m pip uninstall --quiet --yes "$other" >/dev/null 2>&1 || true
  .venv/bin/python -m pip install --quiet -r "$reqs"
  echo "$want" > "$stamp"
fi
# this checkout, editable: `import explorer` works in a notebook from any folder (and a kernel named for it)
if ! .venv/bin/python -c "import importlib.metadata as m; m.version('mnist-embedding-explorer')" 2>/dev/null; then
  echo "setup: installing this checkout into .venv (editable) and its Jupyter kernel"
  .venv/bin/python -m pip install --quiet --no-deps -e .
  .venv/bin/python -m ipykernel install --sys-prefix --name mnist-explorer \
    --display-name "Python (mnist-explorer .venv)" >/dev/null
fi

if [ "${1:-}" = "--browser" ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  # Browser tests drive Debian's Chromium; no test tool downloads a browser of its own.
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing Debian's chromium and chromium-driver"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
