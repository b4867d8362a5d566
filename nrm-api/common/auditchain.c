/*
 * auditchain.c - the audit chain's formats: canonical event bytes, the
 * signed checkpoint and its line, Ed25519 keys (see auditchain.h).
 */
#include "auditchain.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "crypto.h"
#include "util.h"

#include "nrm/json.h"

int
nrm_audit_canonical(const char *const fields[NRM_AUDIT_FIELDS],
    unsigned char **out, size_t *outlen)
{
	const char *all[NRM_AUDIT_FIELDS + 1];
	bool person = fields[NRM_AUDIT_FIELDS - 1] != NULL;
	int n_all = person ? NRM_AUDIT_FIELDS + 1 : NRM_AUDIT_FIELDS;
	size_t total = 0;
	unsigned char *buf;
	size_t off = 0;

	all[0] = person ? NRM_AUDIT_CANON_TAG_PERSON : NRM_AUDIT_CANON_TAG;
	for (int i = 0; i < NRM_AUDIT_FIELDS; i++)
		all[i + 1] = fields[i];
	for (int i = 0; i < n_all; i++) {
		size_t n = all[i] != NULL ? strlen(all[i]) : 0;

		if (n > UINT32_MAX - 1)
			return NRM_ERR;
		total += 4 + n;
	}
	buf = malloc(total);
	if (buf == NULL)
		return NRM_ERR;
	for (int i = 0; i < n_all; i++) {
		uint32_t n;

		if (all[i] == NULL) {
			memset(buf + off, 0xff, 4);
			off += 4;
			continue;
		}
		n = (uint32_t)strlen(all[i]);
		buf[off++] = (unsigned char)(n >> 24);
		buf[off++] = (unsigned char)(n >> 16);
		buf[off++] = (unsigned char)(n >> 8);
		buf[off++] = (unsigned char)n;
		memcpy(buf + off, all[i], n);
		off += n;
	}
	*out = buf;
	*outlen = off;
	return NRM_OK;
}

void
nrm_audit_genesis(unsigned char out[32])
{
	nrm_sha256(
	    NRM_AUDIT_GENESIS_INPUT, strlen(NRM_AUDIT_GENESIS_INPUT), out);
}

