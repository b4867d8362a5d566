/*
 * pubrender.c - a publication as CSV or as an HTML report with SVG bar
 * charts (see pubrender.h).
 */
#include "pubrender.h"

#include "nrm/statlabel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The chart, in SVG units: each category's words on a line above its
 * bar, one line per dimension, so that it stays readable when a phone
 * scales it to its width (the console's chart, web/js/screens/stats.js,
 * is drawn the same way).  The text is the page's size: at 375 px the
 * chart is scaled to about 0.85, its text to about 14 px.
 */
#define PR_BAR_W 260 /* the longest bar */
#define PR_CHART_W (PR_BAR_W + 130) /* and the value after it */
#define PR_FONT 16 /* labels and values */
#define PR_LINE 20 /* a label line */
#define PR_ROW_H(lines) ((lines)*PR_LINE + 24) /* label lines, a bar */

/* A JSON member as text into buf ("" when absent or null). */
static const char *
pr_text(const cJSON *v, char *buf, size_t size)
{
	buf[0] = '\0';
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsTrue(v))
		return "true";
	if (cJSON_IsFalse(v))
		return "false";
	if (cJSON_IsNumber(v))
		snprintf(buf, size, "%.0f", v->valuedouble);
	return buf;
}

static const cJSON *
pr_get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* One CSV field, quoted when it holds a comma, quote, CR or LF. */
static void
pr_csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

/* A cell's dimension names and categories, in the table's `by` order. */
static void
pr_dims(const cJSON *by, const cJSON *cell, const char *name[2],
    const char *cat[2], char buf[2][32])
{
	for (int i = 0; i < 2; i++) {
		const cJSON *d = cJSON_GetArrayItem(by, i);

		name[i] = cJSON_IsString(d) ? d->valuestring : "";
		cat[i] = cJSON_IsString(d)
		    ? pr_text(pr_get(cell, d->valuestring), buf[i], 32)
		    : "";
	}
}

/* The value, p90 and whether suppressed, of a cell, as text. */
static bool
pr_value(const cJSON *cell, char v[32], char p90[32])
{
	const cJSON *val = pr_get(cell, "value");
	bool hidden = cJSON_IsTrue(pr_get(cell, "suppressed"));

	v[0] = p90[0] = '\0';
	if (hidden)
		return true;
	if (cJSON_IsObject(val)) {
		pr_text(pr_get(val, "median"), v, 32);
		pr_text(pr_get(val, "p90"), p90, 32);
	} else {
		pr_text(val, v, 32);
	}
	return false;
}

static void
pr_csv(FILE *f, const cJSON *pub)
{
	static const char *const head[] = {"indicator_id", "period",
	    "dimension_1", "category_1", "dimension_2", "category_2", "unit",
	    "value", "p90", "suppressed"};
	const cJSON *content = pr_get(pub, "content"), *ind, *cell;
	char pbuf[32];
	const char *period;

	for (size_t i = 0; i < NRM_ARRAY_LEN(head); i++)
		pr_csv_field(f, head[i], i + 1 == NRM_ARRAY_LEN(head));
	period = pr_text(pr_get(pub, "period"), pbuf, sizeof(pbuf));
	cJSON_ArrayForEach (ind, pr_get(content, "indicators")) {
		const cJSON *values = pr_get(ind, "values");
		char idb[32], unitb[32];
		const char *id = pr_text(pr_get(ind, "id"), idb, sizeof(idb));
		const char *unit =
		    pr_text(pr_get(values, "unit"), unitb, sizeof(unitb));

		cJSON_ArrayForEach (cell, pr_get(values, "cells")) {
			const char *name[2], *cat[2];
			char buf[2][32], v[32], p90[32];
			bool hidden = pr_value(cell, v, p90);

			pr_dims(pr_get(values, "by"), cell, name, cat, buf);
			pr_csv_field(f, id, false);
			pr_csv_field(f, period, false);
			pr_csv_field(f, name[0], false);
			pr_csv_field(f, cat[0], false);
			pr_csv_field(f, name[1], false);
			pr_csv_field(f, cat[1], false);
			pr_csv_field(f, unit, false);
			pr_csv_field(f, v, false);
			pr_csv_field(f, p90, false);
			pr_csv_field(f, hidden ? "true" : "false", true);
		}
	}
}

/* Text with &, <, >, " escaped. */
static void
pr_html(FILE *f, const char *s)
{
	static const char special[] = "&<>\"";
	static const char *const entity[] = {"&amp;", "&lt;", "&gt;", "&quot;"};

	for (; s != NULL && *s; s++) {
		const char *p = strchr(special, *s);

		if (p != NULL)
			fputs(entity[p - special], f);
		else
			fputc(*s, f);
	}
}

/* The language's string of an {"nl", "en"} member (or the string). */
static const char *
pr_lang(const cJSON *v, bool en)
{
	const cJSON *s;

	if (cJSON_IsString(v))
		return v->valuestring;
	s = pr_get(v, en ? "en" : "nl");
	return cJSON_IsString(s) ? s->valuestring : "";
}

