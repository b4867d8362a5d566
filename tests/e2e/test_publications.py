"""Publications of the indicators register (issue 13; docs/indicators.md,
"Publications"): POST /v1/publications freezes every indicator of a
closed period (201), answers the same publication when nothing changed
(200), makes revision 2 naming the changed cells when the data changed,
refuses a provisional period (409 naming period); GET lists them and
answers one as JSON, CSV (parsed with the csv module and equal to the
JSON) and an HTML report; ?compare=1 shows the difference from a fresh
computation; nrmctl publication verify accepts the signature and fails
on a changed byte; every publish and read is one audit event."""

import csv
import datetime
import io
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
import requests

from nrm_e2e.api import auth
from nrm_e2e.daemon import one_daemon
from nrm_e2e.env import INDICATORS_FILE, NRMCTL, clean_env, run
from nrm_e2e.pg import create_key
from nrm_e2e.statfix import seed_decisions

REGISTER = json.loads(INDICATORS_FILE.read_text())["indicators"]
PERIOD = "2024-07"


@pytest.fixture(scope="module")
def keyfiles(workdir):
    tag = uuid.uuid4().hex[:8]
    key = workdir / ("pub-key-%s.pem" % tag)
    pub = workdir / ("pub-pub-%s.pem" % tag)
    out = run([NRMCTL, "audit", "keygen", "--out", key],
              env=clean_env()).stdout
    pub.write_text(out)
    return {"key": key, "pub": pub,
            "cp": workdir / ("pub-cp-%s.jsonl" % tag)}


@pytest.fixture(scope="module")
def pd(workdir, cluster, pki, keyfiles):
    yield from one_daemon(workdir, cluster, pki, config={
        "audit_signing_key_file": keyfiles["key"],
        "audit_checkpoint_file": keyfiles["cp"]})


@pytest.fixture(scope="module")
def published(pd, cluster, keys):
    """Revision 1 of PERIOD, published twice (201 then 200), then one
    more decision in PERIOD and revision 2."""
    a = keys["analyst"]
    r1 = post(pd, a, {"period": PERIOD})
    again = post(pd, a, {"period": PERIOD})
    seed_decisions(cluster, [("2024-07-15", "initial", "positive", None)])
    r2 = post(pd, a, {"period": PERIOD})
    return {"r1": r1, "again": again, "r2": r2}


def post(d, key, body, **kw):
    return requests.post(d.url + "/v1/publications", json=body,
                         headers=auth(key) if key else {}, timeout=60, **kw)


def get(d, key, path, accept=None, **params):
    h = auth(key) if key else {}
    if accept:
        h["Accept"] = accept
    return requests.get(d.url + path, headers=h, params=params, timeout=60)


def test_publish_then_unchanged_then_revision(published):
    r1, again, r2 = published["r1"], published["again"], published["r2"]
    assert r1.status_code == 201, r1.text[:500]
    p1 = r1.json()
    assert r1.headers["Location"] == "/v1/publications/" + p1["id"]
    assert p1["period"] == PERIOD and p1["revision"] == 1
    assert p1["previous_id"] is None and p1["changes"] is None
    ids = [x["id"] for x in p1["content"]["indicators"]]
    assert ids == [x["id"] for x in REGISTER]
    for ind in p1["content"]["indicators"]:
        assert ind["values"]["period"] == PERIOD
        assert ind["values"]["provisional"] is False
    assert again.status_code == 200, again.text[:500]
    assert again.json()["id"] == p1["id"]
    assert again.json() == p1
    assert r2.status_code == 201, r2.text[:500]
    p2 = r2.json()
    assert p2["revision"] == 2 and p2["previous_id"] == p1["id"]
    assert "identification_decoupled (investigation=none, " \
        "outcome=positive): 0 -> suppressed" in p2["changes"].split("\n")
    assert p2["content_sha256"] != p1["content_sha256"]


def test_provisional_and_malformed_periods_are_refused(pd, keys):
    now = datetime.datetime.now(ZoneInfo("Europe/Amsterdam"))
    r = post(pd, keys["analyst"], {"period": "%04d" % now.year})
    assert r.status_code == 409, r.text[:300]
    assert r.json()["field"] == "period"
    r = post(pd, keys["analyst"], {"period": "2024-07-01/2024-08-01"})
    assert r.status_code == 422 and r.json()["field"] == "period"
    r = post(pd, keys["analyst"], {"period": PERIOD, "extra": 1})
    assert r.status_code in (400, 422), r.text[:300]


def test_roles(pd, keys, cluster):
    auditor = create_key(cluster, "auditor", "Toezicht Pub", "other")
    for k in (keys["reporter"], keys["coordinator"], auditor):
        assert post(pd, k, {"period": PERIOD}).status_code == 403
        assert get(pd, k, "/v1/publications").status_code == 403
    assert post(pd, None, {"period": PERIOD}).status_code == 401
    assert get(pd, None, "/v1/publications").status_code == 401
    assert get(pd, keys["analyst"], "/v1/publications/"
               + str(uuid.uuid4())).status_code == 404


def test_list(pd, keys, published):
    r = get(pd, keys["analyst"], "/v1/publications")
    assert r.status_code == 200, r.text[:300]
    items = [x for x in r.json()["items"] if x["period"] == PERIOD]
    assert [x["revision"] for x in items] == [2, 1]
    assert all("content" not in x for x in items)


