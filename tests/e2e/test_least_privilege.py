"""The daemon's database credential (issue 14, part 1): whoever holds
nrm_app's password reaches the data only through the doors, as nrmd
does.  Connected with the very URL nrmd uses, nrm_app is refused every
table of the nrm schemas (enumerated from the catalog), every SET ROLE
and every function that is no door; it cannot set itself a wider scope;
it cannot open a person's session without the person's password (0024:
the database verifies the password's Argon2id tag and the TOTP code);
and nrmd, which runs as nrm_app, still answers the same requests.
"""

import base64
import hashlib
import json
import re
import time
import uuid

import requests

from nrm_e2e.cases import get_case, new_case
from nrm_e2e.env import PSQL, clean_env, run
from nrm_e2e.pg import create_key, key_id
from nrm_e2e.person import enrol, totp

# One DO block run by nrm_app: each probe's outcome as a JSON object
# {"probe": "sqlstate or ok"} in a NOTICE (a DO block needs no privilege
# beyond the language's, which PUBLIC holds).
PROBES = r"""
DO $probe$
DECLARE
	v record;
	res jsonb := '{}';
	st text;
	q text;
BEGIN
	FOR v IN
	    SELECT 'rel' AS kind, format('%I.%I', n.nspname, c.relname) AS obj,
	        c.relkind::text AS sub,
	        (SELECT quote_ident(a.attname) FROM pg_attribute a
	         WHERE a.attrelid = c.oid AND a.attnum > 0
	           AND NOT a.attisdropped ORDER BY a.attnum LIMIT 1) AS col
	    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	    WHERE n.nspowner = (SELECT datdba FROM pg_database
	            WHERE datname = current_database())
	      AND n.nspname <> 'public'
	      AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
	    UNION ALL
	    SELECT 'role', quote_ident(rolname), '', NULL FROM pg_roles
	    WHERE rolname <> current_user
	LOOP
		FOREACH q IN ARRAY CASE
		    WHEN v.kind = 'role' THEN ARRAY['SET ROLE ' || v.obj]
		    WHEN v.sub = 'S' THEN ARRAY['SELECT 1 FROM ' || v.obj,
		        format('SELECT nextval(%L)', v.obj)]
		    ELSE ARRAY['SELECT 1 FROM ' || v.obj || ' LIMIT 1',
		        'INSERT INTO ' || v.obj || ' DEFAULT VALUES',
		        format('UPDATE %s SET %s = %s WHERE false', v.obj,
		            v.col, v.col),
		        'DELETE FROM ' || v.obj || ' WHERE false'] END
		LOOP
			BEGIN
				EXECUTE q;
				st := 'ok';
			EXCEPTION WHEN OTHERS THEN
				st := SQLSTATE;
			END;
			res := res || jsonb_build_object(q, st);
		END LOOP;
	END LOOP;
	RAISE NOTICE 'PROBES %', res;
END
$probe$;
"""


def app_psql(cluster, sql, check=True):
    """Run sql as nrm_app over nrmd's own database URL."""
    return run([PSQL, "-d", cluster.app_url, "-X", "-A", "-t", "-q",
                "-v", "ON_ERROR_STOP=1", "-c", sql], env=clean_env(),
               check=check)


def test_nrm_app_is_refused_every_table_and_role(cluster):
    p = app_psql(cluster, PROBES)
    m = re.search(r"PROBES (\{.*\})", p.stderr)
    assert m, p.stderr[-2000:]
    res = json.loads(m.group(1))
    sets = [q for q in res if q.startswith("SET ROLE")]
    tables = [q for q in res if not q.startswith("SET ROLE")]
    # the enumeration found the tables and the roles (not an empty loop)
    assert len(sets) > 15, sets
    assert sum(q.startswith("SELECT 1 FROM auth.") for q in tables) > 5
    assert "SELECT 1 FROM care.subject LIMIT 1" in res
    assert "SELECT 1 FROM audit.event LIMIT 1" in res
    assert "SET ROLE nrm_coordinator" in res
    # every one of them: permission denied (42501), nothing else
    allowed = {q: s for q, s in res.items() if s != "42501"}
    assert allowed == {}, allowed


def test_nrm_app_calls_nothing_but_the_doors(cluster):
    for sql in (
            # the gate's key reader and audit writer, the scope setter
            "SELECT api.authenticate('\\x00'::bytea, 'r', NULL, "
            "'{coordinator}', 'x', NULL, NULL)",
            "SELECT api.audit(NULL, NULL, NULL, 'forged', NULL, NULL, NULL,"
            " 'allowed', NULL, NULL, NULL)",
            "SELECT api.scope(NULL, NULL, 'coordinator', '{VR01}')",
            # a door's body and a per-role implementation
            "SELECT api.case_get_body(NULL, NULL, NULL, NULL)",
            "SELECT api.case_get__coordinator(NULL, NULL, NULL, NULL)",
            # functions of other schemas that nrmd once called directly
            "SELECT audit.seal(1)",
            "SELECT care.escalate_overdue(1)"):
        p = app_psql(cluster, sql, check=False)
        assert p.returncode != 0, sql
        assert "permission denied" in p.stderr, (sql, p.stderr)
    # a door answers (no token: the audited 401)
    p = app_psql(cluster, "SELECT api.case_get('\\x00'::bytea, 'lp-1', "
                 "NULL, gen_random_uuid())")
    assert json.loads(p.stdout)["status"] == 401


