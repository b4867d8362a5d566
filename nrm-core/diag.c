/*
 * diag.c - the diagnostics collector of configuration loads (see
 * diag.h).
 */
#include "nrm/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nrm/json.h"
#include "nrm/utf8.h"

#define DIAG_MESSAGE_MAX 1024

void
nrm_diag_init(struct nrm_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
nrm_diag_free(struct nrm_diag *d)
{
	int i;

	for (i = 0; i < d->n; i++) {
		free(d->entries[i].path);
		free(d->entries[i].message);
		free(d->entries[i].text);
	}
	free(d->entries);
	memset(d, 0, sizeof(*d));
}

/* Render the place and the message (see diag.h) into a new string. */
static char *
diag_render(const char *file, const char *path, const char *message)
{
	size_t n = strlen(file) + strlen(path) + strlen(message) + 8;
	char *text = malloc(n);

	if (text == NULL)
		return NULL;
	if (file[0] == '\0' && path[0] == '\0')
		snprintf(text, n, "%s", message);
	else if (path[0] == '\0')
		snprintf(text, n, "%s: %s", file, message);
	else if (file[0] == '\0')
		snprintf(text, n, "%s: %s", path, message);
	else if (strncmp(path, "line ", 5) == 0)
		snprintf(text, n, "%s %s: %s", file, path, message);
	else
		snprintf(text, n, "%s: %s: %s", file, path, message);
	return text;
}

/*
 * Count first, then try to store; an entry that cannot be stored is
 * still counted so that an error always fails the load.  The message is
 * cut at DIAG_MESSAGE_MAX bytes on a character boundary.
 */
void
nrm_diag_add(struct nrm_diag *d, enum nrm_diag_severity sev, const char *file,
    const char *path, const char *fmt, ...)
{
	struct nrm_diag_entry *e;
	char msg[DIAG_MESSAGE_MAX];
	va_list ap;
	size_t n;

	if (sev == NRM_DIAG_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n >= NRM_DIAG_KEEP)
		goto dropped;
	e = nrm_grow(d->entries, &d->cap, d->n, sizeof(*e), 16);
	if (e == NULL)
		goto dropped;
	d->entries = e;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	msg[nrm_utf8_trim(msg, n)] = '\0';
	e = &d->entries[d->n];
	memset(e, 0, sizeof(*e));
	e->severity = sev;
	snprintf(e->file, sizeof(e->file), "%s", file != NULL ? file : "");
	e->path = strdup(path != NULL ? path : "");
	e->message = strdup(msg);
	if (e->path == NULL || e->message == NULL)
		goto oom;
	e->text = diag_render(e->file, e->path, e->message);
	if (e->text == NULL)
		goto oom;
	d->n++;
	return;
oom:
	free(e->path);
	free(e->message);
dropped:
	d->n_dropped++;
}

int
nrm_diag_errors(const struct nrm_diag *d)
{
	return d->n_errors;
}

int
nrm_diag_warnings(const struct nrm_diag *d)
{
	return d->n_warnings;
}

const char *
nrm_diag_severity_name(enum nrm_diag_severity sev)
{
	return sev == NRM_DIAG_ERROR ? "error" : "warning";
}

char *
nrm_diag_text(const struct nrm_diag *d)
{
	size_t cap = 128, n = 0;
	char *out;
	int i;

	for (i = 0; i < d->n; i++)
		cap += strlen(d->entries[i].text) + 12;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < d->n; i++) {
		n += (size_t)snprintf(out + n, cap - n, "%s: %s\n",
		    nrm_diag_severity_name(d->entries[i].severity),
		    d->entries[i].text);
	}
	if (d->n_dropped > 0)
		n += (size_t)snprintf(
		    out + n, cap - n, "(%d more not shown)\n", d->n_dropped);
	snprintf(out + n, cap - n, "%d error%s, %d warning%s\n", d->n_errors,
	    d->n_errors == 1 ? "" : "s", d->n_warnings,
	    d->n_warnings == 1 ? "" : "s");
	return out;
}

