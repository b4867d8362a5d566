"""The coordinator inbox end to end (issue 4): GET /v1/inbox with its
scope, order, cursors, filters and refusals, and the long-poll
(?wait=&after=) with its wake-ups: for the caller's regions only, within
a second of the commit, not lost when the daemon's LISTEN connection is
killed, released on SIGTERM.

The cluster is shared by the whole suite, so other modules' cases are in
the same inboxes: every assertion about order or completeness is made on
the cases this module submitted (a subsequence of a sorted list is
sorted), or on the whole listing where it must hold for every case."""

import base64
import concurrent.futures
import json
import re
import subprocess
import threading
import time

import pytest
import requests

from nrm_e2e.api import (
    assert_problem, assert_receipt, auth, metric, post_signal)
from nrm_e2e.cases import MUNICIPALITY
from nrm_e2e.daemon import DaemonPool
from nrm_e2e.env import clean_env, wait_for
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key
from nrm_e2e.signals import (
    PERSONAL, PERSONAL_FRAGMENTS, adult_signal, minor_signal)

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}

# The inbox item (docs/sql-api.md, "The inbox item"): triage facts only.
ITEM_KEYS = {
    "case_id", "reference", "region", "priority", "state", "holder",
    "holder_agency", "transfer",
    "take_by", "first_contact_by", "first_contact_at",
    "first_contact_in_time", "first_contact_escalated", "minor",
    "exploitation", "urgency",
    "declines", "escalated", "closed_reason", "created_at",
    "version", "followups", "last_followup_at",
}
PAGE_KEYS = {"items", "next_cursor", "after"}


# --------------------------------------------------------------------------
# helpers


def get_inbox(d, key, timeout=15, **params):
    """GET /v1/inbox with these query parameters (key None: no token)."""
    h = auth(key) if key is not None else {}
    return requests.get(d.url + "/v1/inbox", params=params, headers=h,
                        timeout=timeout)


def inbox_page(d, key, **params):
    r = get_inbox(d, key, **params)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    body = r.json()
    assert set(body) == PAGE_KEYS, body.keys()
    return body


def inbox_all(d, key, **params):
    """Every item of the caller's inbox (paged by 200)."""
    items, cursor = [], None
    for _ in range(1000):
        p = dict(params, limit=200)
        if cursor:
            p["cursor"] = cursor
        body = inbox_page(d, key, **p)
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("more than 1000 inbox pages")


def watermark(d, key):
    """The `after` of an answer now: the caller's inbox watermark, an
    opaque token (sealed by nrmd; it shows no arrival number)."""
    after = inbox_page(d, key, limit=1)["after"]
    assert re.match(r"^[A-Za-z0-9_-]+$", after), after
    assert not re.match(r"^[0-9]+$", after), after
    return after


def db_seq(cluster, case_id):
    """The case's arrival number (care.case.inbox_seq): no answer shows
    it, the database still orders by it."""
    return cluster.count("select inbox_seq from care.case where id = '%s'"
                         % case_id)


def db_watermark(cluster, regions):
    """The watermark of an inbox of `regions` as a number, as
    api.inbox computes it (the highest inbox_seq of its cases)."""
    return cluster.count(
        "select coalesce(max(inbox_seq), 0) from care.case "
        "where region_code in (%s)" % ", ".join("'%s'" % r for r in regions))


def watermark_and_seq(d, key, cluster, regions):
    """watermark(d, key) and the number it seals: the database's
    watermark, unchanged across the request."""
    for _ in range(5):
        before = db_watermark(cluster, regions)
        w = watermark(d, key)
        if db_watermark(cluster, regions) == before:
            return w, before
    raise AssertionError("the %s watermark kept moving" % (regions,))


def signal_for(region, priority="normal", minor=False):
    """A signal the default rules route to `region` (None: no location,
    the national desk) with `priority`."""
    body = minor_signal() if minor else adult_signal()
    if region is None:
        body.pop("location", None)
    else:
        body["location"] = {"municipality_code": MUNICIPALITY[region]}
    body["urgency"] = {"immediate_danger": priority == "urgent",
                       "needs_shelter": priority == "high"}
    return body


def submit(d, reporter, region, priority="normal", minor=False):
    """Submit a signal; the receipt (a case in `region`)."""
    rec = assert_receipt(post_signal(d, reporter.token,
                                     signal_for(region, priority, minor)))
    assert rec["case_id"], rec
    assert rec["region"] == (region or "NATIONAL"), rec
    if not minor:
        assert rec["priority"] == priority, rec
    return rec


