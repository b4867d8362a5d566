/*
 * kek_cli.h - nrmctl's commands on the keys of personal data at rest
 * (issue 15, docs/operations.md "Rotating the data keys"):
 *
 *   keys rotate   re-wrap every data key under the current KEK
 *   keys retire   record an old KEK as retired once nothing uses it
 *   keys status   data keys per KEK, and the retired KEKs
 *   keys pseudonyms  re-key every pseudonym under the current key
 *   data encrypt  seal the personal data stored in plaintext before 0017
 *
 * The `key` group is the API keys' (keys.h); `keys` is the KEKs'.  Each
 * run callback is a struct nrm_ctl_cmd's (ctl_cmds.h): NRM_ERR with err
 * set, or the exit status.  The work goes in bounded batches, each one
 * transaction, with a progress line on stderr after each; an interrupted
 * run leaves every batch it committed done and the next run goes on from
 * there (each picks only what is still to do).  No key material and no
 * personal data is ever printed.
 */
#ifndef NRM_KEK_CLI_H
#define NRM_KEK_CLI_H

#include "ctl_cmds.h"
#include "kekset.h"

extern const char nrm_ctl_usage_keys[];
extern const char nrm_ctl_usage_keys_rotate[];
extern const char nrm_ctl_usage_keys_retire[];
extern const char nrm_ctl_usage_keys_status[];
extern const char nrm_ctl_usage_keys_pseudonyms[];
extern const char nrm_ctl_usage_data[];
extern const char nrm_ctl_usage_data_encrypt[];

/* --batch and --pause-ms in range (a usage error message, or NULL). */
const char *nrm_ctl_batch_check(const struct nrm_ctl_args *a);

int nrm_ctl_keys_rotate_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err);
int nrm_ctl_keys_retire_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err);
int nrm_ctl_keys_pseudonyms_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err);
int nrm_ctl_keys_status_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err);
int nrm_ctl_data_encrypt_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err);

/*
 * Shared by the two files: load --kek and --old-keks into *set (err
 * names the option at fault), and the batch size and pause of `a`.
 */
int nrm_ctl_load_keks(const struct nrm_ctl_args *a, struct nrm_kek_set *set,
    struct nrm_error *err) NRM_MUSTCHECK;
int nrm_ctl_batch(const struct nrm_ctl_args *a);
void nrm_ctl_pause(const struct nrm_ctl_args *a);

#endif /* NRM_KEK_CLI_H */
