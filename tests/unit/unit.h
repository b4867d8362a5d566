/*
 * unit.h - what the unit tests share: their main(), a case-table walk,
 * the check of a refusal's error, a whole-file reader, a directory walk
 * and the three texts of a routing configuration.
 * Header-only (static inline), included by the test programs after
 * <cmocka.h>; paths are relative to the repository root, where
 * `make unit` runs them.
 */
#ifndef NRM_UNIT_H
#define NRM_UNIT_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrm/route.h"

/*
 * The test program's main(): run the tests given (cmocka_unit_test(...)
 * entries) as one group with its setup and teardown (NULL: none).
 */
#define UNIT_MAIN(setup, teardown, ...) \
	int main(void) \
	{ \
		const struct CMUnitTest tests[] = {__VA_ARGS__}; \
		return cmocka_run_group_tests(tests, setup, teardown); \
	}

/* Run the loop's body for each element c (a `const type *`) of table. */
#define UNIT_EACH(type, c, table) \
	for (const type *c = (table); c < (table) + NRM_ARRAY_LEN(table); c++)

/*
 * Fail the test `name` unless err has this code and field and its detail
 * contains `detail` (NULL: any detail, but not an empty one).
 */
static inline void
unit_expect_error(const char *name, const struct nrm_error *err,
    enum nrm_errcode code, const char *field, const char *detail)
{
	if (err->code != code)
		fail_msg("%s: code %s, want %s (%s: %s)", name,
		    nrm_errcode_name(err->code), nrm_errcode_name(code),
		    err->field, err->detail);
	if (strcmp(err->field, field) != 0)
		fail_msg("%s: field \"%s\", want \"%s\" (%s)", name, err->field,
		    field, err->detail);
	if (detail != NULL && strstr(err->detail, detail) == NULL)
		fail_msg("%s: detail \"%s\" lacks \"%s\"", name, err->detail,
		    detail);
	if (err->detail[0] == '\0')
		fail_msg("%s: empty detail", name);
}

/*
 * The whole file at path, malloc'd and NUL-terminated, its length in
 * *len; NULL (and *len 0) if absent.
 */
static inline char *
unit_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = -1;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf != NULL) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* Whether a directory entry is one the walk runs on. */
typedef bool (*unit_keep_cb)(const char *name);

/* Run one directory entry; what it counted. */
typedef int (*unit_entry_cb)(const char *name);

static inline int
unit_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Run each_cb on every entry of dir that keep_cb accepts, in name order
 * (at most 256).  *n receives the number of entries run; returns the sum
 * of what each_cb returned.
 */
static inline int
unit_each_entry(
    const char *dir, unit_keep_cb keep_cb, unit_entry_cb each_cb, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *names[256];
	int sum = 0;

	*n = 0;
	if (d == NULL)
		fail_msg("%s: cannot open", dir);
	while ((e = readdir(d)) != NULL) {
		if (!keep_cb(e->d_name))
			continue;
		assert_true(*n < 256);
		names[*n] = strdup(e->d_name);
		assert_non_null(names[*n]);
		(*n)++;
	}
	closedir(d);
	qsort(names, (size_t)*n, sizeof(names[0]), unit_name_cmp);
	for (int i = 0; i < *n; i++) {
		sum += each_cb(names[i]);
		free(names[i]);
	}
	return sum;
}

/* The three texts of a routing configuration, in the order of files. */
struct unit_cfg {
	char *text[3];
	size_t len[3];
};

static const char *const unit_cfg_files[3] = {
    "regions.json", "municipalities.csv", "rules.json"};

static inline void
unit_cfg_free(struct unit_cfg *c)
{
	int i;

	for (i = 0; i < 3; i++)
		free(c->text[i]);
	memset(c, 0, sizeof(*c));
}

/* Replace text i (taking `text`, which may be NULL). */
static inline void
unit_cfg_set(struct unit_cfg *c, int i, char *text)
{
	free(c->text[i]);
	c->text[i] = text;
	c->len[i] = text != NULL ? strlen(text) : 0;
}

/* The files of dir; a missing one from fallback_dir (if not NULL). */
static inline void
unit_cfg_dir(struct unit_cfg *c, const char *dir, const char *fallback_dir)
{
	char path[512];
	size_t len = 0;
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, unit_cfg_files[i]);
		unit_cfg_set(c, i, unit_read(path, &len));
		if (c->text[i] == NULL && fallback_dir != NULL) {
			snprintf(path, sizeof(path), "%s/%s", fallback_dir,
			    unit_cfg_files[i]);
			unit_cfg_set(c, i, unit_read(path, &len));
		}
		c->len[i] = c->text[i] != NULL ? len : 0;
	}
}

static inline int
unit_cfg_load(struct nrm_router **r, const struct unit_cfg *c,
    const char *version, struct nrm_diag *d)
{
	struct nrm_routing_src src = {c->text[0], c->len[0], c->text[1],
	    c->len[1], c->text[2], c->len[2], version};

	return nrm_router_load(r, &src, d);
}

#endif /* NRM_UNIT_H */
