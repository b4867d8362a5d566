"""Process lifecycle: command line, configuration checks, SIGHUP reload,
graceful shutdown."""

import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from nrm_e2e.api import assert_receipt, post_signal, signal_headers
from nrm_e2e.env import NRMD, ROOT, clean_env, free_port, wait_for
from nrm_e2e.rawhttp import read_response
from nrm_e2e.sealed import signal_ids_by_reference
from nrm_e2e.signals import adult_signal


def nrmd_cli(args, env=None, timeout=20):
    e = clean_env()
    if env:
        e.update(env)
    return subprocess.run([str(NRMD), *args], capture_output=True,
                          text=True, env=e, timeout=timeout, cwd=str(ROOT))


def test_help_and_version(tmp_path):
    p = nrmd_cli(["--help"])
    assert p.returncode == 0, p.stderr
    assert "--config" in p.stdout + p.stderr
    assert "--check-config" in p.stdout + p.stderr
    p = nrmd_cli(["--version"])
    assert p.returncode == 0, p.stderr
    assert any(c.isdigit() for c in p.stdout), p.stdout


def test_unknown_option_fails():
    p = nrmd_cli(["--no-such-option"])
    assert p.returncode != 0


def test_check_config_ok(nrmd_factory):
    d = nrmd_factory(start=False)
    p = nrmd_cli(["--config", str(d.config_path), "--check-config"])
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("line,key", [
    ("bogus_key = 1", "bogus_key"),
    ("db_pool_size = 0", "db_pool_size"),
    ("db_pool_size = 65", "db_pool_size"),
    ("max_body_size = 12", "max_body_size"),
    ("client_timeout = soon", "client_timeout"),
    ("retry_after = -1", "retry_after"),
    ("allow_remote_plain = perhaps", "allow_remote_plain"),
    ("log_level = loud", "log_level"),
    ("listen = nowhere", "listen"),
], ids=["unknown", "pool_zero", "pool_big", "body_small", "timeout_word",
        "retry_negative", "bool_word", "log_level", "listen"])
def test_bad_config_exits_1_naming_key(nrmd_factory, line, key):
    d = nrmd_factory(start=False)
    d.config_path.write_text(d.config_path.read_text() + line + "\n")
    for args in (["--check-config"], []):
        p = nrmd_cli(["--config", str(d.config_path), *args])
        assert p.returncode == 1, (args, p.returncode, p.stderr)
        assert key in p.stdout + p.stderr, (args, p.stderr)


@pytest.mark.parametrize("var,value,key", [
    ("NRM_DB_POOL_SIZE", "0", "db_pool_size"),
    ("NRM_MAX_CONNECTIONS", "many", "max_connections"),
])
def test_bad_environment_override_exits_1(nrmd_factory, var, value, key):
    d = nrmd_factory(start=False)
    p = nrmd_cli(["--config", str(d.config_path), "--check-config"],
                 env={var: value})
    assert p.returncode == 1
    assert key in (p.stdout + p.stderr).lower()


def test_environment_overrides_listen(nrmd_factory):
    port = free_port()
    d = nrmd_factory(env={"NRM_LISTEN": "127.0.0.1:%d" % port},
                     wait_ready=False)
    d.port = port  # the environment wins over the file
    d.wait_ready()
    r = requests.get("http://127.0.0.1:%d/healthz" % port, timeout=5)
    assert r.status_code == 200
    d.port = int(d.config["listen"].rsplit(":", 1)[1])
    with pytest.raises(requests.ConnectionError):
        requests.get(d.url + "/healthz", timeout=2)


def test_bad_pseudonym_key_file_refused(nrmd_factory, tmp_path):
    bad = tmp_path / "short.key"
    bad.write_text("abcdef\n")
    d = nrmd_factory(config={"pseudonym_key_file": bad}, start=False)
    p = nrmd_cli(["--config", str(d.config_path)])
    assert p.returncode == 1
    assert "pseudonym_key_file" in p.stdout + p.stderr


def test_kek_file_others_may_read_refused(nrmd_factory, tmp_path):
    """The key-encryption key of personal data: a file group or others
    may read is refused at start, and the log names the config key (and
    never the key itself)."""
    kek = tmp_path / "data.kek"
    secret = os.urandom(32).hex()
    kek.write_text(secret + "\n")
    os.chmod(kek, 0o644)
    d = nrmd_factory(config={"data_kek_file": kek}, start=False)
    p = nrmd_cli(["--config", str(d.config_path)])
    assert p.returncode == 1
    assert "data_kek_file" in p.stdout + p.stderr
    assert "0644" in p.stdout + p.stderr
    assert secret not in p.stdout + p.stderr
    # the same file at mode 600 starts
    os.chmod(kek, 0o600)
    d2 = nrmd_factory(config={"data_kek_file": kek})
    assert requests.get(d2.url + "/healthz", timeout=5).status_code == 200
    assert secret not in d2.log_text()


