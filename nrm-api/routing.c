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

int
nrm_routing_load_dir(const char *dir, struct nrm_router **out,
    struct nrm_diag *diag)
{
	char *text[3] = {NULL, NULL, NULL};
	size_t len[3] = {0, 0, 0};
	struct nrm_routing_src src;
	unsigned char md[32];
	char version[65];
	EVP_MD_CTX *ctx = NULL;
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
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		nrm_diag_add(diag, NRM_DIAG_ERROR, "", "", "could not hash");
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		char head[96];
		int n = snprintf(head, sizeof(head), "%s %zu\n",
		    routing_files[i], len[i]);

		EVP_DigestUpdate(ctx, head, (size_t)n);
		EVP_DigestUpdate(ctx, text[i], len[i]);
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	nrm_hex(md, sizeof(md), version);
	memset(&src, 0, sizeof(src));
	src.regions_json = text[0];
	src.regions_len = len[0];
	src.municipalities_csv = text[1];
	src.municipalities_len = len[1];
	src.rules_json = text[2];
	src.rules_len = len[2];
	src.version = version;
	rc = nrm_router_load(out, &src, diag);
out:
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 3; i++)
		free(text[i]);
	return rc;
}

const char *
nrm_routing_first_error(const struct nrm_diag *diag)
{
	for (int i = 0; i < diag->n; i++)
		if (diag->entries[i].severity == NRM_DIAG_ERROR)
			return diag->entries[i].text;
	return diag->n_errors > 0 ? "out of memory" : "no error";
}
