-- 96_period_name.sql - stats.period_name (sql/api/75_statistics.sql): a
-- client's period text when stats.period knows it as a calendar period,
-- else NULL; what POST /v1/publications audits as its object.  Called as
-- nrm_analyst, the role the publication doors run as.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(4);
\ir fixtures.psql

CREATE FUNCTION pg_temp.names(p_texts text[]) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_analyst', format('SELECT '
	    'jsonb_agg(stats.period_name(t) ORDER BY o) FROM '
	    'unnest(%L::text[]) WITH ORDINALITY AS u(t, o)', p_texts))
$$;

SELECT is(pg_temp.names(ARRAY['2026-11', '2026-Q4', '2026', '2000-01',
    '9999-12']),
    '["2026-11", "2026-Q4", "2026", "2000-01", "9999-12"]'::jsonb,
    'a month, a quarter, a year (2000..9999): the text itself');
SELECT is(pg_temp.names(ARRAY['2026-13', '2026-00', '2026-Q5', '2026-Q0',
    '1999', '10000', '2026-1', '2026-q4', ' 2026', '2026-11-01', '']),
    '[null, null, null, null, null, null, null, null, null, null, null]'
    ::jsonb, 'anything else: NULL');
SELECT is(pg_temp.names(ARRAY[NULL]), '[null]'::jsonb, 'NULL: NULL');
SELECT is((SELECT array_agg(x.t ORDER BY x.t) FROM unnest(ARRAY['2026-11',
    '2026-13', '2026-Q4', '2026-Q5', '2026', '1999', 'x']) AS x(t)
    WHERE (stats.period_name(x.t) IS NOT NULL)
        <> EXISTS (SELECT 1 FROM stats.period(x.t))), NULL,
    'named exactly when stats.period has a row for it');

SELECT * FROM finish();
ROLLBACK;
