"""The indicators register over HTTP (issue 13; docs/indicators.md):
GET /v1/indicators lists every entry of config/indicators.json, GET
/v1/indicators/{id}?period= answers the entry with, as "values", exactly
the statistics table of its measure and breakdown for that period (the
same api.statistics call as GET /v1/statistics), for every indicator of
the register over a period with fixture data; a count moves by what was
added; 404 for an unknown id, 400 naming `period`, 403 for the roles
that may not read, 401 without a token.  And the daemon's side: a bad
register refuses start with every problem logged, and a bad register by
SIGHUP is refused while the old one keeps serving."""

import datetime
import json
import signal
import subprocess
from zoneinfo import ZoneInfo

import pytest
import requests

from nrm_e2e.api import assert_problem, assert_receipt, auth, post_signal
from nrm_e2e.env import INDICATORS_FILE, NRMD, ROOT, clean_env, wait_for
from nrm_e2e.openapi import load_openapi, validator
from nrm_e2e.pg import create_key
from nrm_e2e.signals import adult_signal, minor_signal, notification_signal
from nrm_e2e.statfix import seed_decisions

REGISTER = json.loads(INDICATORS_FILE.read_text())["indicators"]
IDS = [x["id"] for x in REGISTER]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def period_now(frequency):
    """The calendar period (Europe/Amsterdam) holding now."""
    t = datetime.datetime.now(AMSTERDAM)
    return {"month": "%04d-%02d" % (t.year, t.month),
            "quarter": "%04d-Q%d" % (t.year, (t.month - 1) // 3 + 1),
            "year": "%04d" % t.year}[frequency]


def get(d, key, path, **params):
    return requests.get(d.url + path, params=params,
                        headers=auth(key) if key else {}, timeout=15)


@pytest.fixture(scope="module")
def fixture_data(nrmd, cluster, keys):
    """Signals of every kind this period (adults, minors, anonymous
    notifications), a case taken; the threshold at 2 for this module so
    that small counts show (restored afterwards)."""
    old = cluster.scalar("SELECT statistics_min_cell FROM stats.config")
    cluster.sql("UPDATE stats.config SET statistics_min_cell = 2")
    rep = keys["reporter"].token
    for body in [adult_signal() for _ in range(4)] + \
            [minor_signal() for _ in range(3)] + \
            [notification_signal() for _ in range(3)]:
        assert_receipt(post_signal(nrmd, rep, body))
    rec = assert_receipt(post_signal(nrmd, rep, adult_signal()))
    r = requests.post("%s/v1/cases/%s/take" % (nrmd.url, rec["case_id"]),
                      headers=auth(keys["coordinator"]), json={},
                      timeout=15)
    assert r.status_code == 200, r.text[:500]
    yield
    cluster.sql("UPDATE stats.config SET statistics_min_cell = %d"
                % int(old))


@pytest.fixture(scope="module")
def auditor(cluster):
    return create_key(cluster, "auditor", "Toezicht Indicatoren", "other")


# --------------------------------------------------------------------------
# the list


def test_list_has_every_register_entry(nrmd, keys, auditor):
    schema = validator(load_openapi(), "IndicatorList")
    for key in (keys["analyst"], auditor):
        r = get(nrmd, key, "/v1/indicators")
        assert r.status_code == 200, r.text[:500]
        schema.validate(r.json())
        items = r.json()["items"]
        assert [x["id"] for x in items] == IDS
        for want, got in zip(REGISTER, items):
            for k in ("title", "definition", "measure", "unit", "how",
                      "when", "by_whom", "goal"):
                assert got[k] == want[k], (want["id"], k)
            assert got["by"] == want.get("by", []), want["id"]
            assert set(got["title"]) == {"nl", "en"}


def test_register_holds_the_issue_indicators():
    by_measure = {(x["measure"], tuple(x.get("by", []))) for x in REGISTER}
    assert len(REGISTER) >= 15
    for need in [("signals", ("reporter_kind",)), ("signals", ("minor",)),
                 ("anonymous_notifications", ()),
                 ("cases_taken_in_time", ("region",)),
                 ("time_to_take", ("priority",)),
                 ("escalations", ("region",)), ("cases", ("region",)),
                 ("identification_decisions", ("stage", "outcome")),
                 ("time_initial_to_conclusive", ("outcome",)),
                 ("repeat_signals", ("minor",)),
                 ("emergency_reads", ("verdict",))]:
        assert need in by_measure, need


# --------------------------------------------------------------------------
# the values: one request per indicator


@pytest.mark.parametrize("ind", REGISTER, ids=IDS)
def test_values_are_the_statistics(nrmd, keys, fixture_data, ind):
    period = period_now(ind["when"]["frequency"])
    r = get(nrmd, keys["analyst"], "/v1/indicators/" + ind["id"],
            period=period)
    assert r.status_code == 200, r.text[:500]
    got = r.json()
    validator(load_openapi(), "IndicatorValues").validate(got)
    values = got.pop("values")
    labels = values.pop("labels")
    assert got["id"] == ind["id"] and got["how"] == ind["how"]
    assert got["when"] == ind["when"] and got["by_whom"] == ind["by_whom"]
    by = ind.get("by", [])
    params = {"measure": ind["measure"], "period": period}
    if by:
        params["by"] = ",".join(by)
    s = get(nrmd, keys["analyst"], "/v1/statistics", **params)
    assert s.status_code == 200, s.text[:500]
    assert values == s.json()
    assert values["measure"] == ind["measure"]
    assert values["period"] == period and values["provisional"] is True
    assert values["by"] == by
    for cell in values["cells"]:
        assert set(by) <= set(cell), cell
        if cell.get("suppressed"):
            assert cell["value"] is None, cell
    # words for every category the table names (the console and the
    # report show them), in both languages; region codes are their own
    assert sorted(labels) == sorted(by), labels
    for d in by:
        for cell in values["cells"]:
            code = str(cell[d]).lower()
            if d == "region":
                assert labels[d] == {}, labels[d]
                continue
            word = labels[d].get(code)
            assert word and word["nl"] and word["en"], (d, code)
            assert word["nl"] != code and word["en"] != code, word


def test_a_count_moves_by_what_was_added(nrmd, keys, fixture_data):
    """anonymous_notifications is one cell (no breakdown): two more
    notifications this quarter, two more in the value."""
    period = period_now("quarter")

    def value():
        r = get(nrmd, keys["analyst"],
                "/v1/indicators/anonymous_notifications", period=period)
        assert r.status_code == 200, r.text[:500]
        (cell,) = r.json()["values"]["cells"]
        return cell["value"]

    before = value()
    assert before is not None and before >= 3  # the fixture's three
    for _ in range(2):
        assert_receipt(post_signal(nrmd, keys["reporter"].token,
                                   notification_signal()))
    assert value() == before + 2


def test_decoupling_counts_decisions_without_an_investigation(
        nrmd, cluster, keys):
    """identification_decoupled by outcome and investigation over
    2024-Q2, hand-counted: three positive decisions with no record, two
    with a record made before, two negative without, and one positive
    whose record was made at 00:30 the next day in Amsterdam (22:30Z):
    positive/none 4, positive/exists 2, negative/none 2."""
    seed_decisions(cluster, [("2024-04-10", "initial", "positive", None)] * 3
                   + [("2024-04-11", "initial", "positive",
                       "2024-04-01T10:00:00Z")] * 2
                   + [("2024-05-02", "initial", "negative", None)] * 2
                   + [("2024-05-20", "initial", "positive",
                       "2024-05-20T22:30:00Z")])
    old = cluster.scalar("SELECT statistics_min_cell FROM stats.config")
    cluster.sql("UPDATE stats.config SET statistics_min_cell = 2")
    try:
        r = get(nrmd, keys["analyst"],
                "/v1/indicators/identification_decoupled", period="2024-Q2")
        assert r.status_code == 200, r.text[:500]
        v = r.json()["values"]
        assert v["by"] == ["outcome", "investigation"]
        assert v["provisional"] is False
        assert v["cells"] == [
            {"outcome": "positive", "investigation": "none", "value": 4},
            {"outcome": "positive", "investigation": "exists", "value": 2},
            {"outcome": "negative", "investigation": "none", "value": 2},
            {"outcome": "negative", "investigation": "exists", "value": 0},
            {"outcome": "pending", "investigation": "none", "value": 0},
            {"outcome": "pending", "investigation": "exists", "value": 0}]
        s = get(nrmd, keys["analyst"], "/v1/statistics",
                measure="identification_decisions", period="2024-Q2",
                by="stage,investigation")
        assert s.status_code == 200, s.text[:500]
        assert [c["value"] for c in s.json()["cells"]
                if c["stage"] == "initial"] == [6, 2]
    finally:
        cluster.sql("UPDATE stats.config SET statistics_min_cell = %d"
                    % int(old))


def test_auditor_reads_the_emergency_indicator_only(nrmd, auditor,
                                                    fixture_data):
    period = period_now("quarter")
    r = get(nrmd, auditor, "/v1/indicators/emergency_reads_by_verdict",
            period=period)
    assert r.status_code == 200, r.text[:500]
    assert r.json()["values"]["measure"] == "emergency_reads"
    r = get(nrmd, auditor, "/v1/indicators/signals_by_reporter_kind",
            period=period)
    assert_problem(r, 403, "forbidden")


# --------------------------------------------------------------------------
# refusals


def test_unknown_id_is_404(nrmd, keys):
    for ident in ("no_such_indicator", "SIGNALS", "x" * 70):
        r = get(nrmd, keys["analyst"], "/v1/indicators/" + ident,
                period="2026-Q3")
        assert_problem(r, 404, "not_found", "id")
        assert ident not in r.text
    # the request's own arguments come first (docs/authorization.md)
    r = get(nrmd, keys["analyst"], "/v1/indicators/no_such_indicator",
            period="2026-Q9")
    assert_problem(r, 400, "bad_request", "period")


@pytest.mark.parametrize("period", [None, "", "2026-Q5", "2026-13",
                                    "2026-Q3/2026-Q4", "26", "1999",
                                    "2026-q3", "2026-07-01"])
def test_bad_period_is_400(nrmd, keys, period):
    params = {} if period is None else {"period": period}
    r = get(nrmd, keys["analyst"], "/v1/indicators/share_of_minors",
            **params)
    assert_problem(r, 400, "bad_request", "period")


def test_other_query_parameters_are_400(nrmd, keys):
    r = get(nrmd, keys["analyst"], "/v1/indicators/share_of_minors",
            period="2026-Q3", by="gender")
    assert_problem(r, 400, "bad_request")
    r = requests.get(nrmd.url + "/v1/indicators/share_of_minors"
                     "?period=2026-Q3&period=2026-Q4",
                     headers=auth(keys["analyst"]), timeout=15)
    assert_problem(r, 400, "bad_request", "period")


@pytest.mark.parametrize("role", ["reporter", "coordinator"])
def test_other_roles_are_403(nrmd, keys, role):
    for path in ("/v1/indicators", "/v1/indicators/share_of_minors"):
        r = get(nrmd, keys[role], path, period="2026-Q3")
        assert_problem(r, 403, "forbidden")


def test_no_token_is_401(nrmd):
    for path in ("/v1/indicators", "/v1/indicators/share_of_minors"):
        assert get(nrmd, None, path, period="2026-Q3").status_code == 401


# --------------------------------------------------------------------------
# the daemon: start and reload


def broken_register(path):
    """The shipped register with three faults; their messages."""
    doc = json.loads(INDICATORS_FILE.read_text())
    e = doc["indicators"]
    e[0]["measure"] = "victims"
    e[1]["by"] = ["region", "minor", "gender"]
    e[2]["id"] = e[0]["id"]
    path.write_text(json.dumps(doc, ensure_ascii=False))
    return ["indicators[0].measure: unknown measure \"victims\"",
            "indicators[1].by: at most 2 dimensions (3 given)",
            "indicators[2].id: duplicate id %s (also indicators[0])"
            % e[0]["id"]]


def test_bad_register_refuses_start(nrmd_factory, tmp_path):
    bad = tmp_path / "indicators.json"
    want = broken_register(bad)
    d = nrmd_factory(config={"indicators_file": bad}, start=False)
    p = subprocess.run([str(NRMD), "--config", str(d.config_path)],
                       capture_output=True, text=True, env=clean_env(),
                       timeout=20, cwd=str(ROOT))
    assert p.returncode == 1
    out = p.stdout + p.stderr
    for w in want:
        assert w in out.replace("'", '"'), (w, out[-3000:])
    assert "indicators_file" in out


def test_bad_register_by_sighup_keeps_the_old(nrmd_factory, keys, tmp_path):
    reg = tmp_path / "indicators.json"
    reg.write_text(INDICATORS_FILE.read_text())
    d = nrmd_factory(config={"indicators_file": reg})
    want = broken_register(reg)
    log_at = len(d.log_text())
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload refused" in d.log_text()[log_at:], 10,
             what="the refused reload in the log")
    log = d.log_text()[log_at:].replace("'", '"')
    for w in want:
        assert w in log, (w, log[-3000:])
    d.assert_running()
    r = get(d, keys["analyst"], "/v1/indicators")
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["items"]] == IDS
