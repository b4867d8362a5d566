"""SIGHUP really reloads (issue 10): for every key that `nrmd --help`
marks reloadable, a test changes it in the config file, sends SIGHUP and
observes the new value take effect through behaviour, the log or
/metrics.  The periodic jobs (and the long-poll backstop) are seen to
change their tick rate.  A guard test fails when a key becomes
reloadable without a test here."""

import concurrent.futures
import datetime
import json
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid

import pytest
import requests

from nrm_e2e.pki import CA

from conftest import (
    NRMD,
    PG_SH,
    ROUTING_DIR,
    adult_signal,
    assert_receipt,
    auth,
    free_port,
    post_signal,
    read_until_close,
    wait_for,
)
from nrm_e2e.env import INDICATORS_FILE
from nrm_e2e.api import metric, queries_and_ticks
from nrm_e2e.pg import create_key
from test_privacy import test_retention_keys_reload as \
    retention_keys_in_test_privacy  # noqa: F401 (named in COVERED)

AMSTERDAM = "GM0363"  # VR13

# Every reloadable key, and the test that proves it reloads.
COVERED = {
    "db_connect_timeout": "test_db_connect_timeout",
    "db_query_timeout": "test_db_query_timeout",
    "db_reconnect_max": "test_db_reconnect_max",
    "db_synchronous": "test_db_synchronous",
    "max_body_size": "test_max_body_size",
    "max_header_size": "test_max_header_size",
    "client_timeout": "test_client_timeout",
    "shutdown_timeout": "test_shutdown_timeout",
    "log_level": "test_log_level",
    "routing_dir": "test_routing_dir",
    "indicators_file": "test_indicators_file",
    "narrative_max": "test_narrative_max",
    "retry_after": "test_retry_after",
    "longpoll_max_wait": "test_longpoll_max_wait",
    "longpoll_recheck": "test_job_interval",
    "sweep_interval": "test_job_interval",
    "audit_seal_interval": "test_job_interval",
    "audit_checkpoint_interval": "test_job_interval",
    "decline_limit": "test_decline_limit",
    "transfer_take_within": "test_transfer_deadlines",
    "transfer_first_contact_within": "test_transfer_deadlines",
    "transfer_answer_within": "test_transfer_answer_within",
    "jurisdiction_profile": "test_jurisdiction_profile",
    "auth_cache_ttl": "test_auth_cache_ttl",
    "public_origin": "test_public_origin",
    "session_idle_timeout": "test_session_times",
    "session_lifetime": "test_session_times",
    "enrolment_valid": "test_enrolment_valid",
    "login_lock_after": "test_login_lock_after",
    "login_lock_window": "test_login_lock_window",
    "login_lock_duration": "test_login_lock_duration",
    "login_backoff_after": "test_login_backoff",
    "login_backoff_base_ms": "test_login_backoff",
    "login_backoff_max_ms": "test_login_backoff",
    "web_root": "test_web_root",
    "coverage_silent_after": "test_coverage_keys",
    "coverage_refresh": "test_job_interval",
    "route_uncovered_to_national": "test_coverage_keys",
    "tls_cert_file": "test_tls_certificate",
    "tls_key_file": "test_tls_certificate",
    "tls_client_ca_file": "test_tls_client_ca",
    "tls_client_cert_required": "test_tls_client_ca",
    "rate_limit_address": "test_rate_limits",
    "rate_burst_address": "test_rate_limits",
    "rate_limit_key": "test_rate_limits",
    "rate_burst_key": "test_rate_limits",
    "reject_cache_ttl": "test_reject_cache_ttl",
    "conn_max_per_address": "test_conn_max_per_address",
    "handshake_timeout": "test_handshake_timeout",
    "longpoll_max_per_key": "test_longpoll_caps",
    "longpoll_max_per_address": "test_longpoll_caps",
    "data_kek_file": "test_data_kek_files",
    "data_kek_old_files": "test_data_kek_files",
    "retention_interval": "test_job_interval",
    # the retention schedule erases every due case of its database: its
    # reload is proven on a cluster of its own (test_privacy.py)
    "retention_after_close": "retention_keys_in_test_privacy",
    "retention_by_reason": "retention_keys_in_test_privacy",
    "retention_anonymous": "retention_keys_in_test_privacy",
    "retention_batch": "retention_keys_in_test_privacy",
}

# The periodic jobs' interval keys and their names in /metrics.
JOBS = {
    "audit_seal_interval": "seal",
    "audit_checkpoint_interval": "checkpoint",
    "sweep_interval": "sweep",
    "longpoll_recheck": "recheck",
    "coverage_refresh": "coverage",
    "retention_interval": "retention",
}


# --------------------------------------------------------------------------
# helpers


def reload(d, **changes):
    """Write `changes` into d's config file, send SIGHUP and wait until
    the daemon counts the reload; returns the log offset before it."""
    before = metric(d, "nrm_config_reloads_total")
    log_at = len(d.log_text())
    for k, v in changes.items():
        d.config[k] = str(v)
    d.write_config()
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: metric(d, "nrm_config_reloads_total") > before, 10,
             what="the reload")
    assert "reload refused" not in d.log_text()[log_at:]
    return log_at


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


def new_case(d, reporter, narrative=None):
    body = adult_signal()
    body["location"] = {"municipality_code": AMSTERDAM}
    if narrative is not None:
        body["narrative"] = narrative
    return assert_receipt(post_signal(d, reporter.token, body))


