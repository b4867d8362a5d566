"""Identification by a panel end to end (issue 19): the assessment body
refers a case to a panel over HTTP, members recuse or vote in their own
sessions (an API key is no person), votes are blind until one's own,
the vote's rationale travels sealed and comes back opened, the decision
names the voters and the dissent and lands in the identification
history; quorum, majority, unanimity and the chair's casting vote; the
uk profile's second review of negatives; reconsideration by a panel
without the first one's members; the inbox of pending decisions with
escalation to the chair; and separation: a positive decision on a case
without investigation and on one whose investigation filed no report,
while the investigator sees none of it (docs/separation.md "Who
decides")."""

import datetime
import uuid

import pytest
import requests

from nrm_e2e.api import assert_problem, auth
from nrm_e2e.cases import new_case
from nrm_e2e.daemon import DaemonPool
from nrm_e2e.openapi import validator
from nrm_e2e.pg import create_key
from nrm_e2e.person import enrolled_session

RATIONALE = "Het verhaal is consistent en de indicatoren zijn aanwezig"


def today():
    # the database dates decisions in Europe/Amsterdam; a day either way
    # is accepted by the tests that compare
    return datetime.datetime.now(datetime.timezone.utc).date()


class World:
    """Daemons of four profiles over one database (a panel copies its
    profile's rules when the case is referred, so only referral needs
    the profile's daemon), an assessor key (the body), an investigator
    and a reporter of one police agency, and assessor persons."""

    def __init__(self, pool, cluster, case_keys):
        cluster.sql(
            "insert into ident.profile (code, name, "
            "initial_target_working_days, min_days_initial_to_conclusive, "
            "source, panel_model, panel_quorum, panel_disciplines, "
            "panel_rule, panel_blind, panel_working_days) values "
            "('test_unanimity', 'e2e unanimity', 5, 30, 'test', 'panel', "
            "3, '{}', 'unanimity', true, 20), "
            "('test_casting', 'e2e casting', 5, 30, 'test', 'panel', 3, "
            "'{}', 'chair_casting', true, 20) on conflict do nothing")
        self.d = pool()
        self.uk = pool(config={"jurisdiction_profile": "uk"})
        self.unan = pool(config={"jurisdiction_profile": "test_unanimity"})
        self.cast = pool(config={"jurisdiction_profile": "test_casting"})
        self.cluster = cluster
        sfx = uuid.uuid4().hex[:6]
        self.assessor = case_keys["assessor"]
        self.coordinator = case_keys["co13"]
        police = "Politie Paneel " + sfx
        self.reporter = create_key(cluster, "reporter", police, "police")
        self.investigator = create_key(cluster, "investigator", police,
                                       "police")
        admin = create_key(cluster, "admin", "Beheer Paneel " + sfx, "other")
        agency = cluster.scalar(
            "select agency_id from auth.api_key where id = '%s'"
            % self.assessor.id)
        self.s = {}
        self.pid = {}
        for n in ("a1", "a2", "a3", "a4", "a5", "a6", "r1"):
            self.s[n], self.pid[n] = enrolled_session(
                self.d, admin, agency, "assessor", name="Lid " + n)

    def case(self, reporter=None):
        """A new case with its initial indication: its id."""
        cid = new_case(self.d, reporter or self.reporter)["case_id"]
        r = requests.post(
            "%s/v1/cases/%s/identification" % (self.d.url, cid),
            headers=auth(self.assessor), timeout=15, json={
                "stage": "initial", "outcome": "positive",
                "deciding_body": "assessment_body", "rationale": None,
                "decided_on": (today() - datetime.timedelta(days=1))
                .isoformat()})
        assert r.status_code == 201, r.text
        return cid

    def members(self, *spec):
        return [{"person_id": self.pid[n], "discipline": d}
                for n, d in spec]

    def refer(self, cid, members, chair, d=None, **extra):
        body = {"members": members, "chair": self.pid[chair]}
        body.update(extra)
        return requests.post("%s/v1/cases/%s/panel" % ((d or self.d).url,
                                                       cid),
                             headers=auth(self.assessor), json=body,
                             timeout=15)

    def three(self, cid, names=("a1", "a2", "a3"), d=None):
        r = self.refer(cid, self.members((names[0], "law"),
                                         (names[1], "care"),
                                         (names[2], "medicine")),
                       names[0], d=d)
        assert r.status_code == 201, r.text
        return r.json()

    def act(self, who, cid, what, body):
        s = self.s[who]
        return requests.post("%s/v1/cases/%s/panel/%s" % (
            self.d.tls_url, cid, what), json=body, timeout=15,
            headers=s.headers("POST"), verify=str(self.d.pki["cert"]))

    def vote(self, who, cid, outcome, rationale=None, status=201):
        r = self.act(who, cid, "vote", {
            "outcome": outcome,
            "reason": "indicators_met" if outcome == "positive"
            else "insufficient_information", "rationale": rationale})
        assert r.status_code == status, r.text
        return r.json()

    def get(self, cid, who=None, key=None):
        if who is not None:
            r = requests.get("%s/v1/cases/%s/panel" % (self.d.tls_url, cid),
                             headers=self.s[who].headers("GET"), timeout=15,
                             verify=str(self.d.pki["cert"]))
        else:
            r = requests.get("%s/v1/cases/%s/panel" % (self.d.url, cid),
                             headers=auth(key or self.assessor), timeout=15)
        return r

    def pending(self, who=None, key=None):
        if who is not None:
            return requests.get(self.d.tls_url + "/v1/panels/pending",
                                headers=self.s[who].headers("GET"),
                                timeout=15, verify=str(self.d.pki["cert"]))
        return requests.get(self.d.url + "/v1/panels/pending",
                            headers=auth(key or self.assessor), timeout=15)


