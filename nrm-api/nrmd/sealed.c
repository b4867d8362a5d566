/*
 * sealed.c - sealing a signal's personal data for api.intake and
 * opening the sealed values of an answer (see sealed.h).
 */
#include "sealed.h"
#include "log.h"
#include "util.h"

#include "nrm/json.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define SEALED_AAD_MAX 160

static const char *const sealed_subject_fields[] = {
    "given_name", "family_name", "birth_date", "phone", "address", "narrative"};

/*
 * Replace the string member `name` of `o` by <name>_ct, its value sealed
 * with AAD "<table>/<name>/<row>"; nothing when absent or not a string.
 */
static int
sealed_member(const struct nrm_data_key *dk, cJSON *o, const char *name,
    const char *table, const char *row)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	char aad[SEALED_AAD_MAX], ctname[40];
	char *b64;
	bool ok;

	if (!cJSON_IsString(v))
		return NRM_OK;
	snprintf(aad, sizeof(aad), "%s/%s/%s", table, name, row);
	snprintf(ctname, sizeof(ctname), "%s_ct", name);
	b64 = nrm_field_seal_b64(dk, aad, v->valuestring);
	OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	if (b64 == NULL)
		return NRM_ERR;
	ok = cJSON_AddStringToObject(o, ctname, b64) != NULL;
	free(b64);
	return ok ? NRM_OK : NRM_ERR;
}

/* facts.data_key = {id, kek_id, wrapped} of dk under kek. */
static int
sealed_put_key(
    const struct nrm_kek *kek, const struct nrm_data_key *dk, cJSON *facts)
{
	unsigned char w[NRM_FC_WRAPPED_LEN];
	char id[NRM_FC_UUID_STR];
	cJSON *k;
	char *b64;
	bool ok;

	if (nrm_data_key_wrap(kek, dk, w) != NRM_OK)
		return NRM_ERR;
	b64 = nrm_b64_encode(w, sizeof(w));
	if (b64 == NULL)
		return NRM_ERR;
	nrm_fc_uuid_str(dk->id, id);
	k = cJSON_AddObjectToObject(facts, "data_key");
	ok = k != NULL && cJSON_AddStringToObject(k, "id", id) != NULL &&
	    cJSON_AddStringToObject(k, "kek_id", kek->id_hex) != NULL &&
	    cJSON_AddStringToObject(k, "wrapped", b64) != NULL;
	free(b64);
	return ok ? NRM_OK : NRM_ERR;
}

int
nrm_sealed_intake(const struct nrm_kek *kek, const char *facts,
    const char *subject, char **facts_out, char **subject_out)
{
	struct nrm_data_key dk;
	char row[NRM_FC_UUID_STR];
	cJSON *f = cJSON_Parse(facts), *s = cJSON_Parse(subject);
	bool personal;
	int rc = NRM_ERR;

	*facts_out = NULL;
	*subject_out = NULL;
	memset(&dk, 0, sizeof(dk));
	if (!cJSON_IsObject(f) || s == NULL)
		goto out;
	if (nrm_fc_uuid_new(row) != NRM_OK ||
	    cJSON_AddStringToObject(f, "id", row) == NULL)
		goto out;
	personal = cJSON_IsObject(s) ||
	    cJSON_IsString(
		cJSON_GetObjectItemCaseSensitive(f, "reporter_reference"));
	if (personal) {
		if (nrm_data_key_new(&dk) != NRM_OK ||
		    sealed_put_key(kek, &dk, f) != NRM_OK ||
		    sealed_member(&dk, f, "reporter_reference", "intake.signal",
			row) != NRM_OK)
			goto out;
		for (size_t i = 0; cJSON_IsObject(s) &&
		     i < NRM_ARRAY_LEN(sealed_subject_fields);
		     i++)
			if (sealed_member(&dk, s, sealed_subject_fields[i],
				"care.subject", row) != NRM_OK)
				goto out;
	}
	*facts_out = cJSON_PrintUnformatted(f);
	*subject_out = cJSON_PrintUnformatted(s);
	if (*facts_out != NULL && *subject_out != NULL)
		rc = NRM_OK;
out:
	nrm_data_key_clear(&dk);
	cJSON_Delete(f);
	cJSON_Delete(s);
	if (rc != NRM_OK) {
		free(*facts_out);
		free(*subject_out);
		*facts_out = NULL;
		*subject_out = NULL;
	}
	return rc;
}

