# shellcheck shell=bash
# tests/bench/lib/ferry.sh: finding the ferry binary a benchmark measures.
# Contract: sourced by a bench script that defines die and note and sets REPO and FERRY (empty:
# look for one). On return FERRY is an absolute path to an executable and FERRY_BUILD_TYPE is the
# CMake build type it came from ("unknown" when the cache cannot be read).

# ferry_locate [EXTRA_BUILD_DIR...]: the newest of build/, build-bench/ and the extra build
# directories (relative to REPO) unless --ferry named one; warns when it is not a Release build.
ferry_locate() {
  local c dir
  if [ -z "$FERRY" ]; then
    for dir in build build-bench "$@"; do
      c="$REPO/$dir/mta/cli/ferry"
      [ -x "$c" ] || continue
      if [ -z "$FERRY" ] || [ "$c" -nt "$FERRY" ]; then FERRY="$c"; fi
    done
    [ -n "$FERRY" ] || die "no ferry binary: build one (cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build-bench ferry) or pass --ferry PATH"
  fi
  [ -x "$FERRY" ] || die "--ferry $FERRY: not an executable"
  FERRY=$(cd "$(dirname "$FERRY")" && pwd)/$(basename "$FERRY")
  FERRY_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$FERRY")/../../CMakeCache.txt" 2>/dev/null)
  [ -n "$FERRY_BUILD_TYPE" ] || FERRY_BUILD_TYPE=unknown
  case "$FERRY_BUILD_TYPE" in
    Release|RelWithDebInfo) ;;
    *) note "warning: $FERRY is a '$FERRY_BUILD_TYPE' build; figures need a Release build" ;;
  esac
}
