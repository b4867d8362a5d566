"""Follow-ups from the reporter and later consent (issue 18,
docs/case-lifecycle.md "Follow-ups from the reporter" and "Later
consent"): the reporting agency adds information to its own signal; the
text is sealed at rest and shredded with the signal's keys; it reaches
the case holder (its own audited read, the inbox item's count, a woken
long-poll); the reporter learns only whether the case was taken up; an
anonymous notification takes none (409); another agency's signal is the
same 404 as an unknown one; Idempotency-Key as intake."""

import concurrent.futures
import time
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, assert_receipt, auth, post_signal
from nrm_e2e.cases import new_case
from nrm_e2e.daemon import one_daemon
from nrm_e2e.env import wait_for
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key
from nrm_e2e.signals import adult_signal, notification_signal
from test_care_work import take
from test_inbox import ids, inbox_all, metric, timed_inbox, watermark


def followup(d, key, signal_id, body, idem=None):
    h = auth(key)
    h["Idempotency-Key"] = idem or "fu-" + uuid.uuid4().hex
    return requests.post("%s/v1/signals/%s/followups" % (d.url, signal_id),
                         json=body, headers=h, timeout=15)


def followups(d, key, case_id, purpose=None):
    h = auth(key)
    if purpose is not None:
        h["NRM-Purpose"] = purpose
    return requests.get("%s/v1/cases/%s/followups" % (d.url, case_id),
                        headers=h, timeout=15)


def item_of(d, key, case_id):
    # every page: on a shared daemon the region may hold more than 200
    items = [it for it in inbox_all(d, key, state="all")
             if it["case_id"] == case_id]
    assert len(items) == 1, items
    return items[0]


FOLLOWUP_KEYS = {"followup_id", "signal_id", "reference", "at", "taken_up"}


def test_followup_reaches_the_holder_sealed_and_audited(nrmd, case_keys,
                                                        cluster, doc):
    k = case_keys
    rec = new_case(nrmd, k["reporter"])
    sid, cid = rec["signal_id"], rec["case_id"]
    text = "Nieuw adres bekend: Loodsweg %s." % uuid.uuid4().hex
    r = followup(nrmd, k["reporter"], sid, {"text": text})
    assert r.status_code == 201, r.text
    ans = r.json()
    # the reporter learns what the receipt says and whether the case was
    # taken up: never a holder, state, note or region of its care
    assert set(ans) == FOLLOWUP_KEYS, ans
    assert ans["signal_id"] == sid and ans["reference"] == rec["reference"]
    assert ans["taken_up"] is False
    assert text not in r.text
    validator(doc, "FollowupReceipt").validate(ans)
    assert r.headers["Location"] == "/v1/signals/%s/followups/%s" % (
        sid, ans["followup_id"])
    # the inbox item counts it
    it = item_of(nrmd, k["co13"], cid)
    assert it["followups"] == 1 and it["last_followup_at"] == ans["at"]
    # taken up: the next answer says so, and only that
    take(nrmd, k["co13"], cid)
    r = followup(nrmd, k["reporter"], sid, {"text": "Tweede bericht."})
    assert r.status_code == 201, r.text
    assert r.json()["taken_up"] is True and set(r.json()) == FOLLOWUP_KEYS
    assert item_of(nrmd, k["co13"], cid)["followups"] == 2
    # the holder reads them, opened, oldest first; an audited read
    r = followups(nrmd, k["co13"], cid)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["text"] for i in items] == [text, "Tweede bericht."]
    assert items[0]["id"] == ans["followup_id"] and "sealed" not in items[0]
    validator(doc, "FollowupList").validate(r.json())
    assert cluster.count(
        "select count(*) from audit.event where action = "
        "'case.followup.read' and object_id = '%s' and outcome = 'allowed' "
        "and purpose = 'care'" % cid) == 1
    assert cluster.count(
        "select count(*) from audit.event where action = "
        "'signal.followup.create' and object_id = '%s' and outcome = "
        "'allowed'" % sid) == 2
    # sealed in the row, the key under the signal (erasure shreds it),
    # nowhere in the clear: not the history, not the log
    assert cluster.scalar(
        "select count(*) from care.signal_followup f join care.data_key k "
        "on k.id = f.data_key_id and k.signal_id = f.signal_id where "
        "f.case_id = '%s' and get_byte(f.text_ct, 0) = 1" % cid) == "2"
    h = cluster.sql("select detail from care.case_history where case_id = "
                    "'%s' and action = 'followup'" % cid)
    assert len(h) == 2 and text not in str(h)
    assert text not in nrmd.log_text()
    # another region's coordinator: the same 404 as an unknown case
    assert_problem(followups(nrmd, k["co17"], cid), 404, "not_found")
    assert_problem(followups(nrmd, k["co17"], str(uuid.uuid4())), 404,
                   "not_found")
    # append-only in the database, for the superuser too (a trigger)
    cluster.assert_append_only("care.signal_followup", cid)


