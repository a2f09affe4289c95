#!/usr/bin/env python3
# crash_campaign: SIGKILLs `ferry serve` at random (seeded) moments while concurrent SMTP clients
# submit mail and the delivery agent delivers, retries and bounces; restarts it K times, lets it
# drain, and checks that every message that got "250" reached each deliverable recipient at least
# once and bounced for each permanently failed one. Prints a report; exit 1 if anything was lost,
# or if acknowledged mail that only crashes held back (not a 4xx or a cut-off DATA of the fake MX)
# was not delivered or bounced within --recover-within seconds (60) of the last restart: with
# [retry] first at its default (5 min), an interrupted attempt must not wait for that backoff.
# Recipients the fake MX deferred on purpose, and those logged `suspect` (interrupted twice in a
# row: the normal backoff by design), are exempt; `ferry queue flush` then drains them.
#
#   python3 tests/fault/crash_campaign.py --seed 1 --kills 40 --messages 600 --clients 12
#
# Recipients (all in d.test, MX 127.0.0.2) say what the fake MX does with them:
#   ok.*   250           grey.* 451 on the first attempt, then 250
#   bad.*  550 (bounce)  drop.* the first DATA carrying it is cut off halfway (no reply), then 250
# Senders are in s.test (MX 127.0.0.3, which collects the bounces).
import collections
import random
import re
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__
import ferrylab as lab  # noqa: E402

KINDS = (("ok", 50), ("grey", 20), ("bad", 15), ("drop", 15))


