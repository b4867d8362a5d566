"""Authentication and authorisation: bearer tokens, revocation, roles,
and the audit row every denied attempt leaves."""

import base64
import os
import re
import uuid

import requests

from nrm_e2e.api import (
    assert_problem, assert_receipt, get_receipt, post_signal)
from nrm_e2e.pg import create_key, key_id
from nrm_e2e.signals import adult_signal


def audit_rows(db, request_id):
    return db.count("select count(*) from audit.event where request_id = "
                    "'%s'" % request_id)


def assert_401(r):
    p = assert_problem(r, 401, "unauthenticated")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), \
        r.headers
    return p


def test_no_token_401(nrmd, db, keys):
    before = db.counts()
    r = post_signal(nrmd, None, adult_signal())
    assert_401(r)
    assert db.counts() == before
    r = get_receipt(nrmd, None, str(uuid.uuid4()))
    assert_401(r)


def test_malformed_authorization_401(nrmd, db, keys):
    before = db.counts()
    tok = keys["reporter"].token
    for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer",
                  "Bearer " + tok + " extra", "Token " + tok,
                  "Bearer " + tok[:-1], "Bearer " + "A" * 5000,
                  "Bearer " + tok.upper() if tok != tok.upper()
                  else "Bearer " + tok.lower()):
        r = requests.post(nrmd.url + "/v1/signals",
                          data=b'{"consent":"given"}',
                          headers={"Authorization": value,
                                   "Content-Type": "application/json",
                                   "Idempotency-Key": "e2e-" +
                                   uuid.uuid4().hex},
                          timeout=10)
        assert_401(r)
    assert db.counts() == before


def well_formed_unknown_token():
    """A token of the real shape ("nrm_" + 43 base64url) that no key has,
    so that it is looked up (and the denial audited), not refused by
    its shape alone."""
    raw = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return "nrm_" + raw


def test_token_shape(keys):
    for k in keys.values():
        assert re.match(r"^nrm_[A-Za-z0-9_-]{43}$", k.token)
    assert keys["reporter"].token != keys["reporter_same_agency"].token


def test_unknown_token_401_and_audited(nrmd, db, keys):
    before = db.counts()
    fake = well_formed_unknown_token()
    r = post_signal(nrmd, fake, adult_signal())
    assert_401(r)
    assert db.counts() == before
    assert audit_rows(db, r.headers["X-Request-Id"]) >= 1


def test_401_does_not_reveal_whether_object_exists(nrmd, keys):
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token,
                                     adult_signal()))
    fake = well_formed_unknown_token()
    a = get_receipt(nrmd, fake, rec["signal_id"])
    b = get_receipt(nrmd, fake, str(uuid.uuid4()))
    pa, pb = assert_401(a), assert_401(b)
    for k in ("type", "title", "status", "detail"):
        assert pa[k] == pb[k]


def test_revoked_key_401_on_next_request(nrmd, db, cluster):
    key = create_key(cluster, "reporter", "Marechaussee Schiphol", "kmar")
    rec = assert_receipt(post_signal(nrmd, key.token, adult_signal()))
    assert get_receipt(nrmd, key.token, rec["signal_id"]).status_code == 200

    cluster.nrmctl("key", "revoke", key_id(db, key))

    before = db.counts()
    r = post_signal(nrmd, key.token, adult_signal())
    assert_401(r)
    assert db.counts() == before
    assert audit_rows(db, r.headers["X-Request-Id"]) >= 1
    assert_401(get_receipt(nrmd, key.token, rec["signal_id"]))
    # revoking twice is harmless and the key stays revoked
    cluster.nrmctl("key", "revoke", key_id(db, key), check=False)
    assert_401(post_signal(nrmd, key.token, adult_signal()))


def test_key_list_shows_keys_without_tokens(cluster, keys):
    out = cluster.nrmctl("key", "list").stdout
    for k in keys.values():
        assert k.token not in out
    assert "reporter" in out and "coordinator" in out


def test_wrong_role_403_and_audited(nrmd, db, keys):
    for who in ("coordinator", "analyst"):
        before = db.counts()
        r = post_signal(nrmd, keys[who].token, adult_signal())
        assert_problem(r, 403, "forbidden")
        assert db.counts() == before, who
        assert audit_rows(db, r.headers["X-Request-Id"]) >= 1, who
        assert db.count(
            "select count(*) from audit.event where request_id = '%s' "
            "and outcome = 'denied'" % r.headers["X-Request-Id"]) >= 1, who


def test_wrong_role_403_does_not_reveal_whether_object_exists(nrmd, keys):
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token,
                                     adult_signal()))
    a = get_receipt(nrmd, keys["coordinator"].token, rec["signal_id"])
    b = get_receipt(nrmd, keys["coordinator"].token, str(uuid.uuid4()))
    assert a.status_code == b.status_code == 403, (a.status_code,
                                                   b.status_code)
    pa = assert_problem(a, 403, "forbidden")
    pb = assert_problem(b, 403, "forbidden")
    for k in ("type", "title", "status", "detail"):
        assert pa[k] == pb[k]


def test_receipt_read_is_audited(nrmd, db, keys):
    rec = assert_receipt(post_signal(nrmd, keys["reporter"].token,
                                     adult_signal()))
    g = get_receipt(nrmd, keys["reporter"].token, rec["signal_id"])
    assert g.status_code == 200
    assert audit_rows(db, g.headers["X-Request-Id"]) >= 1
    # so is the denied read by another agency
    g = get_receipt(nrmd, keys["reporter_other"].token, rec["signal_id"])
    assert g.status_code == 404
    assert audit_rows(db, g.headers["X-Request-Id"]) >= 1


def test_health_endpoints_need_no_token(nrmd):
    r = requests.get(nrmd.url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers.get("X-Request-Id")
    r = requests.get(nrmd.url + "/readyz", timeout=5)
    assert r.status_code == 200
    j = r.json()
    assert j["status"] == "ready" and isinstance(j["schema_version"], int)
    assert j["schema_version"] >= 1
