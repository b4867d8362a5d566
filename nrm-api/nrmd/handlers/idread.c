/*
 * idread.c - the reads of one object by the route's {id} (see idread.h).
 */
#include "idread.h"
#include "sealed.h"

static const struct nrm_id_read *
idread_of(const struct nrm_req *r)
{
	return r->endpoint->arg;
}

void
nrm_h_id_read(struct nrm_req *r)
{
	const struct nrm_id_read *rd = idread_of(r);
	const char *id = nrm_req_uuid_param(r);
	struct nrm_dbapi_call call;

	switch (rd->kind) {
	case NRM_ID_READ_PLAIN:
		NRM_DBAPI_SEND_TEXTS(r, rd->stmt, id);
		break;
	case NRM_ID_READ_SEALED:
		nrm_dbapi_begin(&call, r);
		nrm_dbapi_text(&call, id);
		nrm_sealed_send(
		    r, rd->stmt, &call, r->endpoint->object_type, id);
		break;
	case NRM_ID_READ_PURPOSE:
		nrm_sealed_case_read(r, rd->stmt, NULL);
		break;
	}
}
