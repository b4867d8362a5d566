/*
 * role.c - the wire names of API key roles (see role.h).
 */
#include "nrm/role.h"

const char *const nrm_role_names[NRM_ROLE_COUNT] = {
    "reporter",
    "coordinator",
    "assessor",
    "investigator",
    "auditor",
    "analyst",
    "admin",
    "chain_director",
    "privacy_officer",
};

enum nrm_role
nrm_role_parse(const char *name)
{
	int k = name != NULL
	    ? nrm_name_index(nrm_role_names, NRM_ROLE_COUNT, name)
	    : -1;

	return k < 0 ? 0 : (enum nrm_role)(1u << k);
}
