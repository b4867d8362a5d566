"""Idempotent intake: replays, conflicting reuse, concurrent duplicates,
and keys scoped per principal."""

import subprocess
import threading
import uuid

import requests

from nrm_e2e.api import assert_problem, assert_receipt, post_signal
from nrm_e2e.env import clean_env, wait_for
from nrm_e2e.pg import key_id
from nrm_e2e.sealed import signal_ids_by_reference
from nrm_e2e.signals import adult_signal


def signals_with_ref(db, ref):
    # the reference is stored sealed (issue 15): opened with the KEK
    return len(signal_ids_by_reference(db, db.kek_file).get(ref, []))


def test_replay_returns_identical_answer(nrmd, db, keys):
    tok = keys["reporter"].token
    idem = "e2e-replay-" + uuid.uuid4().hex
    body = adult_signal()
    first = post_signal(nrmd, tok, body, idem=idem)
    rec = assert_receipt(first)
    before = db.counts()
    for _ in range(3):
        again = post_signal(nrmd, tok, body, idem=idem)
        assert again.status_code == first.status_code
        assert again.content == first.content  # byte-identical body
        assert again.headers.get("Location") == first.headers["Location"]
        # a replay is a new request: its own request id
        assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert db.counts() == before
    assert signals_with_ref(db, body["reporter_reference"]) == 1
    assert rec["signal_id"] == again.json()["signal_id"]


def test_replay_with_reordered_keys_is_same_body(nrmd, db, keys):
    """Same signal, keys in another order and other whitespace: a replay
    (the hash is over the canonical form), not a conflict."""
    tok = keys["reporter"].token
    idem = "e2e-reorder-" + uuid.uuid4().hex
    body = adult_signal()
    first = post_signal(nrmd, tok, body, idem=idem)
    assert_receipt(first)
    reordered = dict(reversed(list(body.items())))
    import json
    text = json.dumps(reordered, indent=2).encode()
    again = post_signal(nrmd, tok, text, idem=idem)
    assert again.status_code == 201, again.text
    assert again.content == first.content


def test_same_key_different_body_422(nrmd, db, keys):
    tok = keys["reporter"].token
    idem = "e2e-conflict-" + uuid.uuid4().hex
    body = adult_signal()
    assert_receipt(post_signal(nrmd, tok, body, idem=idem))
    before = db.counts()
    other = dict(body)
    other["exploitation"] = ["sexual"]
    r = post_signal(nrmd, tok, other, idem=idem)
    assert_problem(r, 422, "idempotency", "Idempotency-Key")
    assert db.counts() == before
    # and the original still replays
    r = post_signal(nrmd, tok, body, idem=idem)
    assert r.status_code == 201


def test_failed_validation_does_not_burn_the_key(nrmd, db, keys):
    tok = keys["reporter"].token
    idem = "e2e-burn-" + uuid.uuid4().hex
    bad = adult_signal(exploitation=[])
    assert_problem(post_signal(nrmd, tok, bad, idem=idem), 422, "validation",
                   "exploitation")
    good = adult_signal()
    assert_receipt(post_signal(nrmd, tok, good, idem=idem))


def test_twenty_concurrent_requests_one_key(nrmd, db, keys):
    tok = keys["reporter"].token
    idem = "e2e-concurrent-" + uuid.uuid4().hex
    body = adult_signal()
    n = 20
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        s = requests.Session()
        try:
            barrier.wait()
            results[i] = post_signal(nrmd, tok, body, idem=idem, session=s,
                                     timeout=30)
        except Exception as e:  # recorded and asserted below
            results[i] = e
        finally:
            s.close()

    before = db.counts()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [r for r in results if not isinstance(r, requests.Response)]
    assert not errors, errors
    created = [r for r in results if r.status_code == 201]
    conflicts = [r for r in results if r.status_code == 409]
    assert len(created) + len(conflicts) == n, \
        sorted(r.status_code for r in results)
    assert created, "no request succeeded"
    first = created[0]
    for r in created:
        assert r.content == first.content
        assert r.headers["Location"] == first.headers["Location"]
    for r in conflicts:
        # issue 21: the in-flight answer is retryable and says when
        assert_problem(r, 409, "retry_later", "Idempotency-Key")
        assert r.headers.get("Retry-After", "").isdigit()
    after = db.counts()
    assert after["intake.signal"] == before["intake.signal"] + 1
    assert after["care.case"] == before["care.case"] + 1
    assert after["care.subject"] == before["care.subject"] + 1
    assert signals_with_ref(db, body["reporter_reference"]) == 1
    # a retry after the storm is a replay
    r = post_signal(nrmd, tok, body, idem=idem)
    assert r.status_code == 201 and r.content == first.content


def test_keys_are_scoped_per_principal(nrmd, db, keys):
    idem = "e2e-shared-key-" + uuid.uuid4().hex
    body = adult_signal()
    answers = {}
    for who in ("reporter", "reporter_same_agency", "reporter_other"):
        r = post_signal(nrmd, keys[who].token, body, idem=idem)
        answers[who] = assert_receipt(r)
    ids = {rec["signal_id"] for rec in answers.values()}
    assert len(ids) == 3, answers
    assert signals_with_ref(db, body["reporter_reference"]) == 3


def test_replay_survives_daemon_restart(nrmd_factory, db, keys):
    tok = keys["reporter"].token
    idem = "e2e-restart-" + uuid.uuid4().hex
    body = adult_signal()
    d1 = nrmd_factory()
    first = post_signal(d1, tok, body, idem=idem)
    assert_receipt(first)
    d1.assert_clean_exit()
    d2 = nrmd_factory()
    again = post_signal(d2, tok, body, idem=idem)
    assert again.status_code == 201
    assert again.content == first.content
    assert signals_with_ref(db, body["reporter_reference"]) == 1


def test_in_flight_is_retryable_409(nrmd, db, keys):
    """An earlier attempt with the same key holds its lock (here a
    session that took it and sleeps, as a hung backend would): the
    duplicate gets 409 retry_later with Retry-After, stores nothing, and
    the same request retried once the lock is gone is answered."""
    tok = keys["reporter"].token
    idem = "e2e-inflight-" + uuid.uuid4().hex
    kid = key_id(db, keys["reporter"])
    holder = subprocess.Popen(
        db._psql_cmd(
            "begin; select pg_advisory_xact_lock(api.idempotency_lock_key("
            "'%s', '%s')); select 'locked'; select pg_sleep(3); commit"
            % (kid, idem)),
        env=clean_env(), stdout=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: db.count(
            "select count(*) from pg_locks where locktype = 'advisory' "
            "and granted") > 0, 10, what="the lock taken")
        body = adult_signal()
        before = db.counts()
        r = post_signal(nrmd, tok, body, idem=idem)
        p = assert_problem(r, 409, "retry_later", "Idempotency-Key")
        assert "retry" in p["detail"]
        assert r.headers.get("Retry-After", "").isdigit()
        assert db.counts() == before
    finally:
        holder.wait(30)
    r = post_signal(nrmd, tok, body, idem=idem)
    assert_receipt(r)
