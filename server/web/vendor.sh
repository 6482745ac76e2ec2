#!/usr/bin/env bash
# Copies the browser libraries the share page uses from npm into static/,
# where go:embed picks them up. The results are committed: building the
# server needs Go only. Run after changing a version in package.json.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
cp node_modules/hls.js/dist/hls.min.js static/hls.min.js
cp node_modules/hls.js/LICENSE static/hls.js.LICENSE.txt
echo "vendored hls.js $(node -p 'require("hls.js/package.json").version')"
cp node_modules/uplot/dist/uPlot.iife.min.js static/uplot.min.js
cp node_modules/uplot/dist/uPlot.min.css static/uplot.min.css
cp node_modules/uplot/LICENSE static/uplot.LICENSE.txt
echo "vendored uPlot $(node -p 'require("uplot/package.json").version')"
