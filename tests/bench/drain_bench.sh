#!/usr/bin/env bash
# drain_bench.sh: queue drain rate of Ferry, side by side with a private Postfix instance, both
# delivering the same queued load (N x 1 KiB messages, one recipient each, 10 destination
# domains) to smtp-sink on loopback; plus smtp-source straight into smtp-sink for scale, and
# Ferry's peak RSS during the drain. See tests/bench/README.md. Prints figures; not a pass/fail
# test: it exits non-zero only on a real error (missing tool, a server that does not start, a
# fill or drain that does not complete, a queue that is not empty afterwards), never for missing
# a performance target.
set -uo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
usage: tests/bench/drain_bench.sh [options]
  --quick            smoke run: 1,000 messages (default 10,000)
  --messages N       messages to queue and drain (at least 10; split over the 10 domains)
  --ferry PATH       the ferry binary (default: the newest of build/mta/cli/ferry,
                     build-bench/mta/cli/ferry and build-drain/mta/cli/ferry; use a Release build)
  --timeout S        bound on each fill and each drain, seconds (default 600)
  --no-postfix       skip the Postfix target
  --perf             record Ferry's drain with perf (flat, 999 Hz) and print its top symbols
  --keep             keep the temporary directory (configs, logs, queues)
Needs root (for the private Postfix instance and smtp-sink -u), python3, and the Debian package
postfix (smtp-source, smtp-sink, postfix, postqueue).
EOF
}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)

MESSAGES=10000; FERRY=""; TIMEOUT=600; WANT_POSTFIX=1; WANT_PERF=0; KEEP=0
DOMAINS=10; SIZE=1024
FILL_SESSIONS=5        # smtp-source sessions per domain while filling (x10 domains)
SCALE_SESSIONS=20      # smtp-source -> smtp-sink for scale (one destination's concurrency)

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) MESSAGES=1000 ;;
    --messages) MESSAGES="${2:?--messages needs a count}"; shift ;;
    --ferry) FERRY="${2:?--ferry needs a path}"; shift ;;
    --timeout) TIMEOUT="${2:?}"; shift ;;
    --no-postfix) WANT_POSTFIX=0 ;;
    --perf) WANT_PERF=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "drain_bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$MESSAGES" in ''|*[!0-9]*) echo "drain_bench: --messages needs a number" >&2; exit 2 ;; esac
[ "$MESSAGES" -ge "$DOMAINS" ] || { echo "drain_bench: --messages must be at least $DOMAINS" >&2; exit 2; }

die() { echo "drain_bench: $*" >&2; exit 2; }
note() { echo "$*" >&2; }

# ---------------------------------------------------------------- prerequisites
# Finding smtp-source, smtp-sink and postfix, smtp-sink start-up and the private Postfix
# instance are shared with smtp_accept_bench.sh.
# shellcheck source=lib/postfix.sh
. "$SCRIPT_DIR/lib/postfix.sh"
# shellcheck source=lib/ferry.sh
. "$SCRIPT_DIR/lib/ferry.sh"
# shellcheck source=lib/measure.sh
. "$SCRIPT_DIR/lib/measure.sh"
postfix_require_tools
command -v python3 >/dev/null || die "python3 not found"
command -v timeout >/dev/null || die "timeout (coreutils) not found"
postfix_require_instance postqueue
PERF=""
if [ "$WANT_PERF" = 1 ]; then
  PERF=$(command -v perf) || die "--perf: perf not found (Debian package linux-perf)"
fi

ferry_locate build-drain
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

# ---------------------------------------------------------------- workspace and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-drain-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$WORK"   # the postfix user must reach its queue and data directories
SINK_PIDS=(); FERRY_PID=""; PERF_PID=""; FILL_PIDS=()
postfix_instance_dirs

