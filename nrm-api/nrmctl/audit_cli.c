/*
 * audit_cli.c - nrmctl audit verify / export / keygen / checkpoint (see
 * audit_cli.h and docs/audit.md).
 */
#include "audit_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto.h"
#include "log.h"
#include "util.h"

#define AUD_HEX_LEN 64
#define AUD_SIG_LEN 64
#define AUD_CP_MSG_MAX 256
#define AUD_AT_MAX 64
#define AUD_CP_MAX_LINE 4096

/* One checkpoint line of a checkpoints file. */
struct aud_cp {
	int64_t pos;
	char hash[AUD_HEX_LEN + 1];
	char at[AUD_AT_MAX + 1];
	char *sig; /* base64 as read, malloc'd */
	int line;
	bool sig_bad; /* verified and wrong (only with a public key) */
};

struct aud_cps {
	struct aud_cp *v;
	size_t n;
};

/*
 * The columns every link query selects, in this order: the link (pos,
 * event_id, prev_hash hex, hash hex, whether the event row exists), the
 * 13 event columns as canonical text, and the database's own canonical
 * bytes (hex) for the cross-check.
 */
#define AUD_LINK_COLUMNS \
	"c.pos, c.event_id, pg_catalog.encode(c.prev_hash, 'hex'), " \
	"pg_catalog.encode(c.hash, 'hex'), e.id IS NOT NULL, " \
	"e.id::text, pg_catalog.to_char(e.at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), e.api_key_id::text, " \
	"e.agency_id::text, e.role, e.action, e.object_type, e.object_id, " \
	"e.purpose, e.outcome, e.reason, e.request_id, " \
	"pg_catalog.abbrev(e.client_addr), " \
	"CASE WHEN e.id IS NOT NULL " \
	"THEN pg_catalog.encode(audit.canonical(e), 'hex') END "
#define AUD_COL_POS 0
#define AUD_COL_EVENT 1
#define AUD_COL_PREV 2
#define AUD_COL_HASH 3
#define AUD_COL_PRESENT 4
#define AUD_COL_FIELDS 5
#define AUD_COL_DBCANON (AUD_COL_FIELDS + NRM_AUDIT_FIELDS)
#define AUD_NCOLS (AUD_COL_DBCANON + 1)

static const char *const aud_field_names[NRM_AUDIT_FIELDS] = {
    "id",
    "at",
    "api_key_id",
    "agency_id",
    "role",
    "action",
    "object_type",
    "object_id",
    "purpose",
    "outcome",
    "reason",
    "request_id",
    "client_addr",
};

static void aud_seterr(char *errbuf, size_t errlen, const char *fmt, ...)
    NRM_PRINTF(3, 4);

static void
aud_seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* The primary message of a failed result (or connection), one line. */
static void
aud_pgerr(const PGresult *res, PGconn *conn, char *out, size_t outlen)
{
	const char *msg = NULL;

	if (res != NULL)
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL)
		msg = PQerrorMessage(conn);
	snprintf(out, outlen, "%s", msg);
	out[strcspn(out, "\n")] = '\0';
}

static int
aud_exec(PGconn *conn, const char *sql, const char *what, char *errbuf,
    size_t errlen)
{
	PGresult *res;
	char why[512];
	int rc = NRM_OK;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		aud_pgerr(res, conn, why, sizeof(why));
		aud_seterr(errbuf, errlen, "could not %s: %s", what, why);
		rc = NRM_ERR;
	}
	PQclear(res);
	return rc;
}

/* Leave `conn` idle: roll back whatever is open, drain what is pending. */
static void
aud_reset(PGconn *conn)
{
	PGresult *res;

	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		res = PQexec(conn, "ROLLBACK");
		PQclear(res);
	}
}

