"""Transport policy (issue 14 part 4): forward-secret suites only, HSTS
on HTTPS and never on plain HTTP, key files readable by their owner only,
and the server certificate reloaded on SIGHUP."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import requests

from nrm_e2e.api import metric
from nrm_e2e.env import NRMD, clean_env, wait_for
from nrm_e2e.pki import CA
from nrm_e2e.rawhttp import tls_client


def _client(version, ciphers=None):
    # this client offers what it is told, weak or not
    return tls_client(version, ciphers=ciphers or "DEFAULT")


def _handshake(port, ctx):
    """(protocol, cipher, server certificate DER) or the exception."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                return t.version(), t.cipher()[0], \
                    t.getpeercert(binary_form=True)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
        return e


@pytest.fixture(scope="module")
def rsa_pki(workdir):
    """An RSA server certificate: with one, the RSA key exchange suites
    could be negotiated at all, so refusing them is the policy's doing."""
    d = workdir / "rsa-pki"
    d.mkdir(exist_ok=True)
    ca = CA("nrm test server CA")
    cert, key, _ = ca.issue_files(d, "server-rsa", kind="rsa", server=True)
    return {"cert": cert, "key": key}


@pytest.fixture(scope="module")
def rsa_nrmd(workdir, cluster, pki, rsa_pki):
    from nrm_e2e.daemon import one_daemon
    yield from one_daemon(workdir, cluster, pki, config={
        "tls_cert_file": rsa_pki["cert"], "tls_key_file": rsa_pki["key"]})


@pytest.mark.parametrize("cipher", [
    "AES128-GCM-SHA256",  # RSA key exchange: not forward secret
    "AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256",  # finite-field DHE: not in the policy
    "ECDHE-RSA-AES128-SHA",  # ECDHE but CBC, not AEAD
    "ECDHE-RSA-AES128-SHA256",
])
def test_tls12_suites_outside_the_policy_refused(rsa_nrmd, cipher):
    got = _handshake(rsa_nrmd.tls_port,
                     _client(ssl.TLSVersion.TLSv1_2, cipher))
    assert isinstance(got, Exception), "nrmd accepted %s: %r" % (cipher,
                                                                   got)
    # the server refused: this client could offer the suite
    assert "NO_CIPHERS_AVAILABLE" not in str(got), got
    rsa_nrmd.assert_running()


