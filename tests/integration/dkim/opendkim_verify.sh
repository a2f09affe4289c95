#!/bin/sh
# opendkim_verify.sh: verifies the DKIM signature(s) of MESSAGE with OpenDKIM's opendkim-testmsg
# (Debian opendkim-tools), the public keys served by a real dnsmasq.
#
# Usage: opendkim_verify.sh MESSAGE NAME TEXT [NAME TEXT ...]
#   NAME = "sel._domainkey.example.test", TEXT = "v=DKIM1; k=rsa; p=..." (split into 255-octet
#   strings here, as a DNS TXT record must be).
# opendkim-testmsg asks the system resolver (/etc/resolv.conf, port 53 only), so the script
# re-runs itself in private mount and network namespaces (unshare, root): there dnsmasq owns
# 127.0.0.1:53 and /etc/resolv.conf is bind-mounted to point at it; the host sees neither.
# Exit: 0 the signature verifies, 1 it does not (opendkim-testmsg's message on stderr), 77 the
# namespaces or tools are unavailable (the test skips), 2 usage.
set -u
if [ $# -lt 3 ]; then
  echo "usage: $0 MESSAGE NAME TEXT [NAME TEXT ...]" >&2
  exit 2
fi
for tool in /usr/sbin/opendkim-testmsg /usr/sbin/dnsmasq; do
  [ -x "$tool" ] || { echo "$tool is not installed" >&2; exit 77; }
done

if [ "${FERRY_DKIM_NAMESPACE:-}" != 1 ]; then
  command -v unshare >/dev/null 2>&1 || { echo "unshare is not installed" >&2; exit 77; }
  unshare --mount --net true 2>/dev/null || { echo "cannot create namespaces (not root?)" >&2; exit 77; }
  FERRY_DKIM_NAMESPACE=1 exec unshare --mount --net --propagation private sh "$0" "$@"
fi

message=$1
shift
work=$(mktemp -d /tmp/ferry-opendkim.XXXXXX)
dnsmasq_pid=""
cleanup() {
  [ -n "$dnsmasq_pid" ] && kill "$dnsmasq_pid" 2>/dev/null && wait "$dnsmasq_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip link set lo up 2>/dev/null || { echo "cannot bring up lo in the network namespace" >&2; exit 77; }
echo "nameserver 127.0.0.1" > "$work/resolv.conf"
mount --bind "$work/resolv.conf" /etc/resolv.conf || { echo "cannot bind-mount /etc/resolv.conf" >&2; exit 77; }

# dnsmasq --txt-record=NAME,STRING,STRING...: one character-string per comma-separated part.
set -- "$@"
records=""
i=0
while [ $# -ge 2 ]; do
  name=$1
  text=$2
  shift 2
  parts=""
  while [ -n "$text" ]; do
    chunk=$(printf '%s' "$text" | cut -c1-255)
    text=$(printf '%s' "$text" | cut -c256-)
    parts="$parts,$chunk"
  done
  i=$((i + 1))
  printf -- '--txt-record=%s%s\n' "$name" "$parts" > "$work/record.$i"
done
n=$i
set --
i=1
while [ "$i" -le "$n" ]; do
  set -- "$@" "$(cat "$work/record.$i")"
  i=$((i + 1))
done

/usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
  --bind-interfaces --listen-address=127.0.0.1 --port=53 --local=/test/ --user=root --pid-file= \
  --log-facility=- --cache-size=0 "$@" 2>"$work/dnsmasq.log" &
dnsmasq_pid=$!
# Wait until dnsmasq has bound UDP 127.0.0.1:53 (0100007F:0035 in /proc/net/udp).
tries=0
until grep -q ' 0100007F:0035 ' /proc/net/udp; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ] || ! kill -0 "$dnsmasq_pid" 2>/dev/null; then
    echo "dnsmasq did not start:" >&2
    cat "$work/dnsmasq.log" >&2
    exit 1
  fi
  sleep 0.05
done

/usr/sbin/opendkim-testmsg -t "$work" < "$message"
rc=$?
[ "$rc" -eq 0 ] && exit 0
exit 1
