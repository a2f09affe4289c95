#!/usr/bin/env python3
# powercut_campaign: what a power cut (lost page cache) leaves of the queue.
#
# 1. Record: `ferry serve` runs under the LD_PRELOAD shim (powercut_shim.c), which journals every
#    write and barrier on the queue's files; clients submit mail and note the journal size when
#    each "250" arrives; the fake MX notes it when it accepts a delivery (and the bounce MX, a
#    bounce). Recipients: ok.* 250, grey.* 451 then 250, hold.* always 451 (stays queued),
#    bad.* 550 (bounce).
# 2. Replay: for each of N random cut points (a prefix of the journal) build data.mdb as the disk
#    could hold it: every write before the file's last barrier (fsync/fdatasync/sync), every
#    O_SYNC/O_DSYNC write, a random subset of the other writes after that barrier (some torn at
#    512-byte sector boundaries), and maybe a torn piece of the write in flight at the cut.
# 3. Check each image with Ferry's queue code (open + recover, as the daemon starts): it must open
#    cleanly, and every message acknowledged before the cut must be there with its exact bytes,
#    or have been finished before the cut (delivered to every recipient / bounced).
#
#   python3 tests/fault/powercut_campaign.py --seed 1 --messages 300 --cuts 500
#   python3 tests/fault/powercut_campaign.py --seed 1 --messages 300 --cuts 200 --sync off --expect-loss
import bisect
import collections
import os
import random
import re
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__
import ferrylab as lab  # noqa: E402

J_WRITE, J_WRITE_SYNC, J_TRUNCATE, J_FSYNC, J_FDATASYNC, J_MSYNC, J_SFR, J_SYNC_ALL, J_NAME, J_OPEN = range(1, 11)
HDR = struct.Struct("<IIQQ")
SECTOR = 512
KINDS = (("ok", 40), ("grey", 20), ("hold", 25), ("bad", 15))


