"""The session edge (issue 11), before the database knows sessions: the
__Host-nrm_session cookie is read like a bearer token (its SHA-256 goes
to the database, which answers 401 for an unknown one and audits it),
and an unsafe request made with it needs X-CSRF-Token (HMAC of the
cookie under a key derived from the pseudonym key) and the public Origin,
else 403 naming the header, refused before the database and not audited.
Bearer requests are unaffected.  No cookie, CSRF token or token hash
reaches the log."""

import base64
import hashlib
import hmac
import os
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, assert_receipt, post_signal
from nrm_e2e.signals import adult_signal

COOKIE = "__Host-nrm_session"


def b64url(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_cookie():
    return b64url(os.urandom(32))


def hkdf_sha256(ikm, info, length=32):
    """RFC 5869 with no salt (nrm_hkdf_sha256)."""
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def csrf_token(d, cookie):
    """What nrmd expects in X-CSRF-Token for this cookie."""
    key = bytes.fromhex(open(d.config["pseudonym_key_file"]).read().strip())
    csrf_key = hkdf_sha256(key, b"nrm csrf v1")
    return b64url(hmac.new(csrf_key, cookie.encode(),
                           hashlib.sha256).digest())


def origin(d):
    return d.config.get("public_origin") or d.tls_url


def audit_rows(db, request_id):
    return db.count("select count(*) from audit.event where request_id = "
                    "'%s'" % request_id)


def post_with_cookie(d, cookie, headers=None, url=None):
    h = {"Cookie": "%s=%s" % (COOKIE, cookie),
         "Content-Type": "application/json",
         "Idempotency-Key": "e2e-" + uuid.uuid4().hex}
    h.update(headers or {})
    return requests.post((url or d.url) + "/v1/signals",
                         data=b'{"consent":"given"}', headers=h, timeout=10,
                         verify=str(d.pki["cert"]))


@pytest.fixture(scope="module")
def secrets():
    """Every secret the module sends, for the log scan at the end."""
    return []


def test_cookie_get_is_looked_up_like_a_bearer(nrmd, db, secrets):
    """A well-formed unknown session cookie on a GET: 401 from the
    database (the same answer as an unknown bearer token), audited.  A
    cookie per listener: the database's refusal of one is cached (issue
    14, docs/operations.md "Limits"), so its repeat within
    reject_cache_ttl is refused at the edge and not audited again."""
    for base in (nrmd.url, nrmd.tls_url):
        cookie = new_cookie()
        secrets.append(cookie)
        r = requests.get(base + "/v1/signals/" + str(uuid.uuid4()),
                         headers={"Cookie": "%s=%s" % (COOKIE, cookie)},
                         timeout=10, verify=str(nrmd.pki["cert"]))
        assert_problem(r, 401, "unauthenticated")
        assert audit_rows(db, r.headers["X-Request-Id"]) >= 1
    r = requests.get(nrmd.tls_url + "/v1/signals/" + str(uuid.uuid4()),
                     headers={"Cookie": "%s=%s" % (COOKIE, cookie)},
                     timeout=10, verify=str(nrmd.pki["cert"]))
    assert_problem(r, 401, "unauthenticated")
    assert audit_rows(db, r.headers["X-Request-Id"]) == 0


def test_malformed_cookie_is_absent(nrmd, db):
    """A malformed or doubled session cookie counts as no credential:
    401 at the edge on field Authorization, nothing audited."""
    good = new_cookie()
    for value in ("%s=%s" % (COOKIE, good[:-1]),
                  "%s=%s=" % (COOKIE, good),
                  '%s="%s"' % (COOKIE, good),
                  "%s=%s; %s=%s" % (COOKIE, good, COOKIE, new_cookie()),
                  "nrm_session=%s" % good):
        r = requests.get(nrmd.url + "/v1/signals/" + str(uuid.uuid4()),
                         headers={"Cookie": value}, timeout=10)
        assert_problem(r, 401, "unauthenticated", "Authorization")
        assert audit_rows(db, r.headers["X-Request-Id"]) == 0


def test_cookie_post_without_csrf_is_403(nrmd, db, secrets):
    cookie = new_cookie()
    secrets.append(cookie)
    before = db.counts()
    for headers in ({"Origin": origin(nrmd)},
                    {"Origin": origin(nrmd), "X-CSRF-Token": ""},
                    {"Origin": origin(nrmd), "X-CSRF-Token": cookie},
                    {"Origin": origin(nrmd),
                     "X-CSRF-Token": csrf_token(nrmd, new_cookie())}):
        r = post_with_cookie(nrmd, cookie, headers)
        p = assert_problem(r, 403, "forbidden", "X-CSRF-Token")
        assert cookie not in r.text
        assert audit_rows(db, r.headers["X-Request-Id"]) == 0
    assert db.counts() == before


def test_cookie_post_from_another_origin_is_403(nrmd, db, secrets):
    cookie = new_cookie()
    csrf = csrf_token(nrmd, cookie)
    secrets.extend([cookie, csrf])
    before = db.counts()
    for headers in ({"X-CSRF-Token": csrf},
                    {"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
                    {"X-CSRF-Token": csrf, "Origin": "null"},
                    {"X-CSRF-Token": csrf, "Origin": nrmd.url}):
        r = post_with_cookie(nrmd, cookie, headers)
        assert_problem(r, 403, "forbidden", "Origin")
        assert csrf not in r.text and cookie not in r.text
        assert audit_rows(db, r.headers["X-Request-Id"]) == 0
    assert db.counts() == before


def test_cookie_post_with_csrf_and_origin_reaches_the_database(
        nrmd, db, secrets):
    """Past the edge, an unknown session is the database's 401 (audited),
    on either listener (a cookie per listener: a refused one is cached,
    issue 14)."""
    before = db.counts()
    for url in (nrmd.url, nrmd.tls_url):
        cookie = new_cookie()
        csrf = csrf_token(nrmd, cookie)
        secrets.extend([cookie, csrf])
        r = post_with_cookie(nrmd, cookie, {"X-CSRF-Token": csrf,
                                            "Origin": origin(nrmd)}, url)
        assert_problem(r, 401, "unauthenticated")
        assert audit_rows(db, r.headers["X-Request-Id"]) >= 1
    assert db.counts() == before


def test_bearer_post_unaffected(nrmd, keys, secrets):
    """A bearer token needs neither header and wins over a cookie."""
    tok = keys["reporter"].token
    assert_receipt(post_signal(nrmd, tok, adult_signal()))
    cookie = new_cookie()
    secrets.append(cookie)
    r = post_signal(nrmd, tok, adult_signal(), extra_headers={
        "Cookie": "%s=%s" % (COOKIE, cookie),
        "Origin": "https://evil.example"})
    assert_receipt(r)


def test_nothing_secret_in_the_log(nrmd, secrets):
    """Runs last in the module: no cookie value, CSRF token or token hash
    (hex or base64) in any log line."""
    assert secrets, "the tests above sent no secrets"
    text = nrmd.log_text()
    assert text
    for s in secrets:
        h = hashlib.sha256(s.encode()).digest()
        for form in (s, h.hex(), b64url(h),
                     base64.b64encode(h).decode()):
            assert form not in text, "a secret reached the log"
    assert COOKIE not in text


def test_openapi_documents_the_session(doc):
    """The cookie scheme beside the bearer one, and X-CSRF-Token on every
    unsafe operation."""
    scheme = doc["components"]["securitySchemes"]["session"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == \
        ("apiKey", "cookie", COOKIE)
    assert {"bearer": []} in doc["security"]
    assert {"session": []} in doc["security"]
    param = doc["components"]["parameters"]["X-CSRF-Token"]
    assert (param["in"], param["name"]) == ("header", "X-CSRF-Token")
    ref = "#/components/parameters/X-CSRF-Token"
    unsafe = 0
    for path, item in doc["paths"].items():
        for m, op in item.items():
            if m not in ("post", "put", "patch", "delete"):
                continue
            unsafe += 1
            refs = [p.get("$ref") for p in op.get("parameters", [])]
            assert ref in refs, (m, path)
    assert unsafe >= 10
