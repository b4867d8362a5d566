-- 0026_case_merge.sql - a duplicate signal's case merged into the case it
-- repeats (issue 18, h-merge): the terminal state `merged`, pointing at
-- its target, with the merge's reason and time; the history actions of
-- both sides.  docs/case-lifecycle.md ("Merging a duplicate").
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  api.case_merge stands in sql/api/32_care.sql.

ALTER TABLE care.case
	ADD COLUMN merged_into uuid,
	ADD COLUMN merged_at timestamptz,
	ADD COLUMN merge_reason text,
	ADD CONSTRAINT case_merged_into_fkey FOREIGN KEY (merged_into)
	    REFERENCES care.case (id),
	DROP CONSTRAINT case_state_check,
	ADD CONSTRAINT case_state_check CHECK (state IN ('open', 'taken',
	    'closed', 'transfer_pending', 'merged')),
	-- A merged case names its target, when and why; nothing else does.
	-- Never itself: a chain ends in a case that is not merged (the
	-- target is never merged when the merge is made).
	ADD CONSTRAINT case_merged_check CHECK (
	    (state = 'merged') = (merged_into IS NOT NULL)
	    AND (merged_into IS NULL OR (merged_into <> id
	        AND merged_at IS NOT NULL AND merge_reason IS NOT NULL))
	    AND (merged_into IS NOT NULL
	        OR (merged_at IS NULL AND merge_reason IS NULL))),
	ADD CONSTRAINT case_merge_reason_check CHECK (merge_reason IS NULL
	    OR merge_reason IN ('same_situation', 'repeat_report',
	        'new_information', 'other'));
COMMENT ON COLUMN care.case.merged_into IS
    'The case this one was merged into (state merged): a duplicate '
    'signal''s case joined to the case it repeats; null otherwise.  '
    'merged_at and merge_reason (a code) say when and why.  No personal '
    'data.';
CREATE INDEX case_merged_into_idx ON care.case (merged_into)
    WHERE merged_into IS NOT NULL;

-- The history gains both sides of a merge: 'merged' on the duplicate,
-- 'merged_in' on its target.  Read in place and extended (as 0022 did),
-- so another migration of this stop that extends it keeps its own.
DO $hist$
DECLARE
	v_def text;
	v_list text[];
BEGIN
	SELECT pg_catalog.pg_get_constraintdef(c.oid) INTO v_def
	FROM pg_catalog.pg_constraint c
	WHERE c.conname = 'case_history_action_check'
	  AND c.conrelid = 'care.case_history'::regclass;
	-- the definition spells the list ARRAY['a'::text, ...] (0021) or
	-- '{a,b}'::text[] (0022 on): take the codes of either form
	SELECT pg_catalog.array_agg(DISTINCT a ORDER BY a) INTO v_list
	FROM (SELECT m[1] FROM pg_catalog.regexp_matches(v_def,
	        '''([a-z_]+)''', 'g') m
	    UNION ALL SELECT pg_catalog.regexp_split_to_table(
	        pg_catalog.substring(v_def, '''\{([a-z_,]*)\}'''), ',')
	    UNION ALL VALUES ('merged'), ('merged_in')) x(a)
	WHERE a <> '';
	ALTER TABLE care.case_history
	    DROP CONSTRAINT case_history_action_check;
	EXECUTE pg_catalog.format('ALTER TABLE care.case_history ADD '
	    'CONSTRAINT case_history_action_check CHECK (action = ANY '
	    '(%L::text[]))', v_list);
END
$hist$;

-- The merge's reason codes: care.reason_allowed, which now stands in
-- sql/api/30_cases.sql (a repeatable file: the next list changes there).

-- The coordinator merges (api.case_merge, as nrm_coordinator); the
-- assessor reads the case with its merge; the statistician counts a
-- merged case's person once (its state); the privacy role follows a
-- merged case to its target for the retention schedule (it reads every
-- column already).
GRANT UPDATE (merged_into, merged_at, merge_reason) ON care.case
    TO nrm_coordinator;
GRANT SELECT (merged_into, merged_at, merge_reason) ON care.case
    TO nrm_assessor;
GRANT SELECT (state) ON care.case TO nrm_statistician;