/*
 * A cell's label in words, one part per dimension (part[1] "" for one
 * dimension; "total" for none).
 */
static void
pr_label_parts(const cJSON *by, const cJSON *cell, bool en, const char *part[2],
    char buf[2][32])
{
	const char *name[2];

	pr_dims(by, cell, name, part, buf);
	if (part[0][0] == '\0') {
		part[0] = en ? "total" : "totaal";
		part[1] = "";
		return;
	}
	for (int i = 0; i < 2; i++) {
		const char *w = nrm_stat_label(
		    name[i], part[i], en ? NRM_STAT_EN : NRM_STAT_NL);

		if (w != NULL)
			part[i] = w;
	}
}

/* A cell's label on one line: its words joined by " / ". */
static void
pr_label(const cJSON *by, const cJSON *cell, bool en, char *out, size_t n)
{
	const char *part[2];
	char buf[2][32];

	pr_label_parts(by, cell, en, part, buf);
	if (part[1][0] == '\0')
		snprintf(out, n, "%s", part[0]);
	else
		snprintf(out, n, "%s / %s", part[0], part[1]);
}

/* The word for a frequency or unit code (the code when it has none). */
static const char *
pr_word(const char *dim, const char *code, bool en)
{
	const char *w =
	    nrm_stat_label(dim, code, en ? NRM_STAT_EN : NRM_STAT_NL);

	return w != NULL ? w : code;
}

