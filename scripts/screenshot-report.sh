#!/bin/sh
# Render `mintgate report --format html` in headless Chromium (Debian's
# `chromium` package) and keep a screenshot: the check that the page is
# self-contained and its SVG charts render (docs/insight.md).
#
#   scripts/screenshot-report.sh [LOG] [POLICY] [OUT.png]
#
# Defaults: the sample log testdata/insight/cookbook-4w.jsonl, no policy,
# docs/insight-report.png. Chromium runs with networking off
# (--host-resolver-rules) so a page that needed the network would show it.
set -eu
cd "$(dirname "$0")/.."
log=${1:-testdata/insight/cookbook-4w.jsonl}
policy=${2:-}
png=${3:-docs/insight-report.png}
html=$(mktemp --suffix=.html)
trap 'rm -f "$html"' EXIT
cargo run -q --features cli --bin mintgate -- report "$log" ${policy:+--policy "$policy"} --format html --out "$html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --host-resolver-rules="MAP * ~NOTFOUND" \
    --window-size=1200,1800 --screenshot="$PWD/$png" "file://$html" 2>/dev/null
test -s "$png"
echo "wrote $png"
