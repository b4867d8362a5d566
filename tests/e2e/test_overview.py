"""GET /v1/overview (issue 20): the central information point, over the
real daemon.  Counts per region against cases made in known states
(exact deltas on regions no other test uses: VR18 and VR19), who sees
which rows, one audit event per read, the OpenAPI schema, and a scan of
every answer for case ids, key ids and the suite's personal data.

The module's daemon sweeps once an hour, so a case past its take
deadline stays in its region until the test escalates it itself."""

import uuid

import pytest
import requests

from nrm_e2e.api import assert_receipt, auth, post_signal
from nrm_e2e.daemon import DaemonPool
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key, key_id
from nrm_e2e.signals import PERSONAL, PERSONAL_FRAGMENTS, adult_signal

COUNTS = ("open", "untaken", "past_take_deadline",
          "past_first_contact_deadline", "escalated_7d",
          "transferred_untaken", "taken_30d")
# VR18 (Dordrecht) and VR19 (Goes): no other test of the suite uses them.
MUNI = {"VR18": "GM0505", "VR19": "GM0664"}


@pytest.fixture(scope="module")
def nrmd(workdir, cluster, pki):
    pool = DaemonPool(workdir, cluster, pki)
    d = pool(config={"sweep_interval": "3600"})
    yield d
    pool.close()


@pytest.fixture(scope="module")
def ks(cluster):
    sfx = uuid.uuid4().hex[:6]
    care = "Zorgcoordinatie Overzicht " + sfx
    return {
        "reporter": create_key(cluster, "reporter", "Politie Overzicht " + sfx,
                               "police"),
        "chain": create_key(cluster, "chain_director",
                            "Ketenregie Overzicht " + sfx, "national_centre"),
        "co18": create_key(cluster, "coordinator", care, "care_agency",
                           ("VR18",)),
        "co19": create_key(cluster, "coordinator", care, "care_agency",
                           ("VR19",)),
        "national": create_key(cluster, "coordinator",
                               "Landelijk Overzicht " + sfx,
                               "national_centre", ("NATIONAL",)),
        "analyst": create_key(cluster, "analyst", "Analyse Overzicht " + sfx,
                              "national_centre"),
    }


ANSWERS = []  # every overview answer of the module, for the scan
CASES = []  # every case id the module made


def overview(d, key, params=None):
    r = requests.get(d.url + "/v1/overview", headers=auth(key),
                     params=params, timeout=30)
    ANSWERS.append(r.text)
    return r


def rows(d, key):
    r = overview(d, key)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return {x["region"]: x for x in r.json()["regions"]}


def case_in(d, ks, region):
    body = adult_signal()
    body["location"] = {"municipality_code": MUNI[region]}
    rec = assert_receipt(post_signal(d, ks["reporter"].token, body))
    assert rec["region"] == region, rec
    CASES.append(rec["case_id"])
    return rec["case_id"]


def act(d, key, case_id, action, body=None):
    r = requests.post("%s/v1/cases/%s/%s" % (d.url, case_id, action),
                      headers=auth(key), json=body or {}, timeout=30)
    assert r.status_code == 200, (action, r.status_code, r.text[:300])


def taken_after(cluster, case_id, seconds):
    """Move the case's 'routed' history entry `seconds` before its take."""
    cluster.sql(
        "update care.case_history h set at = t.at - interval '%d seconds' "
        "from care.case_history t where h.case_id = '%s' "
        "and h.action = 'routed' and t.case_id = h.case_id "
        "and t.action = 'taken'" % (seconds, case_id))


def overdue(cluster, case_id, take=True):
    """Past its take deadline (take) or its first-contact deadline."""
    col = "take_by" if take else "first_contact_by"
    cluster.sql(
        "update care.case set created_at = now() - interval '2 hours', "
        "%s = now() - interval '1 hour' where id = '%s'" % (col, case_id))


def delta(after, before):
    return {c: after[c] - before[c] for c in COUNTS}


