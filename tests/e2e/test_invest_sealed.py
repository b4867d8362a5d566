"""The police and prosecution references of an investigation record,
sealed by nrmd (issue 15, docs/data-protection.md "The investigation
track"), on a cluster of its own (it rotates the KEK and erases cases):

- the references leave nrmd sealed with the record's own data key
  (invest.data_key, AAD bound to row and column) and come back opened to
  the investigators of the record's agency; the database holds
  ciphertext only, and a client may not send what nrmd adds;
- a reference moved to another record is answered as null with
  decryption_failed and an audit event of the investigator;
- a record stored before 0025 (plaintext, no key) is read as before,
  patched under a new key, and sealed by `nrmctl data encrypt`;
- `nrmctl keys rotate` re-wraps the records' data keys too, and `keys
  retire` is refused while one still uses the old KEK;
- erasing a case (on request, as the retention job does) destroys the
  keys of the records about it, though the privacy officer reads
  nothing of the investigation track.
"""

import os
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, auth, ok
from nrm_e2e.cases import new_case
from nrm_e2e.daemon import DaemonPool
from nrm_e2e.pg import Cluster, create_key, key_id
from nrm_e2e.sealed import ctl, load_kek, new_kek, open_value, unwrap
from test_tracks import invest_create, invest_get, invest_patch

REFS = ("police_reference", "prosecution_reference")


@pytest.fixture(scope="module")
def own(workdir, pki):
    """A cluster, keys and a KEK of this module alone."""
    top = workdir / ("invest-%s" % uuid.uuid4().hex[:6])
    top.mkdir()
    os.chmod(top, 0o755)
    c = Cluster(top)
    c.start()
    try:
        c.not_durable()
        c.nrmctl("migrate")
        mypki = dict(pki)
        mypki["kek"] = new_kek(top / "kek-1")
        sfx = uuid.uuid4().hex[:6]
        police = "Politie Oost " + sfx
        k = {
            "reporter": create_key(c, "reporter", police, "police"),
            "inv": create_key(c, "investigator", police, "police"),
            "inv_b": create_key(c, "investigator", "Politie West " + sfx,
                                "police"),
            "co13": create_key(c, "coordinator", "Zorg " + sfx,
                               "care_agency", regions=("VR13",)),
            "privacy": create_key(c, "privacy_officer", "FG " + sfx,
                                  "national_centre"),
        }
        for key in k.values():
            key.id = key_id(c, key)
        pool = DaemonPool(top, c, mypki)
        yield {"cluster": c, "pki": mypki, "keys": k, "pool": pool,
               "dir": top, "d": pool()}
        pool.close()
    finally:
        c.pg("stop", c.dir, check=False)
        c.pg("drop", c.dir, check=False)


def refs(tag=None):
    tag = tag or uuid.uuid4().hex[:10]
    return {"police_reference": "PL-OOST-%s" % tag,
            "prosecution_reference": "OM-Ä%s-parket" % tag}


def stored(cluster, kek_path, rid):
    """{reference: plaintext} of a record opened from its ciphertext
    columns with the KEK file (the plaintext columns must be empty), and
    the key's KEK id."""
    row = cluster.sql(
        "select k.id, k.kek_id, encode(k.wrapped, 'hex'), "
        "encode(r.police_reference_ct, 'hex'), r.police_reference, "
        "encode(r.prosecution_reference_ct, 'hex'), r.prosecution_reference "
        "from invest.record r join invest.data_key k "
        "on k.id = r.data_key_id where r.id = '%s'" % rid)
    assert len(row) == 1, row
    kid, kek_id, wrapped, pct, pplain, sct, splain = row[0]
    assert not pplain and not splain, "a reference stored in plaintext"
    dk = unwrap(load_kek(kek_path), kid, kek_id, bytes.fromhex(wrapped))
    out = {"kek_id": kek_id}
    for name, ct in zip(REFS, (pct, sct)):
        if ct:
            out[name] = open_value(dk, kid, "invest.record/%s/%s"
                                   % (name, rid), bytes.fromhex(ct))
    return out


def own_record(own, values):
    """A record of the investigator's agency about a signal it filed."""
    d, k = own["d"], own["keys"]
    sig = new_case(d, k["reporter"])["signal_id"]
    body = dict(values, signal_id=sig)
    return ok(invest_create(d, k["inv"], body), 201)