@pytest.fixture(scope="module")
def w(workdir, cluster, pki, case_keys):
    pool = DaemonPool(workdir, cluster, pki)
    yield World(pool, cluster, case_keys)
    pool.close()


# --------------------------------------------------------------------------
# the nl panel: referral, blind votes, sealed rationale, decision, dissent


def test_nl_panel_decides_by_majority_with_dissent(w, doc):
    cid = w.case()
    p = w.three(cid)
    validator(doc, "Panel").validate(p)
    assert (p["model"], p["rule"], p["status"], p["blind"]) == \
        ("panel", "majority", "open", True), p
    assert p["quorum"] == {"members": 3, "disciplines": ["law", "care"]}

    # an API key is not a person: it may not vote, even the body's
    r = requests.post("%s/v1/cases/%s/panel/vote" % (w.d.url, cid),
                      headers=auth(w.assessor), timeout=15,
                      json={"outcome": "positive", "reason": "other"})
    assert_problem(r, 403, "forbidden")
    # a member may not send what nrmd adds when it seals
    r = w.act("a1", cid, "vote", {"outcome": "positive", "reason": "other",
                                  "rationale_ct": "AQ=="})
    assert_problem(r, 422, "validation")

    mine = w.vote("a1", cid, "positive", rationale=RATIONALE)
    assert mine["votes"][0]["rationale"] == RATIONALE, mine["votes"]
    assert "sealed" not in str(mine)
    stored = w.cluster.scalar(
        "select encode(rationale_ct, 'hex') from ident.panel_vote "
        "where id = '%s'" % mine["votes"][0]["id"])
    assert stored and RATIONALE.encode().hex() not in stored, \
        "the rationale is stored sealed"

    # blind: a2 has not voted and sees a count only; so does the body
    other = w.get(cid, who="a2")
    assert other.status_code == 200, other.text
    validator(doc, "PanelAnswer").validate(other.json())
    assert other.json()["panel"]["votes"] is None
    assert other.json()["panel"]["votes_cast"] == 1
    assert RATIONALE not in other.text
    assert w.get(cid).json()["panel"]["votes"] is None

    w.vote("a2", cid, "negative")
    last = w.vote("a3", cid, "positive")
    assert last["status"] == "decided", last
    dec = last["decision"]
    assert dec["outcome"] == "positive" and dec["stage"] == "conclusive"
    assert sorted(dec["voters"]) == sorted(w.pid[n] for n in
                                           ("a1", "a2", "a3"))
    assert [x["person_id"] for x in dec["dissent"]] == [w.pid["a2"]]
    assert dec["unanimous"] is False
    # once decided every assessor sees every vote, the rationale opened
    seen = w.get(cid).json()["panel"]
    assert [v["dissent"] for v in seen["votes"]] == [False, True, False]
    assert seen["votes"][0]["rationale"] == RATIONALE
    # the identification history holds the decision, naming the panel
    h = requests.get("%s/v1/cases/%s/identification" % (w.d.url, cid),
                     headers=auth(w.assessor), timeout=15).json()
    top = h["items"][0]
    assert (top["stage"], top["outcome"], top["panel_id"]) == \
        ("conclusive", "positive", p["id"]), top
    # no investigation was read, required or waited for: there is none
    assert w.cluster.count(
        "select count(*) from invest.record r join care.case c "
        "on c.signal_id = r.signal_id where c.id = '%s'" % cid) == 0

    # reconsideration: a newly composed panel, none of the first's members
    r = w.refer(cid, w.members(("a4", "law"), ("a5", "care"),
                               ("a1", "medicine")), "a4")
    assert_problem(r, 422, "validation", "members")
    assert "reconsideration_excludes_earlier_members" in r.json()["detail"]
    re_p = w.three(cid, names=("a4", "a5", "a6"))
    assert (re_p["round"], re_p["reconsideration"]) == (2, True)
    for n in ("a4", "a5", "a6"):
        last = w.vote(n, cid, "positive")
    assert last["decision"]["stage"] == "reconsideration", last
    both = w.get(cid).json()
    assert both["panel"]["round"] == 2 and len(both["earlier"]) == 1


