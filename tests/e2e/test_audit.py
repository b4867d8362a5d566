"""The audit log end to end (issue 6), against the real daemon.

- The three audit endpoints (GET /v1/audit, /v1/audit/verify,
  /v1/audit/checkpoints): only auditors, every denial audited; every
  search filter filters, newest first, bounded pages, a keyset cursor
  without duplicates or gaps, and the search is itself audited; verify
  agrees with audit.chain; signed checkpoints appear with a signing key
  and `nrmctl audit verify --checkpoints` accepts them.
- Every personal-data endpoint leaves exactly the expected audit events,
  allowed and denied (one table, EXPECTED below).
- The NRM-Purpose header of GET /v1/cases/{id}.
- After the whole session, no audit event holds personal data
  (test_no_personal_data_in_audit_log, run last by conftest.py).

The shared session cluster is never tampered with: tampering is tested
in tests/db (pgTAP) and tests/db/audit_cli.sh."""

import base64
import concurrent.futures
import hashlib
import datetime
import json
import os
import re
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, assert_receipt, post_signal
from nrm_e2e.cases import AMSTERDAM, new_case
from nrm_e2e.env import NRMCTL, clean_env, run, wait_for
from nrm_e2e.pg import create_key, key_id
from nrm_e2e.sealed import all_values
from nrm_e2e.signals import PERSONAL, PERSONAL_FRAGMENTS, adult_signal


# Identification rationale: free text about a person, so it must never
# reach the audit log (the scan also looks for every rationale stored).
RATIONALE = ("Gesprek op de Kraaiennestkade: schuld bij werkgever "
             "Drupelmaat, paspoort afgenomen")
assert "'" not in RATIONALE  # interpolated into SQL below

REQUEST_ID_RE = re.compile(r"^[0-9A-Za-z._-]{1,64}$")
RFC3339_MICRO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
ITEM_KEYS = {"id", "at", "api_key_id", "agency_id", "role", "action",
             "object_type", "object_id", "purpose", "outcome", "reason",
             "request_id", "client_addr", "person_id", "pos"}
OTHER_ROLES = ("reporter", "coordinator", "assessor", "investigator",
               "analyst", "admin")
AUDIT_PATHS = {
    "/v1/audit": "audit.search",
    "/v1/audit/verify": "audit.verify",
    "/v1/audit/checkpoints": "audit.checkpoints.read",
}


# --------------------------------------------------------------------------
# helpers


def bearer(key):
    if key is None:
        return {}
    token = key if isinstance(key, str) else key.token
    return {"Authorization": "Bearer " + token}


def send(d, key, method, path, body=None, headers=None, params=None):
    h = bearer(key)
    if headers:
        h.update(headers)
    return requests.request(method, d.url + path, headers=h, params=params,
                            json=body, timeout=20)


def rid(r):
    v = r.headers.get("X-Request-Id", "")
    assert REQUEST_ID_RE.match(v), "bad X-Request-Id %r" % v
    return v


def events(db, request_id):
    """Every audit event of one request, oldest first, as dicts."""
    assert REQUEST_ID_RE.match(request_id), request_id
    out = db.scalar(
        "select coalesce(json_agg(to_jsonb(e) order by e.id), '[]') "
        "from audit.event e where e.request_id = '%s'" % request_id)
    return json.loads(out)


def one_event(db, r):
    ev = events(db, rid(r))
    assert len(ev) == 1, ev
    return ev[0]


def fake_token():
    """A well-formed token no key has: looked up, and the 401 audited."""
    raw = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return "nrm_" + raw


def today(offset=0):
    return (datetime.datetime.now(datetime.timezone.utc).date() +
            datetime.timedelta(days=offset)).isoformat()


def search(d, key, **params):
    return send(d, key, "GET", "/v1/audit", params=params)


