# ferrylab: the pieces the fault campaigns share: dnsmasq on loopback, scripted fake MX servers,
# a `ferry serve` process that can be SIGKILLed and restarted, an SMTP client that tells "250"
# from "the reply never came", and the queue inspector (ferry_fault_inspect).
# Contract: standard library only (Python 3.9+); everything binds 127.0.0.x; nothing is left
# running after close() / the context manager exits.
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77  # ctest SKIP_RETURN_CODE


def tool_args(description):
    p = argparse.ArgumentParser(description=description)
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.path.join(os.path.dirname(os.path.dirname(here)), "build-fault")
    p.add_argument("--ferry", default=os.path.join(build, "mta/cli/ferry"), help="the ferry binary")
    p.add_argument("--inspect", default=os.path.join(build, "tests/fault/ferry_fault_inspect"),
                   help="ferry_fault_inspect (built from tests/fault/queue_inspect.cpp)")
    p.add_argument("--shim", default=os.path.join(build, "tests/fault/ferry_powercut_shim.so"),
                   help="the LD_PRELOAD write journal (tests/fault/powercut_shim.c)")
    p.add_argument("--keep", action="store_true", help="keep the work directory and print its path")
    p.add_argument("--verbose", "-v", action="store_true")
    return p


def log(*a):
    print(*a, flush=True)


def fnv1a(data: bytes) -> str:
    h = 1469598103934665603
    for b in data:
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def make_message(token, sender, rcpts, size, rng):
    """A message whose first header is the token (the inspector hashes from there to the end)."""
    lines = ["X-Campaign-Token: %s" % token,
             "From: <%s>" % sender,
             "To: %s" % ", ".join("<%s>" % r for r in rcpts[:3]),
             "Subject: campaign message %s" % token,
             "Date: Mon, 1 Jan 2024 00:00:00 +0000",
             "Message-ID: <%s@campaign.test>" % token,
             ""]
    filler = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(70))
    i, total = 0, sum(len(x) + 2 for x in lines)
    while total < size:
        lines.append("%s line %05d %s" % (token, i, filler))
        total += len(lines[-1]) + 2
        i += 1
    lines.append(".dot-stuffed last line of %s" % token)
    return ("\r\n".join(lines) + "\r\n").encode()


