"""High availability (issue 17) without an HA engine: a multi-host
connection string that nrmd follows from one server to the next, /readyz
while no writable server is reachable, the primary-switch counter, the
db_synchronous check, and a commit the synchronous standby never
confirmed, which must not be acknowledged (docs/operations.md, "High
availability").  The formation itself (pg_auto_failover) is exercised by
scripts/chaos.sh."""

import threading
import time
import uuid

import pytest
import requests

from nrm_e2e.api import metric, post_signal, wait_http
from nrm_e2e.env import wait_for
from nrm_e2e.pg import Cluster
from nrm_e2e.signals import adult_signal


def multi_host(a, b, user="nrm_app"):
    """A keyword conninfo naming both clusters' sockets, read-write."""
    return ("host=%s,%s port=%d,%d dbname=nrm user=%s "
            "target_session_attrs=read-write" % (
                a.env["NRM_PG_SOCKDIR"], b.env["NRM_PG_SOCKDIR"],
                a.port, b.port, user))


@pytest.fixture
def second_cluster(workdir):
    with Cluster.migrated(workdir / ("second-" + uuid.uuid4().hex[:6])) as c:
        yield c


def test_multi_host_follows_the_writable_server(nrmd_factory, cluster,
                                                second_cluster):
    """nrmd takes libpq's multi-host form unchanged; when its server goes
    it reconnects to the other one, counts one switch, and re-LISTENs;
    /readyz is 503 while neither answers."""
    b = second_cluster
    d = nrmd_factory(config={"database_url": multi_host(cluster, b),
                             "db_reconnect_max": 1,
                             "db_connect_timeout": 2})
    wait_http(d, "/readyz", 200, 15, "ready on the first server")
    assert metric(d, "nrm_db_primary_switches_total") == 0
    listen0 = metric(d, "nrm_db_listen_connects_total")
    try:
        cluster.stop()
        # every connection (the pool's and the LISTEN one) finds the
        # second server by itself; the switch is counted once
        wait_http(d, "/readyz", 200, 20, "ready on the second server")
        wait_for(lambda: metric(d, "nrm_db_listen_connects_total") >
                 listen0, 15, what="LISTEN again on the second server")
        assert metric(d, "nrm_db_primary_switches_total") == 1
        b.stop()
        r = wait_http(d, "/readyz", 503, 15, "no server at all")
        assert r.headers.get("Content-Type", "").startswith(
            "application/problem+json")
        cluster.start()
        wait_http(d, "/readyz", 200, 20, "the first server back")
        assert metric(d, "nrm_db_primary_switches_total") == 2
        assert "database server changed" in d.log_text()
    finally:
        cluster.start()


def set_system(cluster, **settings):
    for k, v in settings.items():
        if v is None:
            cluster.sql("alter system reset %s" % k)
        else:
            cluster.sql("alter system set %s = '%s'" % (k, v))
    cluster.sql("select pg_reload_conf()")


def readyz_detail(d):
    try:
        r = requests.get(d.url + "/readyz", timeout=5)
    except requests.ConnectionError:
        return ""  # not listening yet (wait_ready=False)
    return r.json().get("detail", "") if r.status_code == 503 else ""


def test_readyz_requires_synchronous_replication(nrmd_factory, cluster):
    """db_synchronous = require: not ready while the server would
    acknowledge a commit that no standby has; ready once it would not."""
    d = nrmd_factory(config={"db_synchronous": "require"},
                     wait_ready=False)
    try:
        set_system(cluster, synchronous_standby_names=None)
        # 503 first for want of a connection, then for want of a standby
        wait_for(lambda: "synchronous" in readyz_detail(d), 15,
                 what="503 naming the synchronous replication")
        assert wait_http(d, "/readyz", 503, 5).status_code == 503
        set_system(cluster, synchronous_standby_names="standby_x",
                   synchronous_commit="on")
        wait_http(d, "/readyz", 200, 15, "a synchronous standby named")
        set_system(cluster, synchronous_commit="local")
        wait_http(d, "/readyz", 503, 15, "synchronous_commit local")
    finally:
        set_system(cluster, synchronous_standby_names=None,
                   synchronous_commit="off")
    # warn: ready, with one warning in the log
    w = nrmd_factory(config={"db_synchronous": "warn"})
    wait_http(w, "/readyz", 200, 15, "warn mode stays ready")
    wait_for(lambda: "not replicated synchronously" in w.log_text(), 10,
             what="the warning")


def test_unconfirmed_commit_is_not_acknowledged(nrmd_factory, cluster,
                                                keys):
    """A commit whose wait for the synchronous standby is cancelled is on
    one server only: nrmd answers 503, never 201; the client's retry
    with the same Idempotency-Key then finds exactly that signal."""
    d = nrmd_factory(config={"db_query_timeout": 20})
    tok = keys["reporter"].token
    idem = "ha-unconfirmed-" + uuid.uuid4().hex
    body = adult_signal()
    answer = {}

    def submit():
        try:
            answer["r"] = post_signal(d, tok, body, idem=idem, timeout=60)
        except requests.RequestException as e:
            answer["e"] = e

    before = metric(d, "nrm_db_unreplicated_commits_total")
    set_system(cluster, synchronous_standby_names="standby_nobody",
               synchronous_commit="on")
    t = threading.Thread(target=submit)
    try:
        t.start()
        # the intake's commit waits for a standby that never comes
        # (the jobs' commits wait too; only the intake's is cancelled)
        wait_for(lambda: cluster.count(
            "select count(*) from pg_stat_activity where wait_event = "
            "'SyncRep' and query like '%api.intake%'") == 1, 20,
            what="the intake's commit waiting for the standby")
        cluster.sql("select pg_cancel_backend(pid) from pg_stat_activity "
                    "where wait_event = 'SyncRep' and "
                    "query like '%api.intake%'")
        t.join(30)
        assert "r" in answer, answer
        assert answer["r"].status_code == 503, answer["r"].text
        assert metric(d, "nrm_db_unreplicated_commits_total") > before
    finally:
        set_system(cluster, synchronous_standby_names=None,
                   synchronous_commit="off")
        t.join(30)
    # the retry with the same key: the one stored signal, acknowledged now
    r = post_signal(d, tok, body, idem=idem)
    assert r.status_code == 201, r.text
    assert cluster.count(
        "select count(*) from intake.idempotency where idem_key = '%s'"
        % idem) == 1
    again = post_signal(d, tok, body, idem=idem)
    assert again.status_code == 201
    assert again.json()["signal_id"] == r.json()["signal_id"]
