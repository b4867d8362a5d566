"""Cases made the way a reporter makes them (a signal the default routing
rules send to a region) and the case read."""

import requests

from .api import assert_receipt, auth, post_signal
from .signals import adult_signal

# A municipality per region the tests use (config/routing/municipalities.csv).
MUNICIPALITY = {
    "VR03": "GM0106",  # Assen
    "VR05": "GM0153",  # Enschede
    "VR09": "GM0344",  # Utrecht
    "VR13": "GM0363",  # Amsterdam
    "VR17": "GM0599",  # Rotterdam
    "VR25": "GM0034",  # Almere
}

AMSTERDAM = MUNICIPALITY["VR13"]  # VR13: the suite's coordinator "co13"


def new_case(d, reporter, region="VR13", body=None):
    """Submit `body` (default: a fresh adult signal) from `region`; the
    receipt, which names a case in that region."""
    body = body or adult_signal()
    body["location"] = {"municipality_code": MUNICIPALITY[region]}
    rec = assert_receipt(post_signal(d, reporter.token, body))
    assert rec["region"] == region and rec["case_id"], rec
    return rec


def get_case(d, key, case_id, purpose=None, reason=None):
    """GET /v1/cases/{id} as `key` (None: no Authorization), with the
    NRM-Purpose and NRM-Reason headers when given."""
    h = auth(key) if key is not None else {}
    if purpose is not None:
        h["NRM-Purpose"] = purpose
    if reason is not None:
        h["NRM-Reason"] = reason
    return requests.get("%s/v1/cases/%s" % (d.url, case_id), headers=h,
                        timeout=15)
