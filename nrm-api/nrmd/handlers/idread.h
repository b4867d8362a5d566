/*
 * idread.h - the endpoints that only pass the route's {id} to one api.*
 * read: what differs between them is data in the endpoint table
 * (endpoints.c): who may read, audited as what, in the row's auth
 * column (http.h); the statement and how the answer is treated in a
 * struct nrm_id_read reached through r->endpoint->arg.  The code is
 * here, once.
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

/* Who may read is the endpoint's auth column (http.h), whose
 * object_type is the {id}'s kind: "case", ... */
struct nrm_id_read {
	enum nrm_stmt stmt;
	enum nrm_id_read_kind kind;
};

/* The handler of such an endpoint; its arg is a struct nrm_id_read. */
void nrm_h_id_read(struct nrm_req *r);

#endif /* NRM_HANDLERS_IDREAD_H */
