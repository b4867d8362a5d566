"""Signal intake: the happy path, routing and priority, anonymous
notifications, the receipt (POST and GET /v1/signals/{id}) and the
agency's receipts (GET /v1/signals)."""

import datetime
import uuid

import requests

from nrm_e2e.api import (
    assert_problem, assert_receipt, auth, get_receipt, pages, post_signal)
from nrm_e2e.openapi import load_openapi, validator
from nrm_e2e.sealed import signal_values
from nrm_e2e.signals import (
    PERSONAL, adult_signal, minor_signal, notification_signal, now_utc,
    rfc3339)


def signal_row(db, signal_id):
    return db.count("select count(*) from intake.signal where id = '%s'"
                    % signal_id)


def case_of(db, signal_id):
    rows = db.sql("select id, region_code, priority, state from care.case "
                  "where signal_id = '%s'" % signal_id)
    return rows


def test_happy_path_adult_with_consent(nrmd, db, keys):
    before = db.counts()
    body = adult_signal()
    r = post_signal(nrmd, keys["reporter"].token, body)
    rec = assert_receipt(r)
    assert rec["notification_only"] is False
    assert rec["region"] == "VR13"  # GM0363 Amsterdam
    assert rec["priority"] == "normal"
    received = datetime.datetime.strptime(
        rec["received_at"][:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    assert abs((received - now_utc()).total_seconds()) < 120

    after = db.counts()
    assert after["intake.signal"] == before["intake.signal"] + 1
    assert after["care.case"] == before["care.case"] + 1
    assert after["care.subject"] == before["care.subject"] + 1
    assert after["care.case_history"] >= before["care.case_history"] + 1
    assert after["intake.idempotency"] == before["intake.idempotency"] + 1

    assert signal_row(db, rec["signal_id"]) == 1
    cases = case_of(db, rec["signal_id"])
    assert len(cases) == 1
    case_id, region, priority, state = cases[0]
    assert case_id == rec["case_id"]
    assert region == "VR13"
    assert priority == "normal"
    assert state == "open"
    # the decision is stored with the case: rule, rule-set version
    rule_id, version = db.sql(
        "select rule_id, ruleset_version from care.case where id = '%s'"
        % rec["case_id"])[0]
    assert rule_id == rec["rule_id"]
    assert version
    # the personal data went to care.subject, and only there, sealed
    # (issue 15: once compared in plaintext, now opened with the KEK)
    assert db.count(
        "select count(*) from care.subject where signal_id = '%s' "
        "and pseudonym is not null" % rec["signal_id"]) == 1
    vals = signal_values(db, nrmd.config["data_kek_file"], rec["signal_id"])
    for k in ("given_name", "family_name", "birth_date", "phone",
              "narrative"):
        assert vals[k] == PERSONAL[k], k
    for table in ("intake.signal", "care.case"):
        col = "id" if table == "intake.signal" else "signal_id"
        assert db.count(
            "select count(*) from %s t where t.%s = '%s' "
            "and row_to_json(t)::text like '%%%s%%'"
            % (table, col, rec["signal_id"], PERSONAL["family_name"])) == 0
    assert vals["reporter_reference"] == body["reporter_reference"]
    # the write was audited with this request's id
    assert db.count(
        "select count(*) from audit.event where request_id = '%s'"
        % r.headers["X-Request-Id"]) >= 1


def test_content_type_with_charset_is_accepted(nrmd, keys):
    r = post_signal(nrmd, keys["reporter"].token, adult_signal(),
                    content_type="application/json; charset=utf-8")
    assert_receipt(r)


def test_receipt_get_same_principal_and_same_agency(nrmd, keys):
    r = post_signal(nrmd, keys["reporter"].token, adult_signal())
    rec = assert_receipt(r)
    for who in ("reporter", "reporter_same_agency"):
        g = get_receipt(nrmd, keys[who].token, rec["signal_id"])
        assert g.status_code == 200, (who, g.status_code, g.text)
        assert g.headers.get("X-Request-Id")
        assert g.json() == rec


def test_receipt_get_other_agency_is_404(nrmd, keys):
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token,
                                     adult_signal()))
    g = get_receipt(nrmd, keys["reporter_other"].token, rec["signal_id"])
    p = assert_problem(g, 404, "not_found")
    # the answer for an existing object of another agency is the same as
    # for an object that does not exist
    g2 = get_receipt(nrmd, keys["reporter_other"].token, str(uuid.uuid4()))
    p2 = assert_problem(g2, 404, "not_found")
    for k in ("type", "title", "status", "detail"):
        assert p[k] == p2[k]


