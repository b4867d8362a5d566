"""Retention and the data subject's rights (issue 15, docs/data-protection.md
"Retention and erasure"): with short configured periods nrmd's retention
job erases due cases and anonymous notifications by crypto-shredding (the
data keys destroyed, the ciphertexts gone), statistics still count them,
a read says the data were erased on schedule, every erasure is one audit
event; nrmctl retention status says what is due.  The privacy officer
exports (by case id, or by name and birth date in a body), rectifies (the
old value kept sealed) and erases on request; each is audited; other
roles are refused; no personal value reaches a log, an audit event or a
URL.

The module runs on a cluster of its own: the retention job erases every
due case of its database, and the suite's shared cluster holds other
modules' cases."""

import datetime
import json
import signal
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
import requests

from nrm_e2e.api import assert_problem, auth, metric, post_signal
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.daemon import DaemonPool
from nrm_e2e.env import wait_for
from nrm_e2e.openapi import load_openapi, validator
from nrm_e2e.pg import Cluster, create_keys, key_id
from nrm_e2e.sealed import make_plaintext
from nrm_e2e.signals import adult_signal, notification_signal

SUBJECT_FIELDS = ("given_name", "family_name", "birth_date", "phone",
                  "address", "narrative")


@pytest.fixture(scope="module")
def pcluster(workdir):
    with Cluster.migrated(workdir / ("privacy-%s" % uuid.uuid4().hex[:6])) as c:
        yield c


@pytest.fixture(scope="module")
def pkeys(pcluster):
    k = create_keys(
        pcluster,
        reporter=("reporter", "Politie P", "police"),
        co13=("coordinator", "Zorg P", "care_agency", ("VR13",)),
        co17=("coordinator", "Zorg R", "care_agency", ("VR17",)),
        privacy=("privacy_officer", "Functionaris Gegevensbescherming",
                 "national_centre"),
        analyst=("analyst", "Rapporteur P", "national_centre"),
        auditor=("auditor", "Audit P", "other"),
        admin=("admin", "Beheer P", "other"),
        assessor=("assessor", "Beoordeling P", "assessment_body"))
    for key in k.values():
        key.id = key_id(pcluster, key)
    return k


@pytest.fixture(scope="module")
def pool(workdir, pcluster, pki):
    p = DaemonPool(workdir, pcluster, pki)
    yield p
    p.close()


@pytest.fixture(scope="module")
def pd(pool):
    """A daemon whose schedule erases nothing during the module (the
    defaults: years)."""
    return pool()


def marked(tag=None):
    """A signal whose personal values are unique to this test."""
    tag = tag or uuid.uuid4().hex[:10]
    body = adult_signal()
    body["location"] = {"municipality_code": "GM0363"}  # VR13
    body["reporter_reference"] = "PV-RT-%s" % tag
    body["subject"].update({
        "given_name": "Mirela-%s" % tag,
        "family_name": "Vasilescu%s" % tag,
        "birth_date": "1990-02-%02d" % (1 + int(tag[:2], 16) % 28),
        "contact": {"phone": "+31 6 %s" % "".join(
            str(int(c, 16) % 10) for c in tag[:8]),
                    "address": "Havenstraat %s, Amsterdam" % tag},
    })
    body["narrative"] = "Werkte in kas %s zonder loon." % tag
    return body


def values_of(body):
    s = body["subject"]
    return [body["reporter_reference"], s["given_name"], s["family_name"],
            s["contact"]["phone"], s["contact"]["address"],
            body["narrative"]]


def close(d, key, case_id, reason="victim_supported"):
    r = requests.post("%s/v1/cases/%s/take" % (d.url, case_id),
                      headers=auth(key), timeout=15)
    assert r.status_code == 200, r.text
    r = requests.post("%s/v1/cases/%s/close" % (d.url, case_id),
                      json={"reason": reason}, headers=auth(key), timeout=15)
    assert r.status_code == 200, r.text


