"""The suite in pytest-xdist workers (`pytest -n N`, scripts/check.sh).

Every worker is a session of its own: its own cluster, keys, TLS
material and daemons under its own temp dir, so no test sees another
worker's rows, ports or files.  Whole files go to one worker (a module's
tests share its module-scoped daemon and run in file order), the slow
files first; the tests conftest.py moves to the end of the collection
(audit_scan_last) form a unit of their own, dispatched last.

Such a test must see every worker's database once every other test of
the run has finished: the workers share a run directory (made by the
controller) where each one names its cluster and counts the tests it has
finished, and keeps its cluster running after its session until the
last tests are done (RunDir.wait_done, RunDir.mark_scanned).
"""

import json
import os
import time
from pathlib import Path

try:
    from xdist.scheduler import LoadFileScheduling
except ImportError:  # pytest-xdist is not installed: serial runs only
    LoadFileScheduling = None

# Files that take longest, started first so that no worker is left with
# a long file at the end (measured; a file not named here just starts in
# collection order).
SLOW_FIRST = (
    "test_authz_matrix.py",
    "test_cases.py",
    "test_reload.py",
    "test_strict_bodies.py",
    "test_routing.py",
    "test_people.py",
    "test_bad_input.py",
    "test_audit.py",
    "test_db_outage.py",
    "test_audit_concurrency.py",
    "test_intake.py",
    "test_inbox.py",
)

# Files longer than a worker's fair share, cut in two units at a test
# (and its parameters): the tests from there on run on another worker,
# with module fixtures of their own.  The test_matrix_column and
# test_matrix_session_column columns take about half of the matrix each.
SPLIT_AT = {
    "test_authz_matrix.py": "test_matrix_session_column",
}


def worker_id(config):
    """This process's xdist worker id ("gw0"), or None when serial."""
    return getattr(config, "workerinput", {}).get("workerid")


def file_of(nodeid):
    return nodeid.split("::", 1)[0]


def slow_first(items):
    """`items` (pytest items) with the SLOW_FIRST files first, in that
    order, each file's tests in their own order (a stable sort)."""
    def rank(item):
        name = Path(file_of(item.nodeid)).name
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else \
            len(SLOW_FIRST)
    return sorted(items, key=rank)


def function_of(nodeid):
    return nodeid.split("::")[-1].split("[", 1)[0]


def units(collection):
    """{node id: the unit it runs in} for the node ids in collection
    order: its file; a second unit of a SPLIT_AT file from the cut on;
    a unit of its own for the tests moved to the end (late_nodeids)."""
    late = late_nodeids(collection)
    cut, out = set(), {}
    for nodeid in collection:
        f = file_of(nodeid)
        if nodeid in late:
            out[nodeid] = f + "::(last)"
            continue
        if SPLIT_AT.get(Path(f).name) == function_of(nodeid):
            cut.add(f)
        out[nodeid] = f + "::(2)" if f in cut else f
    return out


def late_nodeids(collection):
    """Node ids that come after another file's tests although their own
    file came earlier: the tests the collection hook moved to the end."""
    ended, late, prev = set(), set(), None
    for nodeid in collection:
        f = file_of(nodeid)
        if prev is not None and f != prev:
            ended.add(prev)
        if f in ended:
            late.add(nodeid)
        prev = f
    return late


if LoadFileScheduling is not None:
    class FileScheduling(LoadFileScheduling):
        """--dist loadfile, but in the units of units(): the SPLIT_AT
        files in two, the tests moved to the end of the collection in a
        unit of their own (not their file's)."""

        _units = {}

        def schedule(self):
            if self.collection is None and self.registered_collections:
                first = next(iter(self.registered_collections.values()))
                self._units = units(first)
            super().schedule()

        def _split_scope(self, nodeid):
            return self._units.get(nodeid) or super()._split_scope(nodeid)
else:
    FileScheduling = None


class RunDir:
    """The directory the workers of one run share."""

    def __init__(self, path):
        self.path = Path(path)

    def _write(self, name, data):
        tmp = self.path / (".%s.%d" % (name, os.getpid()))
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path / name)

    def _read_all(self, prefix):
        out = []
        for p in sorted(self.path.glob(prefix + "*")):
            try:
                out.append(json.loads(p.read_text()))
            except (OSError, ValueError):
                pass  # being replaced: the next poll reads it
        return out

    def register_cluster(self, worker, cluster):
        self._write("cluster-" + worker,
                    {"dir": str(cluster.dir), "port": cluster.port})

    def clusters(self):
        """(dir, port) of every worker's cluster."""
        return [(c["dir"], c["port"]) for c in self._read_all("cluster-")]

    def mark_done(self, worker, n):
        """Worker `worker` has finished `n` tests (the scan ones aside)."""
        self._write("done-" + worker, {"n": n})

    def done(self):
        return sum(d["n"] for d in self._read_all("done-"))

    def wait_done(self, total, timeout):
        """Wait until the workers together have finished `total` tests."""
        deadline = time.monotonic() + timeout
        while self.done() < total:
            if time.monotonic() > deadline:
                raise AssertionError(
                    "the other workers finished %d of %d tests within %ss"
                    % (self.done(), total, timeout))
            time.sleep(0.2)

    def mark_scanned(self):
        self._write("scanned", {})

    def wait_scanned(self, timeout):
        """Wait (at most `timeout` s) until the last tests have run."""
        deadline = time.monotonic() + timeout
        while not (self.path / "scanned").exists():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True