def test_references_sealed_and_opened(own):
    c, d, k = own["cluster"], own["d"], own["keys"]
    v = refs()
    rec = own_record(own, v)
    assert {n: rec[n] for n in REFS} == v
    assert "sealed" not in rec and "decryption_failed" not in rec
    rid = rec["id"]
    got = ok(invest_get(d, k["inv"], rid))
    assert got == rec
    s = stored(c, own["pki"]["kek"], rid)
    assert {n: s[n] for n in REFS} == v
    # the key is the investigation track's, not care.data_key's
    assert c.count("select count(*) from care.data_key where id = "
                   "(select data_key_id from invest.record where id = '%s')"
                   % rid) == 0
    # a changed reference is sealed with the record's own key; null clears
    new_police = "PL-OOST-%s-b" % uuid.uuid4().hex[:6]
    p = ok(invest_patch(d, k["inv"], rid, {"police_reference": new_police}))
    assert p["police_reference"] == new_police
    assert p["prosecution_reference"] == v["prosecution_reference"]
    assert p["version"] == 2
    s2 = stored(c, own["pki"]["kek"], rid)
    assert s2["police_reference"] == new_police
    assert c.count("select count(*) from invest.data_key k join "
                   "invest.record r on r.id = k.record_id "
                   "where r.id = '%s'" % rid) == 1
    p = ok(invest_patch(d, k["inv"], rid, {"prosecution_reference": None}))
    assert p["prosecution_reference"] is None and p["version"] == 3
    assert "prosecution_reference" not in stored(c, own["pki"]["kek"], rid)
    # a patch without a reference is one call, and changes nothing sealed
    p = ok(invest_patch(d, k["inv"], rid, {"status": "suspended"}))
    assert p["police_reference"] == new_police and p["version"] == 4
    # another agency: 404 on read and on a sealing patch alike
    assert_problem(invest_get(d, k["inv_b"], rid), 404, "not_found")
    assert_problem(invest_patch(d, k["inv_b"], rid,
                                {"police_reference": "X-1"}),
                   404, "not_found")
    assert ok(invest_get(d, k["inv"], rid))["police_reference"] == new_police
    # nothing of it in the log
    assert new_police not in d.log_text()
    assert v["prosecution_reference"] not in d.log_text()


def test_reference_shape_and_own_fields_refused(own):
    d, k = own["d"], own["keys"]
    sig = new_case(d, k["reporter"])["signal_id"]
    for bad in ("", "x" * 101, "PL\x07bell", "PL\u0085nel"):
        r = invest_create(d, k["inv"], {"signal_id": sig,
                                 "prosecution_reference": bad})
        p = assert_problem(r, 422, "validation", "prosecution_reference")
        assert bad not in p["detail"] or bad == ""
    # 100 characters of several bytes each are fine
    rec = ok(invest_create(d, k["inv"], {"signal_id": sig,
                                  "police_reference": "é" * 100}), 201)
    assert rec["police_reference"] == "é" * 100
    for own_field in ("id", "data_key", "police_reference_ct",
                      "prosecution_reference_ct"):
        r = invest_create(d, k["inv"], {"signal_id": sig, own_field: "AAAA"})
        assert_problem(r, 422, "validation", own_field)
        r = invest_patch(d, k["inv"], rec["id"], {own_field: "AAAA"})
        assert_problem(r, 422, "validation", own_field)
    r = invest_patch(d, k["inv"], rec["id"], {"police_reference": "y" * 101})
    assert_problem(r, 422, "validation", "police_reference")