def test_single_route_refused_while_a_panel_works(w):
    cid = w.case()
    w.three(cid)
    r = requests.post("%s/v1/cases/%s/identification" % (w.d.url, cid),
                      headers=auth(w.assessor), timeout=15, json={
                          "stage": "conclusive", "outcome": "negative",
                          "deciding_body": "assessment_body",
                          "rationale": None,
                          "decided_on": today().isoformat()})
    assert_problem(r, 409, "conflict", "stage")
    # and a second panel is refused too
    r = w.refer(cid, w.members(("a4", "law"), ("a5", "care"),
                               ("a6", "medicine")), "a4")
    assert_problem(r, 409, "conflict")


def test_referral_refusals(w):
    cid = w.case()
    r = requests.post("%s/v1/cases/%s/panel" % (w.d.url, cid),
                      headers=auth(w.coordinator), timeout=15,
                      json={"members": [], "chair": w.pid["a1"]})
    assert_problem(r, 403, "forbidden")
    r = w.refer(cid, w.members(("a1", "law"), ("a2", "care")), "a1")
    assert_problem(r, 422, "validation", "members")
    assert r.json()["detail"].startswith("quorum:"), r.text
    r = w.refer(cid, w.members(("a1", "law"), ("a2", "medicine"),
                               ("a3", "other")), "a1")
    assert "disciplines law, care" in r.json()["detail"], r.text
    r = w.refer(cid, w.members(("a1", "law"), ("a2", "care"),
                               ("a3", "medicine")) +
                [{"person_id": str(uuid.uuid4()), "discipline": "law"}],
                "a1")
    assert_problem(r, 422, "validation", "members")


# --------------------------------------------------------------------------
# quorum and recusal; the inbox and escalation


