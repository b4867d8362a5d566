/*
 * publication.h - nrmctl publication verify (publication.c).
 *
 * The publication is the JSON of GET /v1/publications/{id} read from
 * `file`, or (file NULL) the row `id` read from the database through
 * conn.  Its content's canonical JSON must hash to content_sha256 and
 * the signature must verify with the Ed25519 public key in pubkey_path
 * (pubsign.h); period and revision must be the signed ones.  The verdict
 * goes to `out`.  Returns NRM_OK when all holds, NRM_CTL_PUB_BAD when
 * it does not (exit 1), NRM_ERR with err set when it could not check.
 */
#ifndef NRM_CTL_PUBLICATION_H
#define NRM_CTL_PUBLICATION_H

#include <stdio.h>

#include <libpq-fe.h>

#include "nrm/nrm.h"

#define NRM_CTL_PUB_BAD 1

int nrm_publication_verify(PGconn *conn, const char *file, const char *id,
    const char *pubkey_path, FILE *out, struct nrm_error *err);

#endif /* NRM_CTL_PUBLICATION_H */
