"""Identification and investigation end to end (issue 5): the two tracks
over HTTP.  A conclusive positive identification needs no investigation;
the jurisdiction profile's minimum between initial and conclusive is a
422 naming the rule; coordinators record initial decisions only; an
investigator creates, reads and patches its agency's records and gets
404 for another agency's; each role gets 403 on the other track; and
no answer of one track carries a field of the other (docs/separation.md,
docs/sql-api.md section 0006)."""

import datetime
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, auth, ok, pages
from nrm_e2e.cases import new_case
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key, key_id

IDENT_FIELDS = {"stage", "outcome", "deciding_body", "rationale",
                "decided_on", "reflection_start", "reflection_end",
                "recovery_start", "recovery_end", "recorded_by",
                "recorded_at", "profile", "items", "rules"}
INVEST_FIELDS = {"agency_id", "signal_id", "police_reference",
                 "prosecution_reference", "report_filed", "report_filed_on",
                 "status", "version"}
NARRATIVE_FIELDS = {"narrative", "history", "routing", "explanation",
                    "subject"}
RECORD_KEYS = {"id", "agency_id", "signal_id", "case_id", "police_reference",
               "prosecution_reference", "report_filed", "report_filed_on",
               "status", "created_at", "updated_at", "version"}
ENTRY_KEYS = {"id", "case_id", "stage", "outcome", "deciding_body",
              "rationale", "decided_on", "reflection_start",
              "reflection_end", "recovery_start", "recovery_end",
              "recorded_by", "recorded_at", "profile"}


# --------------------------------------------------------------------------
# helpers


def day(offset):
    return (datetime.datetime.now(datetime.timezone.utc).date() +
            datetime.timedelta(days=offset)).isoformat()


def entry(stage, decided_on, outcome="positive",
          deciding_body="assessment_body", **extra):
    e = {"stage": stage, "outcome": outcome, "deciding_body": deciding_body,
         "rationale": None, "decided_on": decided_on}
    e.update(extra)
    return e


def record(d, key, case_id, body):
    return requests.post("%s/v1/cases/%s/identification" % (d.url, case_id),
                         json=body, headers=auth(key), timeout=15)


def history(d, key, case_id):
    return requests.get("%s/v1/cases/%s/identification" % (d.url, case_id),
                        headers=auth(key), timeout=15)


def invest_create(d, key, body):
    return requests.post(d.url + "/v1/investigations", json=body,
                         headers=auth(key), timeout=15)


def invest_get(d, key, rid):
    return requests.get("%s/v1/investigations/%s" % (d.url, rid),
                        headers=auth(key), timeout=15)


def invest_patch(d, key, rid, body, if_match=None):
    h = auth(key)
    if if_match is not None:
        h["If-Match"] = if_match
    return requests.patch("%s/v1/investigations/%s" % (d.url, rid),
                          json=body, headers=h, timeout=15)


def all_keys(o):
    """Every object key anywhere in a JSON value."""
    out = set()
    if isinstance(o, dict):
        for k, v in o.items():
            out.add(k)
            out |= all_keys(v)
    elif isinstance(o, list):
        for v in o:
            out |= all_keys(v)
    return out


def assert_no_investigation(o):
    leak = all_keys(o) & (INVEST_FIELDS - {"version"})
    assert not leak, "identification answer carries %s" % sorted(leak)


def assert_no_identification(o):
    leak = all_keys(o) & (IDENT_FIELDS | NARRATIVE_FIELDS)
    assert not leak, "investigation answer carries %s" % sorted(leak)


@pytest.fixture(scope="module")
def track_keys(cluster, keys, case_keys):
    """Two police agencies, each with a reporter and an investigator."""
    suffix = uuid.uuid4().hex[:6]
    a = "Politie Noord-Holland " + suffix
    b = "Politie Limburg " + suffix
    return {
        "reporter_a": create_key(cluster, "reporter", a, "police"),
        "inv_a": create_key(cluster, "investigator", a, "police"),
        "inv_b": create_key(cluster, "investigator", b, "police"),
        "coordinator": case_keys["co13"],
        "assessor": case_keys["assessor"],
        "reporter": keys["reporter"],
    }


