#!/usr/bin/env bash
# Interop suite: real WebSocket peers against ferrosocket.
#
#   bash tests/interop/run.sh        (from the crate's root)
#
# Installs its peers itself (Node `ws` from package-lock.json, Python `websockets` pinned in a
# venv under target/), builds the examples, and runs on free 127.0.0.1 ports:
#   - their clients against our echo server (node_client.mjs, python_client.py), and Node's
#     64 MiB + 1 message against a 64 MiB limit, which must read 1009 (node_oversize.mjs);
#   - our client (the wscat example) against their servers (node_server.mjs, python_server.py);
#   - the same clients against the axum entry point (examples/axum_echo.rs);
#   - headless Chromium's WebSocket against our echo server and axum_echo, and wss:// against
#     axum_echo --tls with a certificate made for the run (browser.html, driven through
#     chromedriver by browser_driver.py; chromium and chromium-driver installed if missing).
# One PASS/FAIL line per check; everything started is stopped by PID; ends with
# `N passed, N failed`. Exit status 0 only if every check passed.
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

# Their clients against our echo server, on each runtime; checks are labelled by runtime.
labelled() { local label=$1; shift; "$@" 2>&1 | sed -u "s/^\(PASS\|FAIL\) /\1 [$label] /"; }
for runtime in tokio tokio-split toolkit smol async-std std compio; do
  RT_PORT=$(free_port)
  start_server "$OUT/echo_server-$runtime.log" target/release/examples/echo_server "127.0.0.1:$RT_PORT" --runtime "$runtime" || exit 2
  log "our echo server ($runtime) at ws://127.0.0.1:$RT_PORT"
  run_checks labelled "$runtime" node "$HERE/node_client.mjs" "ws://127.0.0.1:$RT_PORT"
  run_checks labelled "$runtime" "$VENV/bin/python" "$HERE/python_client.py" "ws://127.0.0.1:$RT_PORT"
  [ "$runtime" = tokio ] && PORT=$RT_PORT # the default runtime also serves the browser checks
  # Close under fire: ws sends 64 MiB + 1 to a 64 MiB limit and must read 1009, not a reset.
  LIMIT=$((64 << 20))
  LIMIT_PORT=$(free_port)
  start_server "$OUT/echo_server-$runtime-limit.log" target/release/examples/echo_server "127.0.0.1:$LIMIT_PORT" \
    --runtime "$runtime" --max-message-size "$LIMIT" || exit 2
  run_checks labelled "$runtime" node "$HERE/node_oversize.mjs" "ws://127.0.0.1:$LIMIT_PORT" "$LIMIT"
done

# The axum entry point (examples/axum_echo.rs): their clients over HTTP/1.1 upgrade.
AXUM_PORT=$(free_port)
start_server "$OUT/axum_echo.log" target/release/examples/axum_echo "127.0.0.1:$AXUM_PORT" || exit 2
log "our axum echo server at ws://127.0.0.1:$AXUM_PORT"
run_checks labelled axum node "$HERE/node_client.mjs" "ws://127.0.0.1:$AXUM_PORT"
run_checks labelled axum "$VENV/bin/python" "$HERE/python_client.py" "ws://127.0.0.1:$AXUM_PORT"
AXUM_LIMIT_PORT=$(free_port)
start_server "$OUT/axum_echo-limit.log" target/release/examples/axum_echo "127.0.0.1:$AXUM_LIMIT_PORT" \
  --max-message-size $((64 << 20)) || exit 2
run_checks labelled axum node "$HERE/node_oversize.mjs" "ws://127.0.0.1:$AXUM_LIMIT_PORT" $((64 << 20))
# The same over TLS (ALPN h2 and http/1.1) with a certificate made for this run, for Chromium.
# A CA, and a server certificate for 127.0.0.1 and localhost it signs (wscat trusts the CA).
bash "$HERE/../make_certs.sh" "$OUT" || exit 2
AXUM_TLS_PORT=$(free_port)
start_server "$OUT/axum_echo-tls.log" target/release/examples/axum_echo "127.0.0.1:$AXUM_TLS_PORT" \
  --tls "$OUT/cert.pem" "$OUT/key.pem" --http3 || exit 2
