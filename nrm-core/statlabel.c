/*
 * statlabel.c - the Dutch and English words for the statistics' codes
 * (statlabel.h).  The categories are those of stats.categories in
 * sql/api/75_statistics.sql; tests/e2e/test_indicators.py checks that
 * every category an indicator answers with has its words here.
 */
#include <string.h>

#include "nrm/statlabel.h"

struct sl_entry {
	const char *dim, *value, *nl, *en;
};

static const struct sl_entry sl_table[] = {
    {"exploitation", "sexual", "Seksuele uitbuiting", "Sexual exploitation"},
    {"exploitation", "labour", "Arbeidsuitbuiting", "Labour exploitation"},
    {"exploitation", "criminal", "Criminele uitbuiting",
	"Criminal exploitation"},
    {"exploitation", "begging", "Gedwongen bedelarij", "Forced begging"},
    {"exploitation", "forced_marriage", "Gedwongen huwelijk",
	"Forced marriage"},
    {"exploitation", "illegal_adoption", "Illegale adoptie",
	"Illegal adoption"},
    {"exploitation", "surrogacy", "Gedwongen draagmoederschap",
	"Forced surrogacy"},
    {"exploitation", "organ_removal", "Orgaanverwijdering", "Organ removal"},
    {"exploitation", "other", "Andere vorm", "Other form"},
    {"exploitation", "multiple", "Meerdere vormen", "Several forms"},
    {"reporter_kind", "police", "Politie", "Police"},
    {"reporter_kind", "kmar", "Koninklijke Marechaussee",
	"Royal Netherlands Marechaussee"},
    {"reporter_kind", "labour_inspectorate", "Arbeidsinspectie",
	"Labour Inspectorate"},
    {"reporter_kind", "care_agency", "Zorgorganisatie", "Care agency"},
    {"reporter_kind", "ngo", "Maatschappelijke organisatie",
	"Non-governmental organisation"},
    {"reporter_kind", "municipality", "Gemeente", "Municipality"},
    {"reporter_kind", "national_centre", "Landelijk centrum",
	"National centre"},
    {"reporter_kind", "assessment_body", "Beoordelingsinstantie",
	"Assessment body"},
    {"reporter_kind", "other", "Andere melder", "Other reporter"},
    {"minor", "true", "Minderjarig", "Minor"},
    {"minor", "false", "Meerderjarig", "Adult"},
    {"age_band", "0_11", "0 tot en met 11 jaar", "0 to 11 years"},
    {"age_band", "12_17", "12 tot en met 17 jaar", "12 to 17 years"},
    {"age_band", "18_24", "18 tot en met 24 jaar", "18 to 24 years"},
    {"age_band", "25_34", "25 tot en met 34 jaar", "25 to 34 years"},
    {"age_band", "35_49", "35 tot en met 49 jaar", "35 to 49 years"},
    {"age_band", "50_plus", "50 jaar en ouder", "50 years and over"},
    {"age_band", "unknown", "Leeftijd onbekend", "Age unknown"},
    {"gender", "female", "Vrouw", "Female"},
    {"gender", "male", "Man", "Male"},
    {"gender", "non_binary", "Non-binair", "Non-binary"},
    {"gender", "other", "Ander gender", "Other gender"},
    {"gender", "unknown", "Gender onbekend", "Gender unknown"},
    {"nationality_group", "nl", "Nederlands", "Dutch"},
    {"nationality_group", "eu_eea", "Andere EU/EER", "Other EU/EEA"},
    {"nationality_group", "other", "Buiten de EU/EER", "Outside the EU/EEA"},
    {"nationality_group", "unknown", "Nationaliteit onbekend",
	"Nationality unknown"},
    {"priority", "urgent", "Spoed", "Urgent"},
    {"priority", "high", "Hoog", "High"},
    {"priority", "normal", "Normaal", "Normal"},
    {"outcome", "positive", "Positief", "Positive"},
    {"outcome", "negative", "Negatief", "Negative"},
    {"outcome", "pending", "Nog geen besluit", "Not yet decided"},
    {"reason", "victim_supported", "Slachtoffer ondersteund",
	"Victim supported"},
    {"reason", "referred_elsewhere", "Elders naar verwezen",
	"Referred elsewhere"},
    {"reason", "no_indication_of_trafficking",
	"Geen aanwijzing voor mensenhandel", "No indication of trafficking"},
    {"reason", "duplicate", "Dubbele melding", "Duplicate"},
    {"reason", "unreachable", "Niet bereikbaar", "Unreachable"},
    {"reason", "other", "Andere reden", "Other reason"},
    {"stage", "initial", "Eerste beoordeling", "Initial decision"},
    {"stage", "conclusive", "Definitieve beoordeling", "Conclusive decision"},
    {"stage", "reconsideration", "Heroverweging", "Reconsideration"},
    {"verdict", "justified", "Terecht", "Justified"},
    {"verdict", "unjustified", "Onterecht", "Unjustified"},
    {"verdict", "pending", "Nog niet beoordeeld", "Not yet reviewed"},
    {"investigation", "none", "Zonder opsporingsonderzoek", "No investigation"},
    {"investigation", "exists", "Met opsporingsonderzoek",
	"With an investigation"},
    {"frequency", "month", "maand", "month"},
    {"frequency", "quarter", "kwartaal", "quarter"},
    {"frequency", "year", "jaar", "year"},
    {"unit", "count", "aantal", "count"},
    {"unit", "seconds", "seconden", "seconds"},
};

const char *
nrm_stat_label(const char *dim, const char *value, enum nrm_stat_lang lang)
{
	if (dim == NULL || value == NULL)
		return NULL;
	for (size_t i = 0; i < NRM_ARRAY_LEN(sl_table); i++) {
		const struct sl_entry *e = &sl_table[i];

		if (strcmp(e->dim, dim) == 0 && strcmp(e->value, value) == 0)
			return lang == NRM_STAT_EN ? e->en : e->nl;
	}
	return NULL;
}

void
nrm_stat_label_each(const char *dim, nrm_stat_label_cb cb, void *arg)
{
	for (size_t i = 0; i < NRM_ARRAY_LEN(sl_table); i++) {
		const struct sl_entry *e = &sl_table[i];

		if (dim == NULL || strcmp(e->dim, dim) == 0)
			cb(e->dim, e->value, e->nl, e->en, arg);
	}
}
