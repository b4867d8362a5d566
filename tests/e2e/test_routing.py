"""Routing end to end (issue 3): signals from real municipalities land in
the right region, minors get the urgent deadlines, an inactive region
falls back, the explain and config endpoints, reload by HTTP and SIGHUP,
and a reload while a client keeps submitting.

Every expectation is read from the configuration files (config/routing/)
or stated here; the daemon's answers are checked against both the
receipts and the database rows."""

import csv
import datetime
import json
import re
import shutil
import signal
import threading
import uuid

import pytest
import requests

import nrm_e2e.api
from nrm_e2e.api import assert_problem, assert_receipt, auth, post_signal
from nrm_e2e.env import ROUTING_DIR, wait_for
from nrm_e2e.pg import create_key
from nrm_e2e.sealed import signal_ids_by_reference
from nrm_e2e.signals import (
    PERSONAL, PERSONAL_FRAGMENTS, adult_signal, minor_signal, now_utc)

# --------------------------------------------------------------------------
# the configuration as shipped


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


DEFAULT_REGIONS = load_json(ROUTING_DIR / "regions.json")
DEFAULT_RULES = load_json(ROUTING_DIR / "rules.json")


def municipality_map(path=ROUTING_DIR / "municipalities.csv"):
    with open(path, encoding="utf-8", newline="") as f:
        return {row["municipality_code"]: row
                for row in csv.DictReader(f)}


MUNICIPALITIES = municipality_map()

# A dozen (and one) real municipalities, each in another safety region.
CITIES = {
    "GM0014": "VR01",  # Groningen
    "GM0080": "VR02",  # Leeuwarden
    "GM0193": "VR04",  # Zwolle
    "GM0153": "VR05",  # Enschede
    "GM0202": "VR07",  # Arnhem
    "GM0268": "VR08",  # Nijmegen
    "GM0344": "VR09",  # Utrecht
    "GM0363": "VR13",  # Amsterdam
    "GM0518": "VR15",  # 's-Gravenhage
    "GM0599": "VR17",  # Rotterdam
    "GM0855": "VR20",  # Tilburg
    "GM0772": "VR22",  # Eindhoven
    "GM0935": "VR24",  # Maastricht
}

DURATION_RE = re.compile(
    r"^P(?:(?P<w>\d+)W|(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?)$")


def iso_seconds(text):
    """Seconds of a fixed-length ISO 8601 duration (PT1H, P1DT12H, P2W)."""
    m = DURATION_RE.match(text)
    assert m and text not in ("P", "PT") and not text.endswith("T"), text
    g = {k: int(v or 0) for k, v in m.groupdict().items()}
    return (g["w"] * 7 * 86400 + g["d"] * 86400 + g["h"] * 3600
            + g["m"] * 60 + g["s"])


def rule_by_id(rules_doc, rule_id):
    for r in rules_doc["rules"]:
        if r["id"] == rule_id:
            return r
    raise AssertionError("no rule %r in the configuration" % rule_id)


PERSONAL_VALUES = sorted(set(PERSONAL.values()) | set(PERSONAL_FRAGMENTS))


def assert_no_personal(text, what):
    for v in PERSONAL_VALUES:
        assert v not in text, "%s holds the personal value %r: %s" % (
            what, v, text[:500])


# --------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def rkeys(cluster, keys):
    """The suite's keys plus the roles only routing needs."""
    suffix = uuid.uuid4().hex[:6]
    k = dict(keys)
    k["admin"] = create_key(cluster, "admin", "Beheer NRM " + suffix,
                            "national_centre")
    k["investigator"] = create_key(cluster, "investigator",
                                   "Recherche " + suffix, "police")
    k["auditor"] = create_key(cluster, "auditor", "Toezicht " + suffix,
                              "national_centre")
    return k


class RoutingDir:
    """A private copy of config/routing that a test may edit."""

    def __init__(self, path):
        self.path = path
        shutil.copytree(ROUTING_DIR, path)

    def read(self, name):
        return load_json(self.path / name)

    def write_text(self, name, text):
        tmp = self.path / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path / name)  # atomic: a reload sees old or new

    def write(self, name, doc):
        self.write_text(name, json.dumps(doc, ensure_ascii=False, indent=1))