def act(d, key, case_id, action, body):
    return requests.post("%s/v1/cases/%s/%s" % (d.url, case_id, action),
                         json=body, headers=auth(key), timeout=15)


def seconds_from_now(text):
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (t - datetime.datetime.now(datetime.timezone.utc)).total_seconds()


def connects_per_s(d, window):
    c0 = metric(d, "nrm_db_connects_total")
    time.sleep(window)
    return (metric(d, "nrm_db_connects_total") - c0) / window


class SilentServer:
    """A TCP server that accepts and never answers: a database that
    hangs while connecting."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                pass

    def close(self):
        self.stop = True
        for s in self.held:
            s.close()
        self.sock.close()


# --------------------------------------------------------------------------
# the guard


def test_every_reloadable_key_has_a_test():
    out = subprocess.run([str(NRMD), "--help"], capture_output=True,
                         text=True, timeout=10).stdout
    keys = set(re.findall(r"^  (\w+)\s.*\breloadable;", out, re.M))
    assert keys, out
    assert keys == set(COVERED), (
        "reloadable keys without a test: %s; tests of keys that are not "
        "reloadable: %s" % (sorted(keys - set(COVERED)),
                            sorted(set(COVERED) - keys)))
    for name in set(COVERED.values()):
        assert callable(globals().get(name)), name


# --------------------------------------------------------------------------
# the jobs: the tick rate follows the interval


@pytest.mark.parametrize("key", sorted(JOBS))
def test_job_interval(nrmd_factory, key):
    job = 'nrm_job_ticks_total{job="%s"}' % JOBS[key]
    d = nrmd_factory(config={key: 3600})
    time.sleep(2.5)  # the first ticks (at 1 s and 2 s) are done
    t0 = metric(d, job)
    time.sleep(2)
    assert metric(d, job) == t0, "%s ticked with a 3600 s interval" % key
    log_at = reload(d, **{key: 1})
    assert ('msg="job interval changed" job=%s interval_s=1' % JOBS[key]
            in d.log_text()[log_at:])
    t1 = metric(d, job)
    # two ticks within 3.5 s, seen as they come (at about 1 s and 2 s)
    wait_for(lambda: metric(d, job) - t1 >= 2, 3.5, interval=0.1,
             what="two ticks: %s did not speed up" % key)
    # and back: slower again
    reload(d, **{key: 3600})
    time.sleep(1.2)
    t2 = metric(d, job)
    time.sleep(2)
    assert metric(d, job) == t2


# --------------------------------------------------------------------------
# the pool


def test_retry_after(nrmd_factory, case_keys):
    # a database that refuses connections: every api call answers 503
    d = nrmd_factory(config={"database_url": "postgresql://nrm@127.0.0.1:%d/"
                             "nrm" % free_port()}, wait_ready=False)
    d.wait_listening()

    def inbox():
        return requests.get(d.url + "/v1/inbox", headers=auth(
            case_keys["co13"]), timeout=10)

    r = inbox()
    assert r.status_code == 503 and r.headers["Retry-After"] == "2", (
        r.status_code, r.headers)
    reload(d, retry_after=9)
    r = inbox()
    assert r.status_code == 503 and r.headers["Retry-After"] == "9"


def test_db_reconnect_max(nrmd_factory):
    d = nrmd_factory(config={"database_url": "postgresql://nrm@127.0.0.1:%d/"
                             "nrm" % free_port(), "db_reconnect_max": 3},
                     wait_ready=False)
    d.wait_listening()
    time.sleep(4)  # the backoff reaches its 3 s ceiling
    slow = connects_per_s(d, 6)
    reload(d, db_reconnect_max=1)
    time.sleep(3.5)  # the attempts already scheduled
    fast = connects_per_s(d, 3)
    assert fast >= 2 * slow and fast >= 2.5, (slow, fast)


def test_db_synchronous(nrmd_factory):
    """The suite's cluster replicates nothing: ready under off, not
    ready once a reload demands synchronous replication, ready again
    when the demand is lifted."""
    d = nrmd_factory(config={"db_synchronous": "off"})
    assert requests.get(d.url + "/readyz", timeout=5).status_code == 200
    reload(d, db_synchronous="require")

    def refused():
        r = requests.get(d.url + "/readyz", timeout=5)
        return r.status_code == 503 and "synchronous" in r.json()["detail"]
    wait_for(refused, 10, what="503 naming synchronous replication")
    reload(d, db_synchronous="off")
    wait_for(lambda: requests.get(d.url + "/readyz",
                                  timeout=5).status_code == 200, 10,
             what="ready again")


def test_db_connect_timeout(nrmd_factory):
    srv = SilentServer()
    try:
        d = nrmd_factory(config={
            "database_url": "postgresql://nrm@127.0.0.1:%d/nrm?sslmode="
                            "disable" % srv.port,
            "db_connect_timeout": 5, "db_reconnect_max": 1},
            wait_ready=False)
        d.wait_listening()
        time.sleep(1)
        slow = connects_per_s(d, 6)
        reload(d, db_connect_timeout=1)
        time.sleep(5.5)  # the attempts under way time out on the old value
        fast = connects_per_s(d, 6)
        assert fast >= 2 * slow and fast >= 1.5, (slow, fast)
    finally:
        srv.close()


class TableLock:
    """Hold ACCESS EXCLUSIVE on a table in an open transaction."""

    def __init__(self, cluster, table):
        cluster._psql_cmd("select 1")  # decides how psql reaches it
        opts = ["-X", "-A", "-t", "-q"]
        if cluster._direct:
            cmd = ["psql", "-d", cluster.env["NRM_SUPERUSER_URL"], *opts]
        else:
            cmd = [str(PG_SH), "psql", str(cluster.dir), str(cluster.port),
                   *opts]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.p.stdin.write("begin; lock table %s in access exclusive mode; "
                           "select 'locked';\n" % table)
        self.p.stdin.flush()
        assert self.p.stdout.readline().strip() == "locked"

    def release(self):
        self.p.stdin.write("rollback;\n\\q\n")
        self.p.stdin.flush()
        self.p.wait(10)


def test_db_query_timeout(nrmd_factory, keys, cluster):
    d = nrmd_factory(config={"db_query_timeout": 5,
                             "sweep_interval": 3600})
    lock = TableLock(cluster, "care.case")
    try:
        r, slow = timed(lambda: post_signal(d, keys["reporter"].token,
                                            adult_signal()))
        assert r.status_code >= 500 and slow >= 4, (r.status_code, slow)
        reload(d, db_query_timeout=1)
        r, fast = timed(lambda: post_signal(d, keys["reporter"].token,
                                            adult_signal()))
        assert r.status_code >= 500 and fast < 3.5, (r.status_code, fast)
    finally:
        lock.release()


# --------------------------------------------------------------------------
# the HTTP edge


def test_max_body_size(nrmd_factory, keys):
    d = nrmd_factory()
    body = '{"x":"%s"}' % ("a" * 3000)

    def post():
        return requests.post(d.url + "/v1/signals", data=body,
                             headers=dict(auth(keys["reporter"]), **{
                                 "Content-Type": "application/json",
                                 "Idempotency-Key": str(uuid.uuid4())}),
                             timeout=10)

    assert post().status_code in (400, 422)
    reload(d, max_body_size=1024)
    r = post()
    assert r.status_code == 413, (r.status_code, r.text[:300])


def test_max_header_size(nrmd_factory):
    d = nrmd_factory()

    def get():
        try:
            return requests.get(d.url + "/healthz", headers={
                "X-Pad": "p" * 3000}, timeout=10).status_code
        except requests.ConnectionError:
            return None

    assert get() == 200
    reload(d, max_header_size=1024)
    assert get() != 200


def partial_request(d):
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
    return s


def test_client_timeout(nrmd_factory):
    d = nrmd_factory(config={"client_timeout": 30})
    s = partial_request(d)
    _, closed = read_until_close(s, 2.5)
    s.close()
    assert not closed, "closed before client_timeout"
    reload(d, client_timeout=1)
    s = partial_request(d)
    _, closed = read_until_close(s, 4)
    s.close()
    assert closed, "a partial request outlived client_timeout = 1"


def test_shutdown_timeout(nrmd_factory):
    d = nrmd_factory(config={"shutdown_timeout": 30, "client_timeout": 60})
    reload(d, shutdown_timeout=1)
    s = partial_request(d)  # keeps the drain from finishing
    try:
        time.sleep(0.3)
        rc, took = timed(lambda: d.stop(timeout=20))
    finally:
        s.close()
    assert rc == 0 and took < 5, (rc, took)
    assert "shutdown timeout reached" in d.log_text()


def test_log_level(nrmd_factory):
    d = nrmd_factory()
    at = len(d.log_text())
    requests.get(d.url + "/healthz", timeout=5)
    wait_for(lambda: "request done" in d.log_text()[at:], 5)
    reload(d, log_level="warn")
    at = len(d.log_text())
    requests.get(d.url + "/healthz", timeout=5)
    time.sleep(0.5)
    assert "level=info" not in d.log_text()[at:]
    reload(d, log_level="debug")
    at = len(d.log_text())
    requests.get(d.url + "/healthz", timeout=5)
    wait_for(lambda: "request done" in d.log_text()[at:], 5)


# --------------------------------------------------------------------------
# routing and intake


def test_routing_dir(nrmd_factory, keys, workdir):
    alt = workdir / ("routing-%s" % uuid.uuid4().hex[:6])
    shutil.copytree(ROUTING_DIR, alt)
    regions = json.loads((alt / "regions.json").read_text())
    for r in regions["regions"]:
        if r["code"] == "VR13":
            r["active"] = False
            r["fallback"] = "VR09"
    (alt / "regions.json").write_text(json.dumps(regions))
    d = nrmd_factory()
    assert new_case(d, keys["reporter"])["region"] == "VR13"
    reload(d, routing_dir=alt)
    assert new_case(d, keys["reporter"])["region"] == "VR09"


def test_indicators_file(nrmd_factory, keys, workdir):
    alt = workdir / ("indicators-%s.json" % uuid.uuid4().hex[:6])
    doc = json.loads(INDICATORS_FILE.read_text())
    ids = [x["id"] for x in doc["indicators"]]
    doc["indicators"] = doc["indicators"][:3]
    alt.write_text(json.dumps(doc, ensure_ascii=False))
    d = nrmd_factory()

    def listed():
        r = requests.get(d.url + "/v1/indicators",
                         headers=auth(keys["analyst"]), timeout=10)
        assert r.status_code == 200, r.text[:300]
        return [x["id"] for x in r.json()["items"]]

    assert listed() == ids
    reload(d, indicators_file=alt)
    assert listed() == ids[:3]


def test_data_kek_files(nrmd_factory, keys, db, pki, workdir):
    """A new current KEK and the old one readable (a rotation's first
    step): new data keys are wrapped by the new KEK, the cases of the old
    one still open; a KEK file others may read is refused on reload and
    the running keys stay."""
    import hashlib
    import os

    new = workdir / ("kek-%s" % uuid.uuid4().hex[:6])
    new.write_text(os.urandom(32).hex() + "\n")
    os.chmod(new, 0o600)
    new_id = hashlib.sha256(bytes.fromhex(
        new.read_text().strip())).digest()[:8].hex()
    d = nrmd_factory()
    before = new_case(d, keys["reporter"])
    reload(d, data_kek_file=new, data_kek_old_files=pki["kek"])
    after = new_case(d, keys["reporter"])

    def kek_of(case_id):
        return db.scalar("select k.kek_id from care.case c join "
                         "intake.signal s on s.id = c.signal_id join "
                         "care.data_key k on k.id = s.data_key_id "
                         "where c.id = '%s'" % case_id)

    assert kek_of(after["case_id"]) == new_id
    assert kek_of(before["case_id"]) != new_id
    for rec in (before, after):
        r = requests.get("%s/v1/cases/%s" % (d.url, rec["case_id"]),
                         headers=auth(keys["coordinator"]), timeout=10)
        assert r.status_code == 200, r.text[:300]
        assert "decryption_failed" not in r.json()
        assert r.json()["subject"]["given_name"]
    # an old KEK file others may read: refused, the running keys stay
    loose = workdir / ("kek-%s" % uuid.uuid4().hex[:6])
    shutil.copy(pki["kek"], loose)
    os.chmod(loose, 0o644)
    failures = metric(d, "nrm_config_reload_failures_total")
    d.config["data_kek_old_files"] = str(loose)
    d.write_config()
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: metric(d, "nrm_config_reload_failures_total") >
             failures, 10, what="the refused reload")
    r = requests.get("%s/v1/cases/%s" % (d.url, before["case_id"]),
                     headers=auth(keys["coordinator"]), timeout=10)
    assert r.status_code == 200 and "decryption_failed" not in r.json()
    d.config["data_kek_old_files"] = str(pki["kek"])
    d.write_config()


def test_narrative_max(nrmd_factory, keys):
    d = nrmd_factory()
    long_text = ("Werkte zeventien uur per dag. " * 20)[:500]
    new_case(d, keys["reporter"], narrative=long_text)
    reload(d, narrative_max=100)
    body = adult_signal()
    body["narrative"] = long_text
    r = post_signal(d, keys["reporter"].token, body)
    assert r.status_code == 422, (r.status_code, r.text[:300])


# --------------------------------------------------------------------------
# the inbox and cases


def test_longpoll_max_wait(nrmd_factory, case_keys):
    d = nrmd_factory()
    co = case_keys["co13"]
    after = requests.get(d.url + "/v1/inbox", params={"limit": 1},
                         headers=auth(co), timeout=10).json()["after"]

    def poll():
        return requests.get(d.url + "/v1/inbox",
                            params={"wait": 3, "after": after},
                            headers=auth(co), timeout=30)

    r, took = timed(poll)
    assert r.status_code == 200 and took >= 2.5, (r.status_code, took)
    reload(d, longpoll_max_wait=1)
    r, took = timed(poll)
    assert r.status_code == 200 and took < 2.2, (r.status_code, took)


def test_coverage_keys(nrmd_factory, cluster):
    """coverage_silent_after: a region whose coordinator acted a moment
    ago is covered with 3600 s, uncovered after a reload to 1 s (the
    overview says so at once); route_uncovered_to_national: after a
    reload to true, a signal for that region goes to the national desk
    (within coverage_refresh, 1 s here, as the refresh follows)."""
    sfx = uuid.uuid4().hex[:6]
    chain = create_key(cluster, "chain_director", "Ketenregie R " + sfx,
                       "national_centre")
    co = create_key(cluster, "coordinator", "Zorg VR22 R " + sfx,
                    "care_agency", ("VR22",))
    rep = create_key(cluster, "reporter", "Politie R " + sfx, "police")
    d = nrmd_factory(config={"coverage_silent_after": 3600,
                             "coverage_refresh": 1})
    requests.get(d.url + "/v1/inbox", headers=auth(co), timeout=10)

    def vr22():
        r = requests.get(d.url + "/v1/overview", headers=auth(chain),
                         timeout=10)
        assert r.status_code == 200, r.text[:300]
        return [x for x in r.json()["regions"] if x["region"] == "VR22"][0]

    def signal_region():
        body = adult_signal()
        body["location"] = {"municipality_code": "GM0753"}  # Best, VR22
        return assert_receipt(post_signal(d, rep.token, body))["region"]

    assert vr22()["coverage"]["covered"] is True
    assert signal_region() == "VR22"
    time.sleep(1.5)
    reload(d, coverage_silent_after=1)
    assert vr22()["coverage"]["covered"] is False
    assert signal_region() == "VR22"  # the option is off
    reload(d, route_uncovered_to_national="true")
    wait_for(lambda: signal_region() == "NATIONAL", 10,
             what="routed to the national desk")


def test_decline_limit(nrmd_factory, case_keys):
    k = case_keys
    d = nrmd_factory()
    cid = new_case(d, k["reporter"])["case_id"]
    r = act(d, k["co13"], cid, "decline", {"reason": "no_capacity"})
    assert r.status_code == 200 and r.json()["region"] == "VR13", r.text
    reload(d, decline_limit=1)
    cid = new_case(d, k["reporter"])["case_id"]
    r = act(d, k["co13"], cid, "decline", {"reason": "no_capacity"})
    assert r.status_code == 200 and r.json()["region"] == "NATIONAL", r.text


@pytest.mark.parametrize("key,field,other", [
    ("transfer_take_within", "take_by", "first_contact_by"),
    ("transfer_first_contact_within", "first_contact_by", "take_by")])
def test_transfer_deadlines(nrmd_factory, case_keys, key, field, other):
    k = case_keys
    d = nrmd_factory()
    default = {"take_by": 14400, "first_contact_by": 86400}

    def transfer():
        cid = new_case(d, k["reporter"])["case_id"]
        r = act(d, k["co13"], cid, "transfer",
                {"target_region": "VR09", "reason": "victim_relocated"})
        assert r.status_code == 200, r.text
        # the deadlines are counted from the acceptance (issue 18)
        r = act(d, k["co09"], cid, "transfer/accept", {})
        assert r.status_code == 200, r.text
        return r.json()

    item = transfer()
    assert abs(seconds_from_now(item[field]) - default[field]) < 60, item
    reload(d, **{key: 7777})
    item = transfer()
    assert abs(seconds_from_now(item[field]) - 7777) < 60, item
    assert abs(seconds_from_now(item[other]) - default[other]) < 60, item


def test_transfer_answer_within(nrmd_factory, case_keys):
    """The receiving region's time to answer a transfer (default 14400 s)
    is read at the transfer; a reload changes it for the next one."""
    k = case_keys
    d = nrmd_factory()

    def answer_by():
        cid = new_case(d, k["reporter"])["case_id"]
        r = act(d, k["co13"], cid, "transfer",
                {"target_region": "VR09", "reason": "victim_relocated"})
        assert r.status_code == 200, r.text
        return seconds_from_now(r.json()["transfer"]["answer_by"])

    assert abs(answer_by() - 14400) < 60
    reload(d, transfer_answer_within=4321)
    assert abs(answer_by() - 4321) < 60


def test_jurisdiction_profile(nrmd_factory, case_keys):
    k = case_keys
    d = nrmd_factory(config={"jurisdiction_profile": "nl"})
    yesterday = (datetime.datetime.now(datetime.timezone.utc).date() -
                 datetime.timedelta(days=1)).isoformat()

    def record():
        cid = new_case(d, k["reporter"])["case_id"]
        r = requests.post(
            "%s/v1/cases/%s/identification" % (d.url, cid),
            json={"stage": "initial", "outcome": "positive",
                  "deciding_body": "assessment_body", "rationale": None,
                  "decided_on": yesterday},
            headers=auth(k["assessor"]), timeout=15)
        assert r.status_code == 201, r.text
        return r.json()["profile"]

    assert record() == "nl"
    reload(d, jurisdiction_profile="uk")
    assert record() == "uk"


def test_auth_cache_ttl(nrmd_factory, case_keys):
    co = case_keys["co13"]
    d = nrmd_factory(config={"auth_cache_ttl": 300, "sweep_interval": 3600,
                             "audit_seal_interval": 3600,
                             "audit_checkpoint_interval": 3600})

    def queries_for_ten():
        # The periodic jobs (schema check and plaintext count every 5 s)
        # query the database too: a window in which one ticked is
        # measured again, so the count is the requests' own.
        for _ in range(6):
            requests.get(d.url + "/v1/inbox", headers=auth(co), timeout=10)
            q0, t0 = queries_and_ticks(d)
            for _ in range(10):
                r = requests.get(d.url + "/v1/inbox", params={"limit": 1},
                                 headers=auth(co), timeout=10)
                assert r.status_code == 200, r.text
            q1, t1 = queries_and_ticks(d)
            if t1 == t0:
                return q1 - q0
        raise AssertionError("a periodic job ticked in every window")

    cached = queries_for_ten()  # one query each: the principal is cached
    reload(d, auth_cache_ttl=0)
    uncached = queries_for_ten()  # api.authorize every time, too
    assert cached <= 12 and uncached >= cached + 8, (cached, uncached)


# --------------------------------------------------------------------------
# floods (issue 14, tests/e2e/test_flood.py)


def test_rate_limits(nrmd_factory, case_keys):
    co = case_keys["co13"]
    d = nrmd_factory(config={"rate_limit_key": 1, "rate_burst_key": 1})

    def inbox():
        return requests.get(d.url + "/v1/inbox", params={"limit": 1},
                            headers=auth(co), timeout=10).status_code

    assert [inbox(), inbox()] == [200, 429]
    reload(d, rate_limit_key=1000, rate_burst_key=1000)
    assert [inbox() for _ in range(5)] == [200] * 5
    # the address (from 127.0.0.9: the reload's own /metrics reads come
    # from 127.0.0.1 and have a bucket of their own); /healthz counts too
    from test_flood import get_from
    reload(d, rate_limit_address=1, rate_burst_address=30)
    codes = [get_from(d, "127.0.0.9", "/healthz")[0] for _ in range(31)]
    assert codes == [200] * 30 + [429], codes
    reload(d, rate_limit_address=0)
    assert [get_from(d, "127.0.0.9", "/healthz")[0]
            for _ in range(40)] == [200] * 40


def test_reject_cache_ttl(nrmd_factory, cluster):
    from test_flood import made_up_token
    d = nrmd_factory(config={"reject_cache_ttl": 300})
    tok = made_up_token()

    def try_it():
        r = requests.get(d.url + "/v1/inbox", headers=auth(tok), timeout=5)
        assert r.status_code == 401
        return cluster.count("select count(*) from audit.event where "
                             "request_id = '%s'" % r.headers["X-Request-Id"])

    assert [try_it(), try_it(), try_it()] == [1, 0, 0]
    reload(d, reject_cache_ttl=1)
    time.sleep(1.2)
    assert [try_it(), try_it()] == [1, 0]


def closed_within(s, seconds):
    """True when the server closes socket s within `seconds`."""
    s.settimeout(seconds)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_handshake_timeout(nrmd_factory):
    """A client that opens TCP to the TLS port and never finishes the
    handshake is closed within handshake_timeout (plus slack); a reload
    changes it for new connections."""
    d = nrmd_factory(config={"handshake_timeout": 2})
    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", d.tls_port)) as s:
        assert closed_within(s, 6)
    took = time.monotonic() - t
    assert 1.5 <= took <= 4, took
    # the plain listener too: no request bytes, closed
    with socket.create_connection(("127.0.0.1", d.port)) as s:
        assert closed_within(s, 6)
    # a client that sends its request in time is served as before
    assert requests.get(d.url + "/healthz", timeout=5).status_code == 200
    reload(d, handshake_timeout=6)
    with socket.create_connection(("127.0.0.1", d.tls_port)) as s:
        assert not closed_within(s, 3.5)
        assert closed_within(s, 6)


def test_conn_max_per_address(nrmd_factory):
    from test_flood import get_from
    d = nrmd_factory(config={"conn_max_per_address": 3,
                             "handshake_timeout": 0})

    def conn(src):
        s = socket.socket()
        s.bind((src, 0))
        s.connect(("127.0.0.1", d.port))
        return s

    held = [conn("127.0.0.11") for _ in range(3)]
    try:
        time.sleep(0.3)
        with conn("127.0.0.11") as s:  # the fourth: closed at once
            assert closed_within(s, 3)
        # another address is not affected
        assert get_from(d, "127.0.0.12", "/healthz")[0] == 200
        text = requests.get(d.url + "/metrics", timeout=5).text
        assert re.search(r'(?m)^nrm_http_connections_refused_total'
                         r'\{by="per_address"\} [1-9]', text), text[-2000:]
        reload(d, conn_max_per_address=10)
        with conn("127.0.0.11") as s:
            assert not closed_within(s, 1.5)
    finally:
        for s in held:
            s.close()


def test_longpoll_caps(nrmd_factory, case_keys):
    from test_inbox import watermark
    co = case_keys["co13"]
    d = nrmd_factory(config={"longpoll_max_per_key": 1,
                             "longpoll_max_wait": 3})
    after = watermark(d, co)

    def poll():
        return requests.get(d.url + "/v1/inbox",
                            params={"wait": 3, "after": after},
                            headers=auth(co), timeout=10)

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        first = ex.submit(poll)
        wait_for(lambda: metric(d, "nrm_inbox_longpolls_waiting") == 1, 5)
        r = poll()
        assert r.status_code == 429, r.text
        assert r.headers["Retry-After"] == d.config["retry_after"]
        assert first.result().status_code == 200
        reload(d, longpoll_max_per_key=5, longpoll_max_per_address=1)
        first = ex.submit(poll)
        wait_for(lambda: metric(d, "nrm_inbox_longpolls_waiting") == 1, 5)
        assert poll().status_code == 429  # now the address's cap
        assert first.result().status_code == 200
        reload(d, longpoll_max_per_address=5)
        both = [ex.submit(poll), ex.submit(poll)]
        assert [f.result().status_code for f in both] == [200, 200]


# --------------------------------------------------------------------------
# sessions (issue 11)


def test_public_origin(nrmd_factory):
    """A session's unsafe request must come from public_origin: after a
    reload the new origin passes the edge (then the database answers 401
    for the unknown session) and the old one is refused 403 Origin."""
    from test_session_edge import csrf_token, new_cookie, post_with_cookie

    d = nrmd_factory()
    cookie = new_cookie()
    csrf = csrf_token(d, cookie)

    def status(origin):
        r = post_with_cookie(d, cookie, {"X-CSRF-Token": csrf,
                                         "Origin": origin})
        return r.status_code, r.json().get("field")

    assert status(d.tls_url)[0] == 401
    assert status("https://nrm.example.org") == (403, "Origin")
    reload(d, public_origin="https://nrm.example.org")
    assert status("https://nrm.example.org")[0] == 401
    assert status(d.tls_url) == (403, "Origin")


# --------------------------------------------------------------------------
# people (issue 11): read at every login, failure and enrolment code


def people(nrmd_factory, cluster, **config):
    """A daemon with `config` and test_people's World on it (persons made
    by its admin endpoint, logins on its TLS listener)."""
    from test_people import World

    d = nrmd_factory(config={k: str(v) for k, v in config.items()})
    return d, World(d, cluster)


def person_locks(w, p):
    return w.cluster.count(
        "select count(*) from audit.event where action = 'person.lock' "
        "and person_id = '%s'" % p.id)


def fail(w, p):
    r = w.login(p, password="Fout-" + uuid.uuid4().hex, code="000000")
    assert r.status_code == 401, r.text
    return r


def recovery_login(w, p):
    """The right password with an unused recovery code (no TOTP step to
    wait for): the answer."""
    return w.login(p, recovery=p.recovery.pop())


@pytest.mark.parametrize("key,field", [
    ("session_idle_timeout", "idle_expires_at"),
    ("session_lifetime", "expires_at")])
def test_session_times(nrmd_factory, cluster, key, field):
    """A new session's idle_expires_at / expires_at (and the cookie's
    Max-Age for the lifetime) follow the reloaded value."""
    d, w = people(nrmd_factory, cluster, session_idle_timeout=600,
                  session_lifetime=3600)
    p = w.person()
    first = {"session_idle_timeout": 600, "session_lifetime": 3600}[key]
    r = recovery_login(w, p)
    assert r.status_code == 201, r.text
    assert abs(seconds_from_now(r.json()[field]) - first) < 60, r.json()
    reload(d, **{key: 1800})  # idle <= lifetime either way
    r = recovery_login(w, p)
    assert r.status_code == 201, r.text
    assert abs(seconds_from_now(r.json()[field]) - 1800) < 60, r.json()
    max_age = re.search(r"Max-Age=(\d+)", r.headers["Set-Cookie"])
    assert int(max_age.group(1)) == (
        1800 if key == "session_lifetime" else 3600), r.headers


def test_enrolment_valid(nrmd_factory, cluster):
    """A new enrolment code's expiry follows enrolment_valid."""
    d, w = people(nrmd_factory, cluster)

    def expiry():
        r = requests.post(d.url + "/v1/admin/persons", timeout=15,
                          headers=auth(w.admin), json={
                              "login": "r" + uuid.uuid4().hex[:12],
                              "display_name": "Medewerker Reload",
                              "agency_id": w.agency,
                              "role": "coordinator",
                              "regions": ["VR13"]})
        assert r.status_code == 201, r.text
        return seconds_from_now(r.json()["enrolment_expires_at"])

    assert abs(expiry() - 86400) < 60
    reload(d, enrolment_valid=600)
    assert abs(expiry() - 600) < 60


