#!/usr/bin/env python3
"""big_queue_bench.py: `ferry serve` and `ferry queue list` on a queue of a million messages.

The queue (1 KiB messages, one recipient each at dead.example, due over the next day) is built
by bench_big_queue_bench through QueueStore. Then: `ferry serve` start-up to its `ready:` line
and its peak anonymous memory (RssAnon sampled from /proc every 10 ms until 5 s after ready),
`ferry queue list` first-line latency and total time, and the SMTP accept rate at 50 sessions
(Postfix's smtp-source, a new connection per message) with the big queue against an empty one.
Prints figures; exits non-zero only on a real error, never for missing a target.
Nothing leaves the machine: every domain routes to a closed loopback port.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def die(msg):
    print("big_queue_bench: " + msg, file=sys.stderr)
    sys.exit(1)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_anon_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def write_config(workdir, queue, dead):
    path = os.path.join(workdir, "ferry.toml")
    with open(path, "w") as f:
        f.write(f"""hostname = "ferry.bench.invalid"
user = "root"
[queue]
path = "{queue}"
max_size = "64GiB"
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
[dns]
servers = ["127.0.0.1:{dead}"]
[[route]]
domain = "*"
host = "[127.0.0.1]:{dead}"
""")
    return path


class Serve:
    """`ferry serve` with its log; start() waits for ready (bounded) while sampling RssAnon."""

    def __init__(self, ferry, config, log):
        self.log_path = log
        self.log = open(log, "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([ferry, "serve", "--config", config], stdout=self.log, stderr=self.log)
        self.peak = 0
        self.ready_s = None
        deadline = t0 + 300
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.peak = max(self.peak, rss_anon_kib(self.proc.pid))
            if self.ready_s is None and "ready: " in self.text():
                self.ready_s = time.monotonic() - t0
                break
            time.sleep(0.01)
        if self.ready_s is None:
            self.stop()
            die("ferry serve did not become ready:\n" + self.text()[-3000:])
        end = time.monotonic() + 5
        while time.monotonic() < end:
            self.peak = max(self.peak, rss_anon_kib(self.proc.pid))
            time.sleep(0.01)
        m = re.search(r"listening on 127\.0\.0\.1:(\d+) ", self.text())
        self.port = int(m.group(1)) if m else die("no listening port in the log")

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def queue_list(ferry, config, extra=()):
    """(first line latency s, total s, lines) of `ferry queue list`."""
    t0 = time.monotonic()
    p = subprocess.Popen([ferry, "queue", "--config", config, "list", *extra], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    first = p.stdout.readline()
    t_first = time.monotonic() - t0
    lines = 1 if first else 0
    for _ in p.stdout:
        lines += 1
    p.wait()
    return t_first, time.monotonic() - t0, lines


def accept_rate(source, port, sessions, count):
    t0 = time.monotonic()
    r = subprocess.run([source, "-s", str(sessions), "-m", str(count), "-l", "1024", "-M", "source.bench.invalid",
                        "-f", "sender@source.bench.invalid", "-t", "rcpt@dead.example", "127.0.0.1:%d" % port],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    if r.returncode != 0:
        die("smtp-source failed")
    return count / (time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ferry", default=os.path.join(REPO, "build/mta/cli/ferry"))
    ap.add_argument("--bench", default=os.path.join(REPO, "build/tests/bench/bench_big_queue_bench"))
    ap.add_argument("--messages", type=int, default=1000000)
    ap.add_argument("--dir", default="/tmp/ferry-big-queue")
    ap.add_argument("--reuse", action="store_true", help="keep a queue already built in DIR")
    ap.add_argument("--accept-count", type=int, default=20000, help="messages per smtp-source run")
    ap.add_argument("--repeat", type=int, default=3, help="alternating accept runs, best of each")
    args = ap.parse_args()
    source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    for tool in (args.ferry, args.bench):
        if not os.access(tool, os.X_OK):
            die(tool + ": not built")
    os.makedirs(args.dir, exist_ok=True)
    big, empty = os.path.join(args.dir, "queue"), os.path.join(args.dir, "empty-queue")
    gen = [args.bench, "--messages", str(args.messages), "--dir", big, "--generate-only"]
    subprocess.run(gen + (["--reuse"] if args.reuse else []), check=True)
    dead = closed_port()
    cfg_big = write_config(args.dir, big, dead)
    empty_dir = os.path.join(args.dir, "empty")
    os.makedirs(empty_dir, exist_ok=True)
    cfg_empty = write_config(empty_dir, empty, dead)

    first, total, lines = queue_list(args.ferry, cfg_big)
    print("ferry queue list (%d lines): first line %.1f ms, total %.1f s" % (lines, first * 1000, total))
    first, total, lines = queue_list(args.ferry, cfg_big, ["--limit", "10"])
    print("ferry queue list --limit 10: first line %.1f ms, total %.1f ms" % (first * 1000, total * 1000))

    serve = Serve(args.ferry, cfg_big, os.path.join(args.dir, "serve-big.log"))
    print("ferry serve, %d queued: ready after %.2f s, peak RssAnon %.1f MiB" %
          (args.messages, serve.ready_s, serve.peak / 1024))
    serve.stop()
    if not os.access(source, os.X_OK):
        print("accept: smtp-source not found (Debian package postfix), skipped")
        return
    # One daemon at a time (the delivery attempts of the other would take CPU from the one
    # measured), alternating, each freshly started and warmed up; the best run of each counts.
    best = {"big": 0.0, "empty": 0.0}
    for i in range(args.repeat):
        for kind, cfg in (("empty", cfg_empty), ("big", cfg_big)):
            if kind == "empty":
                shutil.rmtree(empty, ignore_errors=True)  # empty again for every run
            d = Serve(args.ferry, cfg, os.path.join(args.dir, "serve-%s-%d.log" % (kind, i)))
            accept_rate(source, d.port, 50, 2000)
            rate = accept_rate(source, d.port, 50, args.accept_count)
            print("  run %d, %s queue: %.0f msg/s" % (i + 1, kind, rate), flush=True)
            best[kind] = max(best[kind], rate)
            d.stop()
    print("accept 1 KiB, 50 sessions (best of %d): empty queue %.0f msg/s, big queue %.0f msg/s (%.1f%%)" %
          (args.repeat, best["empty"], best["big"], 100 * best["big"] / best["empty"]))

if __name__ == "__main__":
    main()