# --------------------------------------------------------------------------
# identification


def test_conclusive_positive_without_investigation(nrmd, track_keys, db):
    k = track_keys
    case_id = new_case(nrmd, k["reporter"])["case_id"]
    assert db.count("select count(*) from invest.record where case_id = '%s'"
                    % case_id) == 0
    first = ok(record(nrmd, k["assessor"], case_id,
                      entry("initial", day(-40),
                            reflection_start=day(-40),
                            reflection_end=day(-10))), 201)
    assert set(first) == ENTRY_KEYS, sorted(first)
    assert first["stage"] == "initial" and first["profile"] == "nl"
    assert_no_investigation(first)
    second = ok(record(nrmd, k["assessor"], case_id,
                       entry("conclusive", day(0))), 201)
    assert second["stage"] == "conclusive"
    assert second["outcome"] == "positive"
    assert_no_investigation(second)
    listed = ok(history(nrmd, k["assessor"], case_id))
    assert listed["case_id"] == case_id
    assert [i["id"] for i in listed["items"]] == [second["id"], first["id"]]
    assert listed["rules"]["profile"] == "nl"
    assert listed["rules"]["conclusive_earliest_on"] is not None
    assert_no_investigation(listed)
    # the coordinator of the region reads the same history
    again = ok(history(nrmd, k["coordinator"], case_id))
    assert [i["id"] for i in again["items"]] == [second["id"], first["id"]]


def test_conclusive_positive_when_no_report_was_filed(nrmd, track_keys, db):
    """Art. 11(3): the police agency that reported the victim records an
    investigation saying no report (aangifte) was filed; the assessment
    body still recognises the victim, initial then conclusive positive,
    and nothing in the identification answers mentions the record."""
    k = track_keys
    rec = new_case(nrmd, k["reporter_a"])
    case_id = rec["case_id"]
    inv = ok(invest_create(nrmd, k["inv_a"], {
        "signal_id": rec["signal_id"], "report_filed": False,
        "status": "open"}), 201)
    assert inv["report_filed"] is False and inv["report_filed_on"] is None
    assert db.scalar("select report_filed from invest.record where id = "
                     "'%s'" % inv["id"]) == "f"
    # the nl profile's minimum: the initial decision back-dated past it
    first = ok(record(nrmd, k["assessor"], case_id,
                      entry("initial", day(-31),
                            reflection_start=day(-31),
                            reflection_end=day(-1))), 201)
    second = ok(record(nrmd, k["assessor"], case_id,
                       entry("conclusive", day(0))), 201)
    assert (second["stage"], second["outcome"]) == ("conclusive",
                                                    "positive")
    listed = ok(history(nrmd, k["assessor"], case_id))
    assert [i["id"] for i in listed["items"]] == [second["id"], first["id"]]
    for answer in (first, second, listed):
        assert_no_investigation(answer)
    assert db.count("select count(*) from ident.decision where case_id = "
                    "'%s' and stage = 'conclusive' and outcome = 'positive'"
                    % case_id) == 1
    # the record is unchanged by all this
    assert ok(invest_get(nrmd, k["inv_a"], inv["id"])) == inv


def test_conclusive_before_the_minimum_names_the_rule(nrmd, track_keys):
    k = track_keys
    case_id = new_case(nrmd, k["reporter"])["case_id"]
    r = record(nrmd, k["assessor"], case_id, entry("conclusive", day(0)))
    p = assert_problem(r, 422, "validation", "stage")
    assert p["rule"] == "conclusive_requires_initial", p
    ok(record(nrmd, k["assessor"], case_id, entry("initial", day(-10))), 201)
    r = record(nrmd, k["assessor"], case_id, entry("conclusive", day(0)))
    p = assert_problem(r, 422, "validation", "stage")
    assert p["rule"] == "conclusive_min_days", p
    assert p["profile"] == "nl" and p["earliest"], p
    assert "conclusive_min_days" in p["detail"], p
    items = ok(history(nrmd, k["assessor"], case_id))["items"]
    assert [i["stage"] for i in items] == ["initial"]