char *
nrm_diag_json(const struct nrm_diag *d)
{
	cJSON *o = cJSON_CreateObject(), *arr = NULL;
	bool ok = o != NULL;
	int i;

	ok = ok && cJSON_AddNumberToObject(o, "errors", d->n_errors) != NULL;
	ok =
	    ok && cJSON_AddNumberToObject(o, "warnings", d->n_warnings) != NULL;
	ok = ok && cJSON_AddNumberToObject(o, "dropped", d->n_dropped) != NULL;
	if (ok)
		arr = cJSON_AddArrayToObject(o, "entries");
	ok = ok && arr != NULL;
	for (i = 0; ok && i < d->n; i++) {
		const struct nrm_diag_entry *e = &d->entries[i];
		cJSON *x = cJSON_CreateObject();

		ok = x != NULL && cJSON_AddItemToArray(arr, x);
		if (!ok) {
			cJSON_Delete(x);
			break;
		}
		ok = cJSON_AddStringToObject(x, "severity",
			 nrm_diag_severity_name(e->severity)) != NULL &&
		    cJSON_AddStringToObject(x, "file", e->file) != NULL &&
		    cJSON_AddStringToObject(x, "path", e->path) != NULL &&
		    cJSON_AddStringToObject(x, "message", e->message) != NULL &&
		    cJSON_AddStringToObject(x, "text", e->text) != NULL;
	}
	return nrm_json_print_take(o, ok);
}

/* Line and column (1-based, columns in bytes) of text[off]. */
static void
diag_line_col(const char *text, size_t off, int *line, int *col)
{
	size_t i, bol = 0;

	*line = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			bol = i + 1;
		}
	}
	*col = (int)(off - bol) + 1;
}

cJSON *
nrm_diag_parse_json(
    struct nrm_diag *d, const char *file, const char *text, size_t len)
{
	struct nrm_error err;
	char where[48];
	cJSON *root;
	size_t at = 0;
	int line, col;

	if (text == NULL || len == 0) {
		nrm_diag_add(d, NRM_DIAG_ERROR, file, NULL, "empty file");
		return NULL;
	}
	if (nrm_json_parse(&root, text, len, &at, &err) == NRM_OK)
		return root;
	if (err.code != NRM_E_MALFORMED) {
		nrm_diag_add(
		    d, NRM_DIAG_ERROR, file, err.field, "%s", err.detail);
		return NULL;
	}
	diag_line_col(text, at, &line, &col);
	if (strstr(err.detail, "UTF-8") != NULL)
		snprintf(where, sizeof(where), "line %d", line);
	else
		snprintf(where, sizeof(where), "line %d, column %d", line, col);
	nrm_diag_add(d, NRM_DIAG_ERROR, file, where, "%s", err.detail);
	return NULL;
}

/* Where the member reporter writes: a diag and one file. */
struct diag_at {
	struct nrm_diag *d;
	const char *file;
};

static void
diag_report(void *arg, const struct nrm_error *err)
{
	const struct diag_at *at = arg;

	nrm_diag_add(
	    at->d, NRM_DIAG_ERROR, at->file, err->field, "%s", err->detail);
}

int
nrm_diag_members(struct nrm_diag *d, const char *file, const char *path,
    const cJSON *obj, const char *const *names, int n, uint32_t required,
    const cJSON **found)
{
	struct diag_at at = {d, file};

	return nrm_json_members(
	    obj, path, names, n, required, found, diag_report, &at, NULL);
}

int
nrm_diag_text_value(struct nrm_diag *d, const char *file, const char *path,
    const cJSON *v, size_t max, bool lines, char **out)
{
	struct nrm_error err;

	*out = NULL;
	if (nrm_json_text(v, path, max, lines, out, &err) == NRM_OK)
		return NRM_OK;
	nrm_diag_add(d, NRM_DIAG_ERROR, file, err.field, "%s", err.detail);
	return NRM_ERR;
}

const char *
nrm_diag_shown(const char *s, char buf[NRM_DIAG_SHOWN_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < NRM_DIAG_SHOWN_MAX; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7F) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}
