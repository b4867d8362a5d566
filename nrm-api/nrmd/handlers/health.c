/*
 * handlers/health.c - /healthz (the process is up), /readyz (a writable
 * primary answers, its schema, numbered migrations and repeatable
 * files, is the one this build expects, and its replication is what
 * db_synchronous demands); /metrics is metrics.c.
 */
#include "db.h"
#include "endpoints.h"
#include "http.h"
#include "log.h"
#include "util.h"

#include "schema_version.h" /* generated: NRM_SCHEMA_VERSION */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
nrm_h_healthz(struct nrm_req *r)
{
	nrm_req_json(r, 200, "{\"status\":\"ok\"}", NULL);
}

/*
 * The repeatable files (sql/api) the database recorded differ from the
 * build's: logged once per distinct database checksum, not per probe.
 */
static void
health_log_checksum(const char *have)
{
	static char logged[72];

	if (strcmp(logged, have) == 0)
		return;
	snprintf(logged, sizeof(logged), "%s", have);
	nrm_warn("database api functions differ from this build "
		 "what=\"sql/api repeatable files\" checksum=%.12s "
		 "needed=%.12s; run nrmctl migrate",
	    have, NRM_SCHEMA_CHECKSUM);
}

static void
health_ready_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct nrm_req *r = arg;
	char body[96];
	const char *sum;
	int v;

	r->q = NULL;
	if (outcome != NRM_DB_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 4 || PQgetisnull(res, 0, 0)) {
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    outcome == NRM_DB_ERROR
			? "the database schema is missing or older than "
			  "nrmd; run nrmctl migrate"
			: "the database is unavailable");
		return;
	}
	v = atoi(PQgetvalue(res, 0, 0));
	sum = PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1);
	nrm_db_schema_seen(r->app->db, v);
	if (v < NRM_SCHEMA_VERSION) {
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database schema is at version %d, nrmd needs %d; "
		    "run nrmctl migrate",
		    v, NRM_SCHEMA_VERSION);
		return;
	}
	/*
	 * At the build's version the api functions must be the build's
	 * too.  A newer schema (migrated ahead of a rolling upgrade) has
	 * newer functions by design and stays ready, as before.
	 */
	if (v == NRM_SCHEMA_VERSION && strcmp(sum, NRM_SCHEMA_CHECKSUM) != 0) {
		health_log_checksum(sum);
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database's api functions (sql/api) are not the ones "
		    "nrmd was built with; run nrmctl migrate");
		return;
	}
	nrm_db_sync_seen(r->app->db,
	    nrm_db_sync_settings_ok(
		PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3)));
	if (nrm_db_sync_refused(r->app->db)) {
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database does not replicate commits synchronously "
		    "and db_synchronous is require");
		return;
	}
	snprintf(body, sizeof(body),
	    "{\"status\":\"ready\",\"schema_version\":%d}", v);
	nrm_req_json(r, 200, body, NULL);
}

void
nrm_h_readyz(struct nrm_req *r)
{
	if (nrm_http_draining(r->app->http)) {
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "", "nrmd is shutting down");
		return;
	}
	r->q = nrm_db_exec(r->app->db, NRM_STMT_SCHEMA_VERSION, 0, NULL, NULL,
	    NULL, health_ready_done, r);
	if (r->q == NULL)
		nrm_req_fail(
		    r, NRM_E_UNAVAILABLE, "", "the database is unavailable");
}
