/*
 * role.h - the roles of an API key: bit flags for the daemon's checks
 * and their wire names, the one list nrmd's principal cache and nrmctl's
 * key commands read.
 *
 * Contract: pure; role k is the bit 1u << k and is named
 * nrm_role_names[k].
 */
#ifndef NRM_ROLE_H
#define NRM_ROLE_H

#include "nrm/nrm.h"

enum nrm_role {
	NRM_ROLE_REPORTER = 1u << 0,
	NRM_ROLE_COORDINATOR = 1u << 1,
	NRM_ROLE_ASSESSOR = 1u << 2,
	NRM_ROLE_INVESTIGATOR = 1u << 3,
	NRM_ROLE_AUDITOR = 1u << 4,
	NRM_ROLE_ANALYST = 1u << 5,
	NRM_ROLE_ADMIN = 1u << 6,
	/* national, live counts only: never a case id or personal data */
	NRM_ROLE_CHAIN_DIRECTOR = 1u << 7,
	/* national: a data subject's export, rectification, erasure */
	NRM_ROLE_PRIVACY_OFFICER = 1u << 8,
};
#define NRM_ROLE_COUNT 9

/* "reporter", "coordinator", ...: indexed by the bit's position. */
extern const char *const nrm_role_names[NRM_ROLE_COUNT];

/* The role named `name` (wire name, exact); 0 when unknown or NULL. */
enum nrm_role nrm_role_parse(const char *name);

#endif /* NRM_ROLE_H */