def search_ok(d, key, **params):
    r = search(d, key, **params)
    assert r.status_code == 200, (params, r.status_code, r.text[:500])
    body = r.json()
    assert set(body) == {"items", "next_after"}, body.keys()
    ids = [i["id"] for i in body["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids), \
        "not newest first: %s" % ids
    return body


def wait_sealed(db, timeout=15):
    """Wait until the sealer (every second) has chained every event."""
    wait_for(lambda: db.count("select count(*) from audit.unsealed") == 0,
             timeout, interval=0.1, what="the audit sealer")


@pytest.fixture(scope="module")
def ak(cluster, case_keys):
    """The principals of this module, each with `.id` (key) and `.agency_id`.
    Police A has a reporter and an investigator (so the investigator may
    refer to the reporter's signals); police B an investigator only."""
    suffix = uuid.uuid4().hex[:6]
    police_a = "Politie Zeeland " + suffix
    police_b = "Politie Twente " + suffix
    k = {
        "reporter": create_key(cluster, "reporter", police_a, "police"),
        "reporter_b": create_key(cluster, "reporter", police_b, "police"),
        "inv_a": create_key(cluster, "investigator", police_a, "police"),
        "inv_b": create_key(cluster, "investigator", police_b, "police"),
        "auditor": create_key(cluster, "auditor",
                              "Autoriteit Persoonsgegevens " + suffix,
                              "other"),
        "admin": create_key(cluster, "admin", "Beheer " + suffix,
                            "national_centre"),
        "analyst": case_keys["analyst"],
        "co13": case_keys["co13"],
        "co17": case_keys["co17"],
        "assessor": case_keys["assessor"],
    }
    for key in k.values():
        key.id = key_id(cluster, key)
        key.agency_id = cluster.scalar(
            "select agency_id from auth.api_key where id = '%s'" % key.id)
    k["by_role"] = {
        "reporter": k["reporter"], "coordinator": k["co13"],
        "assessor": k["assessor"], "investigator": k["inv_a"],
        "analyst": k["analyst"], "admin": k["admin"],
    }
    return k


# --------------------------------------------------------------------------
# 1. the audit endpoints: auditors only, every denial audited


@pytest.mark.parametrize("path", sorted(AUDIT_PATHS))
def test_audit_endpoints_refuse_every_other_role(nrmd, db, ak, path):
    wrong = []
    for role in OTHER_ROLES:
        key = ak["by_role"][role]
        r = send(nrmd, key, "GET", path)
        assert_problem(r, 403, "forbidden")
        got = [{c: e[c] for c in ("action", "object_type", "object_id",
                                  "purpose", "outcome", "reason", "role",
                                  "agency_id", "api_key_id")}
               for e in events(db, rid(r))]
        want = [{"action": AUDIT_PATHS[path], "object_type": "audit",
                 "object_id": None, "purpose": None, "outcome": "denied",
                 "reason": "role_not_permitted", "role": role,
                 "agency_id": key.agency_id, "api_key_id": key.id}]
        if got != want:
            wrong.append("%s: got %s" % (role, got))
    assert not wrong, "%s: the denial events differ from %s:\n%s" % (
        path, want, "\n".join(wrong))


@pytest.mark.parametrize("path", sorted(AUDIT_PATHS))
def test_audit_endpoints_need_a_token(nrmd, db, path):
    # no token at all: refused at the edge by its shape (docs/sql-api.md:
    # only a token that is looked up is audited)
    r = send(nrmd, None, "GET", path)
    assert_problem(r, 401, "unauthenticated")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert events(db, rid(r)) == []
    # a well-formed unknown token: looked up, refused, audited
    r = send(nrmd, fake_token(), "GET", path)
    assert_problem(r, 401, "unauthenticated")
    e = one_event(db, r)
    assert (e["action"], e["outcome"], e["reason"]) == (
        AUDIT_PATHS[path], "denied", "unknown_token"), e
    assert e["api_key_id"] is None and e["agency_id"] is None, e
    assert e["role"] is None, e


def test_auditor_uses_the_three_endpoints_and_each_is_audited(nrmd, db, ak):
    a = ak["auditor"]
    want = {
        "/v1/audit": ("audit.search", "audit", "audit"),
        "/v1/audit/verify": ("audit.verify", "audit", "audit"),
        # api.record: an action that reads no personal data, no purpose
        "/v1/audit/checkpoints": ("audit.checkpoints.read", "audit", None),
    }
    for path, (action, otype, purpose) in want.items():
        r = send(nrmd, a, "GET", path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        e = one_event(db, r)
        assert (e["action"], e["object_type"], e["object_id"],
                e["purpose"], e["outcome"], e["reason"]) == (
            action, otype, None, purpose, "allowed", None), (path, e)
        assert (e["role"], e["agency_id"], e["api_key_id"]) == (
            "auditor", a.agency_id, a.id), (path, e)
        assert e["client_addr"] == "127.0.0.1", e


# --------------------------------------------------------------------------
# 1. GET /v1/audit: filters, order, paging


@pytest.fixture(scope="module")
def trail(nrmd, cluster, ak):
    """A known trail of events: two reporters of one new agency, one case
    read by three principals and taken.  {name: request id}, the case
    and signal ids, the agency and the reporters' keys."""
    suffix = uuid.uuid4().hex[:6]
    agency = "Arbeidsinspectie " + suffix
    rep1 = create_key(cluster, "reporter", agency, "labour_inspectorate")
    rep2 = create_key(cluster, "reporter", agency, "labour_inspectorate")
    for key in (rep1, rep2):
        key.id = key_id(cluster, key)
        key.agency_id = cluster.scalar(
            "select agency_id from auth.api_key where id = '%s'" % key.id)
    t = {"rep1": rep1, "rep2": rep2, "agency_id": rep1.agency_id}
    r = post_signal(nrmd, rep1.token, adult_signal(
        location={"municipality_code": AMSTERDAM}))
    rec = assert_receipt(r)
    t["create"] = rid(r)
    t["signal"], t["case"] = rec["signal_id"], rec["case_id"]
    steps = [
        ("receipt1", rep1, "GET", "/v1/signals/" + t["signal"], 200),
        ("receipt2", rep2, "GET", "/v1/signals/" + t["signal"], 200),
        ("inbox_denied", rep1, "GET", "/v1/inbox", 403),
        ("read_co13", ak["co13"], "GET", "/v1/cases/" + t["case"], 200),
        ("read_assessor", ak["assessor"], "GET", "/v1/cases/" + t["case"],
         200),
        ("read_co17", ak["co17"], "GET", "/v1/cases/" + t["case"], 404),
        ("take", ak["co13"], "POST", "/v1/cases/%s/take" % t["case"], 200),
    ]
    for name, key, method, path, status in steps:
        r = send(nrmd, key, method, path)
        assert r.status_code == status, (name, r.status_code, r.text[:300])
        t[name] = rid(r)
    t["at"] = {}
    for name in ("create", "read_co13", "read_assessor", "read_co17",
                 "take"):
        ev = events(cluster, t[name])
        assert len(ev) == 1, (name, ev)
        t["at"][name] = ev[0]["at"]
    return t


def rids(body):
    return [i["request_id"] for i in body["items"]]


def utc_micro(at):
    """An audit.event `at` from to_jsonb as RFC 3339 UTC, microseconds."""
    dt = datetime.datetime.fromisoformat(at)
    return dt.astimezone(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


# (filters, the trail's events they must return, newest first)
FILTER_CASES = [
    ("principal", lambda t: {"principal": t["rep1"].id},
     ["inbox_denied", "receipt1", "create"]),
    ("agency", lambda t: {"agency": t["agency_id"]},
     ["inbox_denied", "receipt2", "receipt1", "create"]),
    ("object", lambda t: {"object_type": "case", "object_id": t["case"]},
     ["take", "read_co17", "read_assessor", "read_co13"]),
    ("object_type_signal", lambda t: {"object_type": "signal",
                                      "object_id": t["signal"]},
     ["receipt2", "receipt1", "create"]),
    ("action", lambda t: {"action": "case.read", "object_id": t["case"]},
     ["read_co17", "read_assessor", "read_co13"]),
    ("purpose", lambda t: {"purpose": "identification",
                           "object_id": t["case"]},
     ["read_assessor"]),
    ("outcome_denied", lambda t: {"outcome": "denied",
                                  "object_id": t["case"]},
     ["read_co17"]),
    ("outcome_allowed", lambda t: {"outcome": "allowed",
                                   "principal": t["rep1"].id},
     ["receipt1", "create"]),
    ("from_to", lambda t: {"object_id": t["case"],
                           "from": utc_micro(t["at"]["read_assessor"]),
                           "to": utc_micro(t["at"]["take"])},
     ["read_co17", "read_assessor"]),
    ("combined", lambda t: {"agency": t["agency_id"],
                            "action": "signal.read_receipt",
                            "principal": t["rep2"].id},
     ["receipt2"]),
]


FILTER_COLUMNS = {"principal": "api_key_id", "agency": "agency_id",
                  "object_type": "object_type", "object_id": "object_id",
                  "action": "action", "purpose": "purpose",
                  "outcome": "outcome"}


def db_search(db, filters):
    """The request ids of the events matching `filters`, newest first,
    straight from audit.event."""
    cond = []
    for k, v in filters.items():
        assert "'" not in v
        if k in FILTER_COLUMNS:
            cond.append("%s::text = '%s'" % (FILTER_COLUMNS[k], v))
        else:
            cond.append("at %s '%s'::timestamptz"
                        % (">=" if k == "from" else "<", v))
    return [row[0] for row in db.sql(
        "select request_id from audit.event where %s order by id desc"
        % " and ".join(cond))]


@pytest.mark.parametrize("name,filters,want", FILTER_CASES,
                         ids=[c[0] for c in FILTER_CASES])
def test_search_filters(nrmd, db, ak, trail, name, filters, want):
    f = filters(trail)
    body = search_ok(nrmd, ak["auditor"], limit=200, **f)
    assert rids(body) == [trail[w] for w in want], (name, f, body["items"])
    assert body["next_after"] is None
    # the filter is the whole story: the database agrees, and it holds
    # events the filter left out
    assert db_search(db, f) == rids(body)
    assert db.count("select count(*) from audit.event") > len(want)


def test_search_time_window_is_from_inclusive_to_exclusive(nrmd, db, ak,
                                                          trail):
    at = trail["at"]
    f = {"object_type": "case", "object_id": trail["case"]}
    body = search_ok(nrmd, ak["auditor"], limit=200,
                     **dict(f, **{"from": utc_micro(at["read_co13"])}))
    assert rids(body) == [trail[n] for n in ("take", "read_co17",
                                             "read_assessor", "read_co13")]
    body = search_ok(nrmd, ak["auditor"], limit=200,
                     **dict(f, to=utc_micro(at["read_co13"])))
    assert rids(body) == []
    # an offset other than Z means the same instant
    plus2 = datetime.datetime.fromisoformat(at["take"]).astimezone(
        datetime.timezone(datetime.timedelta(hours=2)))
    body = search_ok(nrmd, ak["auditor"], limit=200,
                     **dict(f, to=plus2.isoformat(timespec="microseconds")))
    assert rids(body) == [trail[n] for n in ("read_co17", "read_assessor",
                                             "read_co13")]


def test_search_items_are_the_events(nrmd, db, ak, trail):
    wait_sealed(db)
    body = search_ok(nrmd, ak["auditor"], object_type="case",
                     object_id=trail["case"], action="case.read",
                     outcome="allowed", purpose="care")
    assert len(body["items"]) == 1, body
    item = body["items"][0]
    assert set(item) == ITEM_KEYS, sorted(item)
    assert item["person_id"] is None, item  # a key's event (issue 11)
    e = events(db, trail["read_co13"])[0]
    assert RFC3339_MICRO_RE.match(item["at"]), item
    assert item["at"] == utc_micro(e["at"]), (item, e)
    for k in ITEM_KEYS - {"at", "pos", "client_addr"}:
        assert item[k] == e[k], (k, item[k], e[k])
    assert item["client_addr"] == "127.0.0.1", item
    assert item["pos"] == db.count(
        "select pos from audit.chain where event_id = %d" % e["id"])
    assert (item["role"], item["api_key_id"]) == ("coordinator",
                                                  ak["co13"].id)


def test_search_newest_first_and_page_size(nrmd, db, ak, trail):
    total = db.count("select count(*) from audit.event")
    body = search_ok(nrmd, ak["auditor"])
    assert len(body["items"]) == min(50, total)  # the default
    body = search_ok(nrmd, ak["auditor"], limit=1)
    assert len(body["items"]) == 1
    assert body["next_after"] == body["items"][0]["id"]
    # two searches since `total`, each audited
    body = search_ok(nrmd, ak["auditor"], limit=200)
    assert len(body["items"]) == min(200, total + 2)
    ids = [i["id"] for i in body["items"]]
    want = [int(x[0]) for x in db.sql(
        "select id from audit.event where id <= %d order by id desc "
        "limit 200" % ids[0])]
    assert ids == want


@pytest.mark.parametrize("limit", ["0", "201", "1000", "-1", "ten", "",
                                   "1.5", "+5", "0x10"])
def test_search_limit_out_of_bounds_is_400(nrmd, ak, limit):
    r = search(nrmd, ak["auditor"], limit=limit)
    assert_problem(r, 400, "bad_request", "limit")


def test_search_cursor_pages_without_duplicates_or_gaps(nrmd, db, ak,
                                                       trail):
    # a filter with exactly 4 events, 2 a page: the second page is the
    # last and says so
    f = {"object_type": "case", "object_id": trail["case"]}
    p1 = search_ok(nrmd, ak["auditor"], limit=2, **f)
    assert p1["next_after"] == p1["items"][-1]["id"]
    p2 = search_ok(nrmd, ak["auditor"], limit=2,
                   cursor=str(p1["next_after"]), **f)
    assert p2["next_after"] is None
    assert rids(p1) + rids(p2) == [trail[n] for n in (
        "take", "read_co17", "read_assessor", "read_co13")]
    # unfiltered, while every page adds an audit.search event of its own:
    # the pages are contiguous in the log as it was at the first page
    pages, cursor = [], None
    for _ in range(3):
        params = {"limit": 20}
        if cursor is not None:
            params["cursor"] = str(cursor)
        body = search_ok(nrmd, ak["auditor"], **params)
        pages.append([i["id"] for i in body["items"]])
        cursor = body["next_after"]
        assert cursor is not None
    ids = [i for p in pages for i in p]
    assert len(ids) == len(set(ids)) == 60
    want = [int(x[0]) for x in db.sql(
        "select id from audit.event where id <= %d order by id desc "
        "limit 60" % ids[0])]
    assert ids == want
    # a page past the oldest event is empty and the last
    body = search_ok(nrmd, ak["auditor"], cursor="1")
    assert body == {"items": [], "next_after": None}


@pytest.mark.parametrize("cursor", ["abc", "-1", "1e3", "", " 12",
                                    "1" * 19, "99999999999999999999",
                                    "MTIz", "12;drop"])
def test_search_tampered_cursor_is_400(nrmd, ak, cursor):
    r = search(nrmd, ak["auditor"], cursor=cursor)
    assert_problem(r, 400, "bad_request", "cursor")


BAD_FILTERS = [
    ("principal", "not-a-uuid"),
    ("agency", "12345"),
    ("object_type", "Case"),
    ("object_id", "x" * 101),
    ("action", "read"),
    ("purpose", "marketing"),
    ("outcome", "maybe"),
    ("from", "2024-05-01"),
    ("to", "yesterday"),
]


@pytest.mark.parametrize("field,value", BAD_FILTERS,
                         ids=[f for f, _ in BAD_FILTERS])
def test_search_bad_filter_is_400_naming_it_and_audited(nrmd, db, ak, field,
                                                        value):
    r = search(nrmd, ak["auditor"], **{field: value})
    p = assert_problem(r, 400, "bad_request", field)
    assert len(value) < 6 or value not in p["detail"], p  # never echoed
    e = one_event(db, r)
    assert (e["action"], e["purpose"], e["outcome"], e["reason"],
            e["api_key_id"]) == ("audit.search", "audit", "failed",
                                 "bad_request", ak["auditor"].id), e


def test_search_from_not_before_to_is_400_on_to(nrmd, db, ak):
    r = search(nrmd, ak["auditor"], **{"from": "2024-05-02T00:00:00Z",
                                       "to": "2024-05-01T00:00:00Z"})
    assert_problem(r, 400, "bad_request", "to")
    assert one_event(db, r)["outcome"] == "failed"


def test_search_unknown_parameter_is_400_naming_it(nrmd, ak):
    r = search(nrmd, ak["auditor"], colour="blue")
    assert_problem(r, 400, "bad_request", "colour")


def test_search_is_itself_audited(nrmd, db, ak):
    a = ak["auditor"]
    first = search(nrmd, a, action="case.take", limit=3)
    assert first.status_code == 200
    e = one_event(db, first)
    assert (e["action"], e["object_type"], e["purpose"], e["outcome"],
            e["role"], e["agency_id"], e["api_key_id"]) == (
        "audit.search", "audit", "audit", "allowed", "auditor",
        a.agency_id, a.id), e
    # the search does not find its own event, the next one does
    assert rid(first) not in rids(first.json())
    body = search_ok(nrmd, a, action="audit.search", principal=a.id,
                     limit=1)
    assert rids(body) == [rid(first)]


# --------------------------------------------------------------------------
# 1. GET /v1/audit/verify and GET /v1/audit/checkpoints


def chain_head(db):
    rows = db.sql("select pos, encode(hash, 'hex') from audit.chain "
                  "order by pos desc limit 1")
    return (int(rows[0][0]), rows[0][1]) if rows else (0, None)


def test_verify_agrees_with_the_chain(nrmd, db, ak):
    wait_sealed(db)
    before = chain_head(db)
    r = send(nrmd, ak["auditor"], "GET", "/v1/audit/verify")
    assert r.status_code == 200, r.text[:500]
    v = r.json()
    assert v["intact"] is True and v["first_broken"] is None, v
    assert v["unchained"] == 0 and v["unsealed"] >= 0, v
    assert v["checkpoints"] is None, v  # this daemon signs none
    assert re.match(r"^[0-9a-f]{64}$", v["head_hash"]), v
    # the head it saw is the one the sealer left (or, should a sweeper
    # have written meanwhile, a later one), with the stored hash
    assert v["head_pos"] >= before[0] > 0, (v, before)
    if v["head_pos"] == before[0]:
        assert v["head_hash"] == before[1], (v, before)
    assert db.scalar("select encode(hash, 'hex') from audit.chain "
                     "where pos = %d" % v["head_pos"]) == v["head_hash"]
    anchor = db.count("select coalesce(max(purged_through_pos), 0) "
                      "from audit.retention")
    assert v["events"] == v["head_pos"] - anchor == db.count(
        "select count(*) from audit.chain where pos <= %d"
        % v["head_pos"]), v
    # the verification's own event is sealed after that head
    e = one_event(db, r)
    assert (e["action"], e["outcome"]) == ("audit.verify", "allowed"), e
    wait_sealed(db)
    assert db.count("select pos from audit.chain where event_id = %d"
                    % e["id"]) > v["head_pos"]


def test_checkpoints_without_a_signing_key(nrmd, ak):
    r = send(nrmd, ak["auditor"], "GET", "/v1/audit/checkpoints")
    assert r.status_code == 200, r.text[:300]
    assert r.json() == {"enabled": False, "public_key": None,
                        "checkpoints": []}


def checkpoint_message(cp):
    if "seq" not in cp:  # the old format (issue 6)
        return ("nrm-audit-checkpoint\n%d\n%s\n%s"
                % (cp["pos"], cp["hash"], cp["at"])).encode()
    # numbered and chained (issue 14)
    return ("nrm-audit-checkpoint-v2\n%d\n%s\n%d\n%s\n%s"
            % (cp["seq"], cp["prev"], cp["pos"], cp["hash"],
               cp["at"])).encode()


def test_signed_checkpoints(nrmd_factory, workdir, cluster, ak):
    from cryptography.hazmat.primitives.serialization import (
        load_pem_public_key,
    )

    db = cluster
    tag = uuid.uuid4().hex[:8]
    key_file = workdir / ("audit-key-%s.pem" % tag)
    pub_file = workdir / ("audit-pub-%s.pem" % tag)
    cp_file = workdir / ("audit-checkpoints-%s.jsonl" % tag)
    out = run([NRMCTL, "audit", "keygen", "--out", key_file],
              env=clean_env()).stdout
    assert "BEGIN PUBLIC KEY" in out, out
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    pub_file.write_text(out)
    d = nrmd_factory(config={"audit_signing_key_file": key_file,
                             "audit_checkpoint_file": cp_file,
                             "audit_checkpoint_interval": 1})
    a = ak["auditor"]

    def signed():
        # every call adds an event, so the head keeps moving
        r = send(d, a, "GET", "/v1/audit/checkpoints")
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        return body if len({c["pos"] for c in body["checkpoints"]}) >= 2 \
            else None

    body = wait_for(signed, 20, interval=0.3, what="two checkpoints")
    assert body["enabled"] is True
    assert body["public_key"].split() == out.split(), body["public_key"]
    pub = load_pem_public_key(body["public_key"].encode())
    cps = body["checkpoints"]
    assert [c["pos"] for c in cps] == sorted({c["pos"] for c in cps}), cps
    raw = cp_file.read_text().splitlines()
    for i, c in enumerate(cps):
        # each line numbered and chained to the bytes of the one before
        assert set(c) == {"seq", "prev", "pos", "hash", "at", "sig"}, c
        assert c["seq"] == i + 1, c
        assert c["prev"] == (hashlib.sha256(raw[i - 1].encode()).hexdigest()
                             if i > 0 else "0" * 64), (i, c)
        assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
                        c["at"]), c
        pub.verify(base64.b64decode(c["sig"], validate=True),
                   checkpoint_message(c))  # raises when it does not verify
        assert db.scalar("select encode(hash, 'hex') from audit.chain "
                         "where pos = %d" % c["pos"]) == c["hash"], c
    # the file outside the database holds the same lines
    lines = [json.loads(x) for x in cp_file.read_text().splitlines()]
    assert lines[:len(cps)] == cps
    # nrmctl verifies the chain against them, as the owner
    p = run([NRMCTL, "audit", "verify", "--checkpoints", cp_file,
             "--public-key", pub_file],
            env=clean_env({"NRM_DATABASE_URL": cluster.owner_url}))
    assert p.stdout.startswith("intact, "), p.stdout
    m = re.search(r"(\d+) checkpoint\(s\) verified", p.stdout)
    assert m and int(m.group(1)) >= len(lines), p.stdout
    # and so does the daemon, with its own checkpoints
    r = send(d, a, "GET", "/v1/audit/verify")
    assert r.status_code == 200, r.text[:300]
    v = r.json()
    assert v["intact"] is True, v
    assert v["checkpoints"]["checked"] >= 1, v
    assert v["checkpoints"]["first_mismatch"] is None, v


# --------------------------------------------------------------------------
# 2. every personal-data endpoint leaves exactly the expected events
#
# One row per request, in the order they are made (they drive two cases
# through their lifecycle).  `who` names a key of the `ak` fixture, or
# "unknown" (a well-formed token no key has: principal null).  Paths and
# bodies use {case}, {case2}, {signal}, {inv}, {nil}, {agency_b}; an
# expected object id "@x" is field x of the answer.  Each event is
# (action, object_type, object_id, purpose, outcome, reason); role,
# agency and key are the caller's.

SIGNAL = object()  # a fresh adult_signal() in VR13, with Idempotency-Key
ENTRY = {"stage": "initial", "outcome": "positive",
         "deciding_body": "assessment_body", "rationale": RATIONALE,
         "decided_on": "{today}"}
SHARE = {"agency_id": "{agency_b}", "consent": True}

EXPECTED = [
    # label, who, method, path, body, status, events
    ("signal.create allowed", "reporter", "POST", "/v1/signals", SIGNAL,
     201, [("signal.create", "signal", "@signal_id", "intake", "allowed",
            None)]),
    ("signal.create wrong role", "co13", "POST", "/v1/signals", SIGNAL,
     403, [("signal.create", "signal", None, None, "denied",
            "role_not_permitted")]),
    ("signal.read_receipt allowed", "reporter", "GET", "/v1/signals/{signal}",
     None, 200, [("signal.read_receipt", "signal", "{signal}", "intake",
                  "allowed", None)]),
    ("signal.read_receipt wrong role", "co13", "GET",
     "/v1/signals/{signal}", None, 403,
     [("signal.read_receipt", "signal", "{signal}", None, "denied",
       "role_not_permitted")]),
    ("signal.read_receipt other agency", "reporter_b", "GET",
     "/v1/signals/{signal}", None, 404,
     [("signal.read_receipt", "signal", "{signal}", "intake", "denied",
       "out_of_scope")]),
    ("inbox.list allowed", "co13", "GET", "/v1/inbox", None, 200,
     [("inbox.list", "inbox", None, "care", "allowed", None)]),
    ("inbox.list wrong role", "reporter", "GET", "/v1/inbox", None, 403,
     [("inbox.list", "inbox", None, None, "denied", "role_not_permitted")]),
    ("case.read allowed coordinator", "co13", "GET", "/v1/cases/{case}",
     None, 200, [("case.read", "case", "{case}", "care", "allowed", None)]),
    ("case.read allowed assessor", "assessor", "GET", "/v1/cases/{case}",
     None, 200, [("case.read", "case", "{case}", "identification",
                  "allowed", None)]),
    ("case.read wrong role", "inv_a", "GET", "/v1/cases/{case}", None, 403,
     [("case.read", "case", "{case}", None, "denied",
       "role_not_permitted")]),
    ("case.read out of scope", "co17", "GET", "/v1/cases/{case}", None, 404,
     [("case.read", "case", "{case}", "care", "denied", "out_of_scope")]),
    ("case.read unknown case", "co13", "GET", "/v1/cases/{nil}", None, 404,
     [("case.read", "case", "{nil}", "care", "denied", "not_found")]),
    ("case.read unknown token", "unknown", "GET", "/v1/cases/{case}", None,
     401, [("case.read", "case", "{case}", None, "denied",
            "unknown_token")]),
]



def on_case(action, method, path, body, who, status, wrong, purpose,
            case="{case}"):
    """The three rows of an endpoint on a case, in this order: a key of
    the wrong role (403, no purpose), a coordinator of another region
    (co17: 404, out of scope), then `who`, allowed with `status`."""
    return [
        ("%s wrong role" % action, wrong, method, path, body, 403,
         [(action, "case", case, None, "denied", "role_not_permitted")]),
        ("%s out of scope" % action, "co17", method, path, body, 404,
         [(action, "case", case, purpose, "denied", "out_of_scope")]),
        ("%s allowed" % action, who, method, path, body, status,
         [(action, "case", case, purpose, "allowed", None)]),
    ]


LIFECYCLE = [
    ("take", None),
    ("close", {"reason": "victim_supported"}),
    ("reopen", {"reason": "new_information"}),
    ("decline", {"reason": "no_capacity"}),
    ("transfer", {"target_region": "VR09", "reason": "wrong_region"}),
]
for _act, _body in LIFECYCLE:
    EXPECTED += on_case("case." + _act, "POST", "/v1/cases/{case2}/" + _act,
                        _body, "co13", 200, "assessor", "care", "{case2}")

_IDENT = "/v1/cases/{case}/identification"
EXPECTED += on_case("identification.create", "POST", _IDENT, ENTRY,
                    "assessor", 201, "inv_a", "identification")
EXPECTED += on_case("identification.read", "GET", _IDENT, None, "co13", 200,
                    "reporter", "identification")
EXPECTED += on_case("case.share", "POST", "/v1/cases/{case}/share", SHARE,
                    "co13", 200, "assessor", "investigation")
EXPECTED += [
    ("investigation.create allowed", "inv_a", "POST", "/v1/investigations",
     {"signal_id": "{signal}", "police_reference": "PL-AUDIT-1"}, 201,
     [("investigation.create", "investigation", "@id", "investigation",
       "allowed", None)]),
    ("investigation.create wrong role", "co13", "POST",
     "/v1/investigations", {"signal_id": "{signal}"}, 403,
     [("investigation.create", "investigation", None, None, "denied",
       "role_not_permitted")]),
    # another agency's signal is "unknown" to the caller (no existence
    # oracle), audited as a failed create (docs/sql-api.md, 0006)
    ("investigation.create other agency", "inv_b", "POST",
     "/v1/investigations", {"signal_id": "{signal}"}, 422,
     [("investigation.create", "investigation", None, "investigation",
       "failed", "unknown_signal")]),
    ("investigation.read allowed", "inv_a", "GET", "/v1/investigations/{inv}",
     None, 200, [("investigation.read", "investigation", "{inv}",
                  "investigation", "allowed", None)]),
    ("investigation.read wrong role", "co13", "GET",
     "/v1/investigations/{inv}", None, 403,
     [("investigation.read", "investigation", "{inv}", None, "denied",
       "role_not_permitted")]),
    ("investigation.read other agency", "inv_b", "GET",
     "/v1/investigations/{inv}", None, 404,
     [("investigation.read", "investigation", "{inv}", "investigation",
       "denied", "out_of_scope")]),
    ("investigation.update allowed", "inv_a", "PATCH",
     "/v1/investigations/{inv}", {"police_reference": "PL-AUDIT-2"}, 200,
     [("investigation.update", "investigation", "{inv}", "investigation",
       "allowed", None)]),
    ("investigation.update wrong role", "assessor", "PATCH",
     "/v1/investigations/{inv}", {"police_reference": "PL-AUDIT-3"}, 403,
     [("investigation.update", "investigation", "{inv}", None, "denied",
       "role_not_permitted")]),
    ("investigation.update other agency", "inv_b", "PATCH",
     "/v1/investigations/{inv}", {"police_reference": "PL-AUDIT-4"}, 404,
     [("investigation.update", "investigation", "{inv}", "investigation",
       "denied", "out_of_scope")]),
]

LABELS = [row[0] for row in EXPECTED]
assert len(set(LABELS)) == len(LABELS)


def fill(value, ctx):
    """`value` with every {name} of its strings replaced from ctx."""
    if isinstance(value, str):
        return value.format(**ctx)
    if isinstance(value, dict):
        return {k: fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ctx) for v in value]
    return value


@pytest.fixture(scope="module")
def personal_requests(nrmd, ak):
    """Make every request of EXPECTED in order; {label: (ctx, response)}."""
    s1 = new_case(nrmd, ak["reporter"])
    s2 = new_case(nrmd, ak["reporter"])
    inv = send(nrmd, ak["inv_a"], "POST", "/v1/investigations",
               {"signal_id": s1["signal_id"]})
    assert inv.status_code == 201, inv.text[:300]
    ctx = {"signal": s1["signal_id"], "case": s1["case_id"],
           "case2": s2["case_id"], "inv": inv.json()["id"],
           "nil": str(uuid.uuid4()), "agency_b": ak["inv_b"].agency_id,
           "today": today()}
    done = {}
    for label, who, method, path, body, status, _ in EXPECTED:
        key = fake_token() if who == "unknown" else ak[who]
        headers = None
        if body is SIGNAL:
            body = adult_signal(location={"municipality_code": AMSTERDAM})
            headers = {"Idempotency-Key": "e2e-" + uuid.uuid4().hex}
        r = send(nrmd, key, method, fill(path, ctx), fill(body, ctx),
                 headers)
        assert r.status_code == status, (label, r.status_code, r.text[:400])
        done[label] = (ctx, r)
    return done


@pytest.mark.parametrize("label", LABELS)
def test_personal_data_endpoint_events(db, ak, personal_requests, label):
    row = EXPECTED[LABELS.index(label)]
    who, want = row[1], row[6]
    ctx, r = personal_requests[label]
    key = None if who == "unknown" else ak[who]
    answer = r.json()
    expect = []
    for action, otype, oid, purpose, outcome, reason in want:
        if oid is not None and oid.startswith("@"):
            oid = answer[oid[1:]]
        elif oid is not None:
            oid = fill(oid, ctx)
        expect.append({
            "action": action, "object_type": otype, "object_id": oid,
            "purpose": purpose, "outcome": outcome, "reason": reason,
            "role": key.role if key else None,
            "agency_id": key.agency_id if key else None,
            "api_key_id": key.id if key else None,
            "client_addr": "127.0.0.1",
        })
    got = [{k: e[k] for k in expect[0]} for e in events(db, rid(r))]
    if len(got) == len(expect):
        diff = ["event %d: %s is %r, expected %r" % (n + 1, k, g[k], w[k])
                for n, (g, w) in enumerate(zip(got, expect))
                for k in w if g[k] != w[k]]
        assert not diff, "%s (request %s):\n%s" % (label, rid(r),
                                                   "\n".join(diff))
    assert got == expect, label


# --------------------------------------------------------------------------
# 4. NRM-Purpose on GET /v1/cases/{id}


@pytest.fixture(scope="module")
def purpose_case(nrmd, ak):
    return new_case(nrmd, ak["reporter"])["case_id"]


@pytest.mark.parametrize("who,header,purpose", [
    ("co13", None, "care"),
    ("assessor", None, "identification"),
    ("co13", "identification", "identification"),
    ("co13", "care", "care"),
    ("assessor", "care", "care"),
    ("assessor", "monitoring", "monitoring"),
])
def test_purpose_is_recorded(nrmd, db, ak, purpose_case, who, header,
                             purpose):
    h = {"NRM-Purpose": header} if header is not None else None
    r = send(nrmd, ak[who], "GET", "/v1/cases/" + purpose_case, headers=h)
    assert r.status_code == 200, r.text[:300]
    e = one_event(db, r)
    assert (e["action"], e["object_id"], e["outcome"], e["purpose"]) == (
        "case.read", purpose_case, "allowed", purpose), e


def purpose_refused(nrmd, ak, case, header):
    """GET the case with NRM-Purpose `header`: a 400 naming the purpose
    and no personal data.  The response and its problem."""
    r = send(nrmd, ak["co13"], "GET", "/v1/cases/" + case,
             headers={"NRM-Purpose": header})
    p = assert_problem(r, 400, "bad_request", "purpose")
    assert PERSONAL["family_name"] not in r.text
    return r, p


@pytest.mark.parametrize("header", ["marketing", "billing_review"])
def test_unknown_purpose_is_400_and_audited_without_it(nrmd, db, ak,
                                                       purpose_case, header):
    r, p = purpose_refused(nrmd, ak, purpose_case, header)
    assert header not in p["detail"], p
    assert "care" in p["detail"], p  # it lists the codes
    e = one_event(db, r)
    assert (e["action"], e["object_id"], e["purpose"], e["outcome"],
            e["reason"]) == ("case.read", purpose_case, None, "failed",
                             "bad_request"), e


@pytest.mark.parametrize("header", [
    "Care", "x" * 65, "", "Ilvarinde", "identification,care", "care!"])
def test_malformed_purpose_is_400_and_never_stored(nrmd, db, ak,
                                                   purpose_case, header):
    r, p = purpose_refused(nrmd, ak, purpose_case, header)
    assert header == "" or header not in p["detail"], p
    # nrmd refuses a malformed code before the database: whatever the
    # request left in the audit log, the text is not in it
    for e in events(db, rid(r)):
        assert (e["action"], e["object_id"], e["purpose"],
                e["outcome"]) == ("case.read", purpose_case, None,
                                  "failed"), e


# --------------------------------------------------------------------------
# 3. no personal data anywhere in the audit log, after the whole session
#
# conftest.py runs tests marked audit_scan_last after every other test of
# the session (pytest_collection_modifyitems), so this scan sees the
# events of every module.


SUBJECT_COLUMNS = ("given_name", "family_name", "birth_date", "phone",
                   "address", "narrative")


def scan_needles(sealed=()):
    """SQL for the needles (text, where from): every value the suite
    submits (nrm_e2e.signals.PERSONAL and its fragments, this module's
    rationale), and every personal value and rationale actually stored,
    whichever test stored it: in plaintext (rows from before 0017) or
    sealed (`sealed`: the values opened with the KEK, issue 15)."""
    literal = sorted(set(PERSONAL.values()) | set(PERSONAL_FRAGMENTS) |
                     {RATIONALE, "Kraaiennestkade", "Drupelmaat"})
    assert all("'" not in n for n in literal)
    submitted = ("select n, 'submitted value' from unnest(array[%s]) n"
                 % ", ".join("'%s'" % n for n in literal))
    opened = [n.replace("'", "''") for n in sealed if len(n) >= 6]
    if opened:
        submitted += (" union select n, 'stored sealed value' from "
                      "unnest(array[%s]) n"
                      % ", ".join("'%s'" % n for n in opened))
    return submitted + " union " + stored_needles()


def stored_needles():
    return " union ".join(
        ["select %s::text, 'care.subject.%s' from care.subject "
         "where length(%s::text) >= 6" % (c, c, c)
         for c in SUBJECT_COLUMNS] +
        ["select rationale, 'ident.decision.rationale' "
         "from ident.decision where length(rationale) >= 6"])


def scan_sql(table, sealed=()):
    """Rows (event id, the columns holding a needle or "(whole row)",
    where the needle comes from) of `table` (audit.event's shape)."""
    return (
        "with needle(n, src) as (%s) "
        "select e.id, coalesce((select string_agg(kv.key, ',') "
        "  from jsonb_each_text(to_jsonb(e)) kv "
        "  where strpos(kv.value, needle.n) > 0), '(whole row)'), "
        "  needle.src "
        "from %s e join needle on strpos(e::text, needle.n) > 0 "
        "order by e.id, 2, 3 limit 50" % (scan_needles(sealed), table))


def test_audit_scan_finds_a_planted_value(db):
    # the scan of test_no_personal_data_in_audit_log, on a temporary
    # copy of audit.event's shape holding two planted values (the shared
    # audit log itself is never written to)
    rows = db.sql(
        "create temp table planted (like audit.event); "
        "insert into planted (id, at, action, outcome, object_id) values "
        "(1, now(), 'case.read', 'allowed', 'x'), "
        "(2, now(), 'case.read', 'allowed', 'tel %s'), "
        "(3, now(), 'case.read', 'failed', 'y'); "
        "update planted set reason = 'ok', request_id = '%s' "
        "where id = 3; %s"
        % (PERSONAL["phone"], RATIONALE[:30], scan_sql("planted")))
    found = {(r[0], r[1]) for r in rows}
    assert ("2", "object_id") in found, rows
    assert ("3", "request_id") in found, rows
    assert "1" not in {r[0] for r in rows}, rows


@pytest.mark.audit_scan_last
def test_no_personal_data_in_audit_log(every_cluster, pki):
    # every_cluster: the session's database, and under pytest-xdist every
    # other worker's too (conftest.py).  The personal data are stored
    # sealed (issue 15): this session's are opened with its KEK and
    # looked for too (another worker's KEK is its own: there the
    # submitted values and any plaintext rows are the needles).
    # This test runs last, every worker waiting for it: the other
    # workers' scans (each PostgreSQL's own time) run while this
    # session's sealed values are opened and its own scan runs.
    with concurrent.futures.ThreadPoolExecutor(len(every_cluster)) as ex:
        others = [ex.submit(db.sql, scan_sql("audit.event"))
                  for db in every_cluster[1:]]
        opened = all_values(every_cluster[0], pki["kek"])
        hits = every_cluster[0].sql(scan_sql("audit.event", opened))
        for f in others:
            hits += f.result()
    assert not hits, "personal data in audit.event:\n" + "\n".join(
        "event %s, column %s: a %s" % tuple(h) for h in hits)

    def total(sql):
        return sum(db.count(sql) for db in every_cluster)

    # the scan saw a real log and real personal data, not empty tables
    n = total("select count(*) from audit.event")
    assert n > 100, "only %d audit events: nothing was scanned" % n
    assert len(opened) + total(
        "select count(*) from (%s) x" % stored_needles()) > 0
    assert total("select count(*) from audit.event "
                 "where action = 'case.read'") > 0
