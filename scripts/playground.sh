#!/usr/bin/env bash
# The playground, from a fresh clone: installs what the build needs, builds the npm package
# (WebAssembly) with the kubelet pack embedded, copies it into www/pkg/ and serves www/ on
# 127.0.0.1. PORT overrides the port (default 8080); if it is taken a free one is used. The URL is
# printed. Ctrl+C stops the server.
#
#   bash scripts/playground.sh              # http://127.0.0.1:8080/
#   PORT=9000 bash scripts/playground.sh
#   SKIP_BUILD=1 bash scripts/playground.sh # serve the pkg/ built last time
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1mplayground:\033[0m %s\n' "$*" >&2; }

if [ "${SKIP_BUILD:-}" != 1 ] || [ ! -f pkg/eqlite_bg.wasm ]; then
  step "setup"
  bash scripts/setup.sh
  step "building the npm package (wasm)"
  bash scripts/build-wasm.sh
fi

step "copying pkg/ to www/pkg/"
rm -rf www/pkg
mkdir -p www/pkg
cp pkg/eqlite.js pkg/eqlite_bg.wasm pkg/eqlite.d.ts www/pkg/
[ -f pkg/package.json ] && cp pkg/package.json www/pkg/

PORT="${PORT:-8080}"
step "serving www/ (everything runs in the browser; nothing is uploaded)"
exec node scripts/serve.mjs www --port "$PORT"
