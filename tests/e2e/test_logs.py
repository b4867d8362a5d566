"""Logs: one structured line per event, request lines carry the request
id, and no personal value ever reaches them (not even at debug level, and
not from requests that fail)."""

import json
import re

from nrm_e2e.api import assert_receipt, get_receipt, post_signal
from nrm_e2e.signals import (
    PERSONAL, PERSONAL_FRAGMENTS, adult_signal, minor_signal,
    notification_signal)

LINE_RE = re.compile(
    r'^ts=\S+ level=(debug|info|warn|error|fatal) msg="[^"]*"( \S+=\S+)*')


def test_log_lines_are_structured_and_carry_request_ids(nrmd_factory, keys):
    d = nrmd_factory()
    tok = keys["reporter"].token
    rids = []
    r = post_signal(d, tok, adult_signal())
    assert_receipt(r)
    rids.append(r.headers["X-Request-Id"])
    r = post_signal(d, tok, adult_signal(exploitation=[]))
    assert r.status_code == 422
    rids.append(r.headers["X-Request-Id"])
    r = get_receipt(d, tok, "00000000-0000-4000-8000-000000000000")
    rids.append(r.headers["X-Request-Id"])
    assert len(set(rids)) == len(rids), "request ids are not unique"
    d.assert_clean_exit()
    lines = d.log_text().splitlines()
    assert lines, "nrmd logged nothing"
    bad = [ln for ln in lines if not LINE_RE.match(ln)]
    assert not bad, bad[:5]
    for rid in rids:
        tagged = [ln for ln in lines if re.search(
            r"(^| )req=\"?%s\"?( |$)" % re.escape(rid), ln)]
        assert tagged, "no log line carries req=%s" % rid


def test_no_personal_data_in_logs_even_at_debug(nrmd_factory, keys):
    d = nrmd_factory(config={"log_level": "debug"})
    tok = keys["reporter"].token
    # accepted signals with every personal field
    assert_receipt(post_signal(d, tok, adult_signal()))
    assert_receipt(post_signal(d, tok, minor_signal()))
    body = adult_signal()
    body["subject"]["given_name"] = PERSONAL["given_name_utf8"]
    body["subject"]["family_name"] = PERSONAL["family_name_utf8"]
    assert_receipt(post_signal(d, tok, body))
    # rejected ones, with personal values in the failing places
    bad = []
    b = notification_signal()
    b["subject"]["given_name"] = PERSONAL["given_name"]
    bad.append(b)
    b = adult_signal()
    b["subject"]["birth_date"] = PERSONAL["family_name"]  # not a date
    bad.append(b)
    b = adult_signal()
    b["subject"]["nationality"] = PERSONAL["given_name"]
    bad.append(b)
    b = adult_signal()
    b["remarks"] = PERSONAL["narrative"]  # unknown field
    bad.append(b)
    b = adult_signal()
    b["subject"]["contact"]["phone"] = PERSONAL["phone"] * 10  # too long
    bad.append(b)
    b = adult_signal()
    b["location"] = {"municipality_code": PERSONAL["given_name"]}
    bad.append(b)
    for b in bad:
        r = post_signal(d, tok, b)
        assert r.status_code == 422, r.text
        for frag in PERSONAL_FRAGMENTS:
            assert frag not in r.text, (frag, r.text)
    # malformed JSON around personal data
    r = post_signal(d, tok, ('{"narrative": "%s"' % PERSONAL["narrative"])
                    .encode())
    assert r.status_code == 400
    # a bearer token (a secret) is never logged, not even an unknown one
    r = post_signal(d, "secret-" + PERSONAL["family_name"], adult_signal())
    assert r.status_code == 401
    d.assert_clean_exit()  # scans the log for every personal fragment
    assert tok not in d.log_text(), "a bearer token reached the log"


def test_problem_details_never_echo_values(nrmd_factory, keys):
    d = nrmd_factory()
    b = adult_signal()
    b["subject"]["gender"] = PERSONAL["given_name"]
    r = post_signal(d, keys["reporter"].token, b)
    assert r.status_code == 422
    p = r.json()
    assert p["field"] == "subject.gender"
    assert PERSONAL["given_name"] not in json.dumps(p, ensure_ascii=False)
