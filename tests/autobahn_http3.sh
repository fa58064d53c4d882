#!/usr/bin/env bash
# The Autobahn|Testsuite over HTTP/3 (RFC 9220), through examples/h3_relay.rs: wstest speaks
# HTTP/1.1 only, the relay translates the opening handshake and passes the WebSocket's bytes
# through unchanged, so the cases test our HTTP/3 server and client.
#
#   bash tests/autobahn_http3.sh server|client|both     (after cargo build --release --examples;
#                                                     H3_BIN=DIR to take the binaries from DIR)
#
#   server: wstest's fuzzing client → h3_relay to-h3 → axum_echo --tls --http3 (UDP)
#   client: autobahn_client --runtime http3 → h3_relay to-tcp → wstest's fuzzing server
# Environment as for ../shared/autobahn/run.sh (AUTOBAHN_CASES, AUTOBAHN_EXCLUDE,
# AUTOBAHN_TIMEOUT); ports from H3_BASE_PORT (default 9300). Reports go to
# target/autobahn/http3-<role>. Exit status: 0 when every selected case passed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SHARED=${SHARED:-../shared}
ROLE=${1:-both}
BASE=${H3_BASE_PORT:-9300}
OUT=target/autobahn/http3-certs-$ROLE
BIN=${H3_BIN:-target/release/examples}
mkdir -p "$OUT"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null' EXIT

# A CA and a certificate for localhost it signs.
bash tests/make_certs.sh "$OUT" || exit 2

wait_listening() {
  for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "did not start: $1"; cat "$1"; return 1
}

STATUS=0
if [ "$ROLE" = server ] || [ "$ROLE" = both ]; then
  H3=$((BASE + 1)) RELAY=$((BASE + 2))
  "$BIN/axum_echo" "127.0.0.1:$H3" --tls "$OUT/cert.pem" "$OUT/key.pem" --http3 >"$OUT/axum_echo.log" 2>&1 &
  PIDS+=($!)
  wait_listening "$OUT/axum_echo.log" || exit 2
  AUTOBAHN_PORT=$RELAY AUTOBAHN_OUTDIR=target/autobahn/http3-server AUTOBAHN_AGENT=ferrosocket-http3 \
    bash "$SHARED/autobahn/run.sh" server -- "$BIN/h3_relay" to-h3 "127.0.0.1:$RELAY" "wss://localhost:$H3" --ca "$OUT/ca.pem" \
    || STATUS=1
fi
if [ "$ROLE" = client ] || [ "$ROLE" = both ]; then
  FUZZ=$((BASE + 3)) RELAY=$((BASE + 4))
  AUTOBAHN_PORT=$FUZZ AUTOBAHN_OUTDIR=target/autobahn/http3-client AUTOBAHN_AGENT=ferrosocket-http3 \
    bash "$SHARED/autobahn/run.sh" client -- bash -c "
      '$BIN/h3_relay' to-tcp 127.0.0.1:$RELAY '$OUT/cert.pem' '$OUT/key.pem' 127.0.0.1:$FUZZ >'$OUT/relay-client.log' 2>&1 &
      relay=\$!; trap 'kill \$relay' EXIT
      for _ in \$(seq 100); do grep -q listening '$OUT/relay-client.log' && break; sleep 0.1; done
      '$BIN/autobahn_client' wss://localhost:$RELAY ferrosocket-http3 --runtime http3 --ca '$OUT/ca.pem'" \
    || STATUS=1
fi
exit $STATUS