def main():
    p = lab.tool_args(__doc__)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--messages", type=int, default=100)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--cuts", type=int, default=200, help="power-cut points to replay")
    p.add_argument("--sync", choices=("on", "off"), default="on", help="[queue] sync")
    p.add_argument("--expect-loss", action="store_true",
                   help="pass only if the campaign FINDS lost mail (the proof that the check can fail)")
    p.add_argument("--settle-time", type=float, default=2.5, help="seconds of delivery after the last 250")
    args = p.parse_args()
    lab.check_tools(args, need_shim=True)
    rng = random.Random(args.seed)
    t0 = time.time()

    with lab.WorkDir("ferry-powercut-", args.keep) as work:
        queue_dir = os.path.join(work, "queue")
        journal = os.path.join(work, "journal")
        os.makedirs(queue_dir, mode=0o700)
        jsize = lambda: os.path.getsize(journal) if os.path.exists(journal) else 0

        # ---- 1. record ----
        dns = lab.Dnsmasq(["--mx-host=d.test,mx.d.test,10", "--host-record=mx.d.test,127.0.0.2",
                           "--mx-host=s.test,mx.s.test,10", "--host-record=mx.s.test,127.0.0.3"])
        mx, bounce_mx = lab.fake_mx_pair(["127.0.0.2", "127.0.0.3"])

        def rcpt_policy(rcpt, attempt):
            kind = rcpt.split(".", 1)[0]
            if kind == "bad":
                return "550 5.1.1 No such user here"
            if kind == "hold" or (kind == "grey" and attempt == 1):
                return "451 4.7.1 Try again later"
            return "250 2.1.5 Ok"
        mx.rcpt_policy = rcpt_policy
        mx.position = bounce_mx.position = jsize

        ferry = lab.Ferry(args.ferry, work, lab.config_text(
            queue_dir, dns.address, mx.port,
            '[retry]\nfirst = "1s"\nmax_interval = "1s"\n[bounce]\ndelay_warning = "0"\n',
            queue_extra="sync = %s" % ("true" if args.sync == "on" else "false")),
            env={"LD_PRELOAD": os.path.abspath(args.shim), "FERRY_JOURNAL": journal,
                 "FERRY_JOURNAL_DIR": queue_dir})
        ferry.start()

        plan = {}
        for t in range(args.messages):
            token = "p%05d" % t
            kinds = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS], k=rng.randint(1, 3))
            rcpts = ["%s.%s.%d@d.test" % (k, token, i) for i, k in enumerate(kinds)]
            sender = "snd.%s@s.test" % token
            data = lab.make_message(token, sender, rcpts, rng.randint(200, 9000), rng)
            plan[token] = (sender, rcpts, data, lab.fnv1a(data))
        acks = {}  # token -> (queue id, journal size when the 250 arrived)
        todo = sorted(plan)
        lock = threading.Lock()

        def client():
            while True:
                with lock:
                    if not todo:
                        return
                    token = todo.pop(0)
                sender, rcpts, data, _ = plan[token]

                def on_reply(sub):
                    sub.position = jsize()
                sub = lab.smtp_submit(ferry.port, sender, rcpts, data, on_reply=on_reply)
                if sub.status == sub.ACKED:
                    with lock:
                        acks[token] = (sub.queue_id, sub.position)
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        time.sleep(args.settle_time)  # deliveries, retries and bounces write to the queue too
        ferry.kill()
        deliveries = mx.snapshot()
        bounces = bounce_mx.snapshot()
        mx.close()
        bounce_mx.close()
        dns.stop()
        record_time = time.time() - t0

        # ---- 2. replay ----
        with open(journal, "rb") as f:
            jbytes = f.read()
        records, names = parse_journal(jbytes)
        data_ids = {fid for fid, path in names.items() if path.endswith("/data.mdb")}
        # A new queue is built in <queue>/.creating and its data.mdb renamed into place once its
        # first transaction is synced (the journal has no renames): before the first open of the
        # final <queue>/data.mdb, a cut leaves no data.mdb in the queue directory at all.
        placed = next((i for i, r in enumerate(records)
                       if r[0] == J_NAME and names.get(r[1], "").endswith("/data.mdb")
                       and "/.creating/" not in names.get(r[1], "")), None)
        counts = collections.Counter(r[0] for r in records)
        delivered_at = {}  # (token, rcpt) -> earliest journal position the MX accepted it
        for d in deliveries:
            for r in d.rcpts:
                k = (d.token, r)
                delivered_at[k] = min(delivered_at.get(k, d.position), d.position)
        bounced_at = {}
        for d in bounces:
            for m in re.finditer(rb"Final-Recipient:\s*rfc822;\s*([^\s]+)", d.data, re.I):
                r = m.group(1).decode()
                bounced_at[r] = min(bounced_at.get(r, d.position), d.position)

        is_barrier = [(r[0] in (J_FSYNC, J_FDATASYNC) and r[1] in data_ids) or r[0] == J_SYNC_ALL for r in records]
        n = len(records)
        barrier_ends = [i + 1 for i in range(n) if is_barrier[i]]
        cuts = sorted(rng.randint(1, n) for _ in range(args.cuts)) if n else []
        image_dir = os.path.join(work, "image")
        base = bytearray()
        folded = 0
        last_barrier = 0
        stats = collections.Counter()
        details = []
        creation = []
        for k in cuts:
            cut_pos = records[k - 1][4]  # journal bytes up to the end of record k-1
            b = bisect.bisect_right(barrier_ends, k)
            last_barrier = barrier_ends[b - 1] if b else 0  # records before it are on the disk
            for i in range(folded, last_barrier):
                apply(base, records[i], jbytes, data_ids)
            folded = last_barrier
            img = bytearray(base)
            for i in range(last_barrier, k):
                r = records[i]
                if r[1] not in data_ids:
                    continue
                if r[0] == J_WRITE_SYNC:
                    apply(img, r, jbytes, data_ids)
                elif r[0] in (J_WRITE, J_TRUNCATE):
                    roll = rng.random()
                    if roll < 0.4:
                        stats["writes dropped"] += 1
                    elif roll < 0.8 or r[0] == J_TRUNCATE:
                        apply(img, r, jbytes, data_ids)
                    else:
                        torn(img, r, jbytes, rng)
                        stats["writes torn"] += 1
            if k < n and records[k][1] in data_ids and records[k][0] in (J_WRITE, J_WRITE_SYNC) and rng.random() < 0.5:
                torn(img, records[k], jbytes, rng)  # the write in flight when the power went
                stats["in-flight writes torn"] += 1

            os.makedirs(image_dir, exist_ok=True)
            for name in os.listdir(image_dir):
                os.unlink(os.path.join(image_dir, name))
            if names and data_ids and (placed is None or k > placed):
                with open(os.path.join(image_dir, "data.mdb"), "wb") as f:
                    f.write(img)
            os.chmod(image_dir, 0o700)
            ok, summary, msgs = lab.inspect(args.inspect, image_dir)
            stats["cuts"] += 1
            due = [t for t, (qid, pos) in acks.items() if pos <= cut_pos]
            stats["acknowledged before cut (checks)"] += len(due)
            if not ok and last_barrier == 0 and not due:
                # Before the first durable commit LMDB's freshly written meta pages are not synced
                # (mdb_env_init_meta): a cut there can leave a data.mdb that LMDB refuses. No mail
                # is at risk (nothing was acknowledged), but the daemon will not start on it.
                stats["cuts during queue creation that leave it unopenable"] += 1
                if len(creation) < 3:
                    creation.append("cut %d/%d: %s" % (k, n, summary.get("open", summary)))
            elif not ok:
                stats["cuts where the queue did not open cleanly"] += 1
                if len(details) < 12:
                    details.append("cut %d/%d: queue open/recover/read: %s" % (k, n, summary))
            by_token = {}
            bounce_tokens = set()
            for m in msgs:
                if m.get("from") == "":
                    bounce_tokens.add(m.get("token"))
                else:
                    by_token[m.get("token")] = m
            lost_here = 0
            for t in due:
                sender, rcpts, data, want = plan[t]
                m = by_token.get(t)
                if m is not None:
                    if m.get("hash") != want or m.get("id") != acks[t][0]:
                        stats["damaged"] += 1
                        lost_here += 1
                        if len(details) < 12:
                            details.append("cut %d: %s present but damaged: %s" % (k, t, m))
                    else:
                        stats["present and complete"] += 1
                    continue
                finished = all(
                    (t in bounce_tokens or bounced_at.get(r, 1 << 62) <= cut_pos) if r.startswith("bad.")
                    else delivered_at.get((t, r), 1 << 62) <= cut_pos
                    for r in rcpts)
                if finished:
                    stats["finished before cut"] += 1
                else:
                    stats["lost"] += 1
                    lost_here += 1
                    if len(details) < 12:
                        details.append("cut %d/%d (journal byte %d): %s (id %s, 250 at byte %d) LOST" % (
                            k, n, cut_pos, t, acks[t][0], acks[t][1]))
            if lost_here:
                stats["cuts with lost mail"] += 1

        elapsed = time.time() - t0
        lab.log("power-cut campaign: seed=%d sync=%s messages=%d acknowledged=%d (recorded in %.1fs, total %.1fs)" %
                (args.seed, args.sync, args.messages, len(acks), record_time, elapsed))
        lab.log("  journal: %d bytes, %d records: writes=%d sync-writes=%d truncates=%d fsync=%d fdatasync=%d "
                "msync=%d sync_file_range=%d sync=%d; files=%s" % (
                    len(jbytes), n, counts[J_WRITE], counts[J_WRITE_SYNC], counts[J_TRUNCATE], counts[J_FSYNC],
                    counts[J_FDATASYNC], counts[J_MSYNC], counts[J_SFR], counts[J_SYNC_ALL],
                    ",".join(os.path.basename(x) for x in names.values())))
        lab.log("  delivered to the fake MX: %d, bounces: %d" % (len(deliveries), len(bounces)))
        for key in ("cuts", "acknowledged before cut (checks)", "present and complete", "finished before cut",
                    "damaged", "lost", "cuts with lost mail", "cuts where the queue did not open cleanly",
                    "writes dropped", "writes torn", "in-flight writes torn",
                    "cuts during queue creation that leave it unopenable"):
            lab.log("  %-52s %d" % (key, stats[key]))
        for line in creation:
            lab.log("  (known, no mail at risk) " + line)
        for line in details:
            lab.log("  ! " + line)
        lost = stats["lost"] + stats["damaged"] + stats["cuts where the queue did not open cleanly"]
        if len(acks) == 0 or stats["cuts"] == 0:
            lab.log("RESULT: FAIL (nothing was acknowledged or replayed)")
            return 1
        if args.expect_loss:
            lab.log("RESULT: " + ("PASS (the campaign found lost mail with sync=%s, as it must)" % args.sync
                                  if lost else "FAIL (expected lost mail, found none)"))
            return 0 if lost else 1
        lab.log("RESULT: " + ("FAIL" if lost else "PASS (lost = 0)"))
        return 1 if lost else 0