def timed_inbox(d, key, **params):
    """(response, seconds it took, monotonic end): for a thread."""
    t0 = time.monotonic()
    r = get_inbox(d, key, timeout=60, **params)
    t1 = time.monotonic()
    return r, t1 - t0, t1


def ids(items):
    return [it["case_id"] for it in items]


def b64(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def d(workdir, cluster, pki):
    """This module's daemon: no backstop re-check during a test (so a
    wake-up can only come from a notification), long waits allowed."""
    pool = DaemonPool(workdir, cluster, pki)
    daemon = pool(config={"longpoll_recheck": 3600,
                          "longpoll_max_wait": 30})
    yield daemon
    pool.close()


# --------------------------------------------------------------------------
# 1. scope, order, pages, filters, no personal data, refusals


def test_inbox_shows_only_the_callers_regions(d, case_keys, doc):
    k = case_keys
    c13 = submit(d, k["reporter"], "VR13")["case_id"]
    c17 = submit(d, k["reporter"], "VR17")["case_id"]
    cnat = submit(d, k["reporter"], None)["case_id"]

    seen13 = inbox_all(d, k["co13"])
    seen17 = inbox_all(d, k["co17"])
    seen_both = inbox_all(d, k["co13_17"])
    seen_nat = inbox_all(d, k["national"])
    assert c13 in ids(seen13) and c17 not in ids(seen13)
    assert c17 in ids(seen17) and c13 not in ids(seen17)
    assert {c13, c17} <= set(ids(seen_both)) and cnat not in ids(seen_both)
    assert cnat in ids(seen_nat)
    assert c13 not in ids(seen_nat) and c17 not in ids(seen_nat)
    assert {it["region"] for it in seen13} == {"VR13"}
    assert {it["region"] for it in seen17} == {"VR17"}
    assert {it["region"] for it in seen_both} <= {"VR13", "VR17"}
    assert {it["region"] for it in seen_nat} == {"NATIONAL"}
    # the default filter is state=open
    for items in (seen13, seen17, seen_both, seen_nat):
        assert {it["state"] for it in items} == {"open"}

    page = validator(doc, "InboxPage")
    for key in ("co13", "co17", "national"):
        page.validate(inbox_page(d, k[key], limit=5))
    item = [it for it in seen13 if it["case_id"] == c13][0]
    assert set(item) == ITEM_KEYS, item
    assert item["holder"] is None and item["holder_agency"] is None
    assert item["declines"] == 0 and item["escalated"] is False
    assert item["closed_reason"] is None and item["version"] == 1
    assert item["exploitation"] == ["labour"] and item["minor"] is False
    assert item["urgency"] == {"immediate_danger": False,
                               "needs_shelter": False}


def test_inbox_order_priority_then_take_by_then_arrival(d, case_keys,
                                                        cluster):
    k = case_keys
    rep = k["reporter"]
    c = {}
    # arrival order; the default rules set the deadlines:
    c["norm1"] = submit(d, rep, "VR13", "normal")            # P1D
    c["high1"] = submit(d, rep, "VR13", "high")              # PT2H
    c["urg_1h"] = submit(d, rep, "VR13", "urgent")           # PT1H
    c["norm2"] = submit(d, rep, "VR13", "normal")            # P1D
    c["urg_30m"] = submit(d, rep, "VR13", "urgent", minor=True)  # PT30M
    c["high2"] = submit(d, rep, "VR13", "high")              # PT2H
    c["urg_1h_b"] = submit(d, rep, "VR13", "normal", minor=True)  # PT1H
    assert c["urg_30m"]["priority"] == "urgent"
    assert c["urg_30m"]["rule_id"] == "minor-immediate-danger"
    assert c["urg_1h_b"]["priority"] == "urgent"
    assert c["urg_1h_b"]["rule_id"] == "minor"
    # Arrival decides only between equal deadlines, which two signals
    # never have by themselves: give norm2 the very deadline of norm1
    # (the test's clock trick; it changes no inbox_seq).
    cluster.sql(
        "update care.case set take_by = (select take_by from care.case "
        "where id = '%s') where id = '%s'"
        % (c["norm1"]["case_id"], c["norm2"]["case_id"]))

    items = inbox_all(d, k["co13"])
    mine = {v["case_id"]: name for name, v in c.items()}
    order = [mine[i] for i in ids(items) if i in mine]
    assert order == ["urg_30m", "urg_1h", "urg_1h_b", "high1", "high2",
                     "norm1", "norm2"], order
    by_name = {mine[it["case_id"]]: it for it in items
               if it["case_id"] in mine}
    assert by_name["norm1"]["take_by"] == by_name["norm2"]["take_by"]
    # arrival decided it: norm1 entered the inbox first (the answer shows
    # no arrival number; the database has it)
    assert db_seq(cluster, c["norm1"]["case_id"]) < \
        db_seq(cluster, c["norm2"]["case_id"])
    # the whole listing, whoever submitted: priority, then deadline
    keys_ = [(PRIORITY_RANK[it["priority"]], it["take_by"]) for it in items]
    assert keys_ == sorted(keys_)


def test_inbox_cursor_pages_are_complete_while_cases_arrive(d, case_keys):
    k = case_keys
    rep = k["reporter"]
    mine = [submit(d, rep, "VR13", p)["case_id"] for p in
            ("normal", "urgent", "high", "normal", "high", "urgent",
             "normal")]
    before = ids(inbox_all(d, k["co13"]))
    assert set(mine) <= set(before)
    assert len(before) == len(set(before))

    arrived = {}
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        body = inbox_page(d, k["co13"], **params)
        assert len(body["items"]) <= 2
        seen += ids(body["items"])
        pages += 1
        if pages == 1:
            # a case sorting last (normal, latest deadline) and one that
            # may sort before the cursor arrive between pages
            arrived["late"] = submit(d, rep, "VR13", "normal")["case_id"]
            arrived["early"] = submit(d, rep, "VR13", "urgent",
                                      minor=True)["case_id"]
        if pages == 3:
            arrived["late2"] = submit(d, rep, "VR13", "normal")["case_id"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["items"]) == 2, "a cursor after a short page"
        assert re.match(r"^[A-Za-z0-9_-]+=*$", cursor), cursor
        assert pages < 5000
    dups = {i for i in seen if seen.count(i) > 1}
    assert not dups, "cases on two pages: %s" % sorted(dups)
    # every case that was in the inbox before and still is (a sweeper
    # may escalate another test's overdue case meanwhile; none of ours)
    stayed = set(before) & set(ids(inbox_all(d, k["co13"])))
    assert set(mine) <= stayed
    missing = stayed - set(seen)
    assert not missing, "cases on no page: %s" % sorted(missing)
    # the ones sorting after the cursor show once; the other at most once
    assert seen.count(arrived["late"]) == 1
    assert seen.count(arrived["late2"]) == 1
    assert seen.count(arrived["early"]) <= 1
    assert set(seen) <= set(before) | set(arrived.values())
    assert pages >= 4


def test_inbox_filters_state_and_priority(d, case_keys):
    k = case_keys
    rep = k["reporter"]
    urgent = submit(d, rep, "VR13", "urgent")["case_id"]
    taken = submit(d, rep, "VR13", "high")["case_id"]
    closed = submit(d, rep, "VR13", "normal")["case_id"]
    for cid in (taken, closed):
        r = requests.post(d.url + "/v1/cases/%s/take" % cid,
                          headers=auth(k["co13"]), timeout=10)
        assert r.status_code == 200, r.text[:300]
    r = requests.post(d.url + "/v1/cases/%s/close" % closed,
                      headers=auth(k["co13"]), json={"reason": "duplicate"},
                      timeout=10)
    assert r.status_code == 200, r.text[:300]

    open_ = inbox_all(d, k["co13"], state="open")
    assert urgent in ids(open_)
    assert taken not in ids(open_) and closed not in ids(open_)
    t = inbox_all(d, k["co13"], state="taken")
    assert taken in ids(t) and urgent not in ids(t)
    assert {it["state"] for it in t} == {"taken"}
    item = [it for it in t if it["case_id"] == taken][0]
    assert item["holder"] == k["co13"].id
    assert item["holder_agency"] == k["co13"].agency
    cl = inbox_all(d, k["co13"], state="closed")
    assert closed in ids(cl) and {it["state"] for it in cl} == {"closed"}
    assert [it for it in cl if it["case_id"] == closed][0][
        "closed_reason"] == "duplicate"
    # issue 18: a fourth state, transfers awaiting an answer
    pend = inbox_all(d, k["co13"], state="transfer_pending")
    assert {it["state"] for it in pend} <= {"transfer_pending"}
    every = ids(inbox_all(d, k["co13"], state="all"))
    assert {urgent, taken, closed} <= set(every)
    assert len(every) == len(open_) + len(t) + len(cl) + len(pend)

    for prio in ("urgent", "high", "normal"):
        items = inbox_all(d, k["co13"], priority=prio)
        assert {it["priority"] for it in items} == {prio}
        assert (urgent in ids(items)) == (prio == "urgent")
    hi_taken = inbox_all(d, k["co13"], state="taken", priority="high")
    assert taken in ids(hi_taken)
    assert taken not in ids(inbox_all(d, k["co13"], state="taken",
                                      priority="normal"))


def test_inbox_items_carry_no_personal_data(d, case_keys):
    k = case_keys
    rep = k["reporter"]
    refs = []
    bodies = [adult_signal(), minor_signal(), signal_for("VR13", "urgent")]
    utf8 = adult_signal()
    utf8["subject"]["given_name"] = PERSONAL["given_name_utf8"]
    utf8["subject"]["family_name"] = PERSONAL["family_name_utf8"]
    bodies.append(utf8)
    cases = []
    for body in bodies:
        refs.append(body["reporter_reference"])
        cases.append(assert_receipt(post_signal(d, rep.token, body))[
            "case_id"])
    # one of them taken and one closed: every state's listing
    requests.post(d.url + "/v1/cases/%s/take" % cases[1],
                  headers=auth(k["co13"]), timeout=10)
    requests.post(d.url + "/v1/cases/%s/take" % cases[2],
                  headers=auth(k["co13"]), timeout=10)
    requests.post(d.url + "/v1/cases/%s/close" % cases[2],
                  headers=auth(k["co13"]), json={"reason": "other"},
                  timeout=10)

    r = get_inbox(d, k["co13"], state="all", limit=200)
    assert r.status_code == 200
    texts = [r.text]
    found = set()
    cursor = r.json()["next_cursor"]
    found |= set(ids(r.json()["items"]))
    while cursor:
        r = get_inbox(d, k["co13"], state="all", limit=200, cursor=cursor)
        texts.append(r.text)
        found |= set(ids(r.json()["items"]))
        cursor = r.json()["next_cursor"]
    assert set(cases) <= found
    raw = "".join(texts)
    decoded = "".join(json.dumps(json.loads(t), ensure_ascii=False)
                      for t in texts)
    values = set(PERSONAL.values()) | set(PERSONAL_FRAGMENTS) | set(refs)
    for text in (raw, decoded):
        for v in sorted(values):
            assert v not in text, "the inbox holds %r" % v
    for t in texts:
        for it in json.loads(t)["items"]:
            assert set(it) == ITEM_KEYS, sorted(it)


# Stand-ins in BAD_PARAMS for tokens the daemon gave (the test asks for
# them): a real watermark and cursor, and each with one character changed.
REAL_AFTER = "<real after>"
REAL_CURSOR = "<real cursor>"
CHANGED_AFTER = "<changed after>"
CHANGED_CURSOR = "<changed cursor>"


def changed(token):
    """`token` with one character in its middle replaced (not the last,
    whose low bits base64 may not use)."""
    i = len(token) // 2
    return token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1:]


