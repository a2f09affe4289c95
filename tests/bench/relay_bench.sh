#!/usr/bin/env bash
# tests/bench/relay_bench.sh: end to end, accept and relay at once: Ferry vs Postfix, into smtp-sink.
# Contract: prints, per run and contender, the submission rate, the end-to-end rate, the drain
# tail (last delivery after the last submission), MB/s accepted and relayed, and CPU per message;
# the disk's synced-write bandwidth is measured in the same run as the ceiling for bytes. Exits
# non-zero only on a real error (a server that does not start, a message not delivered).
set -u

usage() {
  cat <<'EOF'
usage: sudo tests/bench/relay_bench.sh [options]
  --messages N       messages per run (default 3000)
  --size BYTES       payload size (default 1024; 102400 for the bytes figures)
  --sessions S       concurrent smtp-source sessions (default 10)
  --runs R           alternating runs per contender (default 3)
  --ferry PATH       the ferry binary (default: the newest build)
  --no-postfix       Ferry only
  --timeout S        bound of every wait (default 300)
  --keep             keep the temporary directory
EOF
}

MESSAGES=3000; SIZE=1024; SESSIONS=10; RUNS=3; FERRY=""; WANT_POSTFIX=1; TIMEOUT=300; KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --messages) MESSAGES="${2:?}"; shift ;;
    --size) SIZE="${2:?}"; shift ;;
    --sessions) SESSIONS="${2:?}"; shift ;;
    --runs) RUNS="${2:?}"; shift ;;
    --ferry) FERRY="${2:?--ferry needs a path}"; shift ;;
    --no-postfix) WANT_POSTFIX=0 ;;
    --timeout) TIMEOUT="${2:?}"; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
die() { echo "relay_bench: $*" >&2; exit 2; }
note() { echo "$*" >&2; }
# shellcheck source=lib/postfix.sh
. "$SCRIPT_DIR/lib/postfix.sh"
# shellcheck source=lib/ferry.sh
. "$SCRIPT_DIR/lib/ferry.sh"
# shellcheck source=lib/disk.sh
. "$SCRIPT_DIR/lib/disk.sh"
# shellcheck source=lib/measure.sh
. "$SCRIPT_DIR/lib/measure.sh"
postfix_require_tools
command -v python3 >/dev/null || die "python3 not found"
command -v dd >/dev/null || die "dd not found"
postfix_require_instance
ferry_locate

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-relay-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$WORK"   # the postfix user must reach its queue and data directories
SINK_PID=""; FERRY_PID=""
postfix_instance_dirs

cleanup() {
  set +e
  [ -n "$FERRY_PID" ] && stop_pid "$FERRY_PID" 15
  postfix_stop 15
  [ -n "$SINK_PID" ] && stop_pid "$SINK_PID" 5
  if [ "$KEEP" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # port seconds [pid]
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}
mbps() { awk -v n="$1" -v s="$SIZE" -v e="$2" 'BEGIN { if (e > 0) printf "%.1f", n * s / e / 1e6; else print "-" }'; }

SINK_PORT=$(free_port)
IS_ROOT=${IS_ROOT:-0}
smtp_sink_start "127.0.0.1:$SINK_PORT" "$WORK/sink.log"
SINK_PID=$SINK_STARTED_PID
wait_port "$SINK_PORT" 10 "$SINK_PID" || die "smtp-sink did not start: $(cat "$WORK/sink.log")"

write_ferry_config() {
  cat >"$FERRY_CONF" <<EOF
# relay_bench: Ferry under test; [queue] sync and [delivery] limits are the built-in defaults.
hostname = "ferry.bench.invalid"
user = "root"
[queue]
path = "$1"
max_size = "16GiB"
min_free = "1%"
[[listen]]
address = "127.0.0.1"
port = 0
mode = "relay"
[smtp]
max_connections = 1000
max_connections_per_ip = 1000
[metrics]
listen = ""
[[route]]
domain = "relay.test"
host = "[127.0.0.1]:$SINK_PORT"
EOF
}

# run_one LABEL PORT LOG OFFSET TICKS_FN: submits, waits for every delivery, fills R_*.
run_one() {
  local label=$1 port=$2 log=$3 offset=$4 ticks=$5 t0 t1 cpu0 w watch
  python3 "$SCRIPT_DIR/drain/watch_log.py" "$log" --offset "$offset" --count "$MESSAGES" \
    --timeout "$TIMEOUT" >"$WORK/$label-watch.out" 2>&1 &
  watch=$!
  cpu0=$($ticks)
  t0=$EPOCHREALTIME
  timeout "$TIMEOUT" "$SOURCE" -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -M source.bench.invalid \
    -f sender@source.bench.invalid -t rcpt@relay.test "127.0.0.1:$port" >"$WORK/$label-source.log" 2>&1 ||
    { note "error: $label: smtp-source failed: $(tail -3 "$WORK/$label-source.log")"; kill "$watch"; return 1; }
  t1=$EPOCHREALTIME
  wait "$watch"
  w=$(tail -1 "$WORK/$label-watch.out")
  R_CPU=$(us_per_msg $(($($ticks) - cpu0)) "$MESSAGES")
  R_SENT=$(kv sent "$w")
  [ "$R_SENT" = "$MESSAGES" ] || { note "error: $label delivered $R_SENT of $MESSAGES: $w"; return 1; }
  R_SUBMIT=$(rate "$MESSAGES" "$(elapsed "$t0" "$t1")")
  R_E2E=$(rate "$MESSAGES" "$(elapsed "$t0" "$(kv last "$w")")")
  R_TAIL=$(elapsed "$t1" "$(kv last "$w")")
  R_MB_IN=$(mbps "$MESSAGES" "$(elapsed "$t0" "$t1")")
  R_MB_OUT=$(mbps "$MESSAGES" "$(elapsed "$t0" "$(kv last "$w")")")
}

run_ferry() {  # n
  FERRY_CONF="$WORK/ferry-$1.toml"
  write_ferry_config "$WORK/ferry-queue-$1"
  local log="$WORK/ferry-$1.log" i port=""
  : >"$log"
  "$FERRY" serve --config "$FERRY_CONF" 2>"$log" &
  FERRY_PID=$!
  for ((i = 0; i < 300; i++)); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (relay).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$FERRY_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] && wait_port "$port" 10 "$FERRY_PID" || { note "error: ferry did not start: $(tail -5 "$log")"; return 1; }
  ferry_ticks() { stat_ticks "$FERRY_PID"; }
  run_one "ferry-$1" "$port" "$log" 0 ferry_ticks || return 1
  stop_pid "$FERRY_PID" 30; FERRY_PID=""
  rm -rf "$WORK/ferry-queue-$1"
}

