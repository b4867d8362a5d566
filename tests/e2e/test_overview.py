"""GET /v1/overview (issue 20): the central information point, over the
real daemon.  Counts per region against cases made in known states
(exact deltas on regions no other test uses: VR18 and VR19), who sees
which rows, one audit event per read, the OpenAPI schema, and a scan of
every answer for case ids, key ids and the suite's personal data.

Live coverage: a region whose only coordinator is revoked, or silent
for longer than coverage_silent_after, is uncovered in the overview and
counted in /metrics (nrm_regions_uncovered), as are the cases past
their take and first-contact deadlines per region (nrm_cases_overdue,
the overview's numbers); nrmd and `nrmctl config check --database-url` warn
about offices without any coordinator.  VR21 and VR23 are this module's
too.

The module's daemon sweeps once an hour, so a case past its take
deadline stays in its region until the test escalates it itself; it
counts a region silent after 3 s and refreshes its coverage every
second."""

import re
import signal
import subprocess
import time
import uuid

import pytest
import requests

from nrm_e2e.api import assert_receipt, auth, metric, post_signal
from nrm_e2e.daemon import one_daemon
from nrm_e2e.env import NRMCTL, ROUTING_DIR, clean_env, wait_for
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
    for d in one_daemon(workdir, cluster, pki, config={
            "sweep_interval": "3600", "coverage_silent_after": "3",
            "coverage_refresh": "1"}):
        # ... but its first sweep comes 1 s after start (jobs.c), and
        # again 1 s later when the pool was not ready then: both are over
        # before a test makes a case overdue (a fast start had the first
        # one escalate test_counts_per_region's case G)
        wait_for(lambda: metric(d, 'nrm_job_ticks_total{job="sweep"}')
                 >= 1, 15, what="the first sweep")
        time.sleep(1.2)
        yield d


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
    G past its take deadline; E transferred to VR19, accepted there (not yet
    taken).
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
    act(d, ks["co19"], e, "transfer/accept")  # issue 18: VR19 accepts
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
    assert r.json()["silent_after_s"] == 3  # the module's daemon
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


def coverage(d, ks, region):
    return rows(d, ks["chain"])[region]["coverage"]


def test_uncovered_when_the_only_coordinator_is_revoked_or_silent(
        nrmd, cluster, ks):
    """VR21's one coordinator acts: covered; silent for longer than
    coverage_silent_after (3 s): uncovered; acts again: covered; revoked:
    no coordinator, uncovered.  /metrics follows the database."""
    d = nrmd
    assert coverage(d, ks, "VR21")["coordinators"] == 0
    assert coverage(d, ks, "VR21")["covered"] is False
    co21 = create_key(cluster, "coordinator", "Zorg VR21 " + uuid.uuid4().hex[
        :6], "care_agency", ("VR21",))
    r = requests.get(d.url + "/v1/inbox", headers=auth(co21), timeout=15)
    assert r.status_code == 200
    cov = coverage(d, ks, "VR21")
    assert (cov["coordinators"], cov["coordinator_keys"], cov["covered"]) \
        == (1, 1, True), cov
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                    cov["last_acted_at"]), cov
    wait_for(lambda: coverage(d, ks, "VR21")["covered"] is False, 15,
             what="VR21 uncovered once silent for 3 s")
    requests.get(d.url + "/v1/inbox", headers=auth(co21), timeout=15)
    assert coverage(d, ks, "VR21")["covered"] is True
    cluster.nrmctl("key", "revoke", key_id(cluster, co21))
    cov = coverage(d, ks, "VR21")
    assert (cov["coordinators"], cov["covered"]) == (0, False), cov


def uncovered_in_db(cluster, silent):
    return len(cluster.sql(
        "select jsonb_array_elements_text(api.coverage_uncovered(%d)"
        "->'uncovered')" % silent))


def test_metrics_counts_uncovered_regions(nrmd, cluster):
    want = uncovered_in_db(cluster, 3)
    assert want >= 1  # VR23 has no coordinator at all
    wait_for(lambda: metric(nrmd, "nrm_regions_uncovered")
             == uncovered_in_db(cluster, 3), 15,
             what="nrm_regions_uncovered is the database's count")


OVERDUE_LINE = re.compile(r'^nrm_cases_overdue\{region="([A-Z0-9]+)",'
                          r'deadline="(take|first_contact)"\} (\d+)$', re.M)


def overdue_gauges(d):
    """nrm_cases_overdue on d's /metrics: {(region, deadline): count}."""
    text = requests.get(d.url + "/metrics", timeout=5).text
    found = OVERDUE_LINE.findall(text)
    assert len(found) == text.count("\nnrm_cases_overdue{"), text
    return {(r, k): int(n) for r, k, n in found}


def overdue_in_overview(d, ks):
    return {(r, k): x[col] for r, x in rows(d, ks["chain"]).items()
            for k, col in (("take", "past_take_deadline"),
                           ("first_contact", "past_first_contact_deadline"))}