def test_moved_reference_is_refused(own):
    c, d, k = own["cluster"], own["d"], own["keys"]
    a, b = own_record(own, refs()), own_record(own, refs())
    c.sql("update invest.record set police_reference_ct = (select "
          "police_reference_ct from invest.record where id = '%s') "
          "where id = '%s'" % (a["id"], b["id"]))
    r = invest_get(d, k["inv"], b["id"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["police_reference"] is None
    assert got["decryption_failed"] == ["police_reference"]
    assert got["prosecution_reference"] == b["prosecution_reference"]
    assert a["police_reference"] not in r.text
    assert c.sql("select outcome, reason, role from audit.event where "
                 "action = 'data.decrypt_failed' and object_type = "
                 "'investigation' and object_id = '%s'" % b["id"]) == [
        ["failed", "misplaced", "investigator"]]
    assert requests.get(d.url + "/healthz", timeout=5).status_code == 200


def test_record_from_before_0025_and_data_encrypt(own):
    c, d, k = own["cluster"], own["d"], own["keys"]
    olds = []
    for _ in range(3):
        v = refs()
        rec = own_record(own, {})
        # as stored before 0025: plaintext, no key (triggers bypassed as
        # a restored old database would have them)
        c.sql("begin; set local session_replication_role = replica; "
              "update invest.record set police_reference = '%s', "
              "prosecution_reference = '%s' where id = '%s'; commit"
              % (v["police_reference"], v["prosecution_reference"],
                 rec["id"]))
        olds.append((rec["id"], v))
    left = c.scalar("select care.plaintext_left()->>'investigations'")
    assert int(left) >= 3
    rid, v = olds[0]
    got = ok(invest_get(d, k["inv"], rid))
    assert {n: got[n] for n in REFS} == v
    # a patched reference gets a new key; the other stays as it was
    ok(invest_patch(d, k["inv"], rid, {"police_reference": "PL-NIEUW-1"}))
    assert c.sql("select police_reference is null, "
                 "prosecution_reference is not null, "
                 "data_key_id is not null from invest.record "
                 "where id = '%s'" % rid) == [["t", "t", "t"]]
    got = ok(invest_get(d, k["inv"], rid))
    assert got["police_reference"] == "PL-NIEUW-1"
    assert got["prosecution_reference"] == v["prosecution_reference"]
    # the database refuses new plaintext
    assert c.sql("update invest.record set police_reference = 'PL-X' "
                 "where id = '%s'" % olds[1][0], check=False) is None
    p = ctl(c, "data", "encrypt", "--kek", own["pki"]["kek"], "--batch", "1")
    assert "investigation references to do" in p.stderr, p.stderr
    assert c.scalar("select care.plaintext_left()->>'investigations'") \
        == "0"
    olds[0] = (rid, dict(v, police_reference="PL-NIEUW-1"))
    for rid, v in olds:
        assert {n: stored(c, own["pki"]["kek"], rid)[n] for n in REFS} == v
        got = ok(invest_get(d, k["inv"], rid))
        assert {n: got[n] for n in REFS} == v
    p = ctl(c, "data", "encrypt", "--kek", own["pki"]["kek"])
    assert "0 investigation references to do" in p.stderr


def test_erasure_shreds_the_records_about_a_case(own):
    c, d, k = own["cluster"], own["d"], own["keys"]
    case = new_case(d, k["reporter"])
    agency = c.scalar("select agency_id from auth.api_key where id = '%s'"
                      % k["inv"].id)
    r = requests.post("%s/v1/cases/%s/share" % (d.url, case["case_id"]),
                      json={"agency_id": agency, "consent": True},
                      headers=auth(k["co13"]), timeout=15)
    assert r.status_code == 200, r.text
    about_case = ok(invest_create(d, k["inv"], dict(refs(),
                                             case_id=case["case_id"])), 201)
    about_signal = ok(invest_create(d, k["inv"], dict(
        refs(), signal_id=case["signal_id"])), 201)
    other = own_record(own, refs())
    # the privacy officer's roles read nothing of the investigation track
    for role in ("nrm_privacy_officer", "nrm_privacy"):
        for t in ("invest.record", "invest.data_key"):
            assert c.scalar("select has_table_privilege('%s', '%s', "
                            "'SELECT')" % (role, t)) == "f"
    r = requests.post("%s/v1/privacy/cases/%s/erase" % (d.url,
                                                         case["case_id"]),
                      json={"ground": "objection"},
                      headers=auth(k["privacy"]), timeout=30)
    assert r.status_code == 200, r.text
    for rec in (about_case, about_signal):
        assert c.sql("select k.wrapped is null, k.destroyed_at is not null, "
                     "num_nonnulls(r.police_reference_ct, "
                     "r.prosecution_reference_ct, r.police_reference, "
                     "r.prosecution_reference) from invest.record r "
                     "join invest.data_key k on k.id = r.data_key_id "
                     "where r.id = '%s'" % rec["id"]) == [["t", "t", "0"]]
        got = ok(invest_get(d, k["inv"], rec["id"]))
        assert got["police_reference"] is None
        assert got["prosecution_reference"] is None
        assert got["references_erased_at"]
        assert "decryption_failed" not in got
        # the record keeps its non-personal facts
        assert got["status"] == rec["status"]
        # and takes no new reference under a destroyed key
        assert_problem(invest_patch(d, k["inv"], rec["id"],
                             {"police_reference": "PL-NA"}),
                       409, "conflict", "police_reference")
    # a record about another case is untouched
    got = ok(invest_get(d, k["inv"], other["id"]))
    assert got["police_reference"] == other["police_reference"]


def test_rotation_rewraps_record_keys(own):
    """Last in the module: it moves every key to a new KEK."""
    c, d, k = own["cluster"], own["d"], own["keys"]
    kek1 = own["pki"]["kek"]
    kek2 = new_kek(own["dir"] / "kek-2")
    v = refs()
    rec = own_record(own, v)
    id1 = stored(c, kek1, rec["id"])["kek_id"]
    p = ctl(c, "keys", "rotate", "--kek", kek2, "--old-keks", kek1)
    assert c.count("select count(*) from invest.data_key "
                   "where wrapped is not null and kek_id = '%s'" % id1) == 0
    s = stored(c, kek2, rec["id"])
    assert s["kek_id"] != id1 and {n: s[n] for n in REFS} == v
    # d still wraps new keys under the old KEK: a record's key alone (its
    # signal has its key already) keeps the old KEK from retiring
    ok(invest_create(d, k["inv"], dict(refs(), signal_id=rec["signal_id"])),
       201)
    assert c.count("select count(*) from care.data_key "
                   "where wrapped is not null and kek_id = '%s'" % id1) == 0
    p = ctl(c, "keys", "retire", id1, check=False)
    assert p.returncode == 1 and "1 data keys are still wrapped" in \
        p.stderr, p.stderr
    status = ctl(c, "keys", "status").stdout
    assert id1 in status and s["kek_id"] in status
    p = ctl(c, "keys", "rotate", "--kek", kek2, "--old-keks", kek1)
    assert "1 data keys to re-wrap" in p.stderr, p.stderr
    p = ctl(c, "keys", "retire", id1)
    assert p.stdout.strip() == "retired %s" % id1
    # a daemon with the new KEK alone reads the record
    d2 = own["pool"](config={"data_kek_file": kek2})
    got = ok(invest_get(d2, k["inv"], rec["id"]))
    assert {n: got[n] for n in REFS} == v
