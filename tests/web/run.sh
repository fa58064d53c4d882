#!/usr/bin/env bash
# The browser tests: tests/web.rs built for wasm32-unknown-unknown and run by
# wasm-bindgen-test-runner in headless Chromium (through chromedriver), against
# `ferrosocket serve --subprotocol chat` on a free 127.0.0.1 port. Installs what it lacks:
# the wasm32 target, wasm-bindgen-cli of the version Cargo.lock pins, Debian's chromium and
# chromium-driver. (The same tests run natively on tokio in `cargo test --all-features`.)
set -euo pipefail
cd "$(dirname "$0")/../.."

rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
# The runner must match the wasm-bindgen the tests link.
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
  cargo generate-lockfile >/dev/null
  version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
fi
if ! wasm-bindgen-test-runner --version 2>/dev/null | grep -q " $version\$"; then
  echo "installing wasm-bindgen-cli $version"
  cargo install -q wasm-bindgen-cli --version "$version"
fi
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing chromium and chromium-driver (Debian packages)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi

cargo build -q --features cli --bin ferrosocket
log=$(mktemp)
target/debug/ferrosocket serve 127.0.0.1:0 --subprotocol chat >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q '^listening on ' "$log" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$log")
[ -n "$url" ] || { echo "the echo server did not start:"; cat "$log"; exit 1; }
echo "echo server: $url"

FERROSOCKET_WEB_ECHO="$url" \
CHROMEDRIVER="$(command -v chromedriver)" \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --no-default-features --features web --test web
