"""End-to-end fixtures: a private PostgreSQL cluster, API keys, TLS material
and real nrmd processes, as PgBouncer's test suite does it.

Everything runs against the real binaries: scripts/pg.sh for the cluster,
bin/nrmctl for migrations and keys, and bin/nrmd (or the binary named by
NRM_NRMD, so the same suite runs against build/asan/bin/nrmd).

Every personal value the suite ever submits comes from PERSONAL below, so
that every daemon's stderr can be scanned for them when it stops: logs
must never hold personal data.
"""

import datetime
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
NRMD = Path(os.environ.get("NRM_NRMD") or ROOT / "bin" / "nrmd")
NRMCTL = Path(os.environ.get("NRM_NRMCTL") or ROOT / "bin" / "nrmctl")
PG_SH = ROOT / "scripts" / "pg.sh"
ROUTING_DIR = ROOT / "config" / "routing"
OPENAPI = ROOT / "nrm-api" / "openapi.yaml"

# How long a fresh nrmd may take to become ready (ASan is slower).
READY_TIMEOUT = float(os.environ.get("NRM_E2E_READY_TIMEOUT", "20"))

SANITIZER_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error:",
    "ERROR: ThreadSanitizer",
)

# Sanitizer options for nrmd under ASan+UBSan: any report fails the run
# with a distinctive exit code, and leaks are checked at exit.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:abort_on_error=0:"
    "exitcode=86:strict_string_checks=1:"
    "detect_stack_use_after_return=1:check_initialization_order=1:"
    "strict_init_order=1:print_summary=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=87",
    "LSAN_OPTIONS": "exitcode=88",
}


def _today():
    return datetime.datetime.now(datetime.timezone.utc).date()


# Every personal value the suite submits.  Distinctive, so that a scan of
# the logs cannot match them by accident.
PERSONAL = {
    "given_name": "Ilvarinde",
    "family_name": "Throckwelle-Ossandir",
    "given_name_minor": "Quennalyth",
    "family_name_minor": "Brandsvoort",
    "given_name_utf8": "Zoë-Ærendis",
    "family_name_utf8": "Ångströmvik",
    "birth_date": "1987-11-23",
    "birth_date_minor": "%04d-03-14" % (_today().year - 15),
    "phone": "+31 6 4827 1953",
    "address": "Zwaluwhofsteeg 917, Nergenshuizen",
    "narrative": "Werkte zeventien uur per dag bij kwekerij Vlinderbloem; "
    "paspoort ingehouden door de opzichter Gorvandel.",
}

# The suite interpolates these into SQL literals.
assert all("'" not in v for v in PERSONAL.values())

# Distinctive fragments that must never appear in a log line.
PERSONAL_FRAGMENTS = sorted(
    {
        "Ilvarinde",
        "Throckwelle",
        "Ossandir",
        "Quennalyth",
        "Brandsvoort",
        "Ærendis",
        "rendis",  # the part after a possibly escaped Æ
        "Ångströmvik",
        "mvik",
        "1987-11-23",
        PERSONAL["birth_date_minor"],
        "4827 1953",
        "48271953",
        "Zwaluwhofsteeg",
        "Nergenshuizen",
        "Vlinderbloem",
        "zeventien uur",
        "Gorvandel",
    }
)


# --------------------------------------------------------------------------
# small helpers


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_pg_port():
    """A free port in 55000-55999 for the private cluster."""
    ports = list(range(55000, 56000))
    random.shuffle(ports)
    for port in ports:
        if os.path.exists("/tmp/.s.PGSQL.%d" % port):
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port in 55000-55999")


