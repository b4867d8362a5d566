"""A person's side of issue 11 for the end-to-end tests: TOTP codes
(RFC 6238) and a logged-in session (cookie and CSRF token)."""

import base64
import hashlib
import hmac
import re
import struct

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