@pytest.fixture
def routing_dir(workdir):
    return RoutingDir(workdir / ("routing-" + uuid.uuid4().hex[:8]))


@pytest.fixture
def e2e_rule_ids(monkeypatch):
    """assert_receipt accepts the rule ids of the test's own rule sets."""
    shipped = nrm_e2e.api.rule_ids
    monkeypatch.setattr(nrm_e2e.api, "rule_ids",
                        lambda: shipped() | {BEGGING_RULE["id"]})


def get_config(d, token):
    return requests.get(d.url + "/v1/routing/config", headers=auth(token),
                        timeout=10)


def live_version(d, admin):
    r = get_config(d, admin.token)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return r.json()["version"]


def explain(d, token, body):
    return requests.post(
        d.url + "/v1/routing/explain", data=json.dumps(body).encode(),
        headers=dict(auth(token), **{"Content-Type": "application/json"}),
        timeout=10)


def reload(d, token):
    return requests.post(d.url + "/v1/admin/reload", headers=auth(token),
                         timeout=15)


def case_row(db, case_id):
    rows = db.sql(
        "select c.region_code, c.priority, c.rule_id, c.ruleset_version, "
        "c.explanation, "
        "extract(epoch from c.take_by - s.received_at)::bigint, "
        "extract(epoch from c.first_contact_by - s.received_at)::bigint "
        "from care.case c join intake.signal s on s.id = c.signal_id "
        "where c.id = '%s'" % case_id)
    assert len(rows) == 1, rows
    r = rows[0]
    return {"region": r[0], "priority": r[1], "rule_id": r[2],
            "ruleset_version": r[3], "explanation": r[4],
            "take": int(r[5]), "contact": int(r[6])}


def routed_decision(db, case_id):
    rows = db.sql("select detail::text from care.case_history "
                  "where case_id = '%s' and action = 'routed'" % case_id)
    assert len(rows) == 1, rows
    return json.loads(rows[0][0])


BEGGING_RULE = {
    "id": "begging-national",
    "description": "e2e: begging goes to the national desk",
    "when": {"exploitation": ["begging"]},
    "then": {"route": "national", "priority": "normal",
             "take_within": "PT6H", "first_contact_within": "P2D",
             "labels": ["e2e-begging"]},
}


def rules_with_begging():
    doc = json.loads(json.dumps(DEFAULT_RULES))
    doc["rules"].insert(0, json.loads(json.dumps(BEGGING_RULE)))
    return doc


def begging_signal(municipality="GM0363"):
    body = adult_signal(exploitation=["begging"], control_means=["threats"])
    body["location"] = {"municipality_code": municipality}
    return body


# --------------------------------------------------------------------------
# 1. a dozen real municipalities


def test_signals_from_a_dozen_municipalities_land_in_their_region(
        nrmd, db, rkeys):
    version = live_version(nrmd, rkeys["analyst"])
    assert re.match(r"^[0-9a-f]{64}$", version), version
    for code, region in CITIES.items():
        # the expectation agrees with the shipped map
        assert MUNICIPALITIES[code]["safety_region_code"] == region, code
    assert len(set(CITIES.values())) == len(CITIES)

    for code, region in CITIES.items():
        body = adult_signal()
        body["location"] = {"municipality_code": code}
        rec = assert_receipt(post_signal(nrmd, rkeys["reporter"].token,
                                         body))
        assert rec["region"] == region, (code, rec)
        assert rec["rule_id"] == "default", (code, rec)
        assert rec["priority"] == "normal", (code, rec)
        c = case_row(db, rec["case_id"])
        assert c["region"] == region, (code, c)
        assert c["rule_id"] == rec["rule_id"], (code, c)
        assert c["ruleset_version"] == version, (code, c)
        assert c["explanation"].strip(), (code, c)
        assert code in c["explanation"], (code, c["explanation"])
        assert region in c["explanation"], (code, c["explanation"])
        assert "default" in c["explanation"], (code, c["explanation"])
        assert_no_personal(c["explanation"], "explanation of " + code)
        rule = rule_by_id(DEFAULT_RULES, "default")
        assert c["take"] == iso_seconds(rule["then"]["take_within"]), c
        assert c["contact"] == iso_seconds(
            rule["then"]["first_contact_within"]), c
        # the signal row names the same decision
        row = db.sql("select region_code, rule_id, ruleset_version, "
                     "municipality_code from intake.signal where id = '%s'"
                     % rec["signal_id"])
        assert row == [[region, "default", version, code]], (code, row)


