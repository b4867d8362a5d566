"""Purposes and emergency ("break-glass") reads end to end (issue 6,
sql/0007_break_glass.sql, docs/audit.md#break-glass): NRM-Purpose and
NRM-Reason over HTTP, a coordinator reading a case of another region
only with purpose emergency and a reason, the read flagged for review,
and the auditor working through the review queue
(GET /v1/audit/reviews, POST /v1/audit/reviews/{event_id})."""

import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, auth
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.pg import create_key, key_id


def reviews(d, key, **params):
    return requests.get(d.url + "/v1/audit/reviews", params=params,
                        headers=auth(key), timeout=15)


def review(d, key, event_id, body):
    return requests.post("%s/v1/audit/reviews/%s" % (d.url, event_id),
                         json=body, headers=auth(key), timeout=15)


def event_of(db, r):
    """The one audit event the response's request wrote: (id, purpose,
    outcome, reason)."""
    rid = r.headers["X-Request-Id"]
    rows = db.sql("select id, coalesce(purpose, '-'), outcome, "
                  "coalesce(reason, '-') from audit.event "
                  "where request_id = '%s'" % rid)
    assert len(rows) == 1, (rid, rows)
    f = rows[0]
    return int(f[0]), f[1], f[2], f[3]


def all_reviews(d, key, state):
    """Every item of the review queue in `state`, following the cursor."""
    items, cursor = [], None
    for _ in range(1000):
        params = {"state": state, "limit": "200"}
        if cursor is not None:
            params["cursor"] = str(cursor)
        r = reviews(d, key, **params)
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        items += body["items"]
        cursor = body["next_after"]
        if cursor is None:
            return items
    raise AssertionError("the review queue does not end")


@pytest.fixture(scope="module")
def bg(cluster, case_keys):
    """The case keys and an auditor (with `.id`)."""
    auditor = create_key(cluster, "auditor",
                         "Toezicht BG " + uuid.uuid4().hex[:6], "other")
    auditor.id = key_id(cluster, auditor)
    return dict(case_keys, auditor=auditor)


@pytest.fixture(scope="module")
def vr13_case(nrmd, bg):
    return new_case(nrmd, bg["reporter"])["case_id"]


def test_purpose_headers_checked_at_the_edge(nrmd, bg, vr13_case):
    co = bg["co13"]
    for value in ("Care", "care-x", "c" * 65, "1care", ""):
        r = get_case(nrmd, co, vr13_case, purpose=value)
        assert_problem(r, 400, "bad_request", "purpose")
    r = get_case(nrmd, co, vr13_case, purpose="emergency", reason="Bad!")
    assert_problem(r, 400, "bad_request", "reason")


def test_purpose_and_reason_rules(nrmd, db, bg, vr13_case):
    co = bg["co13"]
    r = get_case(nrmd, co, vr13_case, purpose="emergency")
    assert_problem(r, 400, "bad_request", "reason")
    assert "immediate_danger" in r.json()["detail"]
    assert event_of(db, r)[1:] == ("-", "failed", "bad_request")
    r = get_case(nrmd, co, vr13_case, purpose="emergency", reason="because")
    assert_problem(r, 400, "bad_request", "reason")
    r = get_case(nrmd, co, vr13_case, purpose="care", reason="immediate_danger")
    assert_problem(r, 400, "bad_request", "reason")
    r = get_case(nrmd, co, vr13_case, purpose="monitoring")
    assert r.status_code == 200, r.text[:300]
    assert "break_glass" not in r.json()
    assert event_of(db, r)[1:] == ("monitoring", "allowed", "-")


def test_break_glass_read_beyond_scope(nrmd, db, bg, vr13_case):
    co17 = bg["co17"]
    # the ordinary answer: 404, like an unknown case
    r = get_case(nrmd, co17, vr13_case)
    assert_problem(r, 404, "not_found")
    unknown = get_case(nrmd, co17, str(uuid.uuid4()), purpose="emergency",
                       reason="immediate_danger")
    assert_problem(unknown, 404, "not_found")
    assert unknown.json()["detail"] == r.json()["detail"]
    assert event_of(db, unknown)[1:] == ("emergency", "denied", "not_found")

    r = get_case(nrmd, co17, vr13_case, purpose="emergency",
                 reason="person_relocated")
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["case"]["case_id"] == vr13_case
    assert body["subject"]["given_name"], "the personal data is readable"
    assert body["break_glass"] == {"reason": "person_relocated",
                                   "beyond_scope": True,
                                   "review": "pending"}
    ev = event_of(db, r)
    assert ev[1:] == ("emergency", "allowed", "person_relocated")
    assert db.scalar("select kind || '/' || (reviewed_at is null)::text "
                     "from audit.review where event_id = %d" % ev[0]) == \
        "break_glass/true"

    # only that read: the next one without emergency is 404 again, and
    # break-glass never writes
    assert get_case(nrmd, co17, vr13_case).status_code == 404
    r = requests.post("%s/v1/cases/%s/take" % (nrmd.url, vr13_case),
                      headers=auth(co17), timeout=15)
    assert_problem(r, 404, "not_found")


