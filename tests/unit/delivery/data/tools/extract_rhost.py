#!/usr/bin/env python3
"""Replies quoted in sisimai's per-provider modules (lib/Sisimai/Rhost/*.pm, p5-sisimai).

Usage: extract_rhost.py RHOST_DIR > rows.tsv
The modules quote each provider's documented replies in comments ("# - 550 5.7.1 text", wrapped
on "#   " lines) above the reason they map them to. A quoted reply is taken when it starts with
a reply code; the category starts from sisimai's reason and is re-read like extract.py.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import extract  # noqa: E402

PROVIDER = {"Apple": "apple", "Cox": "cox", "FrancePTT": "orange", "GoDaddy": "godaddy",
            "Google": "gmail", "IUA": "i.ua", "KDDI": "kddi", "Microsoft": "outlook",
            "Mimecast": "mimecast", "NTTDOCOMO": "nttdocomo", "Spectrum": "spectrum",
            "Tencent": "qq", "YahooInc": "yahoo"}


def items(lines):
    """(quoted text, reason) pairs."""
    group, block = None, None
    pending = []
    for line in lines:
        g = re.match(r"\s*'(\w+)'\s*=>\s*\[", line)
        if g:
            group = g.group(1)
        c = re.match(r"\s*#\s?-\s+(.*)", line)
        cont = re.match(r"\s*#\s{2,}(\S.*)", line)
        if c:
            if block:
                pending.append(block)
            block = c.group(1).strip()
        elif cont and block is not None:
            # the quotes are wrapped by hand, with "-" where a word was split
            joiner = "" if re.search(r"[a-z]-$", block) and re.match(r"[a-z]", cont.group(1)) else " "
            block = (block[:-1] if joiner == "" else block) + joiner + cont.group(1).strip()
        else:
            if block:
                pending.append(block)
            block = None
            if not line.strip().startswith("#") and line.strip():
                r = re.search(r"=>\s*'(\w+)'", line)
                reason = r.group(1) if r and not g else group
                for p in pending:
                    yield p, reason
                pending = []


def main():
    seen = set()
    for name in sorted(os.listdir(sys.argv[1])):
        stem = name[:-3]
        if stem not in PROVIDER:
            continue
        lines = open(os.path.join(sys.argv[1], name), encoding="utf-8").read().splitlines()
        for text, reason in items(lines):
            if not re.match(r"[245]\d\d[ -]", text) or reason is None:
                continue
            code, status, body = extract.split_reply(text)
            body = re.sub(r"\s+", " ", extract.anonymise(body)).strip()
            if len(body) < 8:
                continue
            if re.search(r"\s[245]\d\d[ -](?:[245]\.\d+\.\d+ |[A-Za-z])", body):
                continue
            cat = extract.category(reason, body, status)
            if cat is None or (code, body.lower()) in seen:
                continue
            seen.add((code, body.lower()))
            src = "p5-sisimai lib/Sisimai/Rhost/%s (quoted from %s's documentation; sisimai reason: %s)" % (
                name, PROVIDER[stem], reason)
            print("\t".join([cat, code, status, body, src, PROVIDER[stem]]))


if __name__ == "__main__":
    main()
