"""Cases end to end (issue 4): the audited case read, every cell of the
state table of docs/case-lifecycle.md driven over HTTP, If-Match and
412, declines and the national desk, transfers, closing and reopening
reasons, 404 for other regions, exactly one holder among racing takers
on two daemons, and escalation of overdue cases exactly once with two
sweeping daemons.

The state table and the reason lists are read from
docs/case-lifecycle.md, so the test follows the documented rules, not a
copy of them."""

import concurrent.futures
import datetime
import json
import re
import threading
import time
import uuid

import pytest
import requests

from nrm_e2e.api import (
    assert_problem, assert_receipt, auth, metric, ok, post_signal)
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.daemon import one_daemon
from nrm_e2e.env import ROOT, wait_for
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key, key_id
from nrm_e2e.signals import PERSONAL, adult_signal

LIFECYCLE_DOC = ROOT / "docs" / "case-lifecycle.md"

ACTIONS = ("take", "decline", "transfer", "close", "reopen", "contact",
           "accept", "refuse", "merge")
HISTORY_ACTION = {"take": "taken", "decline": "declined",
                  "transfer": "transferred", "close": "closed",
                  "reopen": "reopened", "contact": "first_contact",
                  "accept": "transfer_accepted",
                  "refuse": "transfer_refused", "merge": "merged"}
# The route of an action below /v1/cases/{id}/ (its name otherwise).
ROUTE = {"accept": "transfer/accept", "refuse": "transfer/refuse"}


def audited(action):
    """The audit event's action of a lifecycle action."""
    return "case." + ROUTE.get(action, action).replace("/", "_")

# The daemon of this module gives transferred and reopened cases these
# deadlines (seconds), distinct from every routing rule's.
TRANSFER_TAKE = 7200
TRANSFER_CONTACT = 43200


# --------------------------------------------------------------------------
# the documented rules


def state_table():
    """{(position, action): new state or None (409)} from the table
    between the state-table markers of docs/case-lifecycle.md."""
    text = LIFECYCLE_DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- state-table:begin -->(.*?)<!-- state-table:end -->",
                  text, re.S)
    assert m, "no state table in %s" % LIFECYCLE_DOC
    rows = [[c.strip().strip("`") for c in line.strip().strip("|")
             .split("|")] for line in m.group(1).strip().splitlines()]
    head, rows = rows[0], rows[2:]
    assert head[1:] == list(ACTIONS), head
    table = {}
    for row in rows:
        for action, cell in zip(ACTIONS, row[1:]):
            table[(row[0], action)] = None if cell == "409" else cell
    assert {p for p, _ in table} == {
        "open", "taken_by_caller", "taken_by_other", "closed",
        "pending_held_by_caller", "pending_sent", "pending_received",
        "merged"}, table
    return table