/* Unwrap the data key of one sealed member: NRM_FC_OK or why not. */
static enum nrm_fc_result
sealed_key(
    const struct nrm_kek_set *keks, const cJSON *k, struct nrm_data_key *dk)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(k, "id");
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(k, "kek_id");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(k, "wrapped");
	unsigned char kid_raw[NRM_FC_KEY_ID_LEN];
	unsigned char *raw;
	size_t n;
	enum nrm_fc_result r;

	if (!cJSON_IsString(id) || !cJSON_IsString(kid) || !cJSON_IsString(w) ||
	    nrm_kek_set_find(keks, kid->valuestring) == NULL)
		return NRM_FC_FAILED; /* destroyed, or a KEK not held */
	if (nrm_fc_uuid_parse(id->valuestring, kid_raw) != NRM_OK)
		return NRM_FC_MALFORMED;
	raw = nrm_b64_decode(w->valuestring, &n);
	if (raw == NULL)
		return NRM_FC_MALFORMED;
	r = nrm_kek_set_unwrap(keks, kid->valuestring, kid_raw, raw, n, dk);
	free(raw);
	return r;
}

char *
nrm_sealed_value(const struct nrm_kek_set *keks, const cJSON *data_key,
    const char *aad, const char *plain)
{
	struct nrm_data_key dk;
	char *b64 = NULL;

	memset(&dk, 0, sizeof(dk));
	if (sealed_key(keks, data_key, &dk) == NRM_FC_OK)
		b64 = nrm_field_seal_b64(&dk, aad, plain);
	nrm_data_key_clear(&dk);
	return b64;
}

/* Set body's member at the dotted `path` to v (taken), if its parent is
 * an object; else free v. */
static void
sealed_set(cJSON *body, const char *path, cJSON *v)
{
	char buf[64];
	char *seg, *dot;
	cJSON *o = body;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		cJSON_Delete(v);
		return;
	}
	seg = buf;
	while ((dot = strchr(seg, '.')) != NULL && cJSON_IsObject(o)) {
		*dot = '\0';
		o = cJSON_GetObjectItemCaseSensitive(o, seg);
		seg = dot + 1;
	}
	if (!cJSON_IsObject(o) || dot != NULL) {
		cJSON_Delete(v);
		return;
	}
	if (cJSON_HasObjectItem(o, seg))
		cJSON_ReplaceItemInObjectCaseSensitive(o, seg, v);
	else
		cJSON_AddItemToObject(o, seg, v);
}

/* One value failed: null at its path, the path in decryption_failed. */
static void
sealed_failed(cJSON *body, const char *path)
{
	cJSON *list =
	    cJSON_GetObjectItemCaseSensitive(body, "decryption_failed");

	sealed_set(body, path, cJSON_CreateNull());
	if (!cJSON_IsArray(list))
		list = cJSON_AddArrayToObject(body, "decryption_failed");
	if (list != NULL)
		cJSON_AddItemToArray(list, cJSON_CreateString(path));
}

/* Open the fields of one sealed member; returns how many failed. */
static int
sealed_open_one(const struct nrm_kek_set *keks, cJSON *body, const cJSON *m,
    const char **reason)
{
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(m, "fields");
	const cJSON *f;
	struct nrm_data_key dk;
	enum nrm_fc_result kr, r;
	int bad = 0;

	memset(&dk, 0, sizeof(dk));
	kr = sealed_key(
	    keks, cJSON_GetObjectItemCaseSensitive(m, "data_key"), &dk);
	cJSON_ArrayForEach (f, fields) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(f, "aad");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "value");
		char *plain = NULL;

		if (!cJSON_IsString(p))
			continue;
		r = kr;
		if (r == NRM_FC_OK &&
		    (!cJSON_IsString(a) || !cJSON_IsString(v)))
			r = NRM_FC_MALFORMED;
		if (r == NRM_FC_OK)
			plain = nrm_field_open_b64(
			    &dk, a->valuestring, v->valuestring, &r);
		if (plain != NULL) {
			sealed_set(
			    body, p->valuestring, cJSON_CreateString(plain));
			OPENSSL_cleanse(plain, strlen(plain));
			free(plain);
			continue;
		}
		if (bad++ == 0 && reason != NULL)
			*reason =
			    kr != NRM_FC_OK ? "no_key" : nrm_fc_result_name(r);
		sealed_failed(body, p->valuestring);
	}
	nrm_data_key_clear(&dk);
	return bad;
}

/*
 * Open the "sealed" member of `o` (an object) relative to `o`, then
 * those of its members, SEALED_DEPTH levels deep (the items of a list
 * carry their own).
 */
#define SEALED_DEPTH 4

