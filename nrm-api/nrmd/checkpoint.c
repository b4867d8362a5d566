/*
 * checkpoint.c - nrmd's signed checkpoints of the audit chain: the file,
 * the in-memory list, appending (see checkpoint.h).  The format itself
 * (message, line, parser, key loading, signing) is auditchain.c's.
 */
#include "checkpoint.h"
#include "auditchain.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "nrm/json.h"
#include "nrm/timefmt.h"

#define CP_FIELD_KEY "audit_signing_key_file"
#define CP_FIELD_FILE "audit_checkpoint_file"

struct nrm_checkpoints {
	EVP_PKEY *key;
	int fd;
	char *path;
	int parts; /* rotated parts so far: path.000001 ... */
	int rotate_lines; /* 0: never */
	int file_lines; /* lines in the current file */
	/*
	 * The current file's lines, in file order; while it is still empty
	 * after a rotation, the series' last line (so that verify always has
	 * the newest checkpoint).
	 */
	struct nrm_audit_cps list;
	int64_t next_seq; /* the number of the next line */
	char last_self[NRM_AUDIT_HEX_LEN + 1]; /* SHA-256 of the last line */
	uint64_t refused_backwards;
};

/*
 * Read the whole series (rotated parts and the current file), which
 * must hold together: nrmd never appends to a broken one.  Keeps the
 * current file's lines, the next number and the last line's hash.
 */
static int
cp_load(struct nrm_checkpoints *cp, const char *path, struct nrm_error *err)
{
	struct nrm_audit_cps all = {NULL, 0, 0};

	if (nrm_audit_cps_tail(path, &all, &cp->parts, &cp->next_seq,
		cp->last_self, CP_FIELD_FILE, err) != NRM_OK)
		return NRM_ERR;
	for (size_t i = 0; i < all.n; i++)
		if (all.v[i].part == 0)
			nrm_audit_cps_push(&cp->list, &all.v[i]);
	cp->file_lines = (int)cp->list.n;
	if (cp->list.n == 0 && all.n > 0)
		nrm_audit_cps_push(&cp->list, &all.v[all.n - 1]);
	nrm_audit_cps_free(&all);
	return NRM_OK;
}

/*
 * Start a new current file once this one holds rotate_lines lines: the
 * full one becomes the next part; the series (seq, prev) runs on.  On
 * failure nrmd keeps appending to the file it has.
 */
