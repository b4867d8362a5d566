"""End-to-end fixtures and hooks: a private PostgreSQL cluster, API keys,
TLS material and real nrmd processes, as PgBouncer's test suite does it.

Only pytest fixtures and hooks live here; the classes and helpers they
use are in the nrm_e2e package next to this file (see its __init__),
which test files import from.  Everything runs against the real
binaries: scripts/pg.sh for the cluster, bin/nrmctl for migrations and
keys, and bin/nrmd (or the binary named by NRM_NRMD, so the same suite
runs against build/asan/bin/nrmd).  With pytest-xdist (`-n 4`, as
scripts/check.sh runs it) every worker has all of this to itself
(nrm_e2e/parallel.py).
"""

import os
import shutil
import signal
import tempfile
import uuid
from pathlib import Path

import pytest

from nrm_e2e.daemon import DaemonPool, live_daemons, one_daemon
from nrm_e2e.env import NRMCTL, NRMD, run
from nrm_e2e.openapi import load_openapi
from nrm_e2e.parallel import FileScheduling, RunDir, slow_first, worker_id
from nrm_e2e.pg import Cluster, create_key, key_id

# Re-exported for test files that import these names from conftest, as
# every test file did before the helpers moved to nrm_e2e.
from nrm_e2e.api import (  # noqa: F401
    AUTO, RECEIPT_KEYS, RFC3339_UTC_RE, UNSET, UUID_RE, assert_problem,
    assert_receipt, auth, encode, get_receipt, metric, ok, post_signal,
    rule_ids, signal_headers, wait_http)
from nrm_e2e.daemon import Daemon, scan_log  # noqa: F401
from nrm_e2e.env import (  # noqa: F401
    OPENAPI, PG_SH, READY_TIMEOUT, ROOT, ROUTING_DIR, SANITIZER_ENV,
    SANITIZER_MARKERS, clean_env, free_pg_port, free_port, wait_for)
from nrm_e2e.openapi import validator  # noqa: F401
from nrm_e2e.pg import Key  # noqa: F401
from nrm_e2e.rawhttp import (  # noqa: F401
    parse_http, raw_exchange, raw_request, read_response, read_until_close)
from nrm_e2e.signals import (  # noqa: F401
    PERSONAL, PERSONAL_FRAGMENTS, adult_signal, minor_signal, new_ref,
    notification_signal, now_utc, rfc3339)


# --------------------------------------------------------------------------
# the PostgreSQL cluster

def tmp_parent():
    # NRM_E2E_TMPDIR: where scripts/check.sh wants it (it removes that
    # directory, clusters included, however the run ends)
    return os.environ.get("NRM_E2E_TMPDIR") or "/tmp"


def run_dir(config):
    """The RunDir the xdist workers share, or None when serial."""
    path = getattr(config, "workerinput", {}).get("nrm_e2e_rundir")
    return RunDir(path) if path else None


@pytest.fixture(scope="session")
def workdir(request):
    top = Path(tempfile.mkdtemp(prefix="nrm-e2e-", dir=tmp_parent()))
    os.chmod(top, 0o755)  # the cluster runs as the postgres user
    yield top
    if run_dir(request.config) is None:  # else the controller removes it
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster(request, workdir):
    for binary in (NRMD, NRMCTL):
        assert binary.is_file() and os.access(binary, os.X_OK), \
            "%s is not built (run make)" % binary
    rundir = run_dir(request.config)
    c = Cluster(workdir)
    if rundir:  # registered first, so that it is dropped however it ends
        rundir.register_cluster(worker_id(request.config), c)
    c.start()
    try:
        c.prepare()
        yield c
    finally:
        if rundir is None:  # else the controller drops it (see below)
            c.pg("stop", c.dir, check=False)
            c.pg("drop", c.dir, check=False)


# --------------------------------------------------------------------------
# API keys


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
    kek = workdir / "data.kek"
    kek.write_text(os.urandom(32).hex() + "\n")
    os.chmod(kek, 0o600)
    return {"cert": cert, "key": key, "pseudonym": pseudo, "kek": kek}


# --------------------------------------------------------------------------
# nrmd