BAD_PARAMS = [
    ("limit_zero", {"limit": "0"}, "limit"),
    ("limit_201", {"limit": "201"}, "limit"),
    ("limit_word", {"limit": "ten"}, "limit"),
    ("limit_negative", {"limit": "-1"}, "limit"),
    ("limit_fraction", {"limit": "1.5"}, "limit"),
    ("cursor_garbage", {"cursor": "!!not-base64!!"}, "cursor"),
    ("cursor_array", {"cursor": b64("[1,2,3]")}, "cursor"),
    ("cursor_other_keys", {"cursor": b64('{"x": 1}')}, "cursor"),
    ("cursor_bad_time", {"cursor": b64('{"p": 0, "d": "soon", "s": 1}')},
     "cursor"),
    ("cursor_bad_rank", {"cursor": b64(
        '{"p": 7, "d": "2024-05-01T13:00:00.000000Z", "s": 1}')}, "cursor"),
    ("cursor_too_long", {"cursor": "A" * 2000}, "cursor"),
    ("after_word", {"after": "latest"}, "after"),
    ("after_negative", {"after": "-1"}, "after"),
    ("after_too_long", {"after": "9" * 40}, "after"),
    # a number is no token (it was the watermark's form before it was
    # sealed), nor is a token of another kind or a changed one
    ("after_zero", {"after": "0"}, "after"),
    ("after_digits", {"after": "4711"}, "after"),
    ("after_base64_digits", {"after": b64("4711")}, "after"),
    ("after_is_a_cursor", {"after": REAL_CURSOR}, "after"),
    ("after_changed", {"after": CHANGED_AFTER}, "after"),
    ("cursor_is_an_after", {"cursor": REAL_AFTER}, "cursor"),
    ("cursor_changed", {"cursor": CHANGED_CURSOR}, "cursor"),
    # (not "pending": the allowed list names transfer_pending, issue 18)
    ("state_unknown", {"state": "shredded"}, "state"),
    ("state_upper", {"state": "OPEN"}, "state"),
    ("state_too_long", {"state": "open-and-taken"}, "state"),
    ("priority_unknown", {"priority": "low"}, "priority"),
    ("wait_word", {"wait": "forever", "after": REAL_AFTER}, "wait"),
    ("wait_negative", {"wait": "-5", "after": REAL_AFTER}, "wait"),
    # `after` is checked before `wait` (nrmd/handlers/inbox.c nrm_h_inbox)
    ("wait_word_after_made_up", {"wait": "forever", "after": "0"},
     "after"),
]


