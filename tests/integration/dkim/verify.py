#!/usr/bin/python3
"""verify.py: verifies every DKIM-Signature of the message on stdin with python3-dkim (Debian).

Usage: /usr/bin/python3 verify.py [--dns 127.0.0.1:PORT | --txt NAME=TEXT ...] < message
  --txt NAME=TEXT   answer the TXT query for NAME (e.g. "s._domainkey.example.test") with TEXT
                    (repeatable): the key is supplied directly, no DNS
  --dns IP:PORT     look the keys up over real DNS at that server (dnsmasq in the tests)
Prints one line per signature, "pass d=... s=... a=..." or "fail d=... s=...", and exits 0 only
when there is at least one signature and every one passes. Exit 2 on usage errors.
"""
import sys

import dkim


def main(argv):
    txt, dns_server = {}, None
    i = 0
    while i < len(argv):
        if argv[i] == "--txt" and i + 1 < len(argv):
            name, _, text = argv[i + 1].partition("=")
            txt[name.rstrip(".").lower()] = text.encode()
            i += 2
        elif argv[i] == "--dns" and i + 1 < len(argv):
            dns_server = argv[i + 1]
            i += 2
        else:
            print(__doc__, file=sys.stderr)
            return 2

    if dns_server:
        import dns.resolver
        resolver = dns.resolver.Resolver(configure=False)
        host, _, port = dns_server.rpartition(":")
        resolver.nameservers = [host]
        resolver.port = int(port)

        def dnsfunc(name, timeout=5):
            answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
            return b"".join(b"".join(r.strings) for r in answer)
    else:
        def dnsfunc(name, timeout=5):
            return txt.get(name.decode().rstrip(".").lower())

    message = sys.stdin.buffer.read()
    d = dkim.DKIM(message)
    count = 0
    ok = True
    for idx, (name, value) in enumerate(d.headers):
        if name.lower() != b"dkim-signature":
            continue
        tags = dict(t.strip().split(b"=", 1) for t in value.replace(b"\r\n", b"").split(b";") if b"=" in t)
        label = "d=%s s=%s a=%s" % (tags.get(b"d", b"").decode(), tags.get(b"s", b"").decode(),
                                    tags.get(b"a", b"").decode())
        try:
            res = d.verify(idx=count, dnsfunc=dnsfunc)
        except Exception as e:  # any verification error is a failure, reported
            res = False
            label += " (%s)" % e
        print(("pass " if res else "fail ") + label)
        ok = ok and res
        count += 1
    if count == 0:
        print("no DKIM-Signature")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
