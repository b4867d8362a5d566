-- 99_doors.sql - the doors: the one list of the functions nrm_app (nrmd's
-- login) may execute, and what makes each one a door (issue 14 part 1;
-- docs/sql-api.md, "Doors"; docs/security.md).  A repeatable file
-- (docs/sql-api.md, "Migrations"), applied last, after every file that
-- (re)creates a door's body: CREATE OR REPLACE resets SECURITY DEFINER
-- and the SET clauses, this file sets them again.
--
-- A door of one role ({nrm_coordinator}) is the area file's function
-- itself, handed to that NOLOGIN role and made SECURITY DEFINER: inside
-- it current_user is the role, whose grants and row-level-security
-- policies apply as they did after the old role switch; its api.enter
-- refuses a principal of another role.  A door of two API roles
-- ({nrm_coordinator,nrm_assessor}) has its body in the area file as
-- api.<name>_body (SECURITY INVOKER, executable by those two roles
-- only); this file writes, from the body's signature, one
-- implementation api.<name>__<role> per role (SECURITY DEFINER, owned by
-- that role, executable by nrm_gate only) and the door api.<name>
-- (SECURITY DEFINER of nrm_gate), which picks the implementation of the
-- token's role (api.principal_role; the first role's for any other
-- principal or none, whose api.enter then refuses and audits as before).
-- No role ever holds the privileges of two.
--
-- The scope settings the row-level-security policies and audit.event's
-- person_id default read (nrm.regions ...) are published by
-- api.authenticate alone (SECURITY DEFINER of nrm_gate), which clears
-- them first: a door that takes a token calls it (api.enter) before it
-- reads or writes anything, and a door that takes none clears them
-- (api.scope_clear) first.  What a session SET before the call is
-- overwritten.  (A SET clause on each door would restore the session's
-- values on return too, but PostgreSQL 15 lets only a superuser attach
-- one for a placeholder setting such as nrm.regions.)
--
-- To add a door: one row below.  tests/db/97_doors.sql checks that
-- nrm_app can execute exactly these and each is SECURITY DEFINER with a
-- pinned search_path.  A door that takes no token calls api.scope_clear
-- first.