# The lock tests lock 127.0.0.1 too (the database counts the address's
# failures of every earlier test): the locks last 2 s and each test waits
# them out, so no later test finds the address locked.


def test_login_lock_after(nrmd_factory, cluster):
    """Two failures do not lock with login_lock_after = 1000; lowered to
    3, the third one locks the login."""
    d, w = people(nrmd_factory, cluster, login_lock_after=1000,
                  login_lock_duration=2, login_backoff_base_ms=0)
    p = w.person()
    fail(w, p)
    fail(w, p)
    assert person_locks(w, p) == 0
    reload(d, login_lock_after=3)
    fail(w, p)
    assert person_locks(w, p) == 1
    assert recovery_login(w, p).status_code == 401  # locked
    time.sleep(2.5)


def test_login_lock_window(nrmd_factory, cluster):
    """Three failures 1.3 s apart do not lock with a 1 s window; with the
    window widened to 600 s the next failure finds four in it and
    locks."""
    d, w = people(nrmd_factory, cluster, login_lock_after=3,
                  login_lock_window=1, login_lock_duration=2,
                  login_backoff_base_ms=0)
    p = w.person()
    for _ in range(3):
        fail(w, p)
        time.sleep(1.3)
    assert person_locks(w, p) == 0
    reload(d, login_lock_window=600)
    fail(w, p)
    assert person_locks(w, p) == 1
    time.sleep(2.5)


