/*
 * pubrender.h - a publication (the JSON of GET /v1/publications/{id}) as
 * CSV (RFC 4180) or as a printable HTML report with one inline SVG bar
 * chart per indicator (docs/indicators.md, "Publications").
 *
 * CSV: a header row, then one row per indicator cell:
 *   indicator_id,period,dimension_1,category_1,dimension_2,category_2,
 *   unit,value,p90,suppressed
 * (empty where a table has fewer dimensions; for durations value is the
 * median in seconds and p90 the 90th percentile; suppressed true/false,
 * value empty when suppressed or none); CRLF line ends; a field with a
 * comma, quote, CR or LF is quoted with quotes doubled.
 *
 * HTML: no script and no inline style (the console's CSP); styles from
 * /css/utrecht.css and /css/console.css; every text HTML-escaped;
 * Dutch, or English when `english`.  Pure: no I/O.
 */
#ifndef NRM_PUBRENDER_H
#define NRM_PUBRENDER_H

#include <cjson/cJSON.h>

#include "nrm/nrm.h"

enum nrm_pub_format {
	NRM_PUB_JSON,
	NRM_PUB_CSV,
	NRM_PUB_HTML,
};

struct nrm_pub_render {
	enum nrm_pub_format format; /* CSV or HTML */
	bool english;
};

/* Render `pub` into *out (malloc'd, *len bytes); NRM_ERR on OOM. */
int nrm_pub_render(const cJSON *pub, const struct nrm_pub_render *how,
    char **out, size_t *len) NRM_MUSTCHECK;

#endif /* NRM_PUBRENDER_H */