def test_csv_matches_the_json(pd, keys, published):
    pid = published["r2"].json()["id"]
    j = get(pd, keys["analyst"], "/v1/publications/" + pid).json()
    r = get(pd, keys["analyst"], "/v1/publications/" + pid,
            accept="text/csv")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "\r\n" in r.text and "\n" not in r.text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["indicator_id", "period", "dimension_1",
                       "category_1", "dimension_2", "category_2", "unit",
                       "value", "p90", "suppressed"]
    want = []
    for ind in j["content"]["indicators"]:
        by = ind["values"]["by"] + ["", ""]
        for c in ind["values"]["cells"]:
            cat = ["" if not d else str(c[d]).lower()
                   if isinstance(c[d], bool) else str(c[d])
                   for d in by[:2]]
            v = c["value"]
            hidden = bool(c.get("suppressed"))
            if isinstance(v, dict):
                val, p90 = str(v["median"]), str(v["p90"])
            else:
                val, p90 = ("" if v is None else str(v)), ""
            want.append([ind["id"], PERIOD, by[0], cat[0], by[1], cat[1],
                         ind["values"]["unit"], val, p90,
                         "true" if hidden else "false"])
    assert rows[1:] == want
    # a link cannot set Accept: ?format=csv gives the same bytes
    f = get(pd, keys["analyst"], "/v1/publications/" + pid, format="csv")
    assert f.status_code == 200 and f.content == r.content
    assert get(pd, keys["analyst"], "/v1/publications/" + pid,
               format="pdf").json()["field"] == "format"


def test_html_report(pd, keys, published):
    pid = published["r2"].json()["id"]
    for lang, word in (("nl", "Revisie"), ("en", "Revision")):
        r = get(pd, keys["analyst"], "/v1/publications/" + pid,
                accept="text/html", lang=lang)
        assert r.status_code == 200, r.text[:300]
        assert r.headers["Content-Type"].startswith("text/html")
        assert "script-src" not in r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        t = r.text
        assert t.startswith("<!DOCTYPE html>")
        assert '<html lang="%s">' % lang in t and word in t
        assert "<script" not in t and "style=" not in t
        assert t.count("<svg") == len(REGISTER)
        assert t.count("<caption>") == len(REGISTER)
        assert 'href="/css/console.css"' in t


def test_compare_shows_the_difference(pd, keys, published):
    p1 = published["r1"].json()["id"]
    p2 = published["r2"].json()["id"]
    d1 = get(pd, keys["analyst"], "/v1/publications/" + p1, compare="1")
    assert d1.status_code == 200, d1.text[:300]
    diffs = d1.json()["differences"]
    assert {"indicator": "identification_decoupled",
            "cell": {"outcome": "positive", "investigation": "none"},
            "published": "0", "now": "suppressed"} in diffs
    d2 = get(pd, keys["analyst"], "/v1/publications/" + p2, compare="1")
    assert d2.json()["differences"] == []


def test_signature_verifies_and_a_changed_byte_fails(pd, keys, published,
                                                      keyfiles, workdir,
                                                      cluster):
    pid = published["r2"].json()["id"]
    text = get(pd, keys["analyst"], "/v1/publications/" + pid).text
    good = workdir / ("pub-%s.json" % pid)
    good.write_text(text)
    ok = run([NRMCTL, "publication", "verify", "--file", good,
              "--public-key", keyfiles["pub"]], env=clean_env(),
             check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("verified: period %s revision 2" % PERIOD)
    byid = cluster.nrmctl("publication", "verify", "--id", pid,
                          "--public-key", str(keyfiles["pub"]),
                          check=False)
    assert byid.returncode == 0, byid.stdout + byid.stderr
    # one byte of a count, of a title, of the hash, of the signature
    j = json.loads(text)
    i = text.index('"by_whom": "') + len('"by_whom": "') \
        if '"by_whom": "' in text else text.index('"by_whom":"') + 11
    sig_at = text.index(j["signature"])
    sha_at = text.index(j["content_sha256"])
    for at in (i, sig_at + 5, sha_at + 3):
        bad = workdir / ("pub-bad-%d.json" % at)
        ch = text[at]
        bad.write_text(text[:at] + ("B" if ch != "B" else "C")
                       + text[at + 1:])
        r = run([NRMCTL, "publication", "verify", "--file", bad,
                 "--public-key", keyfiles["pub"]], env=clean_env(),
                check=False)
        assert r.returncode == 1, (at, r.stdout, r.stderr)
        assert "verified" not in r.stdout


def test_audited_once_per_publish_and_read(pd, keys, cluster, published):
    rid = published["again"].headers["X-Request-Id"]
    rows = cluster.sql("select action, object_type, object_id, outcome, "
                       "purpose from audit.event where request_id = '%s'"
                       % rid)
    assert rows == [["publication.create", "publication", PERIOD,
                     "allowed", "monitoring"]]
    rid = published["r2"].headers["X-Request-Id"]
    assert cluster.count("select count(*) from audit.event "
                         "where request_id = '%s'" % rid) == 1
    pid = published["r2"].json()["id"]
    r = get(pd, keys["analyst"], "/v1/publications/" + pid,
            accept="text/csv")
    rows = cluster.sql("select action, object_id from audit.event "
                       "where request_id = '%s'"
                       % r.headers["X-Request-Id"])
    assert rows == [["publication.read", pid]]
