"""nrm-api/openapi.yaml against the daemon: the same routes, and schemas
that agree with what nrmd accepts and answers."""

import copy
import subprocess

import jsonschema
import pytest
import requests

from nrm_e2e.api import assert_receipt, post_signal
from nrm_e2e.env import NRMD, ROOT, clean_env
from nrm_e2e.openapi import validator
from nrm_e2e.signals import adult_signal, minor_signal, notification_signal

METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")


def served_routes():
    p = subprocess.run([str(NRMD), "--list-routes"], capture_output=True,
                       text=True, env=clean_env(), cwd=str(ROOT), timeout=20)
    assert p.returncode == 0, p.stderr
    routes = set()
    for line in p.stdout.splitlines():
        if not line.strip():
            continue
        method, _, path = line.strip().partition(" ")
        assert method.isupper() and path.startswith("/"), line
        routes.add((method, path))
    assert routes, "nrmd --list-routes printed nothing"
    return routes


def documented_routes(doc):
    return {(m.upper(), path) for path, item in doc["paths"].items()
            for m in item if m in METHODS}


def test_document_is_openapi_31(doc):
    assert str(doc["openapi"]).startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == \
        "bearer"
    jsonschema.Draft202012Validator.check_schema(
        doc["components"]["schemas"]["SignalRequest"])


def test_every_served_route_is_documented(doc):
    missing = served_routes() - documented_routes(doc)
    assert not missing, "served but not in openapi.yaml: %s" % sorted(
        missing)


def test_every_documented_route_is_served(doc):
    extra = documented_routes(doc) - served_routes()
    assert not extra, "in openapi.yaml but not served: %s" % sorted(extra)


def test_every_operation_documents_request_id_and_errors(doc):
    for path, item in doc["paths"].items():
        for m, op in item.items():
            if m not in METHODS:
                continue
            assert op.get("operationId"), (m, path)
            for status, resp in op["responses"].items():
                if "$ref" in resp:
                    resp = doc["components"]["responses"][
                        resp["$ref"].rsplit("/", 1)[1]]
                assert "X-Request-Id" in resp.get("headers", {}), (
                    m, path, status)
            if op.get("security", doc.get("security")):
                assert "401" in op["responses"], (m, path)
                assert "403" in op["responses"], (m, path)


def test_documented_examples_are_valid_and_accepted(doc, nrmd, keys):
    v = validator(doc, "SignalRequest")
    examples = doc["paths"]["/v1/signals"]["post"]["requestBody"][
        "content"]["application/json"]["examples"]
    assert examples
    rv = validator(doc, "Receipt")
    for name, ex in examples.items():
        v.validate(ex["value"])
        r = post_signal(nrmd, keys["reporter"].token, ex["value"])
        rec = assert_receipt(r)
        rv.validate(rec)
        assert rec["notification_only"] == (name == "notification"), name


def test_suite_bodies_match_the_schema(doc):
    v = validator(doc, "SignalRequest")
    for body in (adult_signal(), minor_signal(), notification_signal()):
        v.validate(body)


BAD_FOR_SCHEMA = [
    ("unknown", lambda b: b.update(colour="blue")),
    ("empty_exploitation", lambda b: b.update(exploitation=[])),
    ("bad_exploitation", lambda b: b.update(exploitation=["slavery"])),
    ("bad_control", lambda b: b.update(control_means=["magic"])),
    ("bad_consent", lambda b: b.update(consent="maybe")),
    ("missing_consent", lambda b: b.pop("consent")),
    ("nationality", lambda b: b["subject"].update(nationality="nl")),
    ("language", lambda b: b["subject"].update(languages=["NL"])),
    ("age", lambda b: b["subject"].update(age_estimate=121)),
    ("name_long", lambda b: b["subject"].update(given_name="x" * 201)),
    ("municipality", lambda b: b.update(location={"municipality_code":
                                                  "0363"})),
    ("observed_no_zone", lambda b: b.update(
        observed_at="2024-03-01T10:00:00")),
    ("not_required_minor_adult", lambda b: (
        b.update(consent="not_required_minor"),
        b["subject"].pop("birth_date"))),
    ("notification_with_name", lambda b: (
        b.update(consent="refused"), b["subject"].pop("birth_date"))),
]


@pytest.mark.parametrize("name,mutate", BAD_FOR_SCHEMA,
                         ids=[c[0] for c in BAD_FOR_SCHEMA])
def test_schema_and_daemon_agree_on_bad_bodies(doc, nrmd, keys, name,
                                               mutate):
    body = copy.deepcopy(adult_signal())
    mutate(body)
    errors = list(validator(doc, "SignalRequest").iter_errors(body))
    assert errors, "openapi.yaml accepts a body nrmd must refuse: " + name
    r = post_signal(nrmd, keys["reporter"].token, body)
    assert r.status_code == 422, (name, r.status_code, r.text[:300])


def test_responses_match_their_schemas(doc, nrmd, keys):
    problem = validator(doc, "Problem")
    for r in (
        post_signal(nrmd, keys["reporter"].token, adult_signal(
            exploitation=[])),
        post_signal(nrmd, None, adult_signal()),
        post_signal(nrmd, keys["reporter"].token, b"{"),
        requests.get(nrmd.url + "/nope", timeout=5),
        requests.delete(nrmd.url + "/v1/signals", timeout=5),
    ):
        assert r.status_code >= 400
        problem.validate(r.json())
    validator(doc, "Health").validate(
        requests.get(nrmd.url + "/healthz", timeout=5).json())
    validator(doc, "Ready").validate(
        requests.get(nrmd.url + "/readyz", timeout=5).json())
    m = requests.get(nrmd.url + "/metrics", timeout=5)
    assert m.status_code == 200
    assert m.headers["Content-Type"].startswith("text/plain")


def test_routing_responses_match_their_schemas(doc, nrmd, keys):
    """The routing routes, as far as the document describes them."""
    tok = keys["analyst"].token
    h = {"Authorization": "Bearer " + tok}
    r = requests.get(nrmd.url + "/v1/routing/config", headers=h, timeout=5)
    assert r.status_code == 200, r.text[:300]
    validator(doc, "RoutingConfig").validate(r.json())
    example = doc["paths"]["/v1/routing/explain"]["post"]["requestBody"][
        "content"]["application/json"]["example"]
    validator(doc, "ExplainRequest").validate(example)
    r = requests.post(nrmd.url + "/v1/routing/explain", json=example,
                      headers=h, timeout=5)
    assert r.status_code == 200, r.text[:300]
    validator(doc, "Explanation").validate(r.json())
    assert r.json()["minor"] is True
    # a reporter may not use them
    r = requests.get(nrmd.url + "/v1/routing/config", timeout=5, headers={
        "Authorization": "Bearer " + keys["reporter"].token})
    assert r.status_code == 403
    validator(doc, "Problem").validate(r.json())
