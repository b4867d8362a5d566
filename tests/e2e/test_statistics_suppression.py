"""Disclosure control as a property (issue 13; sql/api/75_statistics.sql):
for many random one- and two-dimensional count tables, stats.suppress in
the real database must publish no cell below the threshold and leave no
suppressed cell derivable from what is published.

Method.  A table is the system of linear equations an attacker knows:
for a 1-D table, the cells sum to the total; for a 2-D table, each row
sums to its row margin, each column to its column margin, the row
margins and the column margins each sum to the total.  The margins are
what the same API publishes for the same measure and period: the 1-D
tables by each dimension and the 0-D total, suppressed by the same
function (a suppressed margin is an unknown like a suppressed cell).
Every published value is a constant.  With U the unknowns (suppressed
cells and margins) and A_U the constraint matrix restricted to their
columns, a suppressed value x_j is determined exactly when the unit
vector e_j lies in the row space of A_U, that is when
rank([A_U; e_j]) == rank(A_U): then every solution of the system has
the same x_j.  Otherwise some vector of the null space of A_U has a
non-zero j-th component, and x_j can move while every published value
stays.  The ranks are computed exactly, over the rationals
(fractions.Fraction, Gaussian elimination): no floating-point tolerance
and no numpy.

Non-negativity can narrow an unknown's range further (the interval
that linear programming gives); the database's rule and this test are
about exact derivation, as Hundepool et al. state the minimum
requirement for secondary suppression.
"""

import random
from fractions import Fraction

import pytest

N_1D = 150
N_2D = 250
SEED = 20261207


def rank(rows):
    """The rank of a list of equal-length rows of numbers, exactly."""
    m = [[Fraction(x) for x in r] for r in rows]
    rk = 0
    ncols = len(m[0]) if m else 0
    for c in range(ncols):
        piv = next((i for i in range(rk, len(m)) if m[i][c] != 0), None)
        if piv is None:
            continue
        m[rk], m[piv] = m[piv], m[rk]
        for i in range(len(m)):
            if i != rk and m[i][c] != 0:
                f = m[i][c] / m[rk][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[rk])]
        rk += 1
    return rk


def determined(constraints, unknown):
    """The unknowns (indices) that the equations determine; constraints
    are rows of coefficients over every variable."""
    cols = sorted(unknown)
    if not cols:
        return []
    a_u = [[row[j] for j in cols] for row in constraints]
    base = rank(a_u) if a_u else 0
    out = []
    for pos, j in enumerate(cols):
        e = [1 if p == pos else 0 for p in range(len(cols))]
        if rank(a_u + [e]) == base:
            out.append(j)
    return out


def random_cells(rng, n, k):
    """Counts with many zeros, many small values and some large ones."""
    out = []
    for _ in range(n):
        u = rng.random()
        if u < 0.25:
            out.append(0)
        elif u < 0.6:
            out.append(rng.randint(1, k - 1))
        else:
            out.append(rng.randint(k, 5 * k))
    return out


def suppress_all(cluster, tables):
    """stats.suppress of each (values, ncols, dims, k), in one query."""
    values = ", ".join(
        "(%d, ARRAY[%s]::bigint[], %d, %d, %d)" % (
            i, ",".join(str(v) for v in t[0]), t[1], t[2], t[3])
        for i, t in enumerate(tables))
    rows = cluster.sql(
        "select i, array_to_string(stats.suppress(v, nc, d, k), ',') "
        "from (values %s) t(i, v, nc, d, k) order by i" % values)
    assert len(rows) == len(tables)
    return [[x in ("t", "true") for x in r[1].split(",")] for r in rows]


def sums(values, nr, nc):
    rows = [sum(values[r * nc:(r + 1) * nc]) for r in range(nr)]
    cols = [sum(values[r * nc + c] for r in range(nr)) for c in range(nc)]
    return rows, cols


def primary_ok(values, hidden, k):
    """No published cell below the threshold (zeros may be published)."""
    return all(h or v == 0 or v >= k for v, h in zip(values, hidden))


def test_one_dimension(cluster):
    rng = random.Random(SEED)
    tables = []
    for _ in range(N_1D):
        k = rng.choice((3, 5, 10, 11))
        n = rng.randint(2, 12)
        tables.append((random_cells(rng, n, k), n, 1, k))
    results = suppress_all(cluster, tables)
    for (values, n, _, k), hidden in zip(tables, results):
        assert primary_ok(values, hidden, k), (values, hidden, k)
        total = sum(values)
        # variables: the cells, then the total
        unknown = {i for i, h in enumerate(hidden) if h}
        if 0 < total < k:
            unknown.add(n)
        eq = [[1] * n + [-1]]
        assert determined(eq, unknown) == [], (values, hidden, k)


