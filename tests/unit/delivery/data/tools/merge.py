#!/usr/bin/env python3
"""Merges replies.tsv's hand-collected rows with the extracted ones (extract*.py output).

Usage: merge.py replies.tsv extracted.tsv... > new.tsv
The hand-collected rows (5 columns) get the provider column from their source; rows whose
source says they were made up ("synthetic", "-style") are dropped. Duplicates (same code and
text, case-insensitive) keep the first. The header of replies.tsv is kept as it is.
"""
import re
import sys

SOURCE_PROVIDER = [
    (r"gmail|gsmtp|google", "gmail"), (r"exchange online|outlook|microsoft|office 365|exchangeonline", "outlook"),
    (r"yahoo", "yahoo"), (r"\baol\b", "aol"), (r"icloud|apple", "apple"), (r"proton", "protonmail"),
    (r"amazon ses", "amazonses"), (r"mimecast", "mimecast"), (r"barracuda", "barracuda"),
    (r"postgrey", "postgrey"), (r"sqlgrey", "sqlgrey"), (r"milter-greylist", "milter-greylist"),
    (r"haraka", "haraka"), (r"rspamd", "rspamd"), (r"amavis", "amavis"), (r"policyd-spf", "policyd-spf"),
    (r"opendmarc", "opendmarc"), (r"plesk", "plesk"), (r"mailgun", "mailgun"), (r"sendmail", "sendmail"),
    (r"exim", "exim"), (r"postfix", "postfix"), (r"\brfc\b", "rfc"), (r"mailspike", "mailspike"),
    (r"surbl|uribl|spamassassin", "spamassassin"), (r"exchange", "exchange"), (r"csail", "mit"),
    (r"hardwaresecrets|smtp-error-codes|smtp_result_codes|collections|smtpd greylisting", "collections"),
]


# One name per operator: sisimai files some under the product, some under the operator.
SAME_PROVIDER = {"gsuite": "gmail", "googlegroups": "gmail", "googleworkspace": "gmail", "office365": "outlook",
                 "mailru": "mail.ru", "ezweb": "kddi", "exchange2007": "exchange", "exchange2003": "exchange",
                 "v5sendmail": "sendmail", "einsundeins": "gmx", "aol": "yahoo"}