cleanup() {
  set +e
  local p
  for p in "${FILL_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "$PERF_PID" ] && stop_pid "$PERF_PID" 10
  [ -n "$FERRY_PID" ] && stop_pid "$FERRY_PID" 15
  postfix_stop 15
  for p in "${SINK_PIDS[@]}"; do stop_pid "$p" 5; done
  if [ "$KEEP" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
# The 10 destinations: domain dI.test is served by smtp-sink on 127.0.0.(11+I), all on one port.
dom() { echo "d$1.test"; }
dest_ip() { echo "127.0.0.$((11 + $1))"; }

# A port that is free on all ten destination addresses.
free_sink_port() {
  python3 - "$DOMAINS" <<'EOF'
import socket, sys
n = int(sys.argv[1])
for _ in range(50):
    s = socket.socket(); s.bind(("127.0.0.11", 0)); port = s.getsockname()[1]
    held, ok = [s], True
    for i in range(1, n):
        t = socket.socket()
        try:
            t.bind((f"127.0.0.{11 + i}", port)); held.append(t)
        except OSError:
            ok = False; t.close(); break
    for h in held: h.close()
    if ok:
        print(port); sys.exit(0)
sys.exit(1)
EOF
}
wait_port() {  # address port seconds [pid]: true once something accepts on address:port
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
kib_of() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status" 2>/dev/null; }

sink_ticks() { local p sum=0; for p in "${SINK_PIDS[@]}"; do sum=$((sum + $(stat_ticks "$p"))); done; echo "$sum"; }

# fill PORT LABEL: N messages, one recipient each, round-robin over the domains: one
# smtp-source job per domain (smtp-source takes one -t), FILL_SESSIONS sessions each, reusing
# connections (-d). Returns non-zero if a job failed.
fill() {
  local port=$1 label=$2 i n rc=0 p
  FILL_PIDS=()
  for ((i = 0; i < DOMAINS; i++)); do
    n=$((MESSAGES / DOMAINS)); [ "$i" -lt $((MESSAGES % DOMAINS)) ] && n=$((n + 1))
    timeout "$TIMEOUT" "$SOURCE" -d -s "$FILL_SESSIONS" -m "$n" -l "$SIZE" -M source.bench.invalid \
      -f sender@source.bench.invalid -t "rcpt@$(dom "$i")" "127.0.0.1:$port" \
      >"$WORK/fill-$label-$i.log" 2>&1 &
    FILL_PIDS+=($!)
  done
  for p in "${FILL_PIDS[@]}"; do wait "$p" || rc=1; done
  FILL_PIDS=()
  [ "$rc" = 0 ] || { note "error: filling $label: smtp-source failed:"; tail -3 "$WORK"/fill-"$label"-*.log >&2; }
  return "$rc"
}
# wait_count SECONDS WANT CMD...: poll CMD (prints a number) until it reaches WANT.
wait_count() {
  local secs=$1 want=$2 i c=0; shift 2
  for ((i = 0; i < secs * 10; i++)); do
    c=$("$@"); [ "${c:-0}" -ge "$want" ] && { echo "$c"; return 0; }
    sleep 0.1
  done
  echo "$c"; return 1
}

FAILED=0
declare -A R   # results

# ---------------------------------------------------------------- the sinks
SINK_PORT=$(free_sink_port) || die "no port free on 127.0.0.11..$((10 + DOMAINS))"
for ((i = 0; i < DOMAINS; i++)); do
  smtp_sink_start "$(dest_ip "$i"):$SINK_PORT" "$WORK/sink-$i.log"
  SINK_PIDS+=("$SINK_STARTED_PID")
done
for ((i = 0; i < DOMAINS; i++)); do
  wait_port "$(dest_ip "$i")" "$SINK_PORT" 10 "${SINK_PIDS[$i]}" ||
    die "smtp-sink on $(dest_ip "$i"):$SINK_PORT did not start: $(cat "$WORK/sink-$i.log")"
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_RUN0=$EPOCHREALTIME
note "drain_bench: $MESSAGES x $(($SIZE / 1024)) KiB messages over $DOMAINS domains; sinks on 127.0.0.11..$((10 + DOMAINS)):$SINK_PORT; work dir $WORK"

# ---------------------------------------------------------------- scale: smtp-source -> smtp-sink
# Reused connections (-d), SCALE_SESSIONS sessions, one destination, the same message size.
SCALE_N=$((MESSAGES * 2)); [ "$SCALE_N" -lt 20000 ] && SCALE_N=20000
t0=$EPOCHREALTIME
if timeout "$TIMEOUT" "$SOURCE" -d -s "$SCALE_SESSIONS" -m "$SCALE_N" -l "$SIZE" -M source.bench.invalid \
     -f sender@source.bench.invalid -t rcpt@d0.test "$(dest_ip 0):$SINK_PORT" >"$WORK/scale.log" 2>&1; then
  t1=$EPOCHREALTIME
  R[scale_secs]=$(elapsed "$t0" "$t1"); R[scale_rate]=$(rate "$SCALE_N" "${R[scale_secs]}")
  note "  smtp-source -> smtp-sink: $SCALE_N msgs in ${R[scale_secs]}s = ${R[scale_rate]} msg/s"
else
  note "error: smtp-source -> smtp-sink failed:"; tail -3 "$WORK/scale.log" >&2; FAILED=1
fi

# ---------------------------------------------------------------- Ferry
# Per-domain literal routes: dI.test -> [127.0.0.(11+I)]:PORT, so ten destinations (Ferry groups
# by route host:port) and no DNS. While filling, PORT is 9 on those addresses (nothing listens:
# connection refused, retried in an hour); for the drain it is the sinks' port.
write_ferry_config() {  # port
  local i
  cat >"$FERRY_CONF" <<EOF
# drain_bench: Ferry under test. Everything not set here is the built-in default (notably
# [queue] sync = true, [delivery] max_connections = 100, max_per_destination = 20).
hostname = "ferry.bench.invalid"
# Root runs the bench on a root-owned temporary queue (a missing run user is fatal otherwise).
user = "root"
[queue]
path = "$WORK/ferry-queue"
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
[retry]
first = "1h"
EOF
  for ((i = 0; i < DOMAINS; i++)); do
    printf '[[route]]\ndomain = "%s"\nhost = "[%s]:%s"\n' "$(dom "$i")" "$(dest_ip "$i")" "$1" >>"$FERRY_CONF"
  done
}
start_ferry() {  # log: sets FERRY_PID, FERRY_PORT
  local i
  "$FERRY" serve --config "$FERRY_CONF" 2>"$1" &
  FERRY_PID=$!
  FERRY_PORT=""
  for ((i = 0; i < 300; i++)); do
    FERRY_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (relay).*/\1/p' "$1" | head -1)
    [ -n "$FERRY_PORT" ] && break
    kill -0 "$FERRY_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$FERRY_PORT" ] && wait_port 127.0.0.1 "$FERRY_PORT" 10 "$FERRY_PID"; then return 0; fi
  note "error: ferry serve did not start:"; tail -20 "$1" >&2
  stop_pid "$FERRY_PID" 5; FERRY_PID=""
  return 1
}
ferry_grep() { grep -c -- "$2" "$1" 2>/dev/null || true; }
ferry_queue_count() {
  "$FERRY" queue --config "$FERRY_CONF" list --json 2>/dev/null |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null
}

run_ferry() {
  FERRY_CONF="$WORK/ferry.toml"
  write_ferry_config 9
  start_ferry "$WORK/ferry-fill.log" || return 1
  note "  ferry: filling (routes to port 9, retry in 1h) ..."
  local t0 t1 c
  t0=$EPOCHREALTIME
  fill "$FERRY_PORT" ferry || return 1
  c=$(wait_count 60 "$MESSAGES" ferry_grep "$WORK/ferry-fill.log" ', queued$') ||
    { note "error: ferry queued $c of $MESSAGES"; return 1; }
  t1=$EPOCHREALTIME
  # Every message has had its first (refused) attempt before the restart.
  c=$(wait_count "$TIMEOUT" "$MESSAGES" ferry_grep "$WORK/ferry-fill.log" 'status=deferred') ||
    { note "error: ferry deferred $c of $MESSAGES"; return 1; }
  R[ferry_fill]=$(rate "$MESSAGES" "$(elapsed "$t0" "$t1")")
  stop_pid "$FERRY_PID" 30; FERRY_PID=""
  # Restart with the routes pointing at the sinks; nothing is due for an hour until the flush.
  write_ferry_config "$SINK_PORT"
  local st0=$EPOCHREALTIME
  start_ferry "$WORK/ferry-drain.log" || return 1
  local sched="" i
  for ((i = 0; i < TIMEOUT * 10; i++)); do  # start-up loads the due index after listening
    sched=$(sed -n 's/.*delivery: \([0-9]*\) recipients scheduled.*/\1/p' "$WORK/ferry-drain.log" | head -1)
    [ -n "$sched" ] && break
    kill -0 "$FERRY_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ "${sched:-0}" = "$MESSAGES" ] || { note "error: ferry scheduled ${sched:-?} of $MESSAGES after restart"; return 1; }
  R[ferry_startup]=$(elapsed "$st0" "$EPOCHREALTIME")
  R[ferry_hwm_start]=$(kib_of "$FERRY_PID" VmHWM)
  sleep 1
  python3 "$SCRIPT_DIR/drain/watch_log.py" "$WORK/ferry-drain.log" --count "$MESSAGES" --timeout "$TIMEOUT" \
    --pid "$FERRY_PID" >"$WORK/ferry-watch.out" 2>&1 &
  local watch=$!
  if [ -n "$PERF" ]; then
    "$PERF" record -F 999 -o "$WORK/perf.data" -p "$FERRY_PID" >"$WORK/perf-record.log" 2>&1 &
    PERF_PID=$!
    sleep 0.5
  fi
  local cpu0 scpu0 flush_t0 flush_t1
  cpu0=$(stat_ticks "$FERRY_PID"); scpu0=$(sink_ticks)
  note "  ferry: draining (ferry queue flush) ..."
  flush_t0=$EPOCHREALTIME
  "$FERRY" queue --config "$FERRY_CONF" flush >"$WORK/ferry-flush.log" 2>&1 ||
    { note "error: ferry queue flush failed: $(cat "$WORK/ferry-flush.log")"; wait "$watch"; return 1; }
  flush_t1=$EPOCHREALTIME
  wait "$watch"
  local w; w=$(tail -1 "$WORK/ferry-watch.out")
  R[ferry_cpu]=$(us_per_msg $(($(stat_ticks "$FERRY_PID") - cpu0)) "$MESSAGES")
  R[ferry_sink_cpu]=$(us_per_msg $(($(sink_ticks) - scpu0)) "$MESSAGES")
  R[ferry_hwm]=$(kib_of "$FERRY_PID" VmHWM)
  R[ferry_rss_anon]=$(kib_of "$FERRY_PID" RssAnon); R[ferry_rss_file]=$(kib_of "$FERRY_PID" RssFile)
  if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID" 2>/dev/null; wait "$PERF_PID" 2>/dev/null; PERF_PID=""; fi
  R[ferry_sent]=$(kv sent "$w"); R[ferry_deferred]=$(kv deferred "$w"); R[ferry_bounced]=$(kv bounced "$w")
  R[ferry_flush_secs]=$(elapsed "$flush_t0" "$flush_t1")
  R[ferry_latency]=$(elapsed "$flush_t0" "$(kv first "$w")")
  R[ferry_secs]=$(elapsed "$(kv first "$w")" "$(kv last "$w")")
  R[ferry_total_secs]=$(elapsed "$flush_t0" "$(kv last "$w")")
  R[ferry_rate]=$(rate "$MESSAGES" "${R[ferry_secs]}")
  R[ferry_total_rate]=$(rate "$MESSAGES" "${R[ferry_total_secs]}")
  R[ferry_left]=$(ferry_queue_count)
  R[ferry_conns]=$(grep -o 'relay=[^,]*' "$WORK/ferry-drain.log" | sort | uniq -c | wc -l)
  R[ferry_tls]=$(grep 'status=sent' "$WORK/ferry-drain.log" | grep -o 'tls=[^,]*' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  note "  ferry: $w; queue holds ${R[ferry_left]:-?} messages afterwards"
  if [ "${R[ferry_sent]}" != "$MESSAGES" ] || [ "${R[ferry_left]:-x}" != 0 ]; then
    note "error: ferry delivered ${R[ferry_sent]} of $MESSAGES (queue: ${R[ferry_left]:-?} left)"
    grep -v 'status=sent' "$WORK/ferry-drain.log" | tail -10 >&2
    return 1
  fi
  stop_pid "$FERRY_PID" 30; FERRY_PID=""
  return 0
}
if ! run_ferry; then FAILED=1; R[ferry_rate]=ERR; fi
[ -n "$FERRY_PID" ] && { stop_pid "$FERRY_PID" 30; FERRY_PID=""; }

# ---------------------------------------------------------------- Postfix
# A private instance (own config, queue and data directories, loopback only). Transport map
# dI.test -> smtp:[127.0.0.(11+I)]:SINKPORT (ten nexthops, no DNS). Filled with
# defer_transports = smtp (every message gets one deferred "attempt" and sits in the deferred
# queue); then stopped, defer_transports cleared, started again and flushed (postqueue -f).
write_postfix_config() {
  local i
  postfix_write_config drain_bench <<EOF
transport_maps = texthash:$PFC/transport
# While filling, the smtp transport is deferred: nothing is delivered, nothing retried
# during the run (the drain uses postqueue -f).
defer_transports = smtp
EOF
  : >"$PFC/transport"
  for ((i = 0; i < DOMAINS; i++)); do
    echo "$(dom "$i") smtp:[$(dest_ip "$i")]:$SINK_PORT" >>"$PFC/transport"
  done
}
pf_all() { postfix_queue_files incoming active deferred hold maildrop; }
pf_settled() {  # deferred count once incoming/active are empty
  [ "$(postfix_queue_files incoming active maildrop)" = 0 ] && postfix_queue_files deferred || echo 0
}

run_postfix() {
  PF_PORT=$(free_port)
  write_postfix_config
  postfix_check || return 1
  postfix_start || return 1
  note "  postfix: filling (defer_transports = smtp) ..."
  local t0 t1 c
  t0=$EPOCHREALTIME
  fill "$PF_PORT" postfix || return 1
  t1=$EPOCHREALTIME
  R[postfix_fill]=$(rate "$MESSAGES" "$(elapsed "$t0" "$t1")")
  c=$(wait_count "$TIMEOUT" "$MESSAGES" pf_settled) ||
    { note "error: postfix has $c of $MESSAGES messages in its deferred queue (and $(pf_all) in all)"; return 1; }
  postfix_stop 15
  "$POSTFIX_BIN" -c "$PFC" check >/dev/null 2>&1  # (re)creates anything stop left behind
  postconf -c "$PFC" -e 'defer_transports =' || return 1
  postfix_start || return 1
  sleep 1
  local offset
  offset=$(stat -c %s "$PF_MAILLOG")
  python3 "$SCRIPT_DIR/drain/watch_log.py" "$PF_MAILLOG" --offset "$offset" --count "$MESSAGES" \
    --timeout "$TIMEOUT" >"$WORK/postfix-watch.out" 2>&1 &
  local watch=$!
  local cpu0 scpu0 flush_t0 flush_t1 empty_t
  cpu0=$(postfix_ticks); scpu0=$(sink_ticks)
  note "  postfix: draining (postqueue -f) ..."
  flush_t0=$EPOCHREALTIME
  "$POSTQUEUE_BIN" -c "$PFC" -f >"$WORK/postfix-flush.log" 2>&1 ||
    { note "error: postqueue -f failed: $(cat "$WORK/postfix-flush.log")"; wait "$watch"; return 1; }
  flush_t1=$EPOCHREALTIME
  wait "$watch"
  # The queue file goes after the sent line: wait until the queue is empty (bounded).
  local i
  for ((i = 0; i < 600; i++)); do
    [ "$(postfix_queue_files incoming active deferred)" = 0 ] && break
    sleep 0.1
  done
  empty_t=$EPOCHREALTIME
  local w; w=$(tail -1 "$WORK/postfix-watch.out")
  R[postfix_cpu]=$(us_per_msg $(($(postfix_ticks) - cpu0)) "$MESSAGES")
  R[postfix_sink_cpu]=$(us_per_msg $(($(sink_ticks) - scpu0)) "$MESSAGES")
  R[postfix_sent]=$(kv sent "$w"); R[postfix_deferred]=$(kv deferred "$w"); R[postfix_bounced]=$(kv bounced "$w")
  R[postfix_flush_secs]=$(elapsed "$flush_t0" "$flush_t1")
  R[postfix_latency]=$(elapsed "$flush_t0" "$(kv first "$w")")
  R[postfix_secs]=$(elapsed "$(kv first "$w")" "$(kv last "$w")")
  R[postfix_total_secs]=$(elapsed "$flush_t0" "$(kv last "$w")")
  R[postfix_empty_after]=$(elapsed "$(kv last "$w")" "$empty_t")
  R[postfix_rate]=$(rate "$MESSAGES" "${R[postfix_secs]}")
  R[postfix_total_rate]=$(rate "$MESSAGES" "${R[postfix_total_secs]}")
  R[postfix_left]=$(pf_all)
  note "  postfix: $w; queue holds ${R[postfix_left]} files afterwards"
  if [ "${R[postfix_sent]}" != "$MESSAGES" ] || [ "${R[postfix_left]}" != 0 ]; then
    note "error: postfix delivered ${R[postfix_sent]} of $MESSAGES (queue: ${R[postfix_left]} files left)"
    grep -v 'status=sent' "$PF_MAILLOG" | tail -10 >&2
    return 1
  fi
  postfix_stop 15
  return 0
}
if [ "$WANT_POSTFIX" = 1 ]; then
  if ! run_postfix; then FAILED=1; R[postfix_rate]=ERR; fi
  postfix_stop 15
fi
T_RUN1=$EPOCHREALTIME
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
ratio() {
  case "$1$2" in *ERR*|*-*|"") echo "-"; return ;; esac
  [ -z "$1" ] || [ -z "$2" ] && { echo "-"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
verdict() { if [ "$1" = 1 ]; then echo met; else echo MISSED; fi; }
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "?")
if [ -n "$(git -C "$REPO" status --porcelain -- mta queue include 2>/dev/null)" ]; then
  commit="$commit + uncommitted changes in the tree (the binary may include them)"
fi
echo
echo "Queue drain: $MESSAGES queued messages of $SIZE bytes (smtp-source -l $SIZE), one recipient"
echo "each, round-robin over $DOMAINS domains d0..d$((DOMAINS - 1)).test, each routed to its own smtp-sink"
echo "(127.0.0.11..$((10 + DOMAINS)):$SINK_PORT): $DOMAINS destinations, no DNS."
echo "host: $(nproc) cores, $(uname -r); load average before $LOAD_BEFORE, after $LOAD_AFTER;" \
     "wall $(awk -v a="$T_RUN0" -v b="$T_RUN1" 'BEGIN { printf "%.0f", b - a }')s"
echo "ferry: $FERRY ($FERRY_BUILD_TYPE, commit $commit), [queue] sync = true, [delivery] defaults"
[ "$WANT_POSTFIX" = 1 ] && echo "postfix: $(postconf -d -h mail_version 2>/dev/null) private instance, main.cf defaults for" \
  "concurrency (default_destination_concurrency_limit 20, default_process_limit 100)"
echo
echo "drain rate = messages / (last status=sent line - first status=sent line), as observed in the"
echo "server's log (5 ms polling); 'from flush' also counts the time from the flush command"
echo "(ferry queue flush / postqueue -f) to the first delivery."
printf '%-22s %10s %10s %10s %11s %11s %11s\n' target "msg/s" seconds "from flush" "msg/s(fl)" "CPU us/msg" "sink us/msg"
for t in ferry postfix; do
  [ "$t" = postfix ] && [ "$WANT_POSTFIX" != 1 ] && continue
  printf '%-22s %10s %10s %10s %11s %11s %11s\n' "$t" "${R[${t}_rate]:--}" "${R[${t}_secs]:--}" \
    "${R[${t}_total_secs]:--}" "${R[${t}_total_rate]:--}" "${R[${t}_cpu]:--}" "${R[${t}_sink_cpu]:--}"
done
printf '%-22s %10s %10s\n' "smtp-source->sink" "${R[scale_rate]:--}" "${R[scale_secs]:--}"
echo "  (smtp-source -d -s $SCALE_SESSIONS -m $SCALE_N -l $SIZE into one smtp-sink: reused connections, no queue)"
echo
echo "ferry/postfix drain rate: $(ratio "${R[ferry_rate]:-}" "${R[postfix_rate]:-}")x" \
     "(from flush: $(ratio "${R[ferry_total_rate]:-}" "${R[postfix_total_rate]:-}")x)"
echo "start latency (flush command to first delivery): ferry ${R[ferry_latency]:--}s, postfix ${R[postfix_latency]:--}s"
echo "ferry restart with $MESSAGES queued, until 'delivery: N recipients scheduled' (not timed above): ${R[ferry_startup]:--}s"
[ -n "${R[postfix_empty_after]:-}" ] && echo "postfix queue empty ${R[postfix_empty_after]}s after its last sent line"
echo "fill rate (not timed for the drain; smtp-source -d, $DOMAINS x $FILL_SESSIONS sessions): ferry ${R[ferry_fill]:--} msg/s, postfix ${R[postfix_fill]:--} msg/s"
[ -n "${R[ferry_tls]:-}" ] && echo "ferry sent lines by tls=: ${R[ferry_tls]}"
if [ -n "${R[ferry_hwm]:-}" ]; then
  echo "ferry peak RSS (VmHWM of the restarted daemon: start-up with $MESSAGES due + drain): $(mib "${R[ferry_hwm]}") MiB" \
       "(after start-up $(mib "${R[ferry_hwm_start]:-0}") MiB; at the end anon $(mib "${R[ferry_rss_anon]}") MiB, file $(mib "${R[ferry_rss_file]}") MiB)"
fi
if [ -n "$PERF" ] && [ -f "$WORK/perf.data" ]; then
  echo
  # A flat profile (a Release build has no frame pointers: call graphs would be noise).
  echo "perf: ferry during the drain, samples by thread (tid) and object (the busiest thread is the I/O thread, then the commit thread):"
  "$PERF" report -i "$WORK/perf.data" --stdio --sort pid,dso 2>/dev/null | grep -E '^ +[0-9.]+%' | sed 's/  */ /g' | head -10
  echo "perf: top symbols (self time, all threads):"
  "$PERF" report -i "$WORK/perf.data" --stdio --percent-limit 0.8 --sort dso,symbol 2>/dev/null |
    grep -E '^ +[0-9.]+%' | sed 's/  */ /g' | cut -c1-160 | head -40
fi
echo
if [ "${R[ferry_rate]:-ERR}" != ERR ] && [ "${R[postfix_rate]:-ERR}" != ERR ] && [ "$WANT_POSTFIX" = 1 ]; then
  r=$(ratio "${R[ferry_rate]}" "${R[postfix_rate]}")
  [ "$r" != - ] && echo "target ferry >= 2x postfix drain rate: ${r}x -> $(verdict "$(awk -v r="$r" 'BEGIN { print (r >= 2) }')")"
fi
[ -n "${R[ferry_hwm]:-}" ] &&
  echo "target ferry RSS < 128 MiB during the drain: $(mib "${R[ferry_hwm]}") MiB -> $(verdict "$(awk -v k="${R[ferry_hwm]}" 'BEGIN { print (k < 131072) }')")"
if [ "$FAILED" != 0 ]; then
  note "drain_bench: errors occurred (see above); logs in $WORK (use --keep to keep them)"
  exit 1
fi
exit 0