def test_recusal_quorum_and_escalation_to_the_chair(w, doc):
    cid = w.case()
    p = w.three(cid)
    # the chair's inbox holds the panel with its clock, to act
    r = w.pending(who="a1")
    assert r.status_code == 200, r.text
    validator(doc, "PanelPending").validate(r.json())
    item = [i for i in r.json()["items"] if i["case_id"] == cid][0]
    assert item["you"] == {"chair": True, "member": True,
                           "second_reviewer": False, "to_act": True}
    assert item["overdue"] is False and item["working_days_left"] == 20

    r = w.act("a3", cid, "recusal", {"reason": "conflict_of_interest"})
    assert r.status_code == 200, r.text
    m = {x["person_id"]: x for x in r.json()["members"]}[w.pid["a3"]]
    assert (m["recused"], m["recusal_reason"]) == \
        (True, "conflict_of_interest")
    w.vote("a3", cid, "positive", status=409)
    assert_problem(w.act("a3", cid, "recusal", {"reason": "other"}),
                   409, "conflict")
    w.vote("a1", cid, "positive")
    last = w.vote("a2", cid, "positive")
    assert (last["status"], last["stalled_reason"]) == \
        ("stalled", "inquorate"), last
    assert last["decision"] is None
    r = w.pending(who="a1")
    item = [i for i in r.json()["items"] if i["case_id"] == cid][0]
    assert item["escalated_to_chair"] is True, item

    # a panel past its time limit escalates to its chair
    cid2 = w.case()
    p2 = w.three(cid2, names=("a4", "a5", "a6"))
    w.cluster.sql("update ident.panel set due_on = current_date - 10 "
                  "where id = '%s'" % p2["id"])
    item = [i for i in w.pending(who="a4").json()["items"]
            if i["panel_id"] == p2["id"]][0]
    assert (item["overdue"], item["escalated_to_chair"],
            item["you"]["chair"]) == (True, True, True), item
    assert item["working_days_left"] < 0
    assert not [i for i in w.pending(who="a1").json()["items"]
                if i["panel_id"] == p2["id"]], \
        "not in the inbox of someone off the panel"
    assert [i for i in w.pending().json()["items"]
            if i["panel_id"] == p2["id"]], "the body's key sees it"
    assert p["id"] != p2["id"]


# --------------------------------------------------------------------------
# the other rules (profiles test_unanimity and test_casting)


def test_unanimity_split_stalls_and_agreement_decides(w):
    cid = w.case()
    p = w.three(cid, d=w.unan)
    assert p["rule"] == "unanimity"
    w.vote("a1", cid, "positive")
    w.vote("a2", cid, "positive")
    last = w.vote("a3", cid, "negative")
    assert (last["status"], last["stalled_reason"]) == ("stalled", "split")
    cid = w.case()
    w.three(cid, d=w.unan)
    for n in ("a1", "a2", "a3"):
        last = w.vote(n, cid, "negative")
    assert (last["status"], last["decision"]["outcome"],
            last["decision"]["unanimous"]) == ("decided", "negative", True)


def test_chair_casting_vote_breaks_a_tie(w):
    cid = w.case()
    r = w.refer(cid, w.members(("a1", "law"), ("a2", "care"),
                               ("a3", "medicine"), ("a4", "academia")),
                "a2", d=w.cast)
    assert r.status_code == 201 and r.json()["rule"] == "chair_casting"
    w.vote("a1", cid, "negative")
    w.vote("a2", cid, "positive")
    w.vote("a3", cid, "positive")
    last = w.vote("a4", cid, "negative")
    assert last["decision"]["outcome"] == "positive", last
    assert sorted(x["person_id"] for x in last["decision"]["dissent"]) == \
        sorted([w.pid["a1"], w.pid["a4"]])