def test_coordinator_records_initial_only(nrmd, track_keys):
    k = track_keys
    case_id = new_case(nrmd, k["reporter"])["case_id"]
    ok(record(nrmd, k["coordinator"], case_id,
              entry("initial", day(-40), deciding_body="care_coordination")),
       201)
    for stage in ("conclusive", "reconsideration"):
        r = record(nrmd, k["coordinator"], case_id, entry(stage, day(0)))
        assert_problem(r, 403, "forbidden", "stage")


def test_identification_malformed_and_unknown_ids(nrmd, track_keys):
    k = track_keys
    for cid in ("not-a-uuid", str(uuid.uuid4())):
        r = record(nrmd, k["assessor"], cid, entry("initial", day(0)))
        assert r.status_code == 404, (cid, r.status_code, r.text[:300])
        r = history(nrmd, k["assessor"], cid)
        assert r.status_code == 404, (cid, r.status_code, r.text[:300])
    case_id = new_case(nrmd, k["reporter"])["case_id"]
    r = requests.post("%s/v1/cases/%s/identification" % (nrmd.url, case_id),
                      data=b"[1]", headers=dict(
                          auth(k["assessor"]),
                          **{"Content-Type": "application/json"}),
                      timeout=15)
    assert_problem(r, 400, "malformed")
    r = record(nrmd, k["assessor"], case_id,
               dict(entry("initial", day(0)), colour="blue"))
    assert_problem(r, 422, "validation")


def test_jurisdiction_profile_is_configuration(nrmd_factory, track_keys):
    k = track_keys
    d = nrmd_factory(config={"jurisdiction_profile": "uk"})
    case_id = new_case(d, k["reporter"])["case_id"]
    e = ok(record(d, k["assessor"], case_id, entry("initial", day(-1))), 201)
    assert e["profile"] == "uk"
    assert ok(history(d, k["assessor"], case_id))["rules"]["profile"] == "uk"


# --------------------------------------------------------------------------
# investigation


def test_investigator_creates_reads_patches_own_record(nrmd, track_keys):
    k = track_keys
    rec = new_case(nrmd, k["reporter_a"])
    created = invest_create(nrmd, k["inv_a"], {
        "signal_id": rec["signal_id"], "police_reference": "PL-2024-0042",
        "report_filed": False})
    body = ok(created, 201)
    assert set(body) == RECORD_KEYS, sorted(body)
    assert body["signal_id"] == rec["signal_id"] and body["case_id"] is None
    assert body["status"] == "open" and body["version"] == 1
    assert created.headers["Location"] == "/v1/investigations/" + body["id"]
    assert_no_identification(body)
    rid = body["id"]

    got = ok(invest_get(nrmd, k["inv_a"], rid))
    assert got == body
    assert_no_identification(got)

    patched = ok(invest_patch(nrmd, k["inv_a"], rid, {
        "report_filed": True, "report_filed_on": day(-1),
        "status": "handed_to_prosecution"}, if_match='"1"'))
    assert patched["version"] == 2 and patched["report_filed"] is True
    assert patched["status"] == "handed_to_prosecution"
    assert_no_identification(patched)
    # a stale If-Match
    r = invest_patch(nrmd, k["inv_a"], rid, {"status": "closed"},
                     if_match='"1"')
    p = assert_problem(r, 412, "precondition")
    assert p["version"] == 2, p
    r = invest_patch(nrmd, k["inv_a"], rid, {"status": "closed"},
                     if_match="nope")
    assert_problem(r, 400, "bad_request", "If-Match")
    # signal_id never changes
    r = invest_patch(nrmd, k["inv_a"], rid, {"signal_id": None})
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert ok(invest_get(nrmd, k["inv_a"], rid))["version"] == 2


