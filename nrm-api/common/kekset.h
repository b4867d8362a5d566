/*
 * kekset.h - the key-encryption keys nrmd and nrmctl hold (issue 15,
 * rotation): one current KEK, which wraps every new data key, and up to
 * NRM_KEK_SET_MAX - 1 older ones that still open the data keys wrapped
 * before a rotation finished.  A wrapped data key names its KEK by id
 * (care.data_key.kek_id, fieldcrypt.h), so a reader picks the KEK by id.
 *
 * A set is plain memory: load it, use it, clear it.  Nothing here logs;
 * the reasons given name paths and ids, never key material.
 */
#ifndef NRM_KEKSET_H
#define NRM_KEKSET_H

#include "fieldcrypt.h"
#include "kekhsm.h"

#define NRM_KEK_SET_MAX 8

struct nrm_kek_set {
	struct nrm_kek keks[NRM_KEK_SET_MAX]; /* keks[0] is the current */
	int n;
};

/*
 * Load the current KEK from `current` and the older ones from `old`, a
 * list of paths separated by commas or blanks (NULL or "" for none);
 * each file as nrm_kek_load() reads it (mode checked), or, when `tok`
 * is on (kekhsm.h), the KEK encrypted to the token's key (mode checked
 * likewise) and decrypted inside the token.  Refused, with
 * `why` naming the path at fault, when a file does not load, when two
 * files hold the same key, or when there are more than NRM_KEK_SET_MAX.
 * On NRM_ERR the set is cleared.
 */
int nrm_kek_set_load(struct nrm_kek_set *s, const char *current,
    const char *old, const struct nrm_kek_token *tok, char *why,
    size_t whysz) NRM_MUSTCHECK;

/* Add k (copied) as an older key; NRM_ERR when full or already there. */
int nrm_kek_set_add(
    struct nrm_kek_set *s, const struct nrm_kek *k) NRM_MUSTCHECK;

/* The current KEK (NULL for an empty set). */
const struct nrm_kek *nrm_kek_set_current(const struct nrm_kek_set *s);

/* The KEK of id `id_hex` (16 hex characters), or NULL when not held. */
const struct nrm_kek *nrm_kek_set_find(
    const struct nrm_kek_set *s, const char *id_hex);

/*
 * Unwrap the data key `id` wrapped under the KEK named `kek_id_hex`:
 * NRM_FC_FAILED when that KEK is not in the set, else as
 * nrm_data_key_unwrap().
 */
enum nrm_fc_result nrm_kek_set_unwrap(const struct nrm_kek_set *s,
    const char *kek_id_hex, const unsigned char id[NRM_FC_KEY_ID_LEN],
    const unsigned char *wrapped, size_t n,
    struct nrm_data_key *dk) NRM_MUSTCHECK;

/* The ids "current,old1,old2" into buf (for a log line). */
void nrm_kek_set_ids(const struct nrm_kek_set *s, char *buf, size_t sz);

void nrm_kek_set_clear(struct nrm_kek_set *s);

#endif /* NRM_KEKSET_H */
