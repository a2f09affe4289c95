#!/usr/bin/env python3
"""Turns sisimai's decoded bounces (sisimai_dump.pl output, JSON lines) into replies.tsv rows.

Usage: extract.py SOURCE_LABEL DUMP.jsonl > rows.tsv
Each row: category, code, status, text, source, provider. The category starts from sisimai's
own reason label (LABEL_MAP) and is then read again as a postmaster would (READING: text
patterns that override the label, e.g. sisimai files an IP block naming Spamhaus under
"blocked" and a sender-domain refusal under "rejected"). Rows without an SMTP reply code,
duplicates and feedback/vacation/delivered reports are skipped. Addresses and IPs outside the
documentation ranges are anonymised.
"""
import json
import re
import sys

LABEL_MAP = {
    "userunknown": "unknown_user", "hasmoved": "mailbox_disabled", "suspend": "mailbox_disabled",
    "mailboxfull": "mailbox_full", "mesgtoobig": "message_too_large", "exceedlimit": "message_too_large",
    "hostunknown": "bad_domain", "notaccept": "bad_domain", "norelaying": "relay_denied",
    "blocked": "blocklisted_ip", "badreputation": "blocklisted_ip", "requireptr": "policy_rejected",
    "toomanyconn": "rate_limited", "speeding": "rate_limited", "spamdetected": "spam_content",
    "virusdetected": "spam_content", "policyviolation": "policy_rejected", "rejected": "policy_rejected",
    "filtered": "policy_rejected", "authfailure": "dmarc_fail", "securityerror": "auth_required",
    "systemerror": "service_unavailable", "systemfull": "service_unavailable",
    "networkerror": "service_unavailable", "expired": "service_unavailable",
    "contenterror": "protocol_error", "notcompliantrfc": "protocol_error", "syntaxerror": "protocol_error",
    "mailererror": "other", "onhold": "other", "undefined": "other",
}

# A postmaster's reading of the text wins over the library's label (first match).
READING = [
    (r"hop count|too many hops|mail loop|exceeded \d+ hops", "other"),
    (r"sender address rejected|domain of sender|sender domain|sender rejected|bad sender|invalid sender|emetteur invalide", "policy_rejected"),
    (r"greylist|graylist|grey-list", "greylisted"),
    (r"dbl\.spamhaus|uribl|surbl", "blocklisted_domain"),
    (r"spamhaus|spamcop|sorbs|barracuda|dnsbl|\brbl\b|blacklist|blocklist|cloudmark|senderscore", "blocklisted_ip"),
    (r"\bdmarc\b", "dmarc_fail"),
    (r"\bspf\b|sender policy framework|not designated", "spf_fail"),
    (r"\bdkim\b|domainkeys", "dkim_fail"),
    (r"starttls|\btls\b|encryption", "tls_required"),
    (r"relay", "relay_denied"),
    (r"over quota|quota exceeded|mailbox (is )?full|insufficient (mailbox )?space|exceeded storage", "mailbox_full"),
    (r"disabled|suspended|inactive|deactivated|no longer", "mailbox_disabled"),
    (r"reverse dns|\bptr\b|rdns|reverse lookup|hostname lookup", "policy_rejected"),
    (r"too many connections|too many concurrent|rate limit|too fast|too quickly|slow down|throttl", "rate_limited"),
    (r"spam|virus|unsolicited|malware|phish", "spam_content"),
    (r"authentication (is )?required|auth(entication)? failed|must authenticate", "auth_required"),
    (r"message size|too large|too big|size limit", "message_too_large"),
    (r"unknown user|user unknown|no such user|does not exist|no mailbox|invalid recipient|recipient not found|not a valid mailbox|address rejected", "unknown_user"),
    (r"domain (does not exist|not found)|host unknown|no such domain|unrouteable mail domain|nxdomain", "bad_domain"),
    (r"sender address rejected|sender domain|domain of sender|sender rejected|bad sender", "policy_rejected"),
]
# Labels the text may override; the address-level ones only by an address-level reading.
OVERRIDABLE = {"blocklisted_ip", "policy_rejected", "service_unavailable", "other", "dmarc_fail",
               "auth_required", "protocol_error"}

