-- floor.sql - the physical floor of issue 16: the durable writes and
-- reads of an intake and of an inbox page with nothing of nrm around
-- them (no row-level security, no audit chain, no sealed subject, no
-- routing, no idempotency answer), on the same cluster, committed
-- with the same settings (synchronous_commit on, fsync on).  pgbench
-- runs bench/floor_intake.pgbench and bench/floor_inbox.pgbench on it
-- as the superuser; `make bench` divides nrmd's throughput by theirs.
-- A ratio against nrmd's own statement can only say what HTTP and the
-- daemon cost; this one says how close nrmd is to what PostgreSQL can
-- commit.  Made by scripts/bench-lib.sh (bench_floor_setup) in the
-- throwaway bench cluster only, never in a real database.
DROP SCHEMA IF EXISTS nrm_floor CASCADE;
CREATE SCHEMA nrm_floor;

-- One row per signal: the facts as nrmd stores them (jsonb of the
-- same size: the captured request's facts), with a unique key as an
-- idempotency row would have.
CREATE TABLE nrm_floor.signal (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	received_at timestamptz NOT NULL DEFAULT now(),
	idempotency_key text NOT NULL UNIQUE,
	body jsonb NOT NULL
);

-- One case per signal, in its region's inbox order.
CREATE TABLE nrm_floor."case" (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	signal_id uuid NOT NULL REFERENCES nrm_floor.signal (id),
	region text NOT NULL,
	state text NOT NULL DEFAULT 'new',
	take_by timestamptz NOT NULL,
	inbox_seq bigserial NOT NULL
);
CREATE INDEX case_inbox ON nrm_floor."case" (region, inbox_seq);

-- One audit row per request.
CREATE TABLE nrm_floor.audit (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	action text NOT NULL,
	object_id text NOT NULL
);

-- The inbox page's table holds what the nrmd inbox bench seeds: 500
-- open cases in VR13 and 5 in each of VR01..VR09.
INSERT INTO nrm_floor.signal (idempotency_key, body)
SELECT 'seed-' || i, jsonb_build_object('seed', i)
FROM generate_series(1, 545) i;
INSERT INTO nrm_floor."case" (signal_id, region, take_by)
SELECT s.id, CASE WHEN n <= 500 THEN 'VR13'
    ELSE 'VR0' || (1 + (n - 501) / 5) END, now() + interval '4 hours'
FROM (SELECT id, row_number() OVER (ORDER BY received_at, id) AS n
    FROM nrm_floor.signal) s;
ANALYZE nrm_floor.signal;
ANALYZE nrm_floor."case";
