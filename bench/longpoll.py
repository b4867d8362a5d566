#!/usr/bin/env python3
"""longpoll.py - the HTTP client of scripts/bench-inbox.sh (issue 4).

    longpoll.py seed     --url URL --count N --region R [--region R2 ...]
    longpoll.py wakeup   --url URL --keys FILE --out FILE [options]
    longpoll.py memory   --url URL --keys FILE --pid PID --out FILE [options]

Python standard library only, one thread, non-blocking sockets on an
epoll selector, plain HTTP/1.1 keep-alive to 127.0.0.1.  The reporter's
token comes from $BENCH_TOKEN; the coordinators' tokens from FILE (lines
"REGION TOKEN", the first line is the busy region), never from argv.

Times are the kernel's receive timestamps (SO_TIMESTAMPNS on every
recvmsg; a response's time is that of the read that completed it), not
the moment this process got round to it: with a thousand answers
arriving at once, one Python thread needs tens of milliseconds to parse
them, which must not count as nrmd's latency.

seed     POST /v1/signals COUNT times, round-robin over the regions'
         municipalities (each answer must be 201 in that region).
wakeup   WAITERS long-polls (GET /v1/inbox?wait=W&after=A, one per
         connection) over the coordinators of FILE: all but
         COLD_EACH * (regions - 1) in the first region, COLD_EACH in each
         other.  Then SIGNALS times: wait until nrmd holds every
         long-poll and its database queue is empty, POST one signal to a
         region (the busy one, every fifth signal another), time the
         201's arrival and every answer of that region's waiters,
         re-arm them with the answer's "after".  Writes per signal:
         region, signal id, 201 time, answer times; the caller adds the
         commit times (pg_xact_commit_timestamp) and the summary.
memory   reads nrmd's VmRSS, opens CONNS connections with one long-poll
         each (wait=W) of the keys of FILE but the first (regions that
         get no case meanwhile), in batches, each opened in waves (a
         wave's connections accepted and their requests sent before the
         next), each batch waited for until nrmd holds it and its
         database queue is empty, reading VmRSS after every batch; then
         closes them all and follows VmRSS, the number of long-polls
         held and /readyz for a while.
"""
import argparse
import csv
import errno
import http.client
import json
import os
import selectors
import socket
import struct
import sys
import time
import urllib.parse

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
CMSG_LEN = socket.CMSG_SPACE(16)
BODY_PATH = "bench/body.json"
MUNICIPALITIES = "config/routing/municipalities.csv"


def die(msg):
    sys.exit("longpoll.py: %s" % msg)


# ---------------------------------------------------------------------
# blocking helpers (set-up, metrics): http.client, one connection each


