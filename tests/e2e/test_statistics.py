"""GET /v1/statistics over the real daemon (issue 13): the answer's shape
(checked against nrm-api/openapi.yaml), published cells equal to the
counts in the database and none below the threshold, 400s naming
measure, period or by, the roles (analyst; auditor for emergency reads
only; 403 for the others, audited), one audit event per read without
personal data, and every measure x dimension the vocabulary allows."""

import datetime
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import requests

from nrm_e2e.api import assert_receipt, auth, post_signal
from nrm_e2e.env import ROOT
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key
from nrm_e2e.signals import adult_signal

HEADER = ROOT / "nrm-core" / "include" / "nrm" / "statvocab.h"


def this_month():
    return datetime.datetime.now(ZoneInfo("Europe/Amsterdam")).strftime(
        "%Y-%m")


def get(d, key, **params):
    return requests.get(d.url + "/v1/statistics", params=params,
                        headers=auth(key) if key else {}, timeout=30)


@pytest.fixture(scope="module")
def st_keys(cluster, keys):
    sfx = uuid.uuid4().hex[:6]
    return {
        "analyst": keys["analyst"],
        "reporter": keys["reporter"],
        "coordinator": keys["coordinator"],
        "auditor": create_key(cluster, "auditor", "Privacy Stat " + sfx,
                              "other"),
        "admin": create_key(cluster, "admin", "Beheer Stat " + sfx,
                            "other"),
        "assessor": create_key(cluster, "assessor", "Beoordeling Stat " + sfx,
                               "assessment_body"),
    }


def allowed_table():
    """{measure: [dimensions]} from the table in statvocab.h's comment
    ("allowed:" and the x/. rows)."""
    text = HEADER.read_text(encoding="utf-8")
    dims = ["region", "exploitation", "reporter_kind", "minor", "age_band",
            "gender", "nationality_group", "priority", "outcome", "reason",
            "stage", "verdict", "investigation", "model", "dissent"]
    measures = re.findall(r"^ \*  ([a-z_]+)\s+(?:count|duration)\s",
                          text, re.M)
    rows = re.findall(r"^ \*  ([a-z_.]+)\s+((?:[x.]\s+){14}[x.])\s*$",
                      text, re.M)
    assert len(measures) == 16 and len(rows) == 16, (measures, rows)
    out = {}
    for m, (_, marks) in zip(measures, rows):
        out[m] = [d for d, x in zip(dims, marks.split()) if x == "x"]
    return out


def test_shape_and_counts(nrmd, cluster, st_keys):
    """Twelve signals to VR13 this month: VR13's cell is published and
    equals the database's count; every published cell does; no published
    cell is below the threshold."""
    for _ in range(12):
        body = adult_signal()
        body["location"] = {"municipality_code": "GM0363"}  # VR13
        assert_receipt(post_signal(nrmd, st_keys["reporter"].token, body))
    month = this_month()
    r = get(nrmd, st_keys["analyst"], measure="signals", period=month,
            by="region")
    assert r.status_code == 200, r.text[:300]
    t = r.json()
    assert t["measure"] == "signals" and t["period"] == month
    assert t["by"] == ["region"] and t["unit"] == "count"
    assert t["provisional"] is True
    k = t["min_cell"]
    assert k == 10
    counts = dict(cluster.sql(
        "select region_code, count(*) from intake.signal "
        "where received_at >= date_trunc('month', now() at time zone "
        "'Europe/Amsterdam') at time zone 'Europe/Amsterdam' "
        "group by 1"))
    regions = [row[0] for row in cluster.sql(
        "select code from ref.region order by code collate \"C\"")]
    assert [c["region"] for c in t["cells"]] == regions
    for c in t["cells"]:
        n = int(counts.get(c["region"], 0))
        if c.get("suppressed"):
            assert c["value"] is None
        else:
            assert c["value"] == n, (c, n)
            assert n == 0 or n >= k, c
    vr13 = next(c for c in t["cells"] if c["region"] == "VR13")
    assert vr13.get("suppressed") is None and vr13["value"] >= 12


def test_answer_matches_the_openapi_schema(nrmd, doc, st_keys):
    v = validator(doc, "StatisticsTable")
    for params in ({"measure": "signals", "period": this_month()},
                   {"measure": "time_to_take", "period": "2026",
                    "by": "priority"},
                   {"measure": "cases", "period": "2026-Q4",
                    "by": "region,minor"}):
        r = get(nrmd, st_keys["analyst"], **params)
        assert r.status_code == 200, r.text[:300]
        errors = [e.message for e in v.iter_errors(r.json())]
        assert not errors, (params, errors)
    t = get(nrmd, st_keys["analyst"], measure="cases", period="2026-Q4",
            by="region,minor").json()
    assert all(isinstance(c["minor"], bool) for c in t["cells"])
    assert len(t["cells"]) == 2 * 26