def clean_env(extra=None):
    """The environment without any NRM_* variable from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NRM_")}
    if extra:
        env.update(extra)
    return env


def run(cmd, env=None, check=True, timeout=120, input=None):
    """Run a command, capture its output, fail with both on error."""
    cmd = [str(c) for c in cmd]
    p = subprocess.run(
        cmd,
        env=env,
        cwd=str(ROOT),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and p.returncode != 0:
        raise AssertionError(
            "command failed (%d): %s\nstdout:\n%s\nstderr:\n%s"
            % (p.returncode, " ".join(cmd), p.stdout, p.stderr)
        )
    return p


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def new_ref():
    """A unique, non-personal reporter_reference."""
    return "e2e-" + uuid.uuid4().hex


def adult_signal(**overrides):
    """A complete, valid signal about an adult who consents."""
    body = {
        "observed_at": rfc3339(now_utc() - datetime.timedelta(hours=2)),
        "location": {"municipality_code": "GM0363"},
        "reporter_reference": new_ref(),
        "subject": {
            "given_name": PERSONAL["given_name"],
            "family_name": PERSONAL["family_name"],
            "birth_date": PERSONAL["birth_date"],
            "gender": "female",
            "nationality": "RO",
            "languages": ["ro", "en"],
            "contact": {
                "phone": PERSONAL["phone"],
                "address": PERSONAL["address"],
            },
        },
        "exploitation": ["labour"],
        "control_means": ["documents_withheld", "excessive_hours"],
        "urgency": {"immediate_danger": False, "needs_shelter": False},
        "consent": "given",
        "narrative": PERSONAL["narrative"],
    }
    body.update(overrides)
    return body


def minor_signal(**overrides):
    """A valid signal about a minor (by birth date)."""
    body = adult_signal()
    body["subject"] = {
        "given_name": PERSONAL["given_name_minor"],
        "family_name": PERSONAL["family_name_minor"],
        "birth_date": PERSONAL["birth_date_minor"],
        "gender": "male",
        "nationality": "NG",
        "languages": ["en"],
    }
    body["exploitation"] = ["criminal"]
    body["consent"] = "not_required_minor"
    body.update(overrides)
    return body


def notification_signal(**overrides):
    """An adult who refuses consent: only non-identifying fields."""
    body = {
        "observed_at": rfc3339(now_utc() - datetime.timedelta(hours=1)),
        "location": {"municipality_code": "GM0599"},
        "reporter_reference": new_ref(),
        "subject": {
            "age_estimate": 30,
            "gender": "male",
            "nationality": "PL",
            "languages": ["pl"],
        },
        "exploitation": ["labour", "criminal"],
        "control_means": ["debt_bondage"],
        "urgency": {"immediate_danger": False, "needs_shelter": False},
        "consent": "refused",
    }
    body.update(overrides)
    return body


AUTO = object()  # "make a fresh Idempotency-Key"


def auth(key):
    """The Authorization header of a Key (or of a bare token string)."""
    return {"Authorization": "Bearer " + getattr(key, "token", key)}


def signal_headers(token, idem=AUTO, content_type="application/json",
                   extra=None):
    h = {}
    if content_type is not None:
        h["Content-Type"] = content_type
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if idem is AUTO:
        h["Idempotency-Key"] = "e2e-" + uuid.uuid4().hex
    elif idem is not None:
        h["Idempotency-Key"] = idem
    if extra:
        h.update(extra)
    return h


def encode(body):
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def post_signal(base, token, body, idem=AUTO, content_type="application/json",
                extra_headers=None, timeout=15, session=None, verify=True):
    """POST /v1/signals; `base` is a Daemon or a base URL."""
    url = (base.url if hasattr(base, "url") else base) + "/v1/signals"
    http = session or requests
    return http.post(
        url,
        data=encode(body),
        headers=signal_headers(token, idem, content_type, extra_headers),
        timeout=timeout,
        verify=verify,
    )


def get_receipt(base, token, signal_id, timeout=10, verify=True):
    url = (base.url if hasattr(base, "url") else base) + "/v1/signals/" + \
        str(signal_id)
    h = {"Authorization": "Bearer " + token} if token else {}
    return requests.get(url, headers=h, timeout=timeout, verify=verify)


UNSET = object()


def assert_problem(r, status, code, field=UNSET):
    """`r` is an RFC 9457 problem with this status, code and field."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/problem+json", ctype
    rid = r.headers.get("X-Request-Id")
    assert rid, "no X-Request-Id header"
    p = r.json()
    assert p.get("type") == "urn:nrm:problem:" + code, p
    assert p.get("status") == status, p
    assert isinstance(p.get("title"), str) and p["title"], p
    assert isinstance(p.get("detail"), str) and p["detail"], p
    assert p.get("request_id") == rid, (p, rid)
    if field is None:
        assert "field" not in p, p
    elif field is not UNSET:
        assert p.get("field") == field, p
    return p