static int
sealed_walk(
    const struct nrm_kek_set *keks, cJSON *o, int depth, const char **reason)
{
	cJSON *s, *c;
	int bad = 0;

	if (depth > SEALED_DEPTH || !(cJSON_IsObject(o) || cJSON_IsArray(o)))
		return 0;
	s = cJSON_IsObject(o)
	    ? cJSON_DetachItemFromObjectCaseSensitive(o, "sealed")
	    : NULL;
	if (cJSON_IsObject(s))
		bad += sealed_open_one(
		    keks, o, s, *reason == NULL ? reason : NULL);
	cJSON_Delete(s);
	for (c = o->child; c != NULL; c = c->next)
		bad += sealed_walk(keks, c, depth + 1, reason);
	return bad;
}

int
nrm_sealed_open(
    const struct nrm_kek_set *keks, cJSON *body, const char **reason)
{
	const char *first = NULL;
	int bad = sealed_walk(keks, body, 0, &first);

	if (reason != NULL)
		*reason = first;
	return bad;
}

/* Whether `v` is 1 to max bytes: the default check of a sealed text. */
static bool
sealed_len_ok(const char *v, size_t max)
{
	size_t n = strlen(v);

	return n >= 1 && n <= max;
}

/*
 * The data key of nrm_sealed_fields: the answer's data_key unwrapped
 * with keks, or a new one wrapped by kek and added to entry.
 */
static int
sealed_fields_key(const struct nrm_kek *kek, const struct nrm_kek_set *keks,
    const cJSON *data_key, cJSON *entry, struct nrm_data_key *dk)
{
	if (data_key != NULL && !cJSON_IsNull(data_key))
		return sealed_key(keks, data_key, dk) == NRM_FC_OK ? NRM_OK
								   : NRM_ERR;
	if (nrm_data_key_new(dk) != NRM_OK)
		return NRM_ERR;
	return sealed_put_key(kek, dk, entry);
}

/* nrm_sealed_fields with the KEK of a new key named apart (see there). */
static int
sealed_fields(const struct nrm_kek *kek, const struct nrm_kek_set *keks,
    const cJSON *data_key, cJSON *entry, const struct nrm_sealed_spec *spec,
    const char *row)
{
	nrm_sealed_ok_cb ok = spec->ok != NULL ? spec->ok : sealed_len_ok;
	struct nrm_data_key dk;
	char id[NRM_FC_UUID_STR];
	size_t todo = 0;
	int rc = NRM_ERR;

	for (size_t i = 0; i < spec->n; i++) {
		cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(entry, spec->names[i]);

		if (!cJSON_IsString(v)) /* null, absent or wrong: the db says */
			continue;
		if (ok(v->valuestring, spec->max)) {
			todo++;
			continue;
		}
		/* refused by the database for its shape, never sent */
		OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
		cJSON_ReplaceItemInObjectCaseSensitive(
		    entry, spec->names[i], cJSON_CreateString(""));
	}
	if (todo == 0)
		return NRM_OK;
	memset(&dk, 0, sizeof(dk));
	if (row == NULL) {
		if (nrm_fc_uuid_new(id) != NRM_OK ||
		    cJSON_AddStringToObject(entry, "id", id) == NULL)
			return NRM_ERR;
		row = id;
	}
	if (sealed_fields_key(kek, keks, data_key, entry, &dk) != NRM_OK)
		goto out;
	for (size_t i = 0; i < spec->n; i++) {
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(entry, spec->names[i]);

		/* "" is a refused one, left for the database to name */
		if (cJSON_IsString(v) && v->valuestring[0] != '\0' &&
		    sealed_member(
			&dk, entry, spec->names[i], spec->table, row) != NRM_OK)
			goto out;
	}
	rc = NRM_OK;
out:
	nrm_data_key_clear(&dk);
	return rc;
}

int
nrm_sealed_fields(const struct nrm_kek_set *keks, const cJSON *data_key,
    cJSON *entry, const struct nrm_sealed_spec *spec, const char *row)
{
	return sealed_fields(
	    nrm_kek_set_current(keks), keks, data_key, entry, spec, row);
}

int
nrm_sealed_entry(const struct nrm_kek *kek, cJSON *entry, const char *name,
    const char *table, size_t max)
{
	const struct nrm_sealed_spec spec = {&name, 1, table, max, NULL};

	return sealed_fields(kek, NULL, NULL, entry, &spec, NULL);
}

/*
 * Refuse a client's "id", "data_key" and <name>_ct of spec's names (422
 * naming it; `known` lists the route's fields): nrmd adds them.
 */