/* Hex digit value, or -1. */
static int
aud_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode `len` hex characters into out[len / 2]; NRM_ERR on bad input. */
static int
aud_unhex(const char *hex, size_t len, unsigned char *out)
{
	if (len % 2 != 0)
		return NRM_ERR;
	for (size_t i = 0; i < len; i += 2) {
		int hi = aud_hexval(hex[i]);
		int lo = aud_hexval(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return NRM_ERR;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return NRM_OK;
}

static bool
aud_is_hash_hex(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') ||
			(s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == AUD_HEX_LEN;
}

/* A decimal integer (optional '-') that fits int64_t. */
static int
aud_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || s[0] == '\0')
		return NRM_ERR;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return NRM_ERR;
	*out = (int64_t)v;
	return NRM_OK;
}

int
nrm_audit_canonical(const char *const fields[NRM_AUDIT_FIELDS],
    unsigned char **out, size_t *outlen)
{
	const char *all[NRM_AUDIT_FIELDS + 1];
	size_t total = 0;
	unsigned char *buf;
	size_t off = 0;

	all[0] = NRM_AUDIT_CANON_TAG;
	for (int i = 0; i < NRM_AUDIT_FIELDS; i++)
		all[i + 1] = fields[i];
	for (int i = 0; i <= NRM_AUDIT_FIELDS; i++) {
		size_t n = all[i] != NULL ? strlen(all[i]) : 0;

		if (n > UINT32_MAX - 1)
			return NRM_ERR;
		total += 4 + n;
	}
	buf = malloc(total > 0 ? total : 1);
	if (buf == NULL)
		return NRM_ERR;
	for (int i = 0; i <= NRM_AUDIT_FIELDS; i++) {
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

int
nrm_audit_cp_message(
    int64_t pos, const char *hash_hex, const char *at, char *buf, size_t bufsz)
{
	int n;

	if (strchr(at, '\n') != NULL)
		return -1;
	n = snprintf(buf, bufsz, "%s\n%" PRId64 "\n%s\n%s", NRM_AUDIT_CP_TAG,
	    pos, hash_hex, at);
	if (n < 0 || (size_t)n >= bufsz)
		return -1;
	return n;
}

/* ------------------------------------------------------------------ */
/* Keys, signatures, checkpoint files.                                 */
/* ------------------------------------------------------------------ */

static EVP_PKEY *
aud_read_pubkey(const char *path, char *errbuf, size_t errlen)
{
	FILE *f;
	EVP_PKEY *pkey;

	f = fopen(path, "r");
	if (f == NULL) {
		aud_seterr(errbuf, errlen, "could not open public key %s: %s",
		    path, strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "ED25519")) {
		EVP_PKEY_free(pkey);
		aud_seterr(errbuf, errlen,
		    "could not read public key %s: not a PEM Ed25519 public "
		    "key (BEGIN PUBLIC KEY)",
		    path);
		return NULL;
	}
	return pkey;
}

static EVP_PKEY *
aud_read_privkey(const char *path, char *errbuf, size_t errlen)
{
	FILE *f;
	EVP_PKEY *pkey;

	f = fopen(path, "r");
	if (f == NULL) {
		aud_seterr(errbuf, errlen, "could not open key %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "ED25519")) {
		EVP_PKEY_free(pkey);
		aud_seterr(errbuf, errlen,
		    "could not read key %s: not a PEM Ed25519 private key",
		    path);
		return NULL;
	}
	return pkey;
}

/*
 * Standard base64 (padding optional) into out[outsz]; the decoded length,
 * or -1 on a bad character or a result longer than outsz.
 */
static int
aud_b64_decode(const char *in, unsigned char *out, size_t outsz)
{
	size_t n = strlen(in);
	size_t pad = 0;
	char *tmp;
	unsigned char *dec;
	int len;

	while (n > 0 && in[n - 1] == '=') {
		n--;
		pad++;
	}
	if (pad > 2 || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	if (n % 4 == 1)
		return -1;
	tmp = malloc(n + 4);
	dec = malloc(n);
	if (tmp == NULL || dec == NULL) {
		free(tmp);
		free(dec);
		return -1;
	}
	memcpy(tmp, in, n);
	pad = (4 - n % 4) % 4;
	memset(tmp + n, '=', pad);
	len = EVP_DecodeBlock(dec, (unsigned char *)tmp, (int)(n + pad));
	if (len >= 0)
		len -= (int)pad;
	if (len < 0 || (size_t)len > outsz) {
		len = -1;
	} else {
		memcpy(out, dec, (size_t)len);
	}
	free(tmp);
	free(dec);
	return len;
}

static bool
aud_cp_sig_ok(EVP_PKEY *pkey, const struct aud_cp *cp)
{
	char msg[AUD_CP_MSG_MAX];
	unsigned char sig[AUD_SIG_LEN + 3];
	int msglen;
	int siglen;
	EVP_MD_CTX *ctx;
	bool ok = false;

	msglen =
	    nrm_audit_cp_message(cp->pos, cp->hash, cp->at, msg, sizeof(msg));
	siglen = aud_b64_decode(cp->sig, sig, sizeof(sig));
	if (msglen < 0 || siglen != AUD_SIG_LEN)
		return false;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return false;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, (size_t)siglen,
		(const unsigned char *)msg, (size_t)msglen) == 1)
		ok = true;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void
aud_cps_free(struct aud_cps *cps)
{
	for (size_t i = 0; i < cps->n; i++)
		free(cps->v[i].sig);
	free(cps->v);
	cps->v = NULL;
	cps->n = 0;
}

static int
aud_cp_cmp(const void *a, const void *b)
{
	const struct aud_cp *x = a;
	const struct aud_cp *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Parse one checkpoint line into *cp; NRM_ERR with why on a bad line. */
static int
aud_cp_parse(const char *text, struct aud_cp *cp, const char **why)
{
	cJSON *o;
	const cJSON *pos, *hash, *at, *sig;
	int rc = NRM_ERR;

	o = cJSON_Parse(text);
	if (o == NULL || !cJSON_IsObject(o)) {
		*why = "not a JSON object";
		goto out;
	}
	pos = cJSON_GetObjectItemCaseSensitive(o, "pos");
	hash = cJSON_GetObjectItemCaseSensitive(o, "hash");
	at = cJSON_GetObjectItemCaseSensitive(o, "at");
	sig = cJSON_GetObjectItemCaseSensitive(o, "sig");
	if (!cJSON_IsNumber(pos) || pos->valuedouble < 0 ||
	    pos->valuedouble > 9007199254740992.0 ||
	    pos->valuedouble != (double)(int64_t)pos->valuedouble) {
		*why = "\"pos\" is not an integer >= 0";
		goto out;
	}
	if (!cJSON_IsString(hash) || !aud_is_hash_hex(hash->valuestring)) {
		*why = "\"hash\" is not 64 lowercase hex digits";
		goto out;
	}
	if (!cJSON_IsString(at) || at->valuestring[0] == '\0' ||
	    strlen(at->valuestring) > AUD_AT_MAX ||
	    strchr(at->valuestring, '\n') != NULL) {
		*why = "\"at\" is not a time string";
		goto out;
	}
	if (!cJSON_IsString(sig) || sig->valuestring[0] == '\0') {
		*why = "\"sig\" is not a base64 string";
		goto out;
	}
	cp->pos = (int64_t)pos->valuedouble;
	snprintf(cp->hash, sizeof(cp->hash), "%s", hash->valuestring);
	snprintf(cp->at, sizeof(cp->at), "%s", at->valuestring);
	cp->sig = nrm_xstrdup(sig->valuestring);
	rc = NRM_OK;
out:
	cJSON_Delete(o);
	return rc;
}

/*
 * Read every checkpoint of `path` (blank lines skipped), check each
 * signature with pkey when given, sort by position.
 */
static int
aud_cps_load(const char *path, EVP_PKEY *pkey, struct aud_cps *cps,
    char *errbuf, size_t errlen)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t alloc = 0;
	int lineno = 0;
	int rc = NRM_ERR;

	cps->v = NULL;
	cps->n = 0;
	f = fopen(path, "r");
	if (f == NULL) {
		aud_seterr(errbuf, errlen, "could not open checkpoints %s: %s",
		    path, strerror(errno));
		return NRM_ERR;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		struct aud_cp cp;
		const char *why = NULL;

		lineno++;
		while (
		    len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strspn(line, " \t") == (size_t)len)
			continue;
		if (len > AUD_CP_MAX_LINE) {
			aud_seterr(errbuf, errlen,
			    "could not read checkpoints %s: line %d is too "
			    "long",
			    path, lineno);
			goto out;
		}
		memset(&cp, 0, sizeof(cp));
		if (aud_cp_parse(line, &cp, &why) != NRM_OK) {
			aud_seterr(errbuf, errlen,
			    "could not read checkpoints %s: line %d: %s", path,
			    lineno, why);
			goto out;
		}
		cp.line = lineno;
		cp.sig_bad = pkey != NULL && !aud_cp_sig_ok(pkey, &cp);
		if (cps->n == alloc) {
			alloc = alloc == 0 ? 64 : alloc * 2;
			cps->v = realloc(cps->v, alloc * sizeof(*cps->v));
			if (cps->v == NULL)
				nrm_fatal("out of memory");
		}
		cps->v[cps->n++] = cp;
	}
	if (ferror(f)) {
		aud_seterr(errbuf, errlen, "could not read checkpoints %s: %s",
		    path, strerror(errno));
		goto out;
	}
	if (cps->n > 0)
		qsort(cps->v, cps->n, sizeof(*cps->v), aud_cp_cmp);
	rc = NRM_OK;
out:
	free(line);
	fclose(f);
	if (rc != NRM_OK)
		aud_cps_free(cps);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Reading the chain.                                                  */
/* ------------------------------------------------------------------ */

/* Append one audit event of nrmctl's own read of the log, committed. */
static int
aud_record(PGconn *conn, const char *action, char *errbuf, size_t errlen)
{
	const char *p[1] = {action};
	PGresult *res;
	char why[512];
	int rc = NRM_OK;

	res = PQexecParams(conn,
	    "INSERT INTO audit.event (action, object_type, purpose, outcome) "
	    "VALUES ($1, 'audit', 'audit', 'allowed')",
	    1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		aud_pgerr(res, conn, why, sizeof(why));
		aud_seterr(errbuf, errlen,
		    "could not record the audit event %s (run as the owner): "
		    "%s",
		    action, why);
		rc = NRM_ERR;
	}
	PQclear(res);
	return rc;
}

/* One snapshot for everything read afterwards. */
static int
aud_begin(PGconn *conn, char *errbuf, size_t errlen)
{
	/* Times without a zone (--from, --to) are UTC. */
	if (aud_exec(conn,
		"SET search_path = pg_catalog, pg_temp; SET TimeZone = 'UTC'",
		"set up the session", errbuf, errlen) != NRM_OK)
		return NRM_ERR;
	return aud_exec(conn,
	    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
	    "begin a read-only transaction", errbuf, errlen);
}

/* The anchor verification starts from: (0, genesis) without a purge. */
static int
aud_anchor(PGconn *conn, int64_t *pos, unsigned char hash[32], char *errbuf,
    size_t errlen)
{
	PGresult *res;
	char why[512];
	int rc = NRM_ERR;

	res = PQexec(conn,
	    "SELECT purged_through_pos, pg_catalog.encode(anchor_hash, 'hex') "
	    "FROM audit.retention ORDER BY purged_through_pos DESC LIMIT 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		aud_pgerr(res, conn, why, sizeof(why));
		aud_seterr(
		    errbuf, errlen, "could not read the anchor: %s", why);
		goto out;
	}
	if (PQntuples(res) == 0) {
		*pos = 0;
		nrm_audit_genesis(hash);
	} else if (aud_parse_i64(PQgetvalue(res, 0, 0), pos) != NRM_OK ||
	    PQgetlength(res, 0, 1) != AUD_HEX_LEN ||
	    aud_unhex(PQgetvalue(res, 0, 1), AUD_HEX_LEN, hash) != NRM_OK) {
		aud_seterr(errbuf, errlen,
		    "could not read the anchor: "
		    "unexpected row");
		goto out;
	}
	rc = NRM_OK;
out:
	PQclear(res);
	return rc;
}

/* Start streaming the links with pos in [lo, hi] (hi < 0: no bound). */
static int
aud_stream_links(
    PGconn *conn, int64_t lo, int64_t hi, char *errbuf, size_t errlen)
{
	char los[24], his[24];
	const char *p[2] = {los, his};
	char why[512];

	snprintf(los, sizeof(los), "%" PRId64, lo);
	snprintf(his, sizeof(his), "%" PRId64, hi);
	if (!PQsendQueryParams(conn,
		"SELECT " AUD_LINK_COLUMNS
		"FROM audit.chain c LEFT JOIN audit.event e "
		"ON e.id = c.event_id "
		"WHERE c.pos >= $1::bigint "
		"AND ($2::bigint < 0 OR c.pos <= $2::bigint) "
		"ORDER BY c.pos",
		2, NULL, p, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn)) {
		aud_pgerr(NULL, conn, why, sizeof(why));
		aud_seterr(errbuf, errlen, "could not read the chain: %s", why);
		return NRM_ERR;
	}
	return NRM_OK;
}

/* A link row, checked. */
struct aud_link {
	int64_t pos;
	const char *event_id; /* text, NULL when the link has none */
	const char *prev_hex;
	const char *hash_hex;
	unsigned char prev[32];
	unsigned char hash[32];
	unsigned char rehash[32]; /* of the event as it is now */
	bool present;
	bool canon_differs; /* the database's audit.canonical() disagrees */
	const char *fields[NRM_AUDIT_FIELDS];
};

/* Decode a row; NRM_ERR when the database sent something malformed. */
static int
aud_link_read(const PGresult *res, struct aud_link *l)
{
	unsigned char *canon = NULL;
	size_t clen = 0;
	const char *db;
	unsigned char *dbc = NULL;
	size_t dblen;
	int rc = NRM_ERR;

	if (PQnfields(res) != AUD_NCOLS ||
	    aud_parse_i64(PQgetvalue(res, 0, AUD_COL_POS), &l->pos) != NRM_OK ||
	    PQgetlength(res, 0, AUD_COL_PREV) != AUD_HEX_LEN ||
	    PQgetlength(res, 0, AUD_COL_HASH) != AUD_HEX_LEN)
		return NRM_ERR;
	l->event_id = PQgetvalue(res, 0, AUD_COL_EVENT);
	l->prev_hex = PQgetvalue(res, 0, AUD_COL_PREV);
	l->hash_hex = PQgetvalue(res, 0, AUD_COL_HASH);
	if (aud_unhex(l->prev_hex, AUD_HEX_LEN, l->prev) != NRM_OK ||
	    aud_unhex(l->hash_hex, AUD_HEX_LEN, l->hash) != NRM_OK)
		return NRM_ERR;
	l->present = strcmp(PQgetvalue(res, 0, AUD_COL_PRESENT), "t") == 0;
	l->canon_differs = false;
	for (int i = 0; i < NRM_AUDIT_FIELDS; i++)
		l->fields[i] = PQgetisnull(res, 0, AUD_COL_FIELDS + i)
		    ? NULL
		    : PQgetvalue(res, 0, AUD_COL_FIELDS + i);
	if (!l->present)
		return NRM_OK;

	if (nrm_audit_canonical(l->fields, &canon, &clen) != NRM_OK)
		goto out;
	db = PQgetvalue(res, 0, AUD_COL_DBCANON);
	dblen = (size_t)PQgetlength(res, 0, AUD_COL_DBCANON);
	dbc = malloc(dblen / 2 + 1);
	if (dbc == NULL || aud_unhex(db, dblen, dbc) != NRM_OK)
		goto out;
	l->canon_differs = dblen / 2 != clen || memcmp(dbc, canon, clen) != 0;
	{
		unsigned char *buf = malloc(32 + clen);

		if (buf == NULL)
			goto out;
		memcpy(buf, l->prev, 32);
		memcpy(buf + 32, canon, clen);
		nrm_sha256(buf, 32 + clen, l->rehash);
		free(buf);
	}
	rc = NRM_OK;
out:
	free(canon);
	free(dbc);
	return rc;
}

/* ------------------------------------------------------------------ */
/* verify                                                              */
/* ------------------------------------------------------------------ */

struct aud_verify {
	int64_t next_pos; /* the position the next link must have */
	unsigned char prev[32]; /* the hash it must continue from */
	int64_t links;
	bool broken;
	char report[768];
	size_t cp_next; /* first checkpoint not yet compared */
	const struct aud_cp *cp_bad; /* first checkpoint that disagrees */
	char cp_found[AUD_HEX_LEN + 1];
	int64_t cp_checked;
	int64_t cp_skipped;
};

static void aud_break(struct aud_verify *v, const char *fmt, ...)
    NRM_PRINTF(2, 3);

static void
aud_break(struct aud_verify *v, const char *fmt, ...)
{
	va_list ap;

	if (v->broken)
		return;
	v->broken = true;
	va_start(ap, fmt);
	vsnprintf(v->report, sizeof(v->report), fmt, ap);
	va_end(ap);
}

/* Compare checkpoints at position `pos` (hash hex) and skip earlier ones. */
static void
aud_verify_cps_at(struct aud_verify *v, const struct aud_cps *cps, int64_t pos,
    const char *hash_hex)
{
	while (v->cp_next < cps->n && cps->v[v->cp_next].pos <= pos) {
		const struct aud_cp *cp = &cps->v[v->cp_next++];

		if (cp->pos < pos) {
			/* A position the chain does not have (a gap). */
			if (v->cp_bad == NULL) {
				v->cp_bad = cp;
				snprintf(
				    v->cp_found, sizeof(v->cp_found), "none");
			}
			continue;
		}
		v->cp_checked++;
		if (strcmp(cp->hash, hash_hex) != 0 && v->cp_bad == NULL) {
			v->cp_bad = cp;
			snprintf(
			    v->cp_found, sizeof(v->cp_found), "%s", hash_hex);
		}
	}
}

/* Check one link against the chain so far (the order of checks is the
 * one of audit.verify_chain, so both name the same first break). */
static void
aud_verify_link(struct aud_verify *v, const struct aud_link *l)
{
	char want[AUD_HEX_LEN + 1];
	char now[AUD_HEX_LEN + 1];

	if (v->broken)
		return;
	nrm_hex(v->prev, 32, want);
	if (l->pos != v->next_pos) {
		aud_break(v,
		    "broken at position %" PRId64 " (event unknown): "
		    "expected %s, found none (missing event)",
		    v->next_pos, l->prev_hex);
		return;
	}
	if (memcmp(l->prev, v->prev, 32) != 0) {
		aud_break(v,
		    "broken at position %" PRId64 " (event %s): "
		    "expected %s, found %s (order)",
		    l->pos, l->event_id, want, l->prev_hex);
		return;
	}
	if (!l->present) {
		aud_break(v,
		    "broken at position %" PRId64 " (event %s): "
		    "expected %s, found none (missing event)",
		    l->pos, l->event_id, l->hash_hex);
		return;
	}
	if (l->canon_differs) {
		aud_break(v,
		    "broken at position %" PRId64 " (event %s): the database's "
		    "audit.canonical() differs from nrmctl's encoding "
		    "(canonical mismatch)",
		    l->pos, l->event_id);
		return;
	}
	if (memcmp(l->rehash, l->hash, 32) != 0) {
		nrm_hex(l->rehash, 32, now);
		aud_break(v,
		    "broken at position %" PRId64 " (event %s): "
		    "expected %s, found %s (hash mismatch)",
		    l->pos, l->event_id, l->hash_hex, now);
		return;
	}
	memcpy(v->prev, l->hash, 32);
	v->next_pos = l->pos + 1;
	v->links++;
}

/* Events neither chained nor queued, and the queue length. */
static int
aud_unchained(PGconn *conn, int64_t *n, char *first, size_t firstsz,
    int64_t *unsealed, char *errbuf, size_t errlen)
{
	PGresult *res;
	char why[512];
	int rc = NRM_ERR;

	res = PQexec(conn,
	    "SELECT pg_catalog.count(*), pg_catalog.min(e.id)::text, "
	    "(SELECT pg_catalog.count(*) FROM audit.unsealed) "
	    "FROM audit.event e "
	    "WHERE NOT EXISTS (SELECT 1 FROM audit.chain c "
	    "WHERE c.event_id = e.id) "
	    "AND NOT EXISTS (SELECT 1 FROM audit.unsealed u "
	    "WHERE u.event_id = e.id)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    aud_parse_i64(PQgetvalue(res, 0, 0), n) != NRM_OK ||
	    aud_parse_i64(PQgetvalue(res, 0, 2), unsealed) != NRM_OK) {
		aud_pgerr(res, conn, why, sizeof(why));
		aud_seterr(errbuf, errlen,
		    "could not look for unchained events: %s", why);
		goto out;
	}
	snprintf(first, firstsz, "%s", PQgetvalue(res, 0, 1));
	rc = NRM_OK;
out:
	PQclear(res);
	return rc;
}

int
nrm_audit_verify(PGconn *conn, const char *checkpoints_path,
    const char *pubkey_path, FILE *out, char *errbuf, size_t errlen)
{
	struct aud_cps cps = {NULL, 0};
	struct aud_verify v;
	EVP_PKEY *pkey = NULL;
	PGresult *res = NULL;
	int64_t anchor_pos;
	unsigned char anchor[32];
	char anchor_hex[AUD_HEX_LEN + 1];
	char head_hex[AUD_HEX_LEN + 1];
	int64_t unchained = 0, unsealed = 0;
	char first_unchained[32];
	const struct aud_cp *sig_bad = NULL;
	char why[512];
	int rc = NRM_ERR;

	memset(&v, 0, sizeof(v));
	if (checkpoints_path != NULL) {
		if (pubkey_path == NULL) {
			aud_seterr(errbuf, errlen,
			    "could not check checkpoints: no public key");
			goto out;
		}
		pkey = aud_read_pubkey(pubkey_path, errbuf, errlen);
		if (pkey == NULL)
			goto out;
		if (aud_cps_load(
			checkpoints_path, pkey, &cps, errbuf, errlen) != NRM_OK)
			goto out;
		for (size_t i = 0; i < cps.n && sig_bad == NULL; i++)
			if (cps.v[i].sig_bad)
				sig_bad = &cps.v[i];
	}
	if (aud_record(conn, "audit.verify", errbuf, errlen) != NRM_OK ||
	    aud_begin(conn, errbuf, errlen) != NRM_OK ||
	    aud_anchor(conn, &anchor_pos, anchor, errbuf, errlen) != NRM_OK)
		goto out;
	nrm_hex(anchor, 32, anchor_hex);
	v.next_pos = anchor_pos + 1;
	memcpy(v.prev, anchor, 32);

	/* Checkpoints at or before the anchor: the anchor or purged. */
	while (v.cp_next < cps.n && cps.v[v.cp_next].pos < anchor_pos) {
		v.cp_next++;
		v.cp_skipped++;
	}
	aud_verify_cps_at(&v, &cps, anchor_pos, anchor_hex);

	if (aud_stream_links(conn, anchor_pos + 1, -1, errbuf, errlen) !=
	    NRM_OK)
		goto out;
	while ((res = PQgetResult(conn)) != NULL) {
		struct aud_link l;

		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			PQclear(res);
			continue;
		}
		if (PQresultStatus(res) != PGRES_SINGLE_TUPLE) {
			aud_pgerr(res, conn, why, sizeof(why));
			aud_seterr(errbuf, errlen,
			    "could not read the chain: %s", why);
			goto out;
		}
		if (!v.broken) {
			if (aud_link_read(res, &l) != NRM_OK) {
				aud_seterr(errbuf, errlen,
				    "could not read the chain: malformed "
				    "row");
				goto out;
			}
			aud_verify_link(&v, &l);
			if (!v.broken)
				aud_verify_cps_at(&v, &cps, l.pos, l.hash_hex);
		}
		PQclear(res);
	}
	res = NULL;
	if (aud_unchained(conn, &unchained, first_unchained,
		sizeof(first_unchained), &unsealed, errbuf, errlen) != NRM_OK)
		goto out;
	aud_reset(conn);

	nrm_hex(v.prev, 32, head_hex);
	if (sig_bad != NULL) {
		fprintf(out,
		    "broken: the checkpoint on line %d (position %" PRId64
		    ") has a signature that does not verify with %s (bad "
		    "signature)\n",
		    sig_bad->line, sig_bad->pos, pubkey_path);
		rc = NRM_AUDIT_BROKEN;
	} else if (v.broken) {
		fprintf(out, "%s\n", v.report);
		rc = NRM_AUDIT_BROKEN;
	} else if (unchained > 0) {
		fprintf(out,
		    "broken: event %s is neither chained nor queued for "
		    "sealing, %" PRId64 " such event(s) (unchained event)\n",
		    first_unchained, unchained);
		rc = NRM_AUDIT_BROKEN;
	} else if (v.cp_bad != NULL) {
		fprintf(out,
		    "broken at position %" PRId64 ": the checkpoint on line %d "
		    "expected %s, found %s (checkpoint mismatch)\n",
		    v.cp_bad->pos, v.cp_bad->line, v.cp_bad->hash, v.cp_found);
		rc = NRM_AUDIT_BROKEN;
	} else if (v.cp_next < cps.n) {
		const struct aud_cp *cp = &cps.v[v.cp_next];

		fprintf(out,
		    "broken at position %" PRId64 ": the checkpoint on line %d "
		    "expected %s, found none: the chain ends at position "
		    "%" PRId64 " (beyond head)\n",
		    cp->pos, cp->line, cp->hash, v.next_pos - 1);
		rc = NRM_AUDIT_BROKEN;
	} else {
		fprintf(out, "intact, %" PRId64 " events, head %s\n", v.links,
		    head_hex);
		fprintf(out, "head position %" PRId64 ", ", v.next_pos - 1);
		if (anchor_pos > 0)
			fprintf(out,
			    "verified from the retention anchor at position "
			    "%" PRId64,
			    anchor_pos);
		else
			fputs("verified from genesis", out);
		fprintf(out, "; %" PRId64 " event(s) waiting to be sealed",
		    unsealed);
		if (checkpoints_path != NULL)
			fprintf(out,
			    "; %" PRId64 " checkpoint(s) verified, %" PRId64
			    " before the anchor skipped",
			    v.cp_checked, v.cp_skipped);
		fputc('\n', out);
		rc = NRM_AUDIT_INTACT;
	}
	fflush(out);
out:
	PQclear(res);
	aud_reset(conn);
	EVP_PKEY_free(pkey);
	aud_cps_free(&cps);
	return rc;
}

/* ------------------------------------------------------------------ */
/* export                                                              */
/* ------------------------------------------------------------------ */

/* Print one link as a JSON line. */
static int
aud_export_line(FILE *out, const struct aud_link *l)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_CreateObject();
	char pos[24];
	char *text = NULL;
	int rc = NRM_ERR;

	if (o == NULL || e == NULL)
		goto out;
	snprintf(pos, sizeof(pos), "%" PRId64, l->pos);
	cJSON_AddItemToObject(o, "pos", cJSON_CreateRaw(pos));
	cJSON_AddStringToObject(o, "prev_hash", l->prev_hex);
	cJSON_AddStringToObject(o, "hash", l->hash_hex);
	/* id is digits (with an optional '-'): a JSON number as is. */
	cJSON_AddItemToObject(e, "id", cJSON_CreateRaw(l->fields[0]));
	for (int i = 1; i < NRM_AUDIT_FIELDS; i++) {
		if (l->fields[i] == NULL)
			cJSON_AddNullToObject(e, aud_field_names[i]);
		else
			cJSON_AddStringToObject(
			    e, aud_field_names[i], l->fields[i]);
	}
	cJSON_AddItemToObject(o, "event", e);
	e = NULL;
	text = cJSON_PrintUnformatted(o);
	if (text == NULL || fprintf(out, "%s\n", text) < 0)
		goto out;
	rc = NRM_OK;
out:
	free(text);
	cJSON_Delete(e);
	cJSON_Delete(o);
	return rc;
}

static int
aud_export_cp_line(FILE *out, const struct aud_cp *cp)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *c = cJSON_CreateObject();
	char pos[24];
	char *text = NULL;
	int rc = NRM_ERR;

	if (o == NULL || c == NULL)
		goto out;
	snprintf(pos, sizeof(pos), "%" PRId64, cp->pos);
	cJSON_AddItemToObject(c, "pos", cJSON_CreateRaw(pos));
	cJSON_AddStringToObject(c, "hash", cp->hash);
	cJSON_AddStringToObject(c, "at", cp->at);
	cJSON_AddStringToObject(c, "sig", cp->sig);
	cJSON_AddItemToObject(o, "checkpoint", c);
	c = NULL;
	text = cJSON_PrintUnformatted(o);
	if (text == NULL || fprintf(out, "%s\n", text) < 0)
		goto out;
	rc = NRM_OK;
out:
	free(text);
	cJSON_Delete(c);
	cJSON_Delete(o);
	return rc;
}

/* The window's first and last link positions and its unsealed events. */
static int
aud_export_range(PGconn *conn, const char *from, const char *to, int64_t *lo,
    int64_t *hi, int64_t *unsealed, char *errbuf, size_t errlen)
{
	const char *p[2] = {from, to};
	PGresult *res;
	char why[512];
	int rc = NRM_ERR;

	res = PQexecParams(conn,
	    "SELECT pg_catalog.min(c.pos), pg_catalog.max(c.pos), "
	    "(SELECT pg_catalog.count(*) FROM audit.unsealed u "
	    "JOIN audit.event x ON x.id = u.event_id "
	    "WHERE x.at >= $1::timestamptz AND x.at < $2::timestamptz) "
	    "FROM audit.chain c JOIN audit.event e ON e.id = c.event_id "
	    "WHERE e.at >= $1::timestamptz AND e.at < $2::timestamptz",
	    2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		aud_pgerr(res, conn, why, sizeof(why));
		aud_seterr(errbuf, errlen, "could not export: %s", why);
		goto out;
	}
	if (aud_parse_i64(PQgetvalue(res, 0, 2), unsealed) != NRM_OK)
		goto out;
	if (PQgetisnull(res, 0, 0)) {
		*lo = *hi = -1;
	} else if (aud_parse_i64(PQgetvalue(res, 0, 0), lo) != NRM_OK ||
	    aud_parse_i64(PQgetvalue(res, 0, 1), hi) != NRM_OK) {
		aud_seterr(errbuf, errlen, "could not export: unexpected row");
		goto out;
	}
	rc = NRM_OK;
out:
	PQclear(res);
	return rc;
}

int
nrm_audit_export(PGconn *conn, const char *from, const char *to,
    const char *checkpoints_path, const char *pubkey_path, FILE *out,
    char *errbuf, size_t errlen)
{
	struct aud_cps cps = {NULL, 0};
	const struct aud_cp *cover = NULL;
	EVP_PKEY *pkey = NULL;
	PGresult *res = NULL;
	int64_t lo, hi, end, unsealed, n = 0;
	int64_t next_pos = -1;
	unsigned char prev[32];
	bool cover_seen = false;
	char why[512];
	int rc = NRM_ERR;

	if (checkpoints_path != NULL) {
		if (pubkey_path != NULL) {
			pkey = aud_read_pubkey(pubkey_path, errbuf, errlen);
			if (pkey == NULL)
				goto out;
		}
		if (aud_cps_load(
			checkpoints_path, pkey, &cps, errbuf, errlen) != NRM_OK)
			goto out;
	}
	if (aud_record(conn, "audit.export", errbuf, errlen) != NRM_OK ||
	    aud_begin(conn, errbuf, errlen) != NRM_OK ||
	    aud_export_range(
		conn, from, to, &lo, &hi, &unsealed, errbuf, errlen) != NRM_OK)
		goto out;
	if (unsealed > 0)
		fprintf(stderr,
		    "nrmctl: %" PRId64 " event(s) in the window are not sealed "
		    "yet and are not exported; export again later\n",
		    unsealed);
	if (lo < 0) {
		fprintf(stderr, "nrmctl: no sealed events in the window\n");
		aud_reset(conn);
		rc = NRM_OK;
		goto out;
	}
	end = hi;
	if (checkpoints_path != NULL) {
		for (size_t i = 0; i < cps.n && cover == NULL; i++)
			if (cps.v[i].pos >= hi)
				cover = &cps.v[i];
		if (cover == NULL) {
			aud_seterr(errbuf, errlen,
			    "could not export: no checkpoint in %s covers "
			    "position %" PRId64 " yet; export again after the "
			    "next checkpoint",
			    checkpoints_path, hi);
			goto out;
		}
		if (cover->sig_bad) {
			aud_seterr(errbuf, errlen,
			    "could not export: the covering checkpoint (line "
			    "%d) has a signature that does not verify",
			    cover->line);
			goto out;
		}
		end = cover->pos;
	}

	if (aud_stream_links(conn, lo, end, errbuf, errlen) != NRM_OK)
		goto out;
	while ((res = PQgetResult(conn)) != NULL) {
		struct aud_link l;

		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			PQclear(res);
			continue;
		}
		if (PQresultStatus(res) != PGRES_SINGLE_TUPLE) {
			aud_pgerr(res, conn, why, sizeof(why));
			aud_seterr(errbuf, errlen,
			    "could not read the chain: %s", why);
			goto out;
		}
		if (aud_link_read(res, &l) != NRM_OK) {
			aud_seterr(errbuf, errlen,
			    "could not read the chain: malformed row");
			goto out;
		}
		if ((next_pos >= 0 &&
			(l.pos != next_pos || memcmp(l.prev, prev, 32) != 0)) ||
		    !l.present || l.canon_differs ||
		    memcmp(l.rehash, l.hash, 32) != 0) {
			aud_seterr(errbuf, errlen,
			    "could not export: the chain is broken at "
			    "position %" PRId64 " (run nrmctl audit verify)",
			    next_pos >= 0 && l.pos != next_pos ? next_pos
							       : l.pos);
			goto out;
		}
		if (aud_export_line(out, &l) != NRM_OK) {
			aud_seterr(errbuf, errlen,
			    "could not write the export: %s", strerror(errno));
			goto out;
		}
		if (cover != NULL && l.pos == cover->pos) {
			if (strcmp(cover->hash, l.hash_hex) != 0) {
				aud_seterr(errbuf, errlen,
				    "could not export: the covering checkpoint "
				    "(line %d) does not match the chain at "
				    "position %" PRId64,
				    cover->line, cover->pos);
				goto out;
			}
			cover_seen = true;
		}
		memcpy(prev, l.hash, 32);
		next_pos = l.pos + 1;
		n++;
		PQclear(res);
	}
	res = NULL;
	if (next_pos != end + 1) {
		aud_seterr(errbuf, errlen,
		    "could not export: the chain ends at position %" PRId64
		    ", before %" PRId64,
		    next_pos - 1, end);
		goto out;
	}
	if (cover != NULL) {
		if (!cover_seen || aud_export_cp_line(out, cover) != NRM_OK) {
			aud_seterr(errbuf, errlen,
			    "could not write the covering checkpoint");
			goto out;
		}
	}
	if (fflush(out) != 0) {
		aud_seterr(errbuf, errlen, "could not write the export: %s",
		    strerror(errno));
		goto out;
	}
	fprintf(stderr,
	    "nrmctl: exported %" PRId64 " events, positions %" PRId64
	    " to %" PRId64 "%s\n",
	    n, lo, end, cover != NULL ? ", with the covering checkpoint" : "");
	rc = NRM_OK;
out:
	PQclear(res);
	aud_reset(conn);
	EVP_PKEY_free(pkey);
	aud_cps_free(&cps);
	return rc;
}

/* ------------------------------------------------------------------ */
/* keygen, checkpoint                                                  */
/* ------------------------------------------------------------------ */

int
nrm_audit_keygen(
    const char *out_path, FILE *pub_out, char *errbuf, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	FILE *f = NULL;
	int fd = -1;
	int rc = NRM_ERR;

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		aud_seterr(errbuf, errlen, "could not generate an Ed25519 key");
		goto out;
	}
	fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		aud_seterr(errbuf, errlen, "could not create %s: %s", out_path,
		    strerror(errno));
		goto out;
	}
	/* The umask may have taken bits away, never added: make it 0600. */
	if (fchmod(fd, 0600) != 0) {
		aud_seterr(errbuf, errlen, "could not chmod %s: %s", out_path,
		    strerror(errno));
		goto out;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		aud_seterr(errbuf, errlen, "could not open %s: %s", out_path,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		aud_seterr(errbuf, errlen, "could not write %s", out_path);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		aud_seterr(errbuf, errlen, "could not write %s: %s", out_path,
		    strerror(errno));
		goto out;
	}
	f = NULL;
	if (PEM_write_PUBKEY(pub_out, pkey) != 1 || fflush(pub_out) != 0) {
		aud_seterr(errbuf, errlen, "could not print the public key");
		goto out;
	}
	rc = NRM_OK;
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(pkey);
	return rc;
}