@pytest.fixture
def nrmd_factory(workdir, cluster, pki):
    """Start fresh daemons: nrmd_factory(config={...}, env={...})."""
    pool = DaemonPool(workdir, cluster, pki)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def nrmd(workdir, cluster, pki):
    """One daemon shared by a module's tests that do not disturb it."""
    yield from one_daemon(workdir, cluster, pki)


@pytest.fixture
def db(cluster, pki):
    # the KEK the daemons seal personal data with (nrm_e2e/sealed.py)
    cluster.kek_file = pki["kek"]
    return cluster


# --------------------------------------------------------------------------
# a hard per-test time limit (pytest-timeout is not packaged here): a hung
# daemon fails its test instead of stalling the whole run

TEST_TIMEOUT = int(os.environ.get("NRM_E2E_TEST_TIMEOUT", "120"))


@pytest.fixture(scope="session", autouse=True)
def _no_daemon_left():
    """Every daemon a test or fixture started is stopped and checked by
    its pool's close(); one still running at the end belongs to a pool
    nobody closed (its exit status and log were never checked).  It is
    stopped here, and the run fails."""
    yield
    left = live_daemons()
    for d in left:
        d.proc.kill()
        d.proc.wait()
    assert not left, "daemons never stopped by their pool: %s" % ", ".join(
        d.name for d in left)


@pytest.fixture(scope="session", autouse=True)
def _case_items_right(cluster):
    """At the end, every case the worker's tests made, through every
    daemon and every path a case is written by, carries its inbox item
    as defined (0030 stores it with the case; tests/db/case_item_ref.psql)."""
    yield
    cases, stale = cluster.stale_case_items()
    assert not stale, "cases whose stored item is not their item: %s" % (
        ", ".join(stale[:10]))
    print("case items checked: %d cases" % cases)


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


# --------------------------------------------------------------------------
# inbox and case lifecycle (issue 4): more principals, and their key ids


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
# the OpenAPI document


@pytest.fixture(scope="module")
def doc():
    """nrm-api/openapi.yaml, parsed afresh for each module."""
    return load_openapi()


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
    if worker_id(config):
        items[:] = slow_first(items)  # every worker alike (parallel.py)
    last = [i for i in items if i.get_closest_marker("audit_scan_last")]
    if last:
        moved = set(last)
        items[:] = [i for i in items if i not in moved] + last
    config._nrm_scan_last = {i.nodeid for i in last}
    config._nrm_finished = 0


# --------------------------------------------------------------------------
# pytest-xdist (nrm_e2e/parallel.py): each worker has its own cluster; the
# controller makes the directory the workers share, and drops every
# worker's cluster once they have all finished, so that the audit scan
# can read them all.

SCAN_WAIT = float(os.environ.get("NRM_E2E_SCAN_WAIT", "900"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    # whole files per worker; --dist load (the default of -n) would split
    # a module from its module-scoped daemon and its order
    if config.getvalue("dist") in ("load", "loadfile"):
        return FileScheduling(config, log)
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    config = node.config
    if not hasattr(config, "_nrm_rundir"):
        config._nrm_rundir = tempfile.mkdtemp(prefix="nrm-e2e-run-",
                                              dir=tmp_parent())
    node.workerinput["nrm_e2e_rundir"] = config._nrm_rundir


def pytest_unconfigure(config):
    path = getattr(config, "_nrm_rundir", None)
    if path is None:
        return
    for pgdir, port in RunDir(path).clusters():
        Cluster(Path(pgdir).parent, port).pg("drop", pgdir, check=False)
        shutil.rmtree(Path(pgdir).parent, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    config = item.config
    rundir = run_dir(config)
    if rundir and item.nodeid not in config._nrm_scan_last:
        config._nrm_finished += 1
        rundir.mark_done(worker_id(config), config._nrm_finished)


@pytest.fixture
def every_cluster(request, cluster):
    """This session's cluster and, under pytest-xdist, every other
    worker's, once every test of the run but the audit_scan_last ones
    has finished there (for the scans that run last)."""
    config = request.config
    rundir = run_dir(config)
    if rundir is None:
        return [cluster]
    total = len(request.session.items) - len(config._nrm_scan_last)
    signal.alarm(0)  # waiting for the others is not this test's time
    rundir.wait_done(total, SCAN_WAIT)
    signal.alarm(TEST_TIMEOUT)
    return [cluster] + [Cluster.attach(d, port)
                        for d, port in rundir.clusters()
                        if d != str(cluster.dir)]

