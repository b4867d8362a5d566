"""Mutual TLS (issue 14 part 4): a client CA on the HTTPS listener, a
listener that requires a client certificate, and an API key bound to one
certificate (nrmctl key bind) so that its token alone is refused on
every route.  The CA and every certificate are made by the test."""

import socket
import ssl
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, auth
from nrm_e2e.pg import create_key, key_id
from nrm_e2e.pki import CA


@pytest.fixture(scope="module")
def certs(workdir):
    d = workdir / "mtls"
    d.mkdir(exist_ok=True)
    ca, other_ca = CA("nrm test agency CA"), CA("some other CA")
    out = {"ca": ca.write(d / "ca.pem")}
    for name, issuer, kw in (("good", ca, {}), ("second", ca, {}),
                             ("expired", ca, {"expired": True}),
                             ("foreign", other_ca, {})):
        cert, key, fp = issuer.issue_files(d, name, **kw)
        out[name] = (str(cert), str(key))
        out[name + "_sha256"] = fp
    return out


@pytest.fixture(scope="module")
def required(nrmd_module_pool, certs):
    return nrmd_module_pool(config={"tls_client_ca_file": certs["ca"],
                                    "tls_client_cert_required": "true"})


@pytest.fixture(scope="module")
def optional(nrmd_module_pool, certs):
    return nrmd_module_pool(config={"tls_client_ca_file": certs["ca"]})


@pytest.fixture(scope="module")
def nrmd_module_pool(workdir, cluster, pki):
    from nrm_e2e.daemon import DaemonPool
    pool = DaemonPool(workdir, cluster, pki)
    yield pool
    pool.close()


def _get(d, pki, path, cert=None, headers=None):
    return requests.get(d.tls_url + path, verify=str(pki["cert"]),
                        cert=cert, headers=headers or {}, timeout=5)


def _refused(d, pki, cert):
    """The handshake (or the first exchange, under TLS 1.3) fails."""
    with pytest.raises((requests.exceptions.SSLError,
                        requests.exceptions.ConnectionError)):
        _get(d, pki, "/healthz", cert=cert)


def test_required_listener_refuses_without_a_good_certificate(
        required, pki, certs):
    _refused(required, pki, None)
    _refused(required, pki, certs["foreign"])
    _refused(required, pki, certs["expired"])
    r = _get(required, pki, "/healthz", cert=certs["good"])
    assert r.status_code == 200
    # the plain listener has no TLS at all: unaffected
    assert requests.get(required.url + "/healthz",
                        timeout=5).status_code == 200
    required.assert_running()


def test_optional_listener_asks_but_accepts_none(optional, pki, certs):
    assert _get(optional, pki, "/healthz").status_code == 200
    assert _get(optional, pki, "/healthz",
                cert=certs["good"]).status_code == 200
    # a certificate that does not verify is refused, even when optional
    _refused(optional, pki, certs["foreign"])
    _refused(optional, pki, certs["expired"])


@pytest.fixture(scope="module")
def bound(cluster, certs):
    """A reporter key bound to the "good" certificate, and an unbound
    one of the same agency."""
    agency = "Politie mTLS " + uuid.uuid4().hex[:6]
    k = create_key(cluster, "reporter", agency, "police")
    k.id = key_id(cluster, k)
    out = cluster.nrmctl("key", "bind", "--cert", certs["good"][0],
                         k.id).stdout.strip()
    assert out == certs["good_sha256"]
    free = create_key(cluster, "reporter", agency, "police")
    return k, free


def _denials(cluster, k):
    return cluster.count(
        "select count(*) from audit.event where api_key_id = '%s' and "
        "outcome = 'denied' and reason = 'certificate_mismatch'" % k.id)


# a fixed id: parameters must be the same in every pytest-xdist worker
UNKNOWN_SIGNAL = "/v1/signals/7d1f1a52-3c1e-4c54-9d0b-5b0b2c6c1e01"


@pytest.mark.parametrize("path", ["/v1/signals", UNKNOWN_SIGNAL])
def test_bound_key_needs_its_certificate(optional, pki, certs, bound,
                                         cluster, path):
    k, free = bound
    before = _denials(cluster, k)
    # the stolen token alone: no certificate, another valid one, or the
    # plain listener
    for r in (_get(optional, pki, path, headers=auth(k)),
              _get(optional, pki, path, cert=certs["second"],
                   headers=auth(k)),
              requests.get(optional.url + path, headers=auth(k),
                           timeout=5)):
        assert_problem(r, 401, "unauthenticated")
        assert "certificate" in r.json()["detail"]
        assert r.json().get("certificate_required") is True
    # each try reached the database and was audited: a valid key's
    # refusal is not filed in the rejected-token cache (the plain
    # listener's try repeats the first one's token without a certificate)
    assert _denials(cluster, k) == before + 3
    # with its certificate: served (200 list, 404 unknown signal)
    r = _get(optional, pki, path, cert=certs["good"], headers=auth(k))
    assert r.status_code == (200 if path == "/v1/signals" else 404), r.text
    # an unbound key is unaffected, with or without a certificate
    for cert in (None, certs["second"]):
        r = _get(optional, pki, path, cert=cert, headers=auth(free))
        assert r.status_code == (200 if path == "/v1/signals" else 404)


def test_bind_refuses_bad_input(cluster, certs, tmp_path):
    p = cluster.nrmctl("key", "bind", "--cert", certs["good"][0],
                       str(uuid.uuid4()), check=False)
    assert p.returncode != 0 and "no such key" in p.stderr
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    p = cluster.nrmctl("key", "bind", "--cert", str(junk),
                       str(uuid.uuid4()), check=False)
    assert p.returncode != 0 and "not a PEM certificate" in p.stderr
    p = cluster.nrmctl("key", "bind", "--cert", certs["good"][0], "nope",
                       check=False)
    assert p.returncode != 0


def test_required_without_ca_refused_at_start(nrmd_factory):
    d = nrmd_factory(config={"tls_client_cert_required": "true"},
                     start=False)
    import subprocess
    from nrm_e2e.env import NRMD, clean_env
    p = subprocess.run([str(NRMD), "--config", str(d.config_path)],
                       capture_output=True, text=True, timeout=30,
                       env=clean_env())
    assert p.returncode == 1
    assert "tls_client_cert_required" in p.stdout + p.stderr
