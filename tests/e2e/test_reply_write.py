"""How a reply leaves nrmd (issue 16, nrm-api/nrmd/http.c http_write_now):
a reply answered from a database callback is written to its socket at
once and evhttp is told it is sent, instead of waiting for the loop's
next turn to report the socket writable.  Replies built inside evhttp's
own callback (/healthz, refusals) still go the loop's way.  These tests
pin what that must not change: pipelined requests on one connection are
answered in order, Connection: close still closes after a complete
answer, and an answer larger than the socket takes at once still
arrives whole to a client that reads late."""

import json
import socket
import time

from nrm_e2e.api import assert_receipt, post_signal
from nrm_e2e.cases import MUNICIPALITY
from nrm_e2e.rawhttp import read_until_close, parse_http
from nrm_e2e.signals import adult_signal


def _get(path, token=None, close=False):
    head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
    if token is not None:
        head += "Authorization: Bearer %s\r\n" % token
    if close:
        head += "Connection: close\r\n"
    return (head + "\r\n").encode()


def _signal(d, reporter):
    body = adult_signal()
    body["location"] = {"municipality_code": MUNICIPALITY["VR13"]}
    assert_receipt(post_signal(d, reporter.token, body))


def _read_n(s, n, timeout=10.0):
    """n responses read off one connection, in the order they came."""
    out, buf = [], b""
    deadline = time.monotonic() + timeout
    while len(out) < n:
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if sep:
            status, headers, body = parse_http(buf)
            need = int(headers.get("content-length", "0"))
            if len(rest) >= need:
                out.append((status, headers, rest[:need]))
                buf = rest[need:]
                continue
        left = deadline - time.monotonic()
        assert left > 0, "only %d of %d answers came" % (len(out), n)
        s.settimeout(left)
        chunk = s.recv(65536)
        assert chunk, "nrmd closed after %d of %d answers" % (len(out), n)
        buf += chunk
    assert buf == b"", "bytes after the last answer: %r" % buf[:80]
    return out


def test_pipelined_answers_come_in_order(nrmd, keys):
    """Database-answered (inbox) and loop-answered (healthz) requests sent
    at once on one connection: every one answered, in order, each with
    its own request id, the connection still open after."""
    _signal(nrmd, keys["reporter"])
    co = keys["coordinator"].token
    order = ["inbox", "health", "inbox", "inbox", "health", "inbox"]
    data = b"".join(_get("/v1/inbox?limit=5", co) if o == "inbox"
                    else _get("/healthz") for o in order)
    with socket.create_connection(("127.0.0.1", nrmd.port)) as s:
        s.sendall(data)
        answers = _read_n(s, len(order))
        ids = [h["x-request-id"] for _, h, _ in answers]
        assert len(set(ids)) == len(ids), ids
        for what, (status, headers, body) in zip(order, answers):
            assert status == 200, (what, status, body[:200])
            doc = json.loads(body)
            if what == "inbox":
                assert headers["content-type"] == "application/json"
                assert len(doc["items"]) >= 1, doc
                assert "after" in doc, doc
            else:
                assert "items" not in doc, doc
        # still open and serving: one more on the same connection
        s.sendall(_get("/v1/inbox?limit=1", co))
        status, _, body = _read_n(s, 1)[0]
        assert status == 200 and len(json.loads(body)["items"]) == 1


def test_connection_close_after_a_complete_answer(nrmd, keys):
    """Connection: close on a database-answered request: the whole answer
    (its Content-Length), then the close."""
    _signal(nrmd, keys["reporter"])
    with socket.create_connection(("127.0.0.1", nrmd.port)) as s:
        s.sendall(_get("/v1/inbox?limit=3", keys["coordinator"].token,
                       close=True))
        raw, closed = read_until_close(s, 10)
    assert closed, "nrmd kept the connection open after Connection: close"
    status, headers, body = parse_http(raw)
    assert status == 200, raw[:300]
    assert headers.get("connection") == "close", headers
    assert len(body) == int(headers["content-length"])
    assert len(json.loads(body)["items"]) >= 1


def test_answers_to_a_late_reader_arrive_whole(nrmd, keys):
    """Large inbox pages, pipelined, to a client with a small receive
    window that does not read for a while: nrmd's socket fills, what a
    write does not take is left to the loop (the bufferevent's own write
    event), and the client gets every answer whole and in order, then
    the connection serves the next request."""
    for _ in range(40):
        _signal(nrmd, keys["reporter"])
    co = keys["coordinator"].token
    n = 300
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    s.connect(("127.0.0.1", nrmd.port))
    try:
        s.sendall(_get("/v1/inbox?limit=200", co) * n)
        time.sleep(1.5)  # not reading: nrmd's socket fills
        answers = _read_n(s, n, timeout=60)
        # Whole (each body its Content-Length, _read_n) and in order:
        # request ids are numbered as requests arrive.  The page itself
        # may grow meanwhile (other tests add cases to the same region).
        seqs = [int(h["x-request-id"].rsplit("-", 1)[1])
                for _, h, _ in answers]
        assert seqs == sorted(seqs) and len(set(seqs)) == n, seqs
        assert sum(len(b) for _, _, b in answers) > 5000000, \
            "the answers are too small to fill a socket"
        for status, headers, body in answers:
            assert status == 200, body[:200]
            assert len(json.loads(body)["items"]) >= 40
        s.sendall(_get("/healthz"))
        assert _read_n(s, 1)[0][0] == 200
    finally:
        s.close()
