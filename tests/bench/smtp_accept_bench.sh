#!/usr/bin/env bash
# smtp_accept_bench.sh: durable SMTP accept throughput of Ferry, side by side with a private
# Postfix instance (both fsync before their 250) and smtp-sink (no storage: the protocol
# ceiling), all driven by Postfix's smtp-source in one run. Also Ferry's peak RSS and its RSS
# with many idle connections. See tests/bench/README.md. Prints figures; not a pass/fail test:
# it exits non-zero only on a real error (missing tool, a target that cannot start, a transfer
# that failed or a queued count that does not match), never for missing a performance target.
set -uo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
usage: tests/bench/smtp_accept_bench.sh [options]
  --quick            smoke run: about 1 s per case instead of 4, 200 idle connections
  --ferry PATH       the ferry binary (default: the newest of build/mta/cli/ferry and
                     build-bench/mta/cli/ferry; use a Release build)
  --seconds S        target duration of each measured case (default 4; --quick 1)
  --repeat N         measure every case N times, report the best (default 1)
  --sessions LIST    concurrent sessions, e.g. "1 10 50" (default)
  --sizes LIST       message payload sizes in bytes (default "1024 102400")
  --idle N           idle connections for the RSS measurement (default 1000)
  --postfix-hold     Postfix puts accepted mail on hold (no queue manager work) instead of
                     the default: deferred by defer_transports (the queue manager runs)
  --no-postfix       skip the Postfix target
  --keep             keep the temporary directory (configs, logs, queues)
Needs root (for the private Postfix instance and smtp-sink -u), python3, and the Debian package
postfix (smtp-source, smtp-sink, postfix).
EOF
}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)

QUICK=0; FERRY=""; SECONDS_PER_CASE=""; REPEAT=1; SESSIONS="1 10 50"; SIZES="1024 102400"
IDLE=""; POSTFIX_MODE=defer; WANT_POSTFIX=1; KEEP=0
CASE_TIMEOUT=180          # hard bound on one smtp-source run, seconds
MAX_CASE_BYTES=$((300 * 1024 * 1024))   # bound on the payload sent in one case
MAX_CASE_MSGS=200000

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --ferry) FERRY="${2:?--ferry needs a path}"; shift ;;
    --seconds) SECONDS_PER_CASE="${2:?}"; shift ;;
    --repeat) REPEAT="${2:?}"; shift ;;
    --sessions) SESSIONS="${2:?}"; shift ;;
    --sizes) SIZES="${2:?}"; shift ;;
    --idle) IDLE="${2:?}"; shift ;;
    --postfix-hold) POSTFIX_MODE=hold ;;
    --no-postfix) WANT_POSTFIX=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "smtp_accept_bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  : "${SECONDS_PER_CASE:=1}"; : "${IDLE:=200}"
else
  : "${SECONDS_PER_CASE:=4}"; : "${IDLE:=1000}"
fi

die() { echo "smtp_accept_bench: $*" >&2; exit 2; }
note() { echo "$*" >&2; }

# ---------------------------------------------------------------- prerequisites
# Finding smtp-source, smtp-sink and postfix, smtp-sink start-up and the private Postfix
# instance are shared with drain_bench.sh.
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
command -v timeout >/dev/null || die "timeout (coreutils) not found"
postfix_require_instance

ferry_locate