def undetermined_2d(values, nc, k, hidden, rh, ch):
    """The suppressed values of a 2-D table with its margins (row
    margins rh and column margins ch suppressed as published) that the
    equations determine; [] when the table is safe.  Also the number of
    unknowns."""
    nr = len(values) // nc
    total = sum(values)
    # variables: nr*nc cells, nr row margins, nc column margins, total
    n_in = nr * nc
    n_var = n_in + nr + nc + 1
    unknown = {i for i, h in enumerate(hidden) if h}
    unknown |= {n_in + r for r in range(nr) if rh[r]}
    unknown |= {n_in + nr + c for c in range(nc) if ch[c]}
    if 0 < total < k:
        unknown.add(n_var - 1)
    eqs = []
    for r in range(nr):
        e = [0] * n_var
        for c in range(nc):
            e[r * nc + c] = 1
        e[n_in + r] = -1
        eqs.append(e)
    for c in range(nc):
        e = [0] * n_var
        for r in range(nr):
            e[r * nc + c] = 1
        e[n_in + nr + c] = -1
        eqs.append(e)
    for lo, hi in ((n_in, n_in + nr), (n_in + nr, n_in + nr + nc)):
        e = [0] * n_var
        for i in range(lo, hi):
            e[i] = 1
        e[-1] = -1
        eqs.append(e)
    return determined(eqs, unknown), len(unknown)


def check_2d(cluster, tables):
    """Suppress 2-D tables and their margins (the 1-D tables, as the
    API publishes them) in the database; assert the property for each.
    Returns how many unknowns were checked."""
    inner = suppress_all(cluster, tables)
    margins = []
    for values, nc, _, k in tables:
        rows, cols = sums(values, len(values) // nc, nc)
        margins.append((rows, len(rows), 1, k))
        margins.append((cols, nc, 1, k))
    marg = suppress_all(cluster, margins)
    checked = 0
    for t, ((values, nc, _, k), hidden) in enumerate(zip(tables, inner)):
        assert primary_ok(values, hidden, k), (values, nc, hidden, k)
        bad, n = undetermined_2d(values, nc, k, hidden, marg[2 * t],
                                 marg[2 * t + 1])
        assert bad == [], "determined %s in %s (%d columns) hidden %s " \
            "k=%d" % (bad, values, nc, hidden, k)
        checked += n
    return checked


def test_two_dimensions(cluster):
    rng = random.Random(SEED + 1)
    tables = []
    for _ in range(N_2D):
        k = rng.choice((3, 5, 10, 11))
        nr, nc = rng.randint(2, 7), rng.randint(2, 7)
        tables.append((random_cells(rng, nr * nc, k), nc, 2, k))
    assert check_2d(cluster, tables) > N_2D, \
        "the random tables suppressed almost nothing"


def test_the_checker_finds_a_derivable_cell():
    """The method can fail: one suppressed cell in a row whose total is
    published is determined, and so is a lone suppressed cell of a 2-D
    table with published margins."""
    assert determined([[1, 1, 1, -1]], {1}) == [1]
    assert determined([[1, 1, 1, -1]], {1, 2}) == []
    # 2x2 with margins known: one unknown cell is fixed by its row
    eqs = [[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
    assert determined(eqs, {0}) == [0]
    assert determined(eqs, {0, 1, 2, 3}) == []
    # two 2x2 blocks of suppressed cells joined by a third: the joint
    # cell is a bridge (rows r0..r3, columns c0..c3, 4x4 table)
    cells = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2),
             (3, 3), (0, 2)}
    eqs = []
    for r in range(4):
        eqs.append([1 if i // 4 == r else 0 for i in range(16)])
    for c in range(4):
        eqs.append([1 if i % 4 == c else 0 for i in range(16)])
    unknown = {r * 4 + c for r, c in cells}
    assert determined(eqs, unknown) == [2]


@pytest.mark.parametrize("values,nc,k", [
    ([20, 20, 20, 20, 1, 20, 20, 20, 20], 3, 3),
    ([0, 0, 0, 0, 5, 0, 0, 0, 0], 3, 10),
    ([50, 50, 1, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 1], 4, 3),
])
def test_fixed_tables_hold(cluster, values, nc, k):
    """The fixed tables of tests/db/95_statistics.sql, by this method."""
    assert check_2d(cluster, [(values, nc, 2, k)]) >= 4