def reason_lists():
    """{action: [reason codes]} from the "Reason codes" table."""
    text = LIFECYCLE_DOC.read_text(encoding="utf-8")
    part = text.split("## Reason codes", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in part.splitlines():
        m = re.match(r"^\|\s*(decline|transfer|close|reopen)\s*\|(.*)\|$",
                     line.strip())
        if m:
            out[m.group(1)] = re.findall(r"`([a-z_]+)`", m.group(2))
    assert set(out) == {"decline", "transfer", "close", "reopen"}, out
    return out


STATE_TABLE = state_table()
REASONS = reason_lists()
CELLS = sorted(STATE_TABLE)

BODY = {
    "take": None,
    "decline": {"reason": "no_capacity"},
    "transfer": {"target_region": "VR09", "reason": "wrong_region"},
    "close": {"reason": "victim_supported"},
    "reopen": {"reason": "new_information"},
    "contact": {"mode": "phone"},  # "at": now, added by body_of()
    "accept": None,
    "refuse": {"reason": "no_capacity"},
    "merge": {"reason": "same_situation"},  # "into": by merge_body()
}


def merge_body(d, k):
    """A merge's body: into a fresh VR13 case (every adult_signal() is
    the same person)."""
    return dict(BODY["merge"], into=new_case(d, k["reporter"])["case_id"])


def body_of(action):
    """The action's body; a contact's "at" is the moment of the call."""
    body = BODY[action]
    if action == "contact":
        body = dict(body, at=datetime.datetime.now(
            datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return body


# --------------------------------------------------------------------------
# helpers


def national_case(d, reporter):
    body = adult_signal()
    body.pop("location")
    rec = assert_receipt(post_signal(d, reporter.token, body))
    assert rec["region"] == "NATIONAL", rec
    return rec["case_id"]


def act(d, key, case_id, action, body=None, if_match=None, session=None,
        headers=None):
    h = auth(key) if key is not None else {}
    if if_match is not None:
        h["If-Match"] = if_match
    if headers:
        h.update(headers)
    http = session or requests
    url = "%s/v1/cases/%s/%s" % (d.url, case_id, ROUTE.get(action, action))
    if body is None:
        return http.post(url, headers=h, timeout=15)
    if isinstance(body, (bytes, str)):
        return http.post(url, data=body, headers=h, timeout=15)
    return http.post(url, json=body, headers=h, timeout=15)


def db_case(cluster, case_id):
    rows = cluster.sql(
        "select state, coalesce(holder_key_id::text, ''), region_code, "
        "version, declines, coalesce(closed_reason, ''), inbox_seq, "
        "coalesce(escalated_at::text, '') from care.case where id = '%s'"
        % case_id)
    assert len(rows) == 1, rows
    s, h, reg, v, dec, cr, seq, esc = rows[0]
    return {"state": s, "holder": h or None, "region": reg,
            "version": int(v), "declines": int(dec),
            "closed_reason": cr or None, "inbox_seq": int(seq),
            "escalated_at": esc or None}


def history(cluster, case_id):
    """[(action, key id or None, detail json)] oldest first."""
    rows = cluster.sql(
        "select action, coalesce(api_key_id::text, ''), detail::text "
        "from care.case_history where case_id = '%s' order by id" % case_id)
    return [(a, k or None, json.loads(dt)) for a, k, dt in rows]


def audit(cluster, request_id):
    return cluster.sql(
        "select action, coalesce(object_id, ''), coalesce(purpose, ''), "
        "outcome, coalesce(reason, ''), coalesce(api_key_id::text, '') "
        "from audit.event where request_id = '%s' order by id" % request_id)


def inbox_ids(d, key, **params):
    out, cursor = [], None
    while True:
        p = dict(params, limit=200)
        if cursor:
            p["cursor"] = cursor
        r = requests.get(d.url + "/v1/inbox", params=p, headers=auth(key),
                         timeout=15)
        body = ok(r)
        out += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return out


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def seconds_from_now(text):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (parse_time(text) - now).total_seconds()


@pytest.fixture(scope="module")
def d(workdir, cluster, pki):
    yield from one_daemon(workdir, cluster, pki, config={
        "transfer_take_within": TRANSFER_TAKE,
        "transfer_first_contact_within": TRANSFER_CONTACT,
        "longpoll_recheck": 3600})


def put_case_in(d, k, position):
    """A fresh VR13 case in `position`, as seen by co13 (the caller); for
    pending_received a VR09 case its coordinator sent to VR13."""
    if position == "pending_received":
        cid = new_case(d, k["reporter"], "VR09")["case_id"]
        ok(act(d, k["co09"], cid, "transfer",
               {"target_region": "VR13", "reason": "wrong_region"}))
        return cid
    cid = new_case(d, k["reporter"])["case_id"]
    if position in ("taken_by_caller", "closed", "pending_held_by_caller"):
        ok(act(d, k["co13"], cid, "take"))
    elif position in ("taken_by_other", "pending_sent"):
        ok(act(d, k["co13b"], cid, "take"))
    if position == "closed":
        ok(act(d, k["co13"], cid, "close", {"reason": "other"}))
    elif position == "merged":
        ok(act(d, k["co13"], cid, "merge", merge_body(d, k)))
    elif position.startswith("pending_"):
        sender = k["co13"] if position == "pending_held_by_caller" else \
            k["co13b"]
        ok(act(d, sender, cid, "transfer", BODY["transfer"]))
    return cid


# --------------------------------------------------------------------------
# the case read


def test_case_read_by_the_regions_coordinator(d, case_keys, cluster, doc):
    k = case_keys
    body = adult_signal()
    ref = body["reporter_reference"]
    cid = new_case(d, k["reporter"], body=body)["case_id"]
    r = get_case(d, k["co13"], cid)
    c = ok(r)
    validator(doc, "Case").validate(c)
    assert r.headers.get("ETag") == '"%d"' % c["version"]
    assert c["version"] == c["case"]["version"] == 1
    assert r.headers.get("Cache-Control") == "no-store"
    assert c["subject"] == {
        "given_name": PERSONAL["given_name"],
        "family_name": PERSONAL["family_name"],
        "birth_date": PERSONAL["birth_date"],
        "phone": PERSONAL["phone"],
        "address": PERSONAL["address"],
        "narrative": PERSONAL["narrative"],
    }
    assert c["signal"]["reporter_reference"] == ref
    assert c["signal"]["reporter"] == {"agency": k["reporter"].agency,
                                       "kind": "police"}
    assert c["signal"]["routed_region"] == "VR13"
    assert c["case"]["case_id"] == cid and c["case"]["region"] == "VR13"
    assert [h["action"] for h in c["history"]] == ["routed"]
    assert c["history"][0]["by"] == k["reporter"].id
    assert audit(cluster, r.headers["X-Request-Id"]) == [
        ["case.read", cid, "care", "allowed", "", k["co13"].id]]

    # the history grows, newest first; the ETag follows the version
    ok(act(d, k["co13"], cid, "take"))
    r = get_case(d, k["co13"], cid, purpose="identification")
    c = ok(r)
    assert [h["action"] for h in c["history"]] == ["taken", "routed"]
    assert c["history"][0]["by"] == k["co13"].id
    assert r.headers.get("ETag") == '"2"' and c["version"] == 2
    assert audit(cluster, r.headers["X-Request-Id"])[0][:4] == [
        "case.read", cid, "identification", "allowed"]

    # a purpose is a code, never free text
    r = get_case(d, k["co13"], cid, purpose="Checking up on her")
    p = assert_problem(r, 400, "bad_request", "purpose")
    assert "Checking" not in p["detail"]


def test_case_read_out_of_scope_is_the_unknown_404(d, case_keys, cluster,
                                                   doc):
    k = case_keys
    cid = new_case(d, k["reporter"])["case_id"]
    unknown = str(uuid.uuid4())
    answers = {}
    for name, case_id in (("out_of_scope", cid), ("not_found", unknown),
                          ("malformed", "not-a-case-id")):
        r = get_case(d, k["co17"], case_id)
        p = assert_problem(r, 404, "not_found", None)
        validator(doc, "Problem").validate(p)
        answers[name] = {x: p[x] for x in p if x != "request_id"}
        rows = audit(cluster, r.headers["X-Request-Id"])
        assert len(rows) == 1, rows
        assert rows[0][0] == "case.read" and rows[0][3] == "denied", rows
        if name != "malformed":
            assert rows[0][1] == case_id and rows[0][4] == name, rows
    assert answers["out_of_scope"] == answers["not_found"] == \
        answers["malformed"]
    # ... and nothing of the case in it
    assert cid not in str(answers["out_of_scope"])


def test_case_read_by_roles(d, case_keys, cluster):
    k = case_keys
    cid = new_case(d, k["reporter"])["case_id"]
    r = get_case(d, k["assessor"], cid)
    c = ok(r)
    assert c["subject"]["given_name"] == PERSONAL["given_name"]
    rows = audit(cluster, r.headers["X-Request-Id"])
    assert len(rows) == 1, rows
    # (the default purpose of an assessor's read is a later issue's)
    assert [rows[0][i] for i in (0, 1, 3, 5)] == [
        "case.read", cid, "allowed", k["assessor"].id], rows
    # a coordinator of two regions reads cases of both
    ok(get_case(d, k["co13_17"], cid))
    # the national desk reads the national desk's cases
    nat = national_case(d, k["reporter"])
    ok(get_case(d, k["national"], nat))
    assert_problem(get_case(d, k["co13"], nat), 404, "not_found")
    for who in ("reporter", "analyst"):
        r = get_case(d, k[who], cid)
        assert_problem(r, 403, "forbidden")
        assert audit(cluster, r.headers["X-Request-Id"])[0][3] == "denied"
    r = get_case(d, None, cid)
    assert_problem(r, 401, "unauthenticated")
    # a reporter may not act either
    r = act(d, k["reporter"], cid, "take")
    assert_problem(r, 403, "forbidden")
    assert db_case(cluster, cid)["version"] == 1
    # the actions are POST only, the case GET only
    r = requests.get("%s/v1/cases/%s/take" % (d.url, cid),
                     headers=auth(k["co13"]), timeout=10)
    assert_problem(r, 405, "method")
    assert r.headers.get("Allow") == "POST"
    r = requests.delete("%s/v1/cases/%s" % (d.url, cid),
                        headers=auth(k["co13"]), timeout=10)
    assert_problem(r, 405, "method")
    assert db_case(cluster, cid)["version"] == 1


# --------------------------------------------------------------------------
# the state table


@pytest.mark.parametrize("position,action", CELLS,
                         ids=["%s-%s" % c for c in CELLS])
def test_state_table_cell(d, case_keys, cluster, doc, position, action):
    k = case_keys
    to = STATE_TABLE[(position, action)]
    if to == "returned":  # the state before the transfer: open here
        to = "open"
    cid = put_case_in(d, k, position)
    before = db_case(cluster, cid)
    n_hist = len(history(cluster, cid))
    body = merge_body(d, k) if action == "merge" else body_of(action)
    r = act(d, k["co13"], cid, action, body)  # no If-Match
    rid = r.headers.get("X-Request-Id")
    after = db_case(cluster, cid)
    if to is None:
        p = assert_problem(r, 409, "conflict", None)
        validator(doc, "CaseProblem").validate(p)
        assert p["state"] == before["state"], p
        assert p["holder"] == before["holder"], p
        assert p["version"] == before["version"], p
        assert after == before, "a refused action changed the case"
        assert len(history(cluster, cid)) == n_hist
        rows = audit(cluster, rid)
        assert [row[:5] for row in rows] == [
            [audited(action), cid, "care", "failed",
             "illegal_transition"]], rows
        return
    item = ok(r)
    validator(doc, "InboxItem").validate(item)
    assert item["state"] == to, item
    assert r.headers.get("ETag") == '"%d"' % item["version"]
    assert item["version"] == before["version"] + 1
    # a refused transfer returns to VR09, which sent it; a transfer waits
    assert item["region"] == ("VR09" if action == "refuse" else "VR13")
    holder = {"take": k["co13"].id, "close": k["co13"].id,
              "contact": k["co13"].id}.get(action)  # merge: none
    if action == "transfer" and position == "taken_by_caller":
        holder = k["co13"].id  # the sender keeps it while pending
    assert item["holder"] == holder, item
    assert item["closed_reason"] == (
        BODY["close"]["reason"] if action == "close" else None)
    assert item["declines"] == before["declines"] + (action == "decline")
    assert {x: after[x] for x in ("state", "region", "version")} == {
        "state": to, "region": item["region"], "version": item["version"]}
    h = history(cluster, cid)
    assert len(h) == n_hist + 1
    assert h[-1][0] == HISTORY_ACTION[action] and h[-1][1] == k["co13"].id
    if action == "contact":
        assert h[-1][2]["mode"] == "phone", h[-1]
    elif BODY[action]:
        assert h[-1][2]["reason"] == BODY[action]["reason"], h[-1]
    if action == "transfer":
        assert item["transfer"]["to_region"] == "VR09", item
    events = [[audited(action), cid, "care", "allowed", "", k["co13"].id]]
    if action == "merge":  # and its target
        events.insert(0, ["case.merge_into", body["into"], "care",
                          "allowed", "", k["co13"].id])
    assert audit(cluster, rid) == events
    # re-entering an inbox is a new arrival there
    if to == "open":
        assert after["inbox_seq"] > before["inbox_seq"]
    else:
        assert after["inbox_seq"] == before["inbox_seq"]


# --------------------------------------------------------------------------
# If-Match


def test_if_match_compare_and_set(d, case_keys, cluster, doc):
    k = case_keys
    cid = new_case(d, k["reporter"])["case_id"]
    etag = get_case(d, k["co13"], cid).headers["ETag"]
    assert etag == '"1"'
    r = act(d, k["co13"], cid, "take", if_match=etag)
    assert ok(r)["state"] == "taken" and r.headers["ETag"] == '"2"'

    # stale: 412 with the current version, nothing changed
    r = act(d, k["co13"], cid, "close", {"reason": "duplicate"},
            if_match=etag)
    p = assert_problem(r, 412, "precondition", None)
    validator(doc, "CaseProblem").validate(p)
    assert p["version"] == 2, p
    assert db_case(cluster, cid)["state"] == "taken"
    assert [row[3:5] for row in audit(cluster, r.headers["X-Request-Id"])] \
        == [["failed", "stale_version"]]
    # a stale version is answered before the state table
    r = act(d, k["co13b"], cid, "take", if_match=etag)
    assert assert_problem(r, 412, "precondition")["version"] == 2
    # without If-Match the state table answers: taken by another
    r = act(d, k["co13b"], cid, "take")
    p = assert_problem(r, 409, "conflict")
    assert (p["state"], p["holder"], p["version"]) == (
        "taken", k["co13"].id, 2)

    # the current version, in each accepted spelling
    r = act(d, k["co13"], cid, "close", {"reason": "duplicate"},
            if_match='W/"2"')
    assert ok(r)["state"] == "closed"
    r = act(d, k["co13"], cid, "reopen", {"reason": "closed_in_error"},
            if_match="3")
    assert ok(r)["state"] == "open"
    r = act(d, k["co13"], cid, "take", if_match="*")
    assert ok(r)["version"] == 5
    assert db_case(cluster, cid)["version"] == 5

    for bad in ('"abc"', "abc", '"0"', '"-1"', '""', '"1.0"',
                '"99999999999"'):
        r = act(d, k["co13"], cid, "decline", {"reason": "other"},
                if_match=bad)
        assert_problem(r, 400, "bad_request", "If-Match")
    assert db_case(cluster, cid)["version"] == 5


# --------------------------------------------------------------------------
# decline, transfer, close, reopen


def test_decline_marks_and_reaches_the_national_desk_at_the_limit(
        nrmd_factory, case_keys, cluster):
    k = case_keys
    dd = nrmd_factory(config={"decline_limit": 2})
    cid = new_case(dd, k["reporter"])["case_id"]
    seq0 = db_case(cluster, cid)["inbox_seq"]
    w = ok(requests.get(dd.url + "/v1/inbox", params={"limit": 1},
                        headers=auth(k["co13"]), timeout=10))["after"]

    item = ok(act(dd, k["co13"], cid, "decline", {"reason": "no_capacity"}))
    assert (item["state"], item["region"], item["declines"]) == (
        "open", "VR13", 1)
    # a new arrival: a new number in the database, none in the answer
    assert "inbox_seq" not in item, item
    assert db_case(cluster, cid)["inbox_seq"] > seq0
    # back in the region's inbox, marked, and newer than the watermark
    mine = [it for it in inbox_ids(dd, k["co13"]) if it["case_id"] == cid]
    assert len(mine) == 1 and mine[0]["declines"] == 1, mine
    newer = ok(requests.get(dd.url + "/v1/inbox", params={"after": w},
                            headers=auth(k["co13"]), timeout=10))["items"]
    assert cid in [it["case_id"] for it in newer]
    h = history(cluster, cid)[-1]
    assert h[0] == "declined" and h[2]["why"] is None, h
    assert (h[2]["region"], h[2]["to_region"], h[2]["region_declines"],
            h[2]["decline_limit"]) == ("VR13", "VR13", 1, 2), h

    # the second decline in VR13 (by a holder) reaches the limit
    ok(act(dd, k["co13b"], cid, "take"))
    item = ok(act(dd, k["co13b"], cid, "decline",
                  {"reason": "outside_expertise"}))
    assert (item["state"], item["region"], item["declines"],
            item["holder"]) == ("open", "NATIONAL", 2, None), item
    h = history(cluster, cid)[-1]
    assert h[2]["why"] == "decline_limit_reached", h
    assert (h[2]["region"], h[2]["to_region"], h[2]["region_declines"]) == (
        "VR13", "NATIONAL", 2), h
    assert cid not in [it["case_id"] for it in inbox_ids(dd, k["co13"])]
    nat = [it for it in inbox_ids(dd, k["national"]) if it["case_id"] == cid]
    assert len(nat) == 1 and nat[0]["declines"] == 2
    # VR13 cannot touch it any more
    assert_problem(act(dd, k["co13"], cid, "take"), 404, "not_found")
    # declined at the national desk, it stays there
    item = ok(act(dd, k["national"], cid, "decline", {"reason": "other"}))
    assert (item["region"], item["declines"]) == ("NATIONAL", 3)


def test_declined_by_every_coordinator_goes_national(d, case_keys, cluster):
    k = case_keys
    suffix = uuid.uuid4().hex[:6]
    x = create_key(cluster, "coordinator", "Zorg Flevoland A " + suffix,
                   "care_agency", regions=("VR25",))
    y = create_key(cluster, "coordinator", "Zorg Flevoland B " + suffix,
                   "care_agency", regions=("VR25",))
    # persons count too (docs/people.md): none may be of VR25
    n = cluster.count(
        "select count(*) from auth.api_key where role = 'coordinator' "
        "and revoked_at is null and 'VR25' = any(regions)") + cluster.count(
        "select count(*) from auth.person where role = 'coordinator' "
        "and status = 'active' and 'VR25' = any(regions)")
    if n != 2:
        pytest.fail("this test needs VR25 to have exactly its own two "
                    "coordinator keys and no coordinator person; it has "
                    "%d coordinators" % n)
    cid = new_case(d, k["reporter"], "VR25")["case_id"]
    item = ok(act(d, x, cid, "decline", {"reason": "no_capacity"}))
    assert (item["region"], item["declines"]) == ("VR25", 1)
    item = ok(act(d, y, cid, "decline", {"reason": "conflict_of_interest"}))
    assert (item["region"], item["declines"]) == ("NATIONAL", 2)
    h = history(cluster, cid)[-1]
    assert h[2]["why"] == "declined_by_every_coordinator", h
    assert h[2]["decline_limit"] == 3 and h[2]["region_declines"] == 2


def test_transfer_moves_the_case_between_inboxes(d, case_keys, cluster):
    k = case_keys
    cid = new_case(d, k["reporter"])["case_id"]
    old = ok(get_case(d, k["co13"], cid))["case"]
    w09 = ok(requests.get(d.url + "/v1/inbox", params={"limit": 1},
                          headers=auth(k["co09"]), timeout=10))["after"]

    def longpoll():
        r = requests.get(d.url + "/v1/inbox",
                         params={"wait": 10, "after": w09},
                         headers=auth(k["co09"]), timeout=30)
        return r, time.monotonic()

    # the transfer waits for VR09 (issue 18): the sender keeps it
    item = ok(act(d, k["co13"], cid, "transfer",
                  {"target_region": "VR09", "reason": "victim_relocated"}))
    assert (item["state"], item["region"], item["holder"]) == (
        "transfer_pending", "VR13", None), item
    assert item["transfer"]["to_region"] == "VR09"
    assert item["take_by"] == old["take_by"]
    assert cid in [it["case_id"] for it in inbox_ids(d, k["co13"],
                                                     state="all")]
    assert cid in [it["case_id"] for it in inbox_ids(
        d, k["co09"], state="transfer_pending")]
    assert cid not in [it["case_id"] for it in inbox_ids(d, k["co09"])]
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        f = ex.submit(longpoll)
        wait_for(lambda: metric(d, "nrm_inbox_longpolls_waiting") == 1, 5)
        r = act(d, k["co09"], cid, "accept")
        done = time.monotonic()
        item = ok(r)
        lp, end = f.result(timeout=20)
    assert (item["state"], item["region"], item["holder"]) == (
        "open", "VR09", None), item
    # the target's deadlines, counted from now (the daemon's transfer_*)
    assert abs(seconds_from_now(item["take_by"]) - TRANSFER_TAKE) < 30, item
    assert abs(seconds_from_now(item["first_contact_by"])
               - TRANSFER_CONTACT) < 30, item
    assert item["take_by"] != old["take_by"]
    # the target's long-poll woke with it
    assert ok(lp)["items"] and cid in [it["case_id"] for it in
                                       lp.json()["items"]]
    assert end - done < 2.0
    # it left the source inbox and is in the target's
    assert cid not in [it["case_id"] for it in inbox_ids(d, k["co13"],
                                                         state="all")]
    assert cid in [it["case_id"] for it in inbox_ids(d, k["co09"])]
    c = ok(get_case(d, k["co09"], cid))
    top, sent = c["history"][0], c["history"][1]
    assert top["action"] == "transfer_accepted" and top["by"] == k["co09"].id
    assert sent["action"] == "transferred" and sent["by"] == k["co13"].id
    assert (sent["detail"]["reason"], sent["detail"]["from_region"],
            sent["detail"]["to_region"]) == ("victim_relocated", "VR13",
                                            "VR09"), sent
    assert_problem(get_case(d, k["co13"], cid), 404, "not_found")
    assert_problem(act(d, k["co13"], cid, "take"), 404, "not_found")

    # the request's own faults
    for body, field in (
            ({"target_region": "VR99", "reason": "safety"}, "target_region"),
            ({"target_region": "vr13", "reason": "safety"}, "target_region"),
            ({"reason": "safety"}, "target_region"),
            ({"target_region": "VR13"}, "reason"),
            ({"target_region": "VR13", "reason": "moved"}, "reason"),
            ({"target_region": "VR09", "reason": "safety"},
             "target_region")):  # its own region
        r = act(d, k["co09"], cid, "transfer", body)
        assert_problem(r, 422, "validation", field)
    assert db_case(cluster, cid)["region"] == "VR09"
    # the national desk is a target like any region
    item = ok(act(d, k["co09"], cid, "transfer",
                  {"target_region": "NATIONAL", "reason": "specialist_care"}))
    assert (item["region"], item["state"]) == ("VR09", "transfer_pending")
    item = ok(act(d, k["national"], cid, "accept"))
    assert (item["region"], item["state"]) == ("NATIONAL", "open")
    assert cid in [it["case_id"] for it in inbox_ids(d, k["national"])]


def test_reasons_are_the_documented_codes(d, case_keys, cluster, doc):
    k = case_keys
    # the OpenAPI document lists the same codes as the lifecycle page
    for action, schema in (("decline", "DeclineReason"),
                           ("transfer", "TransferReason"),
                           ("close", "CloseReason"),
                           ("reopen", "ReopenReason")):
        assert doc["components"]["schemas"][schema]["enum"] == \
            REASONS[action], action
    for reason in REASONS["close"]:
        cid = put_case_in(d, k, "taken_by_caller")
        item = ok(act(d, k["co13"], cid, "close", {"reason": reason}))
        assert (item["state"], item["closed_reason"]) == ("closed", reason)
    for reason in REASONS["reopen"]:
        cid = put_case_in(d, k, "closed")
        assert ok(act(d, k["co13"], cid, "reopen",
                      {"reason": reason}))["state"] == "open"
    for reason in REASONS["decline"]:
        cid = put_case_in(d, k, "open")
        assert ok(act(d, k["co13"], cid, "decline",
                      {"reason": reason}))["declines"] == 1
    for reason in REASONS["transfer"]:
        cid = put_case_in(d, k, "open")
        assert ok(act(d, k["co13"], cid, "transfer",
                      {"target_region": "VR17", "reason": reason}))[
            "transfer"]["to_region"] == "VR17"

    cid = put_case_in(d, k, "taken_by_caller")
    for action in ("decline", "close"):
        for body in (None, {}, {"reason": "solved"}, {"reason": ""},
                     {"reason": "Victim_Supported"}, {"reason": None},
                     {"reason": 3}, {"reason": ["other"]}):
            r = act(d, k["co13"], cid, action, body)
            assert_problem(r, 422, "validation", "reason")
    for body, status, code in (
            ({"reason": "other", "note": "she moved"}, 422, "validation"),
            (b"{", 400, "malformed"),
            (b"[]", 400, "malformed")):
        r = act(d, k["co13"], cid, "close", body,
                headers={"Content-Type": "application/json"})
        p = assert_problem(r, status, code)
        assert "she moved" not in p["detail"]
    r = act(d, k["co13"], cid, "close", "reason=other",
            headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "media_type")
    # take takes no member
    r = act(d, k["co13"], cid, "take", {"reason": "other"})
    assert_problem(r, 422, "validation")
    c = db_case(cluster, cid)
    assert (c["state"], c["version"]) == ("taken", 2)
    # an empty object is no body
    cid2 = put_case_in(d, k, "open")
    assert ok(act(d, k["co13"], cid2, "take", {}))["state"] == "taken"


def test_reopen_puts_the_case_back_in_the_inbox(d, case_keys, cluster):
    k = case_keys
    cid = put_case_in(d, k, "closed")
    before = db_case(cluster, cid)
    assert (before["state"], before["holder"], before["closed_reason"]) == (
        "closed", k["co13"].id, "other")
    assert cid not in [it["case_id"] for it in inbox_ids(d, k["co13"])]
    item = ok(act(d, k["co13b"], cid, "reopen",
                  {"reason": "victim_returned"}))
    assert (item["state"], item["holder"], item["closed_reason"],
            item["region"]) == ("open", None, None, "VR13"), item
    # a new arrival: a new number in the database, none in the answer
    assert "inbox_seq" not in item, item
    assert db_case(cluster, cid)["inbox_seq"] > before["inbox_seq"]
    assert abs(seconds_from_now(item["take_by"]) - TRANSFER_TAKE) < 30
    assert cid in [it["case_id"] for it in inbox_ids(d, k["co13"])]
    top = ok(get_case(d, k["co13"], cid))["history"][0]
    assert (top["action"], top["by"], top["detail"]["reason"]) == (
        "reopened", k["co13b"].id, "victim_returned")
    # and it can be taken again
    assert ok(act(d, k["co13"], cid, "take"))["holder"] == k["co13"].id


def test_other_region_gets_404_on_every_action(d, case_keys, cluster, doc):
    k = case_keys
    cid = new_case(d, k["reporter"])["case_id"]
    closed = put_case_in(d, k, "closed")
    before = {c: db_case(cluster, c) for c in (cid, closed)}
    unknown = str(uuid.uuid4())
    for action in ACTIONS:
        target = closed if action == "reopen" else cid
        body = body_of(action)
        if action == "merge":  # into some case: the 404 comes first
            body = dict(body, into=closed)
        if action == "transfer":
            body = {"target_region": "VR17", "reason": "wrong_region"}
        shapes = []
        for case_id, why in ((target, "out_of_scope"),
                             (unknown, "not_found")):
            for if_match in (None, '"1"', '"4"'):
                r = act(d, k["co17"], case_id, action, body,
                        if_match=if_match)
                p = assert_problem(r, 404, "not_found", None)
                validator(doc, "Problem").validate(p)
                assert not {"state", "holder", "version"} & set(p), p
                shapes.append({x: p[x] for x in p if x != "request_id"})
                assert [row[:5] for row in
                        audit(cluster, r.headers["X-Request-Id"])] == [
                    [audited(action), case_id, "care", "denied", why]]
        assert all(s == shapes[0] for s in shapes), shapes
    for c, b in before.items():
        assert db_case(cluster, c) == b, "a 404 changed the case"


# --------------------------------------------------------------------------
# exactly one holder: 10 clients on two daemons race for 200 cases


def test_exactly_one_holder_among_racing_takers(nrmd_factory, case_keys,
                                                cluster):
    k = case_keys
    daemons = [nrmd_factory(config={"db_pool_size": 4}),
               nrmd_factory(config={"db_pool_size": 4})]
    suffix = uuid.uuid4().hex[:6]
    clients = [create_key(cluster, "coordinator",
                          "Zorg Twente %d %s" % (i % 3, suffix),
                          "care_agency", regions=("VR05",))
               for i in range(10)]
    for c in clients:
        c.id = key_id(cluster, c)

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        cases = list(ex.map(
            lambda i: new_case(daemons[i % 2], k["reporter"],
                               "VR05")["case_id"],
            range(200)))
    assert len(set(cases)) == 200

    barrier = threading.Barrier(len(clients))
    results = [[] for _ in clients]

    def client(i):
        s = requests.Session()
        dm = daemons[i % 2]
        barrier.wait()
        for cid in cases:
            try:
                r = act(dm, clients[i], cid, "take", session=s)
                st = r.status_code
                body = r.json()
            except Exception as e:  # a lost connection is a failure
                results[i].append((cid, "error", repr(e)[:200]))
                continue
            results[i].append((cid, st, body.get("holder")))
        s.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,))
               for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    took = time.monotonic() - t0
    assert not any(t.is_alive() for t in threads), "clients hung"

    flat = [(i,) + res for i, rs in enumerate(results) for res in rs]
    assert len(flat) == 200 * 10
    bad = [x for x in flat if x[2] not in (200, 409)]
    assert not bad, "answers other than 200/409: %s" % bad[:10]
    wins = {}
    for i, cid, st, holder in flat:
        if st == 200:
            assert cid not in wins, "two winners for %s" % cid
            wins[cid] = clients[i].id
            assert holder == clients[i].id
    n409 = sum(1 for x in flat if x[2] == 409)
    assert len(wins) == 200
    assert len(wins) + n409 == len(flat)
    # every loser was told who holds the case
    for i, cid, st, holder in flat:
        if st == 409:
            assert holder == wins[cid], (cid, holder, wins[cid])
    # the database agrees: one holder each, one 'taken' entry each
    rows = cluster.sql(
        "select c.id, c.state, c.holder_key_id, c.version, "
        "(select count(*) from care.case_history h where h.case_id = c.id "
        "and h.action = 'taken') from care.case c where c.id = any('{%s}')"
        % ",".join(cases))
    assert len(rows) == 200
    for cid, state, holder, version, n_taken in rows:
        assert (state, holder, version, n_taken) == (
            "taken", wins[cid], "2", "1"), (cid, state, holder, version,
                                            n_taken)
    n_ok = cluster.count(
        "select count(*) from audit.event where action = 'case.take' and "
        "outcome = 'allowed' and object_id = any('{%s}')" % ",".join(cases))
    assert n_ok == 200
    print("race: 2000 takes in %.1fs" % took)


# --------------------------------------------------------------------------
# escalation: two sweeping daemons, each overdue case exactly once


def test_escalation_exactly_once_with_two_daemons(nrmd_factory, d,
                                                  case_keys, cluster):
    """The clock trick: cases are made overdue by an UPDATE of
    care.case.take_by as superuser (one autocommitted statement): six to
    one minute ago ("past"), six to two seconds from now ("due"), and
    four taken cases to one minute ago (never escalated).  A deadline
    may not lie before the case's creation (case_deadlines_check), so
    the same UPDATE moves created_at an hour back."""
    k = case_keys
    suffix = uuid.uuid4().hex[:6]
    co03 = create_key(cluster, "coordinator", "Zorg Drenthe " + suffix,
                      "care_agency", regions=("VR03",))
    sweep = 1
    daemons = [nrmd_factory(config={"sweep_interval": sweep}),
               nrmd_factory(config={"sweep_interval": sweep})]
    every = daemons + [d]  # this module's daemon sweeps too (every 5 s)
    before = {x.name: metric(x, "nrm_cases_escalated_total") for x in every}
    t_start = cluster.scalar("select clock_timestamp()")

    made = [new_case(daemons[0], k["reporter"], "VR03")["case_id"]
            for _ in range(16)]
    past, due, taken = made[:6], made[6:12], made[12:]
    for cid in taken:
        ok(act(daemons[1], co03, cid, "take"))
    versions = {cid: db_case(cluster, cid)["version"] for cid in made}

    def id_list(xs):
        return "'{%s}'" % ",".join(xs)

    cluster.sql(
        "update care.case set created_at = created_at - interval '1 hour', "
        "take_by = now() - interval '1 minute' "
        "where id = any(%s)" % id_list(past + taken))
    cluster.sql(
        "update care.case set take_by = now() + interval '2 seconds' "
        "where id = any(%s)" % id_list(due))

    def n_escalated():
        return cluster.count(
            "select count(*) from care.escalation where case_id = any(%s)"
            % id_list(made))

    wait_for(lambda: n_escalated() == 12, 2 + 3 * sweep + 3, interval=0.2,
             what="12 escalations")
    time.sleep(2.5 * sweep)  # more sweeps by both daemons: still once
    assert n_escalated() == 12

    rows = cluster.sql(
        "select c.id, c.region_code, c.state, c.version, "
        "extract(epoch from c.escalated_at - c.take_by), "
        "extract(epoch from e.at - c.take_by), e.from_region, e.reason, "
        "(select count(*) from care.case_history h where h.case_id = c.id "
        " and h.action = 'escalated'), "
        "(select count(*) from audit.event a where a.object_id = c.id::text "
        " and a.action = 'case.escalate') "
        "from care.case c join care.escalation e on e.case_id = c.id "
        "where c.id = any(%s)" % id_list(made))
    escalated = {r[0] for r in rows}
    assert escalated == set(past + due)
    for (cid, region, state, version, late, late_e, from_region, reason,
         n_hist, n_audit) in rows:
        assert (region, state, from_region, reason) == (
            "NATIONAL", "open", "VR03", "take_deadline_missed"), cid
        assert int(version) == versions[cid] + 1, cid
        assert (n_hist, n_audit) == ("1", "1"), (cid, n_hist, n_audit)
        late = float(late)
        assert late_e == late or abs(float(late_e) - late) < 0.001
        if cid in due:
            # not before the deadline, and within two sweep intervals
            assert 0 <= late <= 2 * sweep + 0.5, (cid, late)
        else:
            # overdue by a minute when the UPDATE committed
            assert 60 <= late <= 60 + 2 * sweep + 1.5, (cid, late)
    for cid in past + due:
        h = [x for x in history(cluster, cid) if x[0] == "escalated"]
        assert len(h) == 1 and h[0][1] is None, h
        assert h[0][2]["why"] == "not taken within P1D", h
        assert (h[0][2]["from_region"], h[0][2]["to_region"]) == (
            "VR03", "NATIONAL")
    for cid in taken:
        c = db_case(cluster, cid)
        assert (c["state"], c["region"], c["escalated_at"]) == (
            "taken", "VR03", None), c
    # the national desk sees them, flagged
    nat = {it["case_id"]: it for it in inbox_ids(daemons[0], k["national"])}
    assert set(past + due) <= set(nat)
    assert all(nat[c]["escalated"] for c in past + due)
    # the metrics count each escalation once, over all sweeping daemons
    delta = sum(metric(x, "nrm_cases_escalated_total") - before[x.name]
                for x in every)
    total = cluster.count(
        "select count(*) from care.escalation where at >= '%s'" % t_start)
    assert delta == total >= 12, (delta, total)