# Enough descriptors for the idle connections (inherited by ferry and the python client).
want_fds=$((IDLE * 2 + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

# ---------------------------------------------------------------- workspace and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-accept-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$WORK"   # the postfix user must reach its queue and data directories
SINK_PID=""; FERRY_PID=""; IDLE_PID=""
postfix_instance_dirs

cleanup() {
  set +e
  exec 7>&- 2>/dev/null
  [ -n "$IDLE_PID" ] && stop_pid "$IDLE_PID" 5
  [ -n "$SINK_PID" ] && stop_pid "$SINK_PID" 5
  [ -n "$FERRY_PID" ] && stop_pid "$FERRY_PID" 15
  postfix_stop 10
  if [ "$KEEP" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # port seconds pid: true once something accepts on 127.0.0.1:port
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- targets
TARGETS=()
FAILED=0

# 1. smtp-sink: accepts and discards (as root it must drop privileges with -u).
SINK_PORT=$(free_port)
smtp_sink_start "127.0.0.1:$SINK_PORT" "$WORK/sink.log"
SINK_PID=$SINK_STARTED_PID
if wait_port "$SINK_PORT" 10 "$SINK_PID"; then
  TARGETS+=(sink)
else
  note "error: smtp-sink did not start:"; cat "$WORK/sink.log" >&2; SINK_PID=""; FAILED=1
fi

# 2. Ferry: temp queue, default sync = true, one relay listener on loopback.
FERRY_CONF="$WORK/ferry.toml"
cat >"$FERRY_CONF" <<EOF
# smtp_accept_bench: Ferry under test. Everything not set here is the built-in default
# (notably [queue] sync = true: fsync before every 250).
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
max_connections = $((IDLE + 1000))
max_connections_per_ip = $((IDLE + 1000))
[metrics]
listen = ""
# Nothing may leave this machine: every domain routes to a closed loopback port.
[[route]]
domain = "*"
host = "[127.0.0.1]:9"
EOF
"$FERRY" serve --config "$FERRY_CONF" 2>"$WORK/ferry.log" &
FERRY_PID=$!
FERRY_PORT=""
for ((i = 0; i < 100; i++)); do
  FERRY_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (relay).*/\1/p' "$WORK/ferry.log" | head -1)
  [ -n "$FERRY_PORT" ] && break
  kill -0 "$FERRY_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$FERRY_PORT" ] && wait_port "$FERRY_PORT" 10 "$FERRY_PID"; then
  TARGETS+=(ferry)
else
  note "error: ferry serve did not start:"; cat "$WORK/ferry.log" >&2
  stop_pid "$FERRY_PID" 5; FERRY_PID=""; FAILED=1
fi

# 3. A private Postfix instance: its own config, queue and data directories, loopback only,
#    relays for 127.0.0.0/8 but never delivers: the smtp/relay transports are deferred (or, with
#    --postfix-hold, every message goes to the hold queue) and the relayhost is a closed
#    loopback port. Postfix fsyncs each queue file before its 250 (the default).
write_postfix_config() {
  local hold_line=""
  [ "$POSTFIX_MODE" = hold ] && hold_line="smtpd_end_of_data_restrictions = check_client_access static:HOLD"
  postfix_write_config smtp_accept_bench <<EOF
$hold_line
# Never deliver: relay via a closed loopback port, and defer the smtp/relay transports so
# the queue manager does not even try; no retries during the run.
relayhost = [127.0.0.1]:9
defer_transports = smtp, relay
EOF
}
if [ "$WANT_POSTFIX" = 1 ]; then
  PF_PORT=$(free_port)
  write_postfix_config
  if postfix_check && postfix_start; then
    TARGETS+=(postfix)
  else
    FAILED=1
  fi
fi
[ ${#TARGETS[@]} -gt 0 ] || die "no target started"

# ---------------------------------------------------------------- measuring
target_port() {
  case $1 in sink) echo "$SINK_PORT" ;; ferry) echo "$FERRY_PORT" ;; postfix) echo "$PF_PORT" ;; esac
}
# Messages durably queued so far by a target (sink: none; trust smtp-source's exit status).
ferry_count() { grep -c ', queued$' "$WORK/ferry.log" || true; }
postfix_count() { postfix_queue_files incoming active deferred hold maildrop; }
queued_count() {
  case $1 in ferry) ferry_count ;; postfix) postfix_count ;; *) echo 0 ;; esac
}
# Postfix moves files between queue directories after the 250 (incoming -> active ->
# deferred): wait until the count reaches what was expected and stays put.
settled_count() {  # target expected
  local c1 c2 i
  c1=$(queued_count "$1")
  for ((i = 0; i < 100; i++)); do
    sleep 0.1
    c2=$(queued_count "$1")
    [ "$c1" = "$c2" ] && [ "$c2" -ge "$2" ] && break
    c1=$c2
  done
  if [ "$1" = postfix ]; then  # and let the queue manager finish with them
    for ((i = 0; i < 100; i++)); do
      [ -z "$(find "$PFQ/incoming" "$PFQ/active" -type f 2>/dev/null | head -1)" ] && break
      sleep 0.1
    done
  fi
  echo "$c2"
}