RECEIPT_KEYS = {
    "signal_id",
    "case_id",
    "region",
    "priority",
    "rule_id",
    "received_at",
    "notification_only",
}

def rule_ids():
    """Ids a routing decision may name: the foundation router's, and every
    rule of the routing configuration the daemon loads by default."""
    ids = {"foundation.municipality", "foundation.national"}
    rules = ROOT / "config" / "routing" / "rules.json"
    if rules.exists():
        ids |= {r["id"] for r in json.loads(rules.read_text())["rules"]}
    return ids


UUID_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_UTC_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def assert_receipt(r):
    """A 201 with Location and a well-formed receipt; returns the receipt."""
    assert r.status_code == 201, (r.status_code, r.text[:500])
    assert r.headers.get("Content-Type", "").split(";")[0].strip() == \
        "application/json", r.headers
    assert r.headers.get("X-Request-Id")
    rec = r.json()
    assert set(rec) == RECEIPT_KEYS, rec
    assert UUID_RE.match(rec["signal_id"]), rec
    assert r.headers.get("Location") == "/v1/signals/" + rec["signal_id"]
    assert RFC3339_UTC_RE.match(rec["received_at"]), rec
    assert isinstance(rec["notification_only"], bool)
    if rec["notification_only"]:
        assert rec["case_id"] is None, rec
    else:
        assert UUID_RE.match(rec["case_id"] or ""), rec
        assert rec["priority"] in ("urgent", "high", "normal"), rec
    assert re.match(r"^(VR(0[1-9]|1[0-9]|2[0-5])|NATIONAL)$",
                    rec["region"]), rec
    assert rec["rule_id"] in rule_ids(), rec
    return rec


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


# --------------------------------------------------------------------------
# the PostgreSQL cluster


class Cluster:
    """A private cluster run by scripts/pg.sh in a temp dir."""

    def __init__(self, top):
        self.top = Path(top)
        self.dir = self.top / "pg"
        self.port = free_pg_port()
        self.env = {}
        self._direct = None

    def pg(self, *args, check=True, timeout=120):
        return run([PG_SH, *args], env=clean_env(), check=check,
                   timeout=timeout)

    def start(self):
        self.pg("start", self.dir, self.port)
        self.load_env()

    def stop(self):
        self.pg("stop", self.dir)

    def load_env(self):
        out = self.pg("env", self.dir, self.port).stdout
        env = {}
        for line in out.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export "):]
            k, eq, v = line.partition("=")
            if not eq:
                continue
            parts = shlex.split(v)
            env[k.strip()] = parts[0] if parts else ""
        for k in ("NRM_OWNER_URL", "NRM_DATABASE_URL", "NRM_SUPERUSER_URL"):
            assert env.get(k), "scripts/pg.sh env printed no %s:\n%s" % (
                k, out)
        self.env = env

    @property
    def owner_url(self):
        return self.env["NRM_OWNER_URL"]

    @property
    def app_url(self):
        return self.env["NRM_DATABASE_URL"]

    def _psql_cmd(self, sql):
        opts = ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                "-F", "\t", "-c", sql]
        if self._direct is None:
            # Prefer psql with the superuser URL (fast); fall back to
            # scripts/pg.sh psql when that role needs the postgres user.
            p = run(["psql", "-d", self.env["NRM_SUPERUSER_URL"], *opts[:-2],
                     "-c", "select 1"], env=clean_env(), check=False)
            self._direct = p.returncode == 0 and p.stdout.strip() == "1"
        if self._direct:
            return ["psql", "-d", self.env["NRM_SUPERUSER_URL"], *opts]
        return [PG_SH, "psql", self.dir, self.port, *opts]

    def sql(self, sql, check=True):
        """Run SQL as superuser in the nrm database; rows of strings."""
        p = run(self._psql_cmd(sql), env=clean_env(), check=check)
        if not check and p.returncode != 0:
            return None
        return [line.split("\t") for line in p.stdout.splitlines()
                if line != ""]

    def scalar(self, sql):
        rows = self.sql(sql)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def count(self, sql):
        return int(self.scalar(sql))

    TABLES = ("intake.signal", "intake.idempotency", "care.subject",
              "care.case", "care.case_history")

    def counts(self):
        """Row counts of every table an intake writes."""
        q = "select " + ", ".join(
            "(select count(*) from %s)" % t for t in self.TABLES)
        row = self.sql(q)[0]
        return dict(zip(self.TABLES, (int(x) for x in row)))

    def nrmctl(self, *args, check=True):
        return run([NRMCTL, *args],
                   env=clean_env({"NRM_DATABASE_URL": self.owner_url}),
                   check=check)