bool
nrm_audit_hash_hex_valid(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') ||
			(s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == NRM_AUDIT_HEX_LEN;
}

bool
nrm_audit_at_valid(const char *at)
{
	size_t n = 0;

	for (; at[n] != '\0'; n++)
		if ((unsigned char)at[n] < 0x20 || (unsigned char)at[n] > 0x7e)
			return false;
	return n >= 1 && n <= NRM_AUDIT_AT_MAX;
}

static bool
ac_pos_valid(int64_t pos)
{
	return pos >= 0 && pos <= NRM_AUDIT_POS_MAX;
}

/* "<tag>\n<pos>\n<hash>\n<at>": every signed message's shape. */
static int
ac_message(const char *tag, int64_t pos, const char *hash_hex, const char *at,
    char *buf, size_t bufsz)
{
	int n;

	if (!ac_pos_valid(pos) || !nrm_audit_hash_hex_valid(hash_hex) ||
	    !nrm_audit_at_valid(at))
		return -1;
	n = snprintf(
	    buf, bufsz, "%s\n%" PRId64 "\n%s\n%s", tag, pos, hash_hex, at);
	if (n < 0 || (size_t)n >= bufsz)
		return -1;
	return n;
}

int
nrm_audit_cp_message(
    int64_t pos, const char *hash_hex, const char *at, char *buf, size_t bufsz)
{
	return ac_message(NRM_AUDIT_CP_TAG, pos, hash_hex, at, buf, bufsz);
}

/* The signed bytes of cp, in its own format (old or numbered). */
static int
ac_cp_message(const struct nrm_audit_cp *cp, char *buf, size_t bufsz)
{
	char head[32 + NRM_AUDIT_HEX_LEN + 24];
	int n;

	if (cp->seq == 0)
		return nrm_audit_cp_message(
		    cp->pos, cp->hash, cp->at, buf, bufsz);
	if (!ac_pos_valid(cp->seq) || cp->seq == 0 ||
	    !nrm_audit_hash_hex_valid(cp->prev))
		return -1;
	n = snprintf(head, sizeof(head), "%s\n%" PRId64 "\n%s",
	    NRM_AUDIT_CP2_TAG, cp->seq, cp->prev);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	return ac_message(head, cp->pos, cp->hash, cp->at, buf, bufsz);
}

int
nrm_audit_anchor_message(
    int64_t pos, const char *hash_hex, const char *at, char *buf, size_t bufsz)
{
	return ac_message(NRM_AUDIT_ANCHOR_TAG, pos, hash_hex, at, buf, bufsz);
}

/* The member of a line's object, NULL when absent; *dup when twice. */
static const cJSON *
ac_member(const cJSON *o, const char *name, bool *dup)
{
	const cJSON *found = NULL;
	const cJSON *m;

	cJSON_ArrayForEach (m, o) {
		if (m->string == NULL || strcmp(m->string, name) != 0)
			continue;
		if (found != NULL)
			*dup = true;
		found = m;
	}
	return found;
}

int
nrm_audit_cp_parse(const char *text, struct nrm_audit_cp *cp, const char **why)
{
	static const char *const names[] = {
	    "pos", "hash", "at", "sig", "seq", "prev"};
	const cJSON *m[NRM_ARRAY_LEN(names)];
	const cJSON *pos, *hash, *at, *sig, *seq, *prev;
	int want;
	bool dup = false;
	cJSON *o;
	int rc = NRM_ERR;

	memset(cp, 0, sizeof(*cp));
	o = cJSON_ParseWithOpts(text, NULL, 1);
	if (o == NULL || !cJSON_IsObject(o)) {
		*why = "not a JSON object";
		goto out;
	}
	for (size_t i = 0; i < NRM_ARRAY_LEN(names); i++)
		m[i] = ac_member(o, names[i], &dup);
	if (dup) {
		*why = "a member appears twice";
		goto out;
	}
	pos = m[0];
	hash = m[1];
	at = m[2];
	sig = m[3];
	seq = m[4];
	prev = m[5];
	want = seq != NULL || prev != NULL ? 6 : 4;
	if (cJSON_GetArraySize(o) > want) {
		*why = want == 4 ? "unknown member (pos, hash, at, sig only)"
				 : "unknown member (seq, prev, pos, hash, at, "
				   "sig only)";
		goto out;
	}
	if (want == 6 &&
	    (!cJSON_IsNumber(seq) || seq->valuedouble < 1 ||
		seq->valuedouble > (double)NRM_AUDIT_POS_MAX ||
		seq->valuedouble != (double)(int64_t)seq->valuedouble)) {
		*why = "\"seq\" is not an integer >= 1";
		goto out;
	}
	if (want == 6 &&
	    (!cJSON_IsString(prev) ||
		!nrm_audit_hash_hex_valid(prev->valuestring))) {
		*why = "\"prev\" is not 64 lowercase hex digits";
		goto out;
	}
	if (!cJSON_IsNumber(pos) || pos->valuedouble < 0 ||
	    pos->valuedouble > (double)NRM_AUDIT_POS_MAX ||
	    pos->valuedouble != (double)(int64_t)pos->valuedouble) {
		*why = "\"pos\" is not an integer >= 0";
		goto out;
	}
	if (!cJSON_IsString(hash) ||
	    !nrm_audit_hash_hex_valid(hash->valuestring)) {
		*why = "\"hash\" is not 64 lowercase hex digits";
		goto out;
	}
	if (!cJSON_IsString(at) || !nrm_audit_at_valid(at->valuestring)) {
		*why = "\"at\" is not a time string";
		goto out;
	}
	if (!cJSON_IsString(sig) || sig->valuestring[0] == '\0' ||
	    strlen(sig->valuestring) > NRM_AUDIT_SIG_B64_MAX) {
		*why = "\"sig\" is not a base64 string";
		goto out;
	}
	if (want == 6) {
		cp->seq = (int64_t)seq->valuedouble;
		snprintf(cp->prev, sizeof(cp->prev), "%s", prev->valuestring);
	}
	cp->pos = (int64_t)pos->valuedouble;
	snprintf(cp->hash, sizeof(cp->hash), "%s", hash->valuestring);
	snprintf(cp->at, sizeof(cp->at), "%s", at->valuestring);
	snprintf(cp->sig, sizeof(cp->sig), "%s", sig->valuestring);
	rc = NRM_OK;
out:
	cJSON_Delete(o);
	return rc;
}

cJSON *
nrm_audit_cp_json(const struct nrm_audit_cp *cp)
{
	cJSON *o = cJSON_CreateObject();
	char pos[24], seq[24];

	if (o == NULL)
		return NULL;
	snprintf(pos, sizeof(pos), "%" PRId64, cp->pos);
	snprintf(seq, sizeof(seq), "%" PRId64, cp->seq);
	if ((cp->seq > 0 &&
		(!cJSON_AddItemToObject(o, "seq", cJSON_CreateRaw(seq)) ||
		    cJSON_AddStringToObject(o, "prev", cp->prev) == NULL)) ||
	    !cJSON_AddItemToObject(o, "pos", cJSON_CreateRaw(pos)) ||
	    cJSON_AddStringToObject(o, "hash", cp->hash) == NULL ||
	    cJSON_AddStringToObject(o, "at", cp->at) == NULL ||
	    cJSON_AddStringToObject(o, "sig", cp->sig) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *
nrm_audit_cp_line(const struct nrm_audit_cp *cp)
{
	return nrm_json_print_take(nrm_audit_cp_json(cp), true);
}

void
nrm_audit_cps_push(struct nrm_audit_cps *cps, const struct nrm_audit_cp *cp)
{
	if (cps->n == cps->cap) {
		size_t cap = cps->cap == 0 ? 64 : cps->cap * 2;
		struct nrm_audit_cp *v = nrm_xmalloc(cap * sizeof(*v));

		if (cps->n > 0)
			memcpy(v, cps->v, cps->n * sizeof(*v));
		free(cps->v);
		cps->v = v;
		cps->cap = cap;
	}
	cps->v[cps->n++] = *cp;
}

void
nrm_audit_cps_free(struct nrm_audit_cps *cps)
{
	free(cps->v);
	cps->v = NULL;
	cps->n = cps->cap = 0;
}

void
nrm_audit_line_hash(const char *line, size_t len, char out[65])
{
	unsigned char h[32];

	nrm_sha256(line, len, h);
	nrm_hex(h, 32, out);
}

int
nrm_audit_cps_check(
    const struct nrm_audit_cps *cps, size_t *bad, const char **why)
{
	static const char zeros[NRM_AUDIT_HEX_LEN + 1] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	bool numbered = false;

	for (size_t i = 0; i < cps->n; i++) {
		const struct nrm_audit_cp *c = &cps->v[i];
		const char *prev = i == 0 ? zeros : cps->v[i - 1].self;

		*bad = i;
		if (c->seq == 0 && numbered) {
			*why = "old-format line after a numbered one";
			return NRM_ERR;
		}
		if (c->seq == 0)
			continue;
		numbered = true;
		if (c->seq != (int64_t)i + 1) {
			*why = "checkpoint sequence";
			return NRM_ERR;
		}
		if (strcmp(c->prev, prev) != 0) {
			*why = "checkpoint chain";
			return NRM_ERR;
		}
		if (i > 0 && c->pos < cps->v[i - 1].pos) {
			*why = "head moved backwards";
			return NRM_ERR;
		}
	}
	return NRM_OK;
}

int
nrm_audit_cps_load(const char *path, EVP_PKEY *pubkey,
    struct nrm_audit_cps *cps, const char *field, struct nrm_error *err)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	int rc = NRM_ERR;

	f = fopen(path, "r");
	if (f == NULL) {
		nrm_error_set(err, NRM_E_VALIDATION, field,
		    "could not open checkpoints %s: %s", path, strerror(errno));
		goto out;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		struct nrm_audit_cp cp;
		const char *why = NULL;

		lineno++;
		while (
		    len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strspn(line, " \t") == (size_t)len)
			continue;
		if (len > NRM_AUDIT_CP_LINE_MAX) {
			nrm_error_set(err, NRM_E_VALIDATION, field,
			    "could not read checkpoints %s: line %d is too "
			    "long",
			    path, lineno);
			goto out;
		}
		if (nrm_audit_cp_parse(line, &cp, &why) != NRM_OK) {
			nrm_error_set(err, NRM_E_VALIDATION, field,
			    "could not read checkpoints %s: line %d: %s", path,
			    lineno, why);
			goto out;
		}
		cp.line = lineno;
		nrm_audit_line_hash(line, (size_t)len, cp.self);
		cp.sig_bad =
		    pubkey != NULL && !nrm_audit_cp_verify(pubkey, &cp);
		nrm_audit_cps_push(cps, &cp);
	}
	if (ferror(f)) {
		nrm_error_set(err, NRM_E_VALIDATION, field,
		    "could not read checkpoints %s: %s", path, strerror(errno));
		goto out;
	}
	rc = NRM_OK;
out:
	free(line);
	if (f != NULL)
		fclose(f);
	if (rc != NRM_OK)
		nrm_audit_cps_free(cps);
	return rc;
}

void
nrm_audit_cps_part_name(const char *path, int k, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s.%06d", path, k);
}

/*
 * The highest k for which `path`.NNNNNN exists in path's directory, 0
 * for none (a gap below it is the caller's to find).
 */
static int
ac_last_part(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	size_t blen = strlen(base);
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int last = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(
		    dir, sizeof(dir), "%.*s", (int)(slash - path + 1), path);
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (strncmp(n, base, blen) == 0 && n[blen] == '.' &&
		    strlen(n + blen + 1) == 6 &&
		    strspn(n + blen + 1, "0123456789") == 6 &&
		    atoi(n + blen + 1) > last)
			last = atoi(n + blen + 1);
	}
	closedir(d);
	return last;
}

int
nrm_audit_cps_load_series(const char *path, EVP_PKEY *pubkey,
    struct nrm_audit_cps *cps, int *parts, const char *field,
    struct nrm_error *err)
{
	char name[4096];
	int last = ac_last_part(path);
	int k;

	*parts = 0;
	for (k = 1;; k++) {
		size_t from = cps->n;

		nrm_audit_cps_part_name(path, k, name, sizeof(name));
		if (access(name, F_OK) != 0 && k <= last) {
			nrm_error_set(err, NRM_E_VALIDATION, field,
			    "could not read checkpoints %s: part %06d of %d is "
			    "missing (checkpoint sequence)",
			    path, k, last);
			nrm_audit_cps_free(cps);
			return NRM_ERR;
		}
		if (access(name, F_OK) != 0)
			break;
		if (nrm_audit_cps_load(name, pubkey, cps, field, err) != NRM_OK)
			return NRM_ERR;
		for (size_t i = from; i < cps->n; i++)
			cps->v[i].part = k;
		*parts = k;
	}
	if (access(path, F_OK) != 0)
		return NRM_OK;
	return nrm_audit_cps_load(path, pubkey, cps, field, err);
}

int
nrm_audit_cps_tail(const char *path, struct nrm_audit_cps *all, int *parts,
    int64_t *next_seq, char prev[NRM_AUDIT_HEX_LEN + 1], const char *field,
    struct nrm_error *err)
{
	size_t bad = 0;
	const char *why = NULL;
	char part[4200];

	if (nrm_audit_cps_load_series(path, NULL, all, parts, field, err) !=
	    NRM_OK)
		return NRM_ERR;
	if (nrm_audit_cps_check(all, &bad, &why) != NRM_OK) {
		if (all->v[bad].part > 0)
			nrm_audit_cps_part_name(
			    path, all->v[bad].part, part, sizeof(part));
		nrm_error_set(err, NRM_E_VALIDATION, field,
		    "could not read checkpoints %s: line %d: %s",
		    all->v[bad].part > 0 ? part : path, all->v[bad].line, why);
		nrm_audit_cps_free(all);
		return NRM_ERR;
	}
	*next_seq = (int64_t)all->n + 1;
	if (all->n > 0)
		memcpy(prev, all->v[all->n - 1].self, NRM_AUDIT_HEX_LEN + 1);
	else {
		memset(prev, '0', NRM_AUDIT_HEX_LEN);
		prev[NRM_AUDIT_HEX_LEN] = '\0';
	}
	return NRM_OK;
}

EVP_PKEY *
nrm_audit_key_load(const char *path, bool private_key, const char *field,
    struct nrm_error *err)
{
	const char *what = private_key ? "key" : "public key";
	EVP_PKEY *pkey;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		nrm_error_set(err, NRM_E_VALIDATION, field,
		    "could not open %s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	pkey = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
			   : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "ED25519")) {
		EVP_PKEY_free(pkey);
		nrm_error_set(err, NRM_E_VALIDATION, field,
		    "could not read %s %s: not a PEM Ed25519 %s", what, path,
		    private_key ? "private key"
				: "public key (BEGIN PUBLIC KEY)");
		return NULL;
	}
	return pkey;
}

