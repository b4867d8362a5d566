/*
 * statlabel.h - the words for the statistics' codes: each category of
 * each dimension (statvocab.h), each reporting frequency and each unit,
 * in Dutch and in English.  One table, read by the published report
 * (nrmd's publications) and sent to the console with an indicator's
 * values, so a reader never sees a raw code such as "kmar" or
 * "no_indication_of_trafficking" where a word belongs.
 *
 * Contract: pure (no I/O, no allocation); the table is constant.  A
 * code without a word (a region code, a category added to the SQL but
 * not here) has no label: callers show the code itself; the e2e tests
 * check that every category the statistics answer with has one.
 */
#ifndef NRM_STATLABEL_H
#define NRM_STATLABEL_H

#include "nrm/nrm.h"

enum nrm_stat_lang {
	NRM_STAT_NL,
	NRM_STAT_EN,
};

/*
 * The word for category `value` of dimension `dim` (wire names), or
 * NULL when there is none (region codes, unknown names, NULL).
 */
const char *nrm_stat_label(
    const char *dim, const char *value, enum nrm_stat_lang lang);

/*
 * The word for a frequency ("month", "quarter", "year") or a unit
 * ("count", "seconds"): the same table under the pseudo-dimensions
 * "frequency" and "unit".  NULL when unknown.
 */
#define nrm_stat_frequency_label(f, lang) \
	nrm_stat_label("frequency", (f), (lang))
#define nrm_stat_unit_label(u, lang) nrm_stat_label("unit", (u), (lang))

/*
 * Walk the table: calls cb(dim, value, nl, en, arg) for every entry of
 * dimension `dim` (every entry when dim is NULL), in table order.
 */
typedef void (*nrm_stat_label_cb)(const char *dim, const char *value,
    const char *nl, const char *en, void *arg);
void nrm_stat_label_each(const char *dim, nrm_stat_label_cb cb, void *arg);

#endif /* NRM_STATLABEL_H */
