"""API keys over HTTP (issue 12): an admin makes a key with POST
/v1/admin/keys and gets its token once; the key works at once; listed,
it shows no token and no hash, and the persons' own keys are not in the
list; revoked, it is refused on its next request although nrmd had it in
its principal cache; each is audited with the acting key; the token is
never in the log, the audit log or the list."""

import hashlib
import re
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, auth
from nrm_e2e.daemon import one_daemon
from nrm_e2e.openapi import load_openapi, validator
from nrm_e2e.pg import create_key, key_id


@pytest.fixture(scope="module")
def kd(workdir, cluster, pki):
    # A long cache: a revocation must not wait for it.  one_daemon stops
    # and checks it at the module's end (a bare DaemonPool left it
    # running, its exit status and stderr never checked).
    yield from one_daemon(workdir, cluster, pki,
                          config={"auth_cache_ttl": "300"})


@pytest.fixture(scope="module")
def w(kd, cluster):
    sfx = uuid.uuid4().hex[:6]
    admin = create_key(cluster, "admin", "Beheer Keys " + sfx, "other")
    agency = cluster.scalar(
        "select agency_id from auth.api_key where id = '%s'"
        % key_id(cluster, admin))
    return {"d": kd, "c": cluster, "admin": admin, "agency": agency,
            "admin_id": key_id(cluster, admin), "tokens": []}


def make(w, **body):
    b = {"label": "Koppeling " + uuid.uuid4().hex[:6],
         "agency_id": w["agency"], "role": "auditor"}
    b.update(body)
    return requests.post(w["d"].url + "/v1/admin/keys",
                         headers=auth(w["admin"]), json=b, timeout=15)


def listing(w, **params):
    r = requests.get(w["d"].url + "/v1/admin/keys", params=params,
                     headers=auth(w["admin"]), timeout=15)
    assert r.status_code == 200, r.text
    return r.json()


def test_key_made_over_http_works_at_once_and_revoked_is_refused(w):
    doc = load_openapi()
    r = make(w, role="coordinator", regions=["VR13"])
    assert r.status_code == 201, r.text
    b = r.json()
    validator(doc, "ApiKeyCreated").validate(b)
    tok = b["token"]
    w["tokens"].append(tok)
    assert re.fullmatch(r"nrm_[A-Za-z0-9_-]{43}", tok), "token shape"
    assert b["role"] == "coordinator" and b["regions"] == ["VR13"]
    assert b["revoked_at"] is None
    assert b["created_by_key"] == w["admin_id"]
    assert b["created_by_person"] is None
    # Only the hash is stored, and it is the token's.
    h = hashlib.sha256(tok.encode()).hexdigest()
    assert w["c"].scalar("select encode(token_hash, 'hex') from "
                         "auth.api_key where id = '%s'" % b["id"]) == h
    # Works at once: the inbox of a VR13 coordinator (nrmd caches it).
    u = w["d"].url + "/v1/inbox"
    r = requests.get(u, headers={"Authorization": "Bearer " + tok},
                     timeout=15)
    assert r.status_code == 200, r.text
    rv = requests.post(w["d"].url + "/v1/admin/keys/%s/revoke" % b["id"],
                       headers=auth(w["admin"]), timeout=15)
    assert rv.status_code == 200, rv.text
    validator(doc, "ApiKey").validate(rv.json())
    assert rv.json()["revoked_at"] is not None
    assert "token" not in rv.json()
    # Refused on its next request although auth_cache_ttl is 300 s:
    # even a malformed request (which the cache alone would judge) is
    # a 401 now.
    r = requests.get(u, headers={"Authorization": "Bearer " + tok},
                     timeout=15)
    assert_problem(r, 401, "unauthenticated")
    r = requests.get(u + "?bogus=1",
                     headers={"Authorization": "Bearer " + tok}, timeout=15)
    assert_problem(r, 401, "unauthenticated")
    # Revoking again: still 200, the first revocation stands.
    again = requests.post(w["d"].url + "/v1/admin/keys/%s/revoke" % b["id"],
                          headers=auth(w["admin"]), timeout=15)
    assert again.status_code == 200
    assert again.json()["revoked_at"] == rv.json()["revoked_at"]
    # Audited with the acting key.
    n = w["c"].scalar(
        "select count(*) from audit.event where action in "
        "('key.create', 'key.revoke') and object_type = 'api_key' and "
        "object_id = '%s' and api_key_id = '%s' and outcome = 'allowed'"
        % (b["id"], w["admin_id"]))
    assert int(n) == 3, n