@pytest.mark.parametrize("name,params,field", BAD_PARAMS,
                         ids=[b[0] for b in BAD_PARAMS])
def test_inbox_bad_parameters_are_400_with_field(d, case_keys, name, params,
                                                 field):
    co = case_keys["co13"]
    if any(v.startswith("<") for v in params.values()):
        submit(d, case_keys["reporter"], "VR13")  # a full page of 1
        page = inbox_page(d, co, limit=1)
        assert page["next_cursor"], page
        real = {REAL_AFTER: page["after"], REAL_CURSOR: page["next_cursor"],
                CHANGED_AFTER: changed(page["after"]),
                CHANGED_CURSOR: changed(page["next_cursor"])}
        # the real ones are good on their own
        assert inbox_page(d, co, after=page["after"])["items"] == []
        assert inbox_page(d, co, limit=1, cursor=page["next_cursor"])
        params = {p: real.get(v, v) for p, v in params.items()}
    r = get_inbox(d, co, **params)
    p = assert_problem(r, 400, "bad_request", field)
    for v in params.values():
        if len(v) > 3:
            assert v not in p["detail"], p


def test_inbox_refuses_other_roles_and_no_token(d, case_keys, cluster):
    k = case_keys
    r = get_inbox(d, None)
    assert_problem(r, 401, "unauthenticated")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    r = requests.get(d.url + "/v1/inbox", timeout=10, headers={
        "Authorization": "Bearer " + "x" * 43})
    assert_problem(r, 401, "unauthenticated")
    for who in ("reporter", "assessor", "analyst"):
        r = get_inbox(d, k[who])
        assert_problem(r, 403, "forbidden")
        rows = cluster.sql(
            "select action, outcome, reason from audit.event "
            "where request_id = '%s'" % r.headers["X-Request-Id"])
        assert rows == [["inbox.list", "denied", "role_not_permitted"]], \
            (who, rows)


