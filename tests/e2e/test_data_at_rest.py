"""Personal data at rest (issue 15, docs/data-protection.md): nrmd seals
every personal-data value before PostgreSQL sees it, so neither a dump of
the whole database nor a WAL segment holds any of them, in any encoding
we can think of; the coordinator still reads them.  A ciphertext moved to
another row or column, or with one byte changed, is answered as null with
the decryption_failed marker and an audit event, and nrmd stays up."""

import base64
import datetime
import json
import subprocess
import uuid

import requests

from nrm_e2e.api import auth, metric
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.env import PGBIN, clean_env
from nrm_e2e.pg import create_key
from nrm_e2e.signals import adult_signal


def marked_signal():
    """A signal whose every personal value is unique to this test."""
    tag = uuid.uuid4().hex[:10]
    body = adult_signal()
    body["reporter_reference"] = "PV-ZR-%s" % tag
    body["subject"].update({
        "given_name": "Zoë-%s" % tag,
        "family_name": "Quarnbeekstra%s" % tag,
        "birth_date": "1991-07-%02d" % (1 + int(tag[:2], 16) % 28),
        "contact": {
            "phone": "+31 6 %s" % "".join(str(int(c, 16) % 10)
                                          for c in tag[:8]),
            "address": "Vlinderkade %s, 1011 AB Amsterdam" % tag,
        },
    })
    body["narrative"] = "Opgesloten in loods %s; paspoort ingenomen." % tag
    return body


def record_rationale(d, key, case_id, rationale):
    """An initial indication with `rationale`, as a coordinator."""
    today = datetime.date.today().isoformat()
    r = requests.post(
        "%s/v1/cases/%s/identification" % (d.url, case_id),
        json={"stage": "initial", "outcome": "pending",
              "deciding_body": "care_coordination",
              "rationale": rationale, "decided_on": today},
        headers=auth(key), timeout=15)
    assert r.status_code == 201, r.text
    return r.json()


def identification(d, key, case_id):
    r = requests.get("%s/v1/cases/%s/identification" % (d.url, case_id),
                     headers=auth(key), timeout=15)
    assert r.status_code == 200, r.text
    return r.json()


def personal_values(body):
    s = body["subject"]
    return [body["reporter_reference"], s["given_name"], s["family_name"],
            s["contact"]["phone"], s["contact"]["address"],
            body["narrative"]]


def encodings(value):
    """Byte strings that would betray `value` in a dump or WAL file."""
    raw = value.encode()
    out = {raw, json.dumps(value)[1:-1].encode(),
           value.encode("utf-16-le")}
    # base64 of the value at each of the three alignments it can take
    # inside a longer text (the middle part that does not depend on it)
    for skip in range(3):
        b = base64.b64encode(b"x" * skip + raw)
        out.add(b[4:-4] if skip else b[:-4])
    return {e for e in out if len(e) >= 8}


def scan(blob, values):
    """The values (and how) that appear in `blob`."""
    hits = []
    for v in values:
        for e in encodings(v):
            if e in blob:
                hits.append((v, e[:20]))
    return hits


def investigation_references(d, cluster):
    """Two records of a police agency about a signal it filed, with
    known references: the references, as the investigator read them."""
    police = "Politie Scan %s" % uuid.uuid4().hex[:6]
    reporter = create_key(cluster, "reporter", police, "police")
    inv = create_key(cluster, "investigator", police, "police")
    sig = new_case(d, reporter, body=marked_signal())["signal_id"]
    out = []
    for _ in range(2):
        tag = uuid.uuid4().hex[:10]
        body = {"signal_id": sig, "police_reference": "PL-SCAN-%s" % tag,
                "prosecution_reference": "OM-Parket-%s" % tag}
        r = requests.post(d.url + "/v1/investigations", json=body,
                          headers=auth(inv), timeout=15)
        assert r.status_code == 201, r.text
        r = requests.get("%s/v1/investigations/%s" % (d.url, r.json()["id"]),
                         headers=auth(inv), timeout=15)
        assert r.status_code == 200, r.text
        for name in ("police_reference", "prosecution_reference"):
            assert r.json()[name] == body[name]
            out.append(body[name])
    return out


