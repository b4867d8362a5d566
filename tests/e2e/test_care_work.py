"""The care work of a case (issue 18, docs/case-lifecycle.md "Notes" and
"Support plan and referrals"): notes sealed at rest, append-only in the
database, corrected by new notes; the support plan with its legal status
changes; referrals answered by the provider agency, which sees only what
the referral shares; two answers at once, one wins."""

import copy
import json
import subprocess
import threading
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, auth
from nrm_e2e.cases import new_case
from nrm_e2e.env import PGBIN, clean_env
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_keys, key_id
from test_cases import national_case
from test_data_at_rest import marked_signal, scan


def url(d, case_id, what):
    return "%s/v1/cases/%s/%s" % (d.url, case_id, what)


def take(d, key, case_id):
    r = requests.post(url(d, case_id, "take"), headers=auth(key),
                      timeout=15)
    assert r.status_code == 200, r.text


def note(d, key, case_id, text, corrects=None):
    body = {"text": text}
    if corrects is not None:
        body["corrects"] = corrects
    return requests.post(url(d, case_id, "notes"), json=body,
                         headers=auth(key), timeout=15)


def notes(d, key, case_id):
    return requests.get(url(d, case_id, "notes"), headers=auth(key),
                        timeout=15)


def support(d, key, case_id, body):
    return requests.post(url(d, case_id, "support"), json=body,
                         headers=auth(key), timeout=15)


def answer(d, key, item, what, reason=None):
    body = {} if reason is None else {"reason": reason}
    return requests.post("%s/v1/referrals/%s/%s" % (d.url, item, what),
                         json=body, headers=auth(key), timeout=15)


def agency_of(cluster, key):
    return cluster.scalar("select agency_id from auth.api_key where id = "
                          "'%s'" % key_id(cluster, key))


def history(cluster, case_id, action):
    return cluster.sql("select detail from care.case_history where "
                       "case_id = '%s' and action = '%s' order by id"
                       % (case_id, action))


@pytest.fixture(scope="module")
def providers(cluster):
    """A shelter with two coordinator keys (it answers referrals; its
    keys' region is VR05, not the cases'), and an agency with only a
    reporter key (its items are kept by the holder alone)."""
    shelter = ("coordinator", "Opvang Noord", "care_agency", ("VR05",))
    k = create_keys(
        cluster, a=shelter, b=shelter,
        other=("coordinator", "Opvang Zuid", "care_agency", ("VR05",)),
        lone=("reporter", "Juridisch Loket", "ngo"))
    return {"a": k["a"], "b": k["b"], "other": k["other"],
            "agency": agency_of(cluster, k["a"]),
            "lone_agency": agency_of(cluster, k["lone"])}


def test_notes_sealed_corrected_and_audited(nrmd, case_keys, cluster,
                                            doc):
    k = case_keys
    cid = new_case(nrmd, k["reporter"])["case_id"]
    take(nrmd, k["co13"], cid)
    text = "Gesprek gevoerd met %s; wil naar opvang." % uuid.uuid4().hex
    r = note(nrmd, k["co13"], cid, text)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["text"] == text and "sealed" not in first
    assert first["author_role"] == "holder" and first["corrects"] is None
    # a correction names the old note; the old one shows corrected_by
    fix = "Correctie: %s" % uuid.uuid4().hex
    r = note(nrmd, k["co13"], cid, fix, corrects=first["id"])
    assert r.status_code == 201, r.text
    second = r.json()
    r = notes(nrmd, k["co13"], cid)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["id"] for i in items] == [first["id"], second["id"]]
    assert items[0]["corrected_by"] == second["id"]
    assert items[0]["text"] == text and items[1]["text"] == fix
    assert items[1]["corrects"] == first["id"]
    validator(doc, "NoteList").validate(r.json())
    validator(doc, "Note").validate(first)
    # a note is corrected once: the correction is corrected instead
    assert_problem(note(nrmd, k["co13"], cid, "x", corrects=first["id"]),
                   409, "conflict", "corrects")
    # a note of another case is no correction
    other = new_case(nrmd, k["reporter"])["case_id"]
    take(nrmd, k["co13"], other)
    assert_problem(note(nrmd, k["co13"], other, "x", corrects=first["id"]),
                   422, "validation", "corrects")
    # the history names the notes, never their text
    h = history(cluster, cid, "note")
    assert len(h) == 2 and text not in str(h)
    # every read is audited, with its purpose
    assert cluster.count(
        "select count(*) from audit.event where action = 'case.note.read' "
        "and "
        "object_id = '%s' and outcome = 'allowed' and purpose = 'care'"
        % cid) == 1
    # the text is sealed in the row, and nowhere in the clear
    assert cluster.scalar(
        "select count(*) from care.case_note where case_id = '%s' and "
        "get_byte(text_ct, 0) = 1" % cid) == "2"
    assert text not in nrmd.log_text()


