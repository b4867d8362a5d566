"""Who may read GET /metrics: loopback clients by default, or whoever
presents the token of metrics_token_file once one is set.  The counts
hold no personal data, but a national intake rate is operations'
business only (issue 5: nothing leaks through counts)."""

import os
import re
import socket
import subprocess

import pytest
import requests

from nrm_e2e.env import NRMD, ROOT, clean_env, free_port, wait_for

TOKEN = "metrics-" + "k3Jq9vT2xW7pL5mN8rB4cZ6yH1dF0gA"


def non_loopback_address():
    """A local IPv4 address that is not loopback, or None (no route)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") else addr


def test_metrics_for_loopback_clients(nrmd):
    r = requests.get(nrmd.url + "/metrics", timeout=5)
    assert r.status_code == 200, r.text[:200]
    assert "nrm_http_requests_total" in r.text


def test_metrics_refused_to_other_clients(nrmd_factory):
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    port = free_port()
    d = nrmd_factory(config={"listen": "0.0.0.0:%d" % port,
                             "allow_remote_plain": "true"},
                     wait_ready=False)
    d.port = port
    d.wait_ready()
    r = requests.get("http://%s:%d/metrics" % (addr, port), timeout=5)
    assert r.status_code == 403, r.text[:200]
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert "nrm_" not in r.text
    # the rest of the API is not affected
    assert requests.get("http://%s:%d/healthz" % (addr, port),
                        timeout=5).status_code == 200
    assert requests.get("http://127.0.0.1:%d/metrics" % port,
                        timeout=5).status_code == 200


def test_metrics_token(nrmd_factory, tmp_path):
    tok = tmp_path / "metrics.token"
    tok.write_text(TOKEN + "\n")
    d = nrmd_factory(config={"metrics_token_file": str(tok)})
    url = d.url + "/metrics"
    r = requests.get(url, timeout=5)
    assert r.status_code == 401, r.text[:200]
    assert "nrm_" not in r.text
    for bad in ("Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x",
                "Basic " + TOKEN, "Bearer"):
        r = requests.get(url, headers={"Authorization": bad}, timeout=5)
        assert r.status_code == 401, (bad, r.status_code)
    r = requests.get(url, headers={"Authorization": "Bearer " + TOKEN},
                     timeout=5)
    assert r.status_code == 200, r.text[:200]
    assert "nrm_http_requests_total" in r.text
    # never in the log
    assert TOKEN not in d.log_text()


@pytest.mark.parametrize("content", ["short\n", "two words and more "
                                     "characters than thirty-two\n", ""])
def test_bad_metrics_token_file_is_refused(nrmd_factory, tmp_path, content):
    tok = tmp_path / "metrics.token"
    tok.write_text(content)
    d = nrmd_factory(config={"metrics_token_file": str(tok)}, start=False)
    p = subprocess.run([str(NRMD), "--config", str(d.config_path)],
                       capture_output=True, text=True, env=clean_env(),
                       timeout=20, cwd=str(ROOT))
    assert p.returncode == 1, (p.returncode, p.stderr[-500:])
    assert "metrics_token_file" in p.stdout + p.stderr


def test_worker_pool_metrics(nrmd_factory):
    """The password-hashing pool (issue 11) is started with the daemon
    and reported on /metrics: a queue gauge, a running gauge and the
    jobs by outcome (no job runs before the people endpoints exist)."""
    d = nrmd_factory(config={"worker_threads": "2", "worker_queue": "5"})
    text = requests.get(d.url + "/metrics", timeout=5).text
    assert "# TYPE nrm_worker_queue_depth gauge" in text
    assert "\nnrm_worker_queue_depth 0\n" in text
    assert "\nnrm_worker_running 0\n" in text
    assert "# TYPE nrm_worker_jobs_total counter" in text
    for outcome in ("completed", "cancelled", "rejected"):
        assert '\nnrm_worker_jobs_total{outcome="%s"} 0\n' % outcome \
            in text, outcome
    assert "workers=2" in d.log_text()


def gauge(d, name):
    text = requests.get(d.url + "/metrics", timeout=5).text
    m = re.search(r"(?m)^%s (\S+)$" % re.escape(name), text)
    assert m, name
    return float(m.group(1))


def test_pool_follows_the_cores(nrmd_factory):
    """db_pool_size left out (issue 16): 2 x the online CPUs + 1 (at
    most 64), logged at start-up with the CPU count, reported on
    /metrics, and opened (connections up: the pool and the jobs' own
    one).  An explicit value wins over the formula."""
    cpus = os.sysconf("SC_NPROCESSORS_ONLN")
    want = min(2 * cpus + 1, 64)
    d = nrmd_factory(config={"db_pool_size": None})
    assert "db_pool_size" not in d.config_path.read_text()
    assert gauge(d, "nrm_db_pool_size") == want
    assert "pool=%d cpus=%d " % (want, cpus) in d.log_text()
    wait_for(lambda: gauge(d, "nrm_db_connections_up") == want + 1, 20,
             what="%d connections up" % (want + 1))
    explicit = 3 if want != 3 else 2
    d = nrmd_factory(config={"db_pool_size": explicit})
    assert gauge(d, "nrm_db_pool_size") == explicit
    assert "pool=%d cpus=%d " % (explicit, cpus) in d.log_text()
    wait_for(lambda: gauge(d, "nrm_db_connections_up") == explicit + 1, 20,
             what="%d connections up" % (explicit + 1))


def test_sigterm_joins_the_workers(nrmd_factory):
    """SIGTERM drains, joins the pool's threads and exits 0 with a clean
    log (under ASan: no leak, no report)."""
    d = nrmd_factory(config={"worker_threads": "3"})
    assert requests.get(d.url + "/healthz", timeout=5).status_code == 200
    d.assert_clean_exit()
    assert 'msg="stopped"' in d.log_text(), d.log_text()[-2000:]


@pytest.mark.parametrize("key,value", [("worker_threads", "65"),
                                       ("worker_queue", "0"),
                                       ("cracklib_dict", "/nonexistent/d")])
def test_worker_and_dictionary_settings_are_checked(nrmd_factory, key,
                                                    value):
    d = nrmd_factory(config={key: value}, start=False)
    p = subprocess.run([str(NRMD), "--config", str(d.config_path)],
                       capture_output=True, text=True, env=clean_env(),
                       timeout=20, cwd=str(ROOT))
    assert p.returncode == 1, (p.returncode, p.stderr[-500:])
    assert key in p.stdout + p.stderr
