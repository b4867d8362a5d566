"""Reads of one inbox question that queue together share one query
(issue 16; docs/performance.md, "Reads of one question share a query").

GET /v1/inbox without `wait` takes its turn in the long-poll registry's
queue: while every query slot is busy, reads with the same filters queue
together and go to the database as one api.inbox_many call, which
authenticates and audits each reader on its own and renders one page per
scope.  These tests hold the only slot (db_pool_size 2: one for the
inbox, one for the rest) behind a lock on care.case, queue reads of three
coordinators of two regions behind it, and then check what sharing must
never change: each read its own status, page of its own regions, request
id and audit event; and what it is for: the queued reads were answered by
one transaction."""

import concurrent.futures
import uuid

import requests

from nrm_e2e.api import auth, metric
from nrm_e2e.cases import new_case
from nrm_e2e.env import wait_for
from nrm_e2e.pg import Psql, create_key, key_id


def _read(d, key, **params):
    r = requests.get(d.url + "/v1/inbox", headers=auth(key),
                     params=dict({"limit": 200}, **params), timeout=60)
    return r


def _blocked(cluster):
    """Whether an nrm_app backend waits for a lock (the held read)."""
    return cluster.count(
        "select count(*) from pg_stat_activity where usename = 'nrm_app' "
        "and wait_event_type = 'Lock'") >= 1


def test_reads_that_queue_together_share_one_query(nrmd_factory, cluster,
                                                   keys):
    d = nrmd_factory(config={"db_pool_size": 2, "longpoll_recheck": 3600})
    sfx = uuid.uuid4().hex[:6]
    co13 = [create_key(cluster, "coordinator", "Shared %s %d" % (sfx, i),
                       "care_agency", regions=("VR13",)) for i in range(2)]
    co09 = create_key(cluster, "coordinator", "Shared %s 9" % sfx,
                      "care_agency", regions=("VR09",))
    c13 = new_case(d, keys["reporter"], "VR13")["case_id"]
    c09 = new_case(d, keys["reporter"], "VR09")["case_id"]
    # each key's principal cached, so no authorization waits below
    for k in co13 + [co09]:
        assert _read(d, k).status_code == 200
    lock = Psql(cluster._psql_cmd("")[:-2])
    pool = concurrent.futures.ThreadPoolExecutor(8)
    try:
        lock.sql("BEGIN; LOCK TABLE care.case IN ACCESS EXCLUSIVE MODE")
        first = pool.submit(_read, d, co13[0])
        wait_for(lambda: _blocked(cluster), 15, what="the first read held")
        who = [co13[0], co13[1], co13[0], co13[1], co09, co09]
        queued = [pool.submit(_read, d, k) for k in who]
        wait_for(lambda: metric(d, "nrm_inbox_longpolls_queued") == 6, 15,
                 what="six reads queued behind it")
        lock.sql("COMMIT")
        answers = [f.result(timeout=60) for f in queued]
        held = first.result(timeout=60)
    finally:
        lock.close()
        pool.shutdown(wait=False)

    assert held.status_code == 200, held.text[:300]
    for r in answers:
        assert r.status_code == 200, r.text[:300]
    # each read its own scope: VR13's page for the VR13 keys, VR09's
    # for the VR09 key, never the other's case
    for k, r in zip(who, answers):
        items = r.json()["items"]
        regions = {it["region"] for it in items}
        if k is co09:
            assert regions == {"VR09"}, regions
            assert c09 in {it["case_id"] for it in items}
        else:
            assert regions == {"VR13"}, regions
            assert c13 in {it["case_id"] for it in items}
    # one page per scope: the VR13 readers got the same items
    pages13 = {tuple(it["case_id"] for it in r.json()["items"])
               for k, r in zip(who, answers) if k is not co09}
    assert len(pages13) == 1, pages13

    # each read its own request id and exactly one audit event, under
    # its own key; the six queued reads were written by one transaction
    rids = [r.headers["X-Request-Id"] for r in answers]
    assert len(set(rids)) == 6, rids
    rows = cluster.sql(
        "select request_id, api_key_id::text, outcome, xmin::text "
        "from audit.event where action = 'inbox.list' and request_id in "
        "(%s)" % ", ".join("'%s'" % x for x in rids + [
            held.headers["X-Request-Id"]]))
    by_rid = {}
    for rid, kid, outcome, xmin in rows:
        by_rid.setdefault(rid, []).append((kid, outcome, xmin))
    for k, rid in zip(who, rids):
        assert len(by_rid.get(rid, [])) == 1, (rid, by_rid.get(rid))
        kid, outcome, _ = by_rid[rid][0]
        assert kid == key_id(cluster, k) and outcome == "allowed"
    xmins = {by_rid[rid][0][2] for rid in rids}
    assert len(xmins) == 1, "the queued reads shared one query: %s" % xmins
    assert by_rid[held.headers["X-Request-Id"]][0][2] not in xmins


def test_a_lone_read_is_not_held_back(nrmd_factory, cluster, keys):
    """With a free slot a read is sent at once, alone, as before: a
    hundred reads one after the other cost a hundred queries and none
    waits for another."""
    d = nrmd_factory(config={"db_pool_size": 2, "longpoll_recheck": 3600})
    co = create_key(cluster, "coordinator", "Lone %s" % uuid.uuid4().hex[:6],
                    "care_agency", regions=("VR13",))
    assert _read(d, co).status_code == 200
    rids = []
    for _ in range(100):
        r = _read(d, co, limit=1)
        assert r.status_code == 200, r.text[:300]
        rids.append(r.headers["X-Request-Id"])
    assert metric(d, "nrm_inbox_longpolls_queued") == 0
    xmins = cluster.sql(
        "select distinct xmin::text from audit.event where action = "
        "'inbox.list' and request_id in (%s)"
        % ", ".join("'%s'" % x for x in rids))
    assert len(xmins) == 100, len(xmins)