/* One indicator: heading, definition, how/when/by whom, chart, table. */
static void
pr_indicator(FILE *f, const cJSON *ind, bool en, int k)
{
	const cJSON *values = pr_get(ind, "values"), *cell;
	const cJSON *by = pr_get(values, "by"), *when = pr_get(ind, "when");
	double max = 1;
	int n = 0, row = 0;
	/* a label line per dimension (none: "total", one line) */
	int lines = cJSON_GetArraySize(by) > 1 ? 2 : 1;
	char buf[64], v[32], p90[32], label[160];
	const char *supp = en ? "suppressed (&lt; " : "onderdrukt (&lt; ";

	cJSON_ArrayForEach (cell, pr_get(values, "cells")) {
		n++;
		if (!pr_value(cell, v, p90) && v[0] != '\0' && atof(v) > max)
			max = atof(v);
	}
	fprintf(
	    f, "<section class=\"report-indicator\" id=\"ind-%d\">\n<h2>", k);
	pr_html(f, pr_lang(pr_get(ind, "title"), en));
	fputs("</h2>\n<p>", f);
	pr_html(f, pr_lang(pr_get(ind, "definition"), en));
	fprintf(f, "</p>\n<dl class=\"report-meta\"><dt>%s</dt><dd>",
	    en ? "How" : "Hoe");
	pr_html(f, pr_lang(pr_get(ind, "how"), en));
	fprintf(f, "</dd><dt>%s</dt><dd>", en ? "When" : "Wanneer");
	pr_html(f,
	    pr_word("frequency",
		pr_text(pr_get(when, "frequency"), buf, sizeof(buf)), en));
	fprintf(f, ", %s ", en ? "day" : "dag");
	pr_html(f,
	    pr_text(
		pr_get(when, "publish_days_after_close"), buf, sizeof(buf)));
	fprintf(f, "</dd><dt>%s</dt><dd>", en ? "By whom" : "Door wie");
	pr_html(f, pr_lang(pr_get(ind, "by_whom"), en));
	fputs("</dd></dl>\n", f);

	/*
	 * The chart: one bar per cell, its number beside it, the label's
	 * parts above it, one line each.
	 */
	fprintf(f,
	    "<svg class=\"report-chart\" role=\"img\" "
	    "aria-labelledby=\"chart-%d\" viewBox=\"0 0 %d %d\" width=\"%d\" "
	    "height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">"
	    "<title id=\"chart-%d\">",
	    k, PR_CHART_W, n * PR_ROW_H(lines) + 4, PR_CHART_W,
	    n * PR_ROW_H(lines) + 4, k);
	pr_html(f, pr_lang(pr_get(ind, "title"), en));
	fprintf(f, " (%s)</title>\n",
	    en ? "the numbers are in the table below"
	       : "de getallen staan in de tabel hieronder");
	cJSON_ArrayForEach (cell, pr_get(values, "cells")) {
		bool hidden = pr_value(cell, v, p90);
		int y = row * PR_ROW_H(lines) + 2,
		    bar = y + lines * PR_LINE + 3;
		int w = hidden || v[0] == '\0'
		    ? 0
		    : (int)(atof(v) / max * PR_BAR_W);
		const char *part[2];
		char pbuf[2][32];

		pr_label_parts(by, cell, en, part, pbuf);
		for (int i = 0; i < lines; i++) {
			fprintf(f,
			    "<text x=\"0\" y=\"%d\" font-size=\"%d\" "
			    "fill=\"#000\">",
			    y + 15 + i * PR_LINE, PR_FONT);
			pr_html(f, part[i]);
			fputs(i + 1 < lines ? " /</text>" : "</text>", f);
		}
		fprintf(f,
		    "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"14\" "
		    "fill=\"#01689b\"/><text x=\"%d\" y=\"%d\" "
		    "font-size=\"%d\" fill=\"#000\">",
		    bar, w, w + 6, bar + 13, PR_FONT);
		if (hidden)
			fprintf(f, "%s%.0f)", supp,
			    pr_get(values, "min_cell") != NULL
				? pr_get(values, "min_cell")->valuedouble
				: 10.0);
		else
			pr_html(f, v[0] != '\0' ? v : "-");
		fputs("</text>\n", f);
		row++;
	}
	fputs("</svg>\n<table class=\"utrecht-table\"><caption>", f);
	pr_html(f, pr_lang(pr_get(ind, "title"), en));
	fprintf(f,
	    "</caption>\n<thead><tr><th scope=\"col\">%s</th>"
	    "<th scope=\"col\">%s (",
	    en ? "Category" : "Categorie", en ? "Value" : "Waarde");
	pr_html(f,
	    pr_word(
		"unit", pr_text(pr_get(values, "unit"), buf, sizeof(buf)), en));
	fputs(")</th></tr></thead>\n<tbody>\n", f);
	cJSON_ArrayForEach (cell, pr_get(values, "cells")) {
		bool hidden = pr_value(cell, v, p90);

		pr_label(by, cell, en, label, sizeof(label));
		fputs("<tr><th scope=\"row\">", f);
		pr_html(f, label);
		fputs("</th><td>", f);
		if (hidden)
			fprintf(f, "%s%.0f)", supp,
			    pr_get(values, "min_cell") != NULL
				? pr_get(values, "min_cell")->valuedouble
				: 10.0);
		else if (p90[0] != '\0')
			fprintf(f, "%s %s, p90 %s", en ? "median" : "mediaan",
			    v, p90);
		else
			pr_html(f, v[0] != '\0' ? v : "-");
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n</section>\n", f);
}

static void
pr_report(FILE *f, const cJSON *pub, bool en)
{
	const cJSON *ind;
	char pbuf[32], rbuf[32], buf[64];
	const char *period = pr_text(pr_get(pub, "period"), pbuf, sizeof(pbuf));
	const char *rev = pr_text(pr_get(pub, "revision"), rbuf, sizeof(rbuf));
	int k = 0;

	fprintf(f,
	    "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<link rel=\"icon\" "
	    "href=\"/img/favicon.svg\" type=\"image/svg+xml\">\n<title>%s ",
	    en ? "en" : "nl", en ? "Indicators" : "Indicatoren");
	pr_html(f, period);
	fputs("</title>\n<link rel=\"stylesheet\" href=\"/css/utrecht.css\">\n"
	      "<link rel=\"stylesheet\" href=\"/css/console.css\">\n</head>\n"
	      "<body class=\"utrecht-document report\">\n<main>\n<h1>",
	    f);
	fprintf(f, "%s ",
	    en ? "Monitoring indicators of the national referral mechanism,"
	       : "Monitoringsindicatoren van het nationaal "
		 "verwijsmechanisme,");
	pr_html(f, period);
	fprintf(f, "</h1>\n<p>%s ", en ? "Revision" : "Revisie");
	pr_html(f, rev);
	fprintf(f, ", %s ", en ? "published" : "gepubliceerd");
	pr_html(f, pr_text(pr_get(pub, "created_at"), buf, sizeof(buf)));
	fprintf(f, ". %s <code>", en ? "Content SHA-256:" : "SHA-256 inhoud:");
	pr_html(f, pr_text(pr_get(pub, "content_sha256"), buf, sizeof(buf)));
	fprintf(f, "</code> (%s <code>nrmctl publication verify</code>).</p>\n",
	    en ? "signed with the audit key; check with"
	       : "ondertekend met de auditsleutel; controleer met");
	if (cJSON_IsString(pr_get(pub, "changes"))) {
		fprintf(f, "<h2>%s</h2>\n<pre>",
		    en ? "Changes from the previous revision"
		       : "Wijzigingen ten opzichte van de vorige revisie");
		pr_html(f, pr_get(pub, "changes")->valuestring);
		fputs("</pre>\n", f);
	}
	cJSON_ArrayForEach (ind, pr_get(pr_get(pub, "content"), "indicators"))
		pr_indicator(f, ind, en, ++k);
	fputs("</main>\n</body>\n</html>\n", f);
}

int
nrm_pub_render(
    const cJSON *pub, const struct nrm_pub_render *how, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);

	if (f == NULL)
		return NRM_ERR;
	if (how->format == NRM_PUB_CSV)
		pr_csv(f, pub);
	else
		pr_report(f, pub, how->english);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return NRM_ERR;
	}
	return NRM_OK;
}
