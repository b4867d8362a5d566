/*
 * principal.h - who is calling: an API key's role, agency and regions,
 * as api.authorize reports them.  Holds no personal data of victims.
 */
#ifndef NRM_PRINCIPAL_H
#define NRM_PRINCIPAL_H

#include "nrm/nrm.h"

enum nrm_role {
	NRM_ROLE_REPORTER = 1u << 0,
	NRM_ROLE_COORDINATOR = 1u << 1,
	NRM_ROLE_ASSESSOR = 1u << 2,
	NRM_ROLE_INVESTIGATOR = 1u << 3,
	NRM_ROLE_AUDITOR = 1u << 4,
	NRM_ROLE_ANALYST = 1u << 5,
	NRM_ROLE_ADMIN = 1u << 6,
};

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