@pytest.fixture(scope="session")
def workdir():
    # NRM_E2E_TMPDIR: where scripts/check.sh wants it (it removes that
    # directory, clusters included, however the run ends)
    parent = os.environ.get("NRM_E2E_TMPDIR") or "/tmp"
    top = Path(tempfile.mkdtemp(prefix="nrm-e2e-", dir=parent))
    os.chmod(top, 0o755)  # the cluster runs as the postgres user
    yield top
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster(workdir):
    for binary in (NRMD, NRMCTL):
        assert binary.is_file() and os.access(binary, os.X_OK), \
            "%s is not built (run make)" % binary
    c = Cluster(workdir)
    c.start()
    try:
        c.nrmctl("migrate")
        yield c
    finally:
        c.pg("stop", c.dir, check=False)
        c.pg("drop", c.dir, check=False)


# --------------------------------------------------------------------------
# API keys


class Key:
    def __init__(self, token, role, agency, kind):
        self.token = token
        self.role = role
        self.agency = agency
        self.kind = kind

    def __repr__(self):  # never print a token
        return "<key %s %s>" % (self.role, self.agency)


def create_key(cluster, role, agency, kind, regions=()):
    args = ["key", "create", "--role", role, "--agency", agency,
            "--agency-kind", kind]
    for r in regions:
        args += ["--region", r]
    out = cluster.nrmctl(*args).stdout
    token = out.strip()
    assert token and "\n" not in token and " " not in token, \
        "nrmctl key create must print the token alone"
    return Key(token, role, agency, kind)


@pytest.fixture(scope="session")
def keys(cluster):
    """One key per principal the suite needs."""
    suffix = uuid.uuid4().hex[:6]
    return {
        # two principals of one agency, and a reporter of another agency
        "reporter": create_key(cluster, "reporter",
                               "Politie Amsterdam " + suffix, "police"),
        "reporter_same_agency": create_key(cluster, "reporter",
                                           "Politie Amsterdam " + suffix,
                                           "police"),
        "reporter_other": create_key(cluster, "reporter",
                                     "Stichting Terre " + suffix, "ngo"),
        "coordinator": create_key(cluster, "coordinator",
                                  "Zorgcoordinatie Amsterdam " + suffix,
                                  "care_agency", regions=("VR13",)),
        "analyst": create_key(cluster, "analyst", "Rapporteur " + suffix,
                              "national_centre"),
    }


# --------------------------------------------------------------------------
# TLS material and the pseudonym key


@pytest.fixture(scope="session")
def pki(workdir):
    cert = workdir / "tls-cert.pem"
    key = workdir / "tls-key.pem"
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", key, "-out", cert])
    pseudo = workdir / "pseudonym.key"
    pseudo.write_text(os.urandom(32).hex() + "\n")
    os.chmod(key, 0o600)
    os.chmod(pseudo, 0o600)
    return {"cert": cert, "key": key, "pseudonym": pseudo}


# --------------------------------------------------------------------------
# nrmd


def scan_log(text):
    """Problems in a daemon's stderr: sanitizer reports, personal data."""
    problems = []
    for marker in SANITIZER_MARKERS:
        if marker in text:
            problems.append("sanitizer report (%s)" % marker)
    for frag in PERSONAL_FRAGMENTS:
        if frag in text:
            problems.append("personal data in log: %r" % frag)
    return problems