def test_note_authors_and_validation(nrmd, case_keys):
    k = case_keys
    cid = new_case(nrmd, k["reporter"])["case_id"]
    # an open case has no holder: nobody of the region writes yet
    assert_problem(note(nrmd, k["co13"], cid, "x"), 409, "conflict")
    take(nrmd, k["co13"], cid)
    # another coordinator of the region reads but does not write
    assert_problem(note(nrmd, k["co13b"], cid, "x"), 409, "conflict")
    assert notes(nrmd, k["co13b"], cid).status_code == 200
    # out of the region: 404 as for an unknown case
    assert_problem(note(nrmd, k["co17"], cid, "x"), 404, "not_found")
    assert_problem(notes(nrmd, k["co17"], cid), 404, "not_found")
    # other roles: 403 before anything else
    assert_problem(note(nrmd, k["assessor"], cid, "x"), 403, "forbidden")
    assert_problem(notes(nrmd, k["analyst"], cid), 403, "forbidden")
    # the body
    assert_problem(note(nrmd, k["co13"], cid, ""), 422, "validation",
                   "text")
    assert_problem(note(nrmd, k["co13"], cid, "x" * 8001), 422,
                   "validation", "text")
    assert_problem(requests.post(url(nrmd, cid, "notes"), json={},
                                 headers=auth(k["co13"]), timeout=15),
                   422, "validation", "text")
    assert_problem(requests.post(url(nrmd, cid, "notes"),
                                 json={"text": 5}, headers=auth(k["co13"]),
                                 timeout=15), 422, "validation", "text")
    assert_problem(requests.post(url(nrmd, cid, "notes"),
                                 json={"text": "x", "text_ct": "AAAA"},
                                 headers=auth(k["co13"]), timeout=15),
                   422, "validation", "text_ct")
    assert_problem(note(nrmd, k["co13"], cid, "x", corrects="nope"), 422,
                   "validation", "corrects")
    assert note(nrmd, k["co13"], cid, "x" * 8000).status_code == 201


def test_national_desk_writes_notes(nrmd, case_keys):
    k = case_keys
    cid = national_case(nrmd, k["reporter"])
    r = note(nrmd, k["national"], cid, "Landelijk: opvang gezocht.")
    assert r.status_code == 201, r.text
    assert r.json()["author_role"] == "national_desk"


def test_notes_are_append_only_in_the_database(nrmd, case_keys, cluster):
    k = case_keys
    cid = new_case(nrmd, k["reporter"])["case_id"]
    take(nrmd, k["co13"], cid)
    assert note(nrmd, k["co13"], cid, "blijft staan").status_code == 201
    # the superuser too: a trigger, not only missing grants
    cluster.assert_append_only("care.case_note", cid)
    assert cluster.scalar("select count(*) from care.case_note where "
                          "case_id = '%s'" % cid) == "1"


def test_note_text_is_in_no_dump(nrmd, case_keys, cluster):
    k = case_keys
    cid = new_case(nrmd, k["reporter"], body=marked_signal())["case_id"]
    take(nrmd, k["co13"], cid)
    texts = ["Verklaring: werkte in kas %s zonder loon." % uuid.uuid4().hex
             for _ in range(3)]
    for t in texts:
        assert note(nrmd, k["co13"], cid, t).status_code == 201
    assert [i["text"] for i in notes(nrmd, k["co13"], cid).json()[
        "items"]] == texts
    assert scan(("a %s b" % texts[0]).encode(), texts)
    cluster.sql("checkpoint")
    dump = subprocess.run(
        [str(PGBIN / "pg_dump"), "-d", cluster.env["NRM_SUPERUSER_URL"]],
        env=clean_env(), capture_output=True, check=True).stdout
    assert b"case_note" in dump
    assert scan(dump, texts) == []