def test_majority_tie_stalls(w):
    cid = w.case()
    r = w.refer(cid, w.members(("a1", "law"), ("a2", "care"),
                               ("a3", "medicine"), ("a4", "academia")),
                "a1")
    assert r.status_code == 201
    for n, o in (("a1", "positive"), ("a2", "negative"),
                 ("a3", "positive"), ("a4", "negative")):
        last = w.vote(n, cid, o)
    assert (last["status"], last["stalled_reason"]) == ("stalled", "tie")


# --------------------------------------------------------------------------
# uk: one decision-maker, negatives to a second reviewer


def test_uk_negative_waits_for_the_second_reviewer(w):
    cid = w.case()
    r = w.refer(cid, [w.pid["a1"]], "a1", d=w.uk)
    assert_problem(r, 422, "validation", "second_reviewer")
    r = w.refer(cid, [w.pid["a1"]], "a1", d=w.uk,
                second_reviewer=w.pid["r1"])
    assert r.status_code == 201, r.text
    assert (r.json()["model"], r.json()["second_review"]) == \
        ("single", True)
    w.vote("r1", cid, "negative", status=403)
    last = w.vote("a1", cid, "negative", rationale="Onvoldoende gegevens")
    assert last["status"] == "second_review" and last["decision"] is None
    assert w.cluster.count(
        "select count(*) from ident.decision where case_id = '%s' "
        "and stage <> 'initial'" % cid) == 0, "no decision before review"
    review = w.get(cid, who="r1").json()["panel"]
    assert review["votes"][0]["rationale"] == "Onvoldoende gegevens"
    item = [i for i in w.pending(who="r1").json()["items"]
            if i["case_id"] == cid][0]
    assert item["you"]["to_act"] is True and item["you"]["second_reviewer"]
    last = w.vote("r1", cid, "positive")
    assert (last["status"], last["decision"]["outcome"]) == \
        ("decided", "positive"), last
    assert [x["person_id"] for x in last["decision"]["dissent"]] == \
        [w.pid["a1"]]
    # a positive needs no review
    cid = w.case()
    w.refer(cid, [w.pid["a2"]], "a2", d=w.uk, second_reviewer=w.pid["r1"])
    assert w.vote("a2", cid, "positive")["status"] == "decided"


# --------------------------------------------------------------------------
# separation


def test_positive_without_a_report_and_investigator_sees_nothing(w):
    rec = new_case(w.d, w.reporter)
    r = requests.post(w.d.url + "/v1/investigations",
                      headers=auth(w.investigator), timeout=15,
                      json={"signal_id": rec["signal_id"],
                            "report_filed": False})
    assert r.status_code == 201, r.text
    requests.post("%s/v1/cases/%s/identification" % (w.d.url,
                                                      rec["case_id"]),
                  headers=auth(w.assessor), timeout=15, json={
                      "stage": "initial", "outcome": "positive",
                      "deciding_body": "assessment_body",
                      "rationale": None,
                      "decided_on": (today() - datetime.timedelta(days=1))
                      .isoformat()}).raise_for_status()
    cid = rec["case_id"]
    w.three(cid)
    for n in ("a1", "a2", "a3"):
        last = w.vote(n, cid, "positive")
    assert last["decision"]["outcome"] == "positive"
    assert "report" not in str(last) and "invest" not in str(last)

    inv = w.investigator
    for method, path, body in (
            ("GET", "/v1/cases/%s/panel" % cid, None),
            ("POST", "/v1/cases/%s/panel" % cid, {"members": []}),
            ("POST", "/v1/cases/%s/panel/vote" % cid,
             {"outcome": "positive", "reason": "other"}),
            ("POST", "/v1/cases/%s/panel/recusal" % cid, {"reason": "other"}),
            ("GET", "/v1/panels/pending", None)):
        r = requests.request(method, w.d.url + path, headers=auth(inv),
                             json=body, timeout=15)
        assert_problem(r, 403, "forbidden")