DELETE FROM nrm.door;
INSERT INTO nrm.door (name, roles) VALUES
    -- no API role: start-up, authorization of routes without a table,
    -- the rejected-token burst
    ('api.schema_version()', '{nrm_gate}'),
    ('api.schema_checksum()', '{nrm_gate}'),
    ('api.authorize(bytea,text,inet,text[],text,text,text)', '{nrm_gate}'),
    ('api.record(bytea,text,inet,text[],text,text,text)', '{nrm_gate}'),
    ('api.auth_rejections(integer,integer)', '{nrm_gate}'),
    -- nrmd's jobs (no token)
    ('api.escalate_overdue(integer)', '{nrm_sweeper}'),
    ('api.audit_seal(integer)', '{nrm_audit_sealer}'),
    ('api.audit_head()', '{nrm_audit_sealer}'),
    ('api.coverage_uncovered(integer)', '{nrm_overview}'),
    ('api.retention_run(integer,jsonb,integer,integer)', '{nrm_privacy}'),
    ('api.data_plaintext_left()', '{nrm_gate}'),
    -- enrolment, login and the session (no API role)
    ('api.enrol_lookup(text,inet,bytea)', '{nrm_people}'),
    ('api.enrol(text,inet,bytea,bytea,integer[],bytea,bytea,bytea[])',
     '{nrm_people}'),
    ('api.login_begin(text,inet,text)', '{nrm_people}'),
    ('api.login_finish(text,inet,text,bytea,text,text,bytea,integer,'
     'integer,integer,integer,integer,bytea,integer[],bytea)',
     '{nrm_people}'),
    ('api.session_get(bytea,text,inet)', '{nrm_people}'),
    ('api.session_end(bytea,text,inet)', '{nrm_people}'),
    -- reporter
    ('api.intake(bytea,text,inet,text,bytea,jsonb,jsonb,bytea,jsonb)',
     '{nrm_reporter}'),
    ('api.signal_receipt(bytea,text,inet,uuid)', '{nrm_reporter}'),
    ('api.signal_list(bytea,text,inet,uuid,integer)', '{nrm_reporter}'),
    ('api.signal_followup(bytea,text,inet,uuid,text,bytea,jsonb)',
     '{nrm_reporter}'),
    -- coordinator
    ('api.inbox(bytea,text,inet,text,text,jsonb,text,integer,boolean)',
     '{nrm_coordinator}'),
    ('api.inbox_wakeup_check(bytea,text,inet,text)', '{nrm_coordinator}'),
    ('api.inbox_many(bytea[],text[],inet[],text[],text,text,jsonb,'
     'integer,boolean)', '{nrm_coordinator}'),
    ('api.case_take(bytea,text,inet,uuid,integer)', '{nrm_coordinator}'),
    ('api.case_decline(bytea,text,inet,uuid,integer,text,integer)',
     '{nrm_coordinator}'),
    ('api.case_transfer(bytea,text,inet,uuid,integer,text,text,integer,'
     'integer,integer)', '{nrm_coordinator}'),
    ('api.case_transfer_accept(bytea,text,inet,uuid,integer)',
     '{nrm_coordinator}'),
    ('api.case_transfer_refuse(bytea,text,inet,uuid,integer,text)',
     '{nrm_coordinator}'),
    ('api.case_contact(bytea,text,inet,uuid,integer,text,text)',
     '{nrm_coordinator}'),
    ('api.case_close(bytea,text,inet,uuid,integer,text)',
     '{nrm_coordinator}'),
    ('api.case_reopen(bytea,text,inet,uuid,integer,text,integer,integer)',
     '{nrm_coordinator}'),
    ('api.case_share(bytea,text,inet,uuid,uuid,boolean)',
     '{nrm_coordinator}'),
    ('api.case_share_targets(bytea,text,inet,uuid)', '{nrm_coordinator}'),
    ('api.case_handover(bytea,text,inet,uuid,text,uuid)',
     '{nrm_coordinator}'),
    ('api.case_colleagues(bytea,text,inet,uuid)', '{nrm_coordinator}'),
    -- care work (issue 18): notes, the support plan, referrals, related
    ('api.case_note_add(bytea,text,inet,uuid,jsonb)', '{nrm_coordinator}'),
    ('api.case_followup_list(bytea,text,inet,uuid,text,text)',
     '{nrm_coordinator}'),
    ('api.case_note_list(bytea,text,inet,uuid,text,text)',
     '{nrm_coordinator}'),
    ('api.support_post(bytea,text,inet,uuid,jsonb)', '{nrm_coordinator}'),
    ('api.support_list(bytea,text,inet,uuid)', '{nrm_coordinator}'),
    ('api.referral_list(bytea,text,inet,text)', '{nrm_coordinator}'),
    ('api.referral_answer(bytea,text,inet,uuid,text,text)',
     '{nrm_coordinator}'),
    ('api.case_related(bytea,text,inet,uuid)', '{nrm_coordinator}'),
    -- merging a duplicate (issue 18, 0026)
    ('api.case_merge(bytea,text,inet,uuid,integer,text,text)',
     '{nrm_coordinator}'),
    -- two roles: implementations per role
    ('api.case_get(bytea,text,inet,uuid,text,text)',
     '{nrm_coordinator,nrm_assessor}'),
    ('api.case_find(bytea,text,inet,text)',
     '{nrm_coordinator,nrm_assessor}'),
    ('api.ident_record(bytea,text,inet,uuid,jsonb,text)',
     '{nrm_coordinator,nrm_assessor}'),
    ('api.ident_list(bytea,text,inet,uuid,text,text,text)',
     '{nrm_coordinator,nrm_assessor}'),
    ('api.data_unreadable(bytea,text,inet,text,text,text)',
     '{nrm_coordinator,nrm_assessor,nrm_investigator,nrm_privacy_officer}'),
    ('api.overview(bytea,text,inet,integer)',
     '{nrm_coordinator,nrm_chain_director}'),
    ('api.statistics(bytea,text,inet,text,text,text)',
     '{nrm_analyst,nrm_auditor}'),
    -- assessor
    ('api.ident_queue(bytea,text,inet,text,uuid,integer,text)',
     '{nrm_assessor}'),
    -- investigator
    ('api.invest_create(bytea,text,inet,jsonb)', '{nrm_investigator}'),
    ('api.invest_get(bytea,text,inet,uuid)', '{nrm_investigator}'),
    ('api.invest_patch(bytea,text,inet,uuid,integer,jsonb)',
     '{nrm_investigator}'),
    ('api.invest_seal_key(bytea,text,inet,uuid)', '{nrm_investigator}'),
    -- auditor
    ('api.audit_verify(bytea,text,inet,jsonb)', '{nrm_auditor}'),
    ('api.audit_search(bytea,text,inet,jsonb,bigint,integer)',
     '{nrm_auditor}'),
    ('api.audit_reviews(bytea,text,inet,text,bigint,integer)',
     '{nrm_auditor}'),
    ('api.audit_review(bytea,text,inet,bigint,text)', '{nrm_auditor}'),
    -- analyst
    ('api.publication_prepare(bytea,text,inet,text,jsonb)', '{nrm_analyst}'),
    ('api.publication_create(bytea,text,inet,text,jsonb,jsonb,text,text)',
     '{nrm_analyst}'),
    ('api.publication_list(bytea,text,inet)', '{nrm_analyst}'),
    ('api.publication_get(bytea,text,inet,text,boolean)', '{nrm_analyst}'),
    -- admin
    ('api.person_create(bytea,text,inet,text,text,uuid,text,text[],bytea,'
     'integer)', '{nrm_admin}'),
    ('api.person_list(bytea,text,inet,text,integer)', '{nrm_admin}'),
    ('api.person_get(bytea,text,inet,uuid)', '{nrm_admin}'),
    ('api.person_disable(bytea,text,inet,uuid)', '{nrm_admin}'),
    ('api.person_enable(bytea,text,inet,uuid)', '{nrm_admin}'),
    ('api.person_reset(bytea,text,inet,uuid,bytea,integer)', '{nrm_admin}'),
    ('api.key_create(bytea,text,inet,text,uuid,text,text[],bytea)',
     '{nrm_admin}'),
    ('api.key_list(bytea,text,inet,uuid,integer)', '{nrm_admin}'),
    ('api.key_revoke(bytea,text,inet,uuid)', '{nrm_admin}'),
    -- identification panels (issue 19): a member acts in its own session
    ('api.panel_assign(bytea,text,inet,uuid,jsonb,text)', '{nrm_assessor}'),
    ('api.panel_get(bytea,text,inet,uuid)', '{nrm_assessor}'),
    ('api.panel_recuse(bytea,text,inet,uuid,jsonb)', '{nrm_assessor}'),
    ('api.panel_vote(bytea,text,inet,uuid,jsonb)', '{nrm_assessor}'),
    ('api.panel_pending(bytea,text,inet)', '{nrm_assessor}'),
    -- privacy officer (issue 15)
    ('api.privacy_export(bytea,text,inet,uuid,bytea)',
     '{nrm_privacy_officer}'),
    ('api.privacy_rectify_prepare(bytea,text,inet,uuid,text)',
     '{nrm_privacy_officer}'),
    ('api.privacy_rectify(bytea,text,inet,uuid,text,text,bytea,boolean,'
     'text)', '{nrm_privacy_officer}'),
    ('api.privacy_erase(bytea,text,inet,uuid,text)',
     '{nrm_privacy_officer}');

