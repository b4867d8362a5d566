"""People (issue 11) over the real daemon: the admin endpoints create a
person with a one-time enrolment code, POST /v1/enrol sets a password and
a TOTP secret (RFC 6238, computed here with hmac/hashlib), POST
/v1/session logs in on the TLS listener and sets the __Host- cookie, and
the session then acts like a key of the person's role: reads the inbox,
takes and hands over a case, with CSRF and Origin on every unsafe
request.  Failures all say 'login failed' and take the same time whether
the login exists or not; lockout, idle and absolute expiry, logout,
disable and reset end sessions; the person is in the audit; no password,
code, token or cookie reaches a log line or an audit row."""

import datetime
import hashlib
import json
import random
import re
import secrets as pysecrets
import statistics
import time
import urllib.parse
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, auth, metric
from nrm_e2e.cases import new_case
from nrm_e2e.daemon import DaemonPool
from nrm_e2e.openapi import load_openapi, validator
from nrm_e2e.person import totp
from nrm_e2e.pg import create_key, key_id

COOKIE = "__Host-nrm_session"
LOGIN_FAILED = "login failed"

# Logins from 127.0.0.1 would lock the address in the shared daemon
# (the timing test alone fails 30 times), and hold back every later
# failure by the backoff's longest delay: the lock and the backoff have
# their own tests, with their own daemons.
SHARED_CONFIG = {"login_lock_after": "1000", "login_backoff_base_ms": "0"}

# The backoff's own daemons: 1 s from the third failure in a row,
# doubling up to 4 s (the fifth); no lock in the way.  The delays are
# long beside a login's own time on a busy machine (up to 2 s seen).
BACKOFF_CONFIG = {"login_lock_after": "1000", "login_backoff_after": "3",
                  "login_backoff_base_ms": "1000",
                  "login_backoff_max_ms": "4000"}


# --------------------------------------------------------------------------
# helpers


def step_now():
    return int(time.time()) // 30


class Person:
    """A person made through the admin endpoint (and maybe enrolled)."""

    def __init__(self, login, pid, code):
        self.login = login
        self.id = pid
        self.code = code
        self.password = None
        self.secret = None
        self.recovery = []
        self.uri = None
        self.steps = []  # steps this test already used

    def next_code(self):
        """A code of a step not used yet: now, else now+1.  Never now-1:
        a login that crosses a step boundary on a busy machine would
        send a code two steps old, which the server rightly refuses."""
        now = step_now()
        for s in (now, now + 1):
            if not self.steps or s > max(self.steps):
                self.steps.append(s)
                return totp(self.secret, s)
        time.sleep(31 - time.time() % 30)
        return self.next_code()

    def fresh_code(self):
        """A code the server would accept now (as next_code), for a login
        that must fail for another reason (disabled, reset): the step is
        left unused, as the server leaves it (auth.login_finish stores a
        step only when it opens a session), for the next login."""
        code = self.next_code()
        self.steps.pop()
        return code