def signals_vr13(d, key):
    r = requests.get(d.url + "/v1/statistics",
                     params={"measure": "signals", "by": "region",
                             "period": datetime.datetime.now(ZoneInfo(
                                 "Europe/Amsterdam")).strftime("%Y-%m")},
                     headers=auth(key), timeout=30)
    assert r.status_code == 200, r.text
    return next(c["value"] for c in r.json()["cells"]
                if c["region"] == "VR13")


def erased_row(cluster, case_id):
    """(keys left unwrapped, ciphertexts left, pseudonym, erasure ground)
    of a case, from the database itself."""
    return cluster.sql(
        "select (select count(*) from care.data_key d "
        "  where d.signal_id = c.signal_id and d.wrapped is not null), "
        " num_nonnulls(s.given_name_ct, s.family_name_ct, s.birth_date_ct, "
        "  s.phone_ct, s.address_ct, s.narrative_ct, "
        "  g.reporter_reference_ct), "
        " s.pseudonym is not null, "
        " coalesce((select ground from care.erasure e "
        "  where e.case_id = c.id), '-') "
        "from care.case c join care.subject s on s.signal_id = c.signal_id "
        "join intake.signal g on g.id = c.signal_id "
        "where c.id = '%s'" % case_id)[0]


def privacy_events(cluster, action, object_id):
    return cluster.sql(
        "select outcome, coalesce(reason, '-'), coalesce(role, '-'), "
        "purpose "
        "from audit.event where action = '%s' and object_id = '%s' "
        "order by id" % (action, object_id))


# --------------------------------------------------------------------------
# retention


def test_retention_erases_due_cases(pool, pcluster, pkeys):
    """Closed cases are erased retention_after_close seconds after their
    closing, a duplicate after its by_reason period (long here: not yet),
    an anonymous notification retention_anonymous seconds after receipt;
    the case keeps its facts, statistics still count it, a read says
    erased, and each erasure is one audit event."""
    k = pkeys
    d = pool(config={"retention_after_close": "2",
                     "retention_by_reason": "duplicate = 100000",
                     "retention_anonymous": "2",
                     "retention_interval": "1"})
    bodies = [marked() for _ in range(12)]
    cases = [new_case(d, k["reporter"], body=b)["case_id"] for b in bodies]
    note = notification_signal()
    note["reporter_reference"] = "PV-NOTE-%s" % uuid.uuid4().hex[:8]
    r = post_signal(d, k["reporter"].token, note)
    assert r.status_code == 201, r.text
    note_id = r.json()["signal_id"]
    before = signals_vr13(d, k["analyst"])
    assert before >= 12
    for cid in cases[:3]:
        close(d, k["co13"], cid)
    close(d, k["co13"], cases[3], reason="duplicate")

    # erased within the period, the job's interval and some slack
    for cid in cases[:3]:
        wait_for(lambda: erased_row(pcluster, cid)[3] == "retention", 60,
                 interval=0.5, what="case %s erased on schedule" % cid)
    wait_for(lambda: pcluster.scalar(
        "select count(*) from care.erasure where signal_id = '%s'"
        % note_id) == "1", 60, interval=0.5, what="notification erased")
    for cid in cases[:3]:
        unwrapped, cts, pseud, ground = erased_row(pcluster, cid)
        assert (unwrapped, cts, pseud) == ("0", "0", "f")
        assert pcluster.scalar(
            "select state from care.case where id = '%s'" % cid) == "closed"
        assert privacy_events(pcluster, "privacy.erase", cid) == [
            ["allowed", "retention", "-", "data_protection"]]
        r = get_case(d, k["co13"], cid)
        assert r.status_code == 200, r.text
        c = r.json()
        assert c["erased"]["ground"] == "retention" and c["erased"]["at"]
        assert "decryption_failed" not in c and "sealed" not in c
        assert all(c["subject"][f] is None for f in SUBJECT_FIELDS)
        assert c["signal"]["reporter_reference"] is None
        # the facts stay
        assert c["signal"]["exploitation"] and c["case"]["state"] == "closed"
    assert pcluster.scalar(
        "select reporter_reference_ct is null and exists (select 1 from "
        "care.data_key where signal_id = s.id and wrapped is null) "
        "from intake.signal s where s.id = '%s'" % note_id) == "t"
    # the duplicate (its override) and the open cases keep their data
    for cid in cases[3:]:
        unwrapped, cts, pseud, ground = erased_row(pcluster, cid)
        assert unwrapped == "1" and cts == "7" and ground == "-", cid
    c = get_case(d, k["co13"], cases[3]).json()
    assert "erased" not in c
    assert c["subject"]["given_name"] == bodies[3]["subject"]["given_name"]
    # statistics still count the erased cases
    assert signals_vr13(d, k["analyst"]) == before
    # no personal value in the log or the audit log
    text = d.log_text()
    dump = json.dumps(pcluster.sql(
        "select action, object_type, object_id, purpose, reason "
        "from audit.event"))
    for b in bodies[:3]:
        for v in values_of(b):
            assert v not in text and v not in dump
    assert "erased personal data on schedule" in text
    assert metric(d, "nrm_retention_erased_total") == 4
    d.assert_clean_exit()  # its schedule erases whatever closes later


