"""The audit chain under concurrent load, end to end (issue 6): 8
concurrent clients x 1,000 audited requests against the real daemon (half
allowed case reads, half denied out-of-scope reads), then the sealer
catches up and the chain holds every one of those events exactly once,
at contiguous positions, and verifies (GET /v1/audit/verify)."""

import threading

import requests

from nrm_e2e.api import assert_receipt, post_signal
from nrm_e2e.env import wait_for
from nrm_e2e.pg import create_keys, key_id
from nrm_e2e.signals import adult_signal

CLIENTS = 8
PER_CLIENT = 1000


def test_eight_writers_every_event_chained_once(nrmd, db, cluster, keys):
    k = create_keys(
        cluster,
        reader=("coordinator", "Zorg Conc", "care_agency", ("VR13",)),
        outsider=("coordinator", "Zorg Conc Z", "care_agency", ("VR17",)),
        auditor=("auditor", "Toezicht Conc", "other"))
    reader, outsider, auditor = k["reader"], k["outsider"], k["auditor"]
    ids = {key_id(cluster, k) for k in (reader, outsider)}
    body = adult_signal()
    body["location"] = {"municipality_code": "GM0363"}
    case_id = assert_receipt(post_signal(nrmd, keys["reporter"].token,
                                         body))["case_id"]

    seen = [[] for _ in range(CLIENTS)]
    errors = []

    def client(n):
        s = requests.Session()
        try:
            for i in range(PER_CLIENT):
                k = reader if i % 2 == 0 else outsider
                r = s.get("%s/v1/cases/%s" % (nrmd.url, case_id),
                          headers={"Authorization": "Bearer " + k.token},
                          timeout=30)
                want = 200 if k is reader else 404
                if r.status_code != want:
                    errors.append((n, i, r.status_code, r.text[:200]))
                    return
                seen[n].append(r.headers["X-Request-Id"])
        except Exception as e:  # reported below, with the others
            errors.append((n, repr(e)))
        finally:
            s.close()

    threads = [threading.Thread(target=client, args=(n,))
               for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    rids = {rid for part in seen for rid in part}
    assert len(rids) == CLIENTS * PER_CLIENT, "request ids are unique"

    keylist = ", ".join("'%s'" % k for k in ids)
    mine = "api_key_id in (%s)" % keylist
    # the sealer (every second) catches up with all of them
    wait_for(lambda: db.count(
        "select count(*) from audit.event e where %s and not exists ("
        "select 1 from audit.chain c where c.event_id = e.id)" % mine) == 0,
        timeout=60, what="the sealer to chain every event")

    rows = db.sql("select request_id, outcome from audit.event where %s"
                  % mine)
    assert len(rows) == CLIENTS * PER_CLIENT, \
        "one audit event per request, no more"
    assert {r[0] for r in rows} == rids, "exactly the requests made"
    assert sum(1 for r in rows if r[1] == "allowed") == \
        CLIENTS * PER_CLIENT // 2
    assert sum(1 for r in rows if r[1] == "denied") == \
        CLIENTS * PER_CLIENT // 2
    assert db.count(
        "select count(*) from audit.chain c join audit.event e "
        "on e.id = c.event_id where e.%s" % mine) == CLIENTS * PER_CLIENT
    assert db.count(
        "select count(distinct c.event_id) from audit.chain c "
        "join audit.event e on e.id = c.event_id where e.%s" % mine) == \
        CLIENTS * PER_CLIENT, "each chained exactly once"
    # no gap anywhere in the chain after the retention anchor
    lo, hi, n = db.sql("select min(pos), max(pos), count(*) "
                       "from audit.chain")[0]
    assert int(hi) - int(lo) + 1 == int(n), "positions are contiguous"

    r = requests.get(nrmd.url + "/v1/audit/verify",
                     headers={"Authorization": "Bearer " + auditor.token},
                     timeout=120)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["intact"] is True, r.text[:500]