class Daemon:
    """One nrmd process with its own config file, ports and log."""

    seq = 0

    def __init__(self, workdir, cluster, pki, config=None, env=None,
                 binary=None):
        Daemon.seq += 1
        self.name = "nrmd-%d" % Daemon.seq
        self.dir = Path(workdir) / self.name
        self.dir.mkdir()
        self.cluster = cluster
        self.pki = pki
        self.binary = Path(binary or NRMD)
        self.port = free_port()
        self.tls_port = free_port()
        self.config_path = self.dir / "nrmd.conf"
        self.log_path = self.dir / "stderr.log"
        self.config = {
            "listen": "127.0.0.1:%d" % self.port,
            "listen_tls": "127.0.0.1:%d" % self.tls_port,
            "tls_cert_file": str(pki["cert"]),
            "tls_key_file": str(pki["key"]),
            "database_url": cluster.app_url if cluster else
            "postgresql:///nrm",
            "db_pool_size": "4",
            "db_connect_timeout": "2",
            "db_query_timeout": "5",
            "db_reconnect_max": "1",
            "client_timeout": "10",
            "shutdown_timeout": "5",
            "retry_after": "2",
            "log_level": "info",
            "routing_dir": str(ROUTING_DIR),
            "pseudonym_key_file": str(pki["pseudonym"]),
        }
        if config:
            for k, v in config.items():
                if v is None:
                    self.config.pop(k, None)
                else:
                    self.config[k] = str(v)
        self.extra_env = env or {}
        self.proc = None
        self.returncode = None
        self._log = None
        self.write_config()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def tls_url(self):
        return "https://127.0.0.1:%d" % self.tls_port

    def write_config(self, text=None):
        if text is None:
            text = "# generated by tests/e2e/conftest.py\n" + "".join(
                "%s = %s\n" % kv for kv in self.config.items())
        self.config_path.write_text(text)

    def env(self):
        e = clean_env()
        for k, v in SANITIZER_ENV.items():
            e.setdefault(k, v)  # scripts/check.sh may set stricter ones
        e.update(self.extra_env)
        return e

    def start(self, wait_ready=True):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "--config", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            env=self.env(),
            cwd=str(ROOT),
        )
        if wait_ready:
            self.wait_ready()
        return self

    def wait_listening(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assert_running()
            try:
                r = requests.get(self.url + "/healthz", timeout=2)
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError("%s did not listen within %ss:\n%s" % (
            self.name, timeout, self.log_text()[-3000:]))

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.assert_running()
            try:
                r = requests.get(self.url + "/readyz", timeout=2)
                last = r.status_code
                if r.status_code == 200:
                    return
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.05)
        raise AssertionError("%s not ready within %ss (last: %s):\n%s" % (
            self.name, timeout, last, self.log_text()[-3000:]))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_running(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (
                self.name, self.proc.returncode, self.log_text()[-5000:]))

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Signal the daemon and wait; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            if timeout is None:
                timeout = int(self.config.get("shutdown_timeout", "10")) + 15
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("%s did not stop within %ss" % (
                    self.name, timeout))
        self.returncode = self.proc.returncode
        if self._log:
            self._log.close()
            self._log = None
        return self.returncode

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_problems(self):
        return scan_log(self.log_text())

    def assert_clean_exit(self):
        """Stopped by SIGTERM: exit 0, no sanitizer report, no personal
        data in the log."""
        rc = self.stop()
        problems = self.log_problems()
        if rc != 0:
            problems.insert(0, "exit code %s" % rc)
        assert not problems, "%s: %s\n--- stderr (tail) ---\n%s" % (
            self.name, "; ".join(problems), self.log_text()[-6000:])


class DaemonPool:
    """Starts daemons; on close stops them all and checks each one."""

    def __init__(self, workdir, cluster, pki):
        self.workdir = workdir
        self.cluster = cluster
        self.pki = pki
        self.daemons = []

    def __call__(self, config=None, env=None, wait_ready=True,
                 binary=None, start=True):
        d = Daemon(self.workdir, self.cluster, self.pki, config, env,
                   binary)
        self.daemons.append(d)
        if start:
            d.start(wait_ready=wait_ready)
        return d

    def close(self):
        errors = []
        for d in self.daemons:
            if d.proc is None:
                continue
            try:
                if d.returncode is None and d.proc.poll() is None:
                    d.assert_clean_exit()
                else:
                    # stopped by the test: its checks already ran, but the
                    # log must still be clean
                    d.stop()
                    problems = d.log_problems()
                    assert not problems, "%s: %s\n%s" % (
                        d.name, "; ".join(problems), d.log_text()[-6000:])
            except AssertionError as e:
                errors.append(str(e))
        self.daemons = []
        if errors:
            raise AssertionError("\n\n".join(errors))