def test_inbox_listing_is_one_audit_event(d, case_keys, cluster):
    k = case_keys
    submit(d, k["reporter"], "VR13")
    r = get_inbox(d, k["co13"], limit=50)
    assert r.status_code == 200 and r.json()["items"]
    rows = cluster.sql(
        "select action, object_type, coalesce(object_id, '-'), purpose, "
        "outcome, api_key_id from audit.event where request_id = '%s'"
        % r.headers["X-Request-Id"])
    assert rows == [["inbox.list", "inbox", "-", "care", "allowed",
                     k["co13"].id]], rows


# --------------------------------------------------------------------------
# 2. long-poll


def test_longpoll_wakes_for_its_region_and_not_another(d, case_keys,
                                                       cluster):
    k = case_keys
    w13, seq13 = watermark_and_seq(d, k["co13"], cluster, ["VR13"])
    w17 = watermark(d, k["co17"])
    assert metric(d, "nrm_inbox_longpolls_waiting") == 0
    wakeups = metric(d, "nrm_inbox_wakeups_total")
    woke = metric(d, "nrm_inbox_wakeup_latency_seconds_count")
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        f13 = ex.submit(timed_inbox, d, k["co13"], wait=10, after=w13)
        f17 = ex.submit(timed_inbox, d, k["co17"], wait=2, after=w17)
        wait_for(lambda: metric(d, "nrm_inbox_longpolls_waiting") == 2, 5,
                 what="two long-polls waiting")
        rec = submit(d, k["reporter"], "VR13", "urgent")
        committed = time.monotonic()  # the 201 follows the commit
        r13, took13, end13 = f13.result(timeout=15)
        r17, took17, _ = f17.result(timeout=15)

    assert r13.status_code == 200, r13.text[:300]
    body = r13.json()
    assert rec["case_id"] in ids(body["items"]), body
    latency = end13 - committed
    assert latency < 2.0, "long-poll answered %.3fs after the commit" % \
        latency
    assert took13 < 9, took13
    # every item arrived after w13 (by the arrival numbers the database
    # keeps; the answer shows none) ...
    assert all(db_seq(cluster, it["case_id"]) > seq13
               for it in body["items"])
    # ... and the answer's watermark covers them all: a new token, and
    # nothing of this answer is newer than it
    assert body["after"] != w13
    newer = ids(inbox_page(d, k["co13"], state="all",
                           after=body["after"])["items"])
    assert not set(newer) & set(ids(body["items"])), newer
    # the VR17 long-poll was not answered with the VR13 case: it waited
    # its whole wait and answered an empty page
    assert r17.status_code == 200, r17.text[:300]
    assert r17.json() == {"items": [], "next_cursor": None, "after": w17}
    assert 1.5 <= took17 <= 4.0, took17
    # ... and was not even woken (this daemon has no backstop re-check)
    assert metric(d, "nrm_inbox_wakeups_total") - wakeups == 1
    assert metric(d, "nrm_inbox_longpolls_waiting") == 0
    # issue 21: one wake-up answered with cases is one observation of the
    # wake-up latency histogram (the VR17 long-poll was never woken)
    assert metric(d, "nrm_inbox_wakeup_latency_seconds_count") - woke == 1