def free_port(ip="127.0.0.1", kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((ip, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------------------------
class Dnsmasq:
    """dnsmasq (Debian dnsmasq-base) answering for *.test on 127.0.0.1:port; stop()/start() keep the port."""

    def __init__(self, records):
        self.records = list(records)
        self.port = None
        self.proc = None
        for path in ("/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"):
            if os.access(path, os.X_OK):
                self.binary = path
                break
        else:
            raise FileNotFoundError("dnsmasq not installed (Debian package dnsmasq-base)")
        for _ in range(10):
            self.port = free_port(kind=socket.SOCK_DGRAM)
            if self.start():
                return
        raise RuntimeError("dnsmasq did not start")

    def start(self, records=None):
        if records is not None:
            self.records = list(records)
        argv = [self.binary, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--no-poll", "--bind-interfaces", "--listen-address=127.0.0.1", "--port=%d" % self.port,
                "--local=/test/", "--user=root", "--pid-file=", "--log-facility=-", "--cache-size=0",
                "--local-ttl=1"] + self.records
        for _ in range(50):
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(100):
                if self.proc.poll() is not None:
                    break
                if self._answers():
                    return True
                time.sleep(0.01)
            self.stop()
            time.sleep(0.05)
        return False

    def _answers(self):
        """One query for probe.test A: any reply with our id (NXDOMAIN is one) means it serves.
        A bound port alone proves nothing: another test's socket may hold it, and then this
        dnsmasq exits while the port looks taken."""
        query = b"\x4e\x21\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05probe\x04test\x00\x00\x01\x00\x01"
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.1)
        try:
            s.connect(("127.0.0.1", self.port))
            s.send(query)
            reply = s.recv(512)
            return len(reply) >= 12 and reply[:2] == query[:2] and reply[2] & 0x80 != 0
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port


# ---------------------------------------------------------------------------------------------
class Delivery:
    def __init__(self, mail_from, rcpts, data, position):
        self.mail_from = mail_from
        self.rcpts = rcpts
        self.data = data
        self.position = position  # a caller-supplied clock (e.g. the power-cut journal size)
        m = re.search(rb"X-Campaign-Token: ([^\r\n]*)", data)
        self.token = m.group(1).decode() if m else None
        m = re.search(rb"\bid ([0-9A-F]{16})\b", data)
        self.queue_id = m.group(1).decode() if m else None


class FakeMx:
    """A scripted SMTP server on ip:port. Policies (called with the server's lock held):
       rcpt_policy(rcpt, attempt) -> reply line ("250 ...", "451 ...", "550 ...")
       data_policy(mail_from, rcpts, attempt_of_each) -> "250 ..."/"4xx"/"5xx", or
         "DROP" (close the socket halfway through DATA, no reply), "HANG" (read it all, never reply)
         or "STALL" (stop reading right after 354).
       position() -> a number stored with each accepted delivery (when it was accepted)."""

    def __init__(self, ip, port=0):
        self.ip = ip
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.rcpt_attempts = {}
        self.deliveries = []
        self.rejected = []     # (rcpt, reply) permanent RCPT rejections given
        self.connections = 0
        self.hung = []
        self.rcpt_policy = lambda rcpt, attempt: "250 2.1.5 Ok"
        self.data_policy = lambda mail_from, rcpts, attempts: "250 2.0.0 Ok: queued"
        self.position = lambda: time.time()
        self.stopping = False
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.hung:
            try:
                c.close()
            except OSError:
                pass

    def _accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(30)
        f = c.makefile("rb")
        keep_open = False

        def say(line):
            c.sendall(line.encode() + b"\r\n")
        try:
            say("220 fake.test ESMTP")
            mail_from, rcpts, attempts = None, [], []
            while True:
                line = f.readline()
                if not line:
                    break
                cmd = line.rstrip(b"\r\n").decode("latin-1")
                up = cmd.upper()
                if up.startswith("EHLO"):
                    say("250-fake.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 100000000")
                elif up.startswith("HELO"):
                    say("250 fake.test")
                elif up.startswith("MAIL FROM:"):
                    mail_from = cmd[cmd.index("<") + 1:cmd.index(">")]
                    rcpts, attempts = [], []
                    say("250 2.1.0 Ok")
                elif up.startswith("RCPT TO:"):
                    rcpt = cmd[cmd.index("<") + 1:cmd.index(">")]
                    with self.lock:
                        n = self.rcpt_attempts[rcpt] = self.rcpt_attempts.get(rcpt, 0) + 1
                        reply = self.rcpt_policy(rcpt, n)
                        if reply.startswith("5"):
                            self.rejected.append((rcpt, reply))
                    if reply.startswith("2"):
                        rcpts.append(rcpt)
                        attempts.append(n)
                    say(reply)
                elif up == "DATA":
                    if not rcpts:
                        say("554 5.5.1 No valid recipients")
                        continue
                    with self.lock:
                        action = self.data_policy(mail_from, list(rcpts), list(attempts))
                    say("354 End data with <CR><LF>.<CR><LF>")
                    if action == "STALL":
                        # Stop reading: the sender's writes block once the socket buffers fill.
                        end = time.time() + 60
                        while time.time() < end and not self.stopping:
                            time.sleep(0.1)
                            try:
                                if c.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                                    break  # the sender gave up and closed
                            except BlockingIOError:
                                pass
                        break
                    data = bytearray()
                    dropped = False
                    while True:
                        l = f.readline()
                        if not l:
                            raise ConnectionError("eof in DATA")
                        if l == b".\r\n":
                            break
                        if l.startswith(b"."):
                            l = l[1:]
                        data += l
                        if action == "DROP" and len(data) > 200:
                            dropped = True  # the connection dies halfway through DATA
                            break
                    if dropped:
                        c.shutdown(socket.SHUT_RDWR)
                        break
                    if action == "HANG":
                        keep_open = True   # never answer the final dot; the client must time out
                        self.hung.append(c)
                        return
                    if action.startswith("2"):
                        with self.lock:
                            self.deliveries.append(Delivery(mail_from, list(rcpts), bytes(data), self.position()))
                    say(action)
                elif up in ("RSET", "NOOP"):
                    rcpts, attempts = [], []
                    say("250 2.0.0 Ok")
                elif up == "QUIT":
                    say("221 2.0.0 Bye")
                    break
                else:
                    say("502 5.5.2 Not implemented")
        except (OSError, ValueError, ConnectionError):
            pass
        finally:
            if not keep_open:
                try:
                    c.close()
                except OSError:
                    pass

    def snapshot(self):
        with self.lock:
            return list(self.deliveries)


def fake_mx_pair(ips):
    """Fake MXes on every ip of `ips`, all on one port (Ferry delivers to one [delivery] port)."""
    for _ in range(20):
        first = FakeMx(ips[0])
        out = [first]
        try:
            for ip in ips[1:]:
                out.append(FakeMx(ip, first.port))
            return out
        except OSError:
            for m in out:
                m.close()
    raise RuntimeError("no common port for the fake MXes")


# ---------------------------------------------------------------------------------------------
def config_text(queue_dir, dns, mx_port, extra="", queue_extra="", max_size="64MiB", delivery_extra=""):
    return f"""hostname = "ferry.test"
# The labs run as root on a root-owned temporary queue: say so (a missing run user is fatal).
user = "root"
[queue]
path = "{queue_dir}"
max_size = "{max_size}"
{queue_extra}
[[listen]]
address = "127.0.0.1"
port = 0
mode = "relay"
[delivery]
port = {mx_port}
connect_timeout = "2s"
{delivery_extra}
[dns]
servers = ["{dns}"]
[metrics]
listen = ""
{extra}
"""


class Ferry:
    """`ferry serve` in the background; every run appends to the same log file."""

    def __init__(self, binary, workdir, config, env=None, wrapper=None):
        self.binary = binary
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "ferry.toml")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.log_path = os.path.join(workdir, "ferry.log")
        self.env = dict(os.environ, **(env or {}))
        self.wrapper = wrapper or []
        self.proc = None
        self.port = None
        self.runs = 0
        self.log_offset = 0

    def start(self, timeout=15):
        self.log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.wrapper + [self.binary, "serve", "--config", self.config_path],
                                     stdout=logf, stderr=logf, env=self.env, cwd=self.workdir)
        logf.close()
        self.runs += 1
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+) ", self.run_log())
            if m:
                self.port = int(m.group(1))
                return self.port
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError("ferry did not start:\n" + self.run_log()[-3000:])

    def run_log(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            return f.read().decode("utf-8", "replace")

    def full_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_log(self, pattern, timeout=20, whole=False):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.full_log() if whole else self.run_log()
            m = re.search(pattern, text)
            if m:
                return m
            time.sleep(0.05)
        return None


# ---------------------------------------------------------------------------------------------
class Submission:
    """The outcome of one SMTP transaction, as the client saw it."""
    ACKED, REJECTED, NOREPLY, FAILED = "acked", "rejected", "noreply", "failed"

    def __init__(self, status, code=None, text="", queue_id=None):
        self.status, self.code, self.text, self.queue_id = status, code, text, queue_id
        self.position = None  # filled by the caller (e.g. journal size when the reply arrived)

    def __repr__(self):
        return "Submission(%s %s %s)" % (self.status, self.code, self.text)


def smtp_submit(port, sender, rcpts, data, timeout=20, on_reply=None):
    """One transaction on one connection. NOREPLY = the final dot was sent and no reply came
    (the client cannot know whether the server queued it; a real client resends)."""
    dot_sent = False
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        return Submission(Submission.FAILED, text=str(e))
    f = s.makefile("rb")

    def reply():
        lines = []
        while True:
            l = f.readline()
            if not l:
                raise ConnectionError("connection closed")
            lines.append(l.decode("latin-1").rstrip("\r\n"))
            if len(l) < 4 or l[3:4] != b"-":
                return int(lines[-1][:3]), "\n".join(x[4:] for x in lines)

    try:
        code, text = reply()
        if code != 220:
            return Submission(Submission.REJECTED, code, text)
        for cmd, want in (("EHLO client.test", 250), ("MAIL FROM:<%s>" % sender, 250)):
            s.sendall(cmd.encode() + b"\r\n")
            code, text = reply()
            if code != want:
                return Submission(Submission.REJECTED if code >= 500 else Submission.FAILED, code, text)
        for r in rcpts:
            s.sendall(b"RCPT TO:<" + r.encode() + b">\r\n")
            code, text = reply()
            if code != 250:
                return Submission(Submission.REJECTED if code >= 500 else Submission.FAILED, code, text)
        s.sendall(b"DATA\r\n")
        code, text = reply()
        if code != 354:
            return Submission(Submission.REJECTED if code >= 500 else Submission.FAILED, code, text)
        stuffed = b"\r\n".join((b"." + l if l.startswith(b".") else l) for l in data.split(b"\r\n"))
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        s.sendall(stuffed + b".\r\n")
        dot_sent = True
        code, text = reply()
        sub = None
        if code == 250:
            m = re.search(r"queued as ([0-9A-F]+)", text)
            sub = Submission(Submission.ACKED, code, text, m.group(1) if m else None)
        else:
            sub = Submission(Submission.REJECTED if code >= 500 else Submission.FAILED, code, text)
        if on_reply:
            on_reply(sub)
        try:
            s.sendall(b"QUIT\r\n")
            reply()
        except (OSError, ConnectionError):
            pass
        return sub
    except (OSError, ConnectionError) as e:
        return Submission(Submission.NOREPLY if dot_sent else Submission.FAILED, text=str(e))
    finally:
        try:
            s.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
def inspect(inspect_binary, queue_dir, recover=True, timeout=60):
    """Opens `queue_dir` with Ferry's queue code. Returns (ok, summary dict, [message dicts])."""
    argv = [inspect_binary, queue_dir] + ([] if recover else ["--no-recover"])
    p = subprocess.run(argv, capture_output=True, timeout=timeout)
    msgs, summary = [], {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            summary = {"open": "unparsable output: " + line[:200]}
            continue
        if "msg" in obj:
            msgs.append(obj["msg"])
        elif "summary" in obj:
            summary = obj["summary"]
    if p.returncode != 0 and not summary:
        summary = {"open": "inspector failed (%d): %s" % (p.returncode, p.stderr.decode()[-300:])}
    return p.returncode == 0, summary, msgs


class WorkDir:
    def __init__(self, prefix, keep=False):
        self.path = tempfile.mkdtemp(prefix=prefix)
        self.keep = keep

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if self.keep:
            log("work directory kept: " + self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def check_tools(args, need_shim=False):
    for name in ("ferry", "inspect") + (("shim",) if need_shim else ()):
        if not os.path.exists(getattr(args, name)):
            log("missing %s: %s (build it: ninja -C build-fault)" % (name, getattr(args, name)))
            sys.exit(2)