def parse_journal(j):
    """[(type, file, offset, length, end_position, data_start)], {file id: path}"""
    records, names = [], {}
    pos = 0
    while pos + HDR.size <= len(j):
        t, fid, off, length = HDR.unpack_from(j, pos)
        start = pos + HDR.size
        if t in (J_WRITE, J_WRITE_SYNC, J_NAME):
            end = start + length
        else:
            end = start
        if end > len(j):
            break  # a record cut short by the SIGKILL of the recording run
        if t == J_NAME:
            names[fid] = j[start:end].decode("utf-8", "replace")
        records.append((t, fid, off, length, end, start))
        pos = end
    return records, names


def apply(img, r, j, data_ids):
    t, fid, off, length, end, start = r
    if fid not in data_ids:
        return
    if t in (J_WRITE, J_WRITE_SYNC):
        if len(img) < off + length:
            img.extend(bytes(off + length - len(img)))
        img[off:off + length] = j[start:start + length]
    elif t == J_TRUNCATE:
        if len(img) > off:
            del img[off:]
        else:
            img.extend(bytes(off - len(img)))


def torn(img, r, j, rng):
    """Some of the write's 512-byte sectors reached the disk, the others did not."""
    t, fid, off, length, end, start = r
    first, last = off // SECTOR, (off + length - 1) // SECTOR
    for s in range(first, last + 1):
        if rng.random() < 0.5:
            continue
        lo, hi = max(off, s * SECTOR), min(off + length, (s + 1) * SECTOR)
        if len(img) < hi:
            img.extend(bytes(hi - len(img)))
        img[lo:hi] = j[start + lo - off:start + hi - off]


if __name__ == "__main__":
    sys.exit(main())