# --------------------------------------------------------------------------
# 2. minors, shelter, unknown location


def assert_deadlines_of(db, rec, rule_id, priority, region):
    assert rec["rule_id"] == rule_id, rec
    assert rec["priority"] == priority, rec
    assert rec["region"] == region, rec
    c = case_row(db, rec["case_id"])
    rule = rule_by_id(DEFAULT_RULES, c["rule_id"])
    assert c["rule_id"] == rule_id and c["priority"] == priority, c
    assert c["region"] == region, c
    assert rule["then"]["priority"] == priority, rule
    assert c["take"] == iso_seconds(rule["then"]["take_within"]), (
        rule_id, c, rule["then"])
    assert c["contact"] == iso_seconds(
        rule["then"]["first_contact_within"]), (rule_id, c, rule["then"])
    d = routed_decision(db, rec["case_id"])["decision"]
    assert d["take_within"] == c["take"], d
    assert d["first_contact_within"] == c["contact"], d
    assert d["labels"] == rule["then"].get("labels", []), d
    assert d["hops"] == [], d
    return c


def test_minor_gets_urgent_deadlines(nrmd, db, rkeys):
    rep = rkeys["reporter"].token
    # a minor by birth date, in Rotterdam
    body = minor_signal()
    body["location"] = {"municipality_code": "GM0599"}
    rec = assert_receipt(post_signal(nrmd, rep, body))
    c = assert_deadlines_of(db, rec, "minor", "urgent", "VR17")
    assert c["take"] == 3600  # PT1H: the default rules' minor deadline
    assert_no_personal(c["explanation"], "explanation")

    # a minor by age estimate, in immediate danger, in Utrecht
    body = minor_signal()
    body["subject"] = {"age_estimate": 15, "gender": "female",
                       "nationality": "NL"}
    body["location"] = {"municipality_code": "GM0344"}
    body["urgency"] = {"immediate_danger": True, "needs_shelter": True}
    rec = assert_receipt(post_signal(nrmd, rep, body))
    c = assert_deadlines_of(db, rec, "minor-immediate-danger", "urgent",
                            "VR09")
    assert c["take"] == 1800  # PT30M

    # a minor without location: urgent, at the national desk
    body = minor_signal()
    body.pop("location")
    rec = assert_receipt(post_signal(nrmd, rep, body))
    c = assert_deadlines_of(db, rec, "minor", "urgent", "NATIONAL")
    assert "unknown" in c["explanation"], c


def test_adult_needing_shelter_is_high(nrmd, db, rkeys):
    body = adult_signal(urgency={"immediate_danger": False,
                                 "needs_shelter": True})
    body["location"] = {"municipality_code": "GM0518"}
    rec = assert_receipt(post_signal(nrmd, rkeys["reporter"].token, body))
    assert_deadlines_of(db, rec, "needs-shelter", "high", "VR15")


def test_unknown_location_goes_to_national_desk(nrmd, db, rkeys):
    body = adult_signal()
    body.pop("location")
    rec = assert_receipt(post_signal(nrmd, rkeys["reporter"].token, body))
    c = assert_deadlines_of(db, rec, "location-unknown", "normal",
                            "NATIONAL")
    assert "unknown" in c["explanation"], c
    assert db.scalar("select coalesce(municipality_code, '-') "
                     "from intake.signal where id = '%s'"
                     % rec["signal_id"]) == "-"