/* Sign msg[0..len) into sig (base64, NUL-terminated). */
static int
ac_sign(EVP_PKEY *key, const char *msg, int len,
    char sig_b64[NRM_AUDIT_SIG_B64_MAX + 1])
{
	unsigned char sig[NRM_ED25519_SIG_LEN];

	if (len < 0 || nrm_ed25519_sign(key, msg, (size_t)len, sig) != NRM_OK)
		return NRM_ERR;
	EVP_EncodeBlock((unsigned char *)sig_b64, sig, (int)sizeof(sig));
	return NRM_OK;
}

int
nrm_audit_cp_sign(EVP_PKEY *key, struct nrm_audit_cp *cp)
{
	char msg[NRM_AUDIT_CP_MSG_MAX];

	return ac_sign(key, msg, ac_cp_message(cp, msg, sizeof(msg)), cp->sig);
}

int
nrm_audit_anchor_sign(EVP_PKEY *key, int64_t pos, const char *hash_hex,
    const char *at, char sig[NRM_AUDIT_SIG_B64_MAX + 1])
{
	char msg[NRM_AUDIT_CP_MSG_MAX];

	return ac_sign(key, msg,
	    nrm_audit_anchor_message(pos, hash_hex, at, msg, sizeof(msg)), sig);
}

