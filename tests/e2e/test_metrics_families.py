"""What /metrics serves (issue 21): the families named in
docs/operations.md and nrm-api/openapi.yaml and those served are the
same, both ways; the text passes `promtool check metrics`; a histogram's
count moves by exactly one per request; routes are patterns, never raw
paths (no ids)."""

import re
import shutil
import subprocess
import uuid

import pytest
import requests

from nrm_e2e.daemon import DaemonPool
from nrm_e2e.env import NRMCTL, ROOT, clean_env, wait_for

DOCS = ROOT / "docs" / "operations.md"
RULES = ROOT / "config" / "prometheus" / "nrm-rules.yml"
DASHBOARD = ROOT / "config" / "grafana" / "nrm-dashboard.json"
OPENAPI = ROOT / "nrm-api" / "openapi.yaml"


def served(d):
    r = requests.get(d.url + "/metrics", timeout=5)
    assert r.status_code == 200, r.text[:200]
    return r.text


def families(text):
    return set(re.findall(r"(?m)^# TYPE (\S+) \S+$", text))


def documented_in_docs():
    """Families in the metrics table of docs/operations.md: the first
    column of each row, in backticks."""
    text = DOCS.read_text()
    return set(re.findall(r"(?m)^\| `((?:nrm|process)_[a-z0-9_]+)` \|",
                          text))


def documented_in_openapi():
    """Families listed in the /metrics operation's description."""
    text = OPENAPI.read_text()
    m = re.search(r"(?ms)^  /metrics:\n(.*?)^  /", text)
    assert m, "no /metrics path in openapi.yaml"
    return set(re.findall(r"`((?:nrm|process)_[a-z0-9_]+)`", m.group(1)))


@pytest.fixture(scope="module")
def full(workdir, cluster, pki):
    """A daemon with checkpoints on, so every family is present, after
    its first seal and checkpoint ticks."""
    tag = uuid.uuid4().hex[:8]
    key = workdir / ("metrics-key-%s.pem" % tag)
    subprocess.run([str(NRMCTL), "audit", "keygen", "--out", str(key)],
                   env=clean_env(), check=True, capture_output=True)
    pool = DaemonPool(workdir, cluster, pki)
    d = pool(config={
        "audit_signing_key_file": key,
        "audit_checkpoint_file": workdir / ("metrics-cp-%s.jsonl" % tag),
        "audit_checkpoint_interval": 1})
    wait_for(lambda: "nrm_audit_unsealed_events " in served(d), 15,
             what="the first seal")
    yield d
    pool.close()


def test_families_served_are_documented_both_ways(full):
    # one request of each kind, so no family is empty for want of one
    requests.get(full.url + "/healthz", timeout=5)
    have = families(served(full))
    docs = documented_in_docs()
    api = documented_in_openapi()
    assert docs, "no metrics table in docs/operations.md"
    assert have - docs == set(), "served, not in docs/operations.md"
    assert docs - have == set(), "in docs/operations.md, not served"
    assert have - api == set(), "served, not in openapi.yaml /metrics"
    assert api - have == set(), "in openapi.yaml /metrics, not served"


def count_of(text, series):
    m = re.search(r"(?m)^%s (\d+)$" % re.escape(series), text)
    return int(m.group(1)) if m else 0


def test_histogram_count_moves_by_one_per_request(full):
    series = ('nrm_http_request_duration_seconds_count{method="GET",'
              'route="/healthz",class="2xx"}')
    inf = ('nrm_http_request_duration_seconds_bucket{method="GET",'
           'route="/healthz",class="2xx",le="+Inf"}')
    before = served(full)
    assert requests.get(full.url + "/healthz", timeout=5).status_code == 200
    after = served(full)
    assert count_of(after, series) == count_of(before, series) + 1
    assert count_of(after, inf) == count_of(before, inf) + 1
    for _ in range(3):
        requests.get(full.url + "/healthz", timeout=5)
    assert count_of(served(full), series) == count_of(after, series) + 3


def test_routes_are_patterns_not_paths(full):
    case = str(uuid.uuid4())
    requests.get(full.url + "/v1/cases/" + case, timeout=5)
    requests.get(full.url + "/no/such/" + case, timeout=5)
    text = served(full)
    assert case not in text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert "/v1/cases/{id}" in routes, routes
    assert "other" in routes
    assert all(r == "other" or r.startswith("/") for r in routes), routes


def test_process_and_build_info(full):
    text = served(full)
    m = re.search(r'(?m)^nrm_build_info\{version="([^"]+)",'
                  r'schema_version="(\d+)"\} 1$', text)
    assert m, "nrm_build_info missing"
    fds = count_of(text, "process_open_fds")
    mx = count_of(text, "process_max_fds")
    assert 0 < fds < mx
    start = float(re.search(r"(?m)^process_start_time_seconds (\S+)$",
                            text).group(1))
    assert start > 1.7e9
    assert count_of(text, "nrm_db_pool_size") >= 1
    assert re.search(r"(?m)^nrm_audit_checkpoint_age_seconds \d+$", text)
    assert re.search(r"(?m)^nrm_db_queue_wait_seconds_count \d+$", text)


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="promtool (Debian package prometheus) missing")
def test_promtool_check_metrics(full):
    requests.get(full.url + "/healthz", timeout=5)
    p = subprocess.run(["promtool", "check", "metrics"],
                       input=served(full), capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def used_families(text):
    names = set(re.findall(r"\b((?:nrm|process)_[a-z0-9_]+)", text))
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def test_rules_and_dashboard_read_served_families(full):
    """An alert or a panel on a family nrmd does not serve never fires
    and never draws: each one they read is served."""
    have = families(served(full))
    for f in (RULES, DASHBOARD):
        used = used_families(f.read_text())
        assert used, f
        assert used - have == set(), "%s reads what is not served" % f.name


def test_queue_wait_observes_every_query_sent(full):
    """Every query sent is one observation of the pool's queue wait: the
    histogram's count and nrm_db_queries_total move together."""
    assert requests.get(full.url + "/readyz", timeout=5).status_code == 200
    text = served(full)
    sent = count_of(text, "nrm_db_queries_total")
    assert sent > 0
    assert count_of(text, "nrm_db_queue_wait_seconds_count") == sent
    assert count_of(text, 'nrm_db_queue_wait_seconds_bucket{le="+Inf"}') \
        == sent