def test_other_agency_gets_404(nrmd, track_keys):
    k = track_keys
    rec = new_case(nrmd, k["reporter_a"])
    rid = ok(invest_create(nrmd, k["inv_a"],
                           {"signal_id": rec["signal_id"]}), 201)["id"]
    mine = invest_get(nrmd, k["inv_b"], rid)
    unknown = invest_get(nrmd, k["inv_b"], str(uuid.uuid4()))
    malformed = invest_get(nrmd, k["inv_b"], "not-a-uuid")
    for r in (mine, unknown, malformed):
        assert_problem(r, 404, "not_found")
    assert mine.json()["detail"] == unknown.json()["detail"]
    assert_problem(invest_patch(nrmd, k["inv_b"], rid, {"status": "closed"}),
                   404, "not_found")
    # nor may it refer to a signal another agency submitted
    r = invest_create(nrmd, k["inv_b"], {"signal_id": rec["signal_id"]})
    assert_problem(r, 422, "validation", "signal_id")


def test_case_share_lets_the_agency_refer_to_the_case(nrmd, track_keys, db):
    k = track_keys
    case_id = new_case(nrmd, k["reporter"])["case_id"]
    agency_b = db.scalar("select agency_id from auth.api_key where id = "
                         "'%s'" % key_id(db, k["inv_b"]))
    # before consent: not shared
    r = invest_create(nrmd, k["inv_b"], {"case_id": case_id})
    assert_problem(r, 422, "validation", "case_id")
    share = "%s/v1/cases/%s/share" % (nrmd.url, case_id)
    r = requests.post(share, json={"agency_id": agency_b, "consent": False},
                      headers=auth(k["coordinator"]), timeout=15)
    assert_problem(r, 422, "validation", "consent")
    r = requests.post(share, json={"agency_id": agency_b, "consent": True},
                      headers=auth(k["coordinator"]), timeout=15)
    s = ok(r)
    assert s["new"] is True and s["agency_id"] == agency_b
    r = requests.post(share, json={"agency_id": agency_b, "consent": True},
                      headers=auth(k["coordinator"]), timeout=15)
    assert ok(r)["new"] is False
    body = ok(invest_create(nrmd, k["inv_b"], {"case_id": case_id}), 201)
    assert body["case_id"] == case_id
    assert_no_identification(body)
    # only coordinators share
    r = requests.post(share, json={"agency_id": agency_b, "consent": True},
                      headers=auth(k["inv_b"]), timeout=15)
    assert_problem(r, 403, "forbidden")


# --------------------------------------------------------------------------
# each role on the other track


def test_investigator_gets_403_on_identification(nrmd, track_keys):
    k = track_keys
    case_id = new_case(nrmd, k["reporter"])["case_id"]
    assert_problem(history(nrmd, k["inv_a"], case_id), 403, "forbidden")
    assert_problem(record(nrmd, k["inv_a"], case_id,
                          entry("initial", day(0))), 403, "forbidden")


def test_care_roles_get_403_on_investigations(nrmd, track_keys):
    k = track_keys
    for who in ("coordinator", "assessor", "reporter"):
        key = k[who]
        assert_problem(invest_create(nrmd, key, {
            "signal_id": str(uuid.uuid4())}), 403, "forbidden")
        assert_problem(invest_get(nrmd, key, str(uuid.uuid4())), 403,
                       "forbidden")
        assert_problem(invest_patch(nrmd, key, str(uuid.uuid4()),
                                    {"status": "closed"}), 403, "forbidden")


# --------------------------------------------------------------------------
# the answers agree with nrm-api/openapi.yaml


def test_answers_match_openapi(nrmd, track_keys, doc):
    def check(name, value):
        validator(doc, name).validate(value)

    k = track_keys
    rec = new_case(nrmd, k["reporter_a"])
    req = entry("initial", day(-3), reflection_start=day(-3),
                reflection_end=day(20))
    check("IdentificationRequest", req)
    check("IdentificationEntry",
          ok(record(nrmd, k["assessor"], rec["case_id"], req), 201))
    check("IdentificationList",
          ok(history(nrmd, k["assessor"], rec["case_id"])))
    body = {"signal_id": rec["signal_id"], "status": "open"}
    check("InvestigationRequest", body)
    inv = ok(invest_create(nrmd, k["inv_a"], body), 201)
    check("Investigation", inv)
    patch = {"police_reference": "PL-1"}
    check("InvestigationPatch", patch)
    check("Investigation", ok(invest_patch(nrmd, k["inv_a"], inv["id"],
                                           patch)))


