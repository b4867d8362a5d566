"""Every request body nrmd reads goes through the one strict JSON reader
(nrm-core/json.c): duplicate keys, text after the value, invalid UTF-8
and unknown keys are refused the same way on every body-taking
operation as on intake, with a problem+json that names the field where
there is one, never a 500, and nothing is written."""

import json
import uuid

import pytest
import requests

from conftest import (
    adult_signal,
    assert_problem,
    assert_receipt,
    auth,
    create_key,
    post_signal,
)

AMSTERDAM = "GM0363"

# Rows any of these operations could write.
TABLES = ("care.case", "care.case_history", "ident.decision",
          "invest.record", "invest.case_share", "audit.review",
          "intake.signal")


def snapshot(cluster):
    """Row counts plus every case's version: a write changes one."""
    q = "select " + ", ".join(
        "(select count(*) from %s)" % t for t in TABLES) + \
        ", (select coalesce(sum(version), 0) from care.case)" + \
        ", (select coalesce(sum(version), 0) from invest.record)"
    return cluster.sql(q)[0]


@pytest.fixture(scope="module")
def sk(cluster, keys, case_keys):
    suffix = uuid.uuid4().hex[:6]
    police = "Politie Gelderland " + suffix
    return {
        "reporter": create_key(cluster, "reporter", police, "police"),
        "inv": create_key(cluster, "investigator", police, "police"),
        "auditor": create_key(cluster, "auditor", "Toezicht " + suffix,
                              "other"),
        "co13": case_keys["co13"],
        "analyst": keys["analyst"],
    }


@pytest.fixture(scope="module")
def targets(nrmd, sk):
    """One open and one taken VR13 case, one investigation record."""
    def new_case():
        body = adult_signal()
        body["location"] = {"municipality_code": AMSTERDAM}
        return assert_receipt(post_signal(nrmd, sk["reporter"].token, body))

    open_case = new_case()
    taken = new_case()
    r = requests.post("%s/v1/cases/%s/take" % (nrmd.url, taken["case_id"]),
                      headers=auth(sk["co13"]), timeout=15)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    r = requests.post(nrmd.url + "/v1/investigations",
                      json={"signal_id": open_case["signal_id"],
                            "report_filed": False},
                      headers=auth(sk["inv"]), timeout=15)
    assert r.status_code == 201, (r.status_code, r.text[:300])
    return {"open": open_case["case_id"], "taken": taken["case_id"],
            "signal": open_case["signal_id"], "record": r.json()["id"]}


def ident_entry():
    return {"stage": "initial", "outcome": "positive",
            "deciding_body": "assessment_body", "rationale": None,
            "decided_on": "2026-01-05"}


# (operation, method, path template, key, valid body, string member that
#  may carry the bad byte, whether C knows the member list)
OPS = [
    ("decline", "POST", "/v1/cases/{open}/decline", "co13",
     {"reason": "other"}, "reason", True),
    ("transfer", "POST", "/v1/cases/{taken}/transfer", "co13",
     {"target_region": "VR17", "reason": "other"}, "reason", True),
    ("close", "POST", "/v1/cases/{taken}/close", "co13",
     {"reason": "other"}, "reason", True),
    ("reopen", "POST", "/v1/cases/{taken}/reopen", "co13",
     {"reason": "other"}, "reason", True),
    ("take", "POST", "/v1/cases/{open}/take", "co13", {}, None, True),
    ("share", "POST", "/v1/cases/{open}/share", "co13",
     {"agency_id": "00000000-0000-4000-8000-000000000000",
      "consent": True}, "agency_id", True),
    ("identification", "POST", "/v1/cases/{open}/identification", "co13",
     ident_entry(), "stage", False),
    ("investigation_create", "POST", "/v1/investigations", "inv",
     {"signal_id": "{signal}", "police_reference": "PL-1"},
     "police_reference", False),
    ("investigation_patch", "PATCH", "/v1/investigations/{record}", "inv",
     {"police_reference": "PL-2"}, "police_reference", False),
    ("audit_review", "POST", "/v1/audit/reviews/1", "auditor",
     {"verdict": "justified"}, "verdict", True),
    ("routing_explain", "POST", "/v1/routing/explain", "analyst",
     {"signal": adult_signal(), "reporter_kind": "police"},
     "reporter_kind", True),
]
IDS = [o[0] for o in OPS]


def fill(template, t):
    return template.format(**t)


def body_of(op, t):
    body = json.loads(json.dumps(op[4]))
    for k, v in body.items():
        if isinstance(v, str) and v.startswith("{"):
            body[k] = fill(v, t)
    return body


def send(nrmd, sk, op, t, raw):
    _, method, path, key, _, _, _ = op
    h = dict(auth(sk[key]), **{"Content-Type": "application/json"})
    return requests.request(method, nrmd.url + fill(path, t), data=raw,
                            headers=h, timeout=15)


