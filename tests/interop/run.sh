#!/usr/bin/env bash
# Interop suite: real WebSocket peers against ferrosocket.
#
#   bash tests/interop/run.sh        (from the crate's root)
#
# Installs its peers itself (Node `ws` from package-lock.json, Python `websockets` pinned in a
# venv under target/), builds the examples, starts our echo server on a free 127.0.0.1 port,
# runs each peer's checks (one PASS/FAIL line each), stops everything it started by PID, and
# ends with `N passed, N failed`. Exit status 0 only if every check passed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE=tests/interop
OUT=target/interop
mkdir -p "$OUT"
PIDS=()
cleanup() { for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done; }
trap cleanup EXIT

log() { printf '[interop] %s\n' "$*"; }

# --- peers ----------------------------------------------------------------------------------
log "installing Node ws (npm ci)"
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 || { cat "$OUT/npm.log"; exit 2; }
VENV=$OUT/venv
if [ ! -x "$VENV/bin/python" ]; then
  log "creating the Python venv"
  python3 -m venv "$VENV" || exit 2
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt" >"$OUT/pip.log" 2>&1 || { cat "$OUT/pip.log"; exit 2; }

log "building the examples"
cargo build -q --release --examples || exit 2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server LOG CMD...: starts a server and waits for its "listening" line.
start_server() {
  local logfile=$1; shift
  "$@" >"$logfile" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    grep -q listening "$logfile" 2>/dev/null && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  log "server did not start: $*"; cat "$logfile"; return 1
}

RESULTS=$OUT/results.txt
: >"$RESULTS"
run_checks() { "$@" 2>&1 | tee -a "$RESULTS" | grep -E '^(PASS|FAIL)' || true; }

PORT=$(free_port)
start_server "$OUT/echo_server.log" target/release/examples/echo_server "127.0.0.1:$PORT" || exit 2
URL="ws://127.0.0.1:$PORT"
log "our echo server at $URL"
run_checks node "$HERE/node_client.mjs" "$URL"
run_checks "$VENV/bin/python" "$HERE/python_client.py" "$URL"

PASSED=$(grep -c '^PASS' "$RESULTS")
FAILED=$(grep -c '^FAIL' "$RESULTS")
echo
grep '^FAIL' "$RESULTS" || true
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