@pytest.mark.parametrize("params,field", [
    ({"period": "2026"}, "measure"),
    ({"measure": "colours", "period": "2026"}, "measure"),
    ({"measure": "signals"}, "period"),
    ({"measure": "signals", "period": "2026-13"}, "period"),
    ({"measure": "signals", "period": "2026-Q5"}, "period"),
    ({"measure": "signals", "period": " 2026"}, "period"),
    ({"measure": "signals", "period": "2026-1"}, "period"),
    ({"measure": "signals", "period": "1999"}, "period"),
    ({"measure": "signals", "period": "2026-01/2026-03"}, "period"),
    ({"measure": "signals", "period": "2026-11-01"}, "period"),
    ({"measure": "signals", "period": "2026", "by": "colour"}, "by"),
    ({"measure": "signals", "period": "2026", "by": "priority"}, "by"),
    ({"measure": "signals", "period": "2026", "by": "region,region"}, "by"),
    ({"measure": "signals", "period": "2026",
      "by": "region,gender,minor"}, "by"),
    ({"measure": "signals", "period": "2026", "by": "region,"}, "by"),
    ({"measure": "signals", "period": "2026", "from": "2026-01-01"}, "from"),
])
def test_bad_requests_name_the_field(nrmd, st_keys, params, field):
    r = get(nrmd, st_keys["analyst"], **params)
    assert r.status_code == 400, r.text[:300]
    assert r.headers["Content-Type"].startswith("application/problem+json")
    p = r.json()
    assert p["type"] == "urn:nrm:problem:bad_request"
    assert p["field"] == field, p
    for v in params.values():
        if len(v) > 4:
            assert v not in p.get("detail", ""), p


@pytest.mark.parametrize("role", ["reporter", "coordinator", "assessor",
                                  "admin"])
def test_other_roles_are_refused(nrmd, st_keys, role):
    r = get(nrmd, st_keys[role], measure="signals", period="2026")
    assert r.status_code == 403, (role, r.text[:300])
    r = get(nrmd, st_keys[role], measure="emergency_reads", period="2026")
    assert r.status_code == 403, (role, r.text[:300])


def test_no_token(nrmd):
    assert get(nrmd, None, measure="signals",
               period="2026").status_code == 401


def test_auditor_reads_emergency_reads_only(nrmd, cluster, st_keys):
    r = get(nrmd, st_keys["auditor"], measure="emergency_reads",
            period="2026", by="verdict")
    assert r.status_code == 200, r.text[:300]
    assert [c["verdict"] for c in r.json()["cells"]] == [
        "justified", "unjustified", "pending"]
    for m in ("signals", "cases", "time_to_take"):
        r = get(nrmd, st_keys["auditor"], measure=m, period="2026")
        assert r.status_code == 403, (m, r.text[:300])
        rid = r.headers["X-Request-Id"]
        assert cluster.sql(
            "select action, object_id, outcome, reason from audit.event "
            "where request_id = '%s'" % rid) == [
            ["statistics.read", m, "denied", "measure_not_permitted"]]


def test_one_audit_event_per_read(nrmd, cluster, st_keys):
    r = get(nrmd, st_keys["analyst"], measure="closures", period="2026-Q4",
            by="reason")
    assert r.status_code == 200
    rid = r.headers["X-Request-Id"]
    rows = cluster.sql(
        "select action, object_type, object_id, purpose, outcome, role "
        "from audit.event where request_id = '%s'" % rid)
    assert rows == [["statistics.read", "statistics", "closures",
                     "monitoring", "allowed", "analyst"]]


def test_every_allowed_breakdown_answers(nrmd, st_keys):
    """Each measure by each dimension statvocab.h allows: 200 with a cell
    per category naming the dimension; each other dimension: 400 by.
    The database repeats the vocabulary (stats.measures): a disagreement
    shows as a 400 from it or a 200 here."""
    table = allowed_table()
    dims = ["region", "exploitation", "reporter_kind", "minor", "age_band",
            "gender", "nationality_group", "priority", "outcome", "reason",
            "stage", "verdict", "investigation", "model", "dissent"]
    for m, allowed in table.items():
        for d in dims:
            r = get(nrmd, st_keys["analyst"], measure=m, period="2026-Q4",
                    by=d)
            if d in allowed:
                assert r.status_code == 200, (m, d, r.text[:200])
                cells = r.json()["cells"]
                assert cells and all(d in c for c in cells), (m, d)
                unit = r.json()["unit"]
                assert unit == ("seconds" if m.startswith("time_")
                                else "count"), (m, unit)
            else:
                assert r.status_code == 400, (m, d, r.status_code)
                assert r.json()["field"] == "by"


def test_a_parameter_given_twice_is_refused(nrmd, st_keys):
    r = requests.get(nrmd.url + "/v1/statistics",
                     params=[("measure", "signals"), ("measure", "cases"),
                             ("period", "2026")],
                     headers=auth(st_keys["analyst"]), timeout=30)
    assert r.status_code == 400, r.text[:300]
    assert r.json()["field"] == "measure"
