/*
 * webroot.h - the console's static tree (web_root, built by `make web`)
 * held in memory: a table from URL path to the file's bytes, its
 * precompressed .gz twin, its content type and its ETag.
 *
 * Contract: nrm_webroot_load() reads the whole directory once (start-up
 * and reload) and afterwards nothing touches the filesystem; a request
 * path is only ever compared with the table's keys byte for byte, never
 * used to build a file name.  The keys are "/" + the file's path under
 * the root, made of [A-Za-z0-9._-] segments that do not start with '.';
 * files with another name, symbolic links, unknown extensions and
 * anything beyond the limits below are left out (logged at debug).
 * "X.gz" is stored as the compressed twin of "X", never as a file.
 *
 * The table is immutable once loaded: the daemon swaps a fresh one in on
 * reload and frees the old one between two events (single-threaded
 * loop, and a reply copies the bytes it sends).
 */
#ifndef NRM_WEBROOT_H
#define NRM_WEBROOT_H

#include "nrm/nrm.h"

#include <stddef.h>

#define NRM_WEBROOT_MAX_FILES 4096
#define NRM_WEBROOT_MAX_FILE (16u << 20) /* bytes, each file */
#define NRM_WEBROOT_MAX_TOTAL (128u << 20) /* bytes, all files */
#define NRM_WEBROOT_MAX_DEPTH 8

struct nrm_webfile {
	char *path; /* URL path, "/css/utrecht.css" */
	unsigned char *data;
	size_t len;
	unsigned char *gz; /* the .gz twin, or NULL */
	size_t gz_len;
	const char *ctype; /* "text/css; charset=utf-8", ... */
	char etag[68]; /* "\"" + hex SHA-256 of data + "\"" */
	char etag_gz[71]; /* the same with "-gz" before the closing quote */
};

struct nrm_webroot;

/*
 * Load the tree under `dir`.  NRM_ERR with err->field "web_root" when the
 * directory cannot be read or a limit is passed; an empty directory is
 * an empty table.  The caller frees *out with nrm_webroot_free().
 */
int nrm_webroot_load(struct nrm_webroot **out, const char *dir,
    struct nrm_error *err) NRM_MUSTCHECK;

/* The file at URL path `path` (exact match), or NULL. */
const struct nrm_webfile *nrm_webroot_find(
    const struct nrm_webroot *w, const char *path);

/* How many files, and their bytes (uncompressed), for the start-up log. */
size_t nrm_webroot_count(const struct nrm_webroot *w);
size_t nrm_webroot_bytes(const struct nrm_webroot *w);

/* The content type nrmd serves for a file name, or NULL (not served). */
const char *nrm_webroot_ctype(const char *name);

void nrm_webroot_free(struct nrm_webroot *w);

/*
 * True when an Accept-Encoding value (NULL: absent) admits gzip: "gzip"
 * or "x-gzip", or "*" when gzip is not named, with a q-value above zero.
 */
bool nrm_webroot_accepts_gzip(const char *accept_encoding);

/*
 * True when an If-None-Match value (NULL: absent) is "*" or names the
 * entity tag `a` or `b` (quoted, as stored; weak comparison: a W/ prefix
 * is ignored).  A malformed list matches nothing from where it breaks.
 */
bool nrm_webroot_etag_match(
    const char *if_none_match, const char *a, const char *b);

#endif /* NRM_WEBROOT_H */