static void
cp_rotate(struct nrm_checkpoints *cp)
{
	char name[4200];
	int fd;

	if (cp->rotate_lines <= 0 || cp->file_lines < cp->rotate_lines)
		return;
	nrm_audit_cps_part_name(cp->path, cp->parts + 1, name, sizeof(name));
	if (access(name, F_OK) == 0 || rename(cp->path, name) != 0) {
		nrm_error("could not rotate the audit checkpoint file errno=%d",
		    errno);
		return;
	}
	fd = open(cp->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		nrm_error("could not open a new audit checkpoint file "
			  "errno=%d",
		    errno);
		return; /* the renamed file stays open: appends go on there */
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		nrm_warn("could not lock the new audit checkpoint file "
			 "errno=%d",
		    errno);
	close(cp->fd);
	cp->fd = fd;
	cp->parts++;
	cp->file_lines = 0;
	cp->list.v[0] = cp->list.v[cp->list.n - 1];
	cp->list.n = 1;
	nrm_info("audit checkpoint file rotated part=%d", cp->parts);
}

void
nrm_checkpoints_set_rotation(struct nrm_checkpoints *cp, int lines)
{
	cp->rotate_lines = lines;
}

int
nrm_checkpoints_open(struct nrm_checkpoints **out, const char *key_file,
    const char *path, struct nrm_error *err)
{
	struct nrm_checkpoints *cp = nrm_xcalloc(1, sizeof(*cp));

	*out = NULL;
	cp->fd = -1;
	cp->key = nrm_audit_key_load(key_file, true, CP_FIELD_KEY, err);
	if (cp->key == NULL) {
		/* Point at the tool that makes one. */
		size_t n = err != NULL ? strlen(err->detail) : 0;

		if (err != NULL)
			snprintf(err->detail + n, sizeof(err->detail) - n,
			    "; make one with nrmctl audit keygen");
		goto out;
	}
	cp->path = nrm_xstrdup(path);
	/* Locked before it is read: nothing appends between the two. */
	cp->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (cp->fd < 0) {
		nrm_error_set(err, NRM_E_VALIDATION, CP_FIELD_FILE,
		    "could not open %s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(cp->fd, LOCK_EX | LOCK_NB) != 0) {
		nrm_error_set(err, NRM_E_VALIDATION, CP_FIELD_FILE,
		    "%s is in use by another process (another nrmd, or nrmctl "
		    "audit checkpoint): one writer per checkpoint file",
		    path);
		goto out;
	}
	if (cp_load(cp, path, err) != NRM_OK)
		goto out;
	*out = cp;
	cp = NULL;
out:
	nrm_checkpoints_free(cp);
	return *out != NULL ? NRM_OK : NRM_ERR;
}

struct evp_pkey_st *
nrm_checkpoints_key(const struct nrm_checkpoints *cp)
{
	return cp != NULL ? cp->key : NULL;
}

void
nrm_checkpoints_free(struct nrm_checkpoints *cp)
{
	if (cp == NULL)
		return;
	if (cp->fd >= 0)
		close(cp->fd);
	EVP_PKEY_free(cp->key);
	nrm_audit_cps_free(&cp->list);
	free(cp->path);
	free(cp);
}

int
nrm_checkpoints_add(
    struct nrm_checkpoints *cp, int64_t pos, const char *hash_hex, int64_t at)
{
	struct nrm_audit_cp c;
	const struct nrm_audit_cp *last =
	    cp->list.n > 0 ? &cp->list.v[cp->list.n - 1] : NULL;
	char *line = NULL;
	size_t n;
	int rc = NRM_ERR;

	if (last != NULL && pos == last->pos &&
	    strcmp(hash_hex, last->hash) == 0)
		return NRM_OK;
	if (last != NULL && pos < last->pos) {
		/* A rollback, a restore, or a database swapped underneath. */
		cp->refused_backwards++;
		nrm_error(
		    "refusing to sign an audit checkpoint: the head moved "
		    "backwards pos=%" PRId64 " last_signed=%" PRId64,
		    pos, last->pos);
		return NRM_OK;
	}
	memset(&c, 0, sizeof(c));
	c.seq = cp->next_seq;
	memcpy(c.prev, cp->last_self, sizeof(c.prev));
	c.pos = pos;
	if (strlen(hash_hex) >= sizeof(c.hash) ||
	    nrm_time_format(at, c.at, sizeof(c.at)) != NRM_OK)
		goto out;
	memcpy(c.hash, hash_hex, strlen(hash_hex) + 1);
	if (nrm_audit_cp_sign(cp->key, &c) != NRM_OK)
		goto out;
	line = nrm_audit_cp_line(&c);
	if (line == NULL)
		goto out;
	n = strlen(line);
	nrm_audit_line_hash(line, n, c.self);
	line[n] = '\n';
	if (write(cp->fd, line, n + 1) != (ssize_t)(n + 1) ||
	    fdatasync(cp->fd) != 0) {
		nrm_error(
		    "could not append an audit checkpoint errno=%d", errno);
		goto out;
	}
	if (cp->file_lines == 0)
		cp->list.n = 0; /* the previous part's last line leaves */
	nrm_audit_cps_push(&cp->list, &c);
	cp->file_lines++;
	cp->next_seq++;
	memcpy(cp->last_self, c.self, sizeof(cp->last_self));
	cp_rotate(cp);
	rc = NRM_OK;
out:
	free(line);
	return rc;
}

uint64_t
nrm_checkpoints_refused_backwards(const struct nrm_checkpoints *cp)
{
	return cp != NULL ? cp->refused_backwards : 0;
}

int
nrm_checkpoints_count(const struct nrm_checkpoints *cp)
{
	return (int)cp->list.n;
}

char *
nrm_checkpoints_json(const struct nrm_checkpoints *cp, size_t newest)
{
	cJSON *a = cJSON_CreateArray();
	bool ok = a != NULL;
	size_t from =
	    newest > 0 && cp->list.n > newest ? cp->list.n - newest : 0;

	for (size_t i = from; ok && i < cp->list.n; i++) {
		cJSON *o = nrm_audit_cp_json(&cp->list.v[i]);

		ok = o != NULL;
		if (ok)
			cJSON_AddItemToArray(a, o);
	}
	return nrm_json_print_take(a, ok);
}

char *
nrm_checkpoints_public_pem(const struct nrm_checkpoints *cp)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (PEM_write_bio_PUBKEY(b, cp->key) == 1) {
		n = BIO_get_mem_data(b, &data);
		out = nrm_xmalloc((size_t)n + 1);
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

/* Mark body broken at (pos, hash) for `why`; NRM_ERR when out of memory. */
static int
cp_break(cJSON *body, double pos, const char *hash, const char *why)
{
	cJSON *broken = cJSON_CreateObject();

	if (broken == NULL ||
	    cJSON_AddNumberToObject(broken, "pos", pos) == NULL ||
	    cJSON_AddNullToObject(broken, "event_id") == NULL ||
	    cJSON_AddStringToObject(broken, "expected", hash) == NULL ||
	    cJSON_AddNullToObject(broken, "found") == NULL ||
	    cJSON_AddStringToObject(broken, "reason", why) == NULL) {
		cJSON_Delete(broken);
		return NRM_ERR;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(
	    body, "intact", cJSON_CreateFalse());
	cJSON_DeleteItemFromObjectCaseSensitive(body, "first_broken");
	cJSON_AddItemToObject(body, "first_broken", broken);
	return NRM_OK;
}

/*
 * The checkpoint an incremental verification started from
 * ("verified_from", from audit.verified_checkpoint, which the database
 * owner could write): trusted only when its signature is this key's.
 */
static int
cp_judge_from(const struct nrm_checkpoints *cp, cJSON *body)
{
	cJSON *from = cJSON_GetObjectItemCaseSensitive(body, "verified_from");
	const cJSON *pos = cJSON_GetObjectItemCaseSensitive(from, "pos");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(from, "seq");
	struct nrm_audit_cp c;
	bool ok;

	if (!cJSON_IsObject(from))
		return NRM_OK;
	memset(&c, 0, sizeof(c));
	c.pos = cJSON_IsNumber(pos) ? (int64_t)pos->valuedouble : -1;
	c.seq = cJSON_IsNumber(seq) ? (int64_t)seq->valuedouble : 0;
	snprintf(c.prev, sizeof(c.prev), "%s",
	    nrm_json_str(from, "prev") != NULL ? nrm_json_str(from, "prev")
					       : "");
	snprintf(c.hash, sizeof(c.hash), "%s",
	    nrm_json_str(from, "hash") != NULL ? nrm_json_str(from, "hash")
					       : "");
	snprintf(c.at, sizeof(c.at), "%s",
	    nrm_json_str(from, "at") != NULL ? nrm_json_str(from, "at") : "");
	snprintf(c.sig, sizeof(c.sig), "%s",
	    nrm_json_str(from, "sig") != NULL ? nrm_json_str(from, "sig") : "");
	ok = nrm_audit_cp_verify(cp->key, &c);
	if (cJSON_AddStringToObject(
		from, "signature", ok ? "valid" : "invalid") == NULL)
		return NRM_ERR;
	return ok ? NRM_OK
		  : cp_break(body, (double)c.pos, c.hash,
			"bad verified checkpoint signature");
}

int
nrm_checkpoints_judge_anchor(const struct nrm_checkpoints *cp, cJSON *body)
{
	cJSON *anchor = cJSON_GetObjectItemCaseSensitive(body, "anchor");
	const cJSON *pos = cJSON_GetObjectItemCaseSensitive(anchor, "pos");
	const cJSON *cps =
	    cJSON_GetObjectItemCaseSensitive(body, "checkpoints");
	const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(cps, "skipped");
	const char *hash = nrm_json_str(anchor, "hash");
	const char *sig = nrm_json_str(anchor, "sig");
	const char *why;

	if (cp_judge_from(cp, body) != NRM_OK)
		return NRM_ERR;
	if (!cJSON_IsObject(anchor) || !cJSON_IsNumber(pos) || hash == NULL)
		return NRM_OK;
	why = nrm_audit_anchor_problem(cp->key, (int64_t)pos->valuedouble, hash,
	    nrm_json_str(anchor, "signed_at"), sig,
	    cJSON_IsNumber(skipped) ? (int64_t)skipped->valuedouble : 0);
	if (cJSON_AddStringToObject(anchor, "signature",
		sig == NULL       ? "missing"
		    : why == NULL ? "valid"
				  : "invalid") == NULL)
		return NRM_ERR;
	if (why == NULL)
		return NRM_OK;
	return cp_break(body, pos->valuedouble, hash, why);
}