/*
 * Standard base64 (padding optional) into out[outsz]; the decoded length,
 * or -1 on a bad character or a result longer than outsz.
 */
static int
ac_b64_decode(const char *in, unsigned char *out, size_t outsz)
{
	unsigned char tmp[NRM_AUDIT_SIG_B64_MAX + 4];
	unsigned char dec[NRM_AUDIT_SIG_B64_MAX];
	size_t n = strlen(in);
	size_t pad = 0;
	int len;

	while (n > 0 && in[n - 1] == '=') {
		n--;
		pad++;
	}
	if (pad > 2 || n == 0 || n > NRM_AUDIT_SIG_B64_MAX || n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	memcpy(tmp, in, n);
	pad = (4 - n % 4) % 4;
	memset(tmp + n, '=', pad);
	len = EVP_DecodeBlock(dec, tmp, (int)(n + pad));
	if (len >= 0)
		len -= (int)pad;
	if (len < 0 || (size_t)len > outsz)
		return -1;
	memcpy(out, dec, (size_t)len);
	return len;
}

/* Whether sig_b64 is a valid signature of msg[0..len) under key. */
static bool
ac_verify(EVP_PKEY *key, const char *msg, int len, const char *sig_b64)
{
	unsigned char sig[NRM_AUDIT_SIG_LEN + 3];
	int siglen = ac_b64_decode(sig_b64, sig, sizeof(sig));

	if (len < 0 || siglen != NRM_AUDIT_SIG_LEN)
		return false;
	return nrm_ed25519_verify(key, msg, (size_t)len, sig, (size_t)siglen);
}

bool
nrm_audit_cp_verify(EVP_PKEY *key, const struct nrm_audit_cp *cp)
{
	char msg[NRM_AUDIT_CP_MSG_MAX];

	return ac_verify(
	    key, msg, ac_cp_message(cp, msg, sizeof(msg)), cp->sig);
}

bool
nrm_audit_anchor_verify(EVP_PKEY *key, int64_t pos, const char *hash_hex,
    const char *at, const char *sig)
{
	char msg[NRM_AUDIT_CP_MSG_MAX];

	if (at == NULL || sig == NULL || strlen(sig) > NRM_AUDIT_SIG_B64_MAX)
		return false;
	return ac_verify(key, msg,
	    nrm_audit_anchor_message(pos, hash_hex, at, msg, sizeof(msg)), sig);
}

const char *
nrm_audit_anchor_problem(EVP_PKEY *key, int64_t pos, const char *hash_hex,
    const char *at, const char *sig, int64_t skipped)
{
	if (pos <= 0)
		return NULL;
	if (sig != NULL)
		return nrm_audit_anchor_verify(key, pos, hash_hex, at, sig)
		    ? NULL
		    : "bad anchor signature";
	return skipped > 0 ? "unsigned anchor" : NULL;
}
