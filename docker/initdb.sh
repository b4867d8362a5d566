#!/bin/bash
# docker/initdb.sh - first-start initialisation of the `db` service
# (postgres:15 runs /docker-entrypoint-initdb.d/*.sh once, on an empty data
# volume, as the postgres user).  Creates what scripts/pg.sh creates for a
# local cluster: the owner role that runs migrations, the daemon's login
# role, and the nrm database.  Everything else (API roles, schemas,
# grants) is made by `nrmctl migrate`, run by the `migrate` service.
set -euo pipefail

: "${NRM_OWNER_PASSWORD:?NRM_OWNER_PASSWORD is not set}"
: "${NRM_APP_PASSWORD:?NRM_APP_PASSWORD is not set}"

psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_pw="$NRM_OWNER_PASSWORD" -v app_pw="$NRM_APP_PASSWORD" <<'EOSQL'
-- nrm_owner owns the database and every object, and creates the API roles.
CREATE ROLE nrm_owner LOGIN CREATEROLE PASSWORD :'owner_pw';
-- nrm_app is nrmd's login role: member of no role, it executes only the
-- doors (SECURITY DEFINER api functions; sql/0018, sql/api/99_doors.sql).
CREATE ROLE nrm_app LOGIN NOINHERIT PASSWORD :'app_pw';
CREATE DATABASE nrm OWNER nrm_owner;
REVOKE CONNECT, TEMPORARY ON DATABASE nrm FROM PUBLIC;
GRANT CONNECT ON DATABASE nrm TO nrm_owner, nrm_app;
EOSQL
