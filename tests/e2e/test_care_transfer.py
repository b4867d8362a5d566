"""Transfers the receiving region answers, end to end (issue 18): two
coordinators of the receiving region answering one transfer at once (one
wins, the other gets 409), a refused transfer returning, and an
unanswered one escalated by the sweeper exactly once."""

import concurrent.futures
import threading
import time
import uuid

import requests

from nrm_e2e.api import assert_problem, auth, ok
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.env import wait_for
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key


def post(d, key, case_id, action, body=None):
    return requests.post("%s/v1/cases/%s/%s" % (d.url, case_id, action),
                         json=body if body is not None else {},
                         headers=auth(key), timeout=30)


def send(d, key, case_id, target="VR09"):
    item = ok(post(d, key, case_id, "transfer",
                   {"target_region": target, "reason": "wrong_region"}))
    assert item["state"] == "transfer_pending", item
    return item


def test_two_receivers_answer_at_once(nrmd_factory, case_keys, cluster):
    """Two VR09 coordinators on two daemons answer each of eight pending
    transfers at the same moment (one accepts, one refuses, released by
    one barrier): exactly one 200 per case, the other a 409 naming the
    state the winner left, and the case is as the winner said."""
    k = case_keys
    suffix = uuid.uuid4().hex[:6]
    co09b = create_key(cluster, "coordinator", "Zorg Utrecht " + suffix,
                       "care_agency", regions=("VR09",))
    daemons = [nrmd_factory(), nrmd_factory()]
    cases = [new_case(daemons[0], k["reporter"])["case_id"]
             for _ in range(8)]
    for cid in cases:
        send(daemons[0], k["co13"], cid)

    def race(cid):
        barrier = threading.Barrier(2)

        def answer(i):
            barrier.wait()
            if i == 0:
                return post(daemons[0], k["co09"], cid, "transfer/accept")
            return post(daemons[1], co09b, cid, "transfer/refuse",
                        {"reason": "no_capacity"})

        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            return cid, list(ex.map(answer, (0, 1)))

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(race, cases))
    for cid, (acc, ref) in results:
        codes = sorted((acc.status_code, ref.status_code))
        assert codes == [200, 409], (cid, acc.text[:200], ref.text[:200])
        row = cluster.sql("select state, region_code, version from "
                          "care.case where id = '%s'" % cid)[0]
        if acc.status_code == 200:
            assert row[:2] == ["open", "VR09"], row
            p = assert_problem(ref, 409, "conflict", None)
        else:
            assert row[:2] == ["open", "VR13"], row
            p = assert_problem(acc, 409, "conflict", None)
        assert p["state"] == "open" and p["version"] == int(row[2]), p
        n = cluster.count(
            "select count(*) from care.case_history where case_id = '%s' "
            "and action in ('transfer_accepted', 'transfer_refused')" % cid)
        assert n == 1, (cid, n)


def test_refused_returns_and_who_answers(nrmd, case_keys, cluster, doc):
    d, k = nrmd, case_keys
    cid = new_case(d, k["reporter"])["case_id"]
    ok(post(d, k["co13"], cid, "take"))
    item = send(d, k["co13"], cid)
    validator(doc, "InboxItem").validate(item)
    assert item["holder"] == k["co13"].id and item["region"] == "VR13"
    # the receiver reads the case to decide; the sender still holds it
    c = ok(get_case(d, k["co09"], cid))
    assert c["case"]["transfer"]["to_region"] == "VR09"
    assert ok(get_case(d, k["co13"], cid))["case"]["held_by_me"] is True
    # who answers: the receiving region only
    p = assert_problem(post(d, k["co13"], cid, "transfer/accept"), 409,
                       "conflict", None)
    assert p["state"] == "transfer_pending"
    assert_problem(post(d, k["co17"], cid, "transfer/accept"), 404,
                   "not_found", None)
    assert_problem(post(d, k["assessor"], cid, "transfer/accept"), 403,
                   "forbidden")
    r = post(d, k["co09"], cid, "transfer/refuse", {"reason": "busy now"})
    assert_problem(r, 422, "validation", "reason")
    assert "busy" not in r.text
    # refused: back with its holder, the transfer over
    item = ok(post(d, k["co09"], cid, "transfer/refuse",
                   {"reason": "outside_expertise"}))
    validator(doc, "InboxItem").validate(item)
    assert (item["state"], item["region"], item["holder"],
            item["transfer"]) == ("taken", "VR13", k["co13"].id, None)
    assert_problem(get_case(d, k["co09"], cid), 404, "not_found")
    h = ok(get_case(d, k["co13"], cid))["history"][0]
    assert (h["action"], h["by"], h["detail"]["reason"],
            h["detail"]["returned_to"]) == (
        "transfer_refused", k["co09"].id, "outside_expertise", "taken")


def test_unanswered_transfer_escalates_once(nrmd_factory, case_keys,
                                            cluster):
    """transfer_answer_within 60 s; the answer deadline is then moved a
    minute back by an UPDATE (as superuser): two sweeping daemons move
    the case to the national desk once."""
    k = case_keys
    daemons = [nrmd_factory(config={"sweep_interval": 1,
                                    "transfer_answer_within": 60}),
               nrmd_factory(config={"sweep_interval": 1})]
    cids = [new_case(daemons[0], k["reporter"])["case_id"]
            for _ in range(3)]
    for cid in cids:
        item = send(daemons[0], k["co13"], cid)
    ids = "'{%s}'" % ",".join(cids)
    cluster.sql("update care.case set transfer_answer_by = now() - "
                "interval '1 minute', transfer_requested_at = now() - "
                "interval '2 minutes', created_at = now() - interval "
                "'1 hour' where id = any(%s)" % ids)
    assert item["transfer"]["answer_by"]

    def n_escalated():
        return cluster.count(
            "select count(*) from care.case_history where case_id = any(%s) "
            "and action = 'escalated' and detail->>'reason' = "
            "'transfer_unanswered'" % ids)

    wait_for(lambda: n_escalated() == 3, 15, interval=0.2,
             what="3 unanswered transfers escalated")
    time.sleep(2.5)  # more sweeps by both daemons: still once
    rows = cluster.sql("select state, region_code, transfer_to is null "
                       "from care.case where id = any(%s)" % ids)
    assert rows == [["open", "NATIONAL", "t"]] * 3, rows
    # too late: the receiver is told the transfer was answered (409)
    p = assert_problem(post(daemons[1], k["co09"], cids[0],
                            "transfer/accept"), 409, "conflict", None)
    assert p["state"] == "open"
    assert_problem(post(daemons[1], k["co17"], cids[0], "transfer/accept"),
                   404, "not_found", None)
    nat = ok(requests.get(daemons[0].url + "/v1/inbox",
                          params={"limit": 200}, headers=auth(k["national"]),
                          timeout=15))["items"]
    assert set(cids) <= {it["case_id"] for it in nat}
    assert n_escalated() == 3