int
nrm_audit_checkpoint(
    PGconn *conn, const char *key_path, FILE *out, char *errbuf, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	PGresult *res = NULL;
	cJSON *head = NULL;
	const cJSON *pos, *hash;
	struct aud_cp cp;
	char msg[AUD_CP_MSG_MAX];
	unsigned char sig[AUD_SIG_LEN];
	size_t siglen = sizeof(sig);
	char sig64[4 * AUD_SIG_LEN / 3 + 8];
	time_t now;
	struct tm tm;
	int msglen;
	char why[512];
	int rc = NRM_ERR;

	memset(&cp, 0, sizeof(cp));
	pkey = aud_read_privkey(key_path, errbuf, errlen);
	if (pkey == NULL)
		goto out;
	res = PQexec(conn, "SELECT api.audit_head()::text");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		aud_pgerr(res, conn, why, sizeof(why));
		aud_seterr(
		    errbuf, errlen, "could not read the chain head: %s", why);
		goto out;
	}
	head = cJSON_Parse(PQgetvalue(res, 0, 0));
	pos = cJSON_GetObjectItemCaseSensitive(head, "pos");
	hash = cJSON_GetObjectItemCaseSensitive(head, "hash");
	if (!cJSON_IsNumber(pos) || !cJSON_IsString(hash) ||
	    !aud_is_hash_hex(hash->valuestring)) {
		aud_seterr(errbuf, errlen,
		    "could not read the chain head: unexpected answer");
		goto out;
	}
	cp.pos = (int64_t)pos->valuedouble;
	snprintf(cp.hash, sizeof(cp.hash), "%s", hash->valuestring);
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(cp.at, sizeof(cp.at), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		goto out;
	msglen = nrm_audit_cp_message(cp.pos, cp.hash, cp.at, msg, sizeof(msg));
	ctx = EVP_MD_CTX_new();
	if (msglen < 0 || ctx == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg,
		(size_t)msglen) != 1 ||
	    siglen != AUD_SIG_LEN) {
		aud_seterr(errbuf, errlen, "could not sign the checkpoint");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)sig64, sig, (int)siglen);
	cp.sig = sig64;
	{
		cJSON *o = cJSON_CreateObject();
		char p[24];
		char *text;

		if (o == NULL)
			goto out;
		snprintf(p, sizeof(p), "%" PRId64, cp.pos);
		cJSON_AddItemToObject(o, "pos", cJSON_CreateRaw(p));
		cJSON_AddStringToObject(o, "hash", cp.hash);
		cJSON_AddStringToObject(o, "at", cp.at);
		cJSON_AddStringToObject(o, "sig", cp.sig);
		text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (text == NULL || fprintf(out, "%s\n", text) < 0 ||
		    fflush(out) != 0) {
			free(text);
			aud_seterr(errbuf, errlen,
			    "could not write the checkpoint: %s",
			    strerror(errno));
			goto out;
		}
		free(text);
	}
	rc = NRM_OK;
out:
	cJSON_Delete(head);
	PQclear(res);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc;
}
