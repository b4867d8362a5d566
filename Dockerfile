# Dockerfile - nrmd and nrmctl on Debian 12.
#
# Two stages: `build` has the toolchain and the -dev packages and runs
# `make` (the same warnings-as-errors build as on a developer machine);
# the runtime image has only the shared libraries the two binaries link,
# the SQL migrations and the default configuration, and runs as an
# unprivileged user.  docker-compose.yml runs it twice: once as the
# one-shot `migrate` service (nrmctl migrate) and once as `nrmd`.
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc libc6-dev make \
      libevent-dev libpq-dev libssl-dev libcjson-dev \
      libargon2-dev libcrack2-dev libqrencode-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY nrm-core/ nrm-core/
COPY nrm-api/ nrm-api/
# the Makefile derives the schema version nrmd needs from sql/NNNN_*.sql
COPY sql/ sql/
COPY config/ config/
# bin/ only: the console tree (make web) needs Node.js, see docs/console.md
RUN make -j"$(nproc)" bin/nrmd bin/nrmctl

FROM debian:12-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libevent-core-2.1-7 libevent-extra-2.1-7 libevent-openssl-2.1-7 \
      libpq5 libssl3 libcjson1 libargon2-1 libcrack2 libqrencode4 \
      cracklib-runtime \
 && { test -r /var/cache/cracklib/cracklib_dict.pwd || update-cracklib; } \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 nrm \
 && useradd --system --uid 10001 --gid nrm --home-dir /opt/nrm \
      --shell /usr/sbin/nologin nrm
WORKDIR /opt/nrm
COPY --from=build /src/bin/nrmd /src/bin/nrmctl /usr/local/bin/
COPY config/ config/
COPY sql/ sql/
USER nrm:nrm
EXPOSE 8080 8443
# SIGTERM finishes in-flight requests (bounded by shutdown_timeout).
STOPSIGNAL SIGTERM
CMD ["nrmd", "--config", "/opt/nrm/config/nrmd.conf"]
