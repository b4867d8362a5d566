/*
 * principal.h - who is calling: an API key's role, agency and regions,
 * as api.authorize reports them.  Holds no personal data of victims.
 */
#ifndef NRM_PRINCIPAL_H
#define NRM_PRINCIPAL_H

#include "nrm/nrm.h"
#include "nrm/role.h"

#define NRM_PRINCIPAL_MAX_REGIONS 32

struct nrm_principal {
	unsigned char token_hash[32];
	char key_id[40];
	char agency_id[40];
	enum nrm_role role;
	char agency_kind[24];
	int n_regions;
	char regions[NRM_PRINCIPAL_MAX_REGIONS][16];
	int64_t cached_ms; /* monotonic; 0: not cached */
};

#endif /* NRM_PRINCIPAL_H */
