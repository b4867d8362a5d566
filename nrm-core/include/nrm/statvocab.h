/*
 * statvocab.h - the vocabulary of the statistics: the measures, the
 * dimensions each may be broken down by, and the reporting periods
 * (docs/statistics.md).  One list, read by nrmd's /v1/statistics and
 * by the indicators register, so a name means the same everywhere;
 * sql/api/75_statistics.sql repeats it as the SQL that computes it.
 *
 * Contract: pure (no I/O, no allocation); the tables are constant.
 *
 * Measures (kind; the period is that of the event named), and the
 * dimensions each allows:
 *
 *  measure                     kind      event dated by
 *  --------------------------  --------  ------------------------------
 *  signals                     count     signal received
 *  anonymous_notifications     count     signal received (adult, no
 *                                        consent: notification only)
 *  cases                       count     case created
 *  cases_taken_in_time         count     case created (first take at or
 *                                        before the take deadline set
 *                                        when the case was routed)
 *  time_to_take                duration  case created (signal received
 *                                        to first take; median, p90 s)
 *  escalations                 count     escalation to the national desk
 *                                        (take deadline missed)
 *  first_contact_escalations   count     escalation to the national desk
 *                                        (first-contact deadline missed)
 *  transfers                   count     transfer (history entry)
 *  closures                    count     closure (history entry)
 *  identification_decisions    count     decision's date (decided_on)
 *  time_initial_to_conclusive  duration  first conclusive decision's
 *                                        date (from the first initial
 *                                        decision's date; median, p90 s)
 *  repeat_signals              count     signal received (same pseudonym
 *                                        as a signal of the 12 months
 *                                        before)
 *  notifications_became_case   count     the first later signal with a
 *                                        case that cited the anonymous
 *                                        notification's reference (the
 *                                        notification's own facts)
 *  emergency_reads             count     the break-glass read's audit
 *                                        event (auditors may read it)
 *  panel_decisions             count     the panel's decision (issue 19)
 *  time_to_panel_decision      duration  the panel's decision (from its
 *                                        referral; median, p90 s)
 *
 *  dimension          values (from)
 *  -----------------  ------------------------------------------------
 *  region             VR01..VR25, NATIONAL: the region the signal was
 *                     routed to; for escalations and transfers the
 *                     region the case left, for closures the region
 *                     that closed it
 *  exploitation       the one type of the signal, or "multiple"
 *  reporter_kind      the reporting agency's kind (police, ngo, ...)
 *  minor              true / false
 *  age_band           0_11, 12_17, 18_24, 25_34, 35_49, 50_plus, unknown
 *  gender             female, male, non_binary, other, unknown
 *  nationality_group  nl, eu_eea (other EU/EEA), other, unknown
 *  priority           urgent, high, normal (cases only)
 *  outcome            positive, negative, pending (identification)
 *  reason             the closure reason code
 *  stage              initial, conclusive, reconsideration
 *  verdict            justified, unjustified, pending (review of an
 *                     emergency read)
 *  investigation      none, exists: whether an investigation record
 *                     (invest.record) for the case or its signal was
 *                     created on or before the decision's day; only its
 *                     existence is read (docs/separation.md)
 *  model              panel, single: who decided (the profile's model)
 *  dissent            none, some: whether a vote went against the
 *                     panel's decision
 *
 *  allowed:     reg expl rep min age gen nat pri out rea sta ver inv mod dis
 *  signals       x   x    x   x   x   x   x   .   .   .   .   .   .   .   .
 *  anonymous_n.  x   x    x   .   x   x   x   .   .   .   .   .   .   .   .
 *  cases         x   x    x   x   x   x   x   x   .   .   .   .   .   .   .
 *  cases_t_i_t.  x   x    x   x   x   x   x   x   .   .   .   .   .   .   .
 *  time_to_take  x   x    x   x   .   .   .   x   .   .   .   .   .   .   .
 *  escalations   x   x    x   x   .   .   .   x   .   .   .   .   .   .   .
 *  first_c._esc. x   x    x   x   .   .   .   x   .   .   .   .   .   .   .
 *  transfers     x   x    x   x   .   .   .   x   .   .   .   .   .   .   .
 *  closures      x   x    x   x   .   .   .   x   .   x   .   .   .   .   .
 *  ident._dec.   x   x    .   x   x   x   x   .   x   .   x   .   x   .   .
 *  time_i_to_c.  x   x    .   x   .   .   .   .   x   .   .   .   .   .   .
 *  repeat_sig.   x   x    x   x   .   .   .   .   .   .   .   .   .   .   .
 *  notif._case.  x   x    x   .   x   x   x   .   .   .   .   .   .   .   .
 *  emergency_r.  x   .    .   .   .   .   .   .   .   .   .   x   .   .   .
 *  panel_dec.    x   x    .   x   .   .   .   .   x   .   .   .   .   x   x
 *  time_to_p_d.  x   x    .   x   .   .   .   .   x   .   .   .   .   x   .
 *
 * Why not more: minor is constant for anonymous notifications (adults
 * only); priority exists for cases only; a duration is a median over at
 * least the suppression threshold of cases, so its tables stay coarse;
 * an emergency read is about a case but the audit event is what is
 * counted, so only the case's region and the verdict apply.  The
 * identification outcome of time_initial_to_conclusive is the
 * conclusive decision's.  investigation exists for identification
 * decisions only: it is what the decoupling indicator counts (a
 * decision with no investigation record), read as existence alone.
 * model and dissent exist for panel decisions only (a panel's members,
 * reasons and rationales are never counted).
 */
