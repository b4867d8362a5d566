"""The keys of personal data at rest (issue 15, docs/operations.md
"Rotating the data keys"), on a cluster of their own (a rotation re-wraps
every data key of its database, which the suite's shared daemons could
then no longer open):

- rotation under load: signals keep being submitted and read while
  `nrmctl keys rotate` runs; afterwards every value opens with the new
  KEK, the old one is retired (refused before), and nrmd still reads
  everything without it;
- an interrupted rotation (killed halfway) resumes where it stopped;
- `nrmctl data encrypt` seals rows stored in plaintext before 0017 and
  keys old idempotency hashes, in resumable batches; nrmd warns at
  start-up with the counts (numbers, never a value) while any are left.
"""

import hashlib
import hmac
import os
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from nrm_e2e.api import auth
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.daemon import DaemonPool
from nrm_e2e.env import NRMCTL, clean_env
from nrm_e2e.pg import Cluster, create_keys
from nrm_e2e.sealed import (ctl, make_plaintext, new_kek, open_value,
                            signal_values, unwrap)
from nrm_e2e.signals import adult_signal


def kek_id(path):
    key = bytes.fromhex(path.read_text().strip())
    return hashlib.sha256(key).digest()[:8].hex()


@pytest.fixture(scope="module")
def own(workdir, pki):
    """A cluster, keys and KEK files of this module alone."""
    top = workdir / ("rotation-%s" % uuid.uuid4().hex[:6])
    with Cluster.migrated(top) as c:
        mypki = dict(pki)
        mypki["kek"] = new_kek(top / "kek-1")
        keys = create_keys(
            c, reporter=("reporter", "Politie", "police"),
            co13=("coordinator", "Zorg", "care_agency", ("VR13",)))
        pool = DaemonPool(top, c, mypki)
        yield {"cluster": c, "pki": mypki, "keys": keys, "pool": pool,
               "dir": top}
        pool.close()


