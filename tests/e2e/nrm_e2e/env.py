"""Where the programs are and how the suite runs them: paths, ports, the
environment a child gets, a command runner and a polling helper.

NRM_NRMD and NRM_NRMCTL name other binaries (so the same suite runs
against build/asan/bin/nrmd); NRM_E2E_READY_TIMEOUT how long a fresh nrmd
may take to become ready.
"""

import os
import random
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NRMD = Path(os.environ.get("NRM_NRMD") or ROOT / "bin" / "nrmd")
NRMCTL = Path(os.environ.get("NRM_NRMCTL") or ROOT / "bin" / "nrmctl")
PG_SH = ROOT / "scripts" / "pg.sh"
# psql itself, not Debian's /usr/bin/psql (a Perl wrapper that costs a
# Perl start on each of the suite's thousands of queries)
PGBIN = Path(os.environ.get("NRM_PGBIN") or "/usr/lib/postgresql/15/bin")
PSQL = str(PGBIN / "psql") if (PGBIN / "psql").exists() else "psql"
ROUTING_DIR = ROOT / "config" / "routing"
INDICATORS_FILE = ROOT / "config" / "indicators.json"
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


_HANDED = set()  # ports free_port gave out in this process
PORTS_PER_WORKER = 1500


def _bindable(lo, hi, taken):
    """A port of lo..hi, in random order, that taken(port) does not
    refuse and that 127.0.0.1 can bind right now."""
    ports = list(range(lo, hi + 1))
    random.shuffle(ports)
    for port in ports:
        if taken(port):
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now, never
    the same one twice in this process, from this pytest-xdist worker's
    own range (20000 + 1500 a worker: below the kernel's ephemeral
    range).  Asking the kernel for port 0 twice can give the same port
    twice (the first is closed before the daemon binds it), and another
    worker can draw it too: a daemon then finds its TLS port taken."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    k = int(worker[2:]) if worker[2:].isdigit() else 0
    lo = 20000 + (k % 8) * PORTS_PER_WORKER
    port = _bindable(lo, lo + PORTS_PER_WORKER - 1, _HANDED.__contains__)
    _HANDED.add(port)
    return port


def free_pg_port():
    """A free port in 55000-55999 for the private cluster."""
    return _bindable(55000, 55999, lambda port: os.path.exists(
        "/tmp/.s.PGSQL.%d" % port))


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

def wait_for(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (
        timeout, what))
