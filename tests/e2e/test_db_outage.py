"""Availability: PostgreSQL stopped and restarted under load, and a schema
that is behind what nrmd was built for (numbered migrations or api
functions)."""

import re
import threading
import time
import uuid

import requests

from nrm_e2e.api import assert_problem, assert_receipt, post_signal, wait_http
from nrm_e2e.env import wait_for
from nrm_e2e.sealed import signal_ids_by_reference
from nrm_e2e.signals import adult_signal


def readyz(d):
    try:
        return requests.get(d.url + "/readyz", timeout=5)
    except requests.RequestException:
        return None


def test_postgres_restart_while_submitting(nrmd_factory, cluster, keys,
                                           pki):
    d = nrmd_factory(config={"db_reconnect_max": 1, "retry_after": 2,
                             "db_connect_timeout": 2,
                             "db_query_timeout": 3})
    tok = keys["reporter"].token
    stop = threading.Event()
    results = []  # (phase, reference, status or exception, response)
    phase = ["up"]

    def client():
        s = requests.Session()
        while not stop.is_set():
            body = adult_signal()
            ref = body["reporter_reference"]
            try:
                r = post_signal(d, tok, body, session=s, timeout=15)
                results.append((phase[0], ref, r.status_code, r))
            except requests.RequestException as e:
                results.append((phase[0], ref, e, None))
                s.close()
                s = requests.Session()
            time.sleep(0.02)
        s.close()

    t = threading.Thread(target=client)
    t.start()
    try:
        wait_for(lambda: sum(1 for x in results if x[2] == 201) >= 3, 10,
                 what="first 201s")
        phase[0] = "stopping"
        cluster.stop()
        phase[0] = "down"
        # /readyz goes 503 while the database is down; /healthz stays up
        r = wait_http(d, "/readyz", 503, 10, "database down")
        assert_problem(r, 503, r.json()["type"].rsplit(":", 1)[1])
        assert r.headers.get("Retry-After") == "2"
        h = requests.get(d.url + "/healthz", timeout=5)
        assert h.status_code == 200 and h.json() == {"status": "ok"}
        # the client keeps submitting for a while against a dead database
        n_down = len(results)
        wait_for(lambda: len(results) >= n_down + 3, 10,
                 what="answers while down")
        time.sleep(0.5)
        phase[0] = "starting"
        cluster.pg("start", cluster.dir, cluster.port)
        phase[0] = "restarted"
        wait_http(d, "/readyz", 200, 15, "database restarted")
        n_up = sum(1 for x in results if x[2] == 201)
        wait_for(lambda: sum(1 for x in results if x[2] == 201) >= n_up + 3,
                 10, what="201s after restart")
    finally:
        stop.set()
        t.join(30)
        cluster.pg("start", cluster.dir, cluster.port)

    d.assert_running()
    # issue 21: the server's FATAL on each pooled connection is a
    # structured line with its severity and SQLSTATE (57P01: admin
    # shutdown), never libpq's raw text on stderr, and the loss is
    # logged with that SQLSTATE and without the server's message
    log = d.log_text()
    assert "terminating connection" not in log, log[-3000:]
    assert "detail=" not in log
    lines = "\n".join(x for x in log.splitlines()
                      if "notice" in x or "lost" in x)
    assert re.search(r'msg="database notice" who=nrmd conn=\d+ '
                     r'severity=FATAL sqlstate=57P01$', log, re.M), lines
    assert re.search(r'msg="database connection lost" conn=\d+ '
                     r"reason='[^']+' sqlstate=57P01$", log, re.M), lines
    # no request failed at the transport level: the daemon answered all
    transport = [x for x in results if not isinstance(x[2], int)]
    assert not transport, transport[:5]
    statuses = {x[2] for x in results}
    assert statuses <= {201, 503}, statuses
    down = [x for x in results if x[0] == "down"]
    assert any(x[2] == 503 for x in down), \
        "no 503 while the database was down: %s" % [x[2] for x in down]
    for _phase, _ref, status, r in results:
        if status == 503:
            p = assert_problem(r, 503, r.json()["type"].rsplit(":", 1)[1])
            assert p["type"] in ("urn:nrm:problem:unavailable",
                                 "urn:nrm:problem:timeout"), p
            assert r.headers.get("Retry-After") == "2"
    # every acknowledged signal is in the database exactly once
    acked = [x[1] for x in results if x[2] == 201]
    # the references are stored sealed (issue 15): opened with the KEK
    by_ref = signal_ids_by_reference(cluster, pki["kek"])
    found = {ref: len(by_ref[ref]) for ref in acked if ref in by_ref}
    missing = [ref for ref in acked if ref not in found]
    assert not missing, "acknowledged but not stored: %s" % missing
    dup = {ref: n for ref, n in found.items() if n != 1}
    assert not dup, "stored more than once: %s" % dup
    # and each 201 receipt names the stored signal
    for _phase, ref, status, r in results:
        if status == 201:
            sid = r.json()["signal_id"]
            assert by_ref[ref] == [sid]


