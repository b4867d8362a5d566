"""The private PostgreSQL cluster (scripts/pg.sh in a temp dir) and the
API keys nrmctl creates in it.
"""

import contextlib
import hashlib
import shlex
import subprocess
import tempfile
import uuid
from pathlib import Path

from .env import NRMCTL, PG_SH, PSQL, ROOT, clean_env, free_pg_port, run

# The inbox item as the tests define it (0030 stores it with its case).
CASE_ITEM_REF = ROOT / "tests" / "db" / "case_item_ref.psql"

class Cluster:
    """A private cluster run by scripts/pg.sh in a temp dir."""

    def __init__(self, top, port=None):
        self.top = Path(top)
        self.dir = self.top / "pg"
        self.port = port or free_pg_port()
        self.env = {}
        self._direct = None

    def pg(self, *args, check=True, timeout=120):
        return run([PG_SH, *args], env=clean_env(), check=check,
                   timeout=timeout)

    def start(self):
        self.pg("start", self.dir, self.port)
        self.load_env()

    def stop(self):
        self.pg("stop", self.dir)

    @classmethod
    @contextlib.contextmanager
    def migrated(cls, top):
        """A cluster of a test's own in `top` (made here, mode 755):
        started, not durable, migrated; stopped and removed after."""
        top = Path(top)
        top.mkdir()
        top.chmod(0o755)
        c = cls(top)
        c.start()
        try:
            c.prepare()
            yield c
        finally:
            c.pg("stop", c.dir, check=False)
            c.pg("drop", c.dir, check=False)

    @classmethod
    def attach(cls, pgdir, port):
        """The running cluster in `pgdir` (another worker's)."""
        c = cls(Path(pgdir).parent, port)
        c.load_env()
        return c

    # A test cluster that need not survive a crash of the machine: the
    # suite never crashes PostgreSQL (test_db_outage stops it with a
    # fast shutdown, which writes every commit out first), so a commit
    # need not wait for its WAL on disk.  Only this cluster: pg.sh's
    # own settings keep durability on.
    NOT_DURABLE = ("fsync = off", "synchronous_commit = off",
                   "full_page_writes = off")

    def prepare(self):
        """A started cluster made ready for a suite: not durable,
        migrated with today's sql/."""
        self.not_durable()
        self.nrmctl("migrate")

    def not_durable(self):
        for setting in self.NOT_DURABLE:
            self.sql("alter system set " + setting)
        self.sql("select pg_reload_conf()")

    def load_env(self):
        out = self.pg("env", self.dir, self.port).stdout
        env = {}
        for line in out.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export "):]
            k, eq, v = line.partition("=")
            if not eq:
                continue
            parts = shlex.split(v)
            env[k.strip()] = parts[0] if parts else ""
        for k in ("NRM_OWNER_URL", "NRM_DATABASE_URL", "NRM_SUPERUSER_URL"):
            assert env.get(k), "scripts/pg.sh env printed no %s:\n%s" % (
                k, out)
        self.env = env

    @property
    def owner_url(self):
        return self.env["NRM_OWNER_URL"]

    @property
    def app_url(self):
        return self.env["NRM_DATABASE_URL"]

    def _psql_cmd(self, sql):
        opts = ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                "-F", "\t", "-c", sql]
        if self._direct is None:
            # Prefer psql with the superuser URL (fast); fall back to
            # scripts/pg.sh psql when that role needs the postgres user.
            p = run([PSQL, "-d", self.env["NRM_SUPERUSER_URL"], *opts[:-2],
                     "-c", "select 1"], env=clean_env(), check=False)
            self._direct = p.returncode == 0 and p.stdout.strip() == "1"
        if self._direct:
            return [PSQL, "-d", self.env["NRM_SUPERUSER_URL"], *opts]
        return [PG_SH, "psql", self.dir, self.port, *opts]

    # A longer text goes through psql's standard input: an argument over
    # the kernel's limit (MAX_ARG_STRLEN, 128 KiB) cannot be executed,
    # and the personal-data scans grow with every value stored.
    ARG_MAX = 100000

    def sql(self, sql, check=True):
        """Run SQL as superuser in the nrm database; rows of strings."""
        if len(sql.encode()) > self.ARG_MAX:
            cmd = self._psql_cmd("")[:-2] + ["-f", "-"]
            p = run(cmd, env=clean_env(), check=check, input=sql)
        else:
            p = run(self._psql_cmd(sql), env=clean_env(), check=check)
        if not check and p.returncode != 0:
            return None
        return [line.split("\t") for line in p.stdout.splitlines()
                if line != ""]

    def scalar(self, sql):
        rows = self.sql(sql)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def psql(self):
        """A Psql of this cluster: one connection for many queries."""
        return Psql(self._psql_cmd("select 1")[:-2])

    def count(self, sql):
        return int(self.scalar(sql))

    def stale_case_items(self):
        """(cases, ids): how many cases there are, and the ids of those
        whose stored item (care.case.item) is not its definition
        (tests/db/case_item_ref.psql)."""
        row = self.sql(CASE_ITEM_REF.read_text() +
                       "\nSELECT (SELECT count(*) FROM care.case), "
                       "array_to_string(pg_temp.case_items_stale(), ' ');")
        assert len(row) == 1, row
        return int(row[0][0]), row[0][1].split()

    TABLES = ("intake.signal", "intake.idempotency", "care.subject",
              "care.case", "care.case_history")

    # The sweeper's escalations aside (as test_authz_matrix's
    # fingerprint): every daemon of the worker sweeps, whenever its timer
    # comes, the cases earlier tests left past a deadline, and only the
    # sweeper (api.escalate_overdue) writes an 'escalated' entry.
    WHERE = {"care.case_history": "action <> 'escalated'"}

    def counts(self):
        """Row counts of every table an intake writes (the sweeper's
        escalations aside)."""
        q = "select " + ", ".join(
            "(select count(*) from %s where %s)" % (
                t, self.WHERE.get(t, "true")) for t in self.TABLES)
        row = self.sql(q)[0]
        return dict(zip(self.TABLES, (int(x) for x in row)))

    def assert_one_event(self, request_id, action, purpose):
        """The request wrote exactly one audit event: `action`, allowed,
        for `purpose`."""
        assert self.count(
            "select count(*) from audit.event where request_id = '%s' and "
            "action = '%s' and purpose = '%s' and outcome = 'allowed'"
            % (request_id, action, purpose)) == 1
        assert self.count("select count(*) from audit.event where "
                          "request_id = '%s'" % request_id) == 1

    def assert_append_only(self, table, case_id):
        """No UPDATE, DELETE or TRUNCATE of `table` (its rows of the case
        case_id), not even by the superuser: a trigger refuses them
        ("append-only"), not only missing grants."""
        for sql in ("update %s set at = now() where case_id = '%s'"
                    % (table, case_id),
                    "delete from %s where case_id = '%s'" % (table, case_id),
                    "truncate %s cascade" % table):
            p = run(self._psql_cmd(sql), env=clean_env(), check=False)
            assert p.returncode != 0 and "append-only" in p.stderr, (sql, p)

    def nrmctl(self, *args, check=True):
        return run([NRMCTL, *args],
                   env=clean_env({"NRM_DATABASE_URL": self.owner_url}),
                   check=check)


