#!/usr/bin/env bash
# Rebuild explorer/assets/plotly-explorer.min.js: plotly.js's core and only the traces the explorer
# draws (about 1.5 MB minified, 0.5 MB gzipped, against 4.8 / 1.5 MB for the full bundle).
# Needs node and npm (the registry only); the pinned versions are package.json / package-lock.json.
# The built file is committed, so nobody else needs node: without it Dash loads its full plotly.js.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
out=../../explorer/assets/plotly-explorer.min.js
node build.js "$out"
sha256sum "$out" | cut -d' ' -f1 > plotly-explorer.min.js.sha256
echo "built $out ($(wc -c < "$out") bytes, sha256 $(cat plotly-explorer.min.js.sha256))"
