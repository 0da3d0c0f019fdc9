#!/usr/bin/env python3
"""Independent reference implementation of gridcarbon's carbon arithmetic (docs/reference.md sections 1-4).

This is a test oracle: it recomputes, in one batch and mostly in DuckDB SQL, the aggregate rows
that `gridcarbon replay` must write (reference §4.1), so that the Swift engine (a streaming, stateful
implementation) can be checked against a computation that shares none of its code.

    python3 scripts/reference.py --registry REG.csv --out DIR
        [--factors cn_grid_factors.csv] [--source-factors source_factors.csv]
        [--reorder-window 900] [--span-horizon 3600] [--slot 900] [--windows 15m,1h,1d]
        [--format repr|spec] INPUT...

Output: DIR/aggregates/window=<len>/date=<YYYY-MM-DD>/<HHMM>.csv, plain (uncompressed) CSV with the
header of reference §4.1, rows sorted by level then key (byte order). With the default `--format repr`
numbers are printed as Python's repr of the double (shortest string that reads back to the same
double), so that comparisons at a relative 1e-9 are meaningful; `--format spec` prints them as the
spec does (C `%.6f`, then trailing zeros and a trailing point dropped), for byte comparisons with
gridcarbon's files once decompressed.

On stdout, `key=value` lines: accepted, duplicate, rejected (and rejected_<reason> per reason),
late (record lines; blank and `#` lines are not counted), spans, late_spans (spans with a part in
closed slots), late_span_kwh, span_kwh (energy of all spans of non-late records), attributed_kwh
(energy in the aggregates; span_kwh = attributed_kwh + late_span_kwh up to rounding), files
written, reference_seconds (elapsed time of the computation: reading the input to the last SQL
result, without writing the files) and total_seconds (with writing).

How the streaming semantics are reproduced in batch form (see reference §3.4):

* Arrival order is the order of the input files on the command line, then the line order inside
  each file. Every line gets a sequence number `seq` in that order.
* The watermark after a record is W = max(meter-record time seen so far) - reorder_window, where
  the meter-record time is `ts` for `r` and `end` for `i`. Only meter records that pass the
  stateless checks (parse, registry, timestamps, numbers, intervals) are considered. This is the
  same as "accepted records only": a late record has ts <= W < max, a duplicate or a conflicting
  duplicate repeats the ts of a record seen before, so none of them can raise the maximum.
  Hence W at the arrival of line `seq` is a running max over the preceding lines: one SQL window.
* A meter record is late when its time <= W at its arrival. Lateness is decided before the
  duplicate checks (reference §4.3: "a late line is late even if it repeats an earlier one").
* Spans are built from the final set of accepted readings sorted by time (valid because a
  reading inside an existing span can only arrive while W is before the span end, i.e. before
  the span is attributed).
* A span [a, b) is attributed when W first reaches >= b. W only increases, so the W value just
  before that move ("W_before") is the largest W value that is < b (an ASOF join); at end of
  input W jumps to infinity, so the spans still open get W_before = the last W. Slots with
  slot_end + span_horizon <= W_before are already closed: the span's part in them is late_span
  energy, the rest is attributed to slots in proportion to the overlap.
* "The factor that applies is the one known when the slot closes": a slot [s, e) closes when W
  first reaches >= e + span_horizon, so an `f`/`m` record arriving with W_at_arrival >= e +
  span_horizon comes too late for that slot and is ignored for it (also as a replacement).

Only the `f` overlap rule (an `f` record is accepted unless it overlaps an earlier *accepted* `f`
record of its region other than an exact repeat of start,end) is sequential by nature; it runs as a
small Python loop over the `f` records only. Everything else is SQL.

Decisions where the reference (docs/reference.md) leaves room (an implementation that differs is not necessarily wrong, but
the comparison will show it):

* Lines: split at commas, no trimming of fields; a line is blank when it is empty or only spaces
  (skipped, not counted); a comment starts with `#` in the first column. Line ends are those of
  DuckDB's CSV reader: LF, CRLF, and also a lone CR. Non-UTF-8 bytes are replaced by U+FFFD,
  which makes the line fail its checks. Each input file ends its last line.
* Field counts are exact (r 4, i 5, f 5, m 6); otherwise, or for an unknown kind or an id that is
  not [A-Za-z0-9_.:-]{1,64}: `malformed`. Then: `unknown_meter` (r, i), `unknown_region` (f, m not
  naming one of the 31 provinces; `CN` is refused), `unknown_source` (m), `bad_timestamp`,
  `bad_number`, `negative_value` (kwh, kg_per_kwh, mwh < 0), `bad_interval` (end <= start);
  the first failing check names the reason.
* Timestamps: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` (`T`/`Z` also lower case), with
  a real calendar date, hour <= 23, minute/second <= 59 (no leap second); or 1 to 18 digits of
  Unix seconds (no sign). Kept as integer nanoseconds (fraction digits beyond 9 truncated), so
  years outside 1678..2261 (and Unix seconds >= 9e9) are `bad_timestamp`.
* Numbers: optional sign, digits with optional point and exponent (`1`, `1.`, `.5`, `1e3`);
  no inf/nan/hex/spaces. Values compare as doubles (`10.5` and `10.50` are the same value).
* Duplicates: r - same meter and instant, value equal as a double (first non-late reading
  stays; a different value is `conflicting_duplicate` and is compared with the first one);
  i - in arrival order, same meter, start and end as an accepted one: a duplicate with the same
  kwh, else `conflicting_duplicate` (the first stays); any other overlap with an accepted interval
  of the meter is `overlapping_interval` (reference §3.1). Lateness is decided before these checks.
* `f` exact repeat (same region, start, end) replaces the earlier value and counts as accepted;
  an `m` repeat of region, start, end, source likewise. Both are accepted even when they come
  after every slot they cover has closed (they then change nothing).
* Generation mix: sources weighted by average power mwh / hours(end - start) of each record,
  over the m records covering the instant; when their weights sum to 0 (all mwh 0), rule 3 applies.
* Annual factor year = local (UTC+08:00) calendar year of the slot start; the latest table year
  <= it for the region, else for CN; before the first table year, the earliest year (region,
  then CN) - the spec does not cover years before 2021.
* realtime_share = sum over slots of energy * (share of the slot's time under rules 1-2) / energy.
* co2 is computed per meter and slot (energy * slot factor) and summed; energy, co2 and
  realtime energy of a window are sums over slots; intensity and realtime_share are ratios of
  those sums (empty when the energy is exactly 0).
* A span whose part in closed slots is all of it contributes nothing to `meters`/`spans`; a
  partly late span counts in the windows its attributed part overlaps.
* max_gap / meter_gap, anomalies, future_timestamp and max_future are not modelled (no effect
  on the aggregates in a replay); the zone is fixed at UTC+08:00.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time

import duckdb

# --- fixed model constants ------------------------------------------------------------------------

ZONE_OFFSET_S = 8 * 3600  # the zone is fixed at UTC+08:00 (Asia/Shanghai has no DST)
ZONE_SUFFIX = "+08:00"
NS = 1_000_000_000  # all instants are integer nanoseconds since the Unix epoch (BIGINT)

PROVINCES = (
    "CN-BJ CN-TJ CN-HE CN-SX CN-NM CN-LN CN-JL CN-HL CN-SH CN-JS CN-ZJ CN-AH CN-FJ CN-JX CN-SD "
    "CN-HA CN-HB CN-HN CN-GD CN-GX CN-HI CN-CQ CN-SC CN-GZ CN-YN CN-XZ CN-SN CN-GS CN-QH CN-NX "
    "CN-XJ"
).split()
SOURCES = "coal gas oil nuclear hydro wind solar biomass other".split()
LEVELS = ["national", "province", "city", "park", "enterprise", "industry"]
HEADER = ("window_start,window_end,level,key,energy_kwh,co2_kg,intensity_kg_per_kwh,"
          "meters,spans,realtime_share")

# Regular expressions (RE2 syntax, used inside DuckDB).
IDENT_RE = r"^[A-Za-z0-9_.:-]{1,64}$"
# RFC 3339 date-time with seconds, optional fraction, and `Z` or a numeric offset.
RFC3339_RE = (r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
              r"(\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))$")
UNIX_RE = r"^[0-9]{1,18}$"
# A plain decimal number, optional sign and exponent (no inf/nan/hex, no spaces).
NUMBER_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"

# Timestamps must fit in signed 64-bit nanoseconds: years 1678..2261 / Unix seconds < 9e9.
MIN_DAYS = (datetime.date(1678, 1, 1) - datetime.date(1970, 1, 1)).days
MAX_DAYS = (datetime.date(2261, 12, 31) - datetime.date(1970, 1, 1)).days
MAX_UNIX_S = 9_000_000_000


def parse_duration(text):
    """'15m' / '1h' / '1d' / '900s' / '900' -> seconds."""
    m = re.fullmatch(r"([0-9]+)([smhd]?)", text.strip())
    if not m:
        raise ValueError("bad duration %r" % text)
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def read_bytes(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True, stdout=subprocess.PIPE).stdout
    if path.endswith(".gz"):
        import gzip
        with gzip.open(path, "rb") as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def local_dt(ns):
    return datetime.datetime.fromtimestamp(
        ns // NS, datetime.timezone(datetime.timedelta(seconds=ZONE_OFFSET_S)))


# --- the computation ------------------------------------------------------------------------------

def run(args):
    t_start = time.monotonic()
    rw = args.reorder_window * NS
    horizon = args.span_horizon * NS
    slot = args.slot * NS
    off = ZONE_OFFSET_S * NS
    windows = []
    for name in args.windows.split(","):
        name = name.strip()
        secs = parse_duration(name)
        if secs <= 0 or secs % args.slot:
            raise SystemExit("window %s is not a whole number of slots" % name)
        windows.append((name, secs * NS))

    con = duckdb.connect()
    if args.threads:
        con.execute("SET threads = %d" % args.threads)
    con.execute("SET preserve_insertion_order = true")  # rowid of `raw` == arrival order
    t_last = [time.monotonic()]

    def q(sql, params=None):
        """Run one statement; with --verbose, log its duration to stderr."""
        res = con.execute(sql, params) if params is not None else con.execute(sql)
        if args.verbose:
            now = time.monotonic()
            head = " ".join(sql.split())[:70]
            print("%7.2fs  %s" % (now - t_last[0], head), file=sys.stderr)
            t_last[0] = now
        return res

    # floor of an instant to a multiple of `len` aligned to the zone (floor, also for negatives)
    q("CREATE MACRO floor_to(x, len) AS "
      f"x - ((((x + {off}) % len) + len) % len)")

    # ---- 1. raw lines, in arrival order ---------------------------------------------------------
    # One VARCHAR column per line: NUL as delimiter, no quoting, so a line is taken verbatim.
    # DuckDB's reader ends lines at LF, CRLF or CR and reads `.zst`/`.gz` by extension.
    # A file that is not valid UTF-8 is re-read with the bad bytes replaced by U+FFFD; such a
    # line cannot pass the checks (every field is ASCII), so it is rejected like any bad line.
    q("CREATE TABLE raw(line VARCHAR)")
    for path in args.inputs:
        read = ("INSERT INTO raw SELECT line FROM read_csv(%s, columns={'line': 'VARCHAR'}, "
                "delim='\\0', quote='', escape='', header=false, auto_detect=false, "
                "strict_mode=false, compression='auto')")
        try:
            q("BEGIN")
            q(read % sql_str(path))
            q("COMMIT")
        except duckdb.InvalidInputException:
            q("ROLLBACK")
            with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8") as tmp:
                tmp.write(read_bytes(path).decode("utf-8", errors="replace"))
                tmp.flush()
                q(read % sql_str(tmp.name))

    # ---- 2. registry, factor tables ---------------------------------------------------------------
    q("CREATE TABLE registry AS SELECT meter_id AS meter, region, "
      "nullif(city, '') AS city, nullif(park, '') AS park, nullif(enterprise, '') AS enterprise, "
      "nullif(industry, '') AS industry, CAST(nullif(trim(max_kw), '') AS DOUBLE) AS max_kw "
      "FROM read_csv(%s, header=true, all_varchar=true, delim=',', quote='\"')" % sql_str(args.registry))
    problems = q("""
        SELECT 'meter ' || coalesce(meter, '(empty)') || ': ' ||
               CASE WHEN meter IS NULL OR NOT regexp_full_match(meter, ?) THEN 'bad meter_id'
                    WHEN region IS NULL OR region NOT IN (SELECT unnest(?::VARCHAR[])) THEN 'bad region'
                    ELSE 'listed twice' END
        FROM (SELECT *, count(*) OVER (PARTITION BY meter) AS k FROM registry)
        WHERE meter IS NULL OR NOT regexp_full_match(meter, ?) OR k > 1
           OR region IS NULL OR region NOT IN (SELECT unnest(?::VARCHAR[]))
        LIMIT 5""", [IDENT_RE, PROVINCES, IDENT_RE, PROVINCES]).fetchall()
    if problems:
        raise SystemExit("registry %s: %s" % (args.registry, "; ".join(p[0] for p in problems)))
    q("CREATE TABLE annual AS SELECT region, CAST(year AS INTEGER) AS year, "
      "CAST(factor_kg_per_kwh AS DOUBLE) AS factor "
      "FROM read_csv(%s, header=true, all_varchar=true, quote='\"') WHERE kind = 'average'"
      % sql_str(args.factors))
    q("CREATE TABLE source_ef AS SELECT source, CAST(kg_per_kwh AS DOUBLE) AS ef "
      "FROM read_csv(%s, header=true, all_varchar=true, quote='\"') WHERE basis = %s"
      % (sql_str(args.source_factors), sql_str(args.source_basis)))
    missing = set(SOURCES) - {r[0] for r in q("SELECT source FROM source_ef").fetchall()}
    if missing:
        raise SystemExit("source factor table lacks %s" % sorted(missing))
    q("CREATE TABLE provinces AS SELECT unnest(%s::VARCHAR[]) AS region" % str(PROVINCES))

    # ---- 3. parse every record line (stateless checks) ------------------------------------------
    # Field layout: r,meter,ts,kwh | i,meter,start,end,kwh | f,region,start,end,kg | m,region,start,end,source,mwh
    q(f"""
    CREATE TABLE rec0 AS
    SELECT seq, f[1] AS kind, len(f) AS nf, f[2] AS id,
           f[3] AS t1s,
           CASE WHEN f[1] IN ('i', 'f', 'm') THEN f[4] END AS t2s,
           CASE WHEN f[1] = 'm' THEN f[5] END AS source,
           f[len(f)] AS nums
    FROM (SELECT rowid AS seq, string_split(line, ',') AS f FROM raw
          WHERE line IS NOT NULL AND trim(line) <> '' AND NOT starts_with(line, '#'))
    """)

    # Timestamp text -> BIGINT ns since the epoch, or NULL when it is not a valid timestamp.
    # Parsed once per distinct spelling (a day of readings has few distinct timestamps).
    # try_cast everywhere, so that no evaluation order can raise an error on a bad line.
    g = "g"
    date = f"try_cast({g}.y || '-' || {g}.mo || '-' || {g}.d AS DATE)"
    days = f"CAST({date} - DATE '1970-01-01' AS BIGINT)"
    q(f"""
    CREATE TABLE ts_parsed AS
    SELECT s, CASE
        WHEN regexp_full_match(s, '{UNIX_RE}') THEN            -- whole Unix seconds
             CASE WHEN try_cast(s AS HUGEINT) < {MAX_UNIX_S} THEN try_cast(s AS BIGINT) * {NS} END
        WHEN {g}.y <> '' AND {date} IS NOT NULL                  -- RFC 3339, fields in range
             AND try_cast({g}.h AS INT) <= 23 AND try_cast({g}.mi AS INT) <= 59
             AND try_cast({g}.s AS INT) <= 59
             AND ({g}.sg = '' OR (try_cast({g}.oh AS INT) <= 23 AND try_cast({g}.om AS INT) <= 59))
             AND {days} BETWEEN {MIN_DAYS} AND {MAX_DAYS}
        THEN {days} * {86400 * NS}
             + try_cast({g}.h AS BIGINT) * {3600 * NS} + try_cast({g}.mi AS BIGINT) * {60 * NS}
             + try_cast({g}.s AS BIGINT) * {NS}
             + CASE WHEN {g}.fr = '' THEN 0            -- fraction: digits beyond ns are truncated
                    ELSE try_cast(rpad(substr({g}.fr, 2, 9), 9, '0') AS BIGINT) END
             - CASE WHEN {g}.sg = '' THEN 0            -- 'Z': UTC; else subtract the offset
                    ELSE (CASE WHEN {g}.sg = '-' THEN -1 ELSE 1 END)
                         * (try_cast({g}.oh AS BIGINT) * 3600 + try_cast({g}.om AS BIGINT) * 60) * {NS} END
        END AS ns
    FROM (SELECT s, regexp_extract(s, '{RFC3339_RE}',
                                   ['y','mo','d','h','mi','s','fr','z','sg','oh','om']) AS g
          FROM (SELECT t1s AS s FROM rec0 UNION SELECT t2s FROM rec0) WHERE s IS NOT NULL)
    """)

    q(f"""
    CREATE TABLE rec AS
    WITH p AS (
      SELECT rec0.*, a.ns AS t1, b.ns AS t2,
             CASE WHEN regexp_full_match(nums, '{NUMBER_RE}') THEN try_cast(nums AS DOUBLE) END AS v0,
             r.region AS m_region, r.max_kw,
             (r.meter IS NOT NULL) AS known_meter
      FROM rec0
      LEFT JOIN ts_parsed a ON a.s = rec0.t1s
      LEFT JOIN ts_parsed b ON b.s = rec0.t2s
      LEFT JOIN registry r ON rec0.kind IN ('r', 'i') AND r.meter = rec0.id
    )
    SELECT seq, kind, id, source, t1, t2,
           CASE WHEN isfinite(v0) THEN v0 END AS v, m_region, max_kw,
           CASE                                 -- first failing check gives the reason
             WHEN kind NOT IN ('r', 'i', 'f', 'm') OR nf <> CASE kind WHEN 'r' THEN 4 WHEN 'i' THEN 5
                                                              WHEN 'f' THEN 5 ELSE 6 END
               OR NOT regexp_full_match(id, '{IDENT_RE}') THEN 'malformed'
             WHEN kind IN ('r', 'i') AND NOT known_meter THEN 'unknown_meter'
             WHEN kind IN ('f', 'm') AND id NOT IN (SELECT region FROM provinces) THEN 'unknown_region'
             WHEN kind = 'm' AND source NOT IN (SELECT source FROM source_ef) THEN 'unknown_source'
             WHEN t1 IS NULL OR (kind <> 'r' AND t2 IS NULL) THEN 'bad_timestamp'
             WHEN v0 IS NULL OR NOT isfinite(v0) THEN 'bad_number'
             WHEN v0 < 0 THEN 'negative_value'
             WHEN kind <> 'r' AND t2 <= t1 THEN 'bad_interval'
           END AS reject_reason
    FROM p
    """)
    q("DROP TABLE rec0")
    q("DROP TABLE raw")

    # ---- 4. watermark at arrival, lateness, duplicates --------------------------------------------
    # A rejected line never moves the watermark (reference §4.3), and an i record rejected for an overlap
    # may hold the latest end so far: the lines rejected by the sequential i rule are left out of
    # the running max and the decisions are taken again, until they no longer change.
    prev_excluded = []
    q("CREATE TABLE i_excluded(seq BIGINT)")
    while True:
        # mt = meter-record time (r: ts, i: end) of statelessly valid meter records, else NULL.
        # w_at = W when the line arrives = max(mt of earlier lines) - rw   (NULL = -infinity)
        # late = valid meter record with mt <= w_at
        q(f"""
        CREATE OR REPLACE TABLE rec_w AS
        SELECT *, (mt IS NOT NULL AND w_at IS NOT NULL AND mt <= w_at) AS late
        FROM (
          SELECT *,
                 max(mt) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) - {rw} AS w_at
          FROM (SELECT *, CASE WHEN reject_reason IS NULL AND kind IN ('r', 'i')
                               AND seq NOT IN (SELECT seq FROM i_excluded)
                               THEN CASE kind WHEN 'r' THEN t1 ELSE t2 END END AS mt FROM rec))
        """)
        # Among the non-late valid records: the first r reading of a (meter, ts) stays, a later one is
        # a duplicate if its value is equal, else rejected conflicting_duplicate; the first i record
        # of a (meter, start, end, kwh) stays, later ones are duplicates. Only keys seen more than once
        # are listed (small tables).
        q("""
        CREATE OR REPLACE TABLE r_first AS
        SELECT id, t1, min(seq) AS first_seq, arg_min(v, seq) AS first_v
        FROM rec_w WHERE kind = 'r' AND reject_reason IS NULL AND NOT late
        GROUP BY id, t1 HAVING count(*) > 1
        """)
        q("""
        CREATE OR REPLACE TABLE i_first AS
        SELECT id, t1, t2, v, min(seq) AS first_seq
        FROM rec_w WHERE kind = 'i' AND reject_reason IS NULL AND NOT late
        GROUP BY id, t1, t2, v HAVING count(*) > 1
        """)
        q("""
        CREATE OR REPLACE TABLE status AS
        SELECT w.seq, w.kind, w.id, w.source, w.t1, w.t2, w.v, w.m_region, w.max_kw, w.mt, w.w_at,
               CASE WHEN w.reject_reason IS NOT NULL THEN 'rejected'
                    WHEN w.late THEN 'late'
                    WHEN rf.first_seq IS NOT NULL AND w.seq <> rf.first_seq
                         THEN CASE WHEN w.v = rf.first_v THEN 'duplicate' ELSE 'rejected' END
                    WHEN xf.first_seq IS NOT NULL AND w.seq <> xf.first_seq THEN 'duplicate'
                    ELSE 'accepted' END AS st,         -- f: revised below; m: always accepted
               CASE WHEN w.reject_reason IS NOT NULL THEN w.reject_reason
                    WHEN NOT w.late AND rf.first_seq IS NOT NULL AND w.seq <> rf.first_seq
                         AND w.v <> rf.first_v THEN 'conflicting_duplicate' END AS why
        FROM rec_w w
        LEFT JOIN r_first rf ON w.kind = 'r' AND rf.id = w.id AND rf.t1 = w.t1
        LEFT JOIN i_first xf ON w.kind = 'i' AND xf.id = w.id AND xf.t1 = w.t1 AND xf.t2 = w.t2 AND xf.v = w.v
        """)

        # i records: sequential resend and overlap rule (small Python loop over the valid, non-late i
        # records only; it decides them all again, whatever i_first said).
        i_rows = q("SELECT seq, id, t1, t2, v FROM status WHERE kind = 'i' AND st IN ('accepted', 'duplicate') "
                   "ORDER BY seq").fetchall()
        i_dup, i_rej = interval_decisions(i_rows)
        excluded = sorted(seq for seq, _ in i_rej)
        if excluded == prev_excluded:
            break
        prev_excluded = excluded
        q("DELETE FROM i_excluded")
        if excluded:
            q("INSERT INTO i_excluded SELECT unnest($1::BIGINT[])", [excluded])
    q("DROP TABLE rec")
    q("DROP TABLE rec_w")
    q("DROP TABLE i_excluded")
    q("CREATE TEMP TABLE i_dec(seq BIGINT, st VARCHAR, why VARCHAR)")
    if i_dup:
        q("INSERT INTO i_dec SELECT unnest($1::BIGINT[]), 'duplicate', NULL", [i_dup])
    if i_rej:
        q("INSERT INTO i_dec SELECT s, 'rejected', w FROM (SELECT unnest($1::BIGINT[]) AS s, unnest($2::VARCHAR[]) AS w)",
          [[s for s, _ in i_rej], [w for _, w in i_rej]])
    q("UPDATE status SET st = 'accepted' WHERE kind = 'i' AND st = 'duplicate'")
    q("UPDATE status SET st = d.st, why = d.why FROM i_dec d WHERE status.seq = d.seq")

    # f records: sequential overlap rule (small Python loop over the f records only).
    f_rows = q("SELECT seq, id, t1, t2 FROM status WHERE kind = 'f' AND st = 'accepted' "
               "ORDER BY seq").fetchall()
    f_rejected = overlapping_factor_rejections(f_rows)
    if f_rejected:
        q("CREATE TEMP TABLE f_rej(seq BIGINT)")
        q("INSERT INTO f_rej SELECT unnest($1::BIGINT[])", [f_rejected])
        q("UPDATE status SET st = 'rejected', why = 'overlapping_factor' "
          "WHERE seq IN (SELECT seq FROM f_rej)")

    counts = dict(q("SELECT st, count(*) FROM status GROUP BY st").fetchall())
    reasons = dict(q("SELECT why, count(*) FROM status WHERE st = 'rejected' GROUP BY why").fetchall())

    # ---- 5. energy spans ------------------------------------------------------------------------
    # r: consecutive accepted readings per meter in time order; reset (v1 < v0) or implausible
    # jump ((v1-v0)/hours > max_kw) -> no span, v1 is simply the next baseline.
    q(f"""
    CREATE TABLE spans AS
    WITH rr AS (
      SELECT id AS meter, m_region AS region, max_kw, t1 AS ts, v,
             lag(t1) OVER w AS t0, lag(v) OVER w AS v0
      FROM status WHERE kind = 'r' AND st = 'accepted'
      WINDOW w AS (PARTITION BY id ORDER BY t1)
    ),
    s AS (
      SELECT meter, region, t0 AS a, ts AS b, v - v0 AS e FROM rr
      WHERE t0 IS NOT NULL AND v >= v0
        AND NOT (max_kw IS NOT NULL AND (v - v0) / ((ts - t0) / {3600.0 * NS}) > max_kw)
      UNION ALL
      SELECT id, m_region, t1, t2, v FROM status WHERE kind = 'i' AND st = 'accepted'
    )
    SELECT row_number() OVER () AS span_id, * FROM s
    """)

    # ---- 6. attribution time, late_span part ------------------------------------------------------
    # The distinct values W takes: W at the arrival of each line, plus W after the last line.
    # W_before(span) = largest W value < b (ASOF join); the slots
    # closed then are those ending at or before W_before - span_horizon, i.e. the time before
    # C = floor_to_slot(W_before - span_horizon). The part of [a, b) before C is late_span.
    q(f"CREATE TABLE wvals AS SELECT DISTINCT w_at AS w FROM status WHERE w_at IS NOT NULL "
      f"UNION SELECT max(mt) - {rw} FROM status HAVING max(mt) IS NOT NULL")
    q(f"""
    CREATE TABLE spans_c AS
    SELECT s.*, wv.w AS w_before,
           CASE WHEN wv.w IS NULL THEN s.a
                ELSE greatest(s.a, floor_to(wv.w - {horizon}, {slot})) END AS a2
    FROM spans s ASOF LEFT JOIN wvals wv ON s.b > wv.w
    """)
    late_span_kwh, span_kwh, n_late_spans = q("""
        SELECT coalesce(sum(CASE WHEN a2 >= b THEN e WHEN a2 > a THEN e * (a2 - a) / (b - a) ELSE 0 END), 0),
               coalesce(sum(e), 0), count(*) FILTER (WHERE a2 > a)
        FROM spans_c""").fetchone()

    # ---- 7. span -> slot pieces (attributed part [a2, b) only) ----------------------------------
    # piece energy = E * overlap(slot, [a2, b)) / (b - a); a span lying inside one slot gives E.
    # `cont` marks a piece whose span already covered the previous slot (used to count spans
    # once per window in step 9).
    q(f"""
    CREATE TABLE span_slot AS
    SELECT meter, region, ss,
           CASE WHEN a2 = a AND a >= ss AND b <= ss + {slot} THEN e
                ELSE e * (least(b, ss + {slot}) - greatest(a2, ss)) / (b - a) END AS e,
           a2 < ss AS cont
    FROM (SELECT *, unnest(range(floor_to(a2, {slot}), b, {slot})) AS ss
          FROM spans_c WHERE a2 < b)
    """)
    q("CREATE TABLE meter_slot AS SELECT meter, region, ss, sum(e) AS e, count(*) AS n, "
      "count(*) FILTER (WHERE cont) AS n_cont FROM span_slot GROUP BY meter, region, ss")
    q("DROP TABLE span_slot")

    # ---- 8. emission factor of each (region, slot) that has energy -------------------------------
    compute_slot_factors(q, slot, horizon, off)

    # ---- 9. windows and levels ------------------------------------------------------------------
    # co2 = slot energy * slot factor, realtime energy = slot energy * rt_frac, per meter and slot.
    q("""
    CREATE TABLE meter_slot_f AS
    SELECT m.meter, m.ss, m.e, m.e * f.factor AS co2, m.e * f.rt_frac AS rt, m.n, m.n_cont
    FROM meter_slot m JOIN slot_factor f USING (region, ss)
    """)
    # Number formatting, in SQL: `repr` = DuckDB's shortest round-trip text of the double (like
    # Python's repr); `spec` = C's %.6f, then trailing zeros and a trailing point dropped.
    if args.format == "spec":
        def num(x):
            return f"regexp_replace(printf('%.6f', {x}), '\\.?0+$', '')"
    else:
        def num(x):
            return f"CAST({x} AS VARCHAR)"

    def ts_text(x):  # instant (ns) -> 'YYYY-MM-DDTHH:MM:SS+08:00'
        return (f"(strftime(make_timestamp(CAST(({x} + {off}) // 1000 AS BIGINT)), "
                f"'%Y-%m-%dT%H:%M:%S') || '{ZONE_SUFFIX}')")

    out_rows = {}
    for wname, wlen in windows:
        # Per meter and window: energy, co2, realtime energy and the number of spans overlapping
        # the window. A span overlapping j slots of the window has j pieces there, j - 1 of them
        # `cont` pieces in slots other than the window's first one; so the count of distinct spans
        # is sum(n) - sum(n_cont of the slots after the window's first).
        if wlen == slot:
            per_meter = "SELECT meter, ss AS ws, e, co2, rt, n AS nspans FROM meter_slot_f"
        else:
            per_meter = f"""
              SELECT meter, ws, sum(e) AS e, sum(co2) AS co2, sum(rt) AS rt,
                     sum(n - CASE WHEN ss <> ws THEN n_cont ELSE 0 END) AS nspans
              FROM (SELECT *, floor_to(ss, {wlen}) AS ws FROM meter_slot_f)
              GROUP BY meter, ws"""
        q(f"""
        CREATE OR REPLACE TABLE meter_win AS
        SELECT m.*, r.region, r.city, r.park, r.enterprise, r.industry
        FROM ({per_meter}) m JOIN registry r USING (meter)
        """)
        # One row per level and key: meters = rows of meter_win (one per meter and window).
        level_sql = []
        for level in LEVELS:
            keyexpr = {"national": "'CN'", "province": "region"}.get(level, level)
            level_sql.append(f"""
              SELECT ws, '{level}' AS level, {keyexpr} AS key, sum(e) AS e, sum(co2) AS co2,
                     sum(rt) AS rt, count(*) AS meters, sum(nspans) AS spans
              FROM meter_win WHERE {keyexpr} IS NOT NULL GROUP BY ws, {keyexpr}""")
        out_rows[(wname, wlen)] = q(f"""
          SELECT ws, {ts_text('ws')} || ',' || {ts_text(f'ws + {wlen}')} || ',' || level || ',' || key
                 || ',' || {num('e')} || ',' || {num('co2')}
                 || ',' || CASE WHEN e <> 0 THEN {num('co2 / e')} ELSE '' END
                 || ',' || meters || ',' || spans
                 || ',' || CASE WHEN e <> 0 THEN {num('rt / e')} ELSE '' END AS line
          FROM ({" UNION ALL ".join(level_sql)})
          ORDER BY ws, level, key      -- DuckDB's default collation compares bytes
        """).fetchall()

    elapsed = time.monotonic() - t_start
    if args.verbose:
        print("computed in %.2fs; writing files" % elapsed, file=sys.stderr)
    n_files = write_outputs(args.out, out_rows)
    total_elapsed = time.monotonic() - t_start

    national = q("SELECT coalesce(sum(e), 0) FROM meter_slot").fetchone()[0]
    print("accepted=%d" % counts.get("accepted", 0))
    print("duplicate=%d" % counts.get("duplicate", 0))
    print("rejected=%d" % counts.get("rejected", 0))
    print("late=%d" % counts.get("late", 0))
    for why in sorted(reasons, key=str):
        print("rejected_%s=%d" % (why, reasons[why]))
    print("spans=%d" % q("SELECT count(*) FROM spans").fetchone()[0])
    print("late_spans=%d" % n_late_spans)
    print("late_span_kwh=%r" % float(late_span_kwh))
    print("span_kwh=%r" % float(span_kwh))
    print("attributed_kwh=%r" % float(national))
    print("files=%d" % n_files)
    print("reference_seconds=%.3f" % elapsed)
    print("total_seconds=%.3f" % total_elapsed)


def interval_decisions(i_rows):
    """reference §3.1: in arrival order, an i record with the meter, start and end of an accepted one is
    a duplicate (same kwh) or `conflicting_duplicate`; one that overlaps any other accepted interval
    of the meter is `overlapping_interval`. Accepted intervals of a meter are pairwise disjoint, so
    only the one with the largest start < new end can overlap. Returns (duplicate seqs,
    [(rejected seq, reason)])."""
    import bisect
    by_meter = {}  # meter -> (sorted list of starts, {start: (end, kwh)})
    dup, rejected = [], []
    for seq, meter, start, end, kwh in i_rows:
        starts, spans = by_meter.setdefault(meter, ([], {}))
        i = bisect.bisect_left(starts, end) - 1  # largest start < end
        if i >= 0 and spans[starts[i]][0] > start:
            s0 = starts[i]
            e0, v0 = spans[s0]
            if s0 == start and e0 == end:
                if v0 == kwh:
                    dup.append(seq)
                else:
                    rejected.append((seq, "conflicting_duplicate"))
            else:
                rejected.append((seq, "overlapping_interval"))
            continue
        bisect.insort(starts, start)
        spans[start] = (end, kwh)
    return dup, rejected


def overlapping_factor_rejections(f_rows):
    """reference §3.3: f records of a region must not partly overlap. In arrival order, an f record
    whose (start, end) equals an accepted one replaces it (accepted); one that overlaps any other
    accepted record of its region is rejected `overlapping_factor` (and blocks nothing later).
    Accepted intervals of a region are pairwise disjoint, so keeping them sorted by start, only the
    interval with the largest start < new end can overlap the new one."""
    import bisect
    by_region = {}  # region -> (sorted list of starts, {start: end})
    rejected = []
    for seq, region, start, end in f_rows:
        starts, ends = by_region.setdefault(region, ([], {}))
        if ends.get(start) == end:
            continue  # exact repeat of region,start,end: replaces the earlier one
        i = bisect.bisect_left(starts, end) - 1  # largest start < end
        if i >= 0 and ends[starts[i]] > start:
            rejected.append(seq)
            continue
        bisect.insort(starts, start)
        ends[start] = end
    return rejected


def compute_slot_factors(q, slot, horizon, off):
    """Table slot_factor(region, ss, factor, rt_frac) for every (region, slot) holding energy.

    The slot [ss, se) is cut at every boundary of the f and m records in force, giving pieces on
    which the rule of reference §3.3 is constant; a piece's factor is
      1. the f record covering it, else
      2. the generation-mix factor of the m records covering it, weighting each source by its
         AVERAGE POWER over its own interval: w = mwh / hours(end - start),
         factor = sum(w * ef_source) / sum(w)  (only when sum(w) > 0), else
      3. the region's annual factor for the local year of ss (latest year <= it), else the
         national (CN) one by the same rule (table rs_annual below).
    factor = sum(piece factor * piece length) / slot length; rt_frac = share of the slot's time
    covered by rules 1-2. Only records known when the slot closes count: arrival W < se + horizon;
    among records with the same key (f: region,start,end; m: region,start,end,source) the latest
    such arrival wins.
    """
    q("CREATE TABLE region_slot AS SELECT DISTINCT region, ss FROM meter_slot")
    q(f"""
    CREATE TABLE f_eff AS
    SELECT rs.region, rs.ss, s.t1 AS fs, s.t2 AS fe, s.v
    FROM region_slot rs JOIN status s
      ON s.kind = 'f' AND s.st = 'accepted' AND s.id = rs.region
     AND s.t1 < rs.ss + {slot} AND s.t2 > rs.ss
     AND (s.w_at IS NULL OR s.w_at < rs.ss + {slot} + {horizon})
    QUALIFY row_number() OVER (PARTITION BY rs.region, rs.ss, s.t1, s.t2 ORDER BY s.seq DESC) = 1
    """)
    q(f"""
    CREATE TABLE m_eff AS
    SELECT rs.region, rs.ss, s.t1 AS ms, s.t2 AS me, s.source,
           s.v / ((s.t2 - s.t1) / {3600.0 * NS}) AS w, ef.ef
    FROM region_slot rs JOIN status s
      ON s.kind = 'm' AND s.st = 'accepted' AND s.id = rs.region
     AND s.t1 < rs.ss + {slot} AND s.t2 > rs.ss
     AND (s.w_at IS NULL OR s.w_at < rs.ss + {slot} + {horizon})
    JOIN source_ef ef ON ef.source = s.source
    QUALIFY row_number() OVER (PARTITION BY rs.region, rs.ss, s.t1, s.t2, s.source
                               ORDER BY s.seq DESC) = 1
    """)
    # Annual factor per (region, local year of ss): the region's own factor of the latest year
    # <= Y, else CN's by the same rule. Years before the first year in the table (not covered by
    # the spec) fall back to the earliest year available, region first, then CN.
    q(f"""
    CREATE TABLE rs_year AS
    SELECT region, ss, CAST(year(make_timestamp(CAST((ss + {off}) // 1000 AS BIGINT))) AS INTEGER) AS y
    FROM region_slot
    """)
    q("""
    CREATE TABLE rs_annual AS
    WITH ry AS (SELECT DISTINCT region, y FROM rs_year),
    own AS (SELECT ry.region, ry.y, a.factor FROM ry ASOF LEFT JOIN annual a
            ON a.region = ry.region AND ry.y >= a.year),
    cn AS (SELECT ry.y, a.factor FROM (SELECT DISTINCT y FROM ry) ry ASOF LEFT JOIN
           (SELECT * FROM annual WHERE region = 'CN') a ON ry.y >= a.year),
    own_first AS (SELECT region, arg_min(factor, year) AS factor FROM annual GROUP BY region),
    cn_first AS (SELECT arg_min(factor, year) AS factor FROM annual WHERE region = 'CN')
    SELECT own.region, own.y,
           coalesce(own.factor, cn.factor, own_first.factor, (SELECT factor FROM cn_first)) AS factor
    FROM own JOIN cn USING (y) LEFT JOIN own_first USING (region)
    """)
    q(f"""
    CREATE TABLE slot_factor AS
    WITH bounds AS (
      SELECT region, ss, ss AS t FROM region_slot
      UNION SELECT region, ss, ss + {slot} FROM region_slot
      UNION SELECT region, ss, greatest(fs, ss) FROM f_eff
      UNION SELECT region, ss, least(fe, ss + {slot}) FROM f_eff
      UNION SELECT region, ss, greatest(ms, ss) FROM m_eff
      UNION SELECT region, ss, least(me, ss + {slot}) FROM m_eff
    ),
    pieces AS (
      SELECT * FROM (SELECT region, ss, t AS p, lead(t) OVER (PARTITION BY region, ss ORDER BY t) AS q
                     FROM bounds) WHERE q IS NOT NULL
    ),
    pf AS (   -- f records do not overlap each other, so at most one covers a piece
      SELECT pc.region, pc.ss, pc.p, any_value(f.v) AS fv
      FROM pieces pc JOIN f_eff f ON f.region = pc.region AND f.ss = pc.ss AND f.fs <= pc.p AND f.fe >= pc.q
      GROUP BY ALL
    ),
    pm AS (
      SELECT pc.region, pc.ss, pc.p, sum(m.w * m.ef) AS wef, sum(m.w) AS sw
      FROM pieces pc JOIN m_eff m ON m.region = pc.region AND m.ss = pc.ss AND m.ms <= pc.p AND m.me >= pc.q
      GROUP BY ALL
    ),
    pv AS (
      SELECT pc.region, pc.ss, pc.q - pc.p AS len,
             CASE WHEN pf.fv IS NOT NULL THEN pf.fv
                  WHEN pm.sw > 0 THEN pm.wef / pm.sw
                  ELSE an.factor END AS factor,
             (pf.fv IS NOT NULL OR pm.sw > 0) AS rt
      FROM pieces pc
      LEFT JOIN pf USING (region, ss, p) LEFT JOIN pm USING (region, ss, p)
      JOIN rs_year ry USING (region, ss) JOIN rs_annual an ON an.region = pc.region AND an.y = ry.y
    )
    SELECT region, ss,
           sum(factor * len) / {slot} AS factor,
           sum(CASE WHEN rt THEN len ELSE 0 END) / {slot} AS rt_frac
    FROM pv GROUP BY region, ss
    """)
    n_rs, n_f = q("SELECT (SELECT count(*) FROM region_slot), "
                  "(SELECT count(*) FROM slot_factor WHERE factor IS NOT NULL)").fetchone()
    assert n_rs == n_f, "a region slot got no factor"


def write_outputs(out_dir, out_rows):
    """DIR/aggregates/window=<len>/date=<YYYY-MM-DD>/<HHMM>.csv; out_rows maps (name, length) to
    (window_start_ns, csv_line) tuples ordered by window start, level, key."""
    n_files = 0
    for (wname, _), rows in out_rows.items():
        i = 0
        while i < len(rows):
            ws = rows[i][0]
            j = i
            while j < len(rows) and rows[j][0] == ws:
                j += 1
            start = local_dt(ws)
            folder = os.path.join(out_dir, "aggregates", "window=" + wname,
                                  "date=" + start.strftime("%Y-%m-%d"))
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, start.strftime("%H%M") + ".csv")
            with open(path + ".tmp", "w", newline="\n") as f:
                f.write(HEADER + "\n")
                f.write("".join(r[1] + "\n" for r in rows[i:j]))
            os.replace(path + ".tmp", path)
            n_files += 1
            i = j
    return n_files


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    shipped_data = os.path.normpath(os.path.join(here, "..", "data"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--registry", required=True)
    ap.add_argument("--out", required=True, help="output folder (aggregates/ is written in it)")
    ap.add_argument("--factors", default=os.path.join(shipped_data, "cn_grid_factors.csv"))
    ap.add_argument("--source-factors", default=os.path.join(shipped_data, "source_factors.csv"))
    ap.add_argument("--source-basis", default="direct")
    ap.add_argument("--reorder-window", type=parse_duration, default=900, help="seconds (or 15m)")
    ap.add_argument("--span-horizon", type=parse_duration, default=3600, help="seconds (or 1h)")
    ap.add_argument("--slot", type=parse_duration, default=900, help="seconds (or 15m)")
    ap.add_argument("--windows", default="15m,1h,1d")
    ap.add_argument("--format", choices=["repr", "spec"], default="repr",
                    help="repr: full-precision doubles (default); spec: %%.6f trimmed as in reference §1")
    ap.add_argument("--verbose", action="store_true", help="log each SQL step's time to stderr")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    ap.add_argument("inputs", nargs="+", metavar="INPUT")
    args = ap.parse_args(argv)
    if args.slot <= 0:
        ap.error("--slot must be positive")
    run(args)


if __name__ == "__main__":
    main()