def test_followup_only_on_the_agencys_own_case_signal(nrmd, case_keys,
                                                      cluster):
    k = case_keys
    rec = new_case(nrmd, k["reporter"])
    other = create_key(cluster, "reporter", "Politie Oost " +
                       uuid.uuid4().hex[:6], "police")
    # another agency's signal and an unknown one: the same 404
    p1 = assert_problem(followup(nrmd, other, rec["signal_id"],
                                 {"text": "x"}), 404, "not_found")
    p2 = assert_problem(followup(nrmd, other, str(uuid.uuid4()),
                                 {"text": "x"}), 404, "not_found")
    assert p1["detail"] == p2["detail"]
    assert cluster.count(
        "select count(*) from audit.event where action = "
        "'signal.followup.create' and object_id = '%s' and outcome = "
        "'denied' and reason = 'out_of_scope'" % rec["signal_id"]) == 1
    # an anonymous notification has no case: 409, nothing stored
    n = assert_receipt(post_signal(nrmd, k["reporter"].token,
                                   notification_signal()))
    assert n["notification_only"] is True
    p = assert_problem(followup(nrmd, k["reporter"], n["signal_id"],
                                {"text": "x"}), 409, "conflict")
    assert "cites_reference" in p["detail"]
    assert cluster.count("select count(*) from care.signal_followup where "
                         "signal_id = '%s'" % n["signal_id"]) == 0
    # other roles may not post one; a reporter reads none
    r = followup(nrmd, k["co13"], rec["signal_id"], {"text": "x"})
    assert_problem(r, 403, "forbidden")
    assert_problem(followups(nrmd, k["reporter"], rec["case_id"]), 403,
                   "forbidden")


@pytest.mark.parametrize("body,status,field", [
    ({}, 422, "text"),
    ({"text": ""}, 422, "text"),
    ({"text": "x" * 8001}, 422, "text"),
    ({"text": 5}, 422, "text"),
    ({"text": "x", "colour": "red"}, 400, ""),
    ({"text": "x", "text_ct": "AAAA"}, 422, "text_ct"),
])
def test_followup_body_is_checked(nrmd, case_keys, body, status, field):
    rec = new_case(nrmd, case_keys["reporter"])
    r = followup(nrmd, case_keys["reporter"], rec["signal_id"], body)
    assert r.status_code == status, r.text
    p = r.json()
    assert p.get("field", "") == field, p


