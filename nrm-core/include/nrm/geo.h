/*
 * geo.h - the map from municipality to care region.
 *
 * Built from the text of a CSV file with the header
 *   municipality_code,municipality_name,safety_region_code,safety_region_name
 * (RFC 4180 quoting allowed, UTF-8, LF or CRLF line ends).  The caller
 * reads the file; this module only parses text, so it stays pure.
 *
 * Lookups are O(1): a municipality code GMnnnn indexes a table
 * directly.  An nrm_geo is immutable once built and may be shared
 * read-only by any number of readers.
 */
#ifndef NRM_GEO_H
#define NRM_GEO_H

#include "nrm/nrm.h"

#define NRM_REGION_NATIONAL "NATIONAL"

struct nrm_region {
	char code[16]; /* "VR13", or NRM_REGION_NATIONAL */
	char *name;
	int n_municipalities;
};

struct nrm_municipality {
	char code[8]; /* "GM0363" */
	char *name;
	const struct nrm_region *region;
};

struct nrm_geo;

/*
 * Parse CSV text into a new map (*out, released with nrm_geo_free()).
 * Refuses, with err->field "line N" and a detail: a wrong header, a
 * malformed code, a duplicate municipality, one region code with two
 * names, an empty file.  The national desk region always exists in the
 * result, with no municipalities.
 */
int nrm_geo_parse_csv(struct nrm_geo **out, const char *text, size_t len,
    struct nrm_error *err) NRM_MUSTCHECK;

void nrm_geo_free(struct nrm_geo *geo);

/* The municipality with this code, or NULL (also for malformed codes). */
const struct nrm_municipality *nrm_geo_municipality(
    const struct nrm_geo *geo, const char *code);

/* The region with this code (NRM_REGION_NATIONAL included), or NULL. */
const struct nrm_region *nrm_geo_region(
    const struct nrm_geo *geo, const char *code);

int nrm_geo_n_regions(const struct nrm_geo *geo);
const struct nrm_region *nrm_geo_region_at(const struct nrm_geo *geo, int i);
int nrm_geo_n_municipalities(const struct nrm_geo *geo);
const struct nrm_municipality *nrm_geo_municipality_at(
    const struct nrm_geo *geo, int i);

#endif /* NRM_GEO_H */
