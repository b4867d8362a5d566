"""The break-glass rate (issue 14 part 4): at most
audit.break_glass_limit.max_per_day emergency reads per person, or per
key, in 24 hours; the read beyond it is refused 403 naming the limit,
written as a denied event and flagged for the auditors' review queue."""

import uuid

import pytest

from nrm_e2e.api import assert_problem
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.pg import create_key, key_id
from test_break_glass import all_reviews, event_of

DEFAULT_LIMIT = 5


@pytest.fixture(scope="module")
def people(cluster, keys):
    """Two fresh coordinators of VR17 (nobody else's reads count), and
    an auditor."""
    tag = uuid.uuid4().hex[:6]
    out = {}
    for name in ("first", "second"):
        k = create_key(cluster, "coordinator", "Zorg BG-limit %s %s" % (
            name, tag), "care_agency", regions=("VR17",))
        k.id = key_id(cluster, k)
        out[name] = k
    out["auditor"] = create_key(cluster, "auditor", "Toezicht " + tag,
                                "other")
    out["reporter"] = keys["reporter"]
    return out


def test_default_limit(db):
    assert db.scalar("select max_per_day from audit.break_glass_limit") \
        == str(DEFAULT_LIMIT)


def test_reads_beyond_the_limit_refused_and_flagged(nrmd, db, people):
    case = new_case(nrmd, people["reporter"])["case_id"]  # VR13
    first, second = people["first"], people["second"]
    for i in range(DEFAULT_LIMIT):
        r = get_case(nrmd, first, case, purpose="emergency",
                     reason="immediate_danger")
        assert r.status_code == 200, (i, r.text[:300])
    r = get_case(nrmd, first, case, purpose="emergency",
                 reason="immediate_danger")
    assert_problem(r, 403, "forbidden", "purpose")
    body = r.json()
    assert body["break_glass_limit"] == DEFAULT_LIMIT
    assert "break_glass_limit" in body["detail"]
    assert "given_name" not in r.text  # nothing of the case
    ev = event_of(db, r)
    assert ev[1:] == ("emergency", "denied", "break_glass_limit")
    assert db.scalar("select kind from audit.review where event_id = %d"
                     % ev[0]) == "break_glass"
    # the auditors see it in their queue
    pending = all_reviews(nrmd, people["auditor"], "pending")
    assert [x for x in pending if x["id"] == ev[0]], "not in the queue"
    # still refused; a refusal does not count as a read
    r = get_case(nrmd, first, case, purpose="emergency",
                 reason="person_relocated")
    assert_problem(r, 403, "forbidden", "purpose")
    assert db.count(
        "select count(*) from audit.event where api_key_id = '%s' and "
        "purpose = 'emergency' and outcome = 'allowed'" % first.id) == \
        DEFAULT_LIMIT
    # another key is not affected
    r = get_case(nrmd, second, case, purpose="emergency",
                 reason="immediate_danger")
    assert r.status_code == 200, r.text[:300]
    # an ordinary read is never limited: 404 beyond the region as ever
    assert_problem(get_case(nrmd, first, case), 404, "not_found")


def test_the_owner_sets_the_limit(nrmd, db, people):
    case = new_case(nrmd, people["reporter"])["case_id"]
    first = people["first"]  # at the limit since the test above
    r = get_case(nrmd, first, case, purpose="emergency",
                 reason="immediate_danger")
    assert r.status_code == 403, r.text[:300]
    db.sql("update audit.break_glass_limit set max_per_day = %d"
           % (DEFAULT_LIMIT + 1))
    try:
        r = get_case(nrmd, first, case, purpose="emergency",
                     reason="immediate_danger")
        assert r.status_code == 200, r.text[:300]
        r = get_case(nrmd, first, case, purpose="emergency",
                     reason="immediate_danger")
        assert_problem(r, 403, "forbidden", "purpose")
        assert r.json()["break_glass_limit"] == DEFAULT_LIMIT + 1
    finally:
        db.sql("update audit.break_glass_limit set max_per_day = %d"
               % DEFAULT_LIMIT)