def test_support_plan_and_referral(nrmd, case_keys, cluster, providers,
                                   doc):
    k, p = case_keys, providers
    cid = new_case(nrmd, k["reporter"], body=marked_signal())["case_id"]
    take(nrmd, k["co13"], cid)
    r = support(nrmd, k["co13"], cid, {"service": "shelter_placement",
                                       "provider_agency": p["agency"]})
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["status"], item["referral"]) == ("requested", True)
    validator(doc, "SupportItem").validate(item)
    # the holder does not answer a referral for the provider
    assert_problem(support(nrmd, k["co13"], cid, {
        "item": item["id"], "status": "accepted"}), 409, "conflict",
        "status")
    # the provider sees the referral, and nothing of the case
    r = requests.get(nrmd.url + "/v1/referrals", headers=auth(p["a"]),
                     timeout=15)
    assert r.status_code == 200, r.text
    mine = [i for i in r.json()["items"] if i["id"] == item["id"]]
    assert len(mine) == 1, r.text
    assert set(mine[0]) == {"id", "service", "status", "reason",
                            "requested_on", "answered_at", "started_on",
                            "ended_on", "referred_by", "version"}
    assert mine[0]["referred_by"]["region"] == "VR13"
    validator(doc, "ReferralList").validate(r.json())
    assert cid not in r.text
    # ... and cannot read the case, its notes or its plan
    for what in ("", "/notes", "/support"):
        g = requests.get("%s/v1/cases/%s%s" % (nrmd.url, cid, what),
                         headers=auth(p["a"]), timeout=15)
        assert g.status_code == 404, (what, g.text)
    # another agency's coordinator does not see or answer it
    r = requests.get(nrmd.url + "/v1/referrals", headers=auth(p["other"]),
                     timeout=15)
    assert item["id"] not in r.text
    assert_problem(answer(nrmd, p["other"], item["id"], "accept"), 404,
                   "not_found")
    # a refusal needs its reason code; an acceptance takes none
    assert_problem(answer(nrmd, p["a"], item["id"], "refuse"), 422,
                   "validation", "reason")
    assert_problem(answer(nrmd, p["a"], item["id"], "accept", "other"),
                   422, "validation", "reason")
    r = answer(nrmd, p["a"], item["id"], "accept")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["answered_at"]
    validator(doc, "Referral").validate(r.json())
    assert_problem(answer(nrmd, p["b"], item["id"], "refuse",
                          "no_capacity"), 409, "conflict", "status")
    # the holder starts and ends it; nothing after the end
    r = support(nrmd, k["co13"], cid, {"item": item["id"],
                                       "status": "started"})
    assert r.status_code == 200 and r.json()["started_on"], r.text
    assert_problem(support(nrmd, k["co13"], cid, {
        "item": item["id"], "status": "ended", "on": "2001-01-01"}),
        422, "validation", "on")
    r = support(nrmd, k["co13"], cid, {"item": item["id"],
                                       "status": "ended",
                                       "reason": "completed"})
    assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    assert_problem(support(nrmd, k["co13"], cid, {
        "item": item["id"], "status": "started"}), 409, "conflict",
        "status")
    # every step in the history, the provider's answer by its key
    h = history(cluster, cid, "support")
    assert [json.loads(d[0])["status"] for d in h] == [
        "requested", "accepted", "started", "ended"], h
    assert cluster.scalar(
        "select api_key_id from care.case_history where case_id = '%s' "
        "and action = 'support' and detail->>'status' = 'accepted'"
        % cid) == key_id(cluster, p["a"])
    assert cluster.count(
        "select count(*) from audit.event where action = 'referral.accept' "
        "and "
        "object_id = '%s' and outcome = 'allowed'" % item["id"]) == 1
    # the plan as the holder reads it
    r = requests.get(url(nrmd, cid, "support"), headers=auth(k["co13"]),
                     timeout=15)
    assert r.status_code == 200 and r.json()["items"][0]["status"] == \
        "ended", r.text
    validator(doc, "SupportPlan").validate(r.json())


def test_item_without_referral_is_kept_by_the_holder(nrmd, case_keys,
                                                     providers):
    k = case_keys
    cid = new_case(nrmd, k["reporter"])["case_id"]
    take(nrmd, k["co13"], cid)
    r = support(nrmd, k["co13"], cid, {"service": "legal_aid",
                                       "provider_agency":
                                       providers["lone_agency"]})
    assert r.status_code == 201 and r.json()["referral"] is False, r.text
    item = r.json()["id"]
    assert_problem(support(nrmd, k["co13"], cid, {
        "item": item, "status": "refused"}), 422, "validation", "reason")
    r = support(nrmd, k["co13"], cid, {"item": item, "status": "refused",
                                       "reason": "not_eligible"})
    assert r.status_code == 200 and r.json()["reason"] == "not_eligible"
    # the body and the holder
    assert_problem(support(nrmd, k["co13"], cid, {"service": "spa"}), 422,
                   "validation", "service")
    assert_problem(support(nrmd, k["co13"], cid, {
        "service": "other", "colour": "red"}), 400, "bad_request", "colour")
    assert_problem(support(nrmd, k["co13"], cid, {
        "service": "other", "provider_agency": str(uuid.uuid4())}), 422,
        "validation", "provider_agency")
    assert_problem(support(nrmd, k["co13"], cid, {
        "item": str(uuid.uuid4()), "status": "started"}), 422,
        "validation", "item")
    assert_problem(support(nrmd, k["co13b"], cid, {"service": "other"}),
                   409, "conflict")
    assert_problem(support(nrmd, k["co17"], cid, {"service": "other"}),
                   404, "not_found")
    assert_problem(support(nrmd, k["assessor"], cid, {"service": "other"}),
                   403, "forbidden")