def test_longpoll_answers_at_once_when_a_newer_case_exists(d, case_keys):
    k = case_keys
    w = watermark(d, k["co13"])
    rec = submit(d, k["reporter"], "VR13")
    r, took, _ = timed_inbox(d, k["co13"], wait=10, after=w)
    assert r.status_code == 200
    assert ids(r.json()["items"]) == [rec["case_id"]], r.text[:500]
    assert took < 1.0, took
    # `after` alone (no wait) filters too: only cases newer than it
    assert ids(inbox_page(d, k["co13"], after=w)["items"]) == \
        [rec["case_id"]]
    # `wait` without `after` is an ordinary listing, answered at once
    r, took, _ = timed_inbox(d, k["co13"], wait=10, limit=1)
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    assert took < 1.0, took


def test_longpoll_without_new_cases_ends_empty_and_is_capped(
        nrmd_factory, case_keys):
    # a backstop re-check every second: it queries, finds nothing newer,
    # and must not answer before the wait ends
    dd = nrmd_factory(config={"longpoll_recheck": 1,
                              "longpoll_max_wait": 3})
    co = case_keys["co09"]
    w = watermark(dd, co)
    wakeups = metric(dd, "nrm_inbox_wakeups_total")
    r, took, _ = timed_inbox(dd, co, wait=2, after=w)
    assert r.status_code == 200, r.text[:300]
    assert r.json() == {"items": [], "next_cursor": None, "after": w}
    assert 1.5 <= took <= 4.0, took
    assert metric(dd, "nrm_inbox_wakeups_total") > wakeups, \
        "the backstop re-check did not run"
    # a wait beyond longpoll_max_wait is cut to it
    r, took, _ = timed_inbox(dd, co, wait=600, after=w)
    assert r.status_code == 200
    assert r.json()["items"] == []
    assert 2.5 <= took <= 5.0, took