def test_receipt_get_unknown_id_404(nrmd, keys):
    g = get_receipt(nrmd, keys["reporter"].token, str(uuid.uuid4()))
    assert_problem(g, 404, "not_found")


def test_receipt_get_malformed_id(nrmd, keys):
    for bad in ("not-a-uuid", "12345", "%27%20or%201%3D1--",
                "0" * 36, "x" * 70):
        g = get_receipt(nrmd, keys["reporter"].token, bad)
        assert g.status_code in (400, 404), (bad, g.status_code)
        assert_problem(g, g.status_code,
                       "not_found" if g.status_code == 404 else
                       "bad_request")


def test_no_location_routes_to_national_desk(nrmd, db, keys):
    body = adult_signal()
    del body["location"]
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token, body))
    assert rec["region"] == "NATIONAL"
    assert rec["notification_only"] is False
    assert case_of(db, rec["signal_id"])[0][1] == "NATIONAL"


def test_other_municipalities_route_to_their_safety_region(nrmd, keys):
    for code, region in (("GM0599", "VR17"), ("GM0518", "VR15"),
                         ("GM0014", "VR01"), ("GM0034", "VR25")):
        body = adult_signal(location={"municipality_code": code})
        rec = assert_receipt(post_signal(nrmd, keys["reporter"].token, body))
        assert rec["region"] == region, (code, rec)


def test_priority_from_urgency(nrmd, keys):
    tok = keys["reporter"].token
    rec = assert_receipt(post_signal(nrmd, tok, adult_signal(
        urgency={"immediate_danger": False, "needs_shelter": True})))
    assert rec["priority"] == "high"
    rec = assert_receipt(post_signal(nrmd, tok, adult_signal(
        urgency={"immediate_danger": True, "needs_shelter": False})))
    assert rec["priority"] == "urgent"
    rec = assert_receipt(post_signal(nrmd, tok, adult_signal(
        urgency={"immediate_danger": True, "needs_shelter": True})))
    assert rec["priority"] == "urgent"
    body = adult_signal()
    del body["urgency"]
    rec = assert_receipt(post_signal(nrmd, tok, body))
    assert rec["priority"] == "normal"


def test_minor_by_birth_date_is_urgent_case(nrmd, db, keys):
    before = db.counts()
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token,
                                     minor_signal()))
    assert rec["notification_only"] is False
    assert rec["priority"] == "urgent"
    after = db.counts()
    assert after["care.case"] == before["care.case"] + 1
    assert after["care.subject"] == before["care.subject"] + 1


def test_minor_by_age_estimate_or_flag(nrmd, keys):
    tok = keys["reporter"].token
    body = minor_signal()
    del body["subject"]["birth_date"]
    body["subject"]["age_estimate"] = 16
    rec = assert_receipt(post_signal(nrmd, tok, body))
    assert rec["priority"] == "urgent"

    body = minor_signal()
    del body["subject"]["birth_date"]
    body["subject"]["minor"] = True
    rec = assert_receipt(post_signal(nrmd, tok, body))
    assert rec["priority"] == "urgent"


def test_minor_birth_date_is_judged_at_observed_at(nrmd, keys):
    # 17 at observed_at, although 18 today: still a minor
    observed = now_utc() - datetime.timedelta(days=400)
    birth = datetime.date(observed.year - 17, observed.month, 1)
    body = minor_signal(observed_at=rfc3339(observed))
    body["subject"]["birth_date"] = birth.isoformat()
    body["consent"] = "refused"
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token, body))
    assert rec["notification_only"] is False
    assert rec["priority"] == "urgent"