class World:
    def __init__(self, d, cluster):
        self.d = d
        self.cluster = cluster
        sfx = uuid.uuid4().hex[:6]
        self.admin = create_key(cluster, "admin", "Beheer People " + sfx,
                                "other")
        self.auditor = create_key(cluster, "auditor",
                                  "Toezicht People " + sfx, "other")
        self.reporter = create_key(cluster, "reporter",
                                   "Politie People " + sfx, "police")
        self.co13 = create_key(cluster, "coordinator",
                               "Zorgcoordinatie People " + sfx,
                               "care_agency", regions=("VR13",))
        self.agency = cluster.scalar(
            "select agency_id from auth.api_key where id = '%s'"
            % key_id(cluster, self.co13))
        self.secrets = []  # every secret the module sent or received

    def create(self, role="coordinator", regions=("VR13",), name=None):
        login = "p" + uuid.uuid4().hex[:12]
        r = requests.post(self.d.url + "/v1/admin/persons",
                          headers=auth(self.admin), timeout=15, json={
                              "login": login,
                              "display_name": name or "Medewerker "
                              + login[-4:],
                              "agency_id": self.agency, "role": role,
                              "regions": list(regions)})
        assert r.status_code == 201, r.text
        b = r.json()
        assert b["login"] == login and b["status"] == "active", b
        code = b["enrolment_code"]
        assert re.fullmatch(r"[A-Z2-7]{32}", code), code
        self.secrets.append(code)
        return Person(login, b["id"], code)

    def enrol(self, p, password=None):
        # cracklib calls about 1 in 2,000 random passwords of this shape
        # "too simplistic/systematic": a test that is not about the
        # policy draws another one (at most five) rather than flake.
        for _ in range(1 if password else 5):
            p.password = password or "Vlinder-" + pysecrets.token_urlsafe(12)
            self.secrets.append(p.password)
            r = requests.post(self.d.url + "/v1/enrol", timeout=30, json={
                "enrolment_code": p.code, "password": p.password})
            if r.status_code != 422 or password:
                break
        assert r.status_code == 201, r.text
        b = r.json()
        assert set(b) == {"login", "otpauth_uri", "otpauth_qr",
                          "recovery_codes"}, b
        u = urllib.parse.urlparse(b["otpauth_uri"])
        q = urllib.parse.parse_qs(u.query)
        assert u.scheme == "otpauth" and u.netloc == "totp", u
        assert urllib.parse.unquote(u.path) == "/nrm:" + p.login, u
        assert q["issuer"] == ["nrm"] and q["digits"] == ["6"], q
        assert q["period"] == ["30"] and q["algorithm"] == ["SHA1"], q
        p.secret = q["secret"][0]
        p.recovery = b["recovery_codes"]
        p.uri = b["otpauth_uri"]
        assert len(p.recovery) == 10 and len(set(p.recovery)) == 10
        self.secrets += [p.secret] + p.recovery
        return b

    def person(self, **kw):
        p = self.create(**kw)
        self.enrol(p)
        return p

    def login(self, p, code=None, recovery=None, password=None, d=None):
        body = {"login": p.login if p else "nobody-" + uuid.uuid4().hex[:8],
                "password": password or (p.password if p else "x" * 20)}
        if recovery is not None:
            body["recovery_code"] = recovery
        else:
            body["totp"] = code if code is not None else p.next_code()
        d = d or self.d
        return requests.post(d.tls_url + "/v1/session", json=body,
                             timeout=30, verify=str(d.pki["cert"]))

    def session(self, p, d=None):
        """Log in; (cookie value, csrf token, answer body)."""
        r = self.login(p, d=d)
        assert r.status_code == 201, r.text
        cookie = cookie_of(r)
        b = r.json()
        self.secrets += [cookie, b["csrf_token"]]
        return cookie, b["csrf_token"], b


def cookie_of(r):
    m = re.match(COOKIE + r"=([A-Za-z0-9_-]{43});",
                 r.headers.get("Set-Cookie", ""))
    assert m, r.headers.get("Set-Cookie")
    return m.group(1)


def with_cookie(d, method, path, cookie, csrf=None, origin=True, **kw):
    h = {"Cookie": "%s=%s" % (COOKIE, cookie)}
    if csrf is not None:
        h["X-CSRF-Token"] = csrf
    if origin:
        h["Origin"] = d.config.get("public_origin") or d.tls_url
    h.update(kw.pop("headers", {}))
    return requests.request(method, d.tls_url + path, headers=h,
                            timeout=30, verify=str(d.pki["cert"]), **kw)


def assert_login_failed(r):
    assert_problem(r, 401, "unauthenticated")
    assert r.json()["detail"] == LOGIN_FAILED, r.text
    assert "Set-Cookie" not in r.headers


def same_failure(a, b):
    """Two failed logins say the same (request ids set aside)."""
    ja, jb = a.json(), b.json()
    ja.pop("request_id", None)
    jb.pop("request_id", None)
    return a.status_code == b.status_code and ja == jb


@pytest.fixture(scope="module")
def pdaemon(workdir, cluster, pki):
    pool = DaemonPool(workdir, cluster, pki)
    d = pool(config=SHARED_CONFIG)
    yield d
    pool.close()


@pytest.fixture(scope="module")
def w(pdaemon, cluster):
    return World(pdaemon, cluster)


# --------------------------------------------------------------------------
# enrolment


def test_enrolment_code_works_once(w):
    p = w.create()
    w.enrol(p)
    r = requests.post(w.d.url + "/v1/enrol", timeout=30, json={
        "enrolment_code": p.code, "password": "Andere-" + uuid.uuid4().hex})
    assert_problem(r, 400, "bad_request", "enrolment_code")
    # an unknown code and a malformed one say the same
    for code in ("A" * 32, "not a code"):
        u = requests.post(w.d.url + "/v1/enrol", timeout=30, json={
            "enrolment_code": code, "password": "Andere-" + uuid.uuid4().hex})
        assert_problem(u, 400, "bad_request", "enrolment_code")
        assert u.json()["detail"] == r.json()["detail"]