#ifndef NRM_STATVOCAB_H
#define NRM_STATVOCAB_H

#include "nrm/nrm.h"

enum nrm_stat_kind {
	NRM_STAT_COUNT, /* a number of events */
	NRM_STAT_DURATION, /* median and p90 of durations, in seconds */
};

enum nrm_stat_dim {
	NRM_STAT_DIM_REGION,
	NRM_STAT_DIM_EXPLOITATION,
	NRM_STAT_DIM_REPORTER_KIND,
	NRM_STAT_DIM_MINOR,
	NRM_STAT_DIM_AGE_BAND,
	NRM_STAT_DIM_GENDER,
	NRM_STAT_DIM_NATIONALITY_GROUP,
	NRM_STAT_DIM_PRIORITY,
	NRM_STAT_DIM_OUTCOME,
	NRM_STAT_DIM_REASON,
	NRM_STAT_DIM_STAGE,
	NRM_STAT_DIM_VERDICT,
	NRM_STAT_DIM_INVESTIGATION,
	NRM_STAT_DIM_MODEL,
	NRM_STAT_DIM_DISSENT,
	NRM_STAT_DIM__COUNT
};

/* Most dimensions one table is broken down by. */
#define NRM_STAT_BY_MAX 2

struct nrm_stat_measure {
	const char *name;
	enum nrm_stat_kind kind;
	uint32_t dims; /* bit 1u << dim for each dimension allowed */
	bool auditor; /* the auditor role may read it (else analyst only) */
};

/* The measures, in the order of the table above. */
extern const struct nrm_stat_measure nrm_stat_measures[];
extern const size_t nrm_stat_measure_count;

/* The dimensions' wire names, indexed by enum nrm_stat_dim. */
extern const char *const nrm_stat_dim_names[NRM_STAT_DIM__COUNT];

/* The measure named `name` (exact), or NULL when unknown or NULL. */
const struct nrm_stat_measure *nrm_stat_measure_find(const char *name);

/* The dimension named `name` (exact), or -1 when unknown or NULL. */
int nrm_stat_dim_find(const char *name);

/* Whether measure m may be broken down by dimension dim. */
bool nrm_stat_measure_allows(const struct nrm_stat_measure *m, int dim);

/*
 * The `by` parameter: NULL or "" (no breakdown), one dimension name or
 * two distinct ones separated by one comma, each allowed for m.  Fills
 * dims[0..*n) in the given order.  On NRM_ERR *err names the field
 * "by" (a 400) and says which rule failed, never echoing the text.
 */
int nrm_stat_by_parse(const struct nrm_stat_measure *m, const char *text,
    int dims[NRM_STAT_BY_MAX], int *n, struct nrm_error *err) NRM_MUSTCHECK;

enum nrm_stat_period_kind {
	NRM_STAT_PERIOD_MONTH,
	NRM_STAT_PERIOD_QUARTER,
	NRM_STAT_PERIOD_YEAR,
};

/* A calendar period in Europe/Amsterdam. */
struct nrm_stat_period {
	enum nrm_stat_period_kind kind;
	int year; /* 2000..9999 */
	int number; /* month 1..12, quarter 1..4, 0 for a year */
};

/*
 * Parse "YYYY-MM" (month 01..12), "YYYY-Qn" (n 1..4, capital Q) or
 * "YYYY", with YYYY in 2000..9999 and nothing before or after.  Any
 * other text (arbitrary from/to ranges included) is NRM_ERR and *out is
 * untouched.
 */
int nrm_stat_period_parse(
    const char *text, struct nrm_stat_period *out) NRM_MUSTCHECK;

/*
 * Write the canonical text of p ("2026-11", "2026-Q4", "2026") into
 * buf[size]; NRM_ERR when p is out of range or size is too small.
 */
int nrm_stat_period_format(
    const struct nrm_stat_period *p, char *buf, size_t size) NRM_MUSTCHECK;

#endif /* NRM_STATVOCAB_H */