/*
 * Make every listed function a door.  nrm_app first loses EXECUTE on
 * every function of every nrm schema (and PUBLIC on api's), then gets it
 * on the doors alone.  An owner role holds CREATE on api only while it
 * is handed its functions (ALTER FUNCTION ... OWNER TO needs it).
 */
DO $doors$
DECLARE
	c_path constant text := 'SET search_path = pg_catalog, pg_temp';
	d record;
	s text;
	r text;
	v_fn regprocedure;
	v_base text;
	v_body regprocedure;
	v_args text;
	v_ret text;
	v_call text;
	v_case text;
BEGIN
	FOR s IN SELECT n.nspname FROM pg_catalog.pg_namespace n
	    WHERE n.nspowner = current_user::regrole
	LOOP
		EXECUTE pg_catalog.format(
		    'REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM nrm_app', s);
	END LOOP;
	REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
	FOR r IN SELECT DISTINCT pg_catalog.unnest(roles) FROM nrm.door
	    UNION SELECT 'nrm_gate'
	LOOP
		EXECUTE pg_catalog.format('GRANT CREATE ON SCHEMA api TO %I', r);
	END LOOP;
	FOR d IN SELECT * FROM nrm.door ORDER BY name LOOP
		IF pg_catalog.cardinality(d.roles) = 1 THEN
			v_fn := d.name::regprocedure;
			EXECUTE pg_catalog.format(
			    'ALTER FUNCTION %s OWNER TO %I', v_fn, d.roles[1]);
			EXECUTE pg_catalog.format(
			    'ALTER FUNCTION %s SECURITY DEFINER', v_fn);
		ELSE
			-- api.<name>_body(args): the body both roles run
			v_base := pg_catalog.split_part(d.name, '(', 1);
			v_body := (v_base || '_body(' ||
			    pg_catalog.split_part(d.name, '(', 2))::regprocedure;
			v_args := pg_catalog.pg_get_function_arguments(v_body);
			v_ret := pg_catalog.pg_get_function_result(v_body);
			SELECT pg_catalog.string_agg('$' || i, ', ' ORDER BY i)
			INTO v_call
			FROM pg_catalog.generate_series(1,
			    (SELECT p.pronargs FROM pg_catalog.pg_proc p
			     WHERE p.oid = v_body)) i;
			v_case := '';
			FOREACH r IN ARRAY d.roles LOOP
				EXECUTE pg_catalog.format(
				    'CREATE OR REPLACE FUNCTION %s__%s(%s) '
				    'RETURNS %s LANGUAGE sql VOLATILE SECURITY '
				    'DEFINER %s AS %L', v_base,
				    pg_catalog.substr(r, 5), v_args, v_ret,
				    c_path, pg_catalog.format('SELECT %s(%s)',
				        v_body::regproc, v_call));
				v_fn := pg_catalog.format('%s__%s(%s', v_base,
				    pg_catalog.substr(r, 5),
				    pg_catalog.split_part(d.name, '(', 2));
				EXECUTE pg_catalog.format(
				    'ALTER FUNCTION %s OWNER TO %I', v_fn, r);
				EXECUTE pg_catalog.format(
				    'REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_fn);
				EXECUTE pg_catalog.format(
				    'GRANT EXECUTE ON FUNCTION %s TO nrm_gate',
				    v_fn);
				EXECUTE pg_catalog.format(
				    'COMMENT ON FUNCTION %s IS %L', v_fn,
				    'Implementation of ' || d.name || ' as ' || r
				    || ' (' || v_body::regproc::text || ', SECURITY '
				    'DEFINER); only the door, as nrm_gate, calls '
				    'it.  Written by sql/api/99_doors.sql.');
				v_case := v_case || pg_catalog.format(
				    ' WHEN %L THEN %s__%s(%s)',
				    pg_catalog.substr(r, 5), v_base,
				    pg_catalog.substr(r, 5), v_call);
			END LOOP;
			EXECUTE pg_catalog.format(
			    'CREATE OR REPLACE FUNCTION %s(%s) RETURNS %s '
			    'LANGUAGE sql VOLATILE SECURITY DEFINER %s AS %L',
			    v_base, v_args, v_ret, c_path, pg_catalog.format(
			        'SELECT CASE api.principal_role($1)%s ELSE '
			        '%s__%s(%s) END', v_case, v_base,
			        pg_catalog.substr(d.roles[1], 5), v_call));
			v_fn := d.name::regprocedure;
			EXECUTE pg_catalog.format(
			    'ALTER FUNCTION %s OWNER TO nrm_gate', v_fn);
			EXECUTE pg_catalog.format(
			    'REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_fn);
			EXECUTE pg_catalog.format(
			    'COMMENT ON FUNCTION %s IS %L', v_fn,
			    'Door of ' || pg_catalog.array_to_string(d.roles,
			    ' and ') || ': the implementation of the token''s '
			    'role (' || v_body::regproc::text || ', as that '
			    'role).  Written by sql/api/99_doors.sql.');
		END IF;
		EXECUTE pg_catalog.format(
		    'GRANT EXECUTE ON FUNCTION %s TO nrm_app', v_fn);
	END LOOP;
	FOR r IN SELECT DISTINCT pg_catalog.unnest(roles) FROM nrm.door
	    UNION SELECT 'nrm_gate'
	LOOP
		EXECUTE pg_catalog.format(
		    'REVOKE CREATE ON SCHEMA api FROM %I', r);
	END LOOP;
END
$doors$;