def test_counts_per_region(nrmd, cluster, ks):
    """Cases in known states, the exact change of every count:
    VR18: A open; B taken 600 s after it was routed; C taken 200 s after
    and closed; D past its take deadline, escalated to the national desk;
    G past its take deadline; E transferred to VR19 (not yet taken there).
    VR19: F past its first-contact deadline."""
    d = nrmd
    before = rows(d, ks["chain"])
    assert before["VR18"]["taken_30d"] == 0, before["VR18"]
    a, b, c, dd, g, e = (case_in(d, ks, "VR18") for _ in range(6))
    f = case_in(d, ks, "VR19")
    act(d, ks["co18"], b, "take")
    taken_after(cluster, b, 600)
    act(d, ks["co18"], c, "take")
    taken_after(cluster, c, 200)
    act(d, ks["co18"], c, "close", {"reason": "duplicate"})
    act(d, ks["co18"], e, "transfer",
        {"target_region": "VR19", "reason": "wrong_region"})
    overdue(cluster, dd)
    cluster.sql("select api.escalate_overdue(1000)")
    assert cluster.scalar("select region_code from care.case where id = "
                          "'%s'" % dd) == "NATIONAL"
    overdue(cluster, g)
    overdue(cluster, f, take=False)
    assert a

    after = rows(d, ks["chain"])
    assert delta(after["VR18"], before["VR18"]) == {
        "open": 3, "untaken": 2, "past_take_deadline": 1,
        "past_first_contact_deadline": 0, "escalated_7d": 1,
        "transferred_untaken": 0, "taken_30d": 2}, after["VR18"]
    assert after["VR18"]["median_take_s"] == 400, after["VR18"]
    assert delta(after["VR19"], before["VR19"]) == {
        "open": 2, "untaken": 2, "past_take_deadline": 0,
        "past_first_contact_deadline": 1, "escalated_7d": 0,
        "transferred_untaken": 1, "taken_30d": 0}, after["VR19"]
    nat = delta(after["NATIONAL"], before["NATIONAL"])
    assert (nat["open"], nat["untaken"], nat["escalated_7d"]) == (1, 1, 1)

    # taken in VR19: no longer counted as a transfer awaiting a take
    act(d, ks["co19"], e, "take")
    again = rows(d, ks["chain"])
    assert delta(again["VR19"], after["VR19"])["transferred_untaken"] == -1
    assert delta(again["VR19"], after["VR19"])["untaken"] == -1


def test_who_sees_which_rows(nrmd, cluster, ks, doc):
    d = nrmd
    everyone = rows(d, ks["chain"])
    n = cluster.count("select count(*) from ref.region")
    assert len(everyone) == n
    r = overview(d, ks["chain"])
    assert r.json()["regions"][-1]["region"] == "NATIONAL"
    validator(doc, "Overview").validate(r.json())
    assert r.json()["silent_after_s"] == 259200  # the default, 3 days
    assert set(rows(d, ks["national"])) == set(everyone)
    assert list(rows(d, ks["co18"])) == ["VR18"]
    for who in ("reporter", "analyst"):
        r = overview(d, ks[who])
        assert r.status_code == 403, (who, r.text[:200])
    r = overview(d, ks["chain"], params={"region": "VR18"})
    assert r.status_code == 400, r.text[:200]
    assert r.json()["field"] == "region"


def test_one_audit_event_per_read(nrmd, cluster, ks):
    r = overview(nrmd, ks["chain"])
    assert r.status_code == 200
    rid = r.headers["X-Request-Id"]
    got = cluster.sql(
        "select action, object_type, coalesce(object_id, '-'), purpose, "
        "outcome, role, api_key_id from audit.event where request_id = "
        "'%s'" % rid)
    assert got == [["overview.read", "overview", "-", "monitoring",
                    "allowed", "chain_director",
                    key_id(cluster, ks["chain"])]], got


def test_no_case_id_or_personal_data_in_any_answer(nrmd, cluster, ks):
    """Runs last: every answer of the module, whoever asked."""
    for who in ("chain", "national", "co18", "co19"):
        assert overview(nrmd, ks[who]).status_code == 200
    assert CASES and len(ANSWERS) > 8
    key_ids = [x[0] for x in cluster.sql("select id from auth.api_key")]
    banned = CASES + key_ids + PERSONAL_FRAGMENTS + [
        PERSONAL["birth_date"], PERSONAL["given_name"]]
    for text in ANSWERS:
        for b in banned:
            assert b not in text, "an overview answer holds %r" % b