# --------------------------------------------------------------------------
# 3. an inactive region falls back


def test_inactive_region_falls_back(nrmd, nrmd_factory, db, rkeys,
                                    routing_dir):
    regions = routing_dir.read("regions.json")
    by_code = {r["code"]: r for r in regions["regions"]}
    # Amsterdam-Amstelland is closed, its fallback Gooi en Vechtstreek is
    # closed too and falls back to Utrecht.
    by_code["VR13"]["active"] = False
    by_code["VR13"]["fallback"] = "VR14"
    by_code["VR14"]["active"] = False
    by_code["VR14"]["fallback"] = "VR09"
    routing_dir.write("regions.json", regions)
    d = nrmd_factory(config={"routing_dir": routing_dir.path})

    cfg = get_config(d, rkeys["admin"].token)
    assert cfg.status_code == 200, cfg.text[:500]
    cov = {r["code"]: r for r in cfg.json()["coverage"]["regions"]}
    assert cov["VR13"]["active"] is False, cov["VR13"]
    assert cov["VR13"]["effective"] == "VR09", cov["VR13"]
    assert cov["VR13"]["hops"] == ["VR13", "VR14", "VR09"], cov["VR13"]
    version = cfg.json()["version"]
    assert version != live_version(nrmd, rkeys["admin"]), \
        "a changed regions.json must change the version"

    for code, hops in (("GM0363", ["VR13", "VR14", "VR09"]),   # Amsterdam
                       ("GM0376", ["VR14", "VR09"])):          # Blaricum
        body = adult_signal()
        body["location"] = {"municipality_code": code}
        rec = assert_receipt(post_signal(d, rkeys["reporter"].token, body))
        assert rec["region"] == "VR09", (code, rec)
        c = case_row(db, rec["case_id"])
        assert c["region"] == "VR09", (code, c)
        assert c["ruleset_version"] == version, c
        h = routed_decision(db, rec["case_id"])
        assert h["region"] == "VR09", h
        assert h["decision"]["hops"] == hops, (code, h)
        assert h["decision"]["region"] == "VR09", h
        assert h["decision"]["ruleset_version"] == version, h
        expl = c["explanation"]
        assert hops[0] in expl and "inactive" in expl, expl
        assert code in expl and "VR09" in expl, expl
        assert expl == h["decision"]["explanation"], (expl, h)
        assert_no_personal(expl, "explanation")

    # an active region next door is unaffected
    body = adult_signal()
    body["location"] = {"municipality_code": "GM0344"}
    rec = assert_receipt(post_signal(d, rkeys["reporter"].token, body))
    assert rec["region"] == "VR09"
    assert routed_decision(db, rec["case_id"])["decision"]["hops"] == []


# --------------------------------------------------------------------------
# 4. POST /v1/routing/explain


def audit_rows_of(db, request_id):
    return db.sql("select action, outcome, row_to_json(e)::text "
                  "from audit.event e where request_id = '%s'" % request_id)


EXPLAIN_CASES = [
    ("GM0599", adult_signal),
    ("GM0014", minor_signal),
    (None, adult_signal),
]