def test_a_session_scope_reaches_nothing(nrmd, cluster, keys):
    """A case of VR17 stays out of reach of the VR13 coordinator's key,
    however nrm_app sets the scope settings the policies read."""
    rec = new_case(nrmd, keys["reporter"], region="VR17")
    # through nrmd: 404 (out of the key's regions)
    assert get_case(nrmd, keys["coordinator"], rec["case_id"]) \
        .status_code == 404
    token = keys["coordinator"].token
    sql = ("SET nrm.regions = 'VR13,VR17'; SET nrm.role = 'coordinator';"
           " SET nrm.case_id = '%s';"
           " SELECT api.case_get(sha256(convert_to('%s', 'UTF8')),"
           " 'lp-2', NULL, '%s'::uuid)" % (rec["case_id"], token,
                                          rec["case_id"]))
    out = app_psql(cluster, sql).stdout.strip().splitlines()[-1]
    assert json.loads(out)["status"] == 404, out
    # and a bare read with that scope is refused outright
    p = app_psql(cluster, "SET nrm.regions = 'VR17';"
                 " SELECT count(*) FROM care.case", check=False)
    assert p.returncode != 0 and "permission denied" in p.stderr


def test_nrm_app_opens_no_session_without_the_password(nrmd, cluster):
    """Whoever holds nrm_app's password, and so calls the login doors as
    nrmd does, learns no hash or TOTP secret and opens no session of an
    enrolled person without the person's password, even with a right
    TOTP code; nrmd, given the password, still does."""
    sfx = uuid.uuid4().hex[:6]
    admin = create_key(cluster, "admin", "Beheer LP " + sfx, "other")
    agency = cluster.scalar("select agency_id from auth.api_key "
                            "where id = '%s'" % key_id(cluster, admin))
    login = "lp" + sfx
    r = requests.post(nrmd.url + "/v1/admin/persons", timeout=30,
                      headers={"Authorization": "Bearer " + admin.token},
                      json={"login": login, "display_name": "LP " + sfx,
                            "agency_id": agency, "role": "analyst",
                            "regions": []})
    assert r.status_code == 201, r.text
    pid, code = r.json()["id"], r.json()["enrolment_code"]
    password, enrolled = enrol(nrmd, code)
    secret = re.search(r"secret=([A-Z2-7]+)",
                       enrolled["otpauth_uri"]).group(1)
    secret_hex = base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()

    # the first door answers nothing secret, in the shape of an unknown
    # login's answer
    def begin(name):
        out = app_psql(cluster, "SELECT api.login_begin('lp-b', NULL, "
                       "'%s')" % name).stdout
        assert secret_hex not in out and secret not in out, out
        assert "argon2id" not in out, out
        return json.loads(out)
    known, unknown = begin(login), begin("nobody-" + sfx)
    assert known["status"] == unknown["status"] == 200
    assert set(known["body"]) == set(unknown["body"]) == {
        "salt", "m_kib", "t_cost", "lanes", "tag_len"}, known

    # the stored secrets are out of reach
    p = app_psql(cluster, "SELECT password_verifier, totp_secret "
                 "FROM auth.person_credential", check=False)
    assert p.returncode != 0 and "permission denied" in p.stderr

    # a session without the password: a guessed tag, none, the empty
    # password's hash; each with the right code of now
    step = int(time.time()) // 30
    for tag in ("'\\x%s'::bytea" % hashlib.sha256(b"guess").hexdigest(),
                "NULL", "sha256(''::bytea)"):
        out = app_psql(cluster, "SELECT api.login_finish('lp-f', NULL, "
                       "'%s', %s, '%s', NULL, sha256(gen_random_uuid()::"
                       "text::bytea), 900, 36000, 100, 900, 900, NULL, "
                       "NULL, NULL)" % (login, tag, totp(secret, step))
                       ).stdout
        b = json.loads(out)
        assert b["status"] == 401 and \
            b["problem"]["detail"] == "login failed", (tag, b)
    assert cluster.scalar("select count(*) from auth.session "
                          "where person_id = '%s'" % pid) == "0"
    assert cluster.scalar(
        "select count(*) from audit.event where action = 'person.login' "
        "and person_id = '%s' and reason = 'bad_credentials'" % pid) == "3"

    # nrmd, given the password, opens one (the code was a right one)
    r = requests.post(nrmd.tls_url + "/v1/session", timeout=30,
                      verify=str(nrmd.pki["cert"]), json={
                          "login": login, "password": password,
                          "totp": totp(secret, int(time.time()) // 30)})
    assert r.status_code == 201, r.text
    assert cluster.scalar("select count(*) from auth.session "
                          "where person_id = '%s'" % pid) == "1"
