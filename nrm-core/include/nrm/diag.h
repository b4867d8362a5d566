/*
 * diag.h - diagnostics of a configuration load: every error and warning
 * found, each with a severity, a place and a message, so that a checker
 * (nrmctl config check, the reload endpoint) can show them all at once.
 *
 * A place is a file name ("rules.json") and a path inside it: a JSON
 * path ("rules[3].then.region"), a CSV line ("line 12"), or empty.  It
 * renders as "rules.json: rules[3].then.region: unknown region VR99",
 * "municipalities.csv line 12: GM0363 maps to unknown region VR77" or
 * "regions.json: fallback cycle VR01 -> VR02 -> VR01".
 *
 * Messages are written by the loader from configuration text only: a
 * configuration holds no personal data.  Pure: no I/O.  At most
 * NRM_DIAG_KEEP entries are kept; later ones are counted (and still
 * make the load fail when they are errors) but not stored.
 */
#ifndef NRM_DIAG_H
#define NRM_DIAG_H

#include <cjson/cJSON.h>

#include "nrm/nrm.h"

#define NRM_DIAG_KEEP 256
#define NRM_DIAG_SHOWN_MAX 40 /* bytes of a value quoted in a message */

enum nrm_diag_severity {
	NRM_DIAG_ERROR = 0,
	NRM_DIAG_WARNING,
};

struct nrm_diag_entry {
	enum nrm_diag_severity severity;
	char file[32]; /* "regions.json", "" when about the whole load */
	char *path; /* "rules[3].when", "line 12", "" */
	char *message; /* lowercase, no trailing period */
	char *text; /* the rendered place and message, no severity */
};

struct nrm_diag {
	struct nrm_diag_entry *entries; /* in the order found */
	int n; /* entries stored */
	int cap;
	int n_errors; /* counted, stored or not */
	int n_warnings;
	int n_dropped; /* beyond NRM_DIAG_KEEP, or lost to memory */
};

/* Start empty.  Every initialised diag must be released. */
void nrm_diag_init(struct nrm_diag *d);

/* Release the entries; the struct is left empty and reusable. */
void nrm_diag_free(struct nrm_diag *d);

/*
 * Record one entry.  `file` and `path` may be NULL (empty).  Never
 * fails: when memory runs out the entry is counted in n_errors or
 * n_warnings and n_dropped but not stored.
 */
void nrm_diag_add(struct nrm_diag *d, enum nrm_diag_severity sev,
    const char *file, const char *path, const char *fmt, ...) NRM_PRINTF(5, 6);

int nrm_diag_errors(const struct nrm_diag *d);
int nrm_diag_warnings(const struct nrm_diag *d);

/* "error" or "warning". */
const char *nrm_diag_severity_name(enum nrm_diag_severity sev);

/*
 * Every stored entry as one line "error: <text>" / "warning: <text>",
 * then, if entries were dropped, a line saying how many; then a summary
 * line "N errors, M warnings".  malloc'd, caller frees; NULL on OOM.
 */
char *nrm_diag_text(const struct nrm_diag *d);

/*
 * The same as compact JSON: {"errors":N,"warnings":M,"dropped":K,
 * "entries":[{"severity":"error","file":"rules.json",
 * "path":"rules[3].then.region","message":"unknown region VR99",
 * "text":"rules.json: rules[3].then.region: unknown region VR99"}]}.
 * malloc'd, caller frees; NULL on OOM.
 */
char *nrm_diag_json(const struct nrm_diag *d);

/*
 * A configuration value quoted in a message: at most NRM_DIAG_SHOWN_MAX
 * bytes (then "..."), printable ASCII kept, anything else as '?', so a
 * message stays one readable line.  Returns buf.
 */
const char *nrm_diag_shown(const char *s, char buf[NRM_DIAG_SHOWN_MAX + 4]);

/*
 * The JSON edge of a configuration load (routing rules, the indicators
 * register): the strict reader of json.h with every fault reported into
 * d under `file` instead of stopping at the first.
 */

/*
 * Parse one JSON file with nrm_json_parse.  A fault in the bytes is
 * reported at "line L, column C" ("line L" for bad UTF-8), a duplicate
 * key at its path, an empty text as "empty file".  NULL on failure (the
 * caller deletes a tree with cJSON_Delete).
 */
cJSON *nrm_diag_parse_json(
    struct nrm_diag *d, const char *file, const char *text, size_t len);

/*
 * nrm_json_members with every fault (unknown key, missing required key)
 * reported; returns how many were.
 */
int nrm_diag_members(struct nrm_diag *d, const char *file, const char *path,
    const cJSON *obj, const char *const *names, int n, uint32_t required,
    const cJSON **found);

/*
 * A free-text value (nrm_json_text: 1..max bytes, not blank, no control
 * characters; line breaks allowed when `lines`) into a malloc'd *out;
 * reported and NRM_ERR (*out NULL) otherwise.
 */
int nrm_diag_text_value(struct nrm_diag *d, const char *file, const char *path,
    const cJSON *v, size_t max, bool lines, char **out);

#endif /* NRM_DIAG_H */