def test_explain_matches_intake_and_stores_nothing(nrmd, db, rkeys):
    version = live_version(nrmd, rkeys["admin"])
    for code, make in EXPLAIN_CASES:
        body = make()
        if code is None:
            body.pop("location", None)
        else:
            body["location"] = {"municipality_code": code}
        decisions = {}
        for who in ("coordinator", "admin", "analyst"):
            before = db.counts()
            audits = db.count("select count(*) from audit.event")
            r = explain(nrmd, rkeys[who].token,
                        {"signal": body, "reporter_kind": "police"})
            assert r.status_code == 200, (who, r.status_code, r.text[:500])
            e = r.json()
            assert e["candidate"] is False, e
            assert e["minor"] is (make is minor_signal), e
            assert e["notification_only"] is False, e
            dec = decisions[who] = e["decision"]
            assert dec["ruleset_version"] == version, dec
            assert_no_personal(r.text, "explain answer")
            # nothing stored but one audit event without personal data
            assert db.counts() == before, who
            assert db.count("select count(*) from audit.event") == \
                audits + 1, who
            rows = audit_rows_of(db, r.headers["X-Request-Id"])
            assert len(rows) == 1, rows
            action, outcome, text = rows[0]
            assert (action, outcome) == ("routing.explain", "allowed"), rows
            assert_no_personal(text, "audit event")
        assert decisions["coordinator"] == decisions["admin"] == \
            decisions["analyst"], decisions
        # a real intake of the same body (a police reporter) decides alike
        rec = assert_receipt(post_signal(nrmd, rkeys["reporter"].token,
                                         body))
        c = case_row(db, rec["case_id"])
        assert (rec["region"], rec["rule_id"], rec["priority"]) == (
            dec["region"], dec["rule_id"], dec["priority"]), (rec, dec)
        assert c["ruleset_version"] == dec["ruleset_version"]
        assert c["explanation"] == dec["explanation"], (c, dec)
        assert (c["take"], c["contact"]) == (
            dec["take_within"], dec["first_contact_within"]), (c, dec)


def test_explain_reporter_kind_matters(nrmd, rkeys):
    body = adult_signal(exploitation=["labour"])
    tok = rkeys["analyst"].token
    a = explain(nrmd, tok, {"signal": body,
                            "reporter_kind": "labour_inspectorate"})
    b = explain(nrmd, tok, {"signal": body, "reporter_kind": "police"})
    assert a.status_code == 200 and b.status_code == 200, (a.text, b.text)
    assert a.json()["decision"]["rule_id"] == "labour-inspectorate-labour"
    assert b.json()["decision"]["rule_id"] == "default"


@pytest.mark.parametrize("who", ["reporter", "investigator", "auditor"])
def test_explain_forbidden_roles(nrmd, db, rkeys, who):
    before = db.counts()
    r = explain(nrmd, rkeys[who].token,
                {"signal": adult_signal(), "reporter_kind": "police"})
    assert_problem(r, 403, "forbidden")
    assert "decision" not in r.text
    assert db.counts() == before
    rows = audit_rows_of(db, r.headers["X-Request-Id"])
    assert rows and all(o == "denied" for _, o, _ in rows), rows
    for _, _, text in rows:
        assert_no_personal(text, "audit event")


def candidate_to_utrecht():
    return {
        "regions": DEFAULT_REGIONS,
        "rules": {"rules": [{
            "id": "all-to-utrecht",
            "then": {"route": "region", "region": "VR09",
                     "priority": "high", "take_within": "PT3H",
                     "first_contact_within": "PT9H"}}]},
    }


def test_explain_with_candidate_config(nrmd, db, rkeys):
    version = live_version(nrmd, rkeys["admin"])
    body = adult_signal()
    body["location"] = {"municipality_code": "GM0935"}  # Maastricht, VR24
    before = db.counts()
    r = explain(nrmd, rkeys["coordinator"].token,
                {"signal": body, "reporter_kind": "police",
                 "candidate": candidate_to_utrecht()})
    assert r.status_code == 200, r.text[:1000]
    e = r.json()
    assert e["candidate"] is True, e
    dec = e["decision"]
    assert dec["region"] == "VR09", dec
    assert dec["rule_id"] == "all-to-utrecht", dec
    assert dec["priority"] == "high", dec
    assert dec["take_within"] == 3 * 3600, dec
    assert dec["first_contact_within"] == 9 * 3600, dec
    assert dec["ruleset_version"] != version, dec
    assert "VR09" in dec["explanation"], dec
    assert_no_personal(r.text, "explain answer")
    assert e["diagnostics"]["errors"] == 0, e
    assert db.counts() == before
    # the live configuration is untouched
    assert live_version(nrmd, rkeys["admin"]) == version
    r = explain(nrmd, rkeys["coordinator"].token,
                {"signal": body, "reporter_kind": "police"})
    assert r.json()["decision"]["region"] == "VR24", r.text[:500]