int
nrm_sealed_refuse_own(struct nrm_req *r, const cJSON *root,
    const struct nrm_sealed_spec *spec, const char *known)
{
	char ctname[48];
	const char *bad = NULL;

	if (cJSON_HasObjectItem(root, "id"))
		bad = "id";
	else if (cJSON_HasObjectItem(root, "data_key"))
		bad = "data_key";
	for (size_t i = 0; bad == NULL && i < spec->n; i++) {
		snprintf(ctname, sizeof(ctname), "%s_ct", spec->names[i]);
		if (cJSON_HasObjectItem(root, ctname))
			bad = ctname;
	}
	if (bad == NULL)
		return NRM_OK;
	nrm_req_fail(
	    r, NRM_E_VALIDATION, bad, "unknown field; known: %s", known);
	return NRM_ERR;
}

int
nrm_sealed_body_spec(struct nrm_req *r, const struct nrm_sealed_spec *spec,
    const char *known, char **out)
{
	cJSON *root;

	*out = NULL;
	if (nrm_req_body_object(r, false, NULL, -1, NULL, &root) != NRM_OK)
		return NRM_ERR;
	if (nrm_sealed_refuse_own(r, root, spec, known) != NRM_OK) {
		cJSON_Delete(root);
		return NRM_ERR;
	}
	/* the text leaves nrmd sealed (docs/data-protection.md) */
	if (nrm_sealed_fields(&r->app->data_keks, NULL, root, spec, NULL) !=
	    NRM_OK) {
		cJSON_Delete(root);
		nrm_req_fail(r, NRM_E_INTERNAL, "", "could not seal the entry");
		return NRM_ERR;
	}
	return nrm_req_print_take(r, root, out);
}

int
nrm_sealed_body(struct nrm_req *r, const char *name, const char *table,
    size_t max, const char *known, char **out)
{
	const struct nrm_sealed_spec spec = {&name, 1, table, max, NULL};

	return nrm_sealed_body_spec(r, &spec, known, out);
}

/* A read being answered: the answer with its values opened. */
struct sealed_ctx {
	char *answer;
	char object_type[32];
	char object_id[64];
};

static void
sealed_audited(struct nrm_req *r, void *arg, const char *text)
{
	struct sealed_ctx *ctx = arg;

	/* the read was audited as unreadable: now answer it */
	if (text != NULL)
		nrm_dbapi_answer(r, ctx->answer, NULL);
	free(ctx->answer);
	free(ctx);
}

static void
sealed_read(struct nrm_req *r, void *arg, const char *text)
{
	struct sealed_ctx *ctx = arg;
	struct nrm_dbapi_call call;
	const char *reason = NULL;
	cJSON *root, *body;
	int bad = 0;

	if (text == NULL)
		goto done;
	/* no sealed member anywhere: the answer as it is */
	if (strstr(text, "\"sealed\"") == NULL) {
		nrm_dbapi_answer(r, text, NULL);
		goto done;
	}
	root = cJSON_Parse(text);
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	bad = nrm_sealed_open(&r->app->data_keks, body, &reason);
	ctx->answer = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (ctx->answer == NULL) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		goto done;
	}
	if (bad == 0) {
		nrm_dbapi_answer(r, ctx->answer, NULL);
		goto done;
	}
	r->app->counters.decrypt_failures += (uint64_t)bad;
	nrm_warn("sealed values did not open req=%s object=%s count=%d "
		 "reason=%s",
	    r->id, ctx->object_type, bad, reason != NULL ? reason : "-");
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, ctx->object_type);
	nrm_dbapi_text(&call, ctx->object_id);
	nrm_dbapi_text(&call, reason != NULL ? reason : "malformed");
	if (nrm_dbapi_exec_text(r, NRM_STMT_DATA_UNREADABLE, &call,
		sealed_audited, ctx) == NRM_OK)
		return;
done:
	free(ctx->answer);
	free(ctx);
}

void
nrm_sealed_send(struct nrm_req *r, enum nrm_stmt stmt,
    const struct nrm_dbapi_call *c, const char *object_type,
    const char *object_id)
{
	struct sealed_ctx *ctx = nrm_xcalloc(1, sizeof(*ctx));

	snprintf(ctx->object_type, sizeof(ctx->object_type), "%s", object_type);
	snprintf(ctx->object_id, sizeof(ctx->object_id), "%s",
	    object_id != NULL ? object_id : "");
	if (nrm_dbapi_exec_text(r, stmt, c, sealed_read, ctx) != NRM_OK)
		free(ctx);
}

void
nrm_sealed_case_read(struct nrm_req *r, enum nrm_stmt stmt, const char *extra)
{
	struct nrm_dbapi_call call;
	const char *purpose, *reason, *id = nrm_req_uuid_param(r);

	if (nrm_req_purpose(r, &purpose, &reason) != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, id);
	if (extra != NULL)
		nrm_dbapi_text(&call, extra);
	nrm_dbapi_text(&call, purpose);
	nrm_dbapi_text(&call, reason);
	nrm_sealed_send(r, stmt, &call, "case", id);
}
