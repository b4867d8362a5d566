/*
 * qr.c - QR codes as JSON rows of '0'/'1' (see qr.h).
 */
#include "qr.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <qrencode.h>

cJSON *
nrm_qr_json(const char *text)
{
	QRcode *qr = NULL;
	cJSON *o = NULL, *rows;
	char *row = NULL;
	bool ok = false;
	int n;

	if (text == NULL || strlen(text) > NRM_QR_MAX_TEXT)
		return NULL;
	/* version 0: the smallest that holds it; modes chosen per segment */
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL || qr->width <= 0)
		goto out;
	n = qr->width;
	row = malloc((size_t)n + 1);
	o = cJSON_CreateObject();
	if (row == NULL || o == NULL ||
	    cJSON_AddNumberToObject(o, "size", n) == NULL ||
	    (rows = cJSON_AddArrayToObject(o, "rows")) == NULL)
		goto out;
	for (int y = 0; y < n; y++) {
		cJSON *s;

		for (int x = 0; x < n; x++)
			row[x] = (qr->data[y * n + x] & 1) ? '1' : '0';
		row[n] = '\0';
		s = cJSON_CreateString(row);
		if (s == NULL || !cJSON_AddItemToArray(rows, s)) {
			cJSON_Delete(s);
			goto out;
		}
	}
	ok = true;
out:
	if (!ok) {
		cJSON_Delete(o);
		o = NULL;
	}
	if (row != NULL) {
		OPENSSL_cleanse(row, (size_t)qr->width + 1);
		free(row);
	}
	if (qr != NULL) {
		OPENSSL_cleanse(
		    qr->data, (size_t)qr->width * (size_t)qr->width);
		QRcode_free(qr);
	}
	return o;
}