def test_missing_config_file_refused(tmp_path):
    p = nrmd_cli(["--config", str(tmp_path / "nope.conf"), "--check-config"])
    assert p.returncode == 1


def test_plain_listener_refuses_non_loopback(nrmd_factory):
    port = free_port()
    d = nrmd_factory(config={"listen": "0.0.0.0:%d" % port}, start=False)
    p = nrmd_cli(["--config", str(d.config_path)], timeout=20)
    assert p.returncode == 1
    assert "listen" in p.stdout + p.stderr
    assert "allow_remote_plain" in p.stdout + p.stderr
    # explicitly allowed: the configuration is accepted
    d.config["allow_remote_plain"] = "true"
    d.write_config()
    p = nrmd_cli(["--config", str(d.config_path), "--check-config"])
    assert p.returncode == 0, p.stderr


def test_sighup_with_broken_config_keeps_serving(nrmd_factory, keys):
    d = nrmd_factory()
    good = d.config_path.read_text()
    d.config_path.write_text(good + "no_such_key = 1\n")
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: "no_such_key" in d.log_text(), 5,
             what="a log line naming the bad key")
    d.assert_running()
    assert requests.get(d.url + "/readyz", timeout=5).status_code == 200
    assert_receipt(post_signal(d, keys["reporter"].token, adult_signal()))
    # a good file reloads too, and the daemon still serves
    d.config_path.write_text(good.replace("retry_after = 2",
                                          "retry_after = 3"))
    d.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    d.assert_running()
    assert_receipt(post_signal(d, keys["reporter"].token, adult_signal()))


def test_sigint_exits_0(nrmd_factory):
    d = nrmd_factory()
    assert d.stop(signal.SIGINT) == 0


def _half_sent(d, token, body):
    """Open a connection and send the headers and half the body."""
    data = json.dumps(body).encode()
    h = signal_headers(token)
    head = "POST /v1/signals HTTP/1.1\r\nHost: t\r\n"
    head += "".join("%s: %s\r\n" % kv for kv in h.items())
    head += "Content-Length: %d\r\n\r\n" % len(data)
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    half = len(data) // 2
    s.sendall(head.encode() + data[:half])
    return s, data[half:]


def test_graceful_shutdown_finishes_in_flight(nrmd_factory, db, keys):
    d = nrmd_factory(config={"shutdown_timeout": 10})
    tok = keys["reporter"].token
    bodies = [adult_signal() for _ in range(5)]
    conns = [_half_sent(d, tok, b) for b in bodies]
    time.sleep(0.3)  # the daemon has read the halves
    d.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    # still running: it waits for the requests it has begun
    assert d.proc.poll() is None, "nrmd exited with requests in flight"
    # no new request is served any more: refused, or a 503
    try:
        r = requests.get(d.url + "/healthz", timeout=2)
    except requests.RequestException:
        pass
    else:
        assert r.status_code == 503, r.status_code
    answers = []
    for s, rest in conns:
        s.sendall(rest)
        answers.append(read_response(s, 10))
        s.close()
    for resp in answers:
        assert resp is not None, "an in-flight request got no answer"
        status, _headers, body = resp
        assert status == 201, (status, body[:300])
    rc = d.proc.wait(15)
    assert rc == 0
    # the references are stored sealed (issue 15): opened with the KEK
    by_ref = signal_ids_by_reference(db, db.kek_file)
    for b in bodies:
        assert len(by_ref.get(b["reporter_reference"], [])) == 1


def test_graceful_shutdown_many_in_flight(nrmd_factory, keys):
    d = nrmd_factory()
    tok = keys["reporter"].token
    results = []
    go = threading.Barrier(9)

    def worker():
        s = requests.Session()
        go.wait()
        for _ in range(5):
            try:
                r = post_signal(d, tok, adult_signal(), session=s)
                results.append(r.status_code)
            except requests.ConnectionError:
                results.append("refused")
                break
        s.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    go.wait()
    time.sleep(0.05)
    d.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(30)
    assert d.proc.wait(20) == 0
    # every answer that came was a 201 or a 503 (shutting down); nothing
    # was cut off halfway
    assert set(results) <= {201, 503, "refused"}, results
    assert 201 in results


def test_shutdown_timeout_bounds_a_stuck_client(nrmd_factory, keys):
    d = nrmd_factory(config={"shutdown_timeout": 1, "client_timeout": 60})
    s, _rest = _half_sent(d, keys["reporter"].token, adult_signal())
    time.sleep(0.3)
    t0 = time.monotonic()
    d.send_signal(signal.SIGTERM)
    rc = d.proc.wait(15)
    assert rc == 0
    assert time.monotonic() - t0 < 6
    s.close()