# A postmaster's reading where the extracted label (sisimai's reason mapped by LABEL_MAP, or the
# page's explanation) disagrees with what the reply says, or where the same wording already has a
# label in the hand-collected rows (consistency). (code or None, regex on the text, category, why)
OVERRIDES = [
    ("550", r"^Protocol violation$", "protocol_error", "says protocol violation"),
    ("550", r"^<user@example.com>: Recipient address rejected\.$", "policy_rejected",
     "no reason given: not evidence that the mailbox does not exist"),
    ("421", r"^Service not available, closing transmission channel$", "service_unavailable", "RFC 5321 text"),
    ("506", r"MailFrom domain is listed in Spamhaus", "blocklisted_domain", "the sender domain is on a list"),
    ("421", r"Upstream error, please check", "service_unavailable", "a temporary upstream error"),
    ("550", r"Mailbox not available / Konto niedostepne", "mailbox_disabled", "5.2.1: account unavailable"),
    ("550", r"breaches local URIBL policy", "blocklisted_domain", "URIBL is a domain list"),
    ("550", r"Your server requires confirmation", "policy_rejected", "an allow-list process, not a blocklist"),
    (None, r"Access denied \(state 13\)", "policy_rejected", "access denied, no authentication asked for"),
    ("550", r"^Address rejected\.( </html>)?$", "policy_rejected", "5.1.0, no reason: not evidence of an unknown user"),
    (None, r"does not have authentication information or fails to pass authentication checks", "dmarc_fail",
     "neither SPF nor DKIM: the hand-collected Gmail row is dmarc_fail"),
    (None, r"isn't aligned with either the authenticated SPF or DKIM", "dmarc_fail", "alignment is DMARC"),
    (None, r"IP not in whitelist for RCPT domain", "policy_rejected", "as the hand-collected Gmail row"),
    (None, r"Denial of Service \(DoS\) for the SMTP relay", "service_unavailable", "as the hand-collected row"),
    (None, r"HELO/EHLO argument is invalid", "protocol_error", "as the hand-collected row"),
    (None, r"unusual rate of unsolicited mail originating from your IP", "rate_limited", "as the hand-collected rows"),
    (None, r"Invalid credentials for relay", "auth_required", "as the hand-collected row"),
    (None, r"not authorized to send email directly to our servers", "policy_rejected", "as the hand-collected row"),
    (None, r"Messages missing a valid|unicode character in a disallowed header|Blank From: addresses|"
           r"IP addresses are not allowed as a From|not RFC 2822 compliant|^Header error", "protocol_error",
     "the message does not follow RFC 5322 (a malformed message, as 'Mail message is malformed')"),
    (None, r"illegal attachment|content presents a potential securi", "spam_content", "as the hand-collected rows"),
    (None, r"exceeded its quota for sending messages with the same Message-ID", "rate_limited", "a sending quota"),
    (None, r"No identity changes permitted", "protocol_error", "as the hand-collected row"),
    (None, r"no commands allowed to pipeline after STARTTLS", "protocol_error", "as the hand-collected row"),
    (None, r"Multiple destination domains per transaction", "protocol_error", "as the hand-collected row"),
    (None, r"Domain policy size per transaction exceeded", "rate_limited", "as the hand-collected row"),
    (None, r"Cannot authenticate due to a temporary system problem", "auth_required", "as the hand-collected row"),
    (None, r"weren't able to find the recipient domain", "bad_domain", "as the hand-collected row"),
    ("550", r"Access denied\.\.\.", "policy_rejected", "access denied, no list named"),
    ("529", r"^9584-f4be", "other", "no text to go on"),
    ("550/-", r"^Rejected$", "policy_rejected", "no list named"),
    (None, r"daily relay quota", "rate_limited", "a quota, not a relay refusal"),
    ("500", r"^Line limit exceeded$", "protocol_error", "line length"),
    (None, r"procmail", "service_unavailable", "a local delivery failure reported as service unavailable"),
    (None, r"^Email policy violation detected$", "policy_rejected", "says policy"),
    ("550", r"^Requested action not taken: mailbox unavailable$", "unknown_user", "RFC 5321: 550 mailbox unavailable"),
    (None, r"IB110|IB111", "rate_limited", "the IP is throttled for volume, as Gmail's unusual-rate rows"),
    (None, r"Server temporarily unavailable\. Try again later\. IB101", "service_unavailable", "says so"),
    (None, r"Message expired, DNS query failed", "dns_failure", "the last error was a DNS failure"),
    ("554", r"^Transaction failed$", "policy_rejected", "RFC 5321 554 with no reason"),
    (None, r"user not found", "unknown_user", "says the user does not exist"),
    (None, r"failing both SPF and DKIM", "dmarc_fail", "both SPF and DKIM failed"),
    (None, r"domain present in the Spamhaus DBL", "blocklisted_domain", "the DBL lists domains"),
    (None, r"ESMTP not accepting connections", "policy_rejected", "554 at connect with no reason"),
    (None, r"too many same size mails", "rate_limited", "a volume heuristic"),
    (None, r"^Failed to delivery$", "tls_required", "no text to go on: the enhanced status (5.7.6) decides"),
    (None, r"Mail rejete\. Mail rejected", "policy_rejected", "no reason given"),
    (None, r"\[TSS04\]", "rate_limited", "as the hand-collected Yahoo rows"),
    (None, r"Email address is not verified", "policy_rejected", "the sender identity is not verified"),
    (None, r"^Invalid domain name$", "bad_domain", "says the domain is invalid"),
    ("450", r"^Temporary failure$", "service_unavailable", "a temporary failure"),
    (None, r"^Message content rejected$", "spam_content", "content rejected"),
    (None, r"^Message Filtered$", "spam_content", "filtered as content"),
    (None, r"Insufficient permission", "other", "a local delivery permission error"),
    (None, r"Operating system error", "service_unavailable", "a temporary local error"),
    (None, r"which is an open relay", "blocklisted_ip", "the sending host is listed as an open relay"),
    (None, r"INVALID IP FOR SENDING MAIL OF DOMAIN", "spf_fail", "the IP is not allowed for the domain"),
    (None, r"due to a recipient error\. Please try again later", "service_unavailable", "a temporary failure"),
    ("421", r"Service refuse\. Veuillez essayer plus tard", "service_unavailable", "421, try later"),
    ("550", r"Service refuse\. Veuillez essayer plus tard", "policy_rejected", "550, refused"),
    (None, r"SPF check failed, please verify", "spf_fail", "says SPF failed"),
    (None, r"\[TSS09\]|\[TSS11\]", "blocklisted_ip", "as the hand-collected Yahoo rows"),
    (None, r"Your E-Mail is redundant", "policy_rejected", "a local rule about the sender"),
    ("550", r"Messages missing a valid address in From: header", "protocol_error",
     "the message does not follow RFC 5322"),
    (None, r"is not a registered gateway user", "unknown_user", "the recipient is not a user of the gateway"),
    (None, r"not RFC 5322 compliant because it has duplicate headers|Encoded-word syntax is not permitted",
     "protocol_error", "the message does not follow RFC 5322 / RFC 2047"),
    (None, r"Header error \(state 18\)", "protocol_error", "a malformed header"),
    (None, r"sender rejected\. Please see https://www\.spectrum\.net", "policy_rejected",
     "says the sender was rejected (sisimai reads Spectrum's AUP code as too many connections)"),
    (None, r"Adresse IP source bloquee pour incident de spam", "blocklisted_ip", "the source IP is blocked"),
    (None, r"Mail Sending denied\. This error occurs if the sender account is disabled", "policy_rejected",
     "the sender's account, not the recipient's"),
]