def test_killed_listen_connection_loses_no_wakeup(nrmd_factory, case_keys,
                                                  cluster):
    """Terminate the daemon's LISTEN backend and keep it from coming back
    while a case arrives (so that case's NOTIFY is certainly lost): the
    waiting long-poll is answered with the case once the listener is back
    (the re-check after reconnecting), not by a backstop (none within the
    test: longpoll_recheck is an hour), and later wake-ups work again."""
    k = case_keys
    since = cluster.scalar("select clock_timestamp()")
    dd = nrmd_factory(config={"longpoll_recheck": 3600,
                              "db_reconnect_max": 1})

    def listener():
        rows = cluster.sql(
            "select pid from pg_stat_activity where application_name = "
            "'nrmd' and query ilike 'LISTEN%%' and backend_start >= '%s'"
            % since)
        return rows[0][0] if len(rows) == 1 else None

    pid = wait_for(listener, 10, what="the daemon's LISTEN backend")
    wait_for(lambda: metric(dd, "nrm_db_listening") == 1, 5)
    w = watermark(dd, k["co13"])
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        f = ex.submit(timed_inbox, dd, k["co13"], wait=25, after=w)
        wait_for(lambda: metric(dd, "nrm_inbox_longpolls_waiting") == 1, 5)
        try:
            # existing connections stay; the listener cannot reconnect
            cluster.sql("alter role nrm_app connection limit 0")
            assert cluster.scalar(
                "select pg_terminate_backend(%s, 5000)" % pid) == "t"
            wait_for(lambda: metric(dd, "nrm_db_listening") == 0, 5,
                     what="the daemon to notice the lost listener")
            rec = submit(dd, k["reporter"], "VR13")
            time.sleep(1.0)  # the NOTIFY went nowhere
            early = f.done()
        finally:
            cluster.sql("alter role nrm_app connection limit -1")
        restored = time.monotonic()
        r, took, end = f.result(timeout=30)
    assert r.status_code == 200, r.text[:300]
    assert rec["case_id"] in ids(r.json()["items"]), r.text[:500]
    if not early:
        assert end - restored < 4.0, \
            "answered %.1fs after the listener could reconnect" % (
                end - restored)
    assert took < 20, took
    wait_for(lambda: metric(dd, "nrm_db_listening") == 1, 5,
             what="the listener to come back")
    assert listener() not in (None, pid)
    log = dd.log_text()
    assert "listen connection lost" in log
    assert log.count("listen connection up") >= 2

    # wake-ups by notification work again
    w2 = watermark(dd, k["co13"])
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        f = ex.submit(timed_inbox, dd, k["co13"], wait=10, after=w2)
        wait_for(lambda: metric(dd, "nrm_inbox_longpolls_waiting") == 1, 5)
        rec2 = submit(dd, k["reporter"], "VR13")
        committed = time.monotonic()
        r, took, end = f.result(timeout=15)
    assert r.status_code == 200
    assert ids(r.json()["items"]) == [rec2["case_id"]]
    assert end - committed < 2.0, end - committed


def test_sigterm_answers_waiting_longpolls(nrmd_factory, case_keys):
    dd = nrmd_factory()
    co = case_keys["co17"]
    w = watermark(dd, co)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        fs = [ex.submit(timed_inbox, dd, co, wait=30, after=w)
              for _ in range(2)]
        wait_for(lambda: metric(dd, "nrm_inbox_longpolls_waiting") == 2, 5)
        t0 = time.monotonic()
        rc = dd.stop()
        for f in fs:
            r, took, end = f.result(timeout=15)
            assert r.status_code == 200, r.text[:300]
            assert r.json() == {"items": [], "next_cursor": None,
                                "after": w}
            assert end - t0 < 3.0, end - t0
    assert rc == 0, dd.log_text()[-2000:]


def test_inbox_tokens_do_not_tell_the_size_of_the_count(d, case_keys,
                                                        cluster):
    """Arrival numbers are national (one sequence): a token whose length
    followed the number of digits would tell a coordinator roughly how
    many cases the whole country has seen.  Watermarks and cursors are
    padded before sealing, so every token of a kind has one length,
    from a region with no case at all (watermark 0) to a busy one."""
    import uuid

    k = case_keys
    # VR11 (Zeeland): no test routes a case there
    empty = create_key(cluster, "coordinator",
                       "Zorg Leeg " + uuid.uuid4().hex[:6], "care_agency",
                       regions=("VR11",))
    submit(d, k["reporter"], "VR13", "normal")
    submit(d, k["reporter"], "VR13", "urgent")
    afters = {inbox_page(d, key, state="all")["after"]
              for key in (empty, k["co13"], k["co17"], k["national"])}
    assert len(afters) >= 2, "different watermarks, different tokens"
    assert len({len(a) for a in afters}) == 1, sorted(afters, key=len)
    cursors = set()
    for key in (k["co13"], k["co13_17"]):
        body = inbox_page(d, key, state="all", limit=1)
        assert body["next_cursor"] is not None
        cursors.add(body["next_cursor"])
        body = inbox_page(d, key, state="all", limit=1,
                          cursor=body["next_cursor"])
        if body["next_cursor"] is not None:
            cursors.add(body["next_cursor"])
    assert len(cursors) >= 2
    assert len({len(c) for c in cursors}) == 1, sorted(cursors, key=len)


