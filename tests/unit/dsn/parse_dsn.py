#!/usr/bin/env python3
# parse_dsn.py: reads a DSN with Python's own MIME parser (email, policy.default) and prints its
# structure as JSON, plus a "problems" list of RFC 3464/6522/6533 rules the report breaks.
# Used by tests/unit/dsn/DsnMimeParseTest.cpp; usage: parse_dsn.py FILE
import email
import email.parser
import email.policy
import email.utils
import json
import re
import sys

STATUS_RE = re.compile(r"^[245]\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$")
ZONE_RE = re.compile(r" [+-][0-9]{4}$")
ACTION_CLASS = {"failed": "45", "delayed": "4", "delivered": "2", "relayed": "2", "expanded": "2"}
THIRD_PART = {"text/rfc822-headers", "message/global-headers", "message/rfc822", "message/global"}


def fields(msg):
    return {k: str(v) for k, v in msg.items()}


def status_groups(part):
    """The field groups of a (global-)delivery-status part: per-message first."""
    payload = part.get_payload()
    if part.get_content_type() == "message/delivery-status":
        return [fields(block) for block in payload]
    # Python parses message/global-delivery-status like any message/*: a nested message whose
    # header section is the per-message group and whose body holds the recipient groups.
    nested = payload[0]
    groups = [fields(nested)]
    rest = nested.get_payload(decode=True)  # the raw octets (get_payload() would lose UTF-8)
    if rest is not None:
        rest = rest.decode("utf-8")
        for block in re.split(r"\r?\n\r?\n", rest):
            if block.strip():
                parsed = email.parser.Parser(policy=email.policy.default).parsestr(block + "\r\n", headersonly=True)
                groups.append(fields(parsed))
    return groups


def main(path):
    raw = open(path, "rb").read()
    problems = []

    for n, line in enumerate(raw.split(b"\r\n")[:-1], 1):
        if len(line) > 998:
            problems.append(f"line {n} is {len(line)} octets")
        if b"\r" in line or b"\n" in line:
            problems.append(f"line {n} has a bare CR or LF")
    if not raw.endswith(b"\r\n"):
        problems.append("message does not end in CRLF")

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = {
        "content_type": msg.get_content_type(),
        "report_type": msg.get_param("report-type"),
        "headers": {k: str(msg[k]) for k in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
                                             "Auto-Submitted", "MIME-Version") if msg[k] is not None},
    }
    for part in msg.walk():
        for d in part.defects:
            problems.append(f"defect in {part.get_content_type()}: {type(d).__name__}")

    if out["content_type"] != "multipart/report":
        problems.append("not multipart/report")
    if not out["headers"].get("From", "").endswith("<MAILER-DAEMON@" + out["headers"].get("Message-ID", "@").split("@")[-1]):
        problems.append("From is not MAILER-DAEMON at the reporting host")
    if out["headers"].get("Auto-Submitted") != "auto-replied":
        problems.append("Auto-Submitted is not auto-replied (RFC 3834)")
    if msg["Date"] is None or not ZONE_RE.search(str(msg["Date"])):
        problems.append("Date missing or without a numeric zone")

    parts = list(msg.iter_parts())
    out["parts"] = [{"content_type": p.get_content_type(), "cte": p.get("Content-Transfer-Encoding"),
                     "charset": p.get_param("charset")} for p in parts]
    if len(parts) != 3:
        problems.append(f"{len(parts)} parts, not 3 (RFC 6522 §3)")
        print(json.dumps({**out, "problems": problems}, indent=1, sort_keys=True, ensure_ascii=False))
        return
    text, status, returned = parts
    if text.get_content_type() != "text/plain":
        problems.append("first part is not text/plain")
    if status.get_content_type() != "message/" + str(out["report_type"]):
        problems.append("report-type does not name the second part's subtype (RFC 6522 §3)")
    if returned.get_content_type() not in THIRD_PART:
        problems.append("third part is not the original or its headers")

    groups = status_groups(status)
    out["per_message"] = groups[0]
    out["recipients"] = groups[1:]
    if not groups[0].get("Reporting-MTA", "").startswith("dns; "):
        problems.append("Reporting-MTA missing (RFC 3464 §2.2.2)")
    if "Final-Recipient" in groups[0]:
        problems.append("no per-message group")
    if not out["recipients"]:
        problems.append("no recipient group")
    body_text = text.get_content()
    for r in out["recipients"]:
        who = r.get("Final-Recipient", "")
        action, st = r.get("Action", ""), r.get("Status", "")
        if not who:
            problems.append("recipient group without Final-Recipient")
        if action not in ACTION_CLASS:
            problems.append(f"{who}: bad Action {action!r}")
        if not STATUS_RE.match(st):
            problems.append(f"{who}: bad Status {st!r}")
        elif st[0] not in ACTION_CLASS.get(action, ""):
            problems.append(f"{who}: Status {st} disagrees with Action {action}")
        if "Will-Retry-Until" in r and action != "delayed":
            problems.append(f"{who}: Will-Retry-Until on a {action} report (RFC 3464 §2.3.9)")
        if "Remote-MTA" in r and not r.get("Diagnostic-Code", "").startswith("smtp; "):
            problems.append(f"{who}: Remote-MTA without a remote diagnostic")
        for f in ("Last-Attempt-Date", "Will-Retry-Until"):
            if f in r and not ZONE_RE.search(r[f]):
                problems.append(f"{who}: {f} without a numeric zone")
        address = who.split("; ", 1)[-1]
        if "<" + address + ">" not in body_text:
            problems.append(f"{who}: not named in the text part")
    if "Arrival-Date" in groups[0] and not ZONE_RE.search(groups[0]["Arrival-Date"]):
        problems.append("Arrival-Date without a numeric zone")

    payload = returned.get_payload()
    if isinstance(payload, list):  # message/* parts parse as a nested message
        inner = payload[0]
        out["returned"] = {"content_type": returned.get_content_type(),
                           "headers": {k: str(inner[k]) for k in ("From", "Subject", "Message-ID") if inner[k] is not None},
                           "body_lines": len(str(inner.get_payload()).splitlines()) if not inner.is_multipart() else None}
    else:
        out["returned"] = {"content_type": returned.get_content_type(), "text_lines": len(payload.splitlines())}

    out["problems"] = problems
    print(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
