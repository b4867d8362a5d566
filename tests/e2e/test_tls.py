"""HTTPS: the TLS listener serves the API with TLS 1.2+ only."""

import socket
import ssl

import requests

from nrm_e2e.api import (
    assert_problem, assert_receipt, get_receipt, post_signal)
from nrm_e2e.rawhttp import raw_exchange, tls_client
from nrm_e2e.signals import adult_signal


def test_https_serves_the_api(nrmd, pki, keys):
    r = requests.get(nrmd.tls_url + "/healthz", verify=str(pki["cert"]),
                     timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    rec = assert_receipt(post_signal(nrmd.tls_url, keys["reporter"].token,
                                     adult_signal(),
                                     verify=str(pki["cert"])))
    g = get_receipt(nrmd.tls_url, keys["reporter"].token, rec["signal_id"],
                    verify=str(pki["cert"]))
    assert g.status_code == 200 and g.json() == rec
    # the same data through the plain listener
    g = get_receipt(nrmd, keys["reporter"].token, rec["signal_id"])
    assert g.status_code == 200 and g.json() == rec
    r = requests.get(nrmd.tls_url + "/nope", verify=str(pki["cert"]),
                     timeout=5)
    assert_problem(r, 404, "not_found")


def _tls_context(max_version, min_version=ssl.TLSVersion.TLSv1):
    return tls_client(max_version, min_version)


def _handshake(port, ctx):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return t.version()


def test_tls12_and_tls13_accepted(nrmd):
    assert _handshake(nrmd.tls_port,
                      _tls_context(ssl.TLSVersion.TLSv1_2)) == "TLSv1.2"
    assert _handshake(nrmd.tls_port, _tls_context(
        ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)) == "TLSv1.3"


def test_tls11_and_tls10_refused(nrmd):
    for version in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
        ctx = _tls_context(version)
        try:
            v = _handshake(nrmd.tls_port, ctx)
        except ssl.SSLError as e:
            # refused by the server, not by this client's own settings
            assert "NO_PROTOCOLS_AVAILABLE" not in str(e), e
            assert "NO_CIPHERS_AVAILABLE" not in str(e), e
        except (ConnectionResetError, BrokenPipeError):
            pass
        else:
            raise AssertionError("nrmd accepted %s" % v)
    nrmd.assert_running()


def test_garbage_and_plain_http_on_tls_port(nrmd, pki):
    for data in (b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                 b"\x16\x03\x01\x00\x05hello", b"\x00" * 100):
        try:
            raw_exchange(nrmd.tls_port, data, timeout=3)
        except OSError:
            pass
    nrmd.assert_running()
    r = requests.get(nrmd.tls_url + "/healthz", verify=str(pki["cert"]),
                     timeout=5)
    assert r.status_code == 200


def test_abandoned_handshakes_do_not_block(nrmd, pki):
    socks = [socket.create_connection(("127.0.0.1", nrmd.tls_port))
             for _ in range(20)]
    try:
        r = requests.get(nrmd.tls_url + "/healthz", verify=str(pki["cert"]),
                         timeout=5)
        assert r.status_code == 200
    finally:
        for s in socks:
            s.close()
