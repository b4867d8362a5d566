#!/usr/bin/env python3
"""The fault battery (issue 17; docs/operations.md, "High availability").

On a pg_auto_failover formation of its own (scripts/ha.sh, loopback only)
and nrmd daemons it starts, it drives a steady load: reporters submitting
signals, each with a unique Idempotency-Key and retrying with the same key
on 503, 409 retry_later or a broken connection until answered, and
coordinators taking cases.  Each scenario injects its faults, then the
load's every request is retried until answered and the database is
checked: every 201 is exactly one stored signal with one case, no stored
signal that no client was told about, no case with two holders, every
case made overdue escalated exactly once, the audit chain verifies.  It
prints a table (and with --readme writes it between the README's
markers).  --scale short is the make check tier; full is make chaos.
"""

import argparse
import json
import os
import random
import re
import resource
import selectors
import signal
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import requests  # noqa: E402

from nrm_e2e.api import encode, signal_headers  # noqa: E402
from nrm_e2e.rawhttp import collect, open_longpoll  # noqa: E402
from nrm_e2e.env import (INDICATORS_FILE, NRMD, ROUTING_DIR,  # noqa: E402
                         clean_env, free_port, run)
from nrm_e2e.pg import Cluster, create_key, key_id  # noqa: E402
from nrm_e2e.signals import adult_signal  # noqa: E402

HA_SH = ROOT / "scripts" / "ha.sh"
PGBIN = "/usr/lib/postgresql/15/bin"

# faults per scenario: (short, full); the short scale still injects
# every kind once (a fast and an immediate restart, a failover and a
# kill -9 of the primary's postmaster)
COUNTS = {
    "pg_restart": (2, 20),
    "kill_nrmd": (3, 100),
    "failover": ((1, 1), (10, 5)),
    "listen_kill": (1, 10),
    "race3": (5, 60),
    "longpolls": (200, 10000),
}