class Blocking:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.c = None

    def request(self, method, path, token=None, body=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            h["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port,
                                                    timeout=30)
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                return r.status, data
            except (ConnectionError, http.client.HTTPException):
                self.c.close()
                self.c = None
                if attempt == 2:
                    raise
        return None

    def metrics(self):
        st, data = self.request("GET", "/metrics")
        if st != 200:
            die("GET /metrics answered %d" % st)
        m = {}
        for line in data.decode().splitlines():
            if line.startswith("#") or " " not in line:
                continue
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
        return m


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    die("no VmRSS for pid %d" % pid)
    return 0


def n_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def close_wait(port):
    """Sockets of nrmd's port in CLOSE_WAIT (the client closed, nrmd did
    not), from /proc/net/tcp."""
    n = 0
    want = ":%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if p[1].endswith(want) and p[3] == "08":
                n += 1
    return n


def municipalities():
    """One municipality per region: the first in the CSV (VR13:
    GM0363, the one of bench/body.json)."""
    out = {}
    with open(MUNICIPALITIES, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["safety_region_code"], row["municipality_code"])
    out["VR13"] = "GM0363"
    return out


def signal_body(muni):
    with open(BODY_PATH, encoding="utf-8") as f:
        body = json.load(f)
    body["location"] = {"municipality_code": muni}
    return json.dumps(body, separators=(",", ":")).encode()


def read_keys(path):
    keys = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                region, token = line.split()
                keys.append((region, token))
    if not keys:
        die("no keys in %s" % path)
    return keys


def reporter_token():
    t = os.environ.get("BENCH_TOKEN", "")
    if not t.startswith("nrm_"):
        die("BENCH_TOKEN is not set")
    return t


def watermark(b, token):
    st, data = b.request("GET", "/v1/inbox?limit=1", token)
    if st != 200:
        die("GET /v1/inbox answered %d: %s" % (st, data[:300]))
    return json.loads(data)["after"]


def pct(v, p):
    """Nearest-rank percentile of a sorted list."""
    if not v:
        return float("nan")
    i = max(0, min(len(v) - 1, int(len(v) * p / 100.0 + 0.999999) - 1))
    return v[i]


# ---------------------------------------------------------------------
# the non-blocking client


class Conn:
    __slots__ = ("sock", "inbuf", "outbuf", "connected", "cb", "key",
                 "region", "token", "after", "armed", "idx", "closed",
                 "answered", "t_sent")

    def __init__(self, sock, idx):
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = b""
        self.connected = False
        self.cb = None
        self.key = None
        self.region = None
        self.token = None
        self.after = None
        self.armed = False
        self.idx = idx
        self.closed = False
        self.answered = None
        self.t_sent = 0.0


class Client:
    """Many keep-alive connections; on_response(conn, status, body, ts)."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.addr = (u.hostname, u.port)
        self.sel = selectors.DefaultSelector()
        self.conns = []
        self.errors = 0
        self.error_sample = ""

    def open(self, n):
        new = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            c = Conn(s, len(self.conns))
            rc = s.connect_ex(self.addr)
            if rc == 0:
                c.connected = True
                self.sel.register(s, selectors.EVENT_READ, c)
            elif rc in (errno.EINPROGRESS, errno.EAGAIN):
                self.sel.register(s, selectors.EVENT_WRITE, c)
            else:
                die("connect: %s" % os.strerror(rc))
            self.conns.append(c)
            new.append(c)
        return new

    def _events(self, c):
        ev = selectors.EVENT_READ
        if not c.connected or c.outbuf:
            ev |= selectors.EVENT_WRITE
        return ev

    def send(self, c, data):
        c.outbuf += data
        c.t_sent = time.time()
        if c.connected:
            self._flush(c)
        self.sel.modify(c.sock, self._events(c), c)

    def _flush(self, c):
        while c.outbuf:
            try:
                n = c.sock.send(c.outbuf)
            except BlockingIOError:
                return
            except OSError as e:
                self._fail(c, "send: %s" % e)
                return
            c.outbuf = c.outbuf[n:]

    def _fail(self, c, why):
        self.errors += 1
        if not self.error_sample:
            self.error_sample = why
        self.close(c)

    def close(self, c):
        if c.closed:
            return
        c.closed = True
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()

    def poll(self, timeout):
        for k, ev in self.sel.select(timeout):
            c = k.data
            if c.closed:
                continue
            if ev & selectors.EVENT_WRITE:
                if not c.connected:
                    err = c.sock.getsockopt(socket.SOL_SOCKET,
                                            socket.SO_ERROR)
                    if err:
                        self._fail(c, "connect: %s" % os.strerror(err))
                        continue
                    c.connected = True
                self._flush(c)
                if not c.closed:
                    self.sel.modify(c.sock, self._events(c), c)
            if ev & selectors.EVENT_READ and not c.closed:
                self._read(c)

    def _read(self, c):
        while True:
            try:
                data, anc, _, _ = c.sock.recvmsg(65536, CMSG_LEN)
            except BlockingIOError:
                return
            except OSError as e:
                self._fail(c, "recv: %s" % e)
                return
            if not data:
                self._fail(c, "nrmd closed a connection")
                return
            ts = time.time()
            for lvl, typ, d in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, ns = struct.unpack("qq", d[:16])
                    ts = sec + ns / 1e9
            c.inbuf += data
            self._parse(c, ts)
            if c.closed:
                return

    def _parse(self, c, ts):
        while True:
            end = c.inbuf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(c.inbuf[:end]).decode("latin-1").split("\r\n")
            try:
                status = int(head[0].split(" ", 2)[1])
            except (IndexError, ValueError):
                self._fail(c, "bad status line %r" % head[0])
                return
            length = None
            for h in head[1:]:
                k, _, v = h.partition(":")
                k = k.strip().lower()
                if k == "content-length":
                    length = int(v.strip())
                elif k == "transfer-encoding":
                    self._fail(c, "chunked answers are not expected")
                    return
            if length is None:
                length = 0
            if len(c.inbuf) < end + 4 + length:
                return
            body = bytes(c.inbuf[end + 4:end + 4 + length])
            del c.inbuf[:end + 4 + length]
            cb, c.cb = c.cb, None
            if cb is None:
                self._fail(c, "an answer nobody asked for: %d %r" %
                           (status, body[:200]))
                return
            cb(c, status, body, ts)

    def run_until(self, done, timeout):
        end = time.time() + timeout
        while not done():
            left = end - time.time()
            if left <= 0:
                return False
            self.poll(min(left, 0.05))
        return True


def req(method, path, token, body=None, extra=""):
    h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n" \
        % (method, path, token)
    if body is not None:
        h += "Content-Type: application/json\r\nContent-Length: %d\r\n" \
            % len(body)
    h += extra + "\r\n"
    return h.encode() + (body or b"")


def quiesce(b, cl, want_waiting, min_queries, timeout):
    """Until nrmd holds want_waiting long-polls and has sent at least
    min_queries queries in all, with no new query for 60 ms (its queue
    is empty), keeping the client's loop turning.  The metrics then.
    An nrmd that queues the long-polls' queries (and sends one per group
    of waiters with the same filters) reports nrm_inbox_longpolls_queued:
    then no long-poll waiting for its query replaces min_queries."""
    end = time.time() + timeout
    prev = None
    m = None
    while time.time() < end:
        m = b.metrics()
        q = m["nrm_db_queries_total"]
        sent = m["nrm_inbox_longpolls_queued"] == 0 and \
            m["nrm_db_queue_length"] == 0 \
            if "nrm_inbox_longpolls_queued" in m else q >= min_queries
        if m["nrm_inbox_longpolls_waiting"] == want_waiting and sent:
            if prev == q:
                return m
            prev = q
        else:
            prev = None
        cl.poll(0.06)
    die("nrmd did not settle in %d s: %d long-polls waiting (want %d), "
        "%d queries (want >= %d); client errors %d %s" %
        (timeout, m["nrm_inbox_longpolls_waiting"], want_waiting,
         m["nrm_db_queries_total"], min_queries, cl.errors,
         cl.error_sample))
    return m


# ---------------------------------------------------------------------
# seed


def cmd_seed(a):
    token = reporter_token()
    muni = municipalities()
    b = Blocking(a.url)
    body = {r: signal_body(muni[r]) for r in a.region}
    for i in range(a.count):
        r = a.region[i % len(a.region)]
        st, data = b.request("POST", "/v1/signals", token, body[r],
                             {"Idempotency-Key": "seed-%s-%d" % (a.tag, i)})
        if st != 201:
            die("seed: POST /v1/signals answered %d: %s" % (st, data[:300]))
        got = json.loads(data).get("region")
        if got != r:
            die("seed: a signal for %s was routed to %s" % (r, got))


# ---------------------------------------------------------------------
# wakeup


def cmd_wakeup(a):
    rtoken = reporter_token()
    keys = read_keys(a.keys)
    muni = municipalities()
    b = Blocking(a.url)
    hot = keys[0][0]
    colds = [k[0] for k in keys[1:]]
    n_cold = a.cold_each * len(colds)
    if a.waiters <= n_cold:
        die("--waiters must exceed --cold-each * (regions - 1)")
    plan = [keys[0]] * (a.waiters - n_cold)
    for k in keys[1:]:
        plan += [k] * a.cold_each
    wm = {r: watermark(b, t) for r, t in keys}

    cl = Client(a.url)
    results = []
    cur = {"answers": [], "bad": 0, "bad_sample": "", "spurious": 0,
           "region": None, "case_id": None, "expired": 0}

    def on_answer(c, status, body, ts):
        c.armed = False
        ok = status == 200
        items = []
        if ok:
            try:
                page = json.loads(body)
                items = page["items"]
                c.after = page["after"]
            except (ValueError, KeyError, TypeError):
                ok = False
        if not ok:
            cur["bad"] += 1
            if not cur["bad_sample"]:
                cur["bad_sample"] = "%d %r" % (status, body[:300])
                print("longpoll.py: a long-poll answered %s (region %s)" %
                      (cur["bad_sample"], c.region), file=sys.stderr)
            return
        if not items:
            # The wait ran out (a region without a signal for 60 s):
            # re-arm at once, as a client does.
            cur["expired"] += 1
            arm(c)
            return
        if c.region != cur["region"]:
            cur["spurious"] += 1
            return
        if cur["case_id"] is not None and \
                cur["case_id"] not in (it.get("case_id") for it in items):
            cur["bad"] += 1
            if not cur["bad_sample"]:
                cur["bad_sample"] = "the answer lacks the new case"
        c.answered = ts
        cur["answers"].append(ts)

    def arm(c):
        c.cb = on_answer
        c.armed = True
        c.answered = None
        cl.send(c, req("GET", "/v1/inbox?wait=%d&after=%s" %
                       (a.wait, c.after), c.token))

    conns = []
    batch = 250
    base_q = b.metrics()["nrm_db_queries_total"]
    for i in range(0, len(plan), batch):
        new = cl.open(min(batch, len(plan) - i))
        for c, (region, token) in zip(new, plan[i:i + batch]):
            c.region, c.token, c.after = region, token, wm[region]
            arm(c)
        conns += new
        quiesce(b, cl, len(conns), base_q + len(conns), 30)
    if cl.errors:
        die("client errors while arming: %d %s" % (cl.errors,
                                                   cl.error_sample))
    by_region = {}
    for c in conns:
        by_region.setdefault(c.region, []).append(c)

    poster = cl.open(1)[0]
    post_state = {}

    def on_post(c, status, body, ts):
        post_state["status"] = status
        post_state["ts"] = ts
        post_state["body"] = body

    for i in range(a.signals):
        region = hot if i % 5 != 4 else colds[(i // 5) % len(colds)]
        waiters = by_region[region]
        m0 = b.metrics()
        cur.update(answers=[], region=region, case_id=None)
        post_state.clear()
        poster.cb = on_post
        body = signal_body(muni[region])
        cl.send(poster, req("POST", "/v1/signals", rtoken, body,
                            "Idempotency-Key: wakeup-%d-%d\r\n" %
                            (os.getpid(), i)))
        ok = cl.run_until(lambda: "status" in post_state and
                          all(not w.armed for w in waiters), a.timeout)
        if post_state.get("status") != 201:
            die("POST /v1/signals answered %s: %r" %
                (post_state.get("status"), post_state.get("body", b"")[:300]))
        rec = json.loads(post_state["body"])
        if rec.get("region") != region:
            die("the signal for %s was routed to %s" % (region,
                                                        rec.get("region")))
        cur["case_id"] = rec.get("case_id")
        missing = sum(1 for w in waiters if w.armed)
        m1 = b.metrics()
        results.append({
            "signal_id": rec["signal_id"], "case_id": rec["case_id"],
            "region": region, "waiters": len(waiters), "missing": missing,
            "t201": post_state["ts"], "answers": cur["answers"][:],
            "queries": m1["nrm_db_queries_total"] -
            m0["nrm_db_queries_total"],
            "wakeups": m1["nrm_inbox_wakeups_total"] -
            m0["nrm_inbox_wakeups_total"]})
        if not ok or missing:
            print("longpoll.py: signal %d (%s): %d of %d waiters did not "
                  "answer within %d s" % (i, region, missing, len(waiters),
                                          a.timeout), file=sys.stderr)
        # The answer's items came with the new watermark: re-arm.
        q0 = m1["nrm_db_queries_total"]
        rearm = [c for c in conns if not c.armed and not c.closed]
        for c in rearm:
            arm(c)
        quiesce(b, cl, len(conns), q0 + len(rearm), 30)
        if cl.errors:
            die("client errors: %d %s" % (cl.errors, cl.error_sample))

    out = {"waiters": len(conns),
           "per_region": {r: len(v) for r, v in by_region.items()},
           "hot": hot, "bad": cur["bad"], "bad_sample": cur["bad_sample"],
           "spurious": cur["spurious"], "expired": cur["expired"],
           "signals": results}
    with open(a.out, "w") as f:
        json.dump(out, f)
    for c in conns + [poster]:
        cl.close(c)


# ---------------------------------------------------------------------
# memory


def cmd_memory(a):
    keys = read_keys(a.keys)
    b = Blocking(a.url)
    wm = {r: watermark(b, t) for r, t in keys}
    cl = Client(a.url)
    answered = {"n": 0, "sample": ""}

    def on_answer(c, status, body, ts):
        c.armed = False
        answered["n"] += 1
        if not answered["sample"]:
            answered["sample"] = "%d %r" % (status, body[:200])

    time.sleep(0.5)
    m = b.metrics()
    rss0 = rss_kib(a.pid)
    fd0 = n_fds(a.pid)
    steps = [{"conns": 0, "rss_kib": rss0, "fds": fd0, "t": 0.0}]
    conns = []
    t0 = time.time()
    base_q = m["nrm_db_queries_total"]
    # The regions that get no case while the long-polls are held (the
    # first, the busy one, gets the wake-up check's signal afterwards).
    quiet = keys[1:] or keys
    i = 0
    while len(conns) < a.conns:
        n = min(a.batch, a.conns - len(conns))
        batch = []
        # In waves: nrmd holds each wave's long-polls before the next
        # opens, so its accept queue (the listen backlog) never
        # overflows and no SYN or request waits for a retransmission
        # (seconds, doubling), which a loaded machine turned into
        # handshake_timeout closes.
        while len(batch) < n:
            new = cl.open(min(a.wave, n - len(batch)))
            for c in new:
                region, token = quiet[i % len(quiet)]
                i += 1
                c.region, c.token, c.after = region, token, wm[region]
                c.cb = on_answer
                c.armed = True
                cl.send(c, req("GET", "/v1/inbox?wait=%d&after=%s" %
                               (a.wait, c.after), token))
            batch += new
            want = len(conns) + len(batch)
            end = time.time() + 60
            while b.metrics()["nrm_inbox_longpolls_waiting"] < want:
                if cl.errors or answered["n"] or time.time() > end:
                    die("a wave of %d long-polls was not held in 60 s "
                        "(%d held of %d): %d client errors (%s), %d "
                        "answers (%s)" % (len(new), b.metrics()[
                            "nrm_inbox_longpolls_waiting"], want,
                            cl.errors, cl.error_sample, answered["n"],
                            answered["sample"]))
                cl.poll(0.02)
        conns += batch
        quiesce(b, cl, len(conns), base_q + len(conns), 60)
        if cl.errors or answered["n"]:
            die("while opening: %d client errors (%s), %d early answers "
                "(%s)" % (cl.errors, cl.error_sample, answered["n"],
                          answered["sample"]))
        steps.append({"conns": len(conns), "rss_kib": rss_kib(a.pid),
                      "fds": n_fds(a.pid), "t": time.time() - t0})
    # Held: idle for a moment, then again (nothing should move).
    cl.run_until(lambda: False, a.hold)
    held = {"rss_kib": rss_kib(a.pid), "fds": n_fds(a.pid),
            "waiting": b.metrics()["nrm_inbox_longpolls_waiting"]}
    if answered["n"]:
        die("%d long-polls answered while held: %s" %
            (answered["n"], answered["sample"]))

    # Close every connection; follow nrmd until it let them go (or
    # --follow seconds).
    port = cl.addr[1]
    for c in conns:
        cl.close(c)
    t_close = time.time()
    after = []
    while True:
        time.sleep(0.5)
        mm = b.metrics()
        pt = {"t": time.time() - t_close, "rss_kib": rss_kib(a.pid),
              "fds": n_fds(a.pid),
              "waiting": mm["nrm_inbox_longpolls_waiting"],
              "inflight": mm["nrm_http_inflight"],
              "close_wait": close_wait(port)}
        after.append(pt)
        if (pt["waiting"] == 0 and pt["fds"] <= fd0 + 2) or \
                pt["t"] > a.follow:
            break
    st, _ = b.request("GET", "/readyz")
    # A long-poll still wakes: one waiter of the first region, one
    # signal there; how long its answer took after the 201.
    wake = None
    rtoken = os.environ.get("BENCH_TOKEN", "")
    if rtoken:
        region, token = keys[0]
        w = watermark(b, token)
        cl2 = Client(a.url)
        c = cl2.open(1)[0]
        got = {}

        def on_w(c, status, body, ts):
            got["status"], got["ts"] = status, ts
            got["items"] = len(json.loads(body).get("items", [])) \
                if status == 200 else -1
        c.cb = on_w
        cl2.send(c, req("GET", "/v1/inbox?wait=30&after=%s" % w, token))
        cl2.run_until(lambda: False, 1.0)
        c2 = cl2.open(1)[0]
        posted = {}

        def on_p(c, status, body, ts):
            posted["status"], posted["ts"] = status, ts
        c2.cb = on_p
        cl2.send(c2, req("POST", "/v1/signals", rtoken,
                         signal_body(municipalities()[region]),
                         "Idempotency-Key: memory-%d\r\n" % os.getpid()))
        cl2.run_until(lambda: "status" in got and "status" in posted, 30)
        wake = {"post": posted.get("status"), "status": got.get("status"),
                "items": got.get("items"),
                "ms": (got["ts"] - posted["ts"]) * 1e3
                if "ts" in got and "ts" in posted else None}
    out = {"conns": len(conns), "steps": steps, "held": held,
           "after_close": after, "readyz": st, "wake": wake}
    with open(a.out, "w") as f:
        json.dump(out, f)


# ---------------------------------------------------------------------
# summaries: one "KEY=value ..." line each, for scripts/bench-inbox.sh


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if v else float("nan")


def cmd_summary(a):
    with open(a.wakeup) as f:
        w = json.load(f)
    commit = {}
    with open(a.commits) as f:
        for line in f:
            if "|" in line:
                sid, ep = line.strip().split("|")
                commit[sid] = float(ep)
    all201, allc, hot, cold = [], [], [], []
    first, last, hq = [], [], []
    missing = 0
    recheck = 0
    for s in w["signals"]:
        # More wake-ups than the region's waiters: the backstop re-check
        # (every waiter) fell inside this signal's fan-out.
        if s["wakeups"] > s["waiters"]:
            recheck += 1
        lat = sorted((t - s["t201"]) * 1e3 for t in s["answers"])
        all201 += lat
        if s["signal_id"] in commit:
            allc += [(t - commit[s["signal_id"]]) * 1e3 for t in s["answers"]]
        missing += s["missing"]
        if s["region"] == w["hot"]:
            hot += lat
            if lat:
                first.append(lat[0])
                last.append(lat[-1])
            hq.append(s["queries"])
        else:
            cold += lat
    for v in (all201, allc, hot, cold):
        v.sort()
    ok = (w["bad"] == 0 and w["spurious"] == 0 and missing == 0 and
          len(commit) == len(w["signals"]))
    f2 = "%.2f"
    print(" ".join("%s=%s" % kv for kv in [
        ("BENCH_WAKEUP", "1"), ("waiters", w["waiters"]),
        ("hot_waiters", w["per_region"][w["hot"]]),
        ("signals", len(w["signals"])), ("pairs", len(all201)),
        ("p50_201", f2 % pct(all201, 50)), ("p90_201", f2 % pct(all201, 90)),
        ("p99_201", f2 % pct(all201, 99)), ("max_201", f2 % all201[-1]),
        ("min_201", f2 % all201[0]),
        ("p50_commit", f2 % pct(allc, 50)),
        ("p99_commit", f2 % pct(allc, 99)),
        ("min_commit", f2 % (allc[0] if allc else float("nan"))),
        ("hot_p50", f2 % pct(hot, 50)), ("hot_p99", f2 % pct(hot, 99)),
        ("cold_p50", f2 % pct(cold, 50)), ("cold_p99", f2 % pct(cold, 99)),
        ("hot_first", f2 % median(first)), ("hot_last", f2 % median(last)),
        ("hot_queries", "%.0f" % median(hq)), ("recheck_rounds", recheck),
        ("missing", missing), ("bad", w["bad"]),
        ("spurious", w["spurious"]), ("expired", w["expired"]),
        ("commits", len(commit)), ("ok", int(ok))]))
    if w["bad"]:
        print("longpoll.py: first bad answer: %s" % w["bad_sample"],
              file=sys.stderr)


def cmd_memsummary(a):
    with open(a.memory) as f:
        m = json.load(f)
    steps = m["steps"]
    n = m["conns"]
    rss0 = steps[0]["rss_kib"]
    held = m["held"]["rss_kib"]
    mid = steps[len(steps) // 2]
    end = steps[-1]
    slope = (end["rss_kib"] - mid["rss_kib"]) / max(1, end["conns"] -
                                                  mid["conns"])
    after = m["after_close"]
    released = next(("%.1f" % p["t"] for p in after if p["waiting"] == 0),
                    "no(>%.0fs)" % after[-1]["t"])
    wake = m["wake"]
    wake_ok = wake is not None and wake["post"] == 201 and \
        wake["status"] == 200 and (wake["items"] or 0) >= 1
    ok = m["readyz"] == 200 and wake_ok
    print(" ".join("%s=%s" % kv for kv in [
        ("BENCH_MEMORY", "1"), ("conns", n), ("rss0", rss0),
        ("rss_held", held), ("per_conn_kib", "%.2f" % ((held - rss0) / n)),
        ("slope_kib", "%.2f" % slope), ("fds0", steps[0]["fds"]),
        ("fds_held", m["held"]["fds"]),
        ("rss_end", after[-1]["rss_kib"]), ("released_s", released),
        ("waiting_end", "%d" % after[-1]["waiting"]),
        ("close_wait_end", after[-1]["close_wait"]),
        ("wake_ms", "%.1f" % wake["ms"] if wake and wake["ms"] is not None
         else "-"),
        ("fds_end", after[-1]["fds"]), ("readyz", m["readyz"]),
        ("wake", "ok" if wake_ok else "FAILED"), ("ok", int(ok))]))
    print("longpoll.py: VmRSS KiB by connections held: " + ", ".join(
        "%d:%d" % (s["conns"], s["rss_kib"]) for s in steps) +
        "; after closing (s:KiB/held): " + ", ".join(
        "%.1f:%d/%d" % (p["t"], p["rss_kib"], p["waiting"]) for p in after),
        file=sys.stderr)


def load_parser(sub, name, wait, **numbers):
    """A sub-command that holds long-polls: --url, --keys, --out, --wait
    (seconds, default `wait`) and an option per `numbers` entry
    (name=default; the default's type is the option's)."""
    p = sub.add_parser(name)
    for opt in ("--url", "--keys", "--out"):
        p.add_argument(opt, required=True)
    p.add_argument("--wait", type=int, default=wait)
    for opt, default in numbers.items():
        p.add_argument("--" + opt.replace("_", "-"), type=type(default),
                       default=default)
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--url", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--region", action="append", required=True)
    s.add_argument("--tag", default="s")
    load_parser(sub, "wakeup", 60, waiters=1000, cold_each=10, signals=30,
                timeout=10)
    m = load_parser(sub, "memory", 300, conns=10000, batch=1000, wave=100,
                    hold=2.0, follow=10.0)
    m.add_argument("--pid", type=int, required=True)
    s = sub.add_parser("summary")
    s.add_argument("wakeup")
    s.add_argument("commits")
    s = sub.add_parser("memsummary")
    s.add_argument("memory")
    a = ap.parse_args()
    {"seed": cmd_seed, "wakeup": cmd_wakeup, "memory": cmd_memory,
     "summary": cmd_summary, "memsummary": cmd_memsummary}[a.cmd](a)


if __name__ == "__main__":
    main()