def test_login_lock_duration(nrmd_factory, cluster):
    """A lock made after login_lock_duration went from 60 s to 2 s ends
    after 2 s: the right password and code are then accepted."""
    d, w = people(nrmd_factory, cluster, login_lock_after=2,
                  login_lock_duration=60, login_backoff_base_ms=0)
    p = w.person()
    reload(d, login_lock_duration=2)
    fail(w, p)
    fail(w, p)
    assert person_locks(w, p) == 1
    assert recovery_login(w, p).status_code == 401  # locked
    time.sleep(2.5)
    r = recovery_login(w, p)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("key", ["login_backoff_after",
                                 "login_backoff_base_ms",
                                 "login_backoff_max_ms"])
def test_login_backoff(nrmd_factory, cluster, key):
    """The backoff follows each of its keys: a failure not held back (or
    held back 0.6 s) before the reload is held back (at least 0.6 s, or
    2.4 s) after it; nrm_login_backoff_total counts it."""
    before = {"login_backoff_after": (1000, 600, 600),
              "login_backoff_base_ms": (1, 0, 600),
              "login_backoff_max_ms": (1, 600, 600)}[key]
    after = {"login_backoff_after": 1, "login_backoff_base_ms": 600,
             "login_backoff_max_ms": 2400}[key]
    d, w = people(nrmd_factory, cluster, login_lock_after=1000,
                  login_backoff_after=before[0],
                  login_backoff_base_ms=before[1],
                  login_backoff_max_ms=before[2])
    name = "nobody-" + uuid.uuid4().hex[:8]

    def failure():
        t0 = time.monotonic()
        r = requests.post(d.tls_url + "/v1/session", timeout=30,
                          verify=str(d.pki["cert"]), json={
                              "login": name, "password": "x" * 20,
                              "totp": "000000"})
        assert r.status_code == 401, r.text
        return time.monotonic() - t0

    failure()
    failure()
    held = metric(d, "nrm_login_backoff_total")
    assert held == (2 if key == "login_backoff_max_ms" else 0)
    reload(d, **{key: after})
    took = failure()  # the third in a row
    assert metric(d, "nrm_login_backoff_total") == held + 1
    assert took >= (2.4 if key == "login_backoff_max_ms" else 0.6), took