def test_review_queue(nrmd, db, bg, vr13_case):
    auditor, co09 = bg["auditor"], bg["co09"]
    r = get_case(nrmd, co09, vr13_case, purpose="emergency",
                 reason="region_unreachable")
    assert r.status_code == 200, r.text[:300]
    event_id = event_of(db, r)[0]

    # only auditors see and work the queue
    for who in ("co09", "assessor", "reporter", "analyst"):
        assert_problem(reviews(nrmd, bg[who]), 403, "forbidden")
        assert_problem(review(nrmd, bg[who], event_id,
                              {"verdict": "justified"}), 403, "forbidden")

    pending = all_reviews(nrmd, auditor, "pending")
    mine = [x for x in pending if x["id"] == event_id]
    assert len(mine) == 1, "the emergency read is in the queue once"
    item = mine[0]
    assert item["object_type"] == "case" and item["object_id"] == vr13_case
    assert item["purpose"] == "emergency"
    assert item["reason"] == "region_unreachable"
    assert item["role"] == "coordinator" and item["kind"] == "break_glass"
    assert item["verdict"] is None and item["reviewed_at"] is None
    ids = [x["id"] for x in pending]
    assert ids == sorted(ids), "oldest first"

    # paging: limit 1 walks the same queue
    first = reviews(nrmd, auditor, limit="1").json()
    assert len(first["items"]) == 1
    if len(pending) > 1:
        assert first["next_after"] == first["items"][0]["id"]
        nxt = reviews(nrmd, auditor, limit="1",
                      cursor=str(first["next_after"])).json()
        assert nxt["items"][0]["id"] > first["items"][0]["id"]

    # the verdict, once
    assert_problem(review(nrmd, auditor, event_id, {"verdict": "maybe"}),
                   422, "validation", "verdict")
    assert_problem(review(nrmd, auditor, event_id, {"verdict": 1}),
                   422, "validation", "verdict")
    assert_problem(review(nrmd, auditor, event_id, {"note": "x"}),
                   422, "validation", "note")
    r = review(nrmd, auditor, event_id, {"verdict": "justified"})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["verdict"] == "justified"
    assert r.json()["event_id"] == event_id
    assert r.json()["reviewed_by"] == bg["auditor"].id
    ev = event_of(db, r)
    assert ev[1:] == ("audit", "allowed", "-")
    again = review(nrmd, auditor, event_id, {"verdict": "unjustified"})
    assert_problem(again, 409, "conflict")
    assert again.json()["verdict"] == "justified"
    assert event_id not in [x["id"] for x in
                            all_reviews(nrmd, auditor, "pending")]
    done = [x for x in all_reviews(nrmd, auditor, "reviewed")
            if x["id"] == event_id]
    assert len(done) == 1 and done[0]["verdict"] == "justified"


def test_review_errors(nrmd, db, bg, vr13_case):
    auditor = bg["auditor"]
    # an event that is not flagged, an unknown one and a malformed id:
    # the same 404
    r = get_case(nrmd, bg["co13"], vr13_case)
    plain = event_of(db, r)[0]
    for eid in (str(plain), "999999999999", "abc", "1" * 30):
        assert_problem(review(nrmd, auditor, eid, {"verdict": "justified"}),
                       404, "not_found")
    r = requests.post(nrmd.url + "/v1/audit/reviews/1", data="{",
                      headers=dict(auth(auditor),
                                   **{"Content-Type": "application/json"}),
                      timeout=15)
    assert r.status_code == 400, r.text[:300]
    assert_problem(reviews(nrmd, auditor, state="open"), 400, "bad_request",
                   "state")
    for bad in ("0", "201", "x", ""):
        assert_problem(reviews(nrmd, auditor, limit=bad), 400,
                       "bad_request", "limit")
    assert_problem(reviews(nrmd, auditor, cursor="-1"), 400, "bad_request",
                   "cursor")
    assert_problem(reviews(nrmd, auditor, verdict="justified"), 400,
                   "bad_request", "verdict")
