#!/usr/bin/env bash
# The browser tests: tests/web.rs built for wasm32-unknown-unknown and run by
# wasm-bindgen-test-runner in headless Chromium (through chromedriver), against
# `ferrosocket serve --subprotocol chat` on a free 127.0.0.1 port; then examples/web_chat's
# page, built for the browser, chatting through `ferrosocket serve --broadcast` in Chromium
# (tests/interop/browser_driver.py waits for the echoed line in its title). Installs what it lacks:
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
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
# serve NAME ARGS...: `ferrosocket serve ARGS` in the background; its URL in $url.
serve() {
  local log="$work/$1.log"; shift
  target/debug/ferrosocket serve 127.0.0.1:0 "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^listening on ' "$log" && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$log")
  [ -n "$url" ] || { echo "the server did not start:"; cat "$log"; exit 1; }
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

serve echo --subprotocol chat
echo "echo server: $url"
FERROSOCKET_WEB_ECHO="$url" \
CHROMEDRIVER="$(command -v chromedriver)" \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --no-default-features --features web --test web

# The example page: the same chat program as the terminal build, in the browser.
cargo build -q --example web_chat --target wasm32-unknown-unknown --no-default-features --features web
wasm-bindgen --target web --out-dir "$work/page/pkg" target/wasm32-unknown-unknown/debug/examples/web_chat.wasm
cp examples/web_chat/index.html "$work/page/"
serve chat --broadcast
page_port=$(free_port)
python3 -m http.server "$page_port" --bind 127.0.0.1 --directory "$work/page" >"$work/page.log" 2>&1 &
pids+=($!)
driver_port=$(free_port)
chromedriver --port="$driver_port" >"$work/chromedriver.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$driver_port") 2>/dev/null && break; sleep 0.2; done
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$page_port") 2>/dev/null && break; sleep 0.2; done
python3 tests/interop/browser_driver.py "$driver_port" \
  "http://127.0.0.1:$page_port/?server=$url&say=hello%20from%20wasm" \
  "web chat: hello from wasm" "examples/web_chat in Chromium: a line out and back through ferrosocket serve --broadcast"
