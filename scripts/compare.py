#!/usr/bin/env python3
"""Compare the reference aggregates (scripts/reference.py) with gridcarbon's output.

    python3 scripts/compare.py REFERENCE_DIR GRIDCARBON_DATA_DIR [--rel 1e-9] [--abs 5e-7] [--max 20]

REFERENCE_DIR holds aggregates/window=<len>/date=<d>/<HHMM>.csv (plain CSV, as reference.py writes
them); GRIDCARBON_DATA_DIR holds the same names as <HHMM>.csv.zst (plain .csv is accepted too, so
that two reference runs can be compared). The files are read line by line with DuckDB (which
decompresses zstd) and split at commas; neither side quotes fields (keys match [A-Za-z0-9_.:-]).

Checks:
  * the same set of aggregate files (window length, date, start time);
  * in each file the exact header of reference §4.1, 10 fields a row, rows in strictly increasing
    (level, key) byte order (so no row twice); checked on both sides;
  * the same rows, identified by (window_start, level, key), in the file of the same name;
    window_end equal as text;
  * `meters` and `spans` equal as text (integers);
  * energy_kwh, co2_kg, intensity_kg_per_kwh, realtime_share: both empty, or both numbers with
        |g - r| <= rel * |r| + abs + 1e-15 * |r|
    where r is the reference value (full precision) and g gridcarbon's printed value.
    Why this tolerance: gridcarbon prints C's %.6f, i.e. its true value rounded to 6 decimals,
    which moves it by at most 0.5e-6 (`--abs`, default 5e-7); its true value may differ from the
    reference's by floating-point summation order, bounded by `--rel` (default 1e-9) of the value;
    1e-15 * |r| (a few ulps) absorbs the decimal <-> binary conversions of the printed numbers.
    The terms are added, not max'ed, because both errors can occur together. The absolute term
    is what the printed precision allows and no less: for values around 1 it is a relative
    tolerance of 5e-7; for large values (a province's energy over a day) the relative term
    dominates. Pass --abs 0 to compare two full-precision outputs (e.g. two reference runs).
Exit status 0 when everything matches, 1 with the first differences listed otherwise, 2 on bad
usage (a folder without aggregates/).
"""

import argparse
import os
import sys

import duckdb

HEADER = ("window_start,window_end,level,key,energy_kwh,co2_kg,intensity_kg_per_kwh,"
          "meters,spans,realtime_share")
COLS = HEADER.split(",")
FLOAT_COLS = ["energy_kwh", "co2_kg", "intensity_kg_per_kwh", "realtime_share"]
INT_COLS = ["meters", "spans"]


def list_files(root):
    """{'window=../date=../HHMM': path} for aggregates/window=*/date=*/HHMM.csv[.zst]."""
    out = {}
    base = os.path.join(root, "aggregates")
    for dirpath, _, names in os.walk(base):
        for name in names:
            for ext in (".csv.zst", ".csv"):
                if name.endswith(ext):
                    key = os.path.relpath(os.path.join(dirpath, name[:-len(ext)]), base)
                    if key in out:
                        raise SystemExit("both %s and %s exist" % (out[key], os.path.join(dirpath, name)))
                    out[key] = os.path.join(dirpath, name)
                    break
    return out


def load(con, table, files):
    """Table <table>(fkey, n, line-fields...) from the files, n = line number in its file."""
    con.execute(f"CREATE TABLE {table}_raw(fkey VARCHAR, line VARCHAR)")
    for fkey, path in sorted(files.items()):
        # one VARCHAR column per line, no quoting; DuckDB decompresses .zst by extension
        con.execute(
            f"INSERT INTO {table}_raw SELECT ?, line FROM read_csv(?, columns={{'line': 'VARCHAR'}}, "
            "delim='\\0', quote='', escape='', header=false, auto_detect=false, "
            "strict_mode=false, compression='auto')", [fkey, path])
    # rowid follows insertion order, i.e. the line order of each file
    fields = ", ".join(f"f[{i + 1}] AS {c}" for i, c in enumerate(COLS))
    con.execute(f"""
        CREATE TABLE {table} AS
        SELECT fkey, n, line, len(f) AS nf, {fields}
        FROM (SELECT fkey, line, string_split(coalesce(line, ''), ',') AS f,
                     row_number() OVER (PARTITION BY fkey ORDER BY rowid) AS n
              FROM {table}_raw)""")