class Psql:
    """One psql process kept open (autocommit, as Cluster.sql): each
    query goes to its standard input and its rows are read up to a
    marker line.  For a test that queries the database hundreds of times
    (the authorization matrix's fingerprints), where starting psql and
    connecting for each query would cost more than the query.  Not for a
    test that stops or restarts the cluster."""

    def __init__(self, cmd):
        self.cmd = [str(c) for c in cmd]
        self.err = tempfile.TemporaryFile(mode="w+")
        self.mark = "--end-%s--" % uuid.uuid4().hex
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err,
                                  text=True, env=clean_env())

    def sql(self, sql):
        """Run SQL (ON_ERROR_STOP: an error ends psql and fails here);
        rows of strings, as Cluster.sql."""
        self.p.stdin.write("%s\n;\n\\echo %s\n" % (sql, self.mark))
        self.p.stdin.flush()
        rows = []
        for line in self.p.stdout:
            line = line.rstrip("\n")
            if line == self.mark:
                return rows
            if line != "":
                rows.append(line.split("\t"))
        self.err.seek(0)
        raise AssertionError("psql ended (%s): %s\nstderr:\n%s" % (
            self.p.wait(10), " ".join(self.cmd), self.err.read()))

    def scalar(self, sql):
        rows = self.sql(sql)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(10)
        self.err.close()


class Key:
    def __init__(self, token, role, agency, kind):
        self.token = token
        self.role = role
        self.agency = agency
        self.kind = kind

    def __repr__(self):  # never print a token
        return "<key %s %s>" % (self.role, self.agency)


def create_key(cluster, role, agency, kind, regions=()):
    args = ["key", "create", "--role", role, "--agency", agency,
            "--agency-kind", kind]
    for r in regions:
        args += ["--region", r]
    out = cluster.nrmctl(*args).stdout
    token = out.strip()
    assert token and "\n" not in token and " " not in token, \
        "nrmctl key create must print the token alone"
    return Key(token, role, agency, kind)


def create_keys(cluster, **specs):
    """Keys of agencies of the caller's own: name=(role, agency, kind) or
    (role, agency, kind, regions).  One random suffix follows every
    agency name, so the keys given one agency name share that agency."""
    sfx = uuid.uuid4().hex[:6]
    return {name: create_key(cluster, s[0], "%s %s" % (s[1], sfx), *s[2:])
            for name, s in specs.items()}


def key_id(cluster, key):
    """The auth.api_key id of a key (looked up by its token's SHA-256)."""
    h = hashlib.sha256(key.token.encode("ascii")).hexdigest()
    return cluster.scalar(
        "select id from auth.api_key where token_hash = '\\x%s'::bytea" % h)