def test_metrics_overdue_cases_per_region(nrmd, cluster, ks):
    """nrm_cases_overdue: two cases made past their take deadline in
    VR19 and one past its first-contact deadline in VR18 move exactly
    those gauges; every region has both, equal to the overview's
    past_take_deadline and past_first_contact_deadline (0 when none),
    within the refresh (1 s here)."""
    d = nrmd
    before = overdue_in_overview(d, ks)
    for _ in range(2):
        overdue(cluster, case_in(d, ks, "VR19"))
    overdue(cluster, case_in(d, ks, "VR18"), take=False)
    want = overdue_in_overview(d, ks)
    changed = {k: want[k] - before[k] for k in want if want[k] != before[k]}
    assert changed == {("VR19", "take"): 2, ("VR18", "first_contact"): 1}, \
        changed
    assert len(want) == 2 * int(cluster.scalar(
        "select count(*) from ref.region"))
    wait_for(lambda: overdue_gauges(d) == want, 15,
             what="nrm_cases_overdue is the overview's, region by region")
    got = overdue_gauges(d)
    assert got[("VR19", "take")] == before[("VR19", "take")] + 2
    assert got[("VR18", "first_contact")] == \
        before[("VR18", "first_contact")] + 1
    # a region without any case: present, 0
    none = cluster.scalar(
        "select min(code) from ref.region r where not exists (select 1 "
        "from care.case c where c.region_code = r.code)")
    assert none, "every region has a case"
    assert (got[(none, "take")], got[(none, "first_contact")]) == (0, 0)
    # counts and region codes only
    text = requests.get(d.url + "/metrics", timeout=5).text
    assert all(c not in text for c in CASES)


def test_nrmd_warns_about_offices_without_coordinators(nrmd, ks):
    """At start and after a reload, each region named: VR23 (nobody)
    both times, VR18 only before its coordinator key (ks) existed."""
    def warned(text, region):
        return [ln for ln in text.splitlines()
                if "no coordinator key or person" in ln
                and "region=%s " % region in ln]

    line = wait_for(lambda: warned(nrmd.log_text(), "VR23"), 15,
                    what="a warning naming VR23")
    assert "office=" in line[0]
    assert ks["co18"]
    seen = len(nrmd.log_text())
    nrmd.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: warned(nrmd.log_text()[seen:], "VR23"), 15,
             what="warned again after the reload")
    assert not warned(nrmd.log_text()[seen:], "VR18")


def test_config_check_with_a_database_names_unstaffed_offices(cluster):
    p = subprocess.run([str(NRMCTL), "--database-url", cluster.owner_url,
                        "config", "check", str(ROUTING_DIR)],
                       capture_output=True, text=True, timeout=60,
                       env=clean_env())
    assert p.returncode == 0, p.stderr
    assert re.search(r"^warning: region VR23 \(.*\): its office .* has no "
                     r"coordinator key or person$", p.stdout, re.M), p.stdout
    assert "warning: region VR18 " not in p.stdout  # co18 is there
    assert re.search(r"^\d+ region\(s\) with an office and no coordinator$",
                     p.stdout, re.M)
    # without --database-url: no database, no such warning
    p = subprocess.run([str(NRMCTL), "config", "check", str(ROUTING_DIR)],
                       capture_output=True, text=True, timeout=60,
                       env=clean_env({"NRM_DATABASE_URL": "postgresql://"
                                      "nobody@nowhere.invalid/x"}))
    assert p.returncode == 0, p.stderr
    assert "has no coordinator" not in p.stdout


def case_id_in(d, ks, muni):
    body = adult_signal()
    body["location"] = {"municipality_code": muni}
    rec = assert_receipt(post_signal(d, ks["reporter"].token, body))
    CASES.append(rec["case_id"])
    return rec


def explanation(cluster, case_id):
    return cluster.scalar("select explanation from care.case where id = "
                          "'%s'" % case_id)


def test_reroute_uncovered_regions_to_the_national_desk(
        nrmd, nrmd_factory, cluster, ks):
    """route_uncovered_to_national on: a signal for VR23 (no coordinator
    at all) goes to the national desk and its explanation says why; one
    for VR18 (its coordinator acted) stays.  Off (the module's daemon):
    VR23 keeps it."""
    on = nrmd_factory(config={"route_uncovered_to_national": "true",
                              "coverage_refresh": "1"})
    requests.get(on.url + "/v1/inbox", headers=auth(ks["co18"]), timeout=15)
    wait_for(lambda: "nrm_regions_uncovered " in requests.get(
        on.url + "/metrics", timeout=5).text, 15,
        what="the coverage is known")
    rec = case_id_in(on, ks, "GM0889")  # Beesel, VR23
    assert rec["region"] == "NATIONAL", rec
    text = explanation(cluster, rec["case_id"])
    assert text.endswith("; VR23 is uncovered (no active coordinator who "
                         "acted recently) -> national desk"), text
    assert cluster.scalar(
        "select detail->>'region' from care.case_history where case_id = "
        "'%s' and action = 'routed'" % rec["case_id"]) == "NATIONAL"
    rec = case_id_in(on, ks, MUNI["VR18"])
    assert rec["region"] == "VR18", rec
    assert "uncovered" not in explanation(cluster, rec["case_id"])
    # the explanation of a dry run says the same
    body = adult_signal()
    body["location"] = {"municipality_code": "GM0889"}
    r = requests.post(on.url + "/v1/routing/explain", headers=auth(
        ks["co18"]), json={"signal": body, "reporter_kind": "police"},
        timeout=15)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["decision"]["region"] == "NATIONAL"
    assert r.json()["decision"]["hops"] == ["VR23", "NATIONAL"]
    # off
    rec = case_id_in(nrmd, ks, "GM0889")
    assert rec["region"] == "VR23", rec
    assert "uncovered" not in explanation(cluster, rec["case_id"])


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
