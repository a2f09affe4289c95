#!/usr/bin/env python3
"""smtp_client.py: real-client driver for the smtp_server integration tests.

Usage: python3 smtp_client.py COMMAND < spec.json; prints one JSON object on stdout.
  send        one message with smtplib (plain, STARTTLS or implicit TLS; optional AUTH),
              recording every reply so the C++ test can assert on codes and texts.
  inject      the STARTTLS command-injection probe (CVE-2011-0411) over a raw socket.
  concurrent  opens N connections at once; each must read the 220 banner, EHLO and QUIT.
Every network wait is bounded by the spec's "timeout" (seconds).
"""
import base64
import json
import socket
import ssl
import smtplib
import sys
import threading
import time


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # Ferry's self-signed certificate
    return ctx


def reply(pair):
    code, msg = pair
    return [code, msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)]


def cmd_send(spec):
    out = {}
    host, port, timeout = spec.get("host", "127.0.0.1"), spec["port"], spec.get("timeout", 10)
    tls = spec.get("tls", "none")
    try:
        if tls == "implicit":
            s = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context())
        else:
            s = smtplib.SMTP(host, port, timeout=timeout)
        out["ehlo"] = reply(s.ehlo(spec.get("ehlo", "client.test")))
        if tls == "starttls":
            out["starttls"] = reply(s.starttls(context=tls_context()))
            out["ehlo_tls"] = reply(s.ehlo(spec.get("ehlo", "client.test")))
        out["features"] = sorted(s.esmtp_features.keys())
        if "auth" in spec:
            a = spec["auth"]
            s.user, s.password = a["user"], a["password"]
            mech = a.get("mech", "PLAIN").upper()
            obj = s.auth_plain if mech == "PLAIN" else s.auth_login
            try:
                out["auth"] = reply(s.auth(mech, obj, initial_response_ok=a.get("initial", True)))
            except smtplib.SMTPAuthenticationError as e:
                out["auth"] = [e.smtp_code, e.smtp_error.decode("utf-8", "replace")]
            except smtplib.SMTPException as e:
                out["auth"] = [0, repr(e)]
        if "from" in spec:
            out["mail"] = reply(s.mail(spec["from"], spec.get("mail_options", [])))
            out["rcpt"] = [reply(s.rcpt(r, spec.get("rcpt_options", []))) for r in spec.get("rcpts", [])]
            if "data_b64" in spec:
                out["data"] = reply(s.data(base64.b64decode(spec["data_b64"])))
        for extra in spec.get("then", []):  # further plain commands, e.g. ["NOOP"]
            out.setdefault("then", []).append(reply(s.docmd(extra)))
        try:
            out["quit"] = reply(s.quit())
        except smtplib.SMTPServerDisconnected:
            out["quit"] = [0, "disconnected"]
    except smtplib.SMTPResponseException as e:
        out["error"] = [e.smtp_code, e.smtp_error.decode("utf-8", "replace")]
    except Exception as e:  # report, do not crash: the C++ test asserts on it
        out["error"] = [0, repr(e)]
    return out


class Replies:
    """Reads complete SMTP replies (multi-line aware) from a socket-like object."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def one(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("connection closed after %r" % lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\r\n".join(lines)


def cmd_inject(spec):
    """STARTTLS\\r\\nRSET\\r\\n in one packet; after the handshake the first reply must answer
    the client's own EHLO, not the injected RSET."""
    out = {}
    timeout = spec.get("timeout", 10)
    sock = socket.create_connection((spec.get("host", "127.0.0.1"), spec["port"]), timeout=timeout)
    r = Replies(sock)
    out["greeting"] = r.one()
    sock.sendall(b"EHLO inject.test\r\n")
    out["ehlo"] = r.one()
    sock.sendall(spec.get("payload", "STARTTLS\r\nRSET\r\n").encode())
    out["starttls"] = r.one()
    out["plaintext_leftover"] = r.buf.decode("utf-8", "replace")
    try:
        tls = tls_context().wrap_socket(sock, server_hostname="mx.test")
        out["tls_version"] = tls.version()
        rt = Replies(tls)
        tls.sendall(b"EHLO after.test\r\n")
        out["first_after_tls"] = rt.one()
        tls.sendall(b"NOOP\r\n")
        out["second_after_tls"] = rt.one()
        tls.sendall(b"QUIT\r\n")
        out["quit"] = rt.one()
    except Exception as e:
        out["error"] = repr(e)
    return out


def cmd_concurrent(spec):
    """N clients at once, each: read 220, EHLO, QUIT. Threads keep it simple and bounded."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, spec["n"] + 256)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except Exception:
        pass
    n, port, timeout = spec["n"], spec["port"], spec.get("timeout", 20)
    results = [None] * n
    socks = [None] * n
    barrier = threading.Barrier(n + 1, timeout=timeout)
    go = threading.Event()

    def client(i):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            socks[i] = s
            r = Replies(s)
            g = r.one()
            try:
                barrier.wait()  # every connection is open and greeted at the same time
            except threading.BrokenBarrierError:
                pass
            go.wait(timeout)
            s.sendall(b"EHLO c%d.test\r\n" % i)
            e = r.one()
            s.sendall(b"QUIT\r\n")
            q = r.one()
            results[i] = [g[:3], e[:3], q[:3]]
        except Exception as ex:
            results[i] = ["error", repr(ex)]
            try:
                barrier.abort()
            except Exception:
                pass

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    start = time.monotonic()
    for t in threads:
        t.start()
    all_open = True
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        all_open = False
    go.set()
    for t in threads:
        t.join(max(0.1, timeout - (time.monotonic() - start)))
    for s in socks:
        if s:
            s.close()
    ok = sum(1 for x in results if x == ["220", "250", "221"])
    errors = [x for x in results if x != ["220", "250", "221"]][:5]
    return {"n": n, "ok": ok, "all_open_at_once": all_open, "errors": errors,
            "seconds": round(time.monotonic() - start, 3)}


def main():
    spec = json.loads(sys.stdin.read() or "{}")
    cmd = sys.argv[1] if len(sys.argv) > 1 else "send"
    fn = {"send": cmd_send, "inject": cmd_inject, "concurrent": cmd_concurrent}[cmd]
    print(json.dumps(fn(spec)))


if __name__ == "__main__":
    main()