def test_followup_idempotency(nrmd, case_keys, cluster):
    k = case_keys
    rec = new_case(nrmd, k["reporter"])
    key = "fu-" + uuid.uuid4().hex
    r1 = followup(nrmd, k["reporter"], rec["signal_id"], {"text": "één"},
                  idem=key)
    r2 = followup(nrmd, k["reporter"], rec["signal_id"], {"text": "één"},
                  idem=key)
    assert r1.status_code == r2.status_code == 201, (r1.text, r2.text)
    assert r1.json() == r2.json()
    assert cluster.count("select count(*) from care.signal_followup where "
                         "signal_id = '%s'" % rec["signal_id"]) == 1
    # the same key with another text: 422 naming the header
    assert_problem(followup(nrmd, k["reporter"], rec["signal_id"],
                            {"text": "twee"}, idem=key), 422,
                   "idempotency", "Idempotency-Key")
    # no key: 400
    h = auth(k["reporter"])
    r = requests.post("%s/v1/signals/%s/followups" % (nrmd.url,
                                                      rec["signal_id"]),
                      json={"text": "x"}, headers=h, timeout=15)
    assert_problem(r, 400, "bad_request", "Idempotency-Key")


@pytest.fixture(scope="module")
def d(workdir, cluster, pki):
    """A daemon without the backstop re-check: a long-poll is woken by a
    notification only (as test_inbox's)."""
    yield from one_daemon(workdir, cluster, pki, config={
        "longpoll_recheck": 3600, "longpoll_max_wait": 30})


def test_followup_wakes_the_regions_long_poll(d, case_keys):
    k = case_keys
    rec = new_case(d, k["reporter"])
    take(d, k["co13"], rec["case_id"])
    w = watermark(d, k["co13"])
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        f = ex.submit(timed_inbox, d, k["co13"], wait=20, after=w,
                      state="all")
        wait_for(lambda: metric(d, "nrm_inbox_longpolls_waiting") == 1, 10,
                 what="the long-poll waiting")
        t0 = time.monotonic()
        r = followup(d, k["reporter"], rec["signal_id"], {"text": "Nieuws."})
        assert r.status_code == 201, r.text
        resp, took, end = f.result(timeout=30)
    assert resp.status_code == 200, resp.text[:300]
    items = resp.json()["items"]
    assert rec["case_id"] in ids(items), items
    assert [it["followups"] for it in items
            if it["case_id"] == rec["case_id"]] == [1]
    # answered by the wake-up, well before its wait ran out
    assert end - t0 < 15, end - t0


# --------------------------------------------------------------------------
# later consent: cites_reference


def test_a_later_signal_cites_the_notification(nrmd, case_keys, cluster):
    k = case_keys
    n = assert_receipt(post_signal(nrmd, k["reporter"].token,
                                   notification_signal()))
    # typed as read over the phone: lower case, spaces
    typed = n["reference"].lower().replace("-", " ")
    body = adult_signal()
    body["cites_reference"] = typed
    rec = assert_receipt(post_signal(nrmd, k["reporter"].token, body))
    row = cluster.sql("select cites_reference, cites_signal_id from "
                      "intake.signal where id = '%s'" % rec["signal_id"])
    assert row == [[n["reference"], n["signal_id"]]], row
    # a well-formed reference that names nothing: the same answer (the
    # reporter is not told whether it exists), stored unlinked
    other = adult_signal()
    other["cites_reference"] = "2222-2222-2"
    rec2 = assert_receipt(post_signal(nrmd, k["reporter"].token, other))
    assert set(rec2) == set(rec)
    row = cluster.sql("select cites_reference, coalesce(cites_signal_id::"
                      "text, '-') from intake.signal where id = '%s'"
                      % rec2["signal_id"])
    assert row == [["2222-2222-2", "-"]], row
    # malformed and mistyped: 422 naming the field, different details
    bad = adult_signal()
    bad["cites_reference"] = "2222-2222"
    p1 = assert_problem(post_signal(nrmd, k["reporter"].token, bad), 422,
                        "validation", "cites_reference")
    bad["cites_reference"] = "2222-2222-3"
    p2 = assert_problem(post_signal(nrmd, k["reporter"].token, bad), 422,
                        "validation", "cites_reference")
    assert "check character" in p2["detail"] and p1["detail"] != p2["detail"]
    bad["cites_reference"] = 22222222
    assert_problem(post_signal(nrmd, k["reporter"].token, bad), 422,
                   "validation", "cites_reference")
