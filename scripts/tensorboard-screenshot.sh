#!/usr/bin/env bash
# Screenshots TensorBoard's scalars page for a log folder, as docs/tensorboard.png was made:
# the real `tensorboard` (installed into the cache by scripts/py-deps.sh) serving on 127.0.0.1
# only, opened in headless Chromium (Debian's `chromium`, installed with apt-get when missing).
#
# Usage: scripts/tensorboard-screenshot.sh LOGDIR OUT.png [TAG_REGEX]
#   LOGDIR     a folder written by the TensorBoard callback (LOGDIR/train, LOGDIR/validation)
#   TAG_REGEX  tags to show (default: epoch_(loss|accuracy))
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 LOGDIR OUT.png [TAG_REGEX]" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOGDIR=$1
OUT=$(realpath -m "$2")
FILTER=${3:-'epoch_(loss|accuracy)'}
PORT=${TB_PORT:-6006}

if ! command -v chromium >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "install Debian's chromium first" >&2; exit 1; }
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
TB_PATH=$("$ROOT/scripts/py-deps.sh" tensorboard)

# Serve from the log folder's parent so the page names it by its last component.
cd "$(dirname "$LOGDIR")"
PYTHONPATH=$TB_PATH python3 -m tensorboard.main --logdir "$(basename "$LOGDIR")" --host 127.0.0.1 --port "$PORT" \
    >/tmp/tensorboard-screenshot.log 2>&1 &
TB_PID=$!
trap 'kill $TB_PID 2>/dev/null || true' EXIT
for _ in $(seq 60); do
    curl -sf "http://127.0.0.1:$PORT/data/runs" >/dev/null && break
    sleep 1
done
FILTER_Q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$FILTER")
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --window-size=1400,520 \
    --virtual-time-budget=20000 --screenshot="$OUT" \
    "http://127.0.0.1:$PORT/?darkMode=false#scalars&tagFilter=$FILTER_Q&_smoothingWeight=0" 2>/dev/null
echo "wrote $OUT"
