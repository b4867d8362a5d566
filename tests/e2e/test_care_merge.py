"""Merging a duplicate signal's case into the case it repeats (issue 18,
docs/case-lifecycle.md "Merging a duplicate"): what a merge writes and
answers, the refusals and the field each names, what a merged case is no
longer part of, and the races: two merges of one duplicate, two merges
of one pair in opposite directions, a merge against a take and against
a transfer."""

import concurrent.futures
import copy
import datetime
import uuid

import requests

from nrm_e2e.api import assert_problem, auth, ok
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.openapi import validator
from test_data_at_rest import marked_signal


def url(d, case_id, what):
    return "%s/v1/cases/%s/%s" % (d.url, case_id, what)


def merge(d, key, case_id, into, reason="same_situation", **kw):
    body = {"into": into, "reason": reason}
    body.update(kw)
    return requests.post(url(d, case_id, "merge"), json=body,
                         headers=auth(key), timeout=30)


def post(d, key, case_id, what, body=None):
    return requests.post(url(d, case_id, what), json=body or {},
                         headers=auth(key), timeout=30)


def person_cases(d, reporter, regions):
    """One new person; a case of theirs in each of `regions`."""
    person = marked_signal()
    return [new_case(d, reporter, region=r, body=copy.deepcopy(person))[
        "case_id"] for r in regions]


def history(cluster, case_id):
    return [r[0] for r in cluster.sql(
        "select action from care.case_history where case_id = '%s' "
        "order by id" % case_id)]


def test_merge_a_repeat_signal(nrmd, case_keys, cluster, doc):
    k = case_keys
    first, dup = person_cases(nrmd, k["reporter"], ("VR13", "VR13"))
    # a note on the duplicate before the merge stays readable after
    r = post(nrmd, k["co13"], dup, "take")
    assert r.status_code == 200, r.text
    r = post(nrmd, k["co13"], dup, "notes", {"text": "eerste gesprek"})
    assert r.status_code == 201, r.text
    before = ok(get_case(nrmd, k["co13"], first))["version"]

    r = merge(nrmd, k["co13"], dup, first, "repeat_report")
    item = ok(r)
    validator(doc, "InboxItem").validate(item)
    assert item["state"] == "merged" and item["holder"] is None
    assert item["merged"]["into"] == first
    assert item["merged"]["reason"] == "repeat_report"
    assert item["merged"]["reference"] == ok(
        get_case(nrmd, k["co13"], first))["case"]["reference"]
    rid = r.headers["X-Request-Id"]

    d = ok(get_case(nrmd, k["co13"], dup))
    validator(doc, "Case").validate(d)
    assert d["case"]["merged"]["into"] == first
    t = ok(get_case(nrmd, k["co13"], first))
    validator(doc, "Case").validate(t)
    assert [m["case_id"] for m in t["case"]["merged_from"]] == [dup]
    assert t["case"]["merged_from"][0]["reason"] == "repeat_report"
    assert t["version"] == before + 1, "the target's version grows"
    assert history(cluster, dup)[-1] == "merged"
    assert history(cluster, first)[-1] == "merged_in"
    assert "merged" not in t["case"] and "merged_from" not in d["case"]
    # both audited, in the one request
    rows = cluster.sql(
        "select action, object_id, outcome from audit.event "
        "where request_id = '%s' order by id" % rid)
    assert sorted(map(tuple, rows)) == sorted([
        ("case.merge", dup, "allowed"), ("case.merge_into", first,
                                         "allowed")]), rows
    # the duplicate's note is still there, on the duplicate
    r = requests.get(url(nrmd, dup, "notes"), headers=auth(k["co13"]),
                     timeout=15)
    assert [n["text"] for n in ok(r)["items"]] == ["eerste gesprek"]
    # related shows the merge
    rel = ok(requests.get(url(nrmd, first, "related"),
                          headers=auth(k["co13"]), timeout=15))
    validator(doc, "RelatedCases").validate(rel)
    assert {i["case_id"]: i["merged_into"] for i in rel["items"]} == {
        dup: first}
    # out of every inbox, state all included
    r = requests.get(nrmd.url + "/v1/inbox", params={"state": "all",
                     "limit": 200}, headers=auth(k["co13"]), timeout=15)
    ids = [i["case_id"] for i in ok(r)["items"]]
    assert dup not in ids
    # every action on it is 409 naming merged; nothing writes to it
    for action, body in (("take", None), ("close", {"reason": "other"}),
                         ("decline", {"reason": "other"})):
        p = assert_problem(post(nrmd, k["co13"], dup, action, body), 409,
                           "conflict", None)
        assert p["state"] == "merged"
    r = post(nrmd, k["co13"], dup, "notes", {"text": "nog iets"})
    assert r.status_code == 409, r.text
    # identification goes on in the target: 409 naming it, the target
    # takes the same entry (decided today: 2024-Q2 is test_indicators'
    # own, hand-counted period, and the worker's database is shared)
    entry = {"stage": "initial", "outcome": "positive",
             "deciding_body": "care_coordination",
             "decided_on": datetime.datetime.now(
                 datetime.timezone.utc).date().isoformat()}
    p = assert_problem(post(nrmd, k["co13"], dup, "identification", entry),
                       409, "conflict", None)
    assert p["merged_into"] == first
    r = post(nrmd, k["co13"], first, "identification", entry)
    assert r.status_code == 201, r.text