def say(*a):
    print("chaos:", *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# the formation

class Formation(Cluster):
    """scripts/ha.sh's formation, with the e2e Cluster's SQL helpers
    (psql on the multi-host superuser string finds the primary)."""

    def __init__(self, top, port, ha_dir=None):
        self.top = Path(top)
        self.dir = Path(ha_dir) if ha_dir else self.top / "ha"
        self.port = port
        self._direct = True
        self.env = {}

    def ha(self, *args, check=True, timeout=300):
        return run([str(HA_SH), *args], env=clean_env(), check=check,
                   timeout=timeout)

    def up(self):
        self.ha("up", self.dir, self.port, timeout=600)
        out = self.ha("env", self.dir, self.port).stdout
        for line in out.splitlines():
            k, _, v = line.partition("=")
            self.env[k] = v.strip("'")
        self.nrmctl("migrate")

    def down(self, keep=False):
        self.ha("down" if keep else "drop", self.dir, check=False)

    def settled(self):
        return self.ha("settled", self.dir, check=False).returncode == 0

    def wait_settled(self, timeout=240):
        """Settled on two looks 2 s apart: right after a fault the
        monitor may not have noticed it yet, and the first look would
        see the formation as it was before."""
        t0 = time.monotonic()
        seen = False
        while time.monotonic() - t0 < timeout:
            if self.settled():
                if seen:
                    return
                seen = True
            else:
                seen = False
            time.sleep(2 if seen else 1)
        raise AssertionError("formation not settled within %ss" % timeout)

    def primary_dir(self, timeout=120):
        """The data directory of the node that is primary now, and its
        postmaster's pid (waits for a writable primary to answer)."""
        t0 = time.monotonic()
        while True:
            try:
                port = self.scalar("show port")
            except AssertionError:
                if time.monotonic() - t0 > timeout:
                    raise
                time.sleep(1)
                continue
            for node in ("node1", "node2"):
                pidfile = self.dir / node / "postmaster.pid"
                try:
                    lines = pidfile.read_text().splitlines()
                except OSError:
                    continue
                if len(lines) > 3 and lines[3].strip() == port:
                    return self.dir / node, int(lines[0])
            raise AssertionError("no node serves port %s" % port)


# --------------------------------------------------------------------------
# daemons

class Nrmd:
    def __init__(self, top, db, name, extra=None):
        self.top = top
        self.db = db
        self.name = name
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(top / ("%s.log" % name), "ab")
        self.extra = extra or {}
        self.proc = None

    def env(self):
        e = clean_env({
            "NRM_LISTEN": "127.0.0.1:%d" % self.port,
            "NRM_LISTEN_TLS": "",
            "NRM_DATABASE_URL": self.db.app_url,
            "NRM_DB_SYNCHRONOUS": "require",
            "NRM_DB_CONNECT_TIMEOUT": "2",
            "NRM_DB_QUERY_TIMEOUT": "5",
            "NRM_DB_RECONNECT_MAX": "1",
            "NRM_RETRY_AFTER": "1",
            "NRM_SWEEP_INTERVAL": "1",
            "NRM_RATE_LIMIT_ADDRESS": "0",
            "NRM_RATE_LIMIT_KEY": "0",
            "NRM_MAX_CONNECTIONS": "12000",
            # one client address and one key hold every long-poll here
            # (and every connection: 127.0.0.1)
            "NRM_LONGPOLL_MAX_PER_KEY": "20000",
            "NRM_LONGPOLL_MAX_PER_ADDRESS": "20000",
            "NRM_CONN_MAX_PER_ADDRESS": "20000",
            "NRM_ROUTING_DIR": str(ROUTING_DIR),
            "NRM_INDICATORS_FILE": str(INDICATORS_FILE),
            "NRM_PSEUDONYM_KEY_FILE": str(self.top / "pseudonym.key"),
            "NRM_DATA_KEK_FILE": str(self.top / "data.kek"),
        })
        e.update(self.extra)
        return e

    def start(self):
        self.proc = subprocess.Popen(
            [str(NRMD), "--config", str(ROOT / "config" / "nrmd.conf")],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            env=self.env(), cwd=str(ROOT))
        return self

    def ready(self):
        try:
            return requests.get(self.url + "/readyz",
                                timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout=120):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.ready():
                return
            time.sleep(0.2)
        raise AssertionError("%s not ready within %ss" % (self.name,
                                                           timeout))

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------
# the load

class Request:
    __slots__ = ("idem", "body", "t0", "t_ack", "signal_id", "tries",
                 "final")

    def __init__(self):
        self.idem = "chaos-" + uuid.uuid4().hex
        self.body = adult_signal()
        self.t0 = None
        self.t_ack = None
        self.signal_id = None
        self.tries = 0
        self.final = None  # a final non-2xx answer (must not happen)


class Load:
    """Reporters (with retries) and coordinators taking cases."""

    RETRYABLE = (409, 502, 503, 504)

    def __init__(self, daemons, reporter, coordinators, n_reporters=3):
        self.daemons = daemons
        self.reporter = reporter
        self.coordinators = coordinators
        self.n_reporters = n_reporters
        self.requests = []
        self.lock = threading.Lock()
        self.stop_new = threading.Event()
        self.stop_all = threading.Event()
        self.threads = []
        self.takes = {}  # case id -> [coordinator index of each 200]

    def live(self):
        return [d for d in self.daemons
                if d.proc is not None and d.proc.poll() is None]

    def submit(self, req, session):
        """Until answered (or stop_all): the same key every time."""
        if req.t0 is None:
            req.t0 = time.monotonic()
        while not self.stop_all.is_set():
            live = self.live()
            if not live:
                time.sleep(0.1)
                continue
            d = random.choice(live)
            req.tries += 1
            try:
                r = session.post(
                    d.url + "/v1/signals", data=encode(req.body),
                    headers=signal_headers(self.reporter.token, req.idem),
                    timeout=20)
            except requests.RequestException:
                session.close()
                time.sleep(0.2)
                continue
            if r.status_code == 201:
                req.signal_id = r.json()["signal_id"]
                req.t_ack = time.monotonic()
                return True
            if r.status_code in self.RETRYABLE:
                time.sleep(0.2)
                continue
            req.final = r.status_code
            return False
        return False

    def reporter_loop(self):
        s = requests.Session()
        while not self.stop_new.is_set():
            req = Request()
            with self.lock:
                self.requests.append(req)
            self.submit(req, s)
            time.sleep(0.05)

    def coordinator_loop(self, i):
        s = requests.Session()
        key = self.coordinators[i]
        while not self.stop_new.is_set():
            live = self.live()
            if not live:
                time.sleep(0.2)
                continue
            d = random.choice(live)
            try:
                r = s.get(d.url + "/v1/inbox",
                          params={"state": "open", "limit": 5},
                          headers={"Authorization": "Bearer " + key.token},
                          timeout=10)
                if r.status_code != 200:
                    time.sleep(0.3)
                    continue
                for it in r.json().get("items", [])[:2]:
                    cid = it["case_id"]
                    t = s.post(d.url + "/v1/cases/%s/take" % cid,
                               headers={"Authorization":
                                        "Bearer " + key.token},
                               timeout=10)
                    if t.status_code == 200:
                        with self.lock:
                            self.takes.setdefault(cid, []).append(i)
            except requests.RequestException:
                s.close()
            time.sleep(0.3)

    def start(self):
        for _ in range(self.n_reporters):
            self.threads.append(threading.Thread(target=self.reporter_loop,
                                                 daemon=True))
        for i in range(len(self.coordinators)):
            self.threads.append(threading.Thread(
                target=self.coordinator_loop, args=(i,), daemon=True))
        for t in self.threads:
            t.start()

    def finish(self, timeout=180):
        """Stop new requests; every one started is retried until
        answered (a retry must find what a lost answer stored)."""
        self.stop_new.set()
        t0 = time.monotonic()
        for t in self.threads:
            t.join(max(1, timeout - (time.monotonic() - t0)))
        s = requests.Session()
        for req in list(self.requests):
            if req.signal_id is None and req.final is None:
                self.submit(req, s)
        self.stop_all.set()


# --------------------------------------------------------------------------
# checks against the database

def id_list(xs):
    return "'{%s}'" % ",".join(xs) if xs else "'{}'"


def make_overdue(db, rep_id, n=3):
    """n open cases of this reporter past their take deadline (the e2e
    clock trick: created_at moves back with take_by)."""
    rows = db.sql(
        "select c.id from care.case c join intake.signal s "
        "on s.id = c.signal_id where s.api_key_id = '%s' and "
        "c.state = 'open' and c.region_code <> 'NATIONAL' limit %d"
        % (rep_id, n))
    ids = [r[0] for r in rows]
    if ids:
        db.sql("update care.case set created_at = created_at - "
               "interval '1 hour', take_by = now() - interval '1 minute' "
               "where id = any(%s) and state = 'open'" % id_list(ids))
    return ids


def check(db, load, rep_id, overdue):
    """The laws; returns (counts, failures)."""
    fails = []
    reqs = load.requests
    acked = {r.idem: r.signal_id for r in reqs if r.signal_id}
    finals = [r.final for r in reqs if r.final is not None]
    if finals:
        fails.append("final non-2xx answers: %s" % sorted(set(finals)))
    unanswered = [r for r in reqs if r.signal_id is None and r.final is None]
    if unanswered:
        fails.append("%d requests never answered" % len(unanswered))
    stored = {r[0] for r in db.sql(
        "select id from intake.signal where api_key_id = '%s'" % rep_id)}
    idem = {r[0]: r[1] for r in db.sql(
        "select idem_key, response->'body'->>'signal_id' "
        "from intake.idempotency "
        "where api_key_id = '%s'" % rep_id)}
    lost = [k for k, sid in acked.items() if sid not in stored]
    wrong = [k for k, sid in acked.items() if idem.get(k) != sid]
    unaccounted = stored - set(acked.values())
    dup = len(stored) - len(set(acked.values()))
    if lost:
        fails.append("%d acknowledged signals lost" % len(lost))
    if wrong:
        fails.append("%d keys whose stored answer differs" % len(wrong))
    if unaccounted:
        fails.append("%d stored signals no client was told about"
                     % len(unaccounted))
    bad_cases = db.count(
        "select count(*) from intake.signal s where s.api_key_id = '%s' "
        "and (select count(*) from care.case c where c.signal_id = s.id) "
        "<> 1" % rep_id)
    if bad_cases:
        fails.append("%d signals without exactly one case" % bad_cases)
    two = db.count(
        "select count(*) from (select h.case_id from care.case_history h "
        "join care.case c on c.id = h.case_id join intake.signal s on "
        "s.id = c.signal_id where s.api_key_id = '%s' and h.action = "
        "'taken' group by h.case_id having count(*) > 1) x" % rep_id)
    seen_two = sum(1 for v in load.takes.values() if len(v) > 1)
    if two or seen_two:
        fails.append("cases taken twice: %d stored, %d answered"
                     % (two, seen_two))
    if overdue:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            n = db.count("select count(distinct case_id) from "
                         "care.escalation where case_id = any(%s)"
                         % id_list(overdue))
            if n == len(overdue):
                break
            time.sleep(0.5)
        time.sleep(2)  # more sweeps: still once
        rows = db.sql(
            "select c.id, (select count(*) from care.escalation e "
            "where e.case_id = c.id), (select count(*) from "
            "care.case_history h where h.case_id = c.id and h.action = "
            "'escalated') from care.case c where c.id = any(%s)"
            % id_list(overdue))
        bad = [r for r in rows if r[1] != "1" or r[2] != "1"]
        if bad:
            fails.append("%d overdue cases not escalated exactly once"
                         % len(bad))
    v = db.nrmctl("audit", "verify", check=False)
    if v.returncode != 0:
        fails.append("nrmctl audit verify failed: %s"
                     % (v.stdout + v.stderr).strip()[-300:])
    longest = max([r.t_ack - r.t0 for r in reqs if r.t_ack] or [0])
    return {"requests": len(reqs), "acknowledged": len(acked),
            "lost": len(lost), "duplicated": max(dup, 0) + len(wrong),
            "longest": longest}, fails


# --------------------------------------------------------------------------
# scenarios: each returns the number of faults injected

def pg_ctl(args):
    return run(["runuser", "-u", "postgres", "--", PGBIN + "/pg_ctl",
                *args], env=clean_env(), check=False, timeout=180)


def sc_pg_restart(b, n):
    # pg_ctl runs as the postgres OS user and the server it starts
    # writes this log: it must be that user's to write, or the restart
    # stops the server and fails to start it again (the keeper and the
    # monitor then recover it, a failover later: minutes, not seconds).
    log = b.top / "restart.log"
    log.touch()
    shutil.chown(log, user="postgres")
    for i in range(n):
        b.db.wait_settled()
        data, pid = b.db.primary_dir()
        mode = "fast" if i % 2 == 0 else "immediate"
        fail = pg_restart(data, pid, mode, log)
        b.db.wait_settled()
        if fail:
            b.extra_fails.append("pg_ctl restart (%s) failed: %s" % (
                mode, fail[-200:]))
        b.wait_ready()
        time.sleep(1)
    return n


def pid_alive(pid):
    """A process that runs (a zombie its parent has not reaped yet has
    stopped: it counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def postmaster_of(data):
    try:
        return int((data / "postmaster.pid").read_text().split("\n")[0])
    except (OSError, ValueError):
        return None


def new_postmaster(data, pid, timeout):
    """The pid of a live postmaster in data other than pid, waiting up
    to timeout seconds for one; None when none came."""
    t0 = time.monotonic()
    while True:
        now = postmaster_of(data)
        if now is not None and now != pid and pid_alive(now):
            return now
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(0.1)


def pg_restart(data, pid, mode, log):
    """Stop the server in data (postmaster pid) in mode and have it
    start again; None when a new postmaster runs there, else what went
    wrong.  On a pg_auto_failover node the keeper supervises postgres
    and starts it again as soon as it stops: that is how a restart
    happens there, and racing it with `pg_ctl start` (or `pg_ctl
    restart -w`) makes one of the two postmasters fail on the lock file
    and pg_ctl report a failed start, or wait on a postmaster.pid that
    the keeper renewed ("server does not shut down").  So: signal the
    stop without waiting, wait for the old postmaster itself to be
    gone, and give the keeper 30 s to start the new one; only if it has
    not, start it with pg_ctl."""
    r = pg_ctl(["-D", str(data), "-m", mode, "-W", "stop"])
    if r.returncode != 0:
        return "pg_ctl stop: " + (r.stdout + r.stderr).strip()
    t0 = time.monotonic()
    while pid_alive(pid):
        if time.monotonic() - t0 > 120:
            return "the postmaster (pid %d) did not stop in 120 s" % pid
        time.sleep(0.05)
    if new_postmaster(data, pid, 30) is not None:
        return None
    say("pg_restart: no keeper restarted %s in 30 s: pg_ctl start"
        % data.name)
    r = pg_ctl(["-D", str(data), "-w", "-t", "120", "start", "-l",
                str(log)])
    if new_postmaster(data, pid, 30) is not None:
        return None
    return "pg_ctl start: " + (r.stdout + r.stderr).strip()


def sc_kill_nrmd(b, n):
    for _ in range(n):
        d = random.choice(b.daemons)
        d.kill9()
        time.sleep(0.2)
        d.start()
        b.wait_ready()
    return n


def sc_failover(b, counts):
    n_fo, n_kill = counts
    for _ in range(n_fo):
        b.db.wait_settled()
        b.db.ha("failover", b.db.dir, timeout=300)
        b.wait_ready()
    for _ in range(n_kill):
        b.db.wait_settled()
        _, pid = b.db.primary_dir()
        os.kill(pid, 9)
        time.sleep(3)
        b.db.wait_settled()
        b.wait_ready()
    return n_fo + n_kill


def sc_listen_kill(b, n):
    """Terminate the LISTEN backends while cases arrive; a long-poll
    waiting across the kill must still see the next case at once."""
    co = b.coordinators[0]
    d = b.daemons[0]
    slow = []
    for _ in range(n):
        after = requests.get(d.url + "/v1/inbox", params={"limit": 1},
                             headers={"Authorization": "Bearer " + co.token},
                             timeout=10).json()["after"]
        got = {}

        def poll():
            t0 = time.monotonic()
            r = requests.get(d.url + "/v1/inbox",
                             params={"after": after, "wait": 40},
                             headers={"Authorization": "Bearer " + co.token},
                             timeout=60)
            got["t"] = time.monotonic() - t0
            got["n"] = len(r.json().get("items", [])) \
                if r.status_code == 200 else -1

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)
        b.db.sql("select pg_terminate_backend(pid) from pg_stat_activity "
                 "where application_name = 'nrmd' and query like 'LISTEN%'")
        t.join(60)
        if got.get("n", 0) < 1 or got.get("t", 99) > 30:
            slow.append(got)
    if slow:
        b.extra_fails.append("long-polls that missed a case across a "
                             "LISTEN kill: %s" % slow)
    return n


def sc_race3(b, n):
    """Three daemons, three coordinators, each case taken by all at
    once: exactly one 200 per case."""
    third = Nrmd(b.top, b.db, "nrmd-3").start()
    b.daemons.append(third)
    third.wait_ready()
    time.sleep(2)
    rows = b.db.sql(
        "select c.id from care.case c join intake.signal s on "
        "s.id = c.signal_id where s.api_key_id = '%s' and c.state = 'open' "
        "and c.region_code = 'VR13' limit %d" % (b.rep_id, n))
    for (cid,) in rows:
        res = []

        def take(d, key):
            try:
                r = requests.post(d.url + "/v1/cases/%s/take" % cid,
                                  headers={"Authorization":
                                           "Bearer " + key.token},
                                  timeout=20)
                res.append(r.status_code)
            except requests.RequestException:
                res.append(0)
        ts = [threading.Thread(target=take, args=(d, k))
              for d, k in zip(b.daemons[:3], b.coordinators[:3])]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if res.count(200) > 1:
            b.extra_fails.append("case taken %d times" % res.count(200))
    return len(rows)


def sc_longpolls(b, n):
    """n long-polls held (raw sockets) while the load runs; every one
    must be answered, and the load must keep getting 201s.  They wait on
    a region the load sends nothing to (VR12; the load's cases are
    VR13's), so each is held its whole wait while the load's cases wake
    the daemons, not answered by the first new case."""
    co = b.held
    sel = selectors.DefaultSelector()
    after = requests.get(b.daemons[0].url + "/v1/inbox",
                         params={"limit": 1},
                         headers={"Authorization": "Bearer " + co.token},
                         timeout=10).json()["after"]
    for i in range(n):
        # wait under client_timeout (30 s), which bounds a request's
        # whole life on the connection
        s = open_longpoll(b.daemons[i % 2], co, after, 1, 20)
        sel.register(s, selectors.EVENT_READ, bytearray())
    acked_before = sum(1 for r in b.load.requests if r.signal_id)
    answered = 0
    statuses = {}
    for raw in collect(sel, n, time.monotonic() + 90).values():
        m = re.match(rb"HTTP/1\.1 (\d+)", raw)
        st = int(m.group(1)) if m else 0
        statuses[st] = statuses.get(st, 0) + 1
        # answered: 200, or 503 when the pool's queue is full at the
        # wake-up (a retryable answer); never a dropped connection
        answered += 1 if st in (200, 503) else 0
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    acked_after = sum(1 for r in b.load.requests if r.signal_id)
    if answered != n:
        b.extra_fails.append("long-polls answered: %d of %d (%s)"
                             % (answered, n, statuses))
    # a 503 is an answer, not a page: say how many of each
    b.notes.append("%d long-polls: %d answered 200, %d answered 503, "
                   "%d otherwise" % (n, statuses.get(200, 0),
                                     statuses.get(503, 0),
                                     n - statuses.get(200, 0) -
                                     statuses.get(503, 0)))
    if acked_after <= acked_before:
        b.extra_fails.append("no 201 while the long-polls were held")
    return n


SCENARIOS = [
    ("pg_restart", "PostgreSQL restart (fast, immediate)", sc_pg_restart),
    ("kill_nrmd", "kill -9 of an nrmd, another serving", sc_kill_nrmd),
    ("failover", "pg_autoctl perform failover; kill -9 of the primary",
     sc_failover),
    ("listen_kill", "LISTEN backend terminated while cases arrive",
     sc_listen_kill),
    ("race3", "three daemons racing for the same cases", sc_race3),
    ("longpolls", "long-polls held during load", sc_longpolls),
]


class Battery:
    tap = 0  # scenarios run, over every run

    def __init__(self, top, port, scale, ha_dir=None):
        self.top = Path(top)
        self.scale = scale
        self.db = Formation(top, port, ha_dir)
        self.daemons = []
        self.coordinators = []
        self.rows = []
        self.extra_fails = []
        self.notes = []

    def wait_ready(self, timeout=240):
        for d in self.daemons:
            if d.proc.poll() is None:
                d.wait_ready(timeout)

    def setup(self):
        for name in ("pseudonym.key", "data.kek"):
            p = self.top / name
            p.write_text(os.urandom(32).hex() + "\n")
            os.chmod(p, 0o600)
        t0 = time.monotonic()
        self.db.up()
        say("formation up in %.0fs" % (time.monotonic() - t0))
        tag = uuid.uuid4().hex[:6]
        self.coordinators = [
            create_key(self.db, "coordinator", "Chaos Zorg %d %s" % (i, tag),
                       "care_agency", regions=("VR13",)) for i in range(3)]
        self.held = create_key(self.db, "coordinator",
                               "Chaos Zorg VR12 %s" % tag, "care_agency",
                               regions=("VR12",))
        self.daemons = [Nrmd(self.top, self.db, "nrmd-%d" % i).start()
                        for i in (1, 2)]
        self.wait_ready()

    def run(self, name, what, fn):
        count = COUNTS[name][0 if self.scale == "short" else 1]
        self.extra_fails = []
        self.notes = []
        rep = create_key(self.db, "reporter", "Chaos Politie " + name,
                         "police")
        self.rep_id = key_id(self.db, rep)
        self.load = Load(self.daemons, rep, self.coordinators[:2])
        t0 = time.monotonic()
        self.load.start()
        pause = 1 if self.scale == "short" else 2
        time.sleep(pause)
        faults = fn(self, count)
        time.sleep(pause)
        self.load.finish()
        self.wait_ready()
        overdue = make_overdue(self.db, self.rep_id)
        counts, fails = check(self.db, self.load, self.rep_id, overdue)
        fails += self.extra_fails
        counts.update(scenario=name, what=what, faults=faults,
                      seconds=time.monotonic() - t0, ok=not fails,
                      notes=list(self.notes))
        self.rows.append(counts)
        # a TAP line (make check counts them)
        Battery.tap += 1
        print("%sok %d - %s" % ("" if not fails else "not ", Battery.tap,
                                name), flush=True)
        say("%s: %s in %.0fs%s" % (
            name, "ok" if not fails else "FAILED",
            counts["seconds"], "".join("\n  - " + f for f in fails)
            + "".join("\n  (%s)" % t for t in self.notes)))
        # race3 added a third daemon: back to two
        while len(self.daemons) > 2:
            self.daemons.pop().stop()

    def close(self):
        """Daemons and formation stopped; the formation's directory and
        logs stay for scripts/chaos.sh, which keeps the logs of a failed
        battery and then removes it."""
        for d in self.daemons:
            d.stop()
        self.db.down(keep=True)


def table(rows, scale, runs):
    out = ["| scenario | faults | requests | acknowledged | lost | "
           "duplicated | longest recovery (s) | result |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        out.append("| %s | %d | %d | %d | %d | %d | %.1f | %s |" % (
            r["what"], r["faults"], r["requests"], r["acknowledged"],
            r["lost"], r["duplicated"], r["longest"],
            "green" if r["ok"] else "**FAILED**"))
    out.append("")
    for r in rows:
        for t in r.get("notes", ()):
            out.append("%s: %s." % (r["what"][:1].upper() + r["what"][1:], t))
            out.append("")
    out.append("Scale `%s`, %s; %s." % (
        scale, runs, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    return "\n".join(out)


def write_readme(path, text):
    s = Path(path).read_text()
    a, b = "<!-- chaos:begin -->", "<!-- chaos:end -->"
    if a not in s or b not in s:
        raise SystemExit("no %s ... %s markers in %s" % (a, b, path))
    head, rest = s.split(a, 1)
    _, tail = rest.split(b, 1)
    Path(path).write_text(head + a + "\n" + text + "\n" + b + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True,
                    help="work directory (left for the caller to remove)")
    ap.add_argument("--port", type=int, required=True,
                    help="the monitor's port (nodes: +1, +2)")
    ap.add_argument("--scale", choices=("short", "full"), default="short")
    ap.add_argument("--only", default="", help="comma-separated scenarios")
    ap.add_argument("--readme", default="", help="write the table there")
    ap.add_argument("--runs", type=int, default=1,
                    help="run the battery this many times in a row")
    ap.add_argument("--ha-dir", default="",
                    help="use (and keep) the formation there")
    ap.add_argument("--counts", default="",
                    help="JSON overriding the scale's counts")
    a = ap.parse_args()
    if a.counts:
        for k, v in json.loads(a.counts).items():
            COUNTS[k] = (v, v) if not isinstance(v, list) else (tuple(v),) * 2
    only = set(filter(None, a.only.split(",")))
    # SIGTERM (timeout, Ctrl-C from chaos.sh) unwinds: daemons stopped,
    # the formation dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # the long-polls' sockets, here and in the daemons started from here
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < \
            COUNTS["longpolls"][0 if a.scale == "short" else 1] + 1024:
        say("the descriptor limit (ulimit -n) is too low for the "
            "long-polls: %d" % resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        return 2
    t_all = time.monotonic()
    ok = True
    last = None
    for run_i in range(a.runs):
        top = Path(a.dir) / ("run-%d" % (run_i + 1))
        top.mkdir(parents=True, exist_ok=True)
        os.chmod(top, 0o755)
        b = Battery(top, a.port, a.scale, a.ha_dir or None)
        try:
            b.setup()
            for name, what, fn in SCENARIOS:
                if only and name not in only:
                    continue
                b.run(name, what, fn)
        finally:
            b.close()
        ok = ok and all(r["ok"] for r in b.rows)
        last = b.rows
        print(table(b.rows, a.scale, "run %d of %d" % (run_i + 1, a.runs)))
    took = time.monotonic() - t_all
    say("battery %s: %d run(s) in %.0fs" % ("green" if ok else "FAILED",
                                           a.runs, took))
    if a.readme and last:
        write_readme(a.readme, table(
            last, a.scale, "%d run(s) in a row, %s, %.0f s in all" % (
                a.runs, "all green" if ok else "NOT all green", took)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
