#!/usr/bin/env bash
# Installs what building, running and testing Framecast needs on Debian 12.
# Idempotent and quick when everything is present: it installs only what is
# missing, and starts PostgreSQL only when it is not running.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*"; }
sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Go and Node must already be there (the machine image provides them).
command -v go >/dev/null || { echo "setup: Go 1.26 is required (https://go.dev/dl)"; exit 1; }
command -v npm >/dev/null || { echo "setup: Node 20.19+ with npm is required"; exit 1; }

# Debian packages. Build: cgo toolchain, WebKitGTK 4.1 for the window. Run
# and test: ffmpeg, Xvfb + xdotool + ImageMagick for GUI and capture tests,
# xclip to read the clipboard, PulseAudio (null sink) and sox for audio,
# Chromium for web tests, PostgreSQL for the scale-out backend.
packages=(
  build-essential pkg-config git ca-certificates curl
  libgtk-3-dev libwebkit2gtk-4.1-dev
  ffmpeg sox wrk
  xvfb xauth x11-utils xdotool xclip imagemagick dbus-x11 dunst
  pulseaudio pulseaudio-utils
  chromium
  postgresql
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 nsis
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# Windows cross-build: mingw-w64 for cgo, NSIS for the installer (above);
# go-winres for the exe's icon, version info and manifest.
PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v go-winres >/dev/null; then
  log "installing go-winres"
  go install github.com/tc-hib/go-winres@v0.3.3
fi

# PostgreSQL: the scale-out backend's tests need a running server.
if command -v pg_lsclusters >/dev/null; then
  if ! pg_lsclusters -h 2>/dev/null | awk '$4 == "online"' | grep -q .; then
    cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
    if [ -n "$cluster" ]; then
      log "starting PostgreSQL cluster $cluster"
      # shellcheck disable=SC2086
      sudo_ pg_ctlcluster $cluster start
    fi
  fi
fi

# The role the PostgreSQL tests create their databases with (see
# server/internal/store/storetest): a local-only login that may create
# databases, password "framecast", and may end the autovacuum workers that
# would otherwise make dropping a test database fail now and then.
# FRAMECAST_TEST_POSTGRES_URL points the tests elsewhere.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | awk '$4 == "online"' | grep -q .; then
  pg_() { sudo_ runuser -u postgres -- psql -qAt -v ON_ERROR_STOP=1 "$@"; }
  if ! pg_ -c "SELECT 1 FROM pg_roles WHERE rolname = 'framecast'" | grep -q 1; then
    log "creating the PostgreSQL role framecast for tests"
    pg_ -c "CREATE ROLE framecast LOGIN CREATEDB PASSWORD 'framecast'"
  fi
  if ! pg_ -c "SELECT pg_has_role('framecast', 'pg_signal_backend', 'MEMBER')" | grep -q t; then
    pg_ -c "GRANT pg_signal_backend TO framecast"
  fi
fi

# versitygw: the real S3 server the S3 blob store's tests run
# (shared/testenv.S3). Built from the Go module proxy, about 2 minutes the
# first time.
if [ ! -x "$(go env GOPATH)/bin/versitygw" ]; then
  log "installing versitygw (S3 server for tests; ~2 min the first time)"
  go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

# npm packages: the desktop UI's build and tests, playwright-core for
# the share-page browser tests (it drives Debian's chromium; it downloads
# no browser), and DB-IP's City Lite location database (MMDB, CC-BY-4.0)
# that the server reads viewers' approximate locations from
# (FRAMECAST_GEOIP_DB). npm ci runs when node_modules is missing or older
# than the lock.
for dir in frontend server/web/e2e server/geoip; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing npm packages in $dir (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

log "ok"