def test_daemon_starts_while_database_is_down(nrmd_factory, cluster, keys):
    cluster.stop()
    try:
        d = nrmd_factory(config={"db_reconnect_max": 1}, wait_ready=False)
        d.wait_listening()
        r = readyz(d)
        assert r is not None
        assert_problem(r, 503, r.json()["type"].rsplit(":", 1)[1])
        r = post_signal(d, keys["reporter"].token, adult_signal())
        assert r.status_code == 503
        assert r.headers.get("Retry-After")
    finally:
        cluster.pg("start", cluster.dir, cluster.port)
    d.wait_ready(15)
    assert_receipt(post_signal(d, keys["reporter"].token, adult_signal()))


def test_schema_behind_is_not_ready(nrmd_factory, cluster, keys):
    d = nrmd_factory()
    backup = "public.e2e_sv_" + uuid.uuid4().hex[:8]
    top = cluster.scalar("select max(version) from nrm.schema_version")
    cluster.sql("create table %s as select * from nrm.schema_version "
                "where version = %s; "
                "delete from nrm.schema_version where version = %s"
                % (backup, top, top))
    try:
        r = wait_http(d, "/readyz", 503, 10, "schema behind")
        assert_problem(r, 503, r.json()["type"].rsplit(":", 1)[1])
        # a daemon started now is not ready either and serves no intake
        d2 = nrmd_factory(wait_ready=False)
        d2.wait_listening()
        time.sleep(1)
        r2 = readyz(d2)
        assert r2.status_code == 503
        p = post_signal(d2, keys["reporter"].token, adult_signal())
        assert p.status_code == 503, p.status_code
    finally:
        cluster.sql("insert into nrm.schema_version select * from %s; "
                    "drop table %s" % (backup, backup))
    wait_http(d, "/readyz", 200, 15, "schema restored")
    r = readyz(d)
    assert r.json() == {"status": "ready", "schema_version": int(top)}


def test_repeatable_files_differ_is_not_ready(nrmd_factory, cluster):
    """At the build's version, api functions (sql/api) other than the
    build's make /readyz 503, logged once naming sql/api; ready again
    once the record matches."""
    d = nrmd_factory()
    name, saved = cluster.scalar(
        "select name || ' ' || checksum from nrm.schema_repeatable "
        "order by name collate \"C\" limit 1").split()
    cluster.sql("update nrm.schema_repeatable set checksum = repeat('0', 64)"
                " where name = '%s'" % name)
    try:
        r = wait_http(d, "/readyz", 503, 10, "api functions differ")
        assert_problem(r, 503, r.json()["type"].rsplit(":", 1)[1])
        assert "sql/api" in r.json()["detail"]
        readyz(d)
        log = d.log_text()
        assert log.count("sql/api repeatable files") == 1, log[-2000:]
    finally:
        cluster.sql("update nrm.schema_repeatable set checksum = '%s' "
                    "where name = '%s'" % (saved, name))
    r = wait_http(d, "/readyz", 200, 15, "api functions restored")
    assert r.json()["status"] == "ready"
