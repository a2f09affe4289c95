# shellcheck shell=bash
# tests/bench/lib/disk.sh: the disk's synced-write bandwidth, the ceiling of a durable server's
# bytes per second. Contract: sourced by a bench script; disk_synced_mbps writes and removes one
# scratch file in the directory it is given and prints MB/s (10^6 bytes), or "-" on failure.

# disk_synced_mbps DIR: 128 MiB in 1 MiB writes, each synced before the next (dd oflag=dsync):
# what a server that syncs every commit of about ten 100 KiB messages can reach at best.
disk_synced_mbps() {
  local f="$1/disk-ceiling.$$" out
  out=$(dd if=/dev/zero of="$f" bs=1M count=128 oflag=dsync 2>&1 >/dev/null | tail -1)
  rm -f "$f"
  awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^s,?$/) secs = $(i - 1) }
       END { if (secs > 0) printf "%.1f", 128 * 1048576 / secs / 1e6; else print "-" }' <<<"$out"
}
