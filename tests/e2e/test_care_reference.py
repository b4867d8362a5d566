"""Readable references end to end (issue 18): every receipt, inbox item
and case carries one, an anonymous notification's receipt too; GET
/v1/cases?reference= finds the case for the roles that may see it, as
heard over the phone, and answers everyone else as for a reference
nobody has; a misheard character is caught by the check character."""

import re

import requests

from nrm_e2e.api import (
    assert_problem, assert_receipt, auth, ok, post_signal)
from nrm_e2e.cases import get_case, new_case
from nrm_e2e.openapi import validator
from nrm_e2e.signals import notification_signal

REF = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]$")
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def find(d, key, ref):
    return requests.get(d.url + "/v1/cases", params={"reference": ref},
                        headers=auth(key), timeout=15)


def comparable(r):
    p = r.json()
    return r.status_code, {k: v for k, v in p.items() if k != "request_id"}


def test_references_and_the_search(nrmd, case_keys, cluster, doc):
    d, k = nrmd, case_keys
    rec = new_case(d, k["reporter"])
    ref = rec["reference"]
    assert REF.match(ref), rec
    other = new_case(d, k["reporter"], "VR17")["reference"]
    assert other != ref
    # the notification's receipt carries its reference
    n = assert_receipt(post_signal(d, k["reporter"].token,
                                   notification_signal()))
    assert n["case_id"] is None and REF.match(n["reference"]), n
    # the case and its inbox item
    c = ok(get_case(d, k["co13"], rec["case_id"]))
    assert c["case"]["reference"] == ref
    # found as heard: lower case, spaces instead of dashes
    heard = ref.lower().replace("-", " ")
    body = ok(find(d, k["co13"], heard))
    assert [it["case_id"] for it in body["items"]] == [rec["case_id"]]
    validator(doc, "InboxItem").validate(body["items"][0])
    assert ok(find(d, k["assessor"], other))["items"][0]["reference"] == \
        other
    rows = cluster.sql("select object_id, outcome from audit.event where "
                       "action = 'case.find' and api_key_id = '%s' "
                       "order by id desc limit 1" % k["co13"].id)
    assert rows == [[rec["case_id"], "allowed"]], rows
    # another region's case answers as a reference nobody has
    out = find(d, k["co13"], other)
    assert_problem(out, 404, "not_found", None)
    body8 = "".join(ALPHABET[(ALPHABET.index(c) + 1) % 31]
                    for c in ref.replace("-", "")[:8])
    w = sum((i + 1) * ALPHABET.index(c) for i, c in enumerate(body8))
    nobody = "%s-%s-%s" % (body8[:4], body8[4:],
                           ALPHABET[(31 - w % 31) % 31])
    unknown = find(d, k["co13"], nobody)
    assert comparable(out) == comparable(unknown)
    # a misheard character: 400 naming reference, the value not echoed
    wrong = ("M" if ref[0] != "M" else "K") + ref[1:]
    r = find(d, k["co13"], wrong)
    assert_problem(r, 400, "bad_request", "reference")
    assert wrong not in r.text
    assert_problem(requests.get(d.url + "/v1/cases", headers=auth(k["co13"]),
                                timeout=15), 400, "bad_request", "reference")
    assert_problem(find(d, k["reporter"], ref), 403, "forbidden")