def test_web_root(nrmd_factory, tmp_path):
    """The console's tree is read again on reload: a new web_root is
    served at once; one that cannot be read refuses the reload and the
    running tree stays."""
    one, two = tmp_path / "one", tmp_path / "two"
    for d_, text in ((one, b"<p>one</p>"), (two, b"<p>two</p>")):
        d_.mkdir()
        (d_ / "index.html").write_bytes(text)
    (two / "extra.js").write_bytes(b"export {};\n")
    d = nrmd_factory(config={"web_root": one})

    def get(path):
        r = requests.get(d.tls_url + path, verify=str(d.pki["cert"]),
                         timeout=5)
        return r.status_code, r.content

    assert get("/") == (200, b"<p>one</p>")
    assert get("/extra.js")[0] == 404
    reload(d, web_root=two)
    assert get("/") == (200, b"<p>two</p>")
    assert get("/extra.js") == (200, b"export {};\n")
    # an unreadable web_root: refused, the running tree stays
    failures = metric(d, "nrm_config_reload_failures_total")
    d.config["web_root"] = str(tmp_path / "absent")
    d.write_config()
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: metric(d, "nrm_config_reload_failures_total") >
             failures, 10, what="the refused reload")
    assert get("/") == (200, b"<p>two</p>")
    # and empty: no console at all
    reload(d, web_root="")
    assert get("/")[0] == 404


