/*
 * keys.h - API key administration for nrmctl: create, list, revoke.
 *
 * A key is a random token ("nrm_" + 43 base64url characters, see
 * crypto.h) of which only SHA-256 is stored in auth.api_key, with its
 * agency (auth.agency, created on first use), its API role and, for a
 * coordinator, its regions.  Creating and revoking a key each write an
 * audit.event (actions key.create / key.revoke, principal null) in the
 * same transaction.  Nothing here ever prints or stores the token
 * except nrm_key_create() handing it to its caller once.
 *
 * Synchronous libpq, admin tool only.  Every function leaves `conn` idle
 * and outside a transaction, and on NRM_ERR puts "could not ...: reason"
 * (no prefix, no newline) into err->detail (err->field names the option
 * at fault when one is).
 */
#ifndef NRM_KEYS_H
#define NRM_KEYS_H

#include <stdio.h>

#include <libpq-fe.h>

#include "crypto.h"
#include "nrm/nrm.h"
#include "util.h"

#define NRM_KEY_MAX_REGIONS 32

struct nrm_key_spec {
	const char *role; /* reporter, coordinator, ... */
	const char *agency; /* agency name, 1..200 characters */
	const char *agency_kind; /* police, kmar, ... */
	const char *regions[NRM_KEY_MAX_REGIONS]; /* coordinators only */
	int n_regions;
	const char *label; /* optional, NULL when absent */
};

/* Predicates over the fixed vocabularies of docs/sql-api.md. */
bool nrm_key_role_valid(const char *role);
bool nrm_key_kind_valid(const char *kind);
bool nrm_key_region_code_valid(const char *code);

/*
 * The region codes as a text[] literal "{VR13,VR01}" into buf[len] (""
 * for none); a malformed code or too many for buf is a validation error
 * "could not create <what>: ..." (field region).  A buffer of
 * NRM_KEY_REGIONS_TEXT_LEN holds NRM_KEY_MAX_REGIONS codes.
 */
#define NRM_KEY_REGIONS_TEXT_LEN (NRM_KEY_MAX_REGIONS * 17 + 4)
int nrm_key_regions_text(const char *const *codes, int n_codes, char *buf,
    size_t len, const char *what, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Check `spec` (role and kind known, regions exactly for coordinators),
 * upsert its agency (an existing agency of another kind is refused),
 * store a new key and audit it.  On NRM_OK, token holds the token and
 * key_id the new key's id.
 */
int nrm_key_create(PGconn *conn, const struct nrm_key_spec *spec,
    char token[NRM_TOKEN_LEN + 1], char key_id[NRM_UUID_LEN + 1],
    struct nrm_error *err) NRM_MUSTCHECK;

/* Print every key (never its hash) as an aligned table to `out`. */
int nrm_key_list(PGconn *conn, FILE *out, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Revoke key `id` and audit it.  *already is set when the key was
 * revoked before (then nothing changes).  An unknown id is an error.
 */
int nrm_key_revoke(PGconn *conn, const char *id, bool *already,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Bind key `id` to the client certificate in the PEM file `cert_file`
 * (mutual TLS): from then on the key is accepted only over a TLS
 * connection that presents that certificate (its SHA-256, written to
 * sha256_hex as 64 lowercase hex digits).  Audited as key.bind.  An
 * unknown or revoked key is an error; binding again replaces the
 * certificate.
 */
int nrm_key_bind(PGconn *conn, const char *id, const char *cert_file,
    char sha256_hex[65], struct nrm_error *err) NRM_MUSTCHECK;

#endif /* NRM_KEYS_H */
