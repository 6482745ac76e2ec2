#!/usr/bin/env bash
# Starts the server on SQLite + a local data folder and, when a display is
# present, the desktop app pointed at it. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

export FRAMECAST_LISTEN=${FRAMECAST_LISTEN:-127.0.0.1:8080}
export FRAMECAST_BASE_URL=${FRAMECAST_BASE_URL:-http://$FRAMECAST_LISTEN}
export FRAMECAST_DATA_DIR=${FRAMECAST_DATA_DIR:-$PWD/data}
addr=$FRAMECAST_LISTEN
url=$FRAMECAST_BASE_URL

bin=${FRAMECAST_BIN_DIR:-bin}
"$bin/framecast-server" &
server=$!
desktop=
stop() {
  trap - INT TERM EXIT
  [ -n "$desktop" ] && kill -TERM "$desktop" 2>/dev/null || true
  kill -TERM "$server" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

up=
for _ in $(seq 1 300); do
  if curl -fsS "http://$addr/healthz" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$server" 2>/dev/null || { echo "run: the server exited; see its log above"; exit 1; }
  sleep 0.1
done
[ -n "$up" ] || { echo "run: the server did not answer http://$addr/healthz within 30s"; exit 1; }
echo
echo "Framecast server: $url   (data in $FRAMECAST_DATA_DIR; Ctrl-C stops)"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  FRAMECAST_SERVER_URL=$url "$bin/framecast" &
  desktop=$!
  echo "Framecast desktop app started on display ${DISPLAY:-$WAYLAND_DISPLAY}"
else
  echo "No display: the desktop app was not started (the CLI works: $bin/framecast --help)"
fi
wait "$server"
