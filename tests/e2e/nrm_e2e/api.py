"""Requests to nrmd and checks of its answers: headers, the signal
endpoints, the RFC 9457 problem and receipt shapes, polling an endpoint,
the metrics page.
"""

import json
import re
import time
import uuid

import requests

from .env import ROOT

AUTO = object()  # "make a fresh Idempotency-Key"


def auth(key):
    """The Authorization header of a Key (or of a bare token string)."""
    return {"Authorization": "Bearer " + getattr(key, "token", key)}


def signal_headers(token, idem=AUTO, content_type="application/json",
                   extra=None):
    h = {}
    if content_type is not None:
        h["Content-Type"] = content_type
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if idem is AUTO:
        h["Idempotency-Key"] = "e2e-" + uuid.uuid4().hex
    elif idem is not None:
        h["Idempotency-Key"] = idem
    if extra:
        h.update(extra)
    return h


def encode(body):
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def post_signal(base, token, body, idem=AUTO, content_type="application/json",
                extra_headers=None, timeout=15, session=None, verify=True):
    """POST /v1/signals; `base` is a Daemon or a base URL."""
    url = (base.url if hasattr(base, "url") else base) + "/v1/signals"
    http = session or requests
    return http.post(
        url,
        data=encode(body),
        headers=signal_headers(token, idem, content_type, extra_headers),
        timeout=timeout,
        verify=verify,
    )


def get_receipt(base, token, signal_id, timeout=10, verify=True):
    url = (base.url if hasattr(base, "url") else base) + "/v1/signals/" + \
        str(signal_id)
    h = {"Authorization": "Bearer " + token} if token else {}
    return requests.get(url, headers=h, timeout=timeout, verify=verify)


UNSET = object()


def assert_problem(r, status, code, field=UNSET):
    """`r` is an RFC 9457 problem with this status, code and field."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/problem+json", ctype
    rid = r.headers.get("X-Request-Id")
    assert rid, "no X-Request-Id header"
    p = r.json()
    assert p.get("type") == "urn:nrm:problem:" + code, p
    assert p.get("status") == status, p
    assert isinstance(p.get("title"), str) and p["title"], p
    assert isinstance(p.get("detail"), str) and p["detail"], p
    assert p.get("request_id") == rid, (p, rid)
    if field is None:
        assert "field" not in p, p
    elif field is not UNSET:
        assert p.get("field") == field, p
    return p


RECEIPT_KEYS = {
    "signal_id",
    "case_id",
    "region",
    "priority",
    "rule_id",
    "received_at",
    "notification_only",
    "reference",
}

def rule_ids():
    """Ids a routing decision may name: the foundation router's, and every
    rule of the routing configuration the daemon loads by default."""
    ids = {"foundation.municipality", "foundation.national"}
    rules = ROOT / "config" / "routing" / "rules.json"
    if rules.exists():
        ids |= {r["id"] for r in json.loads(rules.read_text())["rules"]}
    return ids


UUID_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_UTC_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def assert_receipt(r):
    """A 201 with Location and a well-formed receipt; returns the receipt."""
    assert r.status_code == 201, (r.status_code, r.text[:500])
    assert r.headers.get("Content-Type", "").split(";")[0].strip() == \
        "application/json", r.headers
    assert r.headers.get("X-Request-Id")
    rec = r.json()
    assert set(rec) == RECEIPT_KEYS, rec
    assert UUID_RE.match(rec["signal_id"]), rec
    assert r.headers.get("Location") == "/v1/signals/" + rec["signal_id"]
    assert RFC3339_UTC_RE.match(rec["received_at"]), rec
    assert isinstance(rec["notification_only"], bool)
    if rec["notification_only"]:
        assert rec["case_id"] is None, rec
    else:
        assert UUID_RE.match(rec["case_id"] or ""), rec
        assert rec["priority"] in ("urgent", "high", "normal"), rec
    assert re.match(r"^(VR(0[1-9]|1[0-9]|2[0-5])|NATIONAL)$",
                    rec["region"]), rec
    assert rec["rule_id"] in rule_ids(), rec
    return rec


def wait_http(d, path, status, timeout, what=None):
    """Poll GET `path` on daemon `d` until it answers `status`; returns
    that response.  The failure names the last answer seen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        d.assert_running()
        try:
            r = requests.get(d.url + path, timeout=3)
            last = "%d %s" % (r.status_code, r.text[:200])
            if r.status_code == status:
                return r
        except requests.RequestException as e:
            last = repr(e)[:300]
        time.sleep(0.05)
    raise AssertionError("%s: no %d from %s within %ss; last answer: %s" % (
        what or path, status, path, timeout, last))




def ok(r, status=200):
    """`r` answered `status`; its JSON body."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    return r.json()


def pages(d, key, path, limit, most, **params):
    """GET path with key page by page (limit, the cursor from each
    answer's next_cursor) until the last: yields (answer, its JSON body)
    for each, every one a 200; fails after `most` pages."""
    cursor = None
    for _ in range(most):
        p = dict(params, limit=limit)
        if cursor:
            p["cursor"] = cursor
        r = requests.get(d.url + path, params=p, headers=auth(key),
                         timeout=15)
        body = ok(r)
        yield r, body
        cursor = body["next_cursor"]
        if cursor is None:
            return
    raise AssertionError("more than %d pages of %s" % (most, path))


def queries_and_ticks(d):
    """From one /metrics read of daemon `d`: the queries it has sent and
    its periodic jobs' ticks in all.  The jobs query on their own clocks:
    a test that counts its own queries takes only a window in which the
    ticks did not move (or allows one query a tick)."""
    text = requests.get(d.url + "/metrics", timeout=10).text
    q = re.search(r"^nrm_db_queries_total (\d+)$", text, re.M)
    ticks = re.findall(r"^nrm_job_ticks_total\{[^}]*\} (\d+)$", text,
                       re.M)
    assert q and ticks, text[:3000]
    return int(q.group(1)), sum(int(t) for t in ticks)


def metric(d, name):
    """The value of counter `name` on daemon `d`'s /metrics page."""
    text = requests.get(d.url + "/metrics", timeout=5).text
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    assert m, "no metric %s" % name
    return int(m.group(1))