# --------------------------------------------------------------------------
# the assessor's queue (GET /v1/identifications)


QUEUE_ITEM_KEYS = {"case_id", "region", "priority", "state", "created_at",
                   "awaiting", "initial_decided_on", "initial_due_on",
                   "initial_overdue", "conclusive_earliest_on"}


def queue_all(d, key, **params):
    """Every item of the queue, page by page (limit 2), and the answers."""
    items, answers = [], []
    for r, body in pages(d, key, "/v1/identifications", 2, 1000, **params):
        answers.append(r)
        assert len(body["items"]) <= 2
        items += body["items"]
    return items, answers


def test_identification_queue(nrmd, track_keys, db, doc):
    """The assessor's queue: a new case awaits the initial decision, one
    with an initial entry the conclusive one (with its earliest date), a
    concluded case leaves; pages neither repeat nor skip; items validate
    against the document and hold no personal data; one audit event per
    page."""
    k = track_keys
    fresh = new_case(nrmd, k["reporter"])["case_id"]
    begun = new_case(nrmd, k["reporter"], region="VR09")["case_id"]
    ok(record(nrmd, k["assessor"], begun, entry("initial", day(-40))), 201)
    items, answers = queue_all(nrmd, k["assessor"])
    ids = [i["case_id"] for i in items]
    assert len(ids) == len(set(ids)), "a page repeated a case"
    by_id = {i["case_id"]: i for i in items}
    v = validator(doc, "IdentificationQueue")
    for r in answers:
        v.validate(r.json())
    for i in items:
        assert set(i) == QUEUE_ITEM_KEYS, sorted(i)
    assert by_id[fresh]["awaiting"] == "initial"
    assert by_id[fresh]["initial_decided_on"] is None
    assert by_id[fresh]["conclusive_earliest_on"] is None
    assert by_id[fresh]["initial_due_on"] > day(0)
    assert by_id[fresh]["initial_overdue"] is False
    assert by_id[begun]["awaiting"] == "conclusive"
    assert by_id[begun]["region"] == "VR09"
    assert by_id[begun]["initial_decided_on"] == day(-40)
    assert by_id[begun]["conclusive_earliest_on"] == day(-10)
    # oldest first
    created = [i["created_at"] for i in items]
    assert created == sorted(created)
    # the filter
    only = [i["case_id"] for i in queue_all(
        nrmd, k["assessor"], awaiting="conclusive")[0]]
    assert begun in only and fresh not in only
    # one audit event per page, not per case
    db.assert_one_event(answers[0].headers["X-Request-Id"],
                        "identification.queue", "identification")
    # a conclusive decision takes the case out of the queue
    ok(record(nrmd, k["assessor"], begun, entry("conclusive", day(0))), 201)
    after = [i["case_id"] for i in queue_all(nrmd, k["assessor"])[0]]
    assert begun not in after and fresh in after


def test_identification_queue_refuses(nrmd, track_keys):
    k = track_keys
    url = nrmd.url + "/v1/identifications"
    for params, field in (({"awaiting": "all"}, "awaiting"),
                          ({"limit": "0"}, "limit"),
                          ({"limit": "201"}, "limit"),
                          ({"limit": "x"}, "limit"),
                          ({"cursor": "not-a-uuid"}, "cursor"),
                          ({"cursor": str(uuid.uuid4())}, "cursor"),
                          ({"state": "open"}, "state")):
        r = requests.get(url, params=params, headers=auth(k["assessor"]),
                         timeout=15)
        assert_problem(r, 400, "bad_request", field)
    for who in ("coordinator", "reporter", "inv_a"):
        r = requests.get(url, headers=auth(k[who]), timeout=15)
        assert_problem(r, 403, "forbidden")