def test_nrmctl_retention_status(pool, pcluster, pkeys):
    """Help, the schedule nrmd recorded, what is due and when, exit
    codes (2 usage, 0 shown)."""
    out = pcluster.nrmctl("retention", "status", "--help", check=False)
    assert out.returncode == 0 and "retention status" in out.stdout
    bad = pcluster.nrmctl("retention", "status", "--next", "0", check=False)
    assert bad.returncode in (1, 2) and "--next" in bad.stderr
    d = pool(config={"retention_after_close": "3600",
                     "retention_anonymous": "7200",
                     "retention_interval": "1"})
    cid = new_case(d, pkeys["reporter"], body=marked())["case_id"]
    close(d, pkeys["co13"], cid)

    def shown():
        r = pcluster.nrmctl("retention", "status", check=False)
        return r if (r.returncode == 0 and cid in r.stdout
                     and " 3600 s " in r.stdout) else None

    r = wait_for(shown, 30, interval=0.5, what="status lists the case")
    assert "closed cases 3600 s after closing" in r.stdout
    assert "anonymous notifications 7200 s" in r.stdout
    assert "due now:" in r.stdout and "erased so far:" in r.stdout
    line = next(x for x in r.stdout.splitlines() if cid in x)
    assert line.split()[1] == "case"
    d.assert_clean_exit()


def test_bad_schedule_is_refused_at_start(pool):
    """A closing reason that does not exist stops nrmd at start-up, with
    the key named."""
    d = pool(config={"retention_by_reason": "forgotten=60"},
             wait_ready=False)
    d.proc.wait(timeout=30)
    assert d.proc.returncode != 0
    assert "retention_by_reason" in d.log_text()


# --------------------------------------------------------------------------
# the privacy officer


def export_case(d, key, case_id, headers=None):
    return requests.get(d.url + "/v1/privacy/subjects",
                        params={"case": case_id},
                        headers=auth(key) if headers is None else headers,
                        timeout=30)


