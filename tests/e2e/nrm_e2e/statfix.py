"""Hand-counted statistics fixtures written straight into the database
(as the superuser): cases with identification decisions and, for some,
an investigation record, dated in a past (closed) period.  The API cannot
backdate, and a closed period is what a publication needs."""

import uuid


def seed_decisions(cluster, rows):
    """rows: (decided_on 'YYYY-MM-DD', stage, outcome, investigation
    record created at (RFC 3339) or None).  Each row is its own signal
    and case (VR13, adult, labour), received the day before the decision
    at noon UTC, reported by any police key.  Returns the case ids."""
    key, agency = cluster.sql(
        "select k.id, k.agency_id from auth.api_key k "
        "join auth.agency a on a.id = k.agency_id "
        "where k.role = 'reporter' order by k.created_at limit 1")[0]
    decider = cluster.scalar(
        "select id from auth.api_key order by created_at limit 1")
    out = []
    for on, stage, outcome, inv_at in rows:
        s, c = str(uuid.uuid4()), str(uuid.uuid4())
        at = "%sT12:00:00Z" % on
        sql = """
        INSERT INTO intake.signal (id, received_at, observed_at, agency_id,
            api_key_id, region_code, rule_id, ruleset_version, minor,
            age_estimate, gender, nationality, exploitation,
            immediate_danger, needs_shelter, consent, notification_only)
        VALUES ('{s}', '{at}'::timestamptz - interval '1 day',
            '{at}'::timestamptz - interval '1 day', '{agency}', '{key}',
            'VR13', 'r', 'v1', false, 30, 'female', 'RO', '{{labour}}',
            false, false, 'given', false);
        INSERT INTO care.subject (signal_id, created_at)
        VALUES ('{s}', '{at}'::timestamptz - interval '1 day');
        INSERT INTO care.case (id, signal_id, region_code, priority,
            rule_id, ruleset_version, explanation, take_by,
            first_contact_by, created_at, updated_at)
        VALUES ('{c}', '{s}', 'VR13', 'normal', 'r', 'v1', 'x',
            '{at}', '{at}', '{at}'::timestamptz - interval '1 day',
            '{at}'::timestamptz - interval '1 day');
        INSERT INTO ident.decision (case_id, stage, outcome, deciding_body,
            decided_on, recorded_by, profile)
        VALUES ('{c}', '{stage}', '{outcome}', 'care_coordination',
            '{on}', '{decider}', 'nl');
        """.format(s=s, c=c, at=at, agency=agency, key=key, stage=stage,
                   outcome=outcome, on=on, decider=decider)
        if inv_at is not None:
            sql += """
            INSERT INTO invest.record (agency_id, signal_id, created_by,
                created_at, updated_at)
            VALUES ('{agency}', '{s}', '{key}', '{t}', '{t}');
            """.format(agency=agency, s=s, key=key, t=inv_at)
        cluster.sql(sql)
        out.append(c)
    return out
