#!/usr/bin/env bash
# The test suite, browser tests included (Debian's headless Chromium, installed if missing).
# Any pytest option can follow, e.g. ./test.sh -k explorer, ./test.sh -m "not browser and not slow"
# (the developer's loop, README "Two commands"), ./test.sh -n 0 (one process).
# Two pytest-xdist workers, each taking whole files (module fixtures made once), slow files first
# (tests/conftest.py): the browser tests, which mostly wait, run beside the ones that train. The 15 slowest
# tests are listed at the end (where the next minute of the suite is).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --browser
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder --durations=15 "$@"