def test_export_by_case_and_by_pseudonym(pd, pcluster, pkeys):
    k = pkeys
    body = marked()
    first = new_case(pd, k["reporter"], body=body)["case_id"]
    # a second signal about the same person (name and birth date)
    again = marked()
    again["subject"].update({f: body["subject"][f] for f in
                             ("given_name", "family_name", "birth_date")})
    second = new_case(pd, k["reporter"], body=again)["case_id"]
    other = new_case(pd, k["reporter"], body=marked())["case_id"]

    r = export_case(pd, k["privacy"], first)
    assert r.status_code == 200, r.text
    x = r.json()
    assert x["format"] == "nrm.subject-export.v1" and x["found_by"] == "case"
    doc = load_openapi()
    validator(doc, "SubjectExport").validate(x)
    assert len(x["cases"]) == 1
    c = x["cases"][0]
    assert c["case"]["case_id"] == first
    s = c["subject"]
    assert s["given_name"] == body["subject"]["given_name"]
    assert s["family_name"] == body["subject"]["family_name"]
    assert s["birth_date"] == body["subject"]["birth_date"]
    assert s["phone"] == body["subject"]["contact"]["phone"]
    assert s["narrative"] == body["narrative"]
    assert c["signal"]["reporter_reference"] == body["reporter_reference"]
    assert "sealed" not in json.dumps(x) and "decryption_failed" not in c
    assert isinstance(c["history"], list) and c["history"]
    assert c["audit"] == []  # nobody read the case yet
    assert c["rectifications"] == [] and c["identification"] == []
    assert privacy_events(pcluster, "privacy.export", first) == [
        ["allowed", "-", "privacy_officer", "data_protection"]]
    # who read the case is part of the export (codes, never a value)
    assert get_case(pd, k["co13"], first).status_code == 200
    c = export_case(pd, k["privacy"], first).json()["cases"][0]
    assert [(e["action"], e["role"], e["outcome"]) for e in c["audit"]] == [
        ("privacy.export", "privacy_officer", "allowed"),
        ("case.read", "coordinator", "allowed")]

    # by pseudonym: a POST body, never a URL
    r = requests.post(pd.url + "/v1/privacy/subjects", json={
        k2: body["subject"][k2] for k2 in
        ("given_name", "family_name", "birth_date")},
        headers=auth(k["privacy"]), timeout=30)
    assert r.status_code == 200, r.text
    x = r.json()
    assert x["found_by"] == "pseudonym"
    assert {c["case"]["case_id"] for c in x["cases"]} == {first, second}
    assert other not in r.text
    for cid in (first, second):
        assert ["allowed", "-", "privacy_officer", "data_protection"] in \
            privacy_events(pcluster, "privacy.export", cid)

    # nobody by that name: an empty export, audited no_match
    r = requests.post(pd.url + "/v1/privacy/subjects", json={
        "family_name": "Nietbestaand%s" % uuid.uuid4().hex[:6],
        "birth_date": "1970-01-01"}, headers=auth(k["privacy"]), timeout=30)
    assert r.status_code == 200 and r.json()["cases"] == []

    # problems name their field
    assert_problem(export_case(pd, k["privacy"], "not-a-uuid"), 422,
                   "validation", "case")
    assert_problem(export_case(pd, k["privacy"], str(uuid.uuid4())), 404,
                   "not_found", "case")
    r = requests.post(pd.url + "/v1/privacy/subjects",
                      json={"given_name": "X"},
                      headers=auth(k["privacy"]), timeout=30)
    assert_problem(r, 422, "validation", "family_name")
    r = requests.post(pd.url + "/v1/privacy/subjects",
                      json={"family_name": "X", "birth_date": "1990-13-01"},
                      headers=auth(k["privacy"]), timeout=30)
    assert_problem(r, 422, "validation", "birth_date")