# WebSocket over HTTP/3 (RFC 9220) on the same port over UDP: aioquic + wsproto as the client.
run_checks labelled "axum h3" "$VENV/bin/python" "$HERE/h3_peer.py" client "127.0.0.1:$AXUM_TLS_PORT" "$OUT/ca.pem"

# --- our client (wscat) against their servers -------------------------------------------
WSCAT=target/release/examples/wscat
# client_check NAME EXPECTED_EXIT EXPECTED_OUTPUT INPUT WSCAT_ARGS...
client_check() {
  local name=$1 want_exit=$2 want_out=$3 input=$4; shift 4
  local out status
  # End of input (and so wscat's Close) comes a moment after the lines: a server may stop
  # echoing once it has seen the Close (Python websockets does), which RFC 6455 allows.
  out=$( { printf '%b' "$input"; sleep 0.5; } | timeout 30 "$WSCAT" "$@" 2>"$OUT/wscat.err")
  status=$?
  if [ "$status" = "$want_exit" ] && [ "$out" = "$(printf '%b' "$want_out")" ] \
     && { [ "$want_exit" = 0 ] || grep -q "${EXPECT_ERR:-}" "$OUT/wscat.err"; }; then
    echo "PASS $name" | tee -a "$RESULTS"
  else
    echo "FAIL $name: exit $status (want $want_exit), output '$out', stderr '$(tr '\n' ' ' <"$OUT/wscat.err")'" | tee -a "$RESULTS"
  fi
}