run_postfix() {  # n
  PF_PORT=$(free_port)
  postfix_write_config relay_bench <<EOF
relayhost = [127.0.0.1]:$SINK_PORT
EOF
  postfix_check && postfix_start || return 1
  local offset; offset=$(stat -c %s "$PF_MAILLOG" 2>/dev/null || echo 0)
  run_one "postfix-$1" "$PF_PORT" "$PF_MAILLOG" "$offset" postfix_ticks || { postfix_stop 15; return 1; }
  postfix_stop 15
  rm -rf "$PFQ" "$PFD"
}

commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "?")
note "relay_bench: $MESSAGES x $SIZE B, $SESSIONS sessions (a new connection per message), $RUNS runs; ferry $commit ($FERRY_BUILD_TYPE); sink 127.0.0.1:$SINK_PORT"
CEIL=$(disk_synced_mbps "$WORK")
printf '%-8s %3s %9s %9s %8s %9s %9s %9s\n' contender run "submit/s" "e2e/s" "tail s" "MB/s in" "MB/s out" "CPU us"
FAILED=0; declare -A E2E MBIN
for ((r = 1; r <= RUNS; r++)); do
  order="ferry postfix"; [ $((r % 2)) = 0 ] && order="postfix ferry"
  for c in $order; do
    [ "$c" = postfix ] && [ "$WANT_POSTFIX" != 1 ] && continue
    if "run_$c" "$r"; then
      E2E[$c-$r]=$R_E2E; MBIN[$c-$r]=$R_MB_IN
      printf '%-8s %3s %9s %9s %8s %9s %9s %9s\n' "$c" "$r" "$R_SUBMIT" "$R_E2E" "$R_TAIL" "$R_MB_IN" "$R_MB_OUT" "$R_CPU"
    else
      FAILED=1; [ -n "$FERRY_PID" ] && { stop_pid "$FERRY_PID" 30; FERRY_PID=""; }
    fi
  done
done
CEIL2=$(disk_synced_mbps "$WORK")
echo "disk synced-write ceiling (dd bs=1M oflag=dsync, before / after): $CEIL / $CEIL2 MB/s"
MEAN=$(awk -v a="$CEIL" -v b="$CEIL2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", (a + b) / 2 }')
# Bytes against the ceiling only mean something for large messages (1 KiB is bound by messages).
for ((r = 1; r <= RUNS && SIZE >= 65536; r++)); do
  f=${MBIN[ferry-$r]:-}
  [ -n "$f" ] && [ -n "$MEAN" ] && echo "run $r: Ferry accepted $f MB/s = $(awk -v a="$f" -v b="$MEAN" 'BEGIN { printf "%.0f", 100 * a / b }')% of the mean ceiling ($MEAN MB/s)"
done
if [ "$WANT_POSTFIX" = 1 ]; then
  for ((r = 1; r <= RUNS; r++)); do
    f=${E2E[ferry-$r]:-}; p=${E2E[postfix-$r]:-}
    [ -n "$f" ] && [ -n "$p" ] && echo "run $r: Ferry/Postfix end to end $(awk -v a="$f" -v b="$p" 'BEGIN { printf "%.2f", a / b }')x"
  done
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$FAILED"