# Rows the table is known to get wrong, with why (the unit test checks they stay wrong, so a fix
# shows up and the note is removed).
KNOWN_MISSES = [
    (r"^neko\.example\.com does not exist$",
     "known-miss: a domain that does not exist reads like a user that does not exist; the table "
     "prefers unknown_user over guessing that the word before it is a host name"),
]

HEADER = """\
# Real SMTP replies and the category a postmaster gives them (tests/unit/delivery/ReplyCategoryTableTest.cpp,
# tests/bench/classify_bench.cpp). Columns (TAB-separated): category, code, enhanced status ("-" when
# none), reply text, source, provider, and an optional note ("known-miss: why").
# provider: the operator or software whose server produced the reply (gmail, outlook, yahoo (with
# AOL), gmx (GMX/web.de/1&1), mail.ru, qq, postfix, exim, ...). For bounces from the sisimai
# collection it is the operator named by the Remote-MTA or the reply's signature when recognisable,
# otherwise the bounce format sisimai filed the mail under (lhost-postfix, lhost-exim, ...).
# IP addresses, addresses and ids are anonymised (192.0.2.x, example.com, user@example.com).
# Sources (the replies are facts; each row names its own):
#  - hand-collected rows: provider postmaster pages (Gmail "SMTP errors and codes", Microsoft "NDRs in
#    Exchange Online", Yahoo/AOL, Outlook.com, Apple, Proton), smtpfieldmanual.com, smtp.codes,
#    vendor KBs, and the default texts of Postfix, Exim, Sendmail, postgrey and milter-greylist;
#  - github:sisimai/set-of-emails maildir/bsd/*.eml: real bounce mails, decoded with p5-sisimai
#    (tools/sisimai_dump.pl) and turned into rows by tools/extract.py;
#  - github:rjbs/Mail-DeliveryStatus-BounceParser t/corpus/*.msg: real bounce mails, same tools;
#  - github:sisimai/p5-sisimai lib/Sisimai/Rhost/*.pm: provider replies quoted from their
#    documentation (tools/extract_rhost.py);
#  - the reply literals in the source and regression output of Postfix (github:vdukhovni/postfix),
#    Exim (github:Exim/exim, src/ and test/stdout), OpenSMTPD (github:OpenSMTPD/OpenSMTPD) and
#    Haraka's plugins (github:haraka/haraka-plugin-*) (tools/label_mta.py, tools/sources/pages.tsv);
#  - provider and hosting help pages quoting their replies (tools/sources/pages.tsv names each).
# Labels: sisimai's reason is mapped to a category (tools/extract.py LABEL_MAP) and then read again as
# a postmaster would (extract.py READING, merge.py OVERRIDES). Where the library and that reading
# disagree the reading wins, for example: sisimai files a Spamhaus IP listing or a bare "Access
# denied" under "blocked" (here blocklisted_ip only when a list or the IP is named, else
# policy_rejected); "userunknown" for "Sender address rejected" (here policy_rejected: the sender,
# not the recipient); "suspend"/"securityerror" for texts about the sender's own account; Gmail's
# "unusual rate of unsolicited mail" as spam (here rate_limited, as Gmail's own page describes it);
# "Recipient address rejected." or "Address rejected" without a reason (here policy_rejected, not
# unknown_user: a false unknown_user suppresses a real address). Messages that break RFC 5322 are
# protocol_error throughout. Regenerate: tools/README.md.
"""


def known_miss(cols):
    for pattern, note in KNOWN_MISSES:
        if re.search(pattern, cols[3]):
            return note
    return None


def override(cols):
    for code, pattern, cat, _why in OVERRIDES:
        code, _, status = (code or "").partition("/")
        if (not code or code == cols[1]) and (not status or status == cols[2]) and re.search(pattern, cols[3]):
            return cat
    return cols[0]


def provider_of(source, text):
    hay = (source + " " + text).lower()
    for pattern, name in SOURCE_PROVIDER:
        if re.search(pattern, hay):
            return name
    return "collections"


def main():
    seen = set()
    header, rows = [], []
    for line in open(sys.argv[1], encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            header.append(line)
            continue
        if not line:
            continue
        cols = line.split("\t")
        if len(cols) == 5:
            if re.search(r"synthetic|-style", cols[4]):
                continue
            cols.append(provider_of(cols[4], cols[3]))
        rows.append(cols)
    for path in sys.argv[2:]:
        for line in open(path, encoding="utf-8"):
            cols = line.rstrip("\n").split("\t")
            # sisimai's own made-up fixtures (addresses at libsisimai.net) are not real replies
            if len(cols) == 6 and "libsisimai" not in cols[3]:
                rows.append(cols)
    print(HEADER, end="")
    for cols in rows:
        cols[5] = SAME_PROVIDER.get(cols[5], cols[5])
        cols[0] = override(cols)
        key = (cols[1], cols[2], cols[3].lower())
        if key in seen:
            continue
        seen.add(key)
        note = known_miss(cols)
        print("\t".join(cols + ([note] if note else [])))


if __name__ == "__main__":
    main()
