"""The first contact end to end (issue 18): POST /v1/cases/{id}/contact
with its validation and who may record one, the first contact made on the
case item and in the history, the first-contact escalation exactly once
with two sweeping daemons, and a contact racing the escalation: either
the contact is recorded or the case is escalated, never both."""

import concurrent.futures
import datetime
import json
import time
import uuid

import requests

from nrm_e2e.api import assert_problem, auth, ok
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.env import wait_for
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key, key_id


def stamp(dt=None, **delta):
    dt = dt or datetime.datetime.now(datetime.timezone.utc)
    return (dt + datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def post(d, key, case_id, action, body):
    return requests.post("%s/v1/cases/%s/%s" % (d.url, case_id, action),
                         json=body, headers=auth(key), timeout=30)


def contact(d, key, case_id, mode="phone", at=None):
    return post(d, key, case_id, "contact", {"at": at or stamp(),
                                             "mode": mode})


def history(cluster, case_id):
    rows = cluster.sql(
        "select action, coalesce(api_key_id::text, ''), detail::text "
        "from care.case_history where case_id = '%s' order by id" % case_id)
    return [(a, k or None, json.loads(dt)) for a, k, dt in rows]


def id_list(xs):
    return "'{%s}'" % ",".join(xs)


def test_contact_validation_and_who(nrmd, case_keys, cluster, doc):
    d, k = nrmd, case_keys
    cid = new_case(d, k["reporter"])["case_id"]
    # an open case: take it first
    p = assert_problem(contact(d, k["co13"], cid), 409, "conflict", None)
    assert p["state"] == "open"
    ok(post(d, k["co13"], cid, "take", {}))
    version = cluster.scalar(
        "select version from care.case where id = '%s'" % cid)

    # the request's own faults, each naming its field, none echoing a value
    for body, field in (
            ({"mode": "phone"}, "at"),
            ({"at": "tomorrow at noon", "mode": "phone"}, "at"),
            ({"at": "2024-02-30T10:00:00Z", "mode": "phone"}, "at"),
            ({"at": stamp(hours=1), "mode": "phone"}, "at"),
            ({"at": stamp(days=-30), "mode": "phone"}, "at"),
            ({"at": stamp()}, "mode"),
            ({"at": stamp(), "mode": "telepathy"}, "mode"),
            ({"at": 17, "mode": "phone"}, "at"),
            ({"at": stamp(), "mode": "phone", "note": "x"}, "note")):
        r = post(d, k["co13"], cid, "contact", body)
        p = assert_problem(r, 422, "validation", field)
        validator(doc, "Problem").validate(p)
        assert "noon" not in r.text and "telepathy" not in r.text
    assert cluster.scalar("select version from care.case where id = '%s'"
                          % cid) == version

    # who: the holder only; other regions 404; other roles 403
    p = assert_problem(contact(d, k["co13b"], cid), 409, "conflict", None)
    assert p["holder"] == k["co13"].id
    assert_problem(contact(d, k["co17"], cid), 404, "not_found", None)
    assert_problem(contact(d, k["national"], cid), 404, "not_found", None)
    assert_problem(contact(d, k["assessor"], cid), 403, "forbidden")
    assert_problem(contact(d, k["reporter"], cid), 403, "forbidden")

    # a failed attempt: recorded, meets nothing
    item = ok(contact(d, k["co13"], cid, "failed_attempt"))
    validator(doc, "InboxItem").validate(item)
    assert (item["first_contact_at"], item["first_contact_in_time"]) == (
        None, None)

    # the first contact made
    at = stamp()
    r = contact(d, k["co13"], cid, "interpreter", at)
    item = ok(r)
    validator(doc, "InboxItem").validate(item)
    assert (item["state"], item["holder"]) == ("taken", k["co13"].id)
    assert item["first_contact_at"] == at
    assert item["first_contact_in_time"] is True
    assert item["first_contact_escalated"] is False
    assert r.headers.get("ETag") == '"%d"' % item["version"]
    rows = cluster.sql(
        "select action, outcome, coalesce(reason, '') from audit.event "
        "where request_id = '%s'" % r.headers["X-Request-Id"])
    assert rows == [["case.contact", "allowed", ""]], rows
    # a later one leaves first_contact_at
    item = ok(contact(d, k["co13"], cid, "in_person"))
    assert item["first_contact_at"] == at
    c = ok(get_case(d, k["co13"], cid))
    validator(doc, "Case").validate(c)
    assert c["case"]["first_contact_at"] == at
    acts = [(h["action"], h["detail"].get("mode")) for h in c["history"]]
    assert acts[:3] == [("contact", "in_person"),
                        ("first_contact", "interpreter"),
                        ("contact", "failed_attempt")], acts
    assert c["history"][1]["detail"] == {
        "mode": "interpreter", "at": at, "region": "VR13", "in_time": True}


def test_first_contact_escalation_exactly_once(nrmd_factory, case_keys,
                                               cluster, doc):
    """Taken cases past their first-contact deadline (an UPDATE moves
    first_contact_by a minute back, and created_at an hour, as superuser):
    those without a contact made go to the national desk once, with two
    sweeping daemons; a contacted one stays."""
    k = case_keys
    suffix = uuid.uuid4().hex[:6]
    co03 = create_key(cluster, "coordinator", "Zorg Drenthe " + suffix,
                      "care_agency", regions=("VR03",))
    co03.id = key_id(cluster, co03)
    daemons = [nrmd_factory(config={"sweep_interval": 1}),
               nrmd_factory(config={"sweep_interval": 1})]
    made = [new_case(daemons[0], k["reporter"], "VR03")["case_id"]
            for _ in range(6)]
    for cid in made:
        ok(post(daemons[1], co03, cid, "take", {}))
    silent, failed, reached = made[:3], made[3:5], made[5]
    for cid in failed:
        ok(contact(daemons[0], co03, cid, "failed_attempt"))
    ok(contact(daemons[0], co03, reached, "phone"))
    cluster.sql(
        "update care.case set created_at = created_at - interval '1 hour', "
        "first_contact_by = now() - interval '1 minute' "
        "where id = any(%s)" % id_list(made))

    def n_escalated():
        return cluster.count(
            "select count(*) from care.escalation where case_id = any(%s) "
            "and reason = 'first_contact_deadline_missed'" % id_list(made))

    wait_for(lambda: n_escalated() == 5, 15, interval=0.2,
             what="5 first-contact escalations")
    time.sleep(2.5)  # more sweeps by both daemons: still once
    assert n_escalated() == 5
    rows = cluster.sql(
        "select id, region_code, state, coalesce(holder_key_id::text, ''), "
        "first_contact_escalated_at is not null from care.case "
        "where id = any(%s)" % id_list(made))
    by_id = {r[0]: r[1:] for r in rows}
    for cid in silent + failed:
        assert by_id[cid] == ["NATIONAL", "open", "", "t"], by_id[cid]
        h = [x for x in history(cluster, cid) if x[0] == "escalated"]
        assert len(h) == 1 and h[0][1] is None, h
        assert (h[0][2]["reason"], h[0][2]["from_region"],
                h[0][2]["to_region"], h[0][2]["from_state"]) == (
            "first_contact_deadline_missed", "VR03", "NATIONAL", "taken")
        assert cluster.count(
            "select count(*) from audit.event where object_id = '%s' and "
            "action = 'case.escalate' and reason = "
            "'first_contact_deadline_missed'" % cid) == 1
    assert by_id[reached] == ["VR03", "taken", co03.id, "f"]
    # the national desk sees them, flagged; the former holder no longer
    nat = ok(requests.get(daemons[0].url + "/v1/inbox",
                          params={"limit": 200}, headers=auth(k["national"]),
                          timeout=15))["items"]
    flagged = {it["case_id"] for it in nat if it["first_contact_escalated"]}
    assert set(silent + failed) <= flagged
    assert_problem(contact(daemons[0], co03, silent[0]), 404, "not_found")


def test_contact_racing_the_escalation(nrmd_factory, case_keys, cluster):
    """Twelve taken cases whose first-contact deadline passes while their
    holder records contacts one after another and two daemons sweep every
    second: for each case, exactly one of (the contact answered 200, the
    case escalated), at any speed."""
    k = case_keys
    suffix = uuid.uuid4().hex[:6]
    co05 = create_key(cluster, "coordinator", "Zorg Twente " + suffix,
                      "care_agency", regions=("VR05",))
    daemons = [nrmd_factory(config={"sweep_interval": 1}),
               nrmd_factory(config={"sweep_interval": 1})]
    made = [new_case(daemons[0], k["reporter"], "VR05")["case_id"]
            for _ in range(12)]
    for cid in made:
        ok(post(daemons[1], co05, cid, "take", {}))
    cluster.sql(
        "update care.case set created_at = created_at - interval '1 hour', "
        "first_contact_by = now() + interval '1 second' "
        "where id = any(%s)" % id_list(made))

    def record(i_cid):
        i, cid = i_cid
        time.sleep(0.25 * i)  # spread over the deadline and the sweeps
        return cid, contact(daemons[i % 2], co05, cid).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        answers = dict(ex.map(record, enumerate(made)))
    # every case ends one way: contacted, or escalated (after the sweeps)
    wait_for(lambda: cluster.count(
        "select count(*) from care.case where id = any(%s) and "
        "(first_contact_at is not null or first_contact_escalated_at is "
        "not null)" % id_list(made)) == 12, 10, interval=0.2,
        what="every case contacted or escalated")
    rows = cluster.sql(
        "select id, first_contact_at is not null, "
        "first_contact_escalated_at is not null, region_code, "
        "(select count(*) from care.escalation e where e.case_id = c.id) "
        "from care.case c where id = any(%s)" % id_list(made))
    for cid, contacted, escalated, region, n_esc in rows:
        status = answers[cid]
        assert status in (200, 404), (cid, status)
        if status == 200:
            assert (contacted, escalated, region, n_esc) == (
                "t", "f", "VR05", "0"), (cid, rows)
        else:
            assert (contacted, escalated, region, n_esc) == (
                "f", "t", "NATIONAL", "1"), (cid, rows)