@pytest.fixture
def nrmd_factory(workdir, cluster, pki):
    """Start fresh daemons: nrmd_factory(config={...}, env={...})."""
    pool = DaemonPool(workdir, cluster, pki)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def nrmd(workdir, cluster, pki):
    """One daemon shared by a module's tests that do not disturb it."""
    pool = DaemonPool(workdir, cluster, pki)
    d = pool()
    yield d
    pool.close()


@pytest.fixture
def db(cluster):
    return cluster


def wait_for(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (
        timeout, what))


# --------------------------------------------------------------------------
# a hard per-test time limit (pytest-timeout is not packaged here): a hung
# daemon fails its test instead of stalling the whole run

TEST_TIMEOUT = int(os.environ.get("NRM_E2E_TEST_TIMEOUT", "120"))


class TestTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def _time_limit():
    def on_alarm(signum, frame):
        raise TestTimeout("test exceeded %ss" % TEST_TIMEOUT)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def wait_http(d, path, status, timeout, what=None):
    """Poll GET `path` on daemon `d` until it answers `status`; returns
    that response.  The failure names the last answer seen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        d.assert_running()
        try:
            r = requests.get(d.url + path, timeout=3)
            last = "%d %s" % (r.status_code, r.text[:200])
            if r.status_code == status:
                return r
        except requests.RequestException as e:
            last = repr(e)[:300]
        time.sleep(0.05)
    raise AssertionError("%s: no %d from %s within %ss; last answer: %s" % (
        what or path, status, path, timeout, last))



# --------------------------------------------------------------------------
# inbox and case lifecycle (issue 4): more principals, and their key ids


def key_id(cluster, key):
    """The auth.api_key id of a key (looked up by its token's SHA-256)."""
    import hashlib

    h = hashlib.sha256(key.token.encode("ascii")).hexdigest()
    return cluster.scalar(
        "select id from auth.api_key where token_hash = '\\x%s'::bytea" % h)


@pytest.fixture(scope="session")
def case_keys(cluster, keys):
    """Coordinators of several regions, the national desk and an assessor,
    besides the suite's keys; every key carries its auth.api_key id as
    `.id`.  "co13" is the suite's VR13 coordinator; "co13b" and "co13c"
    are two more VR13 coordinators (of another agency), so that VR13 is
    never "declined by every coordinator" by accident."""
    suffix = uuid.uuid4().hex[:6]
    care = "Zorgcoordinatie %s " + suffix
    k = {
        "co13": keys["coordinator"],
        "co13b": create_key(cluster, "coordinator", care % "Amstelland",
                            "care_agency", regions=("VR13",)),
        "co13c": create_key(cluster, "coordinator", care % "Amstelland",
                            "care_agency", regions=("VR13",)),
        "co17": create_key(cluster, "coordinator", care % "Rotterdam",
                           "care_agency", regions=("VR17",)),
        "co09": create_key(cluster, "coordinator", care % "Utrecht",
                           "care_agency", regions=("VR09",)),
        "co13_17": create_key(cluster, "coordinator", care % "Randstad",
                              "care_agency", regions=("VR13", "VR17")),
        "national": create_key(cluster, "coordinator",
                               "Landelijk Coordinatiepunt " + suffix,
                               "national_centre", regions=("NATIONAL",)),
        "assessor": create_key(cluster, "assessor",
                               "Beoordelingsteam " + suffix,
                               "assessment_body"),
        "reporter": keys["reporter"],
        "analyst": keys["analyst"],
    }
    for key in k.values():
        key.id = key_id(cluster, key)
    return k


# --------------------------------------------------------------------------
# the audit log scan runs last (issue 6): a test marked audit_scan_last
# (test_audit.py) scans audit.event for personal data after every other
# test of the session has written its events.  A hook, not a session
# finalizer, so that a finding is reported as an ordinary test failure.


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "audit_scan_last: run after every other test of the "
        "session (moved there by pytest_collection_modifyitems)")


@pytest.hookimpl(trylast=True)  # after any other plugin's reordering
def pytest_collection_modifyitems(session, config, items):
    last = [i for i in items if i.get_closest_marker("audit_scan_last")]
    if last:
        moved = set(last)
        items[:] = [i for i in items if i not in moved] + last
