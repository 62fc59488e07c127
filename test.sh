#!/usr/bin/env bash
# The test suite, browser tests included (Debian's headless Chromium, installed if missing).
# Any pytest option can follow, e.g. ./test.sh -k explorer
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --browser
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
exec .venv/bin/python -m pytest "$@"
