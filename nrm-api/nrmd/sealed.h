/*
 * sealed.h - nrmd's side of personal data at rest (issue 15,
 * docs/data-protection.md): seal the personal data of a signal before
 * api.intake stores it, and open the "sealed" member of an api.* answer
 * before the client sees it.
 *
 * The formats of a sealed value and of a wrapped data key are
 * fieldcrypt.h's; the JSON they travel in is docs/sql-api.md's
 * ("Ciphertext").  Nothing here logs a value.
 */
#ifndef NRM_SEALED_H
#define NRM_SEALED_H

#include "dbapi.h"
#include "kekset.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/*
 * Seal the intake arguments: `facts` (nrm_signal_facts_json) gains the
 * signal's "id" (a fresh UUID, the row of the associated data) and, when
 * the signal holds personal data, its "data_key" ({id, kek_id, wrapped});
 * its reporter_reference and the members of `subject`
 * (nrm_signal_subject_json, "null" for a notification) become
 * <name>_ct, base64 of the sealed value.  *facts_out and *subject_out
 * are malloc'd (the caller frees them, after explicit_bzero if it
 * likes).  NRM_ERR on OpenSSL or memory failure.
 */
int nrm_sealed_intake(const struct nrm_kek *kek, const char *facts,
    const char *subject, char **facts_out, char **subject_out) NRM_MUSTCHECK;

/* The longest rationale of an identification entry (bytes). */
#define NRM_SEALED_RATIONALE_MAX 4000

/*
 * Seal an entry with one sealed text (an identification entry's or a
 * panel vote's "rationale", NRM_SEALED_RATIONALE_MAX; a note's "text"):
 * the string member `name` of 1 to `max` bytes becomes <name>_ct, sealed
 * with AAD "<table>/<name>/<id>", beside the entry's new "id" and
 * "data_key"; a string of another length becomes "" (never sent);
 * anything else stays for the database to judge.  The caller has refused a client's "id",
 * "data_key" and "<name>_ct" (nrm_sealed_body does).
 */
int nrm_sealed_entry(const struct nrm_kek *kek, cJSON *entry, const char *name,
    const char *table, size_t max) NRM_MUSTCHECK;

/* Whether a text of at most `max` (bytes, or what the caller counts) may
 * be sealed; false: the database refuses it (nrm_sealed_fields). */
typedef bool (*nrm_sealed_ok_cb)(const char *value, size_t max);

/*
 * The sealed texts of one kind of row: the string members names[0..n)
 * of table `table` (AAD "<table>/<name>/<row>"), each checked by ok
 * against max (NULL: 1 to max bytes).
 */
struct nrm_sealed_spec {
	const char *const *names;
	size_t n;
	const char *table;
	size_t max;
	nrm_sealed_ok_cb ok;
};

/*
 * Seal the texts of spec in `entry` for the row `row` (NULL: a new
 * UUID, added as entry's "id"): a string that ok refuses becomes ""
 * (never sent; the database refuses it naming the field); the others
 * become <name>_ct, sealed under data_key ({id, kek_id, wrapped} of an
 * answer, unwrapped with keks) or, when data_key is NULL or JSON null,
 * under a new data key wrapped by keks' current KEK and added as
 * entry's "data_key".  Nothing is added when there is nothing to seal.
 * NRM_ERR on OpenSSL or memory failure, or a data_key that does not
 * unwrap (destroyed, a KEK not held).
 */
int nrm_sealed_fields(const struct nrm_kek_set *keks, const cJSON *data_key,
    cJSON *entry, const struct nrm_sealed_spec *spec,
    const char *row) NRM_MUSTCHECK;

/*
 * Refuse (422 naming it, `known` listing the route's fields; replied,
 * NRM_ERR) a client's "id", "data_key" or <name>_ct of spec's names in
 * root: nrmd adds them when it seals.
 */
int nrm_sealed_refuse_own(struct nrm_req *r, const cJSON *root,
    const struct nrm_sealed_spec *spec, const char *known) NRM_MUSTCHECK;

/*
 * nrm_sealed_body for the texts of spec, sealed under one new data key
 * (nrm_sealed_fields with a new row id).
 */
int nrm_sealed_body_spec(struct nrm_req *r, const struct nrm_sealed_spec *spec,
    const char *known, char **out) NRM_MUSTCHECK;

/*
 * Read the request's JSON object body for an entry with one sealed text
 * (nrm_sealed_entry: `name`, `table`, `max`) and return it printed
 * compactly in *out (the caller frees it).  A client's "id", "data_key"
 * or "<name>_ct" is refused (422 naming it; `known` lists the fields the
 * route takes).  Replies and returns NRM_ERR on any fault.
 */
int nrm_sealed_body(struct nrm_req *r, const char *name, const char *table,
    size_t max, const char *known, char **out) NRM_MUSTCHECK;

/*
 * Open every "sealed" member in `body`, found in body itself and in its
 * objects and arrays a few levels down (the items of a list carry their
 * own): {"data_key": {id, kek_id, wrapped} or null, "fields": [{"path":
 * "subject.given_name", "aad": "...", "value": base64}]}.  Each value's
 * plaintext is set at its path, relative to the object holding the
 * member, which is removed.  A value that does not open is set to null
 * at its path and its path appended to that object's
 * "decryption_failed" array.  Each data key is unwrapped with the KEK
 * of `keks` its kek_id names (the current one or an older one during a
 * rotation); one not held counts as "no_key".  Returns how many did not
 * open; *reason
 * (when not NULL) is the first one's reason word.  Never fails
 * otherwise: a malformed member counts as failures.
 */
int nrm_sealed_open(
    const struct nrm_kek_set *keks, cJSON *body, const char **reason);

/*
 * Seal `plain` with the data key `data_key` of an answer ({id, kek_id,
 * wrapped}, unwrapped with whichever KEK of keks wrapped it) and the
 * associated data `aad`: base64
 * of the sealed value, malloc'd, or NULL when the key does not unwrap
 * (destroyed, another KEK's, tampered) or on OpenSSL or memory failure.
 * For a value that must join the others of its row under their key (a
 * rectification).
 */
char *nrm_sealed_value(const struct nrm_kek_set *keks, const cJSON *data_key,
    const char *aad, const char *plain);

/*
 * nrm_dbapi_send() for an answer that may hold sealed values: opened
 * before the reply; when any did not open, the read is audited
 * (api.data_unreadable, object_type/object_id of the read) and counted
 * before the reply is made.
 */
void nrm_sealed_send(struct nrm_req *r, enum nrm_stmt stmt,
    const struct nrm_dbapi_call *c, const char *object_type,
    const char *object_id);

/*
 * A read of the case named in the path, with a purpose: ?purpose= and
 * ?reason= checked (nrm_req_purpose answers a bad one), then `stmt` with
 * the case id, `extra` when not NULL, the purpose and the reason,
 * through nrm_sealed_send (object case, that id).
 */
void nrm_sealed_case_read(
    struct nrm_req *r, enum nrm_stmt stmt, const char *extra);

#endif /* NRM_SEALED_H */