def test_dump_and_wal_hold_no_personal_data(nrmd, case_keys, cluster):
    k = case_keys
    bodies = [marked_signal() for _ in range(3)]
    cases = [new_case(nrmd, k["reporter"], body=b)["case_id"]
             for b in bodies]
    # the API gives them back to the region's coordinator
    for body, cid in zip(bodies, cases):
        r = get_case(nrmd, k["co13"], cid)
        assert r.status_code == 200, r.text
        c = r.json()
        assert "sealed" not in c and "decryption_failed" not in c
        assert c["subject"]["given_name"] == body["subject"]["given_name"]
        assert c["subject"]["family_name"] == body["subject"]["family_name"]
        assert c["subject"]["birth_date"] == body["subject"]["birth_date"]
        assert c["subject"]["phone"] == body["subject"]["contact"]["phone"]
        assert c["subject"]["address"] == \
            body["subject"]["contact"]["address"]
        assert c["subject"]["narrative"] == body["narrative"]
        assert c["signal"]["reporter_reference"] == \
            body["reporter_reference"]
    # and the rationale of an identification entry
    rationales = []
    for cid in cases:
        text = "Overtuigend: %s werkte onbetaald in loods." % uuid.uuid4().hex
        e = record_rationale(nrmd, k["co13"], cid, text)
        assert e["rationale"] == text and "sealed" not in e
        assert identification(nrmd, k["co13"], cid)["items"][0][
            "rationale"] == text
        assert identification(nrmd, k["assessor"], cid)["items"][0][
            "rationale"] == text
        rationales.append(text)
    # and an investigation record's police and prosecution references
    # (0025), read back by the investigator of the agency
    refs = investigation_references(nrmd, cluster)
    values = [v for b in bodies for v in personal_values(b)] + rationales
    values += refs
    # the scan itself finds what it looks for
    assert scan(("x %s y" % values[1]).encode(), values)
    assert scan(base64.b64encode(("ab" + values[2]).encode()), values)
    cluster.sql("checkpoint")
    dump = subprocess.run(
        [str(PGBIN / "pg_dump"), "-d", cluster.env["NRM_SUPERUSER_URL"]],
        env=clean_env(), capture_output=True, check=True).stdout
    assert b"care.subject" in dump and len(dump) > 10000
    assert b"invest.record" in dump
    assert scan(dump, values) == []
    wal = cluster.dir / "data" / "pg_wal"
    segments = [p for p in wal.iterdir() if p.is_file()]
    assert segments
    for seg in segments:
        assert scan(seg.read_bytes(), values) == [], seg.name


def case_row(cluster, cid):
    return cluster.scalar("select signal_id from care.case where id = '%s'"
                          % cid)


def unreadable_events(cluster, cid):
    return cluster.sql(
        "select outcome, reason, role from audit.event "
        "where action = 'data.decrypt_failed' and object_type = 'case' "
        "and object_id = '%s' order by id" % cid)