def refused(cluster, nrmd, sk, op, t, raw, status, code, field):
    before = snapshot(cluster)
    r = send(nrmd, sk, op, t, raw)
    p = assert_problem(r, status, code, field)
    assert snapshot(cluster) == before, "a refused body wrote something"
    nrmd.assert_running()
    return p


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_duplicate_key_422_names_it(cluster, nrmd, sk, targets, op):
    body = body_of(op, targets)
    text = json.dumps(body)
    if body:
        k = next(iter(body))
        dup = ', "%s": %s}' % (k, json.dumps(body[k]))
        text = text[:-1] + dup
        field = k
    else:
        text = '{"reason": "a", "reason": "b"}'
        field = "reason"
    p = refused(cluster, nrmd, sk, op, targets, text.encode(), 422,
                "validation", field)
    assert "duplicate" in p["detail"], p


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_nested_duplicate_key_names_the_path(cluster, nrmd, sk, targets, op):
    body = body_of(op, targets)
    body["x_nested"] = {"a": 1}
    text = json.dumps(body)[:-2] + ', "a": 2}}'
    p = refused(cluster, nrmd, sk, op, targets, text.encode(), 422,
                "validation", "x_nested.a")
    assert "duplicate" in p["detail"], p


@pytest.mark.parametrize("trail", [b" x", b"{}", b"\x00", b",", b"]"],
                         ids=["word", "second_value", "nul", "comma",
                              "bracket"])
@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_trailing_text_400(cluster, nrmd, sk, targets, op, trail):
    raw = json.dumps(body_of(op, targets)).encode() + trail
    refused(cluster, nrmd, sk, op, targets, raw, 400, "malformed", None)


@pytest.mark.parametrize("bad", [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80",
                                 b"abc\xe2\x82"],
                         ids=["ff_fe", "overlong", "surrogate", "truncated"])
@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_invalid_utf8_400(cluster, nrmd, sk, targets, op, bad):
    body = body_of(op, targets)
    member = op[5]
    if member is None:
        raw = b'{"reason": "' + bad + b'"}'
    else:
        body[member] = "PLACEHOLDER"
        raw = json.dumps(body).encode().replace(b"PLACEHOLDER", bad)
    refused(cluster, nrmd, sk, op, targets, raw, 400, "malformed", None)


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_invalid_utf8_in_key_400(cluster, nrmd, sk, targets, op):
    raw = json.dumps(body_of(op, targets)).encode()
    raw = raw[:-1] + (b', "k\xffey": 1}' if raw != b"{}" else b'"k\xff": 1}')
    refused(cluster, nrmd, sk, op, targets, raw, 400, "malformed", None)


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_unknown_key_422(cluster, nrmd, sk, targets, op):
    body = body_of(op, targets)
    body["favourite_colour"] = "blue"
    # Where C knows the members it names the key; identification and
    # investigation bodies are checked by the database, which names the
    # known keys and does not echo the unknown one.
    field = "favourite_colour" if op[6] else None
    p = refused(cluster, nrmd, sk, op, targets, json.dumps(body).encode(),
                422, "validation", field)
    assert "blue" not in p["detail"]


@pytest.mark.parametrize("op", [o for o in OPS if o[6]],
                         ids=[o[0] for o in OPS if o[6]])
def test_unknown_key_not_echoed_when_not_a_name(cluster, nrmd, sk, targets,
                                                op):
    body = body_of(op, targets)
    body["J. Doe"] = 1
    p = refused(cluster, nrmd, sk, op, targets, json.dumps(body).encode(),
                422, "validation", None)
    assert "J. Doe" not in json.dumps(p)


@pytest.mark.parametrize("raw", [b"{\"reason\": \"a\\u0000b\"}",
                                 b"{\"reason\": \"a\tb\"}",
                                 b"{\"reason\": 01}",
                                 b"[" * 40 + b"]" * 40],
                         ids=["nul_escape", "raw_tab", "leading_zero",
                              "deep"])
def test_syntax_gate_on_case_actions(cluster, nrmd, sk, targets, raw):
    op = OPS[IDS.index("close")]
    refused(cluster, nrmd, sk, op, targets, raw, 400, "malformed", None)


def test_explain_nested_signal_fault_names_signal_path(cluster, nrmd, sk,
                                                       targets):
    op = OPS[IDS.index("routing_explain")]
    body = {"signal": adult_signal(), "reporter_kind": "police"}
    text = json.dumps(body)
    # a duplicate inside the signal's subject
    text = text.replace('"subject": {', '"subject": {"minor": true, '
                        '"minor": false, ', 1)
    p = refused(cluster, nrmd, sk, op, targets, text.encode(), 422,
                "validation", "signal.subject.minor")
    assert "duplicate" in p["detail"]
    body["candidate"] = {"regions": {}, "rules": {}, "colour": "red"}
    refused(cluster, nrmd, sk, op, targets, json.dumps(body).encode(), 422,
            "validation", "candidate.colour")


def test_valid_bodies_still_accepted(nrmd, sk, targets):
    """The strict reader refuses only what it should: a decline with
    white space around the value and an escaped character works."""
    h = dict(auth(sk["co13"]), **{"Content-Type": "application/json"})
    r = requests.post("%s/v1/cases/%s/decline" % (nrmd.url, targets["open"]),
                      data=b' \r\n\t{"reason" : "oth\\u0065r"}\n ',
                      headers=h, timeout=15)
    assert r.status_code == 200, (r.status_code, r.text[:300])
