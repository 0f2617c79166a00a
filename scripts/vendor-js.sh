#!/usr/bin/env bash
# Vendors the page libraries from the npm registry into the package (no CDN at run time):
# uPlot (MIT) for the digital twin's time charts -> src/ocppnet/twin/static/vendor/.
# Idempotent; called by scripts/setup.sh. Needs npm (setup.sh installs it from Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
UPLOT_VERSION=1.6.32
dest=src/ocppnet/twin/static/vendor
if [ -f "$dest/uPlot.iife.min.js" ] && grep -q "$UPLOT_VERSION" "$dest/VERSION" 2>/dev/null; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "vendor-js: npm not found; the twin's page will say its chart library is missing" >&2
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "uplot@$UPLOT_VERSION" --silent >/dev/null && tar xzf "uplot-$UPLOT_VERSION.tgz")
mkdir -p "$dest"
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$dest/"
cp "$tmp/package/LICENSE" "$dest/uPlot.LICENSE"
echo "uplot $UPLOT_VERSION (npm registry, MIT)" > "$dest/VERSION"
echo "vendor-js: uPlot $UPLOT_VERSION -> $dest"