def test_export_holds_notes_and_followups(pd, pcluster, pkeys):
    """The export (art. 15, 20) holds the case's notes, with their
    correction, and the reporter's follow-ups, texts opened, authors by
    role only; after an erasure it holds none of the texts."""
    k = pkeys
    rec = new_case(pd, k["reporter"], body=marked())
    sid, cid = rec["signal_id"], rec["case_id"]
    tag = uuid.uuid4().hex
    ftext = "Nieuw adres bekend: Loodsweg %s." % tag
    h = auth(k["reporter"])
    h["Idempotency-Key"] = "fu-" + tag
    r = requests.post("%s/v1/signals/%s/followups" % (pd.url, sid),
                      json={"text": ftext}, headers=h, timeout=15)
    assert r.status_code == 201, r.text
    r = requests.post("%s/v1/cases/%s/take" % (pd.url, cid),
                      headers=auth(k["co13"]), timeout=15)
    assert r.status_code == 200, r.text
    n1, n2 = "Gesprek gevoerd %s." % tag, "Correctie: gesprek %s." % tag
    r = requests.post("%s/v1/cases/%s/notes" % (pd.url, cid),
                      json={"text": n1}, headers=auth(k["co13"]), timeout=15)
    assert r.status_code == 201, r.text
    first = r.json()["id"]
    r = requests.post("%s/v1/cases/%s/notes" % (pd.url, cid),
                      json={"text": n2, "corrects": first},
                      headers=auth(k["co13"]), timeout=15)
    assert r.status_code == 201, r.text
    second = r.json()["id"]

    r = export_case(pd, k["privacy"], cid)
    assert r.status_code == 200, r.text
    validator(load_openapi(), "SubjectExport").validate(r.json())
    c = r.json()["cases"][0]
    assert "decryption_failed" not in r.text and '"sealed"' not in r.text
    assert [(n["id"], n["text"], n["author_role"], n["corrects"],
             n["corrected_by"]) for n in c["notes"]] == [
        (first, n1, "holder", None, second),
        (second, n2, "holder", first, None)]
    assert all("by" not in n for n in c["notes"])
    assert [(f["text"], f["author_role"]) for f in c["followups"]] == [
        (ftext, "reporter")]
    assert k["co13"].id not in json.dumps(c["notes"])
    assert k["reporter"].id not in json.dumps(c["followups"])

    # a text that does not open (a copy of the follow-up under another
    # id: its AAD names the other row) is never shown, and audited
    pcluster.sql(
        "insert into care.signal_followup (id, signal_id, case_id, "
        "api_key_id, data_key_id, text_ct) select gen_random_uuid(), "
        "signal_id, case_id, api_key_id, data_key_id, text_ct "
        "from care.signal_followup where case_id = '%s'" % cid)
    r = export_case(pd, k["privacy"], cid)
    assert r.status_code == 200, r.text
    validator(load_openapi(), "SubjectExport").validate(r.json())
    fs = r.json()["cases"][0]["followups"]
    assert [(f["text"], f.get("decryption_failed")) for f in fs] == [
        (ftext, None), (None, ["text"])]
    assert r.text.count(ftext) == 1
    # one event about the case by the privacy officer, outcome failed
    # with the reason word (never a value): another row's ciphertext
    # fails GCM's tag like a changed byte
    assert pcluster.sql(
        "select action, role, outcome, reason from audit.event "
        "where action = 'data.decrypt_failed' and object_type = 'case' "
        "and object_id = '%s' order by id" % cid) == [
        ["data.decrypt_failed", "privacy_officer", "failed", "tampered"]]

    # erased: the dates and roles stay, no text, nothing to open
    r = requests.post("%s/v1/privacy/cases/%s/erase" % (pd.url, cid),
                      json={"ground": "consent_withdrawn"},
                      headers=auth(k["privacy"]), timeout=30)
    assert r.status_code == 200, r.text
    r = export_case(pd, k["privacy"], cid)
    assert r.status_code == 200, r.text
    validator(load_openapi(), "SubjectExport").validate(r.json())
    for t in (n1, n2, ftext, tag):
        assert t not in r.text
    assert "decryption_failed" not in r.text
    c = r.json()["cases"][0]
    assert [(n["id"], n["text"]) for n in c["notes"]] == [
        (first, None), (second, None)]
    assert [f["text"] for f in c["followups"]] == [None, None]
    assert c["erased"]["ground"] == "consent_withdrawn"
    text = pd.log_text()
    for t in (n1, n2, ftext):
        assert t not in text


