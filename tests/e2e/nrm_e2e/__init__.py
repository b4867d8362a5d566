"""Helpers of the end-to-end suite (tests/e2e): everything but the pytest
fixtures and hooks, which stay in tests/e2e/conftest.py.

  env      paths, ports, the child environment, run(), wait_for()
  signals  the personal data the suite submits, signal builders
  api      requests to nrmd and the problem and receipt checks
  rawhttp  HTTP on a bare socket
  pg       the private PostgreSQL cluster and API keys
  daemon   nrmd processes and the pool that checks their logs
  openapi  the OpenAPI document and schema validators
  cases    cases made by a reporter, and the case read
  parallel the suite in pytest-xdist workers: units, the shared run dir
"""