# CPU time (clock ticks, user + system, all threads) a target's server processes have used:
# ferry and smtp-sink are one process each; for Postfix, the master, its live children and the
# children it has reaped (cutime + cstime).
target_cpu() {  # stat_ticks, postfix_ticks: lib/measure.sh
  case $1 in
    sink) stat_ticks "$SINK_PID" ;;
    ferry) stat_ticks "$FERRY_PID" ;;
    postfix) postfix_ticks ;;
  esac
}

# One smtp-source run; sets ELAPSED (seconds) and RC. A new TCP connection per message
# (smtp-source's default: no -d), one recipient, payload of SIZE bytes.
run_source() {  # target sessions size count
  local port t0 t1
  port=$(target_port "$1")
  echo "== $1 -s $2 -l $3 -m $4" >>"$WORK/source.log"
  t0=$EPOCHREALTIME
  timeout "$CASE_TIMEOUT" "$SOURCE" -s "$2" -m "$4" -l "$3" -M source.bench.invalid \
    -f sender@source.bench.invalid -t rcpt@dest.bench.invalid "127.0.0.1:$port" >>"$WORK/source.log" 2>&1
  RC=$?
  t1=$EPOCHREALTIME
  ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# A warm-up run sized to the target's speed, then COUNT = rate x SECONDS_PER_CASE (bounded).
calibrate() {  # target sessions size -> echoes count, or nothing on failure
  local w=$(($2 * 2)) rate n
  [ "$w" -lt 20 ] && w=20
  while :; do
    run_source "$1" "$2" "$3" "$w"
    [ "$RC" = 0 ] || return 1
    if awk -v e="$ELAPSED" 'BEGIN { exit !(e >= 0.3) }' || [ "$w" -ge 20000 ]; then break; fi
    w=$((w * 8))
  done
  n=$(awk -v w="$w" -v e="$ELAPSED" -v s="$SECONDS_PER_CASE" 'BEGIN { printf "%d", w / (e > 0.001 ? e : 0.001) * s }')
  local lo=$(($2 * 4)) hi=$((MAX_CASE_BYTES / $3))
  [ "$lo" -lt 100 ] && lo=100
  [ "$hi" -gt "$MAX_CASE_MSGS" ] && hi=$MAX_CASE_MSGS
  [ "$hi" -lt "$lo" ] && hi=$lo
  [ "$n" -lt "$lo" ] && n=$lo
  [ "$n" -gt "$hi" ] && n=$hi
  echo "$n"
}

fmt_size() { if [ "$1" -ge 1024 ] && [ $(($1 % 1024)) = 0 ]; then echo "$(($1 / 1024))KiB"; else echo "${1}B"; fi; }

# idle_test LABEL: open IDLE connections that read the greeting and stay idle; record Ferry's
# RSS (VmRSS = RssAnon + RssFile; RssFile is mostly the LMDB map's resident pages) before and
# while they are open. Sets IDLE_<LABEL>_{BEFORE,DURING,ANON,FILE}.
kib_of() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$FERRY_PID/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
idle_test() {
  local label=$1 i ok=0
  kill -0 "$FERRY_PID" 2>/dev/null || return 1
  printf -v "IDLE_${label}_BEFORE" '%s' "$(kib_of VmRSS)"
  rm -f "$WORK/idle.fifo"; mkfifo "$WORK/idle.fifo"
  python3 "$SCRIPT_DIR/accept/idle_conns.py" 127.0.0.1 "$FERRY_PORT" "$IDLE" --timeout 60 \
    <"$WORK/idle.fifo" >"$WORK/idle.out" 2>"$WORK/idle.err" &
  IDLE_PID=$!
  exec 7>"$WORK/idle.fifo"   # the client holds its sockets until this closes
  for ((i = 0; i < 700; i++)); do
    grep -q '^ready' "$WORK/idle.out" 2>/dev/null && break
    kill -0 "$IDLE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q '^ready' "$WORK/idle.out"; then
    sleep 1   # let the server settle with every connection idle
    printf -v "IDLE_${label}_DURING" '%s' "$(kib_of VmRSS)"
    printf -v "IDLE_${label}_ANON" '%s' "$(kib_of RssAnon)"
    printf -v "IDLE_${label}_FILE" '%s' "$(kib_of RssFile)"
    ok=1
  else
    note "error: $IDLE idle connections to Ferry ($label) failed:"; cat "$WORK/idle.err" >&2; FAILED=1
  fi
  exec 7>&-
  wait "$IDLE_PID" 2>/dev/null; IDLE_PID=""
  sleep 0.5  # the server notices the closed connections
  [ "$ok" = 1 ]
}
idle_report() {  # label description
  local b d a f
  b=$(eval echo "\${IDLE_$1_BEFORE:-}"); d=$(eval echo "\${IDLE_$1_DURING:-}")
  a=$(eval echo "\${IDLE_$1_ANON:-}"); f=$(eval echo "\${IDLE_$1_FILE:-}")
  [ -n "$d" ] || return 0
  echo "ferry RSS with $IDLE idle connections, $2: $(mib "$d") MiB (anon $(mib "$a"), file $(mib "$f"));" \
       "before opening them $(mib "$b") MiB; $(awk -v a="$d" -v b="$b" -v n="$IDLE" 'BEGIN { printf "%.1f", (a - b) / n }') KiB per connection"
}
# Idle connections against the fresh server first (empty queue), again after the load below.
[ -n "$FERRY_PID" ] && { idle_test fresh || true; }

declare -A RATE COUNT CPU
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CEIL_BEFORE=$(disk_synced_mbps "$WORK")
T_START=$EPOCHREALTIME
note "smtp_accept_bench: targets: ${TARGETS[*]}; sessions: $SESSIONS; sizes: $SIZES; ~${SECONDS_PER_CASE}s per case; work dir $WORK"
for size in $SIZES; do
  for s in $SESSIONS; do
    for ((r = 1; r <= REPEAT; r++)); do
      # Targets interleaved per case so background load hits them alike.
      for t in "${TARGETS[@]}"; do
        key="$t/$s/$size"
        [ "${RATE[$key]:-}" = ERR ] && continue
        n=$(calibrate "$t" "$s" "$size")
        if [ -z "$n" ]; then
          note "  $(fmt_size "$size") x $s  $t: warm-up FAILED (see smtp-source output below)"
          tail -5 "$WORK/source.log" >&2; RATE[$key]=ERR; FAILED=1; continue
        fi
        before=$(settled_count "$t" 0)
        cpu0=$(target_cpu "$t")
        run_source "$t" "$s" "$size" "$n"
        if [ "$RC" != 0 ]; then
          note "  $(fmt_size "$size") x $s  $t: smtp-source exit $RC after ${ELAPSED}s (124 = timeout):"
          tail -5 "$WORK/source.log" >&2; RATE[$key]=ERR; FAILED=1; continue
        fi
        rate=$(awk -v n="$n" -v e="$ELAPSED" 'BEGIN { printf "%.0f", n / e }')
        check=""
        if [ "$t" != sink ]; then
          after=$(settled_count "$t" $((before + n)))
          got=$((after - before))
          if [ "$got" = "$n" ]; then check="queued $got: ok"; else check="queued $got of $n: MISMATCH"; FAILED=1; fi
        fi
        cpu1=$(target_cpu "$t")
        cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.0f", (b - a) * 1e6 / hz / n }')
        note "  $(fmt_size "$size") x $s sessions  $t: $n msgs in ${ELAPSED}s = $rate msg/s, server CPU $cpu us/msg${check:+  ($check)}"
        if [ -z "${RATE[$key]:-}" ] || [ "$rate" -gt "${RATE[$key]}" ]; then RATE[$key]=$rate; COUNT[$key]=$n; fi
        if [ -z "${CPU[$key]:-}" ] || [ "$cpu" -lt "${CPU[$key]}" ]; then CPU[$key]=$cpu; fi
      done
    done
  done
done
T_END=$EPOCHREALTIME
CEIL_AFTER=$(disk_synced_mbps "$WORK")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- Ferry memory
PEAK_KIB=""
if [ -n "$FERRY_PID" ]; then
  idle_test after || true
  PEAK_KIB=$(kib_of VmHWM)
  if ! kill -0 "$FERRY_PID" 2>/dev/null; then note "error: ferry exited"; FAILED=1; fi
fi
FERRY_TOTAL=""
if [ -n "$FERRY_PID" ]; then
  FERRY_TOTAL=$("$FERRY" queue --config "$FERRY_CONF" list --json 2>/dev/null |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)
fi

# ---------------------------------------------------------------- report
has() { local t; for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }
ratio() {  # a b -> a/b with 2 decimals, or "-"
  case "$1$2" in *ERR*|"") echo "-"; return ;; esac
  [ -z "$1" ] || [ -z "$2" ] && { echo "-"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "?")
if [ -n "$(git -C "$REPO" status --porcelain -- mta queue include 2>/dev/null)" ]; then
  commit="$commit + uncommitted changes in the tree (the binary may include them)"
fi
echo
echo "SMTP durable accept: msg/s, smtp-source -s SESSIONS -m COUNT -l SIZE (a new connection per"
echo "message, 1 recipient, no pipelining; COUNT sized for ~${SECONDS_PER_CASE}s per case; best of $REPEAT)"
echo "host: $(nproc) cores, $(uname -r); load average before $LOAD_BEFORE, after $LOAD_AFTER;" \
     "wall $(awk -v a="$T_START" -v b="$T_END" 'BEGIN { printf "%.0f", b - a }')s"
echo "ferry: $FERRY ($FERRY_BUILD_TYPE, commit $commit), [queue] sync = true"
has postfix && echo "postfix: $(postconf -c "$PFC" -h mail_version 2>/dev/null) private instance (config below)," \
  "mail kept queued ($POSTFIX_MODE), fsync before 250"
echo
printf '%-7s %5s %10s %10s %10s %14s %11s\n' size sess sink ferry postfix ferry/postfix ferry/sink
for size in $SIZES; do
  for s in $SESSIONS; do
    sk=${RATE[sink/$s/$size]:-}; fe=${RATE[ferry/$s/$size]:-}; pf=${RATE[postfix/$s/$size]:-}
    printf '%-7s %5s %10s %10s %10s %14s %11s\n' "$(fmt_size "$size")" "$s" "${sk:--}" "${fe:--}" "${pf:--}" \
      "$(ratio "$fe" "$pf")" "$(ratio "$fe" "$sk")"
  done
done
echo
echo "server CPU per message, microseconds (user + system of the server processes, from /proc;"
echo "less sensitive to other load on the machine than msg/s):"
printf '%-7s %5s %10s %10s %10s %14s\n' size sess sink ferry postfix ferry/postfix
for size in $SIZES; do
  for s in $SESSIONS; do
    sk=${CPU[sink/$s/$size]:-}; fe=${CPU[ferry/$s/$size]:-}; pf=${CPU[postfix/$s/$size]:-}
    printf '%-7s %5s %10s %10s %10s %14s\n' "$(fmt_size "$size")" "$s" "${sk:--}" "${fe:--}" "${pf:--}" "$(ratio "$fe" "$pf")"
  done
done
echo
# Bytes: the payload accepted per second against the disk's synced-write bandwidth, measured on
# the queues' filesystem before and after the runs (their mean is the ceiling).
CEIL=$(awk -v a="$CEIL_BEFORE" -v b="$CEIL_AFTER" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", (a + b) / 2; else print "-" }')
echo "bytes accepted, MB/s (msg/s x size); disk synced-write ceiling (dd bs=1M oflag=dsync):"
echo "$CEIL_BEFORE before, $CEIL_AFTER after the runs, mean $CEIL MB/s"
printf '%-7s %5s %10s %10s %10s %14s\n' size sess sink ferry postfix ferry/ceiling
for size in $SIZES; do
  for s in $SESSIONS; do
    mb() { [ -n "$1" ] && [ "$1" != ERR ] && awk -v r="$1" -v z="$size" 'BEGIN { printf "%.1f", r * z / 1e6 }' || echo -; }
    sk=$(mb "${RATE[sink/$s/$size]:-}"); fe=$(mb "${RATE[ferry/$s/$size]:-}"); pf=$(mb "${RATE[postfix/$s/$size]:-}")
    printf '%-7s %5s %10s %10s %10s %14s\n' "$(fmt_size "$size")" "$s" "$sk" "$fe" "$pf" "$(ratio "$fe" "$CEIL")"
  done
done
echo "messages per case (sink/ferry/postfix):" $(for size in $SIZES; do for s in $SESSIONS; do
  printf '%s' "$(fmt_size "$size")x$s=${COUNT[sink/$s/$size]:--}/${COUNT[ferry/$s/$size]:--}/${COUNT[postfix/$s/$size]:--} "; done; done)
echo
if [ -n "$PEAK_KIB" ]; then
  echo "ferry peak RSS (VmHWM over the whole run): $(mib "$PEAK_KIB") MiB"
  idle_report fresh "fresh server (empty queue)"
  idle_report after "after the throughput runs"
  [ -n "$FERRY_TOTAL" ] && echo "ferry queue holds $FERRY_TOTAL messages at the end (ferry queue list --json)"
fi

if has postfix; then
  echo
  echo "postfix main.cf (master.cf: the Debian services without chroot, smtpd on 127.0.0.1:$PF_PORT):"
  grep -v -e '^#' -e '^$' "$PFC/main.cf" | sed 's/^/  /'
fi

# Targets (see tests/bench/README.md; figures, not a pass/fail test).
echo
verdict() { if [ "$1" = 1 ]; then echo met; else echo MISSED; fi; }
if has ferry && has postfix; then
  for s in $SESSIONS; do
    [ "$s" = 50 ] || continue
    r=$(ratio "${RATE[ferry/50/1024]:-}" "${RATE[postfix/50/1024]:-}")
    [ "$r" != - ] && echo "target ferry >= 3x postfix at 50 sessions, 1KiB: ${r}x -> $(verdict "$(awk -v r="$r" 'BEGIN { print (r >= 3) }')")"
  done
  for size in $SIZES; do
    for s in $SESSIONS; do
      [ "$s" = 1 ] || continue
      r=$(ratio "${RATE[ferry/1/$size]:-}" "${RATE[postfix/1/$size]:-}")
      [ "$r" != - ] && echo "target ferry >= postfix at 1 session, $(fmt_size "$size"): ${r}x -> $(verdict "$(awk -v r="$r" 'BEGIN { print (r >= 1) }')")"
    done
  done
fi
# Anonymous memory is what the connections and the queue's work cost: after the throughput runs
# most of the RSS is LMDB's file-backed map pages, which the kernel drops under pressure.
for l in fresh after; do
  d=$(eval echo "\${IDLE_${l}_DURING:-}")
  a=$(eval echo "\${IDLE_${l}_ANON:-}")
  [ -n "$a" ] && echo "target ferry anonymous memory < 64 MiB with $IDLE idle connections ($l): $(mib "$a") MiB (RSS $(mib "$d") MiB, the rest file-backed) -> $(verdict "$(awk -v k="$a" 'BEGIN { print (k < 65536) }')")"
done
if [ "$FAILED" != 0 ]; then
  note "smtp_accept_bench: errors occurred (see above); logs in $WORK (use --keep to keep them)"
  exit 1
fi
exit 0