def main(argv=None):
    ap = argparse.ArgumentParser(description="compare reference aggregates with gridcarbon's")
    ap.add_argument("reference_dir")
    ap.add_argument("gridcarbon_data_dir")
    ap.add_argument("--rel", type=float, default=1e-9, help="relative tolerance (default 1e-9)")
    ap.add_argument("--abs", type=float, default=5e-7, dest="abs_tol",
                    help="absolute allowance for gridcarbon's %%.6f rounding (default 5e-7)")
    ap.add_argument("--max", type=int, default=20, help="differences to list (default 20)")
    args = ap.parse_args(argv)
    for d in (args.reference_dir, args.gridcarbon_data_dir):
        if not os.path.isdir(os.path.join(d, "aggregates")):
            print("no aggregates/ folder in %s" % d, file=sys.stderr)
            return 2

    ref_files = list_files(args.reference_dir)
    got_files = list_files(args.gridcarbon_data_dir)
    diffs = []
    for k in sorted(set(ref_files) - set(got_files)):
        diffs.append("missing in gridcarbon: %s" % k)
    for k in sorted(set(got_files) - set(ref_files)):
        diffs.append("extra in gridcarbon: %s" % k)
    common = sorted(set(ref_files) & set(got_files))

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    load(con, "ref", {k: ref_files[k] for k in common})
    load(con, "got", {k: got_files[k] for k in common})

    def listed(sql, params=None):
        diffs.extend(r[0] for r in con.execute(sql, params or []).fetchall())

    for side, name in (("got", "gridcarbon"), ("ref", "reference")):
        # header, field count, strict (level, key) byte order
        listed(f"""
            SELECT '{name} ' || fkey || ': header is ' || coalesce(line, '(empty)')
            FROM {side} WHERE n = 1 AND coalesce(line, '') <> ? ORDER BY fkey""", [HEADER])
        listed(f"""
            SELECT '{name} ' || fkey || ':' || n || ': ' || nf || ' fields: ' || coalesce(line, '')
            FROM {side} WHERE n > 1 AND nf <> {len(COLS)} ORDER BY fkey, n LIMIT {args.max}""")
        listed(f"""
            SELECT '{name} ' || fkey || ':' || n || ': not after the previous row in (level, key) byte order'
            FROM (SELECT *, lag(level) OVER w AS pl, lag(key) OVER w AS pk FROM {side}
                  WHERE n > 1 AND nf = {len(COLS)} WINDOW w AS (PARTITION BY fkey ORDER BY n))
            WHERE pl IS NOT NULL AND NOT (level > pl OR (level = pl AND key > pk))
            ORDER BY fkey, n LIMIT {args.max}""")

    # rows: full outer join on (file, window_start, level, key)
    def within(r, g):  # SQL: |g - r| <= rel*|r| + abs + 1e-15*|r|  (r, g: DOUBLE expressions)
        return f"(abs({g} - {r}) <= {args.rel!r} * abs({r}) + {args.abs_tol!r} + 1e-15 * abs({r}))"

    def used(r, g):  # SQL: share of the tolerance used
        return f"(abs({g} - {r}) / ({args.rel!r} * abs({r}) + {args.abs_tol!r} + 1e-15 * abs({r})))"

    checks = [f"CASE WHEN r.window_end IS DISTINCT FROM g.window_end THEN "
              f"'window_end gridcarbon ' || g.window_end || ', reference ' || r.window_end END"]
    for c in INT_COLS:
        checks.append(f"CASE WHEN r.{c} IS DISTINCT FROM g.{c} THEN "
                      f"'{c} gridcarbon ' || g.{c} || ', reference ' || r.{c} END")
    for c in FLOAT_COLS:
        ok = (f"((r.{c} = '' AND g.{c} = '') OR "
              + within(f"try_cast(r.{c} AS DOUBLE)", f"try_cast(g.{c} AS DOUBLE)") + ")")
        checks.append(f"CASE WHEN NOT coalesce({ok}, false) THEN "
                      f"'{c} gridcarbon ' || g.{c} || ', reference ' || r.{c} END")
    con.execute(f"""
        CREATE TABLE row_diffs AS
        WITH r AS (SELECT * FROM ref WHERE n > 1 AND nf = {len(COLS)}),
             g AS (SELECT * FROM got WHERE n > 1 AND nf = {len(COLS)})
        SELECT coalesce(r.fkey, g.fkey) AS fkey, coalesce(r.level, g.level) AS level,
               coalesce(r.key, g.key) AS key, coalesce(r.window_start, g.window_start) AS ws,
               CASE WHEN g.fkey IS NULL THEN ['row missing in gridcarbon']
                    WHEN r.fkey IS NULL THEN ['extra row in gridcarbon']
                    ELSE list_filter([{", ".join(checks)}], lambda x: x IS NOT NULL) END AS problems
        FROM r FULL OUTER JOIN g USING (fkey, window_start, level, key)
    """)
    n_rows = con.execute("SELECT count(*) FROM row_diffs").fetchone()[0]
    n_bad = con.execute("SELECT count(*) FROM row_diffs WHERE len(problems) > 0").fetchone()[0]
    listed(f"""
        SELECT fkey || ' ' || level || ',' || key || ' (' || ws || '): ' || array_to_string(problems, '; ')
        FROM row_diffs WHERE len(problems) > 0 ORDER BY fkey, level, key LIMIT {args.max}""")
    if n_bad > args.max:
        diffs.append("... %d rows differ in all" % n_bad)

    # how much of the tolerance the closest call used (information only)
    worst = con.execute(f"""
        SELECT max(CASE WHEN gv = r THEN 0 ELSE {used('r', 'gv')} END) FROM (
          {" UNION ALL ".join(f"SELECT try_cast(r.{c} AS DOUBLE) AS r, try_cast(g.{c} AS DOUBLE) AS gv "
                              f"FROM ref r JOIN got g USING (fkey, window_start, level, key) "
                              f"WHERE r.n > 1 AND g.n > 1" for c in FLOAT_COLS)})
        WHERE r IS NOT NULL AND gv IS NOT NULL""").fetchone()[0]

    print("files: reference %d, gridcarbon %d; rows %d" % (len(ref_files), len(got_files), n_rows))
    print("tolerance: |g - r| <= %g*|r| + %g + 1e-15*|r|; closest call used %s of it"
          % (args.rel, args.abs_tol, "%.3g" % worst if worst is not None else "none"))
    if diffs:
        print("DIFFERENT: first differences:")
        for d in diffs[:args.max + 1]:
            print("  " + d)
        return 1
    print("EQUAL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
