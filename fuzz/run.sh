#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, starting from the committed seeds
# and the WebSocket dictionary; new corpus entries go to fuzz/corpus/ (not committed).
#   usage: fuzz/run.sh [SECONDS] [TARGET...]      (needs the nightly toolchain and cargo-fuzz)
# Each target's whole output is kept in fuzz/target/logs/TARGET.log; a summary of it is
# printed, and when a target fails (a finding, a build error, a kill) the log's tail with it.
# Every target runs; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1
SECONDS_EACH=${1:-60}; shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo +nightly fuzz list)
# Without `set -e` a failed listing would leave nothing to run and pass: it is an error.
[ ${#TARGETS[@]} -gt 0 ] || { echo "no fuzz targets found (cargo +nightly fuzz list)"; exit 1; }
mkdir -p target/logs
failed=()
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target" "seeds/$target"
  log="target/logs/$target.log"
  echo "fuzzing $target for $SECONDS_EACH s"
  cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -dict=dicts/websocket.dict -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 >"$log" 2>&1
  status=$?
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|cov:' "$log" | tail -n 6
  if [ "$status" -ne 0 ]; then
    echo "$target FAILED with status $status; the end of $log:"
    tail -n 40 "$log"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "failed: ${failed[*]}"; exit 1; fi
