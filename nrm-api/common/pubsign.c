/*
 * pubsign.c - canonical JSON, hash and Ed25519 signature of a
 * publication's content (see pubsign.h).
 */
#include "pubsign.h"
#include "crypto.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PS_INT_MAX 9007199254740992.0 /* 2^53 */

static void ps_emit(FILE *f, const cJSON *v);

static void
ps_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static int
ps_name_cmp(const void *a, const void *b)
{
	const cJSON *const *x = a;
	const cJSON *const *y = b;

	return strcmp((*x)->string, (*y)->string);
}

static void
ps_object(FILE *f, const cJSON *v)
{
	const cJSON **m;
	size_t n = 0, i = 0;
	const cJSON *c;

	cJSON_ArrayForEach (c, v)
		n++;
	m = nrm_xcalloc(n > 0 ? n : 1, sizeof(*m));
	cJSON_ArrayForEach (c, v)
		m[i++] = c;
	qsort(m, n, sizeof(*m), ps_name_cmp);
	fputc('{', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		ps_string(f, m[i]->string);
		fputc(':', f);
		ps_emit(f, m[i]);
	}
	fputc('}', f);
	free(m);
}

static void
ps_emit(FILE *f, const cJSON *v)
{
	const cJSON *c;
	bool first = true;

	if (cJSON_IsNull(v)) {
		fputs("null", f);
	} else if (cJSON_IsTrue(v)) {
		fputs("true", f);
	} else if (cJSON_IsFalse(v)) {
		fputs("false", f);
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d > -PS_INT_MAX && d < PS_INT_MAX &&
		    d == (double)(long long)d)
			fprintf(f, "%.0f", d);
		else
			fprintf(f, "%.17g", d);
	} else if (cJSON_IsString(v)) {
		ps_string(f, v->valuestring);
	} else if (cJSON_IsArray(v)) {
		fputc('[', f);
		cJSON_ArrayForEach (c, v) {
			if (!first)
				fputc(',', f);
			first = false;
			ps_emit(f, c);
		}
		fputc(']', f);
	} else if (cJSON_IsObject(v)) {
		ps_object(f, v);
	} else {
		fputs("null", f);
	}
}

char *
nrm_pub_canonical(const cJSON *v, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (f == NULL)
		return NULL;
	ps_emit(f, v);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (len != NULL)
		*len = n;
	return buf;
}

int
nrm_pub_hash(const cJSON *content, char hex[NRM_PUB_HEX_LEN + 1])
{
	unsigned char md[NRM_SHA256_LEN];
	size_t n;
	char *text = nrm_pub_canonical(content, &n);

	if (text == NULL)
		return NRM_ERR;
	nrm_sha256(text, n, md);
	nrm_hex(md, sizeof(md), hex);
	free(text);
	return NRM_OK;
}

/* The signed bytes: the tag, a newline, the hash. */
static int
ps_message(const char *hex, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s\n%s", NRM_PUB_TAG, hex);

	return n > 0 && (size_t)n < size ? n : -1;
}

int
nrm_pub_sign(EVP_PKEY *key, const char *hex, char sig[NRM_PUB_SIG_B64_LEN + 1])
{
	char msg[128];
	unsigned char raw[NRM_ED25519_SIG_LEN];
	int n = ps_message(hex, msg, sizeof(msg));

	if (n < 0 || strlen(hex) != NRM_PUB_HEX_LEN ||
	    nrm_ed25519_sign(key, msg, (size_t)n, raw) != NRM_OK)
		return NRM_ERR;
	EVP_EncodeBlock((unsigned char *)sig, raw, (int)sizeof(raw));
	return NRM_OK;
}

bool
nrm_pub_verify(EVP_PKEY *key, const char *hex, const char *sig_b64)
{
	char msg[128];
	unsigned char raw[NRM_PUB_SIG_B64_LEN];
	int n = ps_message(hex, msg, sizeof(msg));

	if (n < 0 || key == NULL || strlen(sig_b64) != NRM_PUB_SIG_B64_LEN ||
	    strcmp(sig_b64 + NRM_PUB_SIG_B64_LEN - 2, "==") != 0)
		return false;
	/* 88 characters decode to 66 bytes, the last two of them padding */
	if (EVP_DecodeBlock(
		raw, (const unsigned char *)sig_b64, NRM_PUB_SIG_B64_LEN) != 66)
		return false;
	return nrm_ed25519_verify(
	    key, msg, (size_t)n, raw, NRM_ED25519_SIG_LEN);
}