# --------------------------------------------------------------------------
# TLS (issue 14): the certificate, its key and the client CA


def _server_cert(d, client=None):
    """The DER certificate a new TLS connection to d is served, or the
    handshake's exception; client: (cert, key) files to present."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if client:
        ctx.load_cert_chain(str(client[0]), str(client[1]))
    try:
        with socket.create_connection(("127.0.0.1", d.tls_port),
                                      timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                # TLS 1.3 reports a refused client certificate only
                # at the first read
                t.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
                          b"Connection: close\r\n\r\n")
                if not t.recv(12).startswith(b"HTTP/1.1 200"):
                    return AssertionError("no 200")
                return t.getpeercert(binary_form=True)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
        return e


def _der(path):
    return ssl.PEM_cert_to_DER_cert(path.read_text())


def _refused_reload(d, key):
    failures = metric(d, "nrm_config_reload_failures_total")
    log_at = len(d.log_text())
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: metric(d, "nrm_config_reload_failures_total") >
             failures, 10, what="the refused reload")
    assert "reload refused" in d.log_text()[log_at:]
    assert "key=%s" % key in d.log_text()[log_at:]


def test_tls_certificate(nrmd_factory, tmp_path):
    """New files at the same paths (a renewal): SIGHUP serves the new
    certificate to new connections; a broken certificate, or a key that
    does not match it, refuses the reload and the running pair stays."""
    ca = CA("reload CA")
    c1, k1, _ = ca.issue_files(tmp_path, "one", server=True)
    c2, k2, _ = ca.issue_files(tmp_path, "two", server=True)
    c3, k3, _ = ca.issue_files(tmp_path, "three", server=True)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(c1, cert)
    shutil.copy(k1, key)
    d = nrmd_factory(config={"tls_cert_file": cert, "tls_key_file": key})
    assert _server_cert(d) == _der(c1)
    shutil.copy(c2, cert)
    shutil.copy(k2, key)
    reload(d)
    assert _server_cert(d) == _der(c2)
    assert "tls certificate loaded" in d.log_text()
    # a broken certificate: refused, the second pair stays
    cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n"
                    "-----END CERTIFICATE-----\n")
    _refused_reload(d, "tls_cert_file")
    assert _server_cert(d) == _der(c2)
    # a certificate whose key is not the one in tls_key_file
    shutil.copy(c3, cert)
    _refused_reload(d, "tls_key_file")
    assert _server_cert(d) == _der(c2)
    # renamed files: the config names the new ones
    reload(d, tls_cert_file=c3, tls_key_file=k3)
    assert _server_cert(d) == _der(c3)


def test_tls_client_ca(nrmd_factory, tmp_path):
    """A client CA and the requirement switch on and off by reload."""
    ca = CA("reload client CA")
    ca_file = ca.write(tmp_path / "client-ca.pem")
    cc, ck, _ = ca.issue_files(tmp_path, "client")
    d = nrmd_factory()
    assert isinstance(_server_cert(d), bytes)
    reload(d, tls_client_ca_file=ca_file, tls_client_cert_required="true")
    assert isinstance(_server_cert(d), Exception)
    assert isinstance(_server_cert(d, (cc, ck)), bytes)
    reload(d, tls_client_cert_required="false")
    assert isinstance(_server_cert(d), bytes)
    assert isinstance(_server_cert(d, (cc, ck)), bytes)
    # required without a CA file: refused, the CA stays
    d.config["tls_client_ca_file"] = ""
    d.config["tls_client_cert_required"] = "true"
    d.write_config()
    _refused_reload(d, "tls_client_cert_required")
    assert isinstance(_server_cert(d), bytes)
