"""A person's side of issue 11 for the end-to-end tests: TOTP codes
(RFC 6238) and a logged-in session (cookie and CSRF token)."""

import base64
import hashlib
import hmac
import re
import struct
import uuid

import requests


def totp(secret_b32, step):
    """RFC 6238: HOTP (RFC 4226) of the step, SHA-1, 6 digits."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return "%06d" % (code % 1000000)


class Session:
    """A person's session: the cookie and the CSRF token (issue 11)."""

    def __init__(self, d, login, password, recovery):
        self.d = d
        self.name = login
        self.password = password
        self.recovery = list(recovery)
        self.cookie = self.csrf = None

    def login(self, totp=None):
        """Log in with the code, else with an unused recovery code."""
        body = {"login": self.name, "password": self.password}
        if totp is not None:
            body["totp"] = totp
        else:
            body["recovery_code"] = self.recovery.pop()
        r = requests.post(self.d.tls_url + "/v1/session", json=body,
                          timeout=30, verify=str(self.d.pki["cert"]))
        assert r.status_code == 201, (r.status_code, r.text[:300])
        self.cookie = re.match(r"__Host-nrm_session=([^;]+);",
                               r.headers["Set-Cookie"]).group(1)
        self.csrf = r.json()["csrf_token"]

    def headers(self, method, csrf=True, origin=True):
        h = {"Cookie": "__Host-nrm_session=" + self.cookie}
        if method not in ("GET", "HEAD") and csrf:
            h["X-CSRF-Token"] = self.csrf
        if method not in ("GET", "HEAD") and origin:
            h["Origin"] = self.d.config.get("public_origin") or \
                self.d.tls_url
        return h


def enrol(d, code):
    """Enrol the person of enrolment code `code` on d with a new random
    password: (password, the 201 answer's body)."""
    import uuid

    for _ in range(5):  # the dictionary check refuses a random few
        password = "Paneel-" + base64.b32encode(
            uuid.uuid4().bytes).decode().rstrip("=").lower()
        r = requests.post(d.url + "/v1/enrol", timeout=30, json={
            "enrolment_code": code, "password": password})
        if r.status_code != 422:
            break
    assert r.status_code == 201, (r.status_code, r.text[:300])
    return password, r.json()


def enrolled_session(d, admin, agency_id, role, regions=(), name=None):
    """A new person of the agency and role, made by the admin key over
    HTTP, enrolled and logged in on d: (Session, person id)."""
    import time

    login = "p" + uuid.uuid4().hex[:12]
    r = requests.post(d.url + "/v1/admin/persons", timeout=30,
                      headers={"Authorization": "Bearer " + admin.token},
                      json={"login": login,
                            "display_name": name or "Medewerker " + login[-4:],
                            "agency_id": agency_id, "role": role,
                            "regions": list(regions)})
    assert r.status_code == 201, (r.status_code, r.text[:300])
    pid, code = r.json()["id"], r.json()["enrolment_code"]
    password, enrolled = enrol(d, code)
    secret = re.search(r"secret=([A-Z2-7]+)",
                       enrolled["otpauth_uri"]).group(1)
    s = Session(d, login, password, enrolled["recovery_codes"])
    s.login(totp=totp(secret, int(time.time()) // 30))
    return s, pid
