#!/usr/bin/env bash
# The main job: install, fetch both datasets, train, embed, project, report, and serve
# the explorer on http://127.0.0.1:8050. A second run reuses the cache and serves in seconds.
# Any option of `python -m pipeline all` can follow, e.g. ./run.sh --sample-set all
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
exec .venv/bin/python -m pipeline all "$@"
