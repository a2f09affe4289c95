#!/usr/bin/env python3
"""Open N idle SMTP connections and hold them open.

Used by smtp_accept_bench.sh to measure a server's memory with many idle clients: each
connection reads the 220 greeting and then sends nothing. When all N are greeted the script
prints "ready N" on stdout (flushed) and holds them until stdin is closed (or SIGTERM), then
closes every socket. Exit 1 if any connection fails or is not greeted with 220.

usage: idle_conns.py HOST PORT N [--timeout SECONDS]
"""
import selectors
import socket
import sys
import time


def main() -> int:
    args = sys.argv[1:]
    timeout = 30.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    host, port, n = args[0], int(args[1]), int(args[2])
    deadline = time.monotonic() + timeout

    sel = selectors.DefaultSelector()
    socks = []
    pending = {}  # socket -> bytes received so far (until the greeting's last line)
    # All connects are started at once (non-blocking); the server listens with a backlog >= 1024.
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        socks.append(s)
        pending[s] = b""
        sel.register(s, selectors.EVENT_READ)
    greeted = 0
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                print(f"idle_conns: connection failed: {e}", file=sys.stderr)
                return 1
            if not data:
                print("idle_conns: server closed a connection before its greeting", file=sys.stderr)
                return 1
            buf = pending[s] + data
            # The greeting is complete at a line "220 ..." (not "220-").
            lines = buf.split(b"\r\n")
            done = any(len(l) >= 4 and l[:3].isdigit() and l[3:4] == b" " for l in lines[:-1])
            if done:
                if not buf.startswith(b"220"):
                    print(f"idle_conns: unexpected greeting {buf[:80]!r}", file=sys.stderr)
                    return 1
                sel.unregister(s)
                del pending[s]
                greeted += 1
            else:
                pending[s] = buf
    if pending:
        print(f"idle_conns: only {greeted} of {n} connections greeted within {timeout}s", file=sys.stderr)
        return 1

    print(f"ready {greeted}", flush=True)
    # Hold the connections until stdin closes (SIGTERM also ends the process; the kernel then
    # closes the sockets).
    try:
        while sys.stdin.buffer.read(1):
            pass
    except OSError:
        pass
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