def test_merge_refusals_name_the_field(nrmd, case_keys, cluster):
    k = case_keys
    a, b, c17 = person_cases(nrmd, k["reporter"], ("VR13", "VR13", "VR17"))
    other = person_cases(nrmd, k["reporter"], ("VR13",))[0]
    for body_reason in ("duplicate", "", None):
        assert_problem(merge(nrmd, k["co13"], b, a, body_reason), 422,
                       "validation", "reason")
    for into in ("", "not-a-case", None, b):
        assert_problem(merge(nrmd, k["co13"], b, into), 422, "validation",
                       "into")
    assert_problem(merge(nrmd, k["co13"], b, a, extra=1), 422,
                   "validation")
    assert_problem(merge(nrmd, k["assessor"], b, a), 403, "forbidden")
    assert_problem(merge(nrmd, k["co17"], b, a), 404, "not_found")
    # the target: another region, unknown, another person: 422 into
    out = assert_problem(merge(nrmd, k["co13"], b, c17), 422, "validation",
                         "into")
    unknown = assert_problem(merge(nrmd, k["co13"], b, str(uuid.uuid4())),
                             422, "validation", "into")
    assert out["detail"] == unknown["detail"], "no existence oracle"
    assert_problem(merge(nrmd, k["co13"], b, other), 422, "validation",
                   "into")
    # a coordinator of both regions merges across them
    assert ok(merge(nrmd, k["co13_17"], b, c17))["merged"]["into"] == c17
    # into a merged case: 409 naming into and where it went
    p = assert_problem(merge(nrmd, k["co13"], a, b), 409, "conflict",
                       "into")
    assert p["merged_into"] == c17
    # a case another coordinator holds is theirs to merge
    x, y = person_cases(nrmd, k["reporter"], ("VR13", "VR13"))
    assert post(nrmd, k["co13b"], y, "take").status_code == 200
    p = assert_problem(merge(nrmd, k["co13"], y, x), 409, "conflict", None)
    assert p["state"] == "taken"
    assert cluster.scalar(
        "select count(*) from care.case where id in ('%s', '%s') "
        "and state <> 'merged'" % (a, y)) == "2"


def race(fns):
    """Run the callables at once; their answers."""
    with concurrent.futures.ThreadPoolExecutor(len(fns)) as ex:
        return [f.result() for f in [ex.submit(fn) for fn in fns]]


def test_two_merges_of_one_duplicate_one_wins(nrmd, case_keys, cluster):
    k = case_keys
    for _ in range(3):
        t1, t2, dup = person_cases(nrmd, k["reporter"],
                                   ("VR13", "VR13", "VR13"))
        rs = race([lambda t=t: merge(nrmd, key, dup, t) for t, key in
                   ((t1, k["co13"]), (t2, k["co13b"]), (t1, k["co13c"]),
                    (t2, k["co13"]))])
        codes = sorted(r.status_code for r in rs)
        assert codes == [200, 409, 409, 409], [r.text for r in rs]
        into = [r.json()["merged"]["into"] for r in rs
                if r.status_code == 200][0]
        assert cluster.scalar("select merged_into from care.case where "
                              "id = '%s'" % dup) == into
        assert history(cluster, dup).count("merged") == 1


def test_opposite_merges_of_one_pair_never_deadlock(nrmd, case_keys,
                                                    cluster):
    k = case_keys
    for _ in range(4):
        a, b = person_cases(nrmd, k["reporter"], ("VR13", "VR13"))
        rs = race([lambda: merge(nrmd, k["co13"], a, b),
                   lambda: merge(nrmd, k["co13b"], b, a)])
        # one merge; the other finds its target merged (409 into) or
        # its own case merged (409): never a 503 from a deadlock
        assert sorted(r.status_code for r in rs) == [200, 409], \
            [r.text for r in rs]
        assert cluster.scalar(
            "select count(*) from care.case where id in ('%s', '%s') and "
            "state = 'merged'" % (a, b)) == "1"


def test_merge_races_a_take_and_a_transfer(nrmd, case_keys, cluster):
    k = case_keys
    for other in ("take", "transfer"):
        wins = set()
        for _ in range(4):
            target, dup = person_cases(nrmd, k["reporter"],
                                       ("VR13", "VR13"))
            body = {"target_region": "VR17", "reason": "wrong_region"} \
                if other == "transfer" else None
            rm, ro = race([lambda: merge(nrmd, k["co13"], dup, target),
                           lambda: post(nrmd, k["co13b"], dup, other,
                                        body)])
            # exactly one of the two; the loser is 409 and changed
            # nothing
            assert sorted((rm.status_code, ro.status_code)) == [200, 409], \
                (rm.text, ro.text)
            state = cluster.scalar("select state from care.case where "
                                   "id = '%s'" % dup)
            if rm.status_code == 200:
                wins.add("merge")
                assert state == "merged"
                assert ro.json()["state"] == "merged"
            else:
                wins.add(other)
                assert state == ("taken" if other == "take"
                                 else "transfer_pending")
                assert rm.json()["state"] == state
        assert wins, other
