# shellcheck shell=bash
# tests/bench/lib/measure.sh: what the bench scripts measure with: timing arithmetic, CPU ticks
# of a process (and of a private Postfix instance) from /proc, stopping a process.
# Contract: sourced by a bench script; postfix_ticks reads PFQ (lib/postfix.sh) when called.

stop_pid() {  # pid seconds: SIGTERM, wait, then SIGKILL
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v e="$2" 'BEGIN { if (e > 0) printf "%.0f", n / e; else print "-" }'; }
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }  # key line

CLK_TCK=$(getconf CLK_TCK)
stat_ticks() {  # pid [with-children]: user + system ticks (plus reaped children's)
  local f
  f=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  if [ -n "${2:-}" ]; then echo "$f" | awk '{ print $12 + $13 + $14 + $15 }'
  else echo "$f" | awk '{ print $12 + $13 }'; fi
}
postfix_ticks() {  # the master, its live children and the children it has reaped
  local master sum=0 pid
  master=$(tr -dc 0-9 < "$PFQ/pid/master.pid" 2>/dev/null)
  [ -n "$master" ] || { echo 0; return; }
  for pid in $(ps -o pid= --ppid "$master" 2>/dev/null); do sum=$((sum + $(stat_ticks "$pid" x))); done
  echo $((sum + $(stat_ticks "$master" x)))
}
us_per_msg() { awk -v t="$1" -v hz="$CLK_TCK" -v n="$2" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }'; }