def test_moved_or_tampered_ciphertext_is_refused(nrmd, case_keys,
                                                 cluster):
    k = case_keys
    bodies = [marked_signal() for _ in range(4)]
    cases = [new_case(nrmd, k["reporter"], body=b)["case_id"]
             for b in bodies]
    sig = [case_row(cluster, c) for c in cases]
    before = metric(nrmd, "nrm_decrypt_failures_total")
    # row A's given name into row B (another row, another data key)
    cluster.sql(
        "update care.subject set given_name_ct = (select given_name_ct "
        "from care.subject where signal_id = '%s') where signal_id = '%s'"
        % (sig[0], sig[1]))
    # row C's family name into its given name (same key, other column)
    cluster.sql("update care.subject set given_name_ct = family_name_ct "
                "where signal_id = '%s'" % sig[2])
    # one byte of row D's given name changed
    cluster.sql(
        "update care.subject set given_name_ct = set_byte(given_name_ct, "
        "40, get_byte(given_name_ct, 40) # 1) where signal_id = '%s'"
        % sig[3])
    want = {1: "misplaced", 2: "tampered", 3: "tampered"}
    for i, reason in want.items():
        r = get_case(nrmd, k["co13"], cases[i])
        assert r.status_code == 200, r.text
        c = r.json()
        assert c["subject"]["given_name"] is None
        assert c["decryption_failed"] == ["subject.given_name"]
        # the other values of the row still open
        assert c["subject"]["family_name"] == \
            bodies[i]["subject"]["family_name"]
        assert c["subject"]["narrative"] == bodies[i]["narrative"]
        # and no other row's value is shown
        assert bodies[0]["subject"]["given_name"] not in r.text
        assert bodies[i]["subject"]["family_name"] not in \
            json.dumps(c["subject"]["given_name"])
        assert unreadable_events(cluster, cases[i]) == [
            ["failed", reason, "coordinator"]]
    # the untouched row reads as before
    r = get_case(nrmd, k["co13"], cases[0])
    assert r.json()["subject"]["given_name"] == \
        bodies[0]["subject"]["given_name"]
    assert "decryption_failed" not in r.json()
    assert metric(nrmd, "nrm_decrypt_failures_total") == before + 3
    assert requests.get(nrmd.url + "/healthz", timeout=5).status_code == 200
    assert "Quarnbeekstra" not in nrmd.log_text()


def test_moved_rationale_is_refused(nrmd, case_keys, cluster):
    """One entry's sealed rationale moved to another entry of the same
    case: refused (another data key), the other entry still reads."""
    k = case_keys
    cid = new_case(nrmd, k["reporter"], body=marked_signal())["case_id"]
    a = record_rationale(nrmd, k["co13"], cid, "eerste " + uuid.uuid4().hex)
    b = record_rationale(nrmd, k["co13"], cid, "tweede " + uuid.uuid4().hex)
    assert cluster.count(
        "select count(*) from ident.decision where case_id = '%s' "
        "and rationale is null and rationale_ct is not null" % cid) == 2
    cluster.sql(
        "update ident.decision set rationale_ct = (select rationale_ct "
        "from ident.decision where id = '%s') where id = '%s'"
        % (a["id"], b["id"]))
    items = {e["id"]: e for e in identification(nrmd, k["co13"],
                                                cid)["items"]}
    assert items[b["id"]]["rationale"] is None
    assert items[b["id"]]["decryption_failed"] == ["rationale"]
    assert items[a["id"]]["rationale"] == a["rationale"]
    assert "decryption_failed" not in items[a["id"]]
    assert unreadable_events(cluster, cid) == [
        ["failed", "misplaced", "coordinator"]]


def test_data_key_wrapped_under_another_kek(nrmd, case_keys, cluster):
    """A data key that does not unwrap (changed, or another KEK's): every
    value of the row is refused, nrmd stays up."""
    k = case_keys
    body = marked_signal()
    cid = new_case(nrmd, k["reporter"], body=body)["case_id"]
    sid = case_row(cluster, cid)
    cluster.sql(
        "update care.data_key set wrapped = set_byte(wrapped, 20, "
        "get_byte(wrapped, 20) # 1) where signal_id = '%s'" % sid)
    r = get_case(nrmd, k["co13"], cid)
    assert r.status_code == 200
    c = r.json()
    assert sorted(c["decryption_failed"]) == sorted(
        ["signal.reporter_reference", "subject.given_name",
         "subject.family_name", "subject.birth_date", "subject.phone",
         "subject.address", "subject.narrative"])
    assert all(c["subject"][f] is None for f in c["subject"])
    assert unreadable_events(cluster, cid) == [
        ["failed", "no_key", "coordinator"]]
    assert requests.get(nrmd.url + "/healthz", timeout=5).status_code == 200
