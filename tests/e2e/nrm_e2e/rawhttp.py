"""HTTP on a bare socket, for what the requests library will not send or
read: half requests, slow peers, hostile bytes, responses read without
waiting for the close, thousands of long-polls held by one thread.
"""

import re
import socket
import ssl
import time
import warnings

def raw_exchange(port, data, timeout=5.0, host="127.0.0.1"):
    """Send raw bytes, read until the server closes or `timeout` passes.

    Returns (bytes read, closed_by_server)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        if data:
            s.sendall(data)
        return read_until_close(s, timeout)
    finally:
        s.close()


def read_until_close(s, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return buf, False
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return buf, False
        except (ConnectionResetError, BrokenPipeError):
            return buf, True
        if not chunk:
            return buf, True
        buf += chunk


def read_response(s, timeout):
    """Read one HTTP response (headers and a Content-Length body) from s,
    without waiting for the connection to close.  Returns (status,
    headers, body), or None when the server closed or timed out first."""
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if sep:
            m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
            need = int(m.group(1)) if m else 0
            if len(rest) >= need:
                return parse_http(buf)
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return None
        if not chunk:
            return None
        buf += chunk


def raw_request(port, data, timeout=10.0):
    """Send raw bytes; the first response as (status, headers, body), or
    None when the server closed without one."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        return read_response(s, timeout)
    finally:
        s.close()


def parse_http(raw):
    """(status, {lower header: value}, body) of the first response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    assert m, "not an HTTP response: %r" % raw[:200]
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return int(m.group(1)), headers, body


def open_longpoll(d, key, after, limit, wait):
    """A long-poll GET /v1/inbox of key on daemon d, sent on a new
    non-blocking socket (to register with a selector, collect())."""
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(("GET /v1/inbox?after=%s&wait=%d&limit=%d HTTP/1.1\r\n"
               "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
               "Connection: close\r\n\r\n"
               % (after, wait, limit, key.token)).encode())
    s.setblocking(False)
    return s


def collect(sel, n, deadline):
    """Read the sockets registered with selector sel (each with a
    bytearray as its data) to their end, until n have ended or the
    monotonic deadline: {sock: bytes} of those that ended, each closed
    and unregistered (the others stay registered)."""
    done = {}
    while len(done) < n and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                key.data.extend(data)
                continue
            done[s] = bytes(key.data)
            sel.unregister(s)
            s.close()
    return done


def tls_client(max_version, min_version=None, ciphers="DEFAULT"):
    """A TLS client context that checks no certificate and offers the
    protocols min_version (default: max_version) to max_version and the
    OpenSSL cipher list `ciphers`, weak or old ones too (security level
    0: OpenSSL 3 refuses TLS < 1.2 at its default level), so that a
    refusal is the server's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = min_version or max_version
        ctx.maximum_version = max_version
        ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
    return ctx
