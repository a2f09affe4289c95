#!/usr/bin/env python3
"""watch_log.py: follow a log file and time the delivery lines (used by drain_bench.sh).

Reads FILE from --offset on, every --interval seconds, and counts lines containing
"status=sent" (and, separately, "status=deferred" / "status=bounced" / "status=expired").
Stops when --count sent lines were seen, when nothing new was logged for --stall seconds
after at least one delivery line, or after --timeout seconds. Prints one line of key=value
pairs on stdout:

  sent=N deferred=N bounced=N first=EPOCH last=EPOCH reason=count|stall|timeout|exit

`first` / `last` are the wall-clock times (time.time(), the same clock as bash's
$EPOCHREALTIME) at which the first / last sent line was observed: the resolution is the
polling interval (default 5 ms). With --pid, it also stops when that process exits.
"""
import argparse
import os
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--stall", type=float, default=30.0)
    p.add_argument("--interval", type=float, default=0.005)
    p.add_argument("--pid", type=int, default=0)
    a = p.parse_args()

    sent = deferred = bounced = 0
    first = last = 0.0
    start = time.time()
    last_activity = start
    reason = "timeout"
    buf = b""
    # The file may not exist yet (a daemon that has not logged anything).
    while not os.path.exists(a.file) and time.time() - start < a.timeout:
        time.sleep(a.interval)
    try:
        f = open(a.file, "rb")
    except OSError as e:
        print(f"watch_log: {e}", file=sys.stderr)
        print(f"sent=0 deferred=0 bounced=0 first=0 last=0 reason=error")
        return 1
    f.seek(a.offset)
    while True:
        chunk = f.read(1 << 20)
        now = time.time()
        if chunk:
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if b"status=sent" in line:
                    sent += 1
                    if not first:
                        first = now
                    last = now
                    last_activity = now
                elif b"status=deferred" in line:
                    deferred += 1
                    last_activity = now
                elif b"status=bounced" in line or b"status=expired" in line:
                    bounced += 1
                    last_activity = now
            if sent >= a.count:
                reason = "count"
                break
            continue  # more may be waiting: read again before sleeping
        if now - start >= a.timeout:
            reason = "timeout"
            break
        if (sent or deferred or bounced) and now - last_activity >= a.stall:
            reason = "stall"
            break
        if a.pid:
            try:
                os.kill(a.pid, 0)
            except ProcessLookupError:
                reason = "exit"
                break
        time.sleep(a.interval)
    print(f"sent={sent} deferred={deferred} bounced={bounced} first={first:.6f} last={last:.6f} reason={reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
