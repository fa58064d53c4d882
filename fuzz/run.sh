#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, starting from the committed seeds
# and the WebSocket dictionary; new corpus entries go to fuzz/corpus/ (not committed).
#   usage: fuzz/run.sh [SECONDS] [TARGET...]      (needs the nightly toolchain and cargo-fuzz)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
SECONDS_EACH=${1:-60}; shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo +nightly fuzz list)
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target" "seeds/$target"
  echo "fuzzing $target for $SECONDS_EACH s"
  cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -dict=dicts/websocket.dict -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 2>&1 | grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|thread)|cov:|panicked|ERROR|Test unit written' | tail -n 8
done