NODE_PORT=$(free_port)
start_server "$OUT/node_server.log" node "$HERE/node_server.mjs" "$NODE_PORT" || exit 2
PY_PORT=$(free_port)
start_server "$OUT/python_server.log" "$VENV/bin/python" "$HERE/python_server.py" "$PY_PORT" || exit 2
LINES='hello\nκόσμε 𝄞\n{"json":[1,2,3]}\n'
BIG=$(python3 -c 'print("x" * 200000)')
for peer in node:$NODE_PORT python:$PY_PORT; do
  name=${peer%%:*}; port=${peer#*:}
  for deflate in "" --deflate; do
    mode=${deflate:+deflate}; mode=${mode:-plain}
    client_check "wscat vs $name server: $mode echo" 0 "$LINES" "$LINES" "ws://127.0.0.1:$port/echo" $deflate
    client_check "wscat vs $name server: $mode 200 KB line" 0 "$BIG\n" "$BIG\n" "ws://127.0.0.1:$port/echo" $deflate
  done
  client_check "wscat vs $name server: server closes first" 0 'bye\n' '' "ws://127.0.0.1:$port/close-first"
done
# ping() against their servers: their pongs carry our stamped payload back, and the round
# trip is measured from it (examples/round_trip_time.rs).
for peer in node:$NODE_PORT python:$PY_PORT; do
  name=${peer%%:*}; port=${peer#*:}
  out=$(timeout 30 target/release/examples/round_trip_time "ws://127.0.0.1:$port/echo" --count 3 2>&1)
  if [ "$(grep -c '^ping [0-9]: [0-9.]* ms$' <<<"$out")" = 3 ] && grep -q '^rtt min/avg/max' <<<"$out"; then
    echo "PASS round_trip_time vs $name server: 3 pings measured" | tee -a "$RESULTS"
  else
    echo "FAIL round_trip_time vs $name server: $(tr '\n' ' ' <<<"$out")" | tee -a "$RESULTS"
  fi
done
EXPECT_ERR=401 client_check "wscat vs node server: 401 refusal reported" 1 '' '' "ws://127.0.0.1:$NODE_PORT/reject"
EXPECT_ERR=403 client_check "wscat vs python server: 403 refusal reported" 1 '' '' "ws://127.0.0.1:$PY_PORT/reject"
# Our HTTP/3 client against aioquic's HTTP/3 server (wsproto frames).
H3_PORT=$(free_port)
start_server "$OUT/h3_peer_server.log" "$VENV/bin/python" "$HERE/h3_peer.py" server "$H3_PORT" "$OUT/cert.pem" "$OUT/key.pem" || exit 2
client_check "wscat --http3 vs aioquic: echo" 0 'one\ntwo' 'one\ntwo\n' --http3 "wss://localhost:$H3_PORT/echo" --ca "$OUT/ca.pem"
client_check "wscat --http3 vs aioquic: subprotocol and deflate offer" 0 'chat' 'chat\n' --http3 "wss://localhost:$H3_PORT/chat" \
  --ca "$OUT/ca.pem" --subprotocol chat --deflate
EXPECT_ERR=403 client_check "wscat --http3 vs aioquic: 403 refusal reported" 1 '' '' --http3 "wss://localhost:$H3_PORT/reject" --ca "$OUT/ca.pem"
# wss:// with a CA file, against axum_echo --tls (HTTP/1.1 over TLS through ALPN).
client_check "wscat vs axum_echo --tls: wss echo (--ca)" 0 'over TLS\n' 'over TLS\n' \
  "wss://127.0.0.1:$AXUM_TLS_PORT/tls" --ca "$OUT/ca.pem" --deflate

# --- headless Chromium's WebSocket against our server ------------------------------------
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  log "installing chromium and chromium-driver (Debian packages)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver; } \
    >"$OUT/apt.log" 2>&1 || { tail -5 "$OUT/apt.log"; echo "FAIL chromium: could not install chromium" | tee -a "$RESULTS"; }
fi
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  PAGE_PORT=$(free_port)
  (cd "$HERE" && exec python3 -m http.server "$PAGE_PORT" --bind 127.0.0.1) >"$OUT/page_server.log" 2>&1 &
  PIDS+=($!)
  DRIVER_PORT=$(free_port)
  chromedriver --port="$DRIVER_PORT" >"$OUT/chromedriver.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$DRIVER_PORT") 2>/dev/null && break; sleep 0.2; done
  run_checks python3 "$HERE/browser_driver.py" "$DRIVER_PORT" "http://127.0.0.1:$PAGE_PORT/browser.html?server=127.0.0.1:$PORT"
  run_checks python3 "$HERE/browser_driver.py" "$DRIVER_PORT" \
    "http://127.0.0.1:$PAGE_PORT/browser.html?server=127.0.0.1:$AXUM_PORT&label=axum"
  CHROMIUM_EXTRA_ARGS=--ignore-certificate-errors run_checks python3 "$HERE/browser_driver.py" "$DRIVER_PORT" \
    "http://127.0.0.1:$PAGE_PORT/browser.html?server=127.0.0.1:$AXUM_TLS_PORT&tls=1&label=axum tls"
  # Which HTTP version Chromium's wss:// upgrades used (axum_echo logs each; HTTP/2 ones are
  # CONNECT with :protocol websocket).
  H2=$(grep -c 'HTTP/2 CONNECT' "$OUT/axum_echo-tls.log"); H1=$(grep -c 'HTTP/1.1 Upgrade' "$OUT/axum_echo-tls.log")
  log "axum_echo --tls upgrades: $H2 over HTTP/2, $H1 over HTTP/1.1 (wscat's one is HTTP/1.1)"
  if [ "$H2" -gt 0 ]; then echo "PASS chromium [axum tls]: wss:// ran over HTTP/2 extended CONNECT ($H2 upgrades)" | tee -a "$RESULTS"
  else echo "FAIL chromium [axum tls]: no upgrade over HTTP/2 (:protocol websocket) in $OUT/axum_echo-tls.log" | tee -a "$RESULTS"; fi
  # The browser_chat example's own page: it says hello on open and shows what it receives.
  CHAT_PORT=$(free_port)
  start_server "$OUT/browser_chat.log" target/release/examples/browser_chat "127.0.0.1:$CHAT_PORT" || exit 2
  run_checks python3 "$HERE/browser_driver.py" "$DRIVER_PORT" "http://127.0.0.1:$CHAT_PORT/" \
    "received: hello" "browser_chat page connects back and receives the broadcast"
fi

PASSED=$(grep -c '^PASS' "$RESULTS")
FAILED=$(grep -c '^FAIL' "$RESULTS")
echo
grep '^FAIL' "$RESULTS" || true
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