def test_two_answers_at_once_one_wins(nrmd, case_keys, providers):
    """The provider's two coordinators answer one referral at the same
    moment, and the holder withdraws another while the provider refuses
    it (a refused item does not end, an ended one is not answered): one of each pair wins, the other gets 409 with the status."""
    k, p = case_keys, providers
    for _ in range(3):
        cid = new_case(nrmd, k["reporter"])["case_id"]
        take(nrmd, k["co13"], cid)
        items = [support(nrmd, k["co13"], cid, {
            "service": "medical_care",
            "provider_agency": p["agency"]}).json()["id"]
            for _ in range(2)]
        calls = [
            lambda: answer(nrmd, p["a"], items[0], "accept"),
            lambda: answer(nrmd, p["b"], items[0], "refuse",
                           "no_capacity"),
            lambda: answer(nrmd, p["a"], items[1], "refuse",
                           "not_eligible"),
            lambda: support(nrmd, k["co13"], cid, {
                "item": items[1], "status": "ended",
                "reason": "withdrawn"}),
        ]
        out = [None] * len(calls)
        start = threading.Barrier(len(calls))

        def run(i):
            start.wait()
            out[i] = calls[i]()

        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for pair in (out[0:2], out[2:4]):
            codes = sorted(r.status_code for r in pair)
            assert codes == [200, 409], [r.text for r in pair]
            lost = [r for r in pair if r.status_code == 409][0]
            assert lost.json()["field"] == "status"
            assert lost.json()["current"] in ("accepted", "refused",
                                              "ended")
        plan = requests.get(url(nrmd, cid, "support"),
                            headers=auth(k["co13"]), timeout=15).json()
        won = [r.json()["status"] for r in out if r.status_code == 200]
        assert sorted(i["status"] for i in plan["items"]) == sorted(won)


def related(d, key, case_id):
    return requests.get(url(d, case_id, "related"), headers=auth(key),
                        timeout=15)


def test_related_cases_of_the_same_person(nrmd, case_keys, cluster, doc):
    """Three signals about one person (VR13, VR13, VR17) and one about
    another: each coordinator sees the other cases of the same
    pseudonym in its own regions, dates and regions only; audited."""
    k = case_keys
    person = marked_signal()
    ids = {}
    for name, region in (("a", "VR13"), ("b", "VR13"), ("c", "VR17")):
        ids[name] = new_case(nrmd, k["reporter"], region=region,
                             body=copy.deepcopy(person))["case_id"]
    ids["other"] = new_case(nrmd, k["reporter"],
                            body=marked_signal())["case_id"]
    r = related(nrmd, k["co13"], ids["a"])
    assert r.status_code == 200, r.text
    validator(doc, "RelatedCases").validate(r.json())
    assert [i["case_id"] for i in r.json()["items"]] == [ids["b"]]
    item = r.json()["items"][0]
    # dates and regions; and (issue 18's merge) the case it was merged
    # into, null here
    assert set(item) == {"case_id", "region", "received_at", "created_at",
                         "merged_into"}
    assert item["merged_into"] is None
    assert item["region"] == "VR13"
    assert person["subject"]["family_name"] not in r.text
    # a coordinator of both regions sees both others, newest first
    r = related(nrmd, k["co13_17"], ids["a"])
    assert [i["case_id"] for i in r.json()["items"]] == [ids["c"], ids["b"]]
    assert [i["region"] for i in r.json()["items"]] == ["VR17", "VR13"]
    # VR17's coordinator: the VR17 case's relatives in VR17 (none)
    assert related(nrmd, k["co17"], ids["c"]).json()["items"] == []
    # another person's case has no relatives; out of scope is 404
    assert related(nrmd, k["co13"], ids["other"]).json()["items"] == []
    assert_problem(related(nrmd, k["co17"], ids["a"]), 404, "not_found")
    assert_problem(related(nrmd, k["assessor"], ids["a"]), 403,
                   "forbidden")
    assert cluster.count(
        "select count(*) from audit.event where action = 'case.related' "
        "and object_id = '%s' and outcome = 'allowed' and purpose = "
        "'care'" % ids["a"]) == 2
