"""The audit log against its own operator (issue 14, part 3), as nrmd
sees it: GET /v1/audit/verify checks the retention anchor's signature
with the daemon's checkpoint key, so an anchor the database owner
INSERTs at the head (to rewrite what lies before it) is a break, and an
anchor that `nrmctl audit purge` signed is trusted.

Each test works in a database of its own (migrated here): anchors are
append-only, and a forged one must not leak into the shared database.
"""

import base64
import json
import os
import re
import subprocess
import threading
import uuid

from nrm_e2e.daemon import NRMD, ROOT
from nrm_e2e.env import NRMCTL, PSQL, clean_env, run, wait_for
from nrm_e2e.pg import Key

import requests


def _url(url, dbname):
    return re.sub(r"/nrm\?", "/%s?" % dbname, url, count=1)


class OwnDb:
    """A fresh, migrated database in the shared cluster."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.name = "nrm_op_" + uuid.uuid4().hex[:8]
        cluster.sql("create database %s owner nrm_owner" % self.name)
        self.owner_url = _url(cluster.owner_url, self.name)
        self.app_url = _url(cluster.app_url, self.name)
        self.su_url = _url(cluster.env["NRM_SUPERUSER_URL"], self.name)
        self.nrmctl("migrate", "--dir", "sql")
        self.sql("grant connect on database %s to nrm_app" % self.name)

    def nrmctl(self, *args, check=True):
        return run([NRMCTL, *args],
                   env=clean_env({"NRM_DATABASE_URL": self.owner_url}),
                   check=check)

    def sql(self, sql, url=None):
        p = run([PSQL, "-d", url or self.su_url, "-X", "-A", "-t", "-q",
                 "-v", "ON_ERROR_STOP=1", "-c", sql], env=clean_env())
        return p.stdout.strip()

    def auditor(self):
        token = self.nrmctl("key", "create", "--role", "auditor",
                            "--agency", "Audit " + self.name,
                            "--agency-kind", "other").stdout.strip()
        return Key(token, "auditor", "Audit " + self.name, "other")

    def drop(self):
        self.cluster.sql("drop database if exists %s with (force)"
                         % self.name, check=False)


def verify(d, key):
    r = requests.get(d.url + "/v1/audit/verify",
                     headers={"Authorization": "Bearer " + key.token},
                     timeout=30)
    assert r.status_code == 200, r.text[:500]
    return r.json()


def signing_nrmd(nrmd_factory, workdir, own):
    """A daemon on own's database that signs a checkpoint every second
    with a new key: (daemon, key file, checkpoint file, auditor key)."""
    tag = uuid.uuid4().hex[:8]
    key_file = workdir / ("op-key-%s.pem" % tag)
    cp_file = workdir / ("op-cps-%s.jsonl" % tag)
    run([NRMCTL, "audit", "keygen", "--out", key_file], env=clean_env())
    d = nrmd_factory(config={"database_url": own.app_url,
                             "audit_signing_key_file": key_file,
                             "audit_checkpoint_file": cp_file,
                             "audit_checkpoint_interval": 1})
    return d, key_file, cp_file, own.auditor()


def test_verify_judges_the_anchor_signature(nrmd_factory, workdir, cluster):
    own = OwnDb(cluster)
    try:
        _judge(nrmd_factory, workdir, own)
    finally:
        own.drop()


def _judge(nrmd_factory, workdir, own):
    d, key_file, cp_file, a = signing_nrmd(nrmd_factory, workdir, own)

    def two_checkpoints():
        verify(d, a)  # every call adds an event: the head moves
        lines = cp_file.read_text().splitlines() if cp_file.exists() else []
        return len(lines) >= 3
    wait_for(two_checkpoints, 30, interval=0.5, what="three checkpoints")
    v = verify(d, a)
    assert v["intact"] is True and v["anchor"] is None, v

    # 1. A purge signed by nrmctl with the daemon's key: trusted.
    own.sql("update audit.retention_policy set min_age = '0'")
    wait_for(lambda: own.sql("select count(*) from audit.unsealed") == "0",
             15, interval=0.2, what="the sealer")
    before = own.sql("select to_char(max(e.at) at time zone 'UTC' "
                     "- interval '1 millisecond', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
                     "from audit.event e join audit.chain c "
                     "on c.event_id = e.id where c.pos = 2")
    own.nrmctl("audit", "purge", "--before", before, "--key", key_file)
    v = verify(d, a)
    assert v["anchor"]["signature"] == "valid", v
    assert v["intact"] is True and v["first_broken"] is None, v

    # 2. The owner INSERTs an anchor at the head: no signature, and it
    # skips the daemon's checkpoints: a break.
    head = own.sql("select pos || ' ' || encode(hash, 'hex') "
                   "from audit.chain order by pos desc limit 1").split()
    own.sql("insert into audit.retention (purged_through_pos, anchor_hash, "
            "before, events) values (%s, '\\x%s', now(), 1)"
            % (head[0], head[1]), url=own.owner_url)
    v = verify(d, a)
    assert v["anchor"]["pos"] == int(head[0]), v
    assert v["anchor"]["signature"] == "missing", v
    assert v["checkpoints"]["skipped"] >= 1, v
    assert v["intact"] is False, v
    assert v["first_broken"] == {"pos": int(head[0]), "event_id": None,
                                 "expected": head[1], "found": None,
                                 "reason": "unsigned anchor"}, v

    # 3. ... and a signature that is not the key's: a break, always.
    sig = base64.b64encode(os.urandom(64)).decode()
    own.sql("insert into audit.anchor_signature values (%s, "
            "'2030-01-01T00:00:00Z', '%s')" % (head[0], sig),
            url=own.owner_url)
    v = verify(d, a)
    assert v["anchor"]["signature"] == "invalid", v
    assert v["intact"] is False, v
    assert v["first_broken"]["reason"] == "bad anchor signature", v


def metric_value(d, name):
    text = requests.get(d.url + "/metrics", timeout=10).text
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    assert m, text[-800:]
    return int(m.group(1))


REFUSED = 'nrm_audit_checkpoint_refused_total{reason="head_moved_backwards"}'


def test_a_head_that_moved_backwards_is_not_signed(nrmd_factory, workdir,
                                                  cluster):
    own = OwnDb(cluster)
    try:
        d, _, cp_file, a = signing_nrmd(nrmd_factory, workdir, own)
        assert metric_value(d, REFUSED) == 0

        def signed():
            # a checkpoint well past position 1, where the cut leaves
            # the head (one at 1 would make the cut a head that did not
            # move)
            verify(d, a)
            lines = cp_file.read_text().splitlines() \
                if cp_file.exists() else []
            return lines and json.loads(lines[-1])["pos"] >= 3
        wait_for(signed, 30, interval=0.5, what="a checkpoint past 3")
        last = json.loads(cp_file.read_text().splitlines()[-1])
        # cut the tail behind the triggers: the head moves backwards
        own.sql("set session_replication_role = replica; "
                "delete from audit.unsealed; "
                "delete from audit.event where id in (select event_id "
                "from audit.chain where pos > 1); "
                "delete from audit.chain where pos > 1")
        wait_for(lambda: metric_value(d, REFUSED) >= 1, 20, interval=0.5,
                 what="a refused checkpoint")
        lines = cp_file.read_text().splitlines()
        assert json.loads(lines[-1])["pos"] >= last["pos"], lines[-1]
        assert all(json.loads(x)["pos"] >= 1 for x in lines)
        log = d.log_text()
        assert "the head moved backwards" in log, log[-2000:]
        # and the daemon's verify says the chain no longer reaches them
        v = verify(d, a)
        assert v["intact"] is False, v
        assert v["checkpoints"]["first_mismatch"]["reason"] == \
            "beyond head", v
    finally:
        own.drop()


def test_one_verification_at_a_time(nrmd_factory, cluster):
    """Four concurrent GET /v1/audit/verify: one runs, the others get
    409 with Retry-After (problem+json) at once instead of a pool slot."""
    own = OwnDb(cluster)
    try:
        own.sql("insert into audit.event (action, object_type, object_id, "
                "purpose, outcome, request_id) select 'case.read', 'case', "
                "'c' || i, 'care', 'allowed', 'bulk-' || i "
                "from generate_series(1, 60000) i")
        for _ in range(7):
            own.sql("select api.audit_seal(10000)", url=own.app_url)
        d = nrmd_factory(config={"database_url": own.app_url,
                                 "db_query_timeout": "60"})
        a = own.auditor()
        barrier = threading.Barrier(4)
        out = []

        def call():
            barrier.wait()
            out.append(requests.get(
                d.url + "/v1/audit/verify",
                headers={"Authorization": "Bearer " + a.token}, timeout=60))
        ts = [threading.Thread(target=call) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        codes = sorted(r.status_code for r in out)
        assert set(codes) <= {200, 409}, [(r.status_code, r.text[:200])
                                          for r in out]
        assert codes.count(200) >= 1 and codes.count(409) >= 1, codes
        for r in out:
            if r.status_code == 409:
                assert r.headers["Retry-After"] == "2", r.headers
                assert r.headers["Content-Type"].startswith(
                    "application/problem+json"), r.headers
            else:
                assert r.json()["intact"] is True, r.text[:300]
        # and once it is done, the next one runs
        assert verify(d, a)["events"] >= 60000
    finally:
        own.drop()


def test_rotation_keeps_verification_passing(nrmd_factory, workdir,
                                             cluster):
    """nrmd rotates its checkpoint file every 2 lines; nrmctl follows the
    parts in order (the series runs on across them) and the daemon's
    own verify stays intact."""
    own = OwnDb(cluster)
    try:
        tag = uuid.uuid4().hex[:8]
        key_file = workdir / ("op-key-%s.pem" % tag)
        pub_file = workdir / ("op-pub-%s.pem" % tag)
        cp_file = workdir / ("op-cps-%s.jsonl" % tag)
        pub_file.write_text(run([NRMCTL, "audit", "keygen", "--out",
                                 key_file], env=clean_env()).stdout)
        d = nrmd_factory(config={"database_url": own.app_url,
                                 "audit_signing_key_file": key_file,
                                 "audit_checkpoint_file": cp_file,
                                 "audit_checkpoint_interval": 1,
                                 "audit_checkpoint_rotate_lines": 2})
        a = own.auditor()
        part = lambda k: workdir / ("op-cps-%s.jsonl.%06d" % (tag, k))

        def three_parts():
            v = verify(d, a)
            assert v["intact"] is True, v
            return part(3).exists()
        wait_for(three_parts, 40, interval=0.5, what="three rotated parts")
        seqs = []
        for k in (1, 2, 3):
            lines = part(k).read_text().splitlines()
            assert len(lines) == 2, (k, lines)
            seqs += [json.loads(x)["seq"] for x in lines]
        assert seqs == [1, 2, 3, 4, 5, 6], seqs
        p = run([NRMCTL, "audit", "verify", "--checkpoints", cp_file,
                 "--public-key", pub_file],
                env=clean_env({"NRM_DATABASE_URL": own.owner_url}))
        assert p.stdout.startswith("intact, "), p.stdout
        m = re.search(r"(\d+) checkpoint\(s\) verified", p.stdout)
        assert m and int(m.group(1)) >= 6, p.stdout
        v = verify(d, a)
        assert v["intact"] is True and v["checkpoints"]["checked"] >= 1, v
        # a part taken out of the middle is found
        part(2).rename(workdir / ("gone-%s" % tag))
        p = run([NRMCTL, "audit", "verify", "--checkpoints", cp_file,
                 "--public-key", pub_file], check=False,
                env=clean_env({"NRM_DATABASE_URL": own.owner_url}))
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert re.search(r"part 000002 of \d+ is missing \(checkpoint "
                         r"sequence\)", p.stderr), p.stderr
    finally:
        own.drop()


def test_verify_is_incremental_from_a_signed_checkpoint(nrmd_factory,
                                                        workdir, cluster):
    """With checkpoints, GET /v1/audit/verify recomputes only the links
    after the last verified checkpoint (stored in the database), and
    trusts that checkpoint only when its signature is the daemon's."""
    own = OwnDb(cluster)
    try:
        tag = uuid.uuid4().hex[:8]
        key_file = workdir / ("op-key-%s.pem" % tag)
        cp_file = workdir / ("op-cps-%s.jsonl" % tag)
        run([NRMCTL, "audit", "keygen", "--out", key_file], env=clean_env())
        own.sql("insert into audit.event (action, object_type, purpose, "
                "outcome) select 'case.read', 'case', 'care', 'allowed' "
                "from generate_series(1, 3000)")
        d = nrmd_factory(config={"database_url": own.app_url,
                                 "audit_signing_key_file": key_file,
                                 "audit_checkpoint_file": cp_file,
                                 "audit_checkpoint_interval": 1})
        a = own.auditor()
        def past_bulk():
            lines = cp_file.read_text().splitlines() \
                if cp_file.exists() else []
            return lines and json.loads(lines[-1])["pos"] >= 3000
        wait_for(past_bulk, 30, interval=0.3,
                 what="a checkpoint past the bulk events")
        first = verify(d, a)
        assert first["intact"] is True and first["complete"] is True, first
        assert first["verified_from"] is None and first["events"] >= 3000
        second = verify(d, a)
        assert second["intact"] is True, second
        assert second["verified_from"]["signature"] == "valid", second
        assert second["verified_from"]["pos"] >= 3000, second
        assert second["events"] < 100, second  # only what came after
        # the owner moves the verified checkpoint to a later link with
        # a signature that is not the key's: not one of nrmd's lines, so
        # not trusted: the verification starts from genesis again
        pos, h = own.sql("select pos || ' ' || encode(hash, 'hex') from "
                         "audit.chain order by pos desc limit 1").split()
        own.sql("update audit.verified_checkpoint set pos = %s, "
                "hash = '%s', sig = '%s'" % (
                    pos, h, base64.b64encode(os.urandom(64)).decode()),
                url=own.owner_url)
        v = verify(d, a)
        assert v["verified_from"] is None, v
        assert v["intact"] is True and v["events"] >= 3000, v
    finally:
        own.drop()


