/*
 * fuzz_framing.c - libFuzzer target for the strict edge's head check
 * (framing.c): the input is a head as libevent hands it over, one
 * "name:value" per line, the first byte choosing HTTP/1.0 or 1.1.  Any
 * head must be judged without a crash or undefined behaviour, and:
 *   - a refusal is 400 or 413 and names a field of token characters;
 *   - an accepted head has at most one Content-Length, of digits only,
 *     no Transfer-Encoding other than one "chunked", never both, and
 *     Host once when it is HTTP/1.1; a HEAD (second bit of the first
 *     byte) carries neither a coding nor a length other than 0.
 *
 *   make fuzz && build/fuzz/bin/fuzz_framing -max_total_time=120
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>

#include "framing.h"

#define FZ_CHECK(cond) ((cond) ? (void)0 : abort())
#define FZ_MAX 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evkeyvalq q;
	struct evkeyval kv[FZ_MAX];
	struct nrm_framing_error err;
	char *text, *line, *save = NULL;
	int n = 0, minor, n_cl = 0, n_te = 0, n_host = 0;
	bool reads_body;

	if (size < 1)
		return 0;
	minor = data[0] & 1;
	reads_body = (data[0] & 2) == 0;
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	TAILQ_INIT(&q);
	for (line = strtok_r(text, "\n", &save); line != NULL && n < FZ_MAX;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		kv[n].key = line;
		kv[n].value = colon + 1;
		TAILQ_INSERT_TAIL(&q, &kv[n], next);
		n++;
	}
	if (nrm_framing_check(&q, 1, minor, reads_body, 65536, &err) !=
	    NRM_OK) {
		FZ_CHECK(err.status == 400 || err.status == 413);
		FZ_CHECK(err.field[0] != '\0');
		FZ_CHECK(strcspn(err.field, " \t\r\n:\"") == strlen(err.field));
		free(text);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (strcasecmp(kv[i].key, "Content-Length") == 0) {
			n_cl++;
			FZ_CHECK(kv[i].value[0] != '\0');
			FZ_CHECK(strspn(kv[i].value, "0123456789") ==
			    strlen(kv[i].value));
			FZ_CHECK(reads_body ||
			    strspn(kv[i].value, "0") == strlen(kv[i].value));
		} else if (strcasecmp(kv[i].key, "Transfer-Encoding") == 0) {
			n_te++;
			FZ_CHECK(strcasecmp(kv[i].value, "chunked") == 0);
		} else if (strcasecmp(kv[i].key, "Host") == 0) {
			n_host++;
		}
		FZ_CHECK(strcspn(kv[i].key, " \t") == strlen(kv[i].key));
	}
	FZ_CHECK(n_cl <= 1 && n_te <= 1 && !(n_cl && n_te));
	FZ_CHECK(reads_body || n_te == 0);
	FZ_CHECK(minor == 0 || n_host == 1);
	free(text);
	return 0;
}