def test_explain_with_broken_candidate_is_422(nrmd, db, rkeys):
    cand = candidate_to_utrecht()
    cand["rules"]["rules"][0]["then"]["region"] = "VR99"
    before = db.counts()
    r = explain(nrmd, rkeys["admin"].token,
                {"signal": adult_signal(), "candidate": cand})
    p = assert_problem(r, 422, "validation")
    errs = p.get("errors")
    assert isinstance(errs, dict), p
    assert errs["errors"] >= 1, errs
    entries = errs["entries"]
    assert isinstance(entries, list) and entries, errs
    hit = [x for x in entries if x["severity"] == "error"
           and x["file"] == "rules.json" and "VR99" in x["message"]]
    assert hit, entries
    assert hit[0]["path"] == "rules[0].then.region", hit
    assert db.counts() == before

    # a candidate without its catch-all: named, too
    cand = candidate_to_utrecht()
    cand["rules"]["rules"][0]["when"] = {"minor": True}
    r = explain(nrmd, rkeys["admin"].token,
                {"signal": adult_signal(), "candidate": cand})
    p = assert_problem(r, 422, "validation")
    assert any("catch-all" in x["message"]
               for x in p["errors"]["entries"]), p


# --------------------------------------------------------------------------
# 5. GET /v1/routing/config


