#!/usr/bin/env python3
"""params.py - the api.intake() arguments nrmd sent, from a PostgreSQL log.

    params.py POSTGRESQL.LOG OUTDIR

scripts/bench.sh has PostgreSQL log one POST /v1/signals of nrmd's (the
role nrm_app with log_statement = all and log_error_verbosity = default,
in the benchmark's throwaway cluster only), then calls this to read back
the parameters of the last "execute intake" statement:

    LOG:  execute intake: SELECT api.intake($1, ..., $9)
    DETAIL:  parameters: $1 = '\\x..', $2 = '...', ..., $9 = '{...}'

and writes them to OUTDIR/1 .. OUTDIR/9 (no trailing newline) for
pgbench's -D.  PostgreSQL prints a parameter with its type's output
function: bytea as \\x hex, jsonb in its normalised form (keys in jsonb
order, ", " and ": " separators).  JSON values are re-encoded compactly,
keeping that key order, so that pgbench sends as many bytes as nrmd's
compact JSON; the jsonb value is the same.  SQL NULL is written as the
file "NULL" plus a marker file N.null.
"""
import json
import os
import re
import sys

PARAM = re.compile(r"\$(\d+) = (NULL|'((?:[^']|'')*)')")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: params.py POSTGRESQL.LOG OUTDIR")
    log, out = sys.argv[1], sys.argv[2]
    with open(log, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    detail = None
    for i, line in enumerate(lines):
        if "execute intake: SELECT api.intake(" in line:
            # The DETAIL line follows the LOG line of the same backend.
            pid = re.search(r"\[(\d+)\]", line)
            for nxt in lines[i + 1:i + 20]:
                if "DETAIL:  parameters: " in nxt and (
                        pid is None or "[%s]" % pid.group(1) in nxt):
                    detail = nxt.split("DETAIL:  parameters: ", 1)[1]
                    break
    if detail is None:
        sys.exit("params.py: no 'execute intake' with parameters in %s" % log)
    params = {}
    for m in PARAM.finditer(detail):
        n = int(m.group(1))
        params[n] = None if m.group(2) == "NULL" else \
            m.group(3).replace("''", "'")
    if sorted(params) != list(range(1, 10)):
        sys.exit("params.py: expected $1..$9, found %s" % sorted(params))
    for n, v in params.items():
        path = os.path.join(out, str(n))
        if v is None:
            with open(path + ".null", "w"):
                pass
            v = "NULL"
        elif v[:1] in "{[":
            v = json.dumps(json.loads(v), ensure_ascii=False,
                           separators=(",", ":"))
        with open(path, "w", encoding="utf-8") as f:
            f.write(v)


if __name__ == "__main__":
    main()
