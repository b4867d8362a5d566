/*
 * indicators.h - the indicators register (config/indicators.json,
 * docs/indicators.md): what nrm monitors, computed from which measure
 * and breakdown of the statistics (statvocab.h), in which unit, how,
 * when and by whom, and the programme goal each informs.
 *
 * nrm_indicators_load() checks the whole text at once and reports every
 * problem with its path ("indicators[3].by[1]: measure time_to_take
 * cannot be broken down by gender ...") into a struct nrm_diag, as the
 * routing loader does: the strict JSON reader (unknown and duplicate
 * keys), bad and duplicate ids, missing Dutch or English texts, unknown
 * measures and dimensions, a dimension the measure does not allow, more
 * than NRM_STAT_BY_MAX dimensions, a unit that does not fit the
 * measure's kind, a bad publication schedule.
 *
 * A register is immutable once loaded: nrmd swaps the pointer on reload
 * and frees the old one.  Pure: no I/O; the caller reads the file.
 * Configuration text holds no personal data, so messages may quote it
 * (cut to a few dozen bytes).
 */
#ifndef NRM_INDICATORS_H
#define NRM_INDICATORS_H

#include "nrm/diag.h"
#include "nrm/nrm.h"
#include "nrm/statvocab.h"

#define NRM_IND_FILE "indicators.json" /* the file name in diagnostics */
#define NRM_IND_MAX 200 /* indicators in one register */
#define NRM_IND_ID_MAX 63 /* bytes of an id */
#define NRM_IND_TITLE_MAX 200 /* bytes of a title, per language */
#define NRM_IND_TEXT_MAX 4000 /* bytes of a definition, how or goal */
#define NRM_IND_BODY_MAX 200 /* bytes of by_whom */
#define NRM_IND_DAYS_MAX 366 /* publish_days_after_close */

/* The two languages of every text, in this order: "nl", "en". */
enum nrm_ind_lang {
	NRM_IND_NL = 0,
	NRM_IND_EN,
	NRM_IND_LANGS
};

/* One indicator; strings are NUL-terminated UTF-8 owned by the register. */
struct nrm_indicator {
	char id[NRM_IND_ID_MAX + 1]; /* lower_snake */
	char *title[NRM_IND_LANGS];
	char *definition[NRM_IND_LANGS];
	const struct nrm_stat_measure *measure; /* statvocab's row */
	int by[NRM_STAT_BY_MAX]; /* enum nrm_stat_dim, in the given order */
	int n_by;
	char by_text[64]; /* "stage,outcome": the statistics' `by` */
	char *how[NRM_IND_LANGS]; /* source and method, suppression */
	enum nrm_stat_period_kind frequency;
	int publish_days; /* days after the period closes */
	char *by_whom; /* the body responsible */
	char *goal[NRM_IND_LANGS]; /* the programme goal it informs */
	char *json; /* the register entry as the API shows it */
};

struct nrm_indicators; /* opaque */

/*
 * Load a register from text[0..len).  Every error and warning is
 * appended to `diag` (file NRM_IND_FILE).  Returns NRM_OK and a new
 * register in *out (free it with nrm_indicators_free) when there is no
 * error; otherwise NRM_ERR and *out NULL.  Out of memory is an error
 * too.
 */
int nrm_indicators_load(struct nrm_indicators **out, const char *text,
    size_t len, struct nrm_diag *diag) NRM_MUSTCHECK;

/* Free a register (NULL is fine). */
void nrm_indicators_free(struct nrm_indicators *r);

/* How many indicators; the i-th (0 <= i < n) in file order. */
int nrm_indicators_count(const struct nrm_indicators *r);
const struct nrm_indicator *nrm_indicators_at(
    const struct nrm_indicators *r, int i);

/* The indicator with this id, or NULL (also for a NULL id). */
const struct nrm_indicator *nrm_indicators_find(
    const struct nrm_indicators *r, const char *id);

/*
 * GET /v1/indicators's body, rendered at load: {"items": [entry, ...]}
 * where each entry is {"id", "title": {"nl", "en"}, "definition",
 * "measure", "by": [...], "unit", "how", "when": {"frequency",
 * "publish_days_after_close"}, "by_whom", "goal"} (nrm_indicator.json).
 */
const char *nrm_indicators_list_json(const struct nrm_indicators *r);

/* "count" or "seconds": the unit a measure of this kind must declare. */
const char *nrm_indicator_unit_name(enum nrm_stat_kind kind);

/* "month", "quarter" or "year". */
const char *nrm_indicator_frequency_name(enum nrm_stat_period_kind kind);

#endif /* NRM_INDICATORS_H */