def test_rectify(pd, pcluster, pkeys):
    k = pkeys
    body = marked()
    cid = new_case(pd, k["reporter"], body=body)["case_id"]
    url = "%s/v1/privacy/cases/%s/rectify" % (pd.url, cid)
    new_phone = "+31 6 9999 %s" % uuid.uuid4().hex[:4]
    r = requests.post(url, json={"field": "phone", "value": new_phone,
                                 "ground": "inaccurate"},
                      headers=auth(k["privacy"]), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["field"] == "phone"
    validator(load_openapi(), "Rectified").validate(r.json())
    assert r.json()["ground"] == "inaccurate"
    c = get_case(pd, k["co13"], cid).json()
    assert c["subject"]["phone"] == new_phone
    assert "decryption_failed" not in c
    # the old value is kept, sealed, and exported with the history
    x = export_case(pd, k["privacy"], cid).json()["cases"][0]
    assert x["rectifications"][0]["field"] == "phone"
    assert x["rectifications"][0]["old_value"] == \
        body["subject"]["contact"]["phone"]
    assert x["rectifications"][0]["ground"] == "inaccurate"
    assert privacy_events(pcluster, "privacy.rectify", cid) == [
        ["allowed", "inaccurate", "privacy_officer", "data_protection"]]
    assert pcluster.scalar(
        "select count(*) from care.rectification r join care.case c "
        "on c.signal_id = r.signal_id where c.id = '%s' "
        "and r.old_ct is not null" % cid) == "1"

    # a new family name: the pseudonym follows it
    new_family = "Herzien%s" % uuid.uuid4().hex[:6]
    r = requests.post(url, json={"field": "family_name", "value": new_family,
                                 "ground": "inaccurate"},
                      headers=auth(k["privacy"]), timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(pd.url + "/v1/privacy/subjects", json={
        "given_name": body["subject"]["given_name"],
        "family_name": new_family,
        "birth_date": body["subject"]["birth_date"]},
        headers=auth(k["privacy"]), timeout=30)
    assert [c["case"]["case_id"] for c in r.json()["cases"]] == [cid]

    # refusals name the field
    for bad, field in (({"field": "pseudonym", "value": "x",
                         "ground": "inaccurate"}, "field"),
                       ({"field": "birth_date", "value": "1800-01-01",
                         "ground": "inaccurate"}, "value"),
                       ({"field": "phone", "value": "x" * 41,
                         "ground": "inaccurate"}, "value"),
                       ({"field": "phone", "value": "+31 6",
                         "ground": "i_said_so"}, "ground")):
        r = requests.post(url, json=bad, headers=auth(k["privacy"]),
                          timeout=30)
        assert_problem(r, 422, "validation", field)
    r = requests.post("%s/v1/privacy/cases/%s/rectify" % (
        pd.url, uuid.uuid4()), json={"field": "phone", "value": "+31 6",
                                     "ground": "inaccurate"},
        headers=auth(k["privacy"]), timeout=30)
    assert_problem(r, 404, "not_found", "case")


def test_erase_on_request(pd, pcluster, pkeys):
    k = pkeys
    body = marked()
    cid = new_case(pd, k["reporter"], body=body)["case_id"]
    url = "%s/v1/privacy/cases/%s/erase" % (pd.url, cid)
    r = requests.post(url, json={"ground": "consent_withdrawn"},
                      headers=auth(k["privacy"]), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["erased"]["ground"] == "consent_withdrawn"
    assert erased_row(pcluster, cid) == ["0", "0", "f", "consent_withdrawn"]
    c = get_case(pd, k["co13"], cid).json()
    assert c["erased"]["ground"] == "consent_withdrawn"
    doc = load_openapi()
    validator(doc, "Case").validate(c)
    validator(doc, "ErasedCase").validate(r.json())
    assert "decryption_failed" not in c
    assert all(c["subject"][f] is None for f in SUBJECT_FIELDS)
    assert privacy_events(pcluster, "privacy.erase", cid) == [
        ["allowed", "consent_withdrawn", "privacy_officer",
         "data_protection"]]
    # the export says so too, with nothing to open
    x = export_case(pd, k["privacy"], cid).json()["cases"][0]
    assert x["erased"]["ground"] == "consent_withdrawn"
    assert "decryption_failed" not in x
    # once only; a rectification comes too late
    r = requests.post(url, json={"ground": "objection"},
                      headers=auth(k["privacy"]), timeout=30)
    assert_problem(r, 409, "conflict", "case")
    assert r.json()["erased"]["ground"] == "consent_withdrawn"
    r = requests.post("%s/v1/privacy/cases/%s/rectify" % (pd.url, cid),
                      json={"field": "phone", "value": "+31 6",
                            "ground": "inaccurate"},
                      headers=auth(k["privacy"]), timeout=30)
    assert_problem(r, 409, "conflict", "case")
    # the ground is a code of the documented list
    cid2 = new_case(pd, k["reporter"], body=marked())["case_id"]
    for bad in ({"ground": "retention"}, {"ground": "because"}, {}):
        r = requests.post("%s/v1/privacy/cases/%s/erase" % (pd.url, cid2),
                          json=bad, headers=auth(k["privacy"]), timeout=30)
        assert_problem(r, 422, "validation", "ground")
    assert erased_row(pcluster, cid2)[3] == "-"
    text = pd.log_text()
    for v in values_of(body):
        assert v not in text


def test_rectify_after_data_encrypt(pd, pcluster, pkeys, pki):
    """A subject stored before 0017 (plaintext, no data key) cannot be
    rectified: 409 saying to run `nrmctl data encrypt`; after it, the
    rectification works and keeps the old value sealed."""
    k = pkeys
    body = marked()
    rec = new_case(pd, k["reporter"], body=body)
    cid = rec["case_id"]
    make_plaintext(pcluster, rec["signal_id"], body, "-")
    url = "%s/v1/privacy/cases/%s/rectify" % (pd.url, cid)
    new_given = "Mirela-R%s" % uuid.uuid4().hex[:6]
    change = {"field": "given_name", "value": new_given,
              "ground": "inaccurate"}
    r = requests.post(url, json=change, headers=auth(k["privacy"]),
                      timeout=30)
    p = assert_problem(r, 409, "conflict", "case")
    assert "nrmctl data encrypt" in p["detail"], p
    assert privacy_events(pcluster, "privacy.rectify", cid) == [
        ["failed", "no_data_key", "privacy_officer", "data_protection"]]
    out = pcluster.nrmctl("data", "encrypt", "--kek", str(pki["kek"]))
    assert "plaintext left" in out.stdout, out.stderr
    r = requests.post(url, json=change, headers=auth(k["privacy"]),
                      timeout=30)
    assert r.status_code == 200, r.text
    c = get_case(pd, k["co13"], cid).json()
    assert c["subject"]["given_name"] == new_given
    assert c["subject"]["family_name"] == body["subject"]["family_name"]
    assert "decryption_failed" not in c
    x = export_case(pd, k["privacy"], cid).json()["cases"][0]
    assert x["rectifications"][0]["old_value"] == \
        body["subject"]["given_name"]


def test_erased_case_is_not_reopened(pd, pcluster, pkeys):
    """A closed case whose personal data were erased answers 409 to a
    reopening, naming why, and stays closed (docs/case-lifecycle.md, "An
    erased case stays closed"); one that was not erased reopens."""
    k = pkeys
    erased, kept = (new_case(pd, k["reporter"], body=marked())["case_id"]
                    for _ in range(2))
    for cid in (erased, kept):
        close(pd, k["co13"], cid)
    r = requests.post("%s/v1/privacy/cases/%s/erase" % (pd.url, erased),
                      json={"ground": "no_longer_necessary"},
                      headers=auth(k["privacy"]), timeout=30)
    assert r.status_code == 200, r.text
    url = "%s/v1/cases/%s/reopen"
    r = requests.post(url % (pd.url, erased),
                      json={"reason": "victim_returned"},
                      headers=auth(k["co13"]), timeout=30)
    p = assert_problem(r, 409, "conflict", "case")
    assert p["erased"]["ground"] == "no_longer_necessary", p
    assert "erased" in p["detail"] and "new signal" in p["detail"]
    validator(load_openapi(), "CaseProblem").validate(p)
    c = get_case(pd, k["co13"], erased).json()
    assert c["case"]["state"] == "closed"
    assert c["erased"]["ground"] == "no_longer_necessary"
    assert pcluster.sql(
        "select outcome, reason from audit.event where action = "
        "'case.reopen' and object_id = '%s'" % erased) == [
        ["failed", "erased"]]
    r = requests.post(url % (pd.url, kept), json={"reason": "victim_returned"},
                      headers=auth(k["co13"]), timeout=30)
    assert r.status_code == 200, r.text
    assert get_case(pd, k["co13"], kept).json()["case"]["state"] == "open"


@pytest.mark.parametrize("role", ["reporter", "co13", "analyst", "auditor",
                                  "admin", "assessor"])
def test_other_roles_are_refused(pd, pcluster, pkeys, role):
    k = pkeys
    cid = new_case(pd, k["reporter"], body=marked())["case_id"]
    key = k[role]
    calls = [
        lambda h: export_case(pd, key, cid, headers=h),
        lambda h: requests.post(pd.url + "/v1/privacy/subjects", json={
            "family_name": "X", "birth_date": "1990-01-01"}, headers=h,
            timeout=30),
        lambda h: requests.post(
            "%s/v1/privacy/cases/%s/rectify" % (pd.url, cid),
            json={"field": "phone", "value": "+31 6", "ground": "inaccurate"},
            headers=h, timeout=30),
        lambda h: requests.post(
            "%s/v1/privacy/cases/%s/erase" % (pd.url, cid),
            json={"ground": "objection"}, headers=h, timeout=30),
    ]
    for call in calls:
        assert call(auth(key)).status_code == 403
        assert call({}).status_code == 401
    assert erased_row(pcluster, cid)[3] == "-"
    assert pcluster.count(
        "select count(*) from audit.event where action like 'privacy.%%' "
        "and object_id = '%s' and outcome = 'denied'" % cid) >= 2


def test_retention_keys_reload(pool, pcluster, pkeys):
    """The schedule's keys reload on SIGHUP: nothing is due under the
    defaults (years); after a reload to retention_after_close = 1 and
    retention_batch = 1 the closed cases are erased one per batch; a
    retention_by_reason naming no closing reason is refused and the
    running schedule stays; retention_by_reason and retention_anonymous
    take effect after their own reload.  Last in the module: from here
    on every closed case of the module's cluster is due."""
    k = pkeys
    d = pool(config={"retention_interval": "1"})

    def reload(**changes):
        before = metric(d, "nrm_config_reloads_total")
        for key, v in changes.items():
            d.config[key] = str(v)
        d.write_config()
        d.send_signal(signal.SIGHUP)
        wait_for(lambda: metric(d, "nrm_config_reloads_total") > before,
                 15, what="the reload")

    def schedule():
        return pcluster.sql("select after_close, by_reason::text, "
                            "anonymous from care.retention_schedule")[0]

    cases = [new_case(d, k["reporter"], body=marked())["case_id"]
             for _ in range(2)]
    for cid in cases:
        close(d, k["co13"], cid)
    wait_for(lambda: schedule()[0] == "157788000", 30, interval=0.5,
             what="the default schedule recorded")
    time.sleep(1.5)  # a run under the defaults: nothing due
    assert [erased_row(pcluster, c)[3] for c in cases] == ["-", "-"]

    log_at = len(d.log_text())
    reload(retention_after_close=1, retention_batch=1)
    for cid in cases:
        wait_for(lambda: erased_row(pcluster, cid)[3] == "retention", 30,
                 interval=0.5, what="erased after the reload")
    text = d.log_text()[log_at:]
    assert 'on schedule" count=1' in text
    assert 'on schedule" count=2' not in text  # one per batch: reloaded

    log_at = len(d.log_text())
    refused = metric(d, "nrm_config_reload_failures_total")
    d.config["retention_by_reason"] = "forgotten=5"
    d.write_config()
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: metric(d, "nrm_config_reload_failures_total") >
             refused, 15, what="the refused reload")
    assert "retention_by_reason" in d.log_text()[log_at:]
    time.sleep(1.5)
    assert schedule()[0] == "1"

    reload(retention_after_close=3600, retention_by_reason="duplicate=1",
           retention_anonymous=1)
    wait_for(lambda: schedule() == ["3600", '{"duplicate": 1}', "1"], 30,
             interval=0.5, what="the new schedule recorded")
    dup, kept = [new_case(d, k["reporter"], body=marked())["case_id"]
                 for _ in range(2)]
    close(d, k["co13"], dup, reason="duplicate")
    close(d, k["co13"], kept)
    wait_for(lambda: erased_row(pcluster, dup)[3] == "retention", 30,
             interval=0.5, what="the duplicate erased by its override")
    assert erased_row(pcluster, kept)[3] == "-"
    d.assert_clean_exit()