def test_minor_never_needs_consent(nrmd, db, keys):
    # a minor whose consent is refused is still a case, with personal data
    for consent in ("refused", "unable", "given", "not_required_minor"):
        before = db.counts()
        body = minor_signal(consent=consent)
        rec = assert_receipt(post_signal(nrmd, keys["reporter"].token,
                                         body))
        assert rec["notification_only"] is False, consent
        assert rec["case_id"], consent
        after = db.counts()
        assert after["care.subject"] == before["care.subject"] + 1, consent


def test_not_required_minor_for_adult_is_422(nrmd, db, keys):
    before = db.counts()
    r = post_signal(nrmd, keys["reporter"].token,
                    adult_signal(consent="not_required_minor"))
    assert_problem(r, 422, "validation", "consent")
    assert db.counts() == before


def test_notification_only_adult_without_consent(nrmd, db, keys):
    for consent in ("refused", "unable"):
        before = db.counts()
        body = notification_signal(consent=consent)
        r = post_signal(nrmd, keys["reporter"].token, body)
        rec = assert_receipt(r)
        assert rec["notification_only"] is True
        assert rec["case_id"] is None
        assert rec["priority"] is None
        after = db.counts()
        # stored and counted ...
        assert after["intake.signal"] == before["intake.signal"] + 1
        assert db.count(
            "select count(*) from intake.signal where id = '%s' "
            "and notification_only" % rec["signal_id"]) == 1
        # ... with no case and no personal data
        assert after["care.case"] == before["care.case"]
        assert after["care.subject"] == before["care.subject"]
        assert case_of(db, rec["signal_id"]) == []
        # its receipt can be read back
        g = get_receipt(nrmd, keys["reporter"].token, rec["signal_id"])
        assert g.status_code == 200 and g.json() == rec


def test_notification_may_not_carry_identifying_fields(nrmd, db, keys):
    tok = keys["reporter"].token
    cases = [
        ("subject.given_name", lambda b: b["subject"].update(
            given_name=PERSONAL["given_name"])),
        ("subject.family_name", lambda b: b["subject"].update(
            family_name=PERSONAL["family_name"])),
        ("subject.birth_date", lambda b: b["subject"].update(
            birth_date=PERSONAL["birth_date"])),
        ("subject.contact", lambda b: b["subject"].update(
            contact={"phone": PERSONAL["phone"]})),
        ("narrative", lambda b: b.update(narrative=PERSONAL["narrative"])),
    ]
    for field, mutate in cases:
        before = db.counts()
        body = notification_signal()
        mutate(body)
        r = post_signal(nrmd, tok, body)
        p = assert_problem(r, 422, "validation")
        # the field named, or (for contact) one inside it
        assert p.get("field") == field or \
            p.get("field", "").startswith(field + "."), (field, p)
        assert db.counts() == before, field
        # the error does not echo the value
        for v in PERSONAL.values():
            assert v not in r.text


def test_subject_may_be_empty(nrmd, keys):
    body = adult_signal(subject={})
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token, body))
    assert rec["notification_only"] is False


def test_minimal_body(nrmd, keys):
    body = {
        "observed_at": rfc3339(now_utc() - datetime.timedelta(minutes=5)),
        "subject": {},
        "exploitation": ["sexual"],
        "consent": "given",
    }
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token, body))
    assert rec["region"] == "NATIONAL"
    assert rec["priority"] == "normal"


def test_every_enumerated_value_is_accepted(nrmd, keys):
    tok = keys["reporter"].token
    body = adult_signal(
        exploitation=["sexual", "labour", "criminal", "begging",
                      "forced_marriage", "illegal_adoption", "surrogacy",
                      "organ_removal", "other"],
        control_means=[
            "debt_bondage", "documents_withheld", "threats",
            "threats_against_family", "physical_violence",
            "sexual_violence", "psychological_abuse", "isolation",
            "restricted_movement", "wages_withheld",
            "substance_dependency", "deception", "abuse_of_vulnerability",
            "excessive_hours", "loverboy", "other"])
    assert_receipt(post_signal(nrmd, tok, body))
    for g in ("female", "male", "non_binary", "other", "unknown"):
        body = adult_signal()
        body["subject"]["gender"] = g
        assert_receipt(post_signal(nrmd, tok, body))