def test_enrolment_body_is_strict_and_policy_applies(w):
    p = w.create(name="Jan Pietersen")
    url = w.d.url + "/v1/enrol"
    r = requests.post(url, timeout=30, json={"enrolment_code": p.code})
    assert_problem(r, 422, "validation", "password")
    r = requests.post(url, timeout=30, json={
        "enrolment_code": p.code, "password": "Vlinder-12345678",
        "extra": 1})
    assert r.status_code in (400, 422) and r.json().get("field") == "extra"
    for weak in ("short1!", "password1234", p.login + "2024!!"):
        r = requests.post(url, timeout=30, json={
            "enrolment_code": p.code, "password": weak})
        assert_problem(r, 422, "validation", "password")
    # the refusals did not use the code up
    w.enrol(p)


# --------------------------------------------------------------------------
# login


def test_login_sets_the_cookie_and_says_who(w):
    p = w.person()
    before = metric(w.d, "nrm_sessions_created_total")
    r = w.login(p)
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["person"]["login"] == p.login, b
    assert b["person"]["role"] == "coordinator"
    assert b["person"]["regions"] == ["VR13"]
    assert b["csrf_token"] and b["idle_expires_at"] and b["expires_at"]
    sc = r.headers["Set-Cookie"]
    attrs = [a.strip() for a in sc.split(";")]
    assert attrs[0].startswith(COOKIE + "=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in attrs, sc
    assert not any(a.lower().startswith("domain") for a in attrs), sc
    cookie = cookie_of(r)
    w.secrets += [cookie, b["csrf_token"]]
    g = with_cookie(w.d, "GET", "/v1/session", cookie)
    assert g.status_code == 200, g.text
    assert g.json()["person"]["id"] == p.id
    assert metric(w.d, "nrm_sessions_created_total") == before + 1


def test_login_refused_on_the_plain_listener(w):
    p = w.person()
    r = requests.post(w.d.url + "/v1/session", timeout=30, json={
        "login": p.login, "password": p.password, "totp": p.next_code()})
    assert_problem(r, 403, "forbidden")
    assert "HTTPS" in r.json()["detail"]
    assert "Set-Cookie" not in r.headers


def test_every_failure_says_login_failed(w):
    p = w.person()
    before = metric(w.d, "nrm_login_failures_total")
    bad_pw = w.login(p, password="Verkeerd-" + uuid.uuid4().hex)
    bad_code = w.login(p, code="%06d" % ((int(totp(p.secret, step_now()))
                                          + 1) % 1000000))
    unknown = w.login(None, code="123456")
    for r in (bad_pw, bad_code, unknown):
        assert_login_failed(r)
    assert same_failure(bad_pw, bad_code) and same_failure(bad_pw, unknown)
    assert metric(w.d, "nrm_login_failures_total") == before + 3


def test_replayed_code_is_refused(w):
    p = w.person()
    code = p.next_code()
    assert w.login(p, code=code).status_code == 201
    assert_login_failed(w.login(p, code=code))
    assert w.cluster.count(
        "select count(*) from audit.event where action = 'person.login' "
        "and outcome = 'denied' and reason = 'replay' and person_id = '%s'"
        % p.id) == 1


def test_recovery_code_works_once(w):
    p = w.person()
    rc = p.recovery[3]
    r = w.login(p, recovery=rc)
    assert r.status_code == 201, r.text
    assert_login_failed(w.login(p, recovery=rc))
    # typed loosely: upper case, no dashes
    r = w.login(p, recovery=p.recovery[4].upper().replace("-", ""))
    assert r.status_code == 201, r.text


def test_login_body_is_strict(w):
    p = w.person()
    url = w.d.tls_url + "/v1/session"
    v = str(w.d.pki["cert"])
    r = requests.post(url, json={"login": p.login, "password": "x"},
                      timeout=30, verify=v)
    assert_problem(r, 422, "validation", "totp")
    r = requests.post(url, json={"login": p.login, "password": "x",
                                 "totp": "123456", "recovery_code": "x"},
                      timeout=30, verify=v)
    assert_problem(r, 422, "validation", "totp")
    r = requests.post(url, json={"login": 5, "password": "x",
                                 "totp": "123456"}, timeout=30, verify=v)
    assert_problem(r, 422, "validation", "login")


JUNK = [None, True, 0, -1, 1.5, [], {}, ["a"], {"a": 1}, "", " ", "\u0000",
        "x" * 257, "x" * 1025, "\u00e9" * 300, "123456", "'; drop table x",
        "\ud800", "a\nb"]


def test_login_and_enrolment_bodies_never_break(w):
    """Property test: random bodies of POST /v1/session and /v1/enrol
    (members missing, of any JSON type, too long, unpaired surrogates,
    unknown members, not JSON at all) get 400, 401 or 422 problems that
    echo nothing sent, never a 5xx or a cookie; the daemon keeps
    serving."""
    rng = random.Random(11)
    p = w.person()
    cases = [("/v1/session", ("login", "password", "totp",
                              "recovery_code"), w.d.tls_url),
             ("/v1/enrol", ("enrolment_code", "password"), w.d.url)]
    for i in range(120):
        path, keys, base = cases[i % 2]
        body = {}
        for k in keys:
            if rng.random() < 0.8:
                body[k] = rng.choice(JUNK + [p.login, p.password, p.code])
        if rng.random() < 0.2:
            body[rng.choice(["extra", "Login", "totp "])] = "x"
        data = json.dumps(body) if rng.random() < 0.9 else \
            rng.choice(["{", "[]", "null", '{"login":"a",}', "\xff"])
        r = requests.post(base + path, data=data.encode("utf-8", "replace"),
                          headers={"Content-Type": "application/json"},
                          timeout=30, verify=str(w.d.pki["cert"]))
        assert r.status_code in (400, 401, 422), (i, body, r.text[:300])
        assert "Set-Cookie" not in r.headers, (i, body)
        prob = r.json()
        for v in body.values():
            if isinstance(v, str) and len(v) >= 6:
                assert v not in prob.get("detail", ""), (i, body, prob)
    assert requests.get(w.d.url + "/healthz", timeout=5).status_code == 200


def test_unknown_and_known_login_take_the_same_time(w):
    """Medians of 15 interleaved pairs of failed logins (known login,
    wrong password; unknown login) within a factor of 2."""
    p = w.person()
    known, unknown = [], []
    for i in range(15):
        pair = [("k", lambda: w.login(p, password="Fout-%d-" % i
                                      + uuid.uuid4().hex, code="000000")),
                ("u", lambda: w.login(None, code="000000"))]
        if i % 2:
            pair.reverse()
        for kind, fn in pair:
            t0 = time.monotonic()
            r = fn()
            dt = time.monotonic() - t0
            assert_login_failed(r)
            (known if kind == "k" else unknown).append(dt)
    mk, mu = statistics.median(known), statistics.median(unknown)
    assert max(mk, mu) / min(mk, mu) < 2.0, (mk, mu)


# --------------------------------------------------------------------------
# sessions


def test_logout_ends_the_session_and_clears_the_cookie(w):
    p = w.person()
    cookie, csrf, _ = w.session(p)
    r = with_cookie(w.d, "DELETE", "/v1/session", cookie)
    assert_problem(r, 403, "forbidden", "X-CSRF-Token")
    r = with_cookie(w.d, "DELETE", "/v1/session", cookie, csrf=csrf)
    assert r.status_code == 204, r.text
    sc = r.headers["Set-Cookie"]
    assert sc.startswith(COOKIE + "=;") and "Max-Age=0" in sc, sc
    assert with_cookie(w.d, "GET", "/v1/session", cookie).status_code == 401


def test_a_key_has_no_session(w):
    r = requests.get(w.d.url + "/v1/session", headers=auth(w.co13),
                     timeout=15)
    assert_problem(r, 404, "not_found")


def test_disable_ends_sessions_enable_and_reset(w):
    """Reset ends the sessions and the credentials (a code the old secret
    makes for a fresh step is refused) and a new enrolment logs in; then
    disable ends the sessions and refuses a right login, enable lets it
    in again.  Reset comes first: the new secret starts with no step
    used, so no login here waits for the next 30 s step."""
    p = w.person()
    base = w.d.url + "/v1/admin/persons/" + p.id
    cookie, _, _ = w.session(p)
    r = requests.post(base + "/reset", headers=auth(w.admin), timeout=15)
    assert r.status_code == 200, r.text
    code = r.json()["enrolment_code"]
    w.secrets.append(code)
    assert code != p.code
    assert with_cookie(w.d, "GET", "/v1/session", cookie).status_code == 401
    # credentials are gone: the old password with a code of the old
    # secret that the login before the reset would have accepted
    assert_login_failed(w.login(p, code=p.fresh_code()))
    p.code, p.steps = code, []
    w.enrol(p)
    cookie2, _, _ = w.session(p)
    r = requests.post(base + "/disable", headers=auth(w.admin), timeout=15)
    assert r.status_code == 200 and r.json()["status"] == "disabled", r.text
    assert with_cookie(w.d, "GET", "/v1/session", cookie2).status_code == 401
    assert_login_failed(w.login(p, code=p.fresh_code()))
    r = requests.post(base + "/enable", headers=auth(w.admin), timeout=15)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    w.session(p)
    g = requests.get(base, headers=auth(w.admin), timeout=15)
    assert g.status_code == 200 and g.json()["login"] == p.login
    lst = requests.get(w.d.url + "/v1/admin/persons?limit=200",
                       headers=auth(w.admin), timeout=15)
    assert lst.status_code == 200, lst.text
    assert "password" not in lst.text and code not in lst.text


def test_admin_endpoints_need_the_admin_role(w):
    r = requests.get(w.d.url + "/v1/admin/persons", headers=auth(w.co13),
                     timeout=15)
    assert_problem(r, 403, "forbidden")
    r = requests.post(w.d.url + "/v1/admin/persons", headers=auth(w.admin),
                      timeout=15, json={"login": "x", "role": "coordinator",
                                        "agency_id": "nope"})
    assert_problem(r, 422, "validation", "agency_id")


def test_session_acts_like_a_key_of_its_role(w):
    """A coordinator person reads the inbox, takes a case (CSRF and
    Origin needed), finds it under mine=true, hands it over to a
    colleague of VR13 (not to a VR17 one); the audit names the person."""
    a = w.person()
    b = w.person()
    c17 = w.person(regions=("VR17",))
    cookie, csrf, _ = w.session(a)
    case_id = new_case(w.d, w.reporter, "VR13")["case_id"]
    r = with_cookie(w.d, "GET", "/v1/inbox?limit=200", cookie)
    assert r.status_code == 200, r.text
    assert case_id in r.text
    take = "/v1/cases/%s/take" % case_id
    r = with_cookie(w.d, "POST", take, cookie)
    assert_problem(r, 403, "forbidden", "X-CSRF-Token")
    r = with_cookie(w.d, "POST", take, cookie, csrf=csrf, origin=False)
    assert_problem(r, 403, "forbidden", "Origin")
    r = with_cookie(w.d, "POST", take, cookie, csrf=csrf)
    assert r.status_code == 200, r.text
    etag = r.headers["ETag"]
    r = with_cookie(w.d, "GET", "/v1/inbox?state=taken&mine=true", cookie)
    assert r.status_code == 200 and case_id in r.text, r.text
    hand = "/v1/cases/%s/handover" % case_id
    r = with_cookie(w.d, "POST", hand, cookie, csrf=csrf,
                    json={"person": c17.id})
    assert_problem(r, 422, "validation", "person")
    r = with_cookie(w.d, "POST", hand, cookie, csrf=csrf,
                    headers={"If-Match": '"999"'}, json={"person": b.id})
    assert r.status_code == 412, r.text
    r = with_cookie(w.d, "POST", hand, cookie, csrf=csrf,
                    headers={"If-Match": etag}, json={"person": b.id})
    assert r.status_code == 200, r.text
    r = with_cookie(w.d, "GET", "/v1/inbox?state=taken&mine=true", cookie)
    assert r.status_code == 200 and case_id not in r.text
    cb, _, _ = w.session(b)
    r = with_cookie(w.d, "GET", "/v1/inbox?state=taken&mine=true", cb)
    assert r.status_code == 200 and case_id in r.text, r.text
    r = requests.get(w.d.url + "/v1/audit?person=%s&limit=200" % a.id,
                     headers=auth(w.auditor), timeout=15)
    assert r.status_code == 200, r.text
    actions = {i["action"] for i in r.json()["items"]}
    assert {"person.login", "case.take", "case.handover"} <= actions, actions
    assert all(i["person_id"] == a.id for i in r.json()["items"])


def case_choices(w, cookie, what, schema):
    """GET /v1/cases/{id}/<what> of a new VR13 case in the session of
    cookie, valid against `schema`: (case id, path, items)."""
    case_id = new_case(w.d, w.reporter, "VR13")["case_id"]
    path = "/v1/cases/%s/%s" % (case_id, what)
    r = with_cookie(w.d, "GET", path, cookie)
    assert r.status_code == 200, r.text
    validator(load_openapi(), schema).validate(r.json())
    return case_id, path, r.json()["items"]


def assert_out_of_reach(w, path, c17):
    """path is a 404 for c17, a coordinator of VR17 only, and a 403 for
    the reporter."""
    c17_cookie, _, _ = w.session(c17)
    r = with_cookie(w.d, "GET", path, c17_cookie)
    assert_problem(r, 404, "not_found")
    r = requests.get(w.d.url + path, headers=auth(w.reporter), timeout=15)
    assert_problem(r, 403, "forbidden")


def test_colleagues_and_held_by_me(w):
    """GET /v1/cases/{id}/colleagues names the active coordinator persons
    of the case's region but the caller (id and display name only): not
    a disabled one, not one of another region; out of the caller's
    regions it is a 404.  GET /v1/cases/{id} says held_by_me for the
    holder only; the handover to a listed colleague moves it."""
    a = w.person(name="Ada Colleague")
    b = w.person(name="Bea Colleague")
    off = w.create(name="Off Colleague")
    c17 = w.person(regions=("VR17",))
    r = requests.post(w.d.url + "/v1/admin/persons/%s/disable" % off.id,
                      headers=auth(w.admin), timeout=15)
    assert r.status_code == 200, r.text
    cookie, csrf, _ = w.session(a)
    case_id, path, items = case_choices(w, cookie, "colleagues",
                                        "Colleagues")
    assert all(set(i) == {"person_id", "display_name"} for i in items)
    by_id = {i["person_id"]: i["display_name"] for i in items}
    assert by_id.get(b.id) == "Bea Colleague", items
    assert a.id not in by_id and off.id not in by_id
    assert c17.id not in by_id
    names = [i["display_name"] for i in items]
    assert names == sorted(names), names
    assert_out_of_reach(w, path, c17)

    def held(ck):
        g = with_cookie(w.d, "GET", "/v1/cases/%s" % case_id, ck,
                        headers={"NRM-Purpose": "care"})
        assert g.status_code == 200, g.text
        return g.json()["case"]["held_by_me"], g.headers["ETag"]

    assert held(cookie)[0] is False
    r = with_cookie(w.d, "POST", "/v1/cases/%s/take" % case_id, cookie,
                    csrf=csrf)
    assert r.status_code == 200, r.text
    cb, _, _ = w.session(b)
    assert held(cookie)[0] is True
    assert held(cb)[0] is False
    r = with_cookie(w.d, "POST", "/v1/cases/%s/handover" % case_id, cookie,
                    csrf=csrf, headers={"If-Match": held(cookie)[1]},
                    json={"person": b.id})
    assert r.status_code == 200, r.text
    assert held(cookie)[0] is False
    assert held(cb)[0] is True


def test_share_targets(w):
    """GET /v1/cases/{id}/share-targets lists the agencies with an active
    investigator key (id, name, kind), by name, not one without; the
    share takes a listed agency; out of the caller's regions it is a
    404, for a reporter a 403."""
    sfx = uuid.uuid4().hex[:6]
    inv = create_key(w.cluster, "investigator", "Recherche Share " + sfx,
                     "kmar")
    inv_agency = w.cluster.scalar(
        "select agency_id from auth.api_key where id = '%s'"
        % key_id(w.cluster, inv))
    reporter_agency = w.cluster.scalar(
        "select agency_id from auth.api_key where id = '%s'"
        % key_id(w.cluster, w.reporter))
    a = w.person(name="Ada Sharer")
    cookie, csrf, _ = w.session(a)
    case_id, path, items = case_choices(w, cookie, "share-targets",
                                        "ShareTargets")
    assert all(set(i) == {"agency_id", "name", "kind"} for i in items)
    by_id = {i["agency_id"]: i for i in items}
    assert by_id.get(inv_agency) == {
        "agency_id": inv_agency, "name": "Recherche Share " + sfx,
        "kind": "kmar"}, items
    assert reporter_agency not in by_id
    names = [i["name"] for i in items]
    assert names == sorted(names), names
    r = with_cookie(w.d, "POST", "/v1/cases/%s/share" % case_id, cookie,
                    csrf=csrf, json={"agency_id": inv_agency,
                                     "consent": True})
    assert r.status_code == 200, r.text
    assert r.json()["agency_id"] == inv_agency
    r = with_cookie(w.d, "POST", "/v1/cases/%s/share" % case_id, cookie,
                    csrf=csrf, json={"agency_id": reporter_agency,
                                     "consent": True})
    assert_problem(r, 422, "validation")
    assert_out_of_reach(w, path, w.person(regions=("VR17",)))


def test_answers_match_the_openapi_schemas(w):
    """Each people answer against its schema in nrm-api/openapi.yaml."""
    doc = load_openapi()
    r = requests.post(w.d.url + "/v1/admin/persons", headers=auth(w.admin),
                      timeout=15, json={
                          "login": "s" + uuid.uuid4().hex[:12],
                          "display_name": "Schema Medewerker",
                          "agency_id": w.agency, "role": "coordinator",
                          "regions": ["VR13"]})
    assert r.status_code == 201, r.text
    validator(doc, "PersonEnrolment").validate(r.json())
    p = Person(r.json()["login"], r.json()["id"], r.json()["enrolment_code"])
    w.secrets.append(p.code)
    validator(doc, "Enrolment").validate(w.enrol(p))
    r = w.login(p)
    assert r.status_code == 201, r.text
    validator(doc, "LoginAnswer").validate(r.json())
    cookie = cookie_of(r)
    w.secrets += [cookie, r.json()["csrf_token"]]
    g = with_cookie(w.d, "GET", "/v1/session", cookie)
    validator(doc, "Session").validate(g.json())
    base = w.d.url + "/v1/admin/persons"
    validator(doc, "Person").validate(requests.get(
        base + "/" + p.id, headers=auth(w.admin), timeout=15).json())
    validator(doc, "PersonPage").validate(requests.get(
        base + "?limit=2", headers=auth(w.admin), timeout=15).json())


# --------------------------------------------------------------------------
# lockout and expiry (own daemons with short times)


def test_lockout_and_its_expiry(w, nrmd_factory):
    d = nrmd_factory(config={"login_lock_after": "3",
                             "login_lock_window": "60",
                             "login_lock_duration": "6"})
    p = w.person()
    # The client address (127.0.0.1) is counted too: the failures of the
    # module's earlier tests (the timing test alone makes 30) would lock
    # the address at once and, when four slow logins outlast its 6 s,
    # lock it again: a second lock this test does not make.  Forget them,
    # so that every failure below is this test's own.
    w.cluster.sql("delete from auth.login_failure "
                  "where client_addr = '127.0.0.1'; "
                  "delete from auth.login_lock where kind = 'address'")
    fails = []
    lock_events = ("select count(*) from audit.event "
                   "where action = 'person.lock'")
    for i in range(3):
        locks = metric(d, "nrm_login_locks_total")
        events = w.cluster.count(lock_events)
        fails.append(w.login(p, password="Fout-" + uuid.uuid4().hex,
                             code="000000", d=d))
        assert_login_failed(fails[-1])
        # a failure that locked (the login and the client address lock
        # together at the third) is counted once
        locked = w.cluster.count(lock_events) > events
        assert locked == (i == 2)
        assert metric(d, "nrm_login_locks_total") == locks + locked
    # the current step: still within the drift after the lock
    p.steps.append(step_now())
    code = totp(p.secret, p.steps[-1])
    fails.append(w.login(p, code=code, d=d))
    assert_login_failed(fails[-1])  # locked; no new lock counted
    assert metric(d, "nrm_login_locks_total") == locks + 1
    # the failure that locked says byte for byte what the others say
    # (request ids set aside): locked_now never reaches the client
    assert bare(fails[2]) == bare(fails[0]) == bare(fails[3])
    assert b"locked" not in fails[2].content
    assert fails[2].headers.get("Content-Length") == \
        fails[0].headers.get("Content-Length")
    assert w.cluster.count(
        "select count(*) from audit.event where action = 'person.lock' "
        "and person_id = '%s'" % p.id) == 1
    time.sleep(6.5)
    r = w.login(p, code=code, d=d)
    assert r.status_code == 201, r.text


def test_idle_and_absolute_expiry(w, nrmd_factory):
    """Idle: a session unused for session_idle_timeout is over.  The
    lifetime is shown with idle = lifetime: the answer's expires_at is
    login + session_lifetime, and then the session is over (the busy
    session under a short idle timeout is the next test)."""
    d = nrmd_factory(config={"session_idle_timeout": "2",
                             "session_lifetime": "600",
                             "login_lock_after": "1000"})
    p = w.person()
    cookie, _, _ = w.session(p, d=d)
    assert with_cookie(d, "GET", "/v1/session", cookie).status_code == 200
    time.sleep(3)
    assert_problem(with_cookie(d, "GET", "/v1/session", cookie), 401,
                   "unauthenticated")
    d2 = nrmd_factory(config={"session_idle_timeout": "4",
                              "session_lifetime": "4",
                              "login_lock_after": "1000"})
    t0 = time.time()
    cookie, _, b = w.session(p, d=d2)
    exp = datetime.datetime.fromisoformat(
        b["expires_at"].replace("Z", "+00:00")).timestamp()
    assert abs(exp - (t0 + 4)) < 2, (b, t0)
    assert with_cookie(d2, "GET", "/v1/session", cookie).status_code == 200
    time.sleep(max(0, exp - time.time()) + 1.2)
    assert_problem(with_cookie(d2, "GET", "/v1/session", cookie), 401,
                   "unauthenticated")
    assert w.cluster.count(
        "select count(*) from audit.event where action = 'session.read' "
        "and reason = 'session_expired' and person_id = '%s'" % p.id) >= 1


def test_busy_session_outlives_a_short_idle_timeout(w, nrmd_factory):
    """The database refreshes last_seen_at every min(30 s, idle / 4): with
    session_idle_timeout = 4 a session used every second for 8 s (twice
    the idle timeout) stays alive, and one left alone for 6 s is refused
    with 401, audited session_expired."""
    d = nrmd_factory(config={"session_idle_timeout": "4",
                             "session_lifetime": "60",
                             "login_lock_after": "1000"})
    p = w.person()
    busy, _, _ = w.session(p, d=d)
    r = w.login(p, recovery=p.recovery[0], d=d)  # no wait for a step
    assert r.status_code == 201, r.text
    idle = cookie_of(r)
    w.secrets += [idle, r.json()["csrf_token"]]
    t0 = time.time()
    while time.time() - t0 < 8:
        r = with_cookie(d, "GET", "/v1/session", busy)
        assert r.status_code == 200, (time.time() - t0, r.text)
        time.sleep(1)
    assert time.time() - t0 >= 6
    assert_problem(with_cookie(d, "GET", "/v1/session", idle), 401,
                   "unauthenticated")
    assert with_cookie(d, "GET", "/v1/session", busy).status_code == 200
    assert w.cluster.count(
        "select count(*) from audit.event where action = 'session.read' "
        "and reason = 'session_expired' and person_id = '%s'" % p.id) == 1
    assert w.cluster.count(
        "select count(*) from auth.session where person_id = '%s' "
        "and end_reason = 'expired'" % p.id) == 1


# --------------------------------------------------------------------------
# progressive backoff (own daemons: its counts are per process)


def bare(r):
    """A failed login's bytes, the request id set aside."""
    return re.sub(rb'"request_id":"[^"]*"', b"", r.content)


def timed_failures(w, d, n, login):
    """n failed logins by `login()` on d: (answers, seconds each)."""
    out, took = [], []
    for _ in range(n):
        t0 = time.monotonic()
        r = login()
        took.append(time.monotonic() - t0)
        assert_login_failed(r)
        out.append(r)
    return out, took


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
def test_backoff_holds_back_repeated_failures(w, nrmd_factory, known):
    """From the third failure in a row the 401 comes later and later
    (1, 2, 4 s): the fifth takes at least 4 s and at least 2 s more than
    the slower of the first two, for a known login (wrong password) as
    for an unknown one, with the same bytes; nrm_login_backoff_total
    counts the three held back."""
    d = nrmd_factory(config=BACKOFF_CONFIG)
    if known:
        p = w.person()
        fails, took = timed_failures(w, d, 5, lambda: w.login(
            p, password="Fout-" + uuid.uuid4().hex, code="000000", d=d))
    else:
        name = "nobody-" + uuid.uuid4().hex[:8]
        fails, took = timed_failures(w, d, 5, lambda: requests.post(
            d.tls_url + "/v1/session", timeout=30,
            verify=str(d.pki["cert"]), json={
                "login": name, "password": "x" * 20, "totp": "000000"}))
    assert took[4] >= 4.0 and took[4] >= max(took[:2]) + 2.0, took
    assert took[3] >= 2.0 and took[2] >= 1.0, took
    assert len({bare(r) for r in fails}) == 1, [r.content for r in fails]
    assert fails[4].headers["Content-Length"] == \
        fails[0].headers["Content-Length"]
    assert metric(d, "nrm_login_backoff_total") == 3
    assert metric(d, "nrm_login_failures_total") == 5


def test_backoff_per_address_and_a_correct_login(w, nrmd_factory):
    """The right password and code are never held back (only the lock
    refuses them), and a success starts the counts again; three failures
    of three different logins from one address are held back like three
    of one login."""
    d = nrmd_factory(config=BACKOFF_CONFIG)
    p = w.person()
    timed_failures(w, d, 4, lambda: w.login(
        p, password="Fout-" + uuid.uuid4().hex, code="000000", d=d))
    assert metric(d, "nrm_login_backoff_total") == 2
    r = w.login(p, d=d)
    assert r.status_code == 201, r.text
    w.secrets += [cookie_of(r), r.json()["csrf_token"]]
    assert metric(d, "nrm_login_backoff_total") == 2
    # counts start again: two failures are not held back...
    timed_failures(w, d, 2, lambda: w.login(
        p, password="Fout-" + uuid.uuid4().hex, code="000000", d=d))
    assert metric(d, "nrm_login_backoff_total") == 2
    # ... and the third of the address, another (unknown) login, is
    _, took = timed_failures(w, d, 1, lambda: w.login(None, code="000000",
                                                      d=d))
    assert metric(d, "nrm_login_backoff_total") == 3
    assert took[0] >= 1.0, took


# --------------------------------------------------------------------------
# secrets stay out of the log and the audit (last: it reads what the
# module sent)


def test_no_secret_in_log_or_audit(w):
    assert w.secrets
    log = w.d.log_text()
    rows = "\n".join(r[0] for r in w.cluster.sql(
        "select e::text from audit.event e"))
    for s in w.secrets:
        assert s not in log, "a secret in the log"
        assert s not in rows, "a secret in an audit row"
        h = hashlib.sha256(s.encode()).hexdigest()
        assert h not in log and h not in rows