@pytest.mark.parametrize("cipher", [
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305"])
def test_tls12_ecdhe_aead_accepted(rsa_nrmd, cipher):
    got = _handshake(rsa_nrmd.tls_port,
                     _client(ssl.TLSVersion.TLSv1_2, cipher))
    assert not isinstance(got, Exception), got
    assert got[:2] == ("TLSv1.2", cipher)


def test_tls13_accepted_and_tls11_refused(rsa_nrmd, nrmd):
    for d in (rsa_nrmd, nrmd):
        got = _handshake(d.tls_port, _client(ssl.TLSVersion.TLSv1_3))
        assert not isinstance(got, Exception), got
        assert got[0] == "TLSv1.3"
        got = _handshake(d.tls_port, _client(ssl.TLSVersion.TLSv1_1))
        assert isinstance(got, Exception), got
        assert "NO_PROTOCOLS_AVAILABLE" not in str(got), got
    # the EC certificate of the suite: ECDHE-ECDSA with AES-GCM
    got = _handshake(nrmd.tls_port, _client(ssl.TLSVersion.TLSv1_2,
                                            "ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert got[:2] == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"), got


def test_hsts_on_https_only(nrmd, pki):
    for path, status in (("/healthz", 200), ("/nope", 404),
                         ("/v1/signals", 401)):
        r = requests.get(nrmd.tls_url + path, verify=str(pki["cert"]),
                         timeout=5)
        assert r.status_code == status
        assert r.headers.get("Strict-Transport-Security") == \
            "max-age=31536000", (path, r.headers)
        r = requests.get(nrmd.url + path, timeout=5)
        assert r.status_code == status
        assert "Strict-Transport-Security" not in r.headers, (path,
                                                              r.headers)


# --------------------------------------------------------------------------
# key files: the owner's alone


def _start_fails(d):
    p = subprocess.run([str(NRMD), "--config", str(d.config_path)],
                       capture_output=True, text=True, timeout=30,
                       env=clean_env())
    return p.returncode, p.stdout + p.stderr


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
@pytest.mark.parametrize("which", ["tls_key_file", "pseudonym_key_file",
                                   "audit_signing_key_file"])
def test_key_file_readable_by_others_refused(nrmd_factory, tmp_path, pki,
                                             which, mode):
    src = {"tls_key_file": pki["key"],
           "pseudonym_key_file": pki["pseudonym"]}.get(which)
    f = tmp_path / ("copy-" + which)
    if src is None:
        subprocess.run([str(NRMD).replace("nrmd", "nrmctl"), "audit",
                        "keygen", "--out", str(f)], check=True,
                       capture_output=True, env=clean_env())
    else:
        shutil.copy(src, f)
    os.chmod(f, mode)
    cfg = {which: f, "audit_checkpoint_file": tmp_path / "cp.jsonl"}
    d = nrmd_factory(config=cfg, start=False)
    rc, out = _start_fails(d)
    assert rc == 1, out
    assert which in out and "chmod 600" in out, out
    assert "%04o" % mode in out, out
    # the contents never reach the log
    assert f.read_text().strip().splitlines()[-1][:20] not in out
    # 0600 starts
    os.chmod(f, 0o600)
    d2 = nrmd_factory(config=cfg)
    assert requests.get(d2.url + "/healthz", timeout=5).status_code == 200


def test_reload_refuses_a_key_file_others_can_read(nrmd_factory, tmp_path,
                                                   pki):
    key = tmp_path / "tls-key.pem"
    shutil.copy(pki["key"], key)
    os.chmod(key, 0o600)
    d = nrmd_factory(config={"tls_key_file": key})
    failures = metric(d, "nrm_config_reload_failures_total")
    os.chmod(key, 0o644)
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: metric(d, "nrm_config_reload_failures_total") >
             failures, 10, what="the refused reload")
    assert "reload refused" in d.log_text()
    assert "key=tls_key_file" in d.log_text()
    r = requests.get(d.tls_url + "/healthz", verify=str(pki["cert"]),
                     timeout=5)
    assert r.status_code == 200


def test_fixture_keys_are_owner_only(pki):
    for f in (pki["key"], pki["pseudonym"]):
        assert f.stat().st_mode & 0o077 == 0, f



# --------------------------------------------------------------------------
# the database connection: libpq's TLS settings from database_url


def test_database_url_sslmode_is_honoured(nrmd_factory, cluster):
    """sslmode in database_url reaches libpq unchanged (nrmd adds only
    options and application_name): a value libpq does not know stops
    every connection, so nrmd never becomes ready, while verify-full
    connects (the test cluster listens on a Unix socket only, where
    libpq uses no TLS; over TCP verify-full checks the server's
    certificate against sslrootcert, docs/security.md)."""
    sep = "&" if "?" in cluster.app_url else "?"
    d = nrmd_factory(config={
        "database_url": cluster.app_url + sep + "sslmode=verify-all",
        "log_level": "debug"}, wait_ready=False)
    d.wait_listening()
    wait_for(lambda: "database connect failed" in d.log_text() or
             "could not start connection" in d.log_text(), 15,
             what="a refused database connect")
    for _ in range(10):
        r = requests.get(d.url + "/readyz", timeout=5)
        assert r.status_code == 503, r.text
        time.sleep(0.2)
    d2 = nrmd_factory(config={
        "database_url": cluster.app_url + sep + "sslmode=verify-full"})
    assert requests.get(d2.url + "/readyz", timeout=5).status_code == 200