def test_routing_config(nrmd, db, rkeys):
    seen = None
    for who in ("admin", "analyst"):
        r = get_config(nrmd, rkeys[who].token)
        assert r.status_code == 200, (who, r.status_code, r.text[:500])
        c = r.json()
        assert re.match(r"^[0-9a-f]{64}$", c["version"]), c["version"]
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                        c["loaded_at"]), c["loaded_at"]
        loaded = datetime.datetime.strptime(
            c["loaded_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        assert loaded <= now_utc() + datetime.timedelta(seconds=5)
        cov = c["coverage"]
        assert cov["version"] == c["version"], cov
        assert cov["municipalities"] == 342, cov["municipalities"]
        assert cov["rules"] == len(DEFAULT_RULES["rules"]), cov["rules"]
        regions = {r["code"]: r for r in cov["regions"]}
        assert len(cov["regions"]) == 26 and len(regions) == 26, \
            sorted(regions)
        assert "NATIONAL" in regions
        assert set(regions) - {"NATIONAL"} == {
            "VR%02d" % i for i in range(1, 26)}
        assert sum(r["municipalities"] for r in cov["regions"]) == 342
        per_region = {}
        for m in MUNICIPALITIES.values():
            per_region[m["safety_region_code"]] = \
                per_region.get(m["safety_region_code"], 0) + 1
        for code, reg in regions.items():
            assert reg["active"] is True, reg
            assert reg["municipalities"] == per_region.get(code, 0), reg
            assert reg["effective"] == code, reg
            assert reg["office"]["name"], reg
        assert cov["warnings"] == [], cov["warnings"]
        assert seen is None or seen == c["version"]
        seen = c["version"]
        assert db.count(
            "select count(*) from audit.event where request_id = '%s' "
            "and action = 'routing.config.read' and outcome = 'allowed'"
            % r.headers["X-Request-Id"]) == 1
    for who in ("coordinator", "reporter"):
        r = get_config(nrmd, rkeys[who].token)
        assert_problem(r, 403, "forbidden")
        assert "coverage" not in r.text


# --------------------------------------------------------------------------
# 6. reload by HTTP and SIGHUP


def test_admin_reload(nrmd_factory, db, rkeys, routing_dir,
        e2e_rule_ids):
    d = nrmd_factory(config={"routing_dir": routing_dir.path})
    admin = rkeys["admin"]
    rep = rkeys["reporter"].token
    v0 = live_version(d, admin)

    rec = assert_receipt(post_signal(d, rep, begging_signal()))
    assert (rec["region"], rec["rule_id"]) == ("VR13", "default"), rec

    # non-admins may not reload (and nothing changes)
    routing_dir.write("rules.json", rules_with_begging())
    for who in ("analyst", "coordinator", "reporter"):
        r = reload(d, rkeys[who].token)
        assert_problem(r, 403, "forbidden")
    assert live_version(d, admin) == v0

    # a valid change: the answer names the new version, new signals follow
    r = reload(d, admin.token)
    assert r.status_code == 200, r.text[:1000]
    a = r.json()
    assert a["status"] == "reloaded", a
    v1 = a["version"]
    assert re.match(r"^[0-9a-f]{64}$", v1) and v1 != v0, a
    assert live_version(d, admin) == v1
    rec = assert_receipt(post_signal(d, rep, begging_signal()))
    assert (rec["region"], rec["rule_id"]) == (
        "NATIONAL", "begging-national"), rec
    c = case_row(db, rec["case_id"])
    assert c["ruleset_version"] == v1, c
    assert c["take"] == iso_seconds("PT6H"), c
    assert db.count(
        "select count(*) from audit.event where request_id = '%s' "
        "and action = 'config.reload' and outcome = 'allowed'"
        % r.headers["X-Request-Id"]) == 1

    # a broken rules.json: 422 with the errors, the old version serves on
    broken = rules_with_begging()
    broken["rules"][0]["then"]["region"] = "VR09"  # without route: region
    broken["rules"][1]["when"]["colour"] = "red"   # unknown key
    routing_dir.write("rules.json", broken)
    r = reload(d, admin.token)
    p = assert_problem(r, 422, "validation")
    errs = p["errors"]
    assert errs["errors"] >= 2, errs
    paths = {x["path"] for x in errs["entries"] if x["severity"] == "error"}
    assert "rules[1].when.colour" in paths, errs
    assert any(x["path"].startswith("rules[0].then") for x in
               errs["entries"] if x["severity"] == "error"), errs
    assert live_version(d, admin) == v1
    rec = assert_receipt(post_signal(d, rep, begging_signal()))
    assert (rec["region"], rec["rule_id"]) == (
        "NATIONAL", "begging-national"), rec
    assert case_row(db, rec["case_id"])["ruleset_version"] == v1

    # malformed JSON, too
    routing_dir.write_text("rules.json", '{"rules": [')
    r = reload(d, admin.token)
    p = assert_problem(r, 422, "validation")
    assert any(x["file"] == "rules.json" for x in p["errors"]["entries"]), p
    assert live_version(d, admin) == v1

    # back to the shipped rules: the same content has the same version
    shutil.copy(ROUTING_DIR / "rules.json", routing_dir.path / "rules.json")
    r = reload(d, admin.token)
    assert r.status_code == 200, r.text[:1000]
    assert r.json()["version"] == v0
    rec = assert_receipt(post_signal(d, rep, begging_signal()))
    assert (rec["region"], rec["rule_id"]) == ("VR13", "default"), rec
    assert "reload refused" in d.log_text()


def test_sighup_reload(nrmd_factory, rkeys, routing_dir,
        e2e_rule_ids):
    d = nrmd_factory(config={"routing_dir": routing_dir.path})
    admin = rkeys["admin"]
    rep = rkeys["reporter"].token
    v0 = live_version(d, admin)

    routing_dir.write("rules.json", rules_with_begging())
    d.send_signal(signal.SIGHUP)
    v1 = wait_for(lambda: (lambda v: v if v != v0 else None)(
        live_version(d, admin)), 10, what="the SIGHUP reload")
    rec = assert_receipt(post_signal(d, rep, begging_signal()))
    assert rec["rule_id"] == "begging-national", rec

    # a broken configuration by SIGHUP: refused, logged, the old one serves
    broken = rules_with_begging()
    # a duplicate id, after the catch-all
    broken["rules"].append(json.loads(json.dumps(BEGGING_RULE)))
    routing_dir.write("rules.json", broken)
    log_before = len(d.log_text())
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload refused" in d.log_text()[log_before:], 10,
             what="the refused SIGHUP reload in the log")
    d.assert_running()
    assert live_version(d, admin) == v1
    rec = assert_receipt(post_signal(d, rep, begging_signal()))
    assert rec["rule_id"] == "begging-national", rec


# --------------------------------------------------------------------------
# 7. reload under load


def test_reload_under_load_loses_nothing(nrmd_factory, db, rkeys,
                                         routing_dir, e2e_rule_ids):
    d = nrmd_factory(config={"routing_dir": routing_dir.path})
    admin = rkeys["admin"]
    rep = rkeys["reporter"].token
    v_a = live_version(d, admin)
    text_a = (routing_dir.path / "rules.json").read_text(encoding="utf-8")
    text_b = json.dumps(rules_with_begging(), indent=1)

    total = 200
    results = []          # (reporter_reference, status or exception, rec)
    lock = threading.Lock()
    stop = threading.Event()

    def client(n):
        s = requests.Session()
        for i in range(n):
            if stop.is_set():
                break
            body = begging_signal("GM0363" if i % 2 else "GM0599")
            ref = body["reporter_reference"]
            try:
                r = post_signal(d, rep, body, session=s, timeout=20)
                out = (ref, r.status_code,
                       r.json() if r.status_code == 201 else r.text[:300])
            except requests.RequestException as e:
                out = (ref, repr(e)[:300], None)
            with lock:
                results.append(out)

    threads = [threading.Thread(target=client, args=(total // 4,))
               for _ in range(4)]
    for t in threads:
        t.start()
    versions = [v_a]
    try:
        for n, text in enumerate((text_b, text_a, text_b)):
            wait_for(lambda: len(results) >= (n + 1) * total // 4
                     or not any(t.is_alive() for t in threads), 30,
                     what="client progress")
            routing_dir.write_text("rules.json", text)
            r = reload(d, admin.token)
            assert r.status_code == 200, r.text[:1000]
            versions.append(r.json()["version"])
    finally:
        for t in threads:
            t.join(60)
        stop.set()
    assert not any(t.is_alive() for t in threads)

    v_b = versions[1]
    assert v_b != v_a and versions == [v_a, v_b, v_a, v_b], versions
    expect = {v_a: ("default", None), v_b: ("begging-national", "NATIONAL")}

    assert len(results) == total, len(results)
    bad = [x for x in results if x[1] != 201]
    assert not bad, bad[:10]
    refs = [x[0] for x in results]
    assert len(set(refs)) == total

    # every accepted signal is stored exactly once, with one case (the
    # references are stored sealed, issue 15: opened with the KEK)
    by_ref = signal_ids_by_reference(db, db.kek_file)
    for ref in refs:
        assert len(by_ref.get(ref, [])) <= 1, (ref, by_ref[ref])
    ref_of = {by_ref[ref][0]: ref for ref in refs if ref in by_ref}
    rows = db.sql(
        "select s.id, s.rule_id, s.ruleset_version, "
        "c.rule_id, c.ruleset_version, c.region_code, s.municipality_code "
        "from intake.signal s left join care.case c on c.signal_id = s.id "
        "where s.id in (%s)" % ", ".join("'%s'" % i for i in ref_of))
    stored = {}
    for sid, srule, sver, crule, cver, region, muni in rows:
        assert ref_of[sid] not in stored, ref_of[sid]
        stored[ref_of[sid]] = (srule, sver, crule, cver, region, muni)
    assert set(stored) == set(refs), set(refs) - set(stored)

    by_ver = {}
    for ref, _, rec in results:
        srule, sver, crule, cver, region, muni = stored[ref]
        assert crule == srule == rec["rule_id"], (ref, stored[ref], rec)
        assert cver == sver, (ref, stored[ref])
        assert cver in versions, (ref, cver, versions)
        rule_id, reg = expect[cver]
        assert crule == rule_id, (ref, stored[ref])
        want_region = reg or MUNICIPALITIES[muni]["safety_region_code"]
        assert region == want_region == rec["region"], (ref, stored[ref])
        by_ver[cver] = by_ver.get(cver, 0) + 1
    # both versions really served some of the load
    assert by_ver.get(v_a) and by_ver.get(v_b), by_ver
