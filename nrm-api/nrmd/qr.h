/*
 * qr.h - a QR code (libqrencode, error correction level M) as the JSON
 * the console draws: {"size": N, "rows": ["0110...", ...]}, N rows of N
 * characters, '1' a dark module, row 0 at the top, without the quiet
 * zone (the drawer adds four modules of margin).
 *
 * Contract: nrm_qr_json() encodes `text` (a NUL-terminated string of at
 * most NRM_QR_MAX_TEXT bytes) and returns a new cJSON object the caller
 * owns, or NULL (text too long, out of memory, or libqrencode refused).
 * The encoded text may be a secret (an otpauth:// URI): the module wipes
 * its own copies; the caller wipes the returned strings when it frees
 * them.
 */
#ifndef NRM_QR_H
#define NRM_QR_H

#include "nrm/nrm.h"

struct cJSON;

#define NRM_QR_MAX_TEXT 1024

struct cJSON *nrm_qr_json(const char *text);

#endif /* NRM_QR_H */