def main():
    p = lab.tool_args(__doc__)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kills", type=int, default=10, help="SIGKILLs before the drain (K)")
    p.add_argument("--messages", type=int, default=200)
    p.add_argument("--clients", type=int, default=8, help="concurrent SMTP clients")
    p.add_argument("--min-interval", type=float, default=0.15, help="shortest run before a kill (s)")
    p.add_argument("--max-interval", type=float, default=2.0, help="longest run before a kill (s)")
    p.add_argument("--time-limit", type=float, default=600, help="give up (and fail) after this many seconds")
    p.add_argument("--retry-first", default="5m", help="[retry] first (Ferry's default: 5m)")
    p.add_argument("--after-crash", default=None, help="[retry] after_crash (default: Ferry's own)")
    p.add_argument("--recover-within", type=float, default=60,
                   help="acknowledged mail must be delivered this many seconds after the last restart")
    args = p.parse_args()
    lab.check_tools(args)
    rng = random.Random(args.seed)
    t0 = time.time()
    deadline = t0 + args.time_limit

    with lab.WorkDir("ferry-crash-", args.keep) as work:
        dns = lab.Dnsmasq(["--mx-host=d.test,mx.d.test,10", "--host-record=mx.d.test,127.0.0.2",
                           "--mx-host=s.test,mx.s.test,10", "--host-record=mx.s.test,127.0.0.3"])
        mx, bounce_mx = lab.fake_mx_pair(["127.0.0.2", "127.0.0.3"])
        dropped_once = set()
        deferred_by_mx = set()  # recipients the fake MX answered 4xx or cut off: their retry is due later

        def rcpt_policy(rcpt, attempt):
            kind = rcpt.split(".", 1)[0]
            if kind == "bad":
                return "550 5.1.1 No such user here"
            if kind == "grey" and attempt == 1:
                deferred_by_mx.add(rcpt)
                return "451 4.7.1 Greylisted, try again"
            return "250 2.1.5 Ok"

        def data_policy(mail_from, rcpts, attempts):
            fresh = [r for r in rcpts if r.startswith("drop.") and r not in dropped_once]
            if fresh:
                dropped_once.update(fresh)
                deferred_by_mx.update(rcpts)  # the whole transaction is cut off
                return "DROP"
            return "250 2.0.0 Ok: queued"

        mx.rcpt_policy, mx.data_policy = rcpt_policy, data_policy

        ferry = lab.Ferry(args.ferry, work, lab.config_text(
            work + "/queue", dns.address, mx.port,
            '[retry]\nfirst = "%s"\n%s[bounce]\ndelay_warning = "0"\n' % (
                args.retry_first, 'after_crash = "%s"\n' % args.after_crash if args.after_crash else "")))
        ferry.start()

        # The messages: each has a token, a unique sender and 1-3 recipients.
        plan = []
        for t in range(args.messages):
            token = "m%05d" % t
            kinds = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS], k=rng.randint(1, 3))
            rcpts = ["%s.%s.%d@d.test" % (k, token, i) for i, k in enumerate(kinds)]
            sender = "snd.%s@s.test" % token
            plan.append((token, sender, rcpts, lab.make_message(token, sender, rcpts, rng.randint(300, 6000), rng)))
            _RCPTS[token] = rcpts

        results = collections.defaultdict(list)   # token -> [Submission]
        lock = threading.Lock()
        todo = list(plan)
        in_flight = [0]
        span = args.kills * (args.min_interval + args.max_interval) / 2 or 1.0
        pace = span / max(1, args.messages) * args.clients  # spread submissions over the kill window

        def client(seed):
            crng = random.Random(seed)
            while time.time() < deadline:
                with lock:
                    if not todo:
                        return
                    token, sender, rcpts, data = todo.pop(0)
                while time.time() < deadline:
                    port = ferry.port
                    with lock:
                        in_flight[0] += 1
                    sub = lab.smtp_submit(port, sender, rcpts, data, timeout=10)
                    with lock:
                        in_flight[0] -= 1
                        results[token].append(sub)
                    if sub.status in (sub.ACKED, sub.REJECTED):
                        break
                    time.sleep(0.05)  # refused / cut off / no reply: a real client tries again
                time.sleep(crng.uniform(0, 2 * pace))

        threads = [threading.Thread(target=client, args=(args.seed * 1000 + i,)) for i in range(args.clients)]
        for th in threads:
            th.start()

        # The killer: SIGKILL at a random moment, note what the daemon was doing, restart.
        phases = collections.Counter()
        with_sessions = [0]
        kills = 0
        for _ in range(args.kills):
            if time.time() > deadline:
                break
            time.sleep(rng.uniform(args.min_interval, args.max_interval))
            last = [l for l in ferry.run_log().splitlines() if l.strip()]
            phases[classify(last[-1] if last else "")] += 1
            with lock:
                if in_flight[0]:
                    with_sessions[0] += 1
            ferry.kill()
            kills += 1
            ferry.start()
        last_restart = time.time()
        for th in threads:
            th.join(max(0.0, deadline - time.time()))

        # Prompt recovery: what only crashes held back is delivered within --recover-within of the
        # last restart. Waits (bounded by the time limit) so a slow run still reports its figure.
        def exempt():
            return deferred_by_mx | suspects(ferry.full_log())
        give_up = last_restart + max(args.recover_within, 330)  # past a 5-minute lease retry
        while time.time() < min(deadline, give_up):
            late = [pr for pr in missing(results, mx, bounce_mx) if pr[1] not in exempt()]
            if not late:
                break
            time.sleep(0.25)
        late = [pr for pr in missing(results, mx, bounce_mx) if pr[1] not in exempt()]
        last_done = last_settled(results, mx, bounce_mx, exempt())
        recovery_s = max(0.0, last_done - last_restart) if last_done else 0.0
        slow = late or recovery_s > args.recover_within
        # The recipients deferred on purpose (and suspects) wait for [retry] first: flush them.
        subprocess.run([args.ferry, "queue", "--config", ferry.config_path, "flush"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)

        # Drain: wait until every acknowledged message is accounted for and the queue is empty.
        drained = False
        while time.time() < deadline:
            ok, summary, msgs = lab.inspect(args.inspect, work + "/queue", recover=False)
            if ok and not msgs and not missing(results, mx, bounce_mx):
                drained = True
                break
            time.sleep(0.5)
        ferry.kill(lab.signal.SIGTERM)
        final_ok, final_summary, final_msgs = lab.inspect(args.inspect, work + "/queue")
        report = evaluate(plan, results, mx, bounce_mx, final_msgs)
        elapsed = time.time() - t0

        lab.log("crash campaign: seed=%d runs=%d kills=%d clients=%d elapsed=%.1fs" %
                (args.seed, ferry.runs, kills, args.clients, elapsed))
        lab.log("  kill moments (last log line before the kill): " +
                ", ".join("%s=%d" % kv for kv in sorted(phases.items())) +
                "; with client SMTP sessions open: %d" % with_sessions[0])
        for key in ("messages", "acknowledged", "resubmitted", "no_reply", "recipients", "delivered",
                    "bounced", "dup_redelivery", "dup_resubmission", "dup_bounces", "unacked_delivered",
                    "lost", "wrong_bounce", "phantom"):
            lab.log("  %-18s %d" % (key, report[key]))
        lab.log("  queue after drain  %s (%d messages)%s" % (
            "opens cleanly" if final_ok else "ERROR " + str(final_summary), len(final_msgs),
            "" if drained else "  -- NOT DRAINED before the time limit"))
        lab.log("  last delivery of crash-held mail %.1fs after the last restart (limit %.0fs)%s; "
                "exempt: %d deferred by the MX, %d suspect" % (
                    recovery_s, args.recover_within,
                    "" if not late else ", %d NEVER within the wait" % len(late),
                    len(deferred_by_mx), len(suspects(ferry.full_log()))))
        if slow:
            report["details"].insert(0, "acknowledged mail held back only by crashes was delivered %.1fs after the "
                                        "last restart (limit %.0fs); %d still missing" %
                                     (recovery_s, args.recover_within, len(late)))
        for line in report["details"][:20]:
            lab.log("  ! " + line)
        if args.verbose or report["details"]:
            lab.log("  ferry log: " + ferry.log_path)
        failed = report["lost"] or report["phantom"] or report["wrong_bounce"] or not final_ok or final_msgs \
            or not drained or report["acknowledged"] == 0 or slow
        lab.log("RESULT: " + ("FAIL" if failed else "PASS (lost = 0)"))
        mx.close()
        bounce_mx.close()
        dns.stop()
        if failed and not args.keep:
            args.keep = True  # keep the evidence
            lab.log("work directory kept: " + work)
            import shutil
            shutil.copytree(work, work + ".kept", dirs_exist_ok=True)
        return 1 if failed else 0


def classify(line):
    if "queued" in line and "from=" in line:
        return "accept/commit"
    if "failure report" in line or "status=bounced" in line:
        return "bounce"
    if "status=sent" in line:
        return "delivery/settle"
    if "status=deferred" in line:
        return "deferred/settle"
    if "listening" in line or "ready" in line or "pending recipients" in line:
        return "start-up/recovery"
    if "connect from" in line:
        return "smtp session"
    return "other"


def suspects(log_text):
    """Recipients the daemon logged as suspect: interrupted twice in a row, left at their backoff."""
    return set(re.findall(r"to=<([^>]*)>, status=suspect", log_text))


def last_settled(results, mx, bounce_mx, exempt):
    """When the last acknowledged, non-exempt recipient was first delivered (or its bounce was)."""
    first = {}
    for d in mx.snapshot():
        for r in d.rcpts:
            first[(d.token, r)] = min(first.get((d.token, r), d.position), d.position)
    bounce_at = {}
    for d in bounce_mx.snapshot():
        for m in re.finditer(rb"Final-Recipient:\s*rfc822;\s*([^\s]+)", d.data, re.I):
            r = m.group(1).decode()
            bounce_at[r] = min(bounce_at.get(r, d.position), d.position)
    last = None
    for token in acked_tokens(results):
        for r in rcpts_of(token):
            if r in exempt:
                continue
            t = bounce_at.get(r) if r.startswith("bad.") else first.get((token, r))
            if t is not None and (last is None or t > last):
                last = t
    return last


def acked_tokens(results):
    return {t for t, subs in results.items() if any(s.status == s.ACKED for s in subs)}


def bounced_rcpts(bounce_mx):
    out = collections.Counter()
    for d in bounce_mx.snapshot():
        if d.mail_from != "":
            continue
        for m in re.finditer(rb"Final-Recipient:\s*rfc822;\s*([^\s]+)", d.data, re.I):
            out[m.group(1).decode()] += 1
    return out


def missing(results, mx, bounce_mx):
    """(token, rcpt) pairs of acknowledged messages not yet delivered / bounced."""
    delivered = {(d.token, r) for d in mx.snapshot() for r in d.rcpts}
    bounced = bounced_rcpts(bounce_mx)
    out = []
    for token in acked_tokens(results):
        rcpts = rcpts_of(token)
        for r in rcpts:
            if r.startswith("bad."):
                if not bounced[r]:
                    out.append((token, r))
            elif (token, r) not in delivered:
                out.append((token, r))
    return out


_RCPTS = {}  # token -> its recipients (filled when the plan is made)


def rcpts_of(token):
    return _RCPTS[token]


def evaluate(plan, results, mx, bounce_mx, final_msgs):
    sent_tokens = {t for t, subs in results.items() if subs}
    acked = acked_tokens(results)
    deliveries = mx.snapshot()
    per_pair = collections.Counter()
    per_id_pair = collections.Counter()
    for d in deliveries:
        for r in d.rcpts:
            per_pair[(d.token, r)] += 1
            per_id_pair[(d.queue_id, d.token, r)] += 1
    bounced = bounced_rcpts(bounce_mx)
    details = []
    lost = wrong_bounce = phantom = unacked_delivered = 0
    queued_tokens = {m.get("token") for m in final_msgs}
    for (token, r), n in per_pair.items():
        if token not in sent_tokens:
            phantom += 1
            details.append("phantom delivery: %s to %s was never submitted" % (token, r))
        elif token not in acked:
            unacked_delivered += 1
    for r in bounced:
        if not r.startswith("bad."):
            wrong_bounce += 1
            details.append("bounce for a deliverable recipient " + r)
    for token, r in missing(results, mx, bounce_mx):
        lost += 1
        details.append("LOST: %s (ids %s) never %s %s%s" % (
            token, ",".join(s.queue_id for s in results[token] if s.queue_id),
            "bounced for" if r.startswith("bad.") else "delivered to", r,
            " (still queued)" if token in queued_tokens else ""))
    # Duplicates: the same queue id delivered twice = the at-least-once window (a crash after the
    # remote's 250, before our settle); the same message under two ids = the client resent it
    # after its reply was lost (the SMTP window).
    dup_redelivery = sum(n - 1 for n in per_id_pair.values() if n > 1)
    dup_total = sum(n - 1 for n in per_pair.values() if n > 1)
    return {
        "messages": len(plan),
        "acknowledged": len(acked),
        "resubmitted": sum(1 for subs in results.values() if len(subs) > 1),
        "no_reply": sum(1 for subs in results.values() for s in subs if s.status == s.NOREPLY),
        "recipients": sum(len(rcpts_of(t)) for t in acked),
        "delivered": len([1 for (t, r) in per_pair if t in acked]),
        "bounced": len([r for r in bounced if r.startswith("bad.")]),
        "dup_redelivery": dup_redelivery,
        "dup_resubmission": dup_total - dup_redelivery,
        "dup_bounces": sum(n - 1 for n in bounced.values() if n > 1),
        "unacked_delivered": unacked_delivered,
        "lost": lost,
        "wrong_bounce": wrong_bounce,
        "phantom": phantom,
        "details": details,
    }


if __name__ == "__main__":
    sys.exit(main())