def test_one_writer_per_checkpoint_file(nrmd_factory, workdir):
    """nrmd locks its checkpoint file for its lifetime: a second daemon
    (or nrmctl audit checkpoint --checkpoints) given the same file is
    refused, naming the field, instead of forking the numbered series."""
    tag = uuid.uuid4().hex[:8]
    key_file = workdir / ("one-key-%s.pem" % tag)
    cp_file = workdir / ("one-cps-%s.jsonl" % tag)
    run([NRMCTL, "audit", "keygen", "--out", key_file], env=clean_env())
    cfg = {"audit_signing_key_file": key_file,
           "audit_checkpoint_file": cp_file,
           "audit_checkpoint_interval": 1}
    first = nrmd_factory(config=cfg)
    second = nrmd_factory(config=cfg, start=False)
    p = subprocess.run([str(NRMD), "--config", str(second.config_path)],
                       capture_output=True, text=True, env=clean_env(),
                       timeout=20, cwd=str(ROOT))
    assert p.returncode == 1, (p.returncode, p.stderr[-2000:])
    out = p.stdout + p.stderr
    assert "audit_checkpoint_file" in out and "in use" in out, out[-2000:]
    c = subprocess.run([str(NRMCTL), "audit", "checkpoint", "--key",
                        str(key_file), "--checkpoints", str(cp_file)],
                       capture_output=True, text=True,
                       env=clean_env({"NRM_DATABASE_URL":
                                      first.config["database_url"]}),
                       timeout=20)
    assert c.returncode == 1 and "in use" in c.stderr, c.stderr[-2000:]
    first.assert_running()
