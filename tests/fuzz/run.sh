#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build dir and runs each for a bounded time.
# Usage: tests/fuzz/run.sh [seconds-per-target]   (default 20; env FUZZ_BUILD_DIR overrides the dir)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-${FUZZ_SECONDS:-20}}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
clangxx=${CLANGXX:-clang++}
command -v "$clangxx" >/dev/null || { echo "run.sh: $clangxx not found (apt-get install clang)" >&2; exit 77; }

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root/tests/fuzz" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$clangxx" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

status=0
for target in fuzz_command_parser fuzz_data_reader fuzz_server_session fuzz_bdat_chunk fuzz_dkim_signer \
              fuzz_submit_request; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus" "$build/artifacts/$target"
  echo "== $target (${seconds}s)"
  if ! "$build/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -dict="$root/tests/fuzz/smtp.dict" -artifact_prefix="$build/artifacts/$target/" \
        -print_final_stats=1 "$corpus" "$root/tests/fuzz/seeds/$target" 2>"$build/$target.log"; then
    echo "FAILED: $target (see $build/$target.log and $build/artifacts/$target/)" >&2
    tail -40 "$build/$target.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/$target.log" || true
  fi
done
exit $status