def test_list_pages_and_hides_secrets_and_persons_keys(w):
    doc = load_openapi()
    made = []
    for _ in range(3):
        r = make(w)
        assert r.status_code == 201, r.text
        w["tokens"].append(r.json()["token"])
        made.append(r.json()["id"])
    p = requests.post(w["d"].url + "/v1/admin/persons",
                      headers=auth(w["admin"]), timeout=15, json={
                          "login": "k" + uuid.uuid4().hex[:10],
                          "display_name": "Medewerker Sleutel",
                          "agency_id": w["agency"], "role": "auditor"})
    assert p.status_code == 201, p.text
    w["tokens"].append(p.json()["enrolment_code"])
    pkey = w["c"].scalar("select key_id from auth.person where id = '%s'"
                         % p.json()["id"])
    seen, after = [], None
    while True:
        page = listing(w, limit=2, **({"after": after} if after else {}))
        validator(doc, "ApiKeyList").validate(page)
        assert len(page["items"]) <= 2
        for k in page["items"]:
            assert set(k) >= {"id", "label", "role", "agency_id", "regions",
                              "created_at", "created_by_key", "revoked_at"}
            assert "token" not in k and "token_hash" not in k
        seen += [k["id"] for k in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == len(set(seen))
    assert set(made) <= set(seen)
    assert w["admin_id"] in seen
    assert pkey not in seen, "a person's own key in the list"
    # A person's own key is not revocable here.
    r = requests.post(w["d"].url + "/v1/admin/keys/%s/revoke" % pkey,
                      headers=auth(w["admin"]), timeout=15)
    assert_problem(r, 404, "not_found")


def test_create_validates_each_field(w):
    for body, field in (
            ({"label": ""}, "label"),
            ({"label": 7}, "label"),
            ({"agency_id": "nope"}, "agency_id"),
            ({"agency_id": str(uuid.uuid4())}, "agency_id"),
            ({"role": "king"}, "role"),
            ({"role": "coordinator"}, "regions"),
            ({"regions": ["VR13"]}, "regions"),
            ({"role": "coordinator", "regions": ["XX99"]}, "regions"),
            ({"role": "coordinator", "regions": ["vr13"]}, "regions")):
        assert_problem(make(w, **body), 422, "validation", field)
    r = make(w, extra=1)
    assert r.status_code in (400, 422), r.text
    r = requests.get(w["d"].url + "/v1/admin/keys", params={"after": "x"},
                     headers=auth(w["admin"]), timeout=15)
    assert_problem(r, 400, "bad_request", "after")
    r = requests.get(w["d"].url + "/v1/admin/keys", params={"limit": "0"},
                     headers=auth(w["admin"]), timeout=15)
    assert_problem(r, 400, "bad_request", "limit")
    r = requests.post(w["d"].url + "/v1/admin/keys/%s/revoke" % uuid.uuid4(),
                      headers=auth(w["admin"]), timeout=15)
    assert_problem(r, 404, "not_found")


def test_no_token_in_log_audit_or_list(w):
    assert w["tokens"]
    log = w["d"].log_text()
    rows = "\n".join(r[0] for r in w["c"].sql(
        "select e::text from audit.event e"))
    page = requests.get(w["d"].url + "/v1/admin/keys?limit=200",
                        headers=auth(w["admin"]), timeout=15).text
    for s in w["tokens"]:
        h = hashlib.sha256(s.encode()).hexdigest()
        for where, text in (("log", log), ("audit", rows), ("list", page)):
            assert s not in text, "a token in the " + where
            assert h not in text, "a token hash in the " + where
