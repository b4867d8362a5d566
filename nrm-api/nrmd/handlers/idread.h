/*
 * idread.h - the endpoints that only authorise the caller and pass the
 * route's {id} to one api.* read: what differs between them (roles,
 * audited action, statement, how the answer is treated) is data, a
 * struct nrm_id_read in the endpoint table (endpoints.c) reached
 * through r->endpoint->arg; the code is here, once.
 *
 * The database checks scope and existence; nothing here logs a body.
 */
#ifndef NRM_HANDLERS_IDREAD_H
#define NRM_HANDLERS_IDREAD_H

#include "dbapi.h"
#include "http.h"

enum nrm_id_read_kind {
	/* the answer goes to the client as the database wrote it */
	NRM_ID_READ_PLAIN,
	/* its "sealed" members are opened first (nrm_sealed_send) */
	NRM_ID_READ_SEALED,
	/* an audited case read: the NRM-Purpose header's purpose and
	 * reason follow the id, sealed members opened
	 * (nrm_sealed_case_read) */
	NRM_ID_READ_PURPOSE,
};

struct nrm_id_read {
	unsigned roles; /* mask of enum nrm_role (nrm_auth_require) */
	const char *action; /* audited in a denial */
	const char *object_type; /* the {id}'s kind: "case", ... */
	enum nrm_stmt stmt;
	enum nrm_id_read_kind kind;
};

/* The handler of such an endpoint; its arg is a struct nrm_id_read. */
void nrm_h_id_read(struct nrm_req *r);

#endif /* NRM_HANDLERS_IDREAD_H */
