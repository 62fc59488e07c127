#!/usr/bin/env bash
# Rebuild the explorer's two plotly.js files from the pinned npm plotly.js (package.json, package-lock.json):
#   explorer/assets/plotly-explorer.min.js  core + scatter, scattergl, heatmap, bar: every page loads it
#     (about 1.5 MB minified, 0.5 MB gzipped, against 4.8 / 1.5 MB for the full bundle);
#   explorer/assets/plotly-3d.min.js        core + scatter3d, as window.Plotly3D: fetched by
#     assets/view3d.js only when a 3-D view is first opened (about 1.75 MB, 0.56 MB gzipped).
# Needs node and npm (the registry only). The built files are committed with their sha256 here, so
# nobody else needs node: without plotly-explorer.min.js Dash loads its full plotly.js.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
build() {  # entry, global name, file in explorer/assets
  local out=../../explorer/assets/$3
  node build.js "$1" "$2" "$out"
  sha256sum "$out" | cut -d' ' -f1 > "$3.sha256"
  echo "built $out ($(wc -c < "$out") bytes, sha256 $(cat "$3.sha256"))"
}
build entry.js Plotly plotly-explorer.min.js
build entry3d.js Plotly3D plotly-3d.min.js
