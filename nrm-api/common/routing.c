/*
 * routing.c - read, hash and compile a routing configuration directory
 * (see routing.h).
 */
#include "routing.h"
#include "crypto.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define ROUTING_FILE_MAX (16 << 20)

static const char *const routing_files[3] = {
    "regions.json",
    "municipalities.csv",
    "rules.json",
};

/* Hash the three texts (name, length, bytes each) into hex. */
static int
routing_hash(char *const text[3], const size_t len[3], char version[65])
{
	unsigned char md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = NRM_ERR;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (int i = 0; i < 3; i++) {
		char head[96];
		int n = snprintf(
		    head, sizeof(head), "%s %zu\n", routing_files[i], len[i]);

		if (EVP_DigestUpdate(ctx, head, (size_t)n) != 1 ||
		    EVP_DigestUpdate(ctx, text[i], len[i]) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		goto out;
	nrm_hex(md, sizeof(md), version);
	rc = NRM_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int
routing_compile(char *const text[3], const size_t len[3], const char *version,
    struct nrm_router **out, struct nrm_diag *diag)
{
	struct nrm_routing_src src;

	memset(&src, 0, sizeof(src));
	src.regions_json = text[0];
	src.regions_len = len[0];
	src.municipalities_csv = text[1];
	src.municipalities_len = len[1];
	src.rules_json = text[2];
	src.rules_len = len[2];
	src.version = version;
	return nrm_router_load(out, &src, diag);
}

int
nrm_routing_load_dir_csv(
    const char *dir, struct nrm_router **out, char **csv, struct nrm_diag *diag)
{
	char *text[3] = {NULL, NULL, NULL};
	size_t len[3] = {0, 0, 0};
	char version[65];
	int rc = NRM_ERR;

	*out = NULL;
	for (int i = 0; i < 3; i++) {
		char path[4096];
		struct nrm_error err;

		snprintf(path, sizeof(path), "%s/%s", dir, routing_files[i]);
		if (nrm_read_file(path, ROUTING_FILE_MAX, &text[i], &len[i],
			routing_files[i], &err) != NRM_OK) {
			nrm_diag_add(diag, NRM_DIAG_ERROR, routing_files[i], "",
			    "%s", err.detail);
			goto out;
		}
	}
	if (routing_hash(text, len, version) != NRM_OK) {
		nrm_diag_add(diag, NRM_DIAG_ERROR, "", "", "could not hash");
		goto out;
	}
	rc = routing_compile(text, len, version, out, diag);
	if (rc == NRM_OK && csv != NULL) {
		*csv = text[1];
		text[1] = NULL;
	}
out:
	for (int i = 0; i < 3; i++)
		free(text[i]);
	return rc;
}

int
nrm_routing_load_dir(
    const char *dir, struct nrm_router **out, struct nrm_diag *diag)
{
	return nrm_routing_load_dir_csv(dir, out, NULL, diag);
}

int
nrm_routing_load_texts(const char *regions, size_t regions_len, const char *csv,
    size_t csv_len, const char *rules, size_t rules_len,
    struct nrm_router **out, struct nrm_diag *diag)
{
	char *text[3] = {(char *)(uintptr_t)regions, (char *)(uintptr_t)csv,
	    (char *)(uintptr_t)rules};
	size_t len[3] = {regions_len, csv_len, rules_len};
	char hash[65], version[32];

	*out = NULL;
	if (routing_hash(text, len, hash) != NRM_OK) {
		nrm_diag_add(diag, NRM_DIAG_ERROR, "", "", "could not hash");
		return NRM_ERR;
	}
	snprintf(version, sizeof(version), "candidate-%.16s", hash);
	return routing_compile(text, len, version, out, diag);
}

const char *
nrm_routing_first_error(const struct nrm_diag *diag)
{
	for (int i = 0; i < diag->n; i++)
		if (diag->entries[i].severity == NRM_DIAG_ERROR)
			return diag->entries[i].text;
	return diag->n_errors > 0 ? "out of memory" : "no error";
}

int
nrm_routing_unstaffed(const struct nrm_router *rt, const char *const *codes,
    int n, nrm_routing_unstaffed_cb cb, void *arg)
{
	int found = 0;

	for (int i = 0; i < nrm_router_n_regions(rt); i++) {
		const struct nrm_routing_region *reg =
		    nrm_router_region_at(rt, i);

		if (reg->office_name == NULL)
			continue;
		for (int k = 0; k < n; k++) {
			if (strcmp(codes[k], reg->code) == 0) {
				cb(reg, arg);
				found++;
				break;
			}
		}
	}
	return found;
}
