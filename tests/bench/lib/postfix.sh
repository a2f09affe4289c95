# shellcheck shell=bash disable=SC2034  # the globals set here are read by the sourcing script
# tests/bench/lib/postfix.sh: the Postfix side of the benchmarks: finding smtp-source, smtp-sink
# and postfix, starting smtp-sink, and a private Postfix instance to compare Ferry with.
# Contract: sourced (not run) by a bench script that defines die and note (messages carry its
# name) and sets WORK (a 0755 temporary directory) before it calls the instance functions.
#
# Globals it sets: SOURCE SINK (postfix_require_tools); IS_ROOT POSTFIX_BIN POSTQUEUE_BIN, and
# WANT_POSTFIX=0 when not root (postfix_require_instance); PFC PFQ PFD PF_MAILLOG PF_STARTED
# (postfix_instance_dirs); SINK_STARTED_PID (smtp_sink_start). It reads PF_PORT, the loopback
# port of the instance's smtpd, which the script picks.

# A tool from the postfix package: on PATH, or where Debian puts it (root's PATH may lack sbin).
postfix_find_tool() {
  local c
  for c in "$(command -v "$1" 2>/dev/null)" "/usr/sbin/$1" "/usr/lib/postfix/sbin/$1"; do
    if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}

# Installing the package must not configure or start a system Postfix (it would hold port 25 and
# share nothing with the private instance below), hence the policy-rc.d dance.
POSTFIX_HINT="install the Debian package postfix without configuring or starting it:
  run .ci/setup as root, or:
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix
  rm /usr/sbin/policy-rc.d"

# smtp-source (the load generator) and smtp-sink (the protocol ceiling / delivery target): every
# bench needs both, with or without the Postfix instance.
postfix_require_tools() {
  SOURCE=$(postfix_find_tool smtp-source) || die "smtp-source not found (package postfix). To $POSTFIX_HINT"
  SINK=$(postfix_find_tool smtp-sink) || die "smtp-sink not found (package postfix). To $POSTFIX_HINT"
}

# postfix_require_instance [postqueue]: when WANT_POSTFIX=1, check what a private instance needs
# (root, the postfix command, and postqueue when asked for, the postfix user and postdrop group).
# Not root is a warning that drops the Postfix target, not an error: Ferry's figures still come.
postfix_require_instance() {
  local missing=postfix
  [ "${1:-}" = postqueue ] && missing="postfix / postqueue"
  IS_ROOT=0; [ "$(id -u)" = 0 ] && IS_ROOT=1
  POSTFIX_BIN=""; POSTQUEUE_BIN=""
  [ "$WANT_POSTFIX" = 1 ] || return 0
  if [ "$IS_ROOT" != 1 ]; then
    note "warning: not root: the private Postfix instance needs root; skipping Postfix"
    WANT_POSTFIX=0
    return 0
  fi
  POSTFIX_BIN=$(postfix_find_tool postfix) || die "$missing not found. To $POSTFIX_HINT"
  if [ "${1:-}" = postqueue ]; then
    POSTQUEUE_BIN=$(postfix_find_tool postqueue) || die "$missing not found. To $POSTFIX_HINT"
  fi
  if ! id postfix >/dev/null 2>&1 || ! getent group postdrop >/dev/null; then
    die "the postfix user or the postdrop group is missing (reinstall the postfix package)"
  fi
}

# smtp_sink_start ADDRESS:PORT LOG: smtp-sink in the background (SINK_STARTED_PID). It refuses to
# run as root without -u, so as root it drops to nobody once the socket is bound.
smtp_sink_start() {
  local user=()
  [ "$IS_ROOT" = 1 ] && user=(-u nobody)
  "$SINK" "${user[@]}" "$1" 1024 >"$2" 2>&1 &
  SINK_STARTED_PID=$!
}

# ---------------------------------------------------------------- the private instance
# Its own config, queue and data directories under $WORK/postfix, loopback only, logging to a
# file: it shares nothing with a system Postfix, and the temporary directory holds all of it.
postfix_instance_dirs() {
  PFC="$WORK/postfix/etc"; PFQ="$WORK/postfix/spool"; PFD="$WORK/postfix/data"
  PF_MAILLOG="$WORK/postfix/maillog"
  PF_STARTED=0
}

# postfix_write_config NAME < MAIN_CF_LINES: main.cf and master.cf for the instance. The lines
# on stdin (what the bench wants of the queue manager: transports, deferral, hold) go between
# the common relay settings and the common retry and logging settings.
postfix_write_config() {
  mkdir -p "$PFC" "$PFQ" "$PFD"
  chown postfix:postfix "$PFD"
  {
    cat <<EOF
# $1: private Postfix instance (started with postfix -c $PFC)
compatibility_level = 3.6
queue_directory = $PFQ
data_directory = $PFD
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.invalid
mydomain = bench.invalid
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_count_limit = 0
EOF
    cat
    cat <<EOF
queue_run_delay = 1h
minimal_backoff_time = 1h
maximal_backoff_time = 2h
alias_maps =
alias_database =
local_recipient_maps =
biff = no
# No syslog socket in the container: log to a file through postlogd.
maillog_file = $PF_MAILLOG
maillog_file_prefixes = $WORK/postfix
EOF
  } >"$PFC/main.cf"
  # The Debian master.cf services, unchained (chroot = n), smtpd bound to loopback only.
  cat >"$PFC/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# postfix check creates the queue directories with the right owners and catches a bad config
# before start does.
postfix_check() {
  "$POSTFIX_BIN" -c "$PFC" check >"$WORK/postfix-check.log" 2>&1 && return 0
  note "error: postfix -c $PFC check failed:"; cat "$WORK/postfix-check.log" >&2
  return 1
}

# Starts the instance and waits (15 s) until its smtpd accepts on 127.0.0.1:$PF_PORT.
postfix_start() {
  local i
  if ! "$POSTFIX_BIN" -c "$PFC" start >"$WORK/postfix-start.log" 2>&1; then
    note "error: postfix -c $PFC start failed:"; cat "$WORK/postfix-start.log" "$PF_MAILLOG" >&2 2>/dev/null
    return 1
  fi
  PF_STARTED=1
  for ((i = 0; i < 150; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PF_PORT") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  note "error: Postfix does not accept on 127.0.0.1:$PF_PORT:"; tail -20 "$PF_MAILLOG" >&2
  return 1
}

# postfix_stop SECONDS: postfix stop, then wait up to SECONDS for the master to go (SIGKILL after),
# so the next start, or the removal of $WORK, does not race a dying master.
postfix_stop() {
  local master i
  [ "$PF_STARTED" = 1 ] || return 0
  master=$(tr -dc 0-9 < "$PFQ/pid/master.pid" 2>/dev/null)
  "$POSTFIX_BIN" -c "$PFC" stop >/dev/null 2>&1
  if [ -n "$master" ]; then
    for ((i = 0; i < $1 * 10; i++)); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$master" 2>/dev/null
  fi
  PF_STARTED=0
}

# postfix_queue_files QUEUE...: how many queue files the named queues (incoming, active,
# deferred, hold, maildrop) hold: one file per message.
postfix_queue_files() {
  local d dirs=()
  for d in "$@"; do dirs+=("$PFQ/$d"); done
  find "${dirs[@]}" -type f 2>/dev/null | wc -l
}
