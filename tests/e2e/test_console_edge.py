"""The console's edge (issue 12): nrmd serves build/web (make web) from
memory on the TLS listener, with content types, strong ETags and 304,
the precompressed .gz, HEAD, and on every answer (API too) the security
headers; hostile paths find nothing; the plain listener serves no
console; /v1/openapi.yaml and .json serve the API document on both
listeners without a credential.  POST /v1/enrol's answer carries its
otpauth:// URI as a QR code (otpauth_qr) that decodes to that URI."""

import gzip
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess

import pytest
import requests

from nrm_e2e.api import assert_problem
from nrm_e2e.env import OPENAPI, ROOT
from nrm_e2e.openapi import safe_load
from nrm_e2e.rawhttp import parse_http, read_until_close

WEB = ROOT / "build" / "web"

CSP = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def tls_raw(d, request, timeout=10):
    """Send raw request bytes over TLS (no client normalises the path);
    (status, headers, body) of the answer, read until the close."""
    ctx = ssl.create_default_context(cafile=str(d.pki["cert"]))
    with socket.create_connection(("127.0.0.1", d.tls_port),
                                  timeout=timeout) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(request)
            raw, _ = read_until_close(t, timeout)
    return parse_http(raw)


def get_raw(d, path, headers=None, method="GET"):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: localhost",
             "Connection: close"]
    lines += ["%s: %s" % kv for kv in (headers or {}).items()]
    return tls_raw(d, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def served_files():
    """URL path -> file of build/web, as nrmd loads it (no .gz twins)."""
    out = {}
    for dirpath, _, names in os.walk(WEB):
        for n in names:
            if n.endswith(".gz") or n.startswith("."):
                continue
            p = os.path.join(dirpath, n)
            out["/" + os.path.relpath(p, WEB)] = p
    return out


def etag_of(data):
    return '"%s"' % hashlib.sha256(data).hexdigest()


def assert_security_headers(h):
    """h: a dict with lower-case keys."""
    h = {k.lower(): v for k, v in h.items()}
    assert h.get("content-security-policy") == CSP, h
    assert h.get("x-content-type-options") == "nosniff", h
    assert h.get("referrer-policy") == "no-referrer", h


@pytest.fixture(scope="module")
def files():
    f = served_files()
    assert "/index.html" in f, "build/web is not built (make web)"
    return f


def test_every_file_with_its_type_etag_and_cache(nrmd, files):
    seen = set()
    for path, fs in sorted(files.items()):
        ext = os.path.splitext(path)[1]
        if ext not in TYPES:
            continue
        status, h, body = get_raw(nrmd, path,
                                  {"Accept-Encoding": "identity"})
        data = open(fs, "rb").read()
        assert status == 200, (path, status, body[:200])
        assert body == data, path
        assert h["content-type"] == TYPES[ext], (path, h)
        assert h["etag"] == etag_of(data), (path, h)
        assert h["cache-control"] == "no-cache", (path, h)
        assert "content-encoding" not in h, (path, h)
        assert_security_headers(h)
        seen.add(ext)
    # the tree has at least these kinds (make web puts them there)
    assert {".html", ".css", ".json", ".yaml", ".woff2"} <= seen, seen


def test_root_is_index_html(nrmd, files):
    status, h, body = get_raw(nrmd, "/", {"Accept-Encoding": "identity"})
    assert status == 200
    assert body == open(files["/index.html"], "rb").read()
    assert h["content-type"] == "text/html; charset=utf-8"
    # a query string is not part of the path
    status, _, body2 = get_raw(nrmd, "/?lang=en",
                               {"Accept-Encoding": "identity"})
    assert status == 200 and body2 == body


def test_etag_and_304(nrmd, files):
    data = open(files["/css/utrecht.css"], "rb").read()
    tag = etag_of(data)
    for inm in (tag, "W/" + tag, '"nope", ' + tag, "*"):
        status, h, body = get_raw(nrmd, "/css/utrecht.css",
                                  {"If-None-Match": inm})
        assert status == 304, (inm, status)
        assert body == b"", inm
        assert h["cache-control"] == "no-cache"
        assert h["etag"] in (tag, tag[:-1] + '-gz"'), h
        assert_security_headers(h)
    for inm in ('"nope"', tag[:-2] + '"', '"%s"' % ("0" * 64)):
        status, _, body = get_raw(nrmd, "/css/utrecht.css",
                                  {"If-None-Match": inm,
                                   "Accept-Encoding": "identity"})
        assert status == 200 and body == data, inm
    # the tag of the gzip answer is another, and matches as well
    status, h, _ = get_raw(nrmd, "/css/utrecht.css",
                           {"Accept-Encoding": "gzip"})
    assert status == 200 and h["etag"] == tag[:-1] + '-gz"'
    status, _, _ = get_raw(nrmd, "/css/utrecht.css",
                           {"If-None-Match": h["etag"]})
    assert status == 304


@pytest.mark.parametrize("ae,want_gzip", [
    ("gzip", True),
    ("gzip, deflate, br", True),
    ("br;q=1.0, gzip;q=0.8", True),
    ("*", True),
    ("x-gzip", True),
    ("identity", False),
    ("gzip;q=0", False),
    ("gzip;q=0.000", False),
    ("*, gzip;q=0", False),
    ("deflate", False),
    (None, False),
])
def test_gzip_negotiation(nrmd, files, ae, want_gzip):
    data = open(files["/css/utrecht.css"], "rb").read()
    status, h, body = get_raw(nrmd, "/css/utrecht.css",
                              {"Accept-Encoding": ae} if ae else {})
    assert status == 200
    assert h.get("vary") == "Accept-Encoding", h
    if want_gzip:
        assert h.get("content-encoding") == "gzip", (ae, h)
        assert body == open(files["/css/utrecht.css"] + ".gz",
                            "rb").read()
        assert gzip.decompress(body) == data
        assert len(body) < len(data)
    else:
        assert "content-encoding" not in h, (ae, h)
        assert body == data


def test_every_text_file_has_its_gzip_twin(nrmd, files):
    for path, fs in files.items():
        if os.path.splitext(path)[1] not in (".html", ".js", ".css",
                                              ".json", ".yaml", ".svg"):
            continue
        status, h, body = get_raw(nrmd, path, {"Accept-Encoding": "gzip"})
        assert status == 200 and h.get("content-encoding") == "gzip", path
        assert gzip.decompress(body) == open(fs, "rb").read(), path


def test_head(nrmd, files):
    data = open(files["/index.html"], "rb").read()
    for path in ("/", "/index.html"):
        status, h, body = get_raw(nrmd, path,
                                  {"Accept-Encoding": "identity"},
                                  method="HEAD")
        assert status == 200, path
        assert body == b"", path
        assert int(h["content-length"]) == len(data), h
        assert h["etag"] == etag_of(data)
        assert h["content-type"] == "text/html; charset=utf-8"
        assert_security_headers(h)
    gz = open(files["/css/utrecht.css"] + ".gz", "rb").read()
    status, h, body = get_raw(nrmd, "/css/utrecht.css",
                              {"Accept-Encoding": "gzip"}, method="HEAD")
    assert status == 200 and body == b""
    assert int(h["content-length"]) == len(gz)
    assert h["content-encoding"] == "gzip"
    status, h, body = get_raw(nrmd, "/nope.html", method="HEAD")
    assert status == 404 and body == b""


HOSTILE = [
    "/../etc/passwd",
    "/../../../../../../etc/passwd",
    "/css/../../Makefile",
    "/css/../index.html",
    "/./index.html",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/Makefile",
    "/css/%2e%2e/index.html",
    "/%2e/index.html",
    "/css%2futrecht.css",
    "/css%2Futrecht.css",
    "//etc/passwd",
    "//index.html",
    "/css//utrecht.css",
    "/css\\utrecht.css",
    "/css\\..\\..\\Makefile",
    "/..\\..\\etc\\passwd",
    "/index.html%00",
    "/index.html%00.png",
    "/%00",
    "/index.html/",
    "/css/",
    "/css",
    "/CSS/utrecht.css",
    "/index.html.gz",
    "/css/utrecht.css.gz",
    "/.gitignore",
    "/%2egitignore",
    "/v1/../index.html",
    "/healthz/../index.html",
    "/index.html;.png",
    "/%252e%252e/etc/passwd",
    "/%c0%ae%c0%ae/etc/passwd",
    "/" + "a" * 3000,
    "/" + "../" * 1000 + "etc/passwd",
    "/web/index.html",
    "/build/web/index.html",
    "/node_modules/playwright-core/package.json",
]


@pytest.mark.parametrize("path", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_paths_find_nothing(nrmd, path):
    status, h, body = get_raw(nrmd, path)
    assert status == 404, (path, status, body[:200])
    assert h["content-type"] == "application/problem+json", h
    p = json.loads(body)
    assert p["type"] == "urn:nrm:problem:not_found", p
    assert_security_headers(h)
    for leak in (b"root:", b"CFLAGS", b"<html", b"@font-face",
                 b"playwright"):
        assert leak not in body, (path, leak)


def test_raw_nul_and_space_in_the_path(nrmd):
    for req in (b"GET /index.html\x00/../../etc/passwd HTTP/1.1\r\n"
                b"Host: localhost\r\nConnection: close\r\n\r\n",
                b"GET /../etc/passwd\x00 HTTP/1.1\r\n"
                b"Host: localhost\r\nConnection: close\r\n\r\n",
                b"GET /css/ utrecht.css HTTP/1.1\r\n"
                b"Host: localhost\r\nConnection: close\r\n\r\n"):
        try:
            status, _, body = tls_raw(nrmd, req)
        except AssertionError:
            continue  # the connection was closed without an answer
        assert status in (400, 404), (req, status)
        assert b"root:" not in body and b"<html" not in body


def test_plain_listener_serves_no_console(nrmd):
    for path in ("/", "/index.html", "/css/utrecht.css", "/openapi.yaml"):
        for method in ("GET", "HEAD"):
            r = requests.request(method, nrmd.url + path, timeout=5)
            assert r.status_code == 404, (method, path, r.status_code)
            assert_security_headers(r.headers)
            if method == "GET":
                assert_problem(r, 404, "not_found")


def test_api_paths_are_not_console_paths(nrmd):
    """Under /v1/, /metrics, /healthz and /readyz only the API answers."""
    for path in ("/v1", "/v1/", "/v1/index.html", "/v1/nope",
                 "/metrics/x", "/healthz/index.html", "/readyz/"):
        r = requests.get(nrmd.tls_url + path, verify=str(nrmd.pki["cert"]),
                         timeout=5)
        assert_problem(r, 404, "not_found")
        assert_security_headers(r.headers)


def test_security_headers_on_api_answers(nrmd):
    cert = str(nrmd.pki["cert"])
    answers = [
        requests.get(nrmd.url + "/healthz", timeout=5),
        requests.get(nrmd.tls_url + "/healthz", verify=cert, timeout=5),
        requests.get(nrmd.url + "/v1/inbox", timeout=5),  # 401
        requests.post(nrmd.url + "/v1/signals", data="{", timeout=5),
        requests.put(nrmd.url + "/v1/signals", timeout=5),  # 405
        requests.get(nrmd.tls_url + "/v1/session", verify=cert,
                     timeout=5),  # 401
        requests.get(nrmd.url + "/metrics", timeout=5),
    ]
    for r in answers:
        assert_security_headers(r.headers)
        assert r.headers["Cache-Control"] == "no-store", r.url


def test_openapi_documents(nrmd):
    cert = str(nrmd.pki["cert"])
    src = safe_load(OPENAPI.read_text())
    for base, verify in ((nrmd.url, True), (nrmd.tls_url, cert)):
        y = requests.get(base + "/v1/openapi.yaml", verify=verify,
                         timeout=5)
        j = requests.get(base + "/v1/openapi.json", verify=verify,
                         timeout=5)
        assert y.status_code == 200 and j.status_code == 200
        assert y.headers["Content-Type"] == "application/yaml"
        assert j.headers["Content-Type"] == "application/json"
        assert y.content == OPENAPI.read_bytes()
        assert safe_load(y.text) == src
        assert j.json() == src
        assert y.headers["ETag"] and j.headers["ETag"]
        assert_security_headers(y.headers)
        # no credential needed, and a bad one changes nothing
        b = requests.get(base + "/v1/openapi.json", verify=verify,
                         headers={"Authorization": "Bearer nrm_bogus"},
                         timeout=5)
        assert b.status_code == 200 and b.json() == src
    r = requests.post(nrmd.url + "/v1/openapi.json", timeout=5)
    assert_problem(r, 405, "method")
    assert r.headers["Allow"] == "GET"


def test_empty_web_root_serves_nothing(nrmd_factory):
    d = nrmd_factory(config={"web_root": ""})
    cert = str(d.pki["cert"])
    for url in (d.tls_url + "/", d.tls_url + "/index.html",
                d.url + "/v1/openapi.yaml", d.tls_url + "/v1/openapi.json"):
        r = requests.get(url, verify=cert, timeout=5)
        assert_problem(r, 404, "not_found")
    assert requests.get(d.url + "/healthz", timeout=5).status_code == 200


def test_only_plain_named_files_of_known_types(nrmd_factory, tmp_path):
    """Links, hidden files, odd names and unknown types are not served;
    a .gz is only ever a twin."""
    root = tmp_path / "web"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<!doctype html><title>t</title>")
    (root / "js" / "a.js").write_bytes(b"export const a = 1;\n")
    (root / "js" / "a.js.gz").write_bytes(gzip.compress(b"other"))
    (root / ".hidden.js").write_bytes(b"hidden")
    (root / "odd name.js").write_bytes(b"odd")
    (root / "tool.exe").write_bytes(b"MZ")
    (root / "lone.txt.gz").write_bytes(gzip.compress(b"lone"))
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside the root")
    os.symlink(secret, root / "link.txt")
    os.symlink(tmp_path, root / "up")
    d = nrmd_factory(config={"web_root": str(root)})
    status, _, body = get_raw(d, "/js/a.js", {"Accept-Encoding": "identity"})
    assert status == 200 and body == b"export const a = 1;\n"
    # the twin is served as it is on disk: make web keeps them equal
    status, h, body = get_raw(d, "/js/a.js", {"Accept-Encoding": "gzip"})
    assert h["content-encoding"] == "gzip" and gzip.decompress(body) == \
        b"other"
    for path in ("/.hidden.js", "/odd%20name.js", "/tool.exe",
                 "/lone.txt", "/lone.txt.gz", "/link.txt",
                 "/up/secret.txt", "/js/a.js.gz"):
        status, _, body = get_raw(d, path)
        assert status == 404, path
        assert b"outside the root" not in body


def test_missing_web_root_refuses_to_start(nrmd_factory, tmp_path):
    d = nrmd_factory(config={"web_root": str(tmp_path / "absent")},
                     start=False)
    d.start(wait_ready=False)
    rc = d.proc.wait(30)
    assert rc == 1
    assert "web_root" in d.log_text()
    # --check-config says the same, and is content with the built tree
    from nrm_e2e.env import NRMD, clean_env
    p = subprocess.run([str(NRMD), "--config", str(d.config_path),
                        "--check-config"], capture_output=True, text=True,
                       env=clean_env(), cwd=str(ROOT), timeout=30)
    assert p.returncode == 1 and "web_root" in p.stderr, p.stderr
    d.config["web_root"] = str(WEB)
    d.write_config()
    p = subprocess.run([str(NRMD), "--config", str(d.config_path),
                        "--check-config"], capture_output=True, text=True,
                       env=clean_env(), cwd=str(ROOT), timeout=30)
    assert p.returncode == 0, p.stderr


# --------------------------------------------------------------------------
# the enrolment QR code


def is_finder(rows, top, left):
    """A 7x7 finder pattern at (top, left): dark ring, light ring, dark
    3x3 centre."""
    for y in range(7):
        for x in range(7):
            ring = max(abs(y - 3), abs(x - 3))
            want = "0" if ring == 2 else "1"
            if rows[top + y][left + x] != want:
                return False
    return True


def write_pgm(rows, path, scale=8, quiet=4):
    """The matrix as a greyscale image with its quiet zone."""
    n = len(rows)
    side = (n + 2 * quiet) * scale
    pix = bytearray(b"\xff" * side * side)
    for y, row in enumerate(rows):
        for x, bit in enumerate(row):
            if bit == "1":
                for dy in range(scale):
                    at = ((y + quiet) * scale + dy) * side + \
                        (x + quiet) * scale
                    pix[at:at + scale] = b"\x00" * scale
    path.write_bytes(b"P5\n%d %d\n255\n" % (side, side) + bytes(pix))


def test_enrolment_answer_carries_its_qr_code(nrmd, cluster, tmp_path):
    from test_people import World

    w = World(nrmd, cluster)
    p = w.create()
    b = w.enrol(p)
    qr = b["otpauth_qr"]
    assert set(qr) == {"size", "rows"}
    n = qr["size"]
    rows = qr["rows"]
    # a QR code of version v has 17 + 4v modules a side
    assert isinstance(n, int) and 21 <= n <= 177 and (n - 17) % 4 == 0
    assert len(rows) == n
    assert all(len(r) == n and set(r) <= {"0", "1"} for r in rows)
    # finder patterns in three corners, none in the fourth
    assert is_finder(rows, 0, 0)
    assert is_finder(rows, 0, n - 7)
    assert is_finder(rows, n - 7, 0)
    assert not is_finder(rows, n - 7, n - 7)
    # the timing patterns between them alternate
    assert rows[6][8:n - 8] == "".join("10"[i % 2] for i in range(8, n - 8))
    assert "".join(r[6] for r in rows[8:n - 8]) == rows[6][8:n - 8]
    # and it says the URI (zbarimg, zbar-tools)
    assert shutil.which("zbarimg"), "zbar-tools is missing (deps.sh)"
    img = tmp_path / "qr.pgm"
    write_pgm(rows, img)
    out = subprocess.run(["zbarimg", "--raw", "-q", str(img)],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().strip() == b["otpauth_uri"]
    # another person, another secret, another picture
    b2 = w.enrol(w.create())
    assert b2["otpauth_qr"]["rows"] != rows