def test_utf8_names_and_offsets(nrmd, db, keys):
    body = adult_signal(observed_at=(now_utc() - datetime.timedelta(
        hours=3)).astimezone(datetime.timezone(datetime.timedelta(
            hours=2))).strftime("%Y-%m-%dT%H:%M:%S+02:00"))
    body["subject"]["given_name"] = PERSONAL["given_name_utf8"]
    body["subject"]["family_name"] = PERSONAL["family_name_utf8"]
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token, body))
    # stored sealed (issue 15): opened with the KEK, byte for byte
    vals = signal_values(db, nrmd.config["data_kek_file"], rec["signal_id"])
    assert vals["given_name"] == PERSONAL["given_name_utf8"]
    assert vals["family_name"] == PERSONAL["family_name_utf8"]


# --------------------------------------------------------------------------
# the agency's receipts (GET /v1/signals)


def signal_pages(d, key, limit):
    """Every receipt the key's agency may list, page by page; and the
    answers."""
    items, answers = [], []
    for r, body in pages(d, key, "/v1/signals", limit, 10000):
        answers.append(r)
        assert len(body["items"]) <= limit
        items += body["items"]
    return items, answers


def test_signal_list_is_the_agency_receipts(nrmd, db, keys):
    """Every receipt of the agency (another key's too), newest first,
    exactly as GET /v1/signals/{id} shows it; another agency's are not
    there; pages of 2 neither repeat nor skip; one audit event per page;
    the answers validate against the document."""
    mine = [assert_receipt(post_signal(nrmd, keys[who].token, body))
            for who, body in (("reporter", adult_signal()),
                              ("reporter_same_agency", minor_signal()),
                              ("reporter", notification_signal()))]
    theirs = assert_receipt(post_signal(
        nrmd, keys["reporter_other"].token, adult_signal()))
    items, answers = signal_pages(nrmd, keys["reporter_same_agency"], 2)
    ids = [i["signal_id"] for i in items]
    assert len(ids) == len(set(ids)), "a page repeated a signal"
    assert theirs["signal_id"] not in ids
    by_id = {i["signal_id"]: i for i in items}
    for rec in mine:
        assert by_id[rec["signal_id"]] == rec
    assert by_id[mine[2]["signal_id"]]["notification_only"] is True
    # newest first (received_at is shown to the second, kept finer)
    times = [i["received_at"] for i in items]
    assert times == sorted(times, reverse=True), "not newest first"
    assert ids.index(mine[2]["signal_id"]) < ids.index(
        mine[1]["signal_id"]) < ids.index(mine[0]["signal_id"])
    v = validator(load_openapi(), "ReceiptList")
    for r in answers:
        v.validate(r.json())
    db.assert_one_event(answers[0].headers["X-Request-Id"], "signal.list",
                        "intake")
    other = [i["signal_id"] for i in signal_pages(
        nrmd, keys["reporter_other"], 200)[0]]
    assert theirs["signal_id"] in other
    assert not {r["signal_id"] for r in mine} & set(other)


def test_signal_list_refuses(nrmd, keys):
    url = nrmd.url + "/v1/signals"
    theirs = assert_receipt(post_signal(
        nrmd, keys["reporter_other"].token, adult_signal()))
    for params, field in (({"limit": "0"}, "limit"),
                          ({"limit": "201"}, "limit"),
                          ({"limit": "x"}, "limit"),
                          ({"cursor": "not-a-uuid"}, "cursor"),
                          ({"cursor": str(uuid.uuid4())}, "cursor"),
                          ({"cursor": theirs["signal_id"]}, "cursor"),
                          ({"state": "open"}, "state")):
        r = requests.get(url, params=params,
                         headers=auth(keys["reporter"]), timeout=15)
        assert_problem(r, 400, "bad_request", field)
    for who in ("coordinator", "analyst"):
        r = requests.get(url, headers=auth(keys[who]), timeout=15)
        assert_problem(r, 403, "forbidden")
    assert_problem(requests.get(url, timeout=15), 401, "unauthenticated")