# --------------------------------------------------------------------------
# 3. entries that commit out of order (issue 16: no national inbox lock)


class HeldEntry:
    """A psql session that declines a case (api.case_decline as nrm_app,
    with its token: the case enters its region's inbox again) in a
    transaction it holds open until commit()."""

    def __init__(self, cluster, key, case_id, name):
        self.cluster, self.name = cluster, name
        cmd = cluster._psql_cmd("")[:-2]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True,
                                  env=clean_env())
        self.send("SET application_name = '%s';\nSET ROLE nrm_app;\n"
                  "BEGIN;\nSELECT api.case_decline(sha256('%s'::bytea), "
                  "'req-%s', NULL, '%s'::uuid, NULL, 'no_capacity');\n"
                  % (name, key.token, name, case_id))
        # entered: its transaction has an id and waits for the commit
        wait_for(lambda: cluster.count(
            "select count(*) from pg_stat_activity where application_name"
            " = '%s' and state = 'idle in transaction' and backend_xid is "
            "not null" % name) == 1, 15, what="%s entered" % name)

    def send(self, text):
        self.p.stdin.write(text)
        self.p.stdin.flush()

    def commit(self):
        self.send("COMMIT;\n")
        self.p.stdin.close()
        assert self.p.wait(timeout=30) == 0, self.p.stderr.read()


def test_longpoll_skips_no_entry_that_commits_late(d, case_keys, cluster):
    """Six transactions decline six VR13 cases and stay open, in order
    (each draws a higher inbox_seq than the one before); then they
    commit in the reverse order, with a new VR13 case committed before
    each.  Entries no longer wait for each other, and a coordinator who
    long-polls all along (each request after the last answer's `after`)
    gets every one of them exactly once: the late commits are not
    skipped, nothing comes twice (docs/inbox.md)."""
    k = case_keys
    n = 6
    cases = [submit(d, k["reporter"], "VR13")["case_id"] for _ in range(n)]
    after = watermark(d, k["co13"])
    seen = []
    stop = threading.Event()
    failures = []

    def consume():
        cur = after
        while not stop.is_set():
            r = get_inbox(d, k["co13"], timeout=60, state="all", limit=200,
                          wait=3, after=cur)
            if r.status_code != 200:
                failures.append((r.status_code, r.text[:300]))
                return
            body = r.json()
            assert body["next_cursor"] is None, "more than 200 newer cases"
            seen.extend(ids(body["items"]))
            cur = body["after"]

    consumer = threading.Thread(target=consume)
    consumer.start()
    held, fresh = [], []
    try:
        for i, case_id in enumerate(cases):
            held.append(HeldEntry(cluster, k["co13b"], case_id,
                                  "late-%d-%s" % (i, case_id[:8])))
        # the held entries drew their numbers in order, none committed
        assert not set(cases) & set(seen), seen
        for h in reversed(held):
            fresh.append(submit(d, k["reporter"], "VR13")["case_id"])
            wait_for(lambda: fresh[-1] in seen, 10,
                     what="the fresh case delivered")
            h.commit()
        mine = set(cases) | set(fresh)
        wait_for(lambda: mine <= set(seen), 15,
                 what="every late entry delivered")
    finally:
        stop.set()
        for h in held:
            if h.p.poll() is None:
                h.p.kill()
        consumer.join(timeout=30)
    assert not failures, failures
    assert mine <= set(seen), mine - set(seen)
    got = [c for c in seen if c in mine]
    assert len(got) == len(set(got)), "an entry came twice: %s" % got
    # the case that drew first committed last: it came after the others
    seqs = [db_seq(cluster, c) for c in cases]
    assert seqs == sorted(seqs), seqs
    assert got.index(cases[0]) > got.index(cases[-1]), got
    # and each came as declined, open in VR13
    states = cluster.sql("select state, region_code, declines from care.case"
                         " where id in (%s)"
                         % ", ".join("'%s'" % c for c in cases))
    assert states == [["open", "VR13", "1"]] * n, states