PROVIDERS = [  # (pattern on rhost/text, provider)
    (r"gsmtp|google\.com|gmail|googlemail", "gmail"),
    (r"outlook\.com|hotmail|protection\.outlook|office365|exchangelabs", "outlook"),
    (r"yahoo|yahoodns", "yahoo"), (r"\baol\.com|mx\.aol", "aol"), (r"icloud|me\.com|apple", "apple"),
    (r"orange\.fr|wanadoo", "orange"), (r"laposte", "laposte"), (r"zoho", "zoho"),
    (r"mimecast", "mimecast"), (r"secureserver|godaddy", "godaddy"), (r"qq\.com|tencent", "qq"),
    (r"comcast", "comcast"), (r"ezweb|\bau\.com|kddi", "kddi"), (r"docomo", "nttdocomo"),
    (r"amazonses|amazonaws", "amazonses"), (r"mail\.ru", "mail.ru"), (r"yandex", "yandex"),
    (r"gmx\.|web\.de", "gmx"), (r"cox\.net", "cox"), (r"charter|spectrum|rr\.com", "spectrum"),
    (r"messagelabs", "messagelabs"), (r"\bt-online", "t-online"), (r"verizon", "verizon"),
]

DOC_IP = re.compile(r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.")
EXAMPLE = re.compile(r"(^|\.)(example|libsisimai|bouncehammer|sisimai|neko|nyaan)\.|\.(invalid|example|test)$")


def anonymise(text):
    text = re.sub(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b",
                  lambda m: m.group(0) if DOC_IP.match(m.group(0)) else "192.0.2.1", text)

    def addr(m):
        return m.group(0) if EXAMPLE.search(m.group(2).lower()) else "user@example.com"
    return re.sub(r"([A-Za-z0-9._%+=-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})", addr, text)


def split_reply(diag):
    """code, status, text of the SMTP reply inside a Diagnostic-Code or a bounce's text."""
    m = re.search(r"(?<![\d.])([245]\d\d)(?:[ -]|$)(?:\s*\(?#?([245]\.\d{1,3}\.\d{1,3})\)?\s*)?(.*)", diag)
    if not m:
        return None
    code, status, text = m.group(1), m.group(2) or "-", m.group(3)
    # continuation lines of a multi-line reply repeat "550-5.1.1 " / "550 5.1.1 "
    text = re.sub(r"\s*\b%s[ -](?:%s\s)?" % (code, re.escape(status) if status != "-" else "x^"), " ", text)
    text = re.sub(r"\s*\(in reply to [^)]*\)\)?", "", text)
    text = re.sub(r"\s*I'm not going to try again; this message has been in the queue too long\.?", "", text)
    # left-overs of the bounce around the reply: an HTML bounce's closing tag, header lines
    text = re.sub(r"\s*</html>\s*$", "", text)
    text = re.sub(r"\s+(Return-Path|Message-ID|Received):.*$", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return code, status, text


def category(label, text, status="-"):
    base = LABEL_MAP.get(label)
    if base is None:
        return None
    low = text.lower()
    if base in OVERRIDABLE or label in ("filtered", "userunknown"):
        for pattern, cat in READING:
            if re.search(pattern, low):
                if label == "userunknown" and cat not in ("mailbox_disabled", "unknown_user", "relay_denied",
                                                          "policy_rejected", "other"):
                    break
                return cat
    if re.match(r"[45]\.1\.[78]$", status):  # RFC 3463: the sender's address or domain
        return "policy_rejected"
    return base


def provider(row, text):
    hay = (row.get("rhost", "") + " " + text).lower()
    for pattern, name in PROVIDERS:
        if re.search(pattern, hay):
            return name
    return row["by"].lower()


def main():
    label, path = sys.argv[1], sys.argv[2]
    seen = set()
    for line in open(path, encoding="utf-8"):
        row = json.loads(line)
        if not row["code"] or row["reason"] in ("feedback", "vacation", "delivered"):
            continue
        parts = split_reply(row["diag"])
        if not parts or len(parts[2]) < 3:
            continue
        code, status, text = parts
        # sisimai's own made-up fixtures, and several replies run together by the bounce's format
        if "libsisimai.org/en/reason" in text or re.search(r"\s[245]\d\d[ -](?:[245]\.\d+\.\d+ |[A-Za-z])", text):
            continue
        if status == "-" and re.match(r"[245]\.\d+\.\d+$", row["status"] or "") and row["status"][0] == code[0]:
            pass  # the DSN's Status: field is not part of the reply; keep "-"
        cat = category(row["reason"], text, status)
        if cat is None:
            continue
        text = anonymise(text).replace("\t", " ")
        key = (code, status, text.lower())
        if key in seen:
            continue
        seen.add(key)
        path = re.sub(r"^.*?(maildir/|t/corpus/)", r"\1", row["file"])
        src = "%s %s (sisimai reason: %s)" % (label, path, row["reason"])
        print("\t".join([cat, code, status, text, src, provider(row, text)]))


if __name__ == "__main__":
    main()
