/*
 * persons.h - personal account administration for nrmctl: create, list,
 * disable, enable, reset (issue 11, docs/people.md).
 *
 * A person is created (and reset) with a one-time enrolment code: 20
 * random bytes from OpenSSL's RNG as RFC 4648 base32 (32 characters,
 * NRM_PERSON_CODE_LEN), of which only SHA-256 over those 32 ASCII
 * characters is stored (auth.enrolment).  The code is handed to the
 * caller once and never printed, stored or logged here.  The database
 * work is auth.person_problem, auth.person_insert and auth.person_change
 * (sql/api/60_people.sql), the same functions the admin endpoints use;
 * each change writes an audit.event (person.create, person.disable,
 * person.enable, person.reset; the operator: no key, no person) in the
 * same transaction.
 *
 * Synchronous libpq, admin tool only, run as the owner.  Every function
 * leaves `conn` idle and outside a transaction, and on NRM_ERR puts
 * "could not ...: reason" into err->detail (err->field names the option
 * at fault when one is).
 */
#ifndef NRM_PERSONS_H
#define NRM_PERSONS_H

#include <stdio.h>

#include <libpq-fe.h>

#include "keys.h"
#include "totp.h"
#include "nrm/nrm.h"
#include "util.h"

#define NRM_PERSON_CODE_LEN NRM_ENROLMENT_CODE_LEN /* totp.h */
#define NRM_PERSON_VALID_DEFAULT 86400 /* seconds: 24 hours */

struct nrm_person_spec {
	const char *login;
	const char *display_name;
	const char *agency; /* an agency's name or id */
	const char *role;
	const char *const *regions; /* coordinators only */
	int n_regions;
	int valid_s; /* validity of the enrolment code */
};

/*
 * Create the person of `spec` with its own key and a first enrolment
 * code, and audit it.  On NRM_OK, code holds the code and id the new
 * person's id.  Refused: an unknown agency (field agency), a field the
 * database finds at fault (its field), a login taken (field login).
 */
int nrm_person_create(PGconn *conn, const struct nrm_person_spec *spec,
    char code[NRM_PERSON_CODE_LEN + 1], char id[NRM_UUID_LEN + 1],
    struct nrm_error *err) NRM_MUSTCHECK;

/* Print every person (login, role, agency, regions, status, enrolled,
 * created; never a secret) as an aligned table to `out`. */
int nrm_person_list(
    PGconn *conn, FILE *out, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Disable, enable or reset (op) the person with this login and audit
 * it.  reset drops the credentials and recovery codes, ends every
 * session and puts a new enrolment code (valid valid_s seconds) into
 * code; disable ends every session.  An unknown login is an error.
 */
int nrm_person_change(PGconn *conn, const char *login, const char *op,
    int valid_s, char code[NRM_PERSON_CODE_LEN + 1],
    struct nrm_error *err) NRM_MUSTCHECK;

#endif /* NRM_PERSONS_H */