def wait_gone(cluster):
    """Until no nrmctl session is left (a killed one's backend ends when
    it notices, and its locks with it)."""
    deadline = time.monotonic() + 30
    while cluster.count("select count(*) from pg_stat_activity "
                        "where application_name = 'nrmctl'"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def marked():
    tag = uuid.uuid4().hex[:10]
    body = adult_signal()
    body["reporter_reference"] = "PV-ROT-%s" % tag
    body["subject"]["given_name"] = "Rot-%s" % tag
    body["narrative"] = "Rotatie %s: paspoort ingenomen." % tag
    return body


def read_ok(d, key, case_id, body):
    r = get_case(d, key, case_id)
    assert r.status_code == 200, r.text
    c = r.json()
    assert "decryption_failed" not in c, c
    assert c["subject"]["given_name"] == body["subject"]["given_name"]
    assert c["signal"]["reporter_reference"] == body["reporter_reference"]


def reload_keks(d, current, old):
    d.config["data_kek_file"] = str(current)
    d.config["data_kek_old_files"] = ",".join(str(p) for p in old)
    d.write_config()
    d.send_signal(signal.SIGHUP)
    want = 'keys loaded" current=%s' % kek_id(current)
    deadline = time.monotonic() + 20
    while want not in d.log_text():
        if time.monotonic() >= deadline:
            open("/tmp/kek/last.log", "w").write(d.log_text())
        assert time.monotonic() < deadline, d.log_text()[-2000:]
        time.sleep(0.05)


def kek_counts(cluster):
    return {k: int(n) for k, n in cluster.sql(
        "select kek_id, count(*) from care.data_key "
        "where wrapped is not null group by kek_id")}


def all_open_with(cluster, kek_path, cases):
    """Every stored value of `cases` opens with the KEK at kek_path."""
    for cid, body in cases:
        sig = cluster.scalar(
            "select signal_id from care.case where id = '%s'" % cid)
        v = signal_values(cluster, kek_path, sig)
        assert v["given_name"] == body["subject"]["given_name"]
        assert v["reporter_reference"] == body["reporter_reference"]


class Load:
    """Submit and read signals in a thread until stopped; every answer
    must be a success with the values as submitted."""

    def __init__(self, d, keys):
        self.d, self.keys = d, keys
        self.cases, self.errors = [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                body = marked()
                rec = new_case(self.d, self.keys["reporter"], body=body)
                self.cases.append((rec["case_id"], body))
                for cid, b in self.cases[-3:]:
                    read_ok(self.d, self.keys["co13"], cid, b)
            except (AssertionError, requests.RequestException) as e:
                self.errors.append(repr(e)[:300])
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(60)


def test_rotation_under_load(own):
    c, keys, pki = own["cluster"], own["keys"], own["pki"]
    kek1 = pki["kek"]
    kek2 = new_kek(own["dir"] / "kek-2")
    d = own["pool"]()
    cases = []
    for _ in range(40):
        body = marked()
        cases.append((new_case(d, keys["reporter"], body=body)["case_id"],
                      body))
    assert kek_counts(c) == {kek_id(kek1): 40}
    # the old KEK may not be retired while it wraps a data key
    p = ctl(c, "keys", "retire", kek_id(kek1), check=False)
    assert p.returncode == 1 and "still wrapped" in p.stderr, p.stderr
    reload_keks(d, kek2, [kek1])
    with Load(d, keys) as load:
        # a few signals under the new KEK first, then rotate under load
        deadline = time.monotonic() + 30
        while len(load.cases) < 3 and not load.errors:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        p = ctl(c, "keys", "rotate", "--kek", kek2, "--old-keks", kek1,
                "--batch", "4", "--pause-ms", "20")
        seen = len(load.cases)
        deadline = time.monotonic() + 30
        while len(load.cases) < seen + 3 and not load.errors:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert load.errors == []
    assert "40 data keys to re-wrap" in p.stderr, p.stderr
    assert "40 of 40 re-wrapped" in p.stderr, p.stderr
    assert p.stdout.strip() == "every data key is wrapped by %s" % \
        kek_id(kek2)
    # every value opens with the new KEK alone
    assert set(kek_counts(c)) == {kek_id(kek2)}
    all_open_with(c, kek2, cases + load.cases)
    # the old KEK is retired, and nrmd reads everything without it
    p = ctl(c, "keys", "retire", kek_id(kek1))
    assert p.stdout.strip() == "retired %s" % kek_id(kek1)
    assert c.count("select count(*) from audit.event where action = "
                   "'kek.retire' and object_id = '%s'" % kek_id(kek1)) == 1
    reload_keks(d, kek2, [])
    for cid, body in cases[:5] + load.cases[-5:]:
        read_ok(d, keys["co13"], cid, body)
    # a retired KEK can never wrap a data key again
    p = ctl(c, "keys", "rotate", "--kek", kek1, "--old-keks", kek2,
            check=False)
    assert p.returncode == 1 and "is retired" in p.stderr, p.stderr
    status = ctl(c, "keys", "status").stdout
    assert kek_id(kek1) in status and kek_id(kek2) in status
    # no key material and no personal data in what nrmctl printed
    assert kek2.read_text().strip() not in p.stderr + status


def test_interrupted_rotation_resumes(own):
    c, keys = own["cluster"], own["keys"]
    kek2 = own["dir"] / "kek-2"
    kek3 = new_kek(own["dir"] / "kek-3")
    d = own["pool"](config={"data_kek_file": kek2})
    cases = []
    for _ in range(30):
        body = marked()
        cases.append((new_case(d, keys["reporter"], body=body)["case_id"],
                      body))
    total = sum(kek_counts(c).values())
    reload_keks(d, kek3, [kek2])
    # one key a batch, slowly: killed after its first batches
    proc = subprocess.Popen(
        [str(NRMCTL), "keys", "rotate", "--kek", str(kek3), "--old-keks",
         str(kek2), "--batch", "1", "--pause-ms", "200"],
        env=clean_env({"NRM_DATABASE_URL": c.owner_url}),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    while len([x for x in lines if "re-wrapped" in x]) < 3:
        line = proc.stderr.readline()
        assert line, "".join(lines)
        lines.append(line)
    proc.kill()
    proc.wait(30)
    proc.stdout.close()
    proc.stderr.close()
    wait_gone(c)
    counts = kek_counts(c)
    assert 3 <= counts.get(kek_id(kek3), 0) < total, counts
    # reads go on meanwhile: keys under both KEKs
    for cid, body in cases[:3] + cases[-3:]:
        read_ok(d, keys["co13"], cid, body)
    p = ctl(c, "keys", "rotate", "--kek", kek3, "--old-keks", kek2)
    assert "%d data keys to re-wrap" % (total - counts[kek_id(kek3)]) \
        in p.stderr, p.stderr
    assert set(kek_counts(c)) == {kek_id(kek3)}
    all_open_with(c, kek3, cases)
    # a second run has nothing to do
    p = ctl(c, "keys", "rotate", "--kek", kek3, "--old-keks", kek2)
    assert "0 data keys to re-wrap" in p.stderr


def idem_key(pseudonym_path):
    ikm = bytes.fromhex(pseudonym_path.read_text().strip())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"nrm idempotency v1").derive(ikm)


def test_data_encrypt_seals_old_plaintext(own):
    c, keys, pki = own["cluster"], own["keys"], own["pki"]
    kek3 = own["dir"] / "kek-3"
    d = own["pool"](config={"data_kek_file": kek3})
    old = []
    for i in range(5):
        body = marked()
        cid = new_case(d, keys["reporter"], body=body)["case_id"]
        today = time.strftime("%Y-%m-%d")
        r = requests.post(
            "%s/v1/cases/%s/identification" % (d.url, cid),
            json={"stage": "initial", "outcome": "pending",
                  "deciding_body": "care_coordination",
                  "rationale": "x", "decided_on": today},
            headers=auth(keys["co13"]), timeout=15)
        assert r.status_code == 201, r.text
        sig = c.scalar("select signal_id from care.case where id = '%s'"
                       % cid)
        rationale = "Oud besluit %s" % uuid.uuid4().hex
        make_plaintext(c, sig, body, rationale)
        old.append((cid, sig, body, rationale))
    # an idempotency hash from before 0020: the plain SHA-256
    plain = hashlib.sha256(b"a body from before").digest()
    rep_id = c.scalar("select id from auth.api_key where role = 'reporter' "
                      "limit 1")
    c.sql("insert into intake.idempotency (api_key_id, idem_key, "
          "request_hash, status, response, request_keyed) values "
          "('%s', 'before-0020', '\\x%s', 201, '{}', false)"
          % (rep_id, plain.hex()))
    left = c.scalar("select care.plaintext_left()::text")
    assert '"signals": 5' in left and '"decisions": 5' in left, left
    # nrmd warns at start-up with the counts, never a value
    w = own["pool"](config={"data_kek_file": kek3})
    want = "personal data stored in plaintext before 0017 is left"
    deadline = time.monotonic() + 20
    while want not in w.log_text():
        assert time.monotonic() < deadline, w.log_text()[-2000:]
        time.sleep(0.05)
    line = [x for x in w.log_text().splitlines() if want in x][0]
    assert "subjects=5 signals=5 decisions=5 unkeyed_idempotency=1" in line
    for _, _, body, rationale in old:
        assert body["subject"]["given_name"] not in w.log_text()
        assert rationale not in w.log_text()
    # the plaintext answers as before (no data key yet)
    read_ok(d, keys["co13"], old[0][0], old[0][2])
    # interrupted after its first batch: the rest is done by a rerun
    proc = subprocess.Popen(
        [str(NRMCTL), "data", "encrypt", "--kek", str(kek3),
         "--batch", "1", "--pause-ms", "300"],
        env=clean_env({"NRM_DATABASE_URL": c.owner_url}),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while True:
        line = proc.stderr.readline()
        assert line
        if "1 of 5 signals done" in line:
            break
    proc.kill()
    proc.wait(30)
    proc.stdout.close()
    proc.stderr.close()
    wait_gone(c)
    assert c.count("select count(*) from intake.signal "
                   "where reporter_reference is not null") in (3, 4)
    p = ctl(c, "data", "encrypt", "--kek", kek3, "--pseudonym-key",
            pki["pseudonym"], "--batch", "2")
    assert "plaintext left: " in p.stdout
    assert c.scalar("select care.plaintext_left()::text") == \
        '{"signals": 0, "subjects": 0, "decisions": 0, "idempotency": 0, ' \
        '"investigations": 0}'
    # idempotent: nothing more to do
    p = ctl(c, "data", "encrypt", "--kek", kek3, "--pseudonym-key",
            pki["pseudonym"])
    assert "0 signals to do" in p.stderr and "0 rationales to do" in p.stderr
    # sealed as nrmd seals: they open with the KEK, bound to their rows
    for cid, sig, body, rationale in old:
        v = signal_values(c, kek3, sig)
        assert v["given_name"] == body["subject"]["given_name"]
        assert v["family_name"] == body["subject"]["family_name"]
        assert v["birth_date"] == body["subject"]["birth_date"]
        assert v["reporter_reference"] == body["reporter_reference"]
        eid, key_id, kid, wrapped, ct = c.sql(
            "select d.id, k.id, k.kek_id, encode(k.wrapped, 'hex'), "
            "encode(d.rationale_ct, 'hex') from ident.decision d "
            "join care.data_key k on k.id = d.data_key_id "
            "where d.case_id = '%s'" % cid)[0]
        dk = unwrap(bytes.fromhex(kek3.read_text().strip()), key_id, kid,
                    bytes.fromhex(wrapped))
        assert open_value(dk, key_id, "ident.decision/rationale/%s" % eid,
                          bytes.fromhex(ct)) == rationale
        # and nrmd reads them
        read_ok(d, keys["co13"], cid, body)
        r = requests.get("%s/v1/cases/%s/identification" % (d.url, cid),
                         headers=auth(keys["co13"]), timeout=15)
        assert r.status_code == 200
        assert r.json()["items"][0]["rationale"] == rationale
    # the old idempotency hash is keyed as nrmd keys new ones
    got = c.scalar("select encode(request_hash, 'hex') from "
                   "intake.idempotency where idem_key = 'before-0020'")
    assert got == hmac.new(idem_key(pki["pseudonym"]), plain,
                           hashlib.sha256).hexdigest()


def test_pseudonym_key_rotation(own):
    """A new pseudonym key: while nrmd holds the previous one too, a new
    subject carries its pseudonym under both (so it links to subjects not
    yet re-keyed); `nrmctl keys pseudonyms` re-keys every subject from its
    sealed names and birth date, after which both pseudonyms agree."""
    c, keys, pki = own["cluster"], own["keys"], own["pki"]
    kek3 = own["dir"] / "kek-3"
    p1 = pki["pseudonym"]
    p2 = new_kek(own["dir"] / "pseudonym-2")
    person = marked()
    person["subject"]["family_name"] = "Pseudoniemstra-%s" % \
        uuid.uuid4().hex[:6]
    d1 = own["pool"](config={"data_kek_file": kek3})
    a = new_case(d1, keys["reporter"], body=person)["case_id"]
    d2 = own["pool"](config={"data_kek_file": kek3,
                             "pseudonym_key_file": p2,
                             "pseudonym_key_old_file": p1})
    assert 'pseudonym keys loaded" current=%s previous=%s' % (
        kek_id(p2), kek_id(p1)) in d2.log_text()
    again = marked()
    again["subject"].update({k: person["subject"][k] for k in (
        "given_name", "family_name", "birth_date")})
    b = new_case(d2, keys["reporter"], body=again)["case_id"]

    def row(cid):
        return c.sql("select encode(s.pseudonym, 'hex'), "
                     "s.pseudonym_key_id, encode(s.pseudonym_prev, 'hex') "
                     "from care.subject s join care.case k on "
                     "k.signal_id = s.signal_id where k.id = '%s'" % cid)[0]

    pa, pb = row(a), row(b)
    assert pa[1] == kek_id(p1) and pa[2] == ""
    assert pb[1] == kek_id(p2) and pb[0] != pa[0]
    assert pb[2] == pa[0], "the new subject links under the previous key"
    p = ctl(c, "keys", "pseudonyms", "--pseudonym-key", p2, "--kek", kek3,
            "--batch", "3")
    assert "re-keyed" in p.stderr, p.stderr
    assert p.stdout.strip() == "every pseudonym is under %s" % kek_id(p2)
    ra, rb = row(a), row(b)
    assert ra[0] == rb[0] == pb[0], "re-keyed as nrmd keys it"
    assert ra[1] == rb[1] == kek_id(p2) and ra[2] == rb[2] == ""
    assert c.count("select count(*) from care.subject where pseudonym "
                   "is not null and (pseudonym_key_id is distinct from "
                   "'%s' or pseudonym_prev is not null)" % kek_id(p2)) == 0
    p = ctl(c, "keys", "pseudonyms", "--pseudonym-key", p2, "--kek", kek3)
    assert "0 subjects to re-key" in p.stderr
