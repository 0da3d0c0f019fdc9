"""Tests of the reference implementation (scripts/reference.py) and of scripts/compare.py.

    python3 -m pytest scripts/test_reference.py

1. The worked example (Tests/Fixtures/basic), byte for byte with `--format spec`.
2. Small hand-made inputs whose expected numbers are computed by hand in the comments:
   a long gap producing late_span energy, f records partly covering slots (with a replacement,
   an overlap rejection and one arriving after its slot closed), and a generation mix whose m
   records have different interval lengths (average-power weighting).
3. Timestamp / number / line parsing and the counts.
4. compare.py on the worked example (equal) and on a damaged copy (different).
"""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASIC = REPO / "Tests" / "Fixtures" / "basic"   # the worked example of docs/reference.md
REFERENCE = HERE / "reference.py"
COMPARE = HERE / "compare.py"

GD_2023 = 0.4419    # CN-GD annual average factor, data year 2023 (latest in the table)
YN_2023 = 0.1333    # CN-YN
EF = {"coal": 0.760, "gas": 0.370, "hydro": 0.0}   # source_factors.csv, basis=direct

REGISTRY_HEADER = "meter_id,region,city,park,enterprise,industry,max_kw\n"


def run_reference(tmp_path, registry_text, records, *extra, registry=None):
    """Run reference.py; return (counts dict, output folder)."""
    out = tmp_path / "out"
    if registry is None:
        registry = tmp_path / "registry.csv"
        registry.write_text(registry_text)
    inputs = []
    if isinstance(records, str):
        records = [records]
    for n, text in enumerate(records):
        if isinstance(text, Path):
            inputs.append(str(text))
            continue
        p = tmp_path / ("records%d.csv" % n)
        p.write_text(text)
        inputs.append(str(p))
    res = subprocess.run([sys.executable, str(REFERENCE), "--registry", str(registry),
                          "--out", str(out), *extra, *inputs],
                         check=True, capture_output=True, text=True)
    counts = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    return counts, out


def read_rows(out, window, date, hhmm):
    """{(level, key): row dict} of one output file, numbers as float/int."""
    path = out / "aggregates" / ("window=" + window) / ("date=" + date) / (hhmm + ".csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    result = {}
    for r in rows:
        for c in ("energy_kwh", "co2_kg", "intensity_kg_per_kwh", "realtime_share"):
            r[c] = float(r[c]) if r[c] != "" else None
        for c in ("meters", "spans"):
            r[c] = int(r[c])
        result[(r["level"], r["key"])] = r
    return result


def files(out):
    return sorted(str(p.relative_to(out / "aggregates")) for p in (out / "aggregates").rglob("*.csv"))


def check(row, energy, co2, meters, spans, rt_share):
    assert row["energy_kwh"] == pytest.approx(energy, rel=1e-12, abs=1e-12)
    assert row["co2_kg"] == pytest.approx(co2, rel=1e-12, abs=1e-12)
    assert row["intensity_kg_per_kwh"] == pytest.approx(co2 / energy, rel=1e-12)
    assert row["meters"] == meters
    assert row["spans"] == spans
    assert row["realtime_share"] == pytest.approx(rt_share, rel=1e-12, abs=1e-12)


def t(hhmm, day="2026-11-18"):
    return "%sT%s:00+08:00" % (day, hhmm)


def quarter_hours(start, end):
    """'10:00', '10:15', ... from start to end inclusive."""
    h, m = map(int, start.split(":"))
    eh, em = map(int, end.split(":"))
    out = []
    while (h, m) <= (eh, em):
        out.append("%02d:%02d" % (h, m))
        m += 15
        if m == 60:
            h, m = h + 1, 0
    return out


# --- 1. the worked example -----------------------------------------------------------------------

def test_basic_example_byte_for_byte(tmp_path):
    counts, out = run_reference(tmp_path, None, [BASIC / "records.csv"], "--format", "spec",
                                registry=BASIC / "registry.csv")
    assert (counts["accepted"], counts["duplicate"], counts["rejected"], counts["late"]) == \
        ("20", "1", "2", "1")
    assert float(counts["late_span_kwh"]) == 0
    expected = sorted(BASIC.joinpath("expected").rglob("*.csv.zst"))
    assert expected, "no expected files"
    got = files(out)
    assert got == sorted(str(p.relative_to(BASIC / "expected" / "aggregates"))[:-len(".zst")]
                         for p in expected)
    for p in expected:
        want = subprocess.run(["zstd", "-dcq", str(p)], check=True, capture_output=True).stdout
        rel = p.relative_to(BASIC / "expected")
        have = (out / str(rel)[:-len(".zst")]).read_bytes()
        assert have == want, "differs: %s" % rel


# --- 2a. a long gap: late_span energy ------------------------------------------------------------

def test_long_gap_late_span(tmp_path):
    # Meter A reads every 15 min, +1 kWh each, 10:00 .. 13:15 (14 readings, 13 spans of 1 kWh).
    # Meter B reads at 10:00 (value 0) and next at 13:00 (value 12): one span [10:00, 13:00) of
    # 12 kWh, 1 kWh per slot. B's 13:00 reading arrives after A's 13:00 (W = 12:45, not late).
    # A's 13:15 then moves W from 12:45 to 13:00 >= 13:00: B's span is attributed with
    # W_before = 12:45; the slots then closed end at or before 12:45 - 1 h = 11:45, i.e. the
    # slots 10:00 .. 11:30: 7 kWh late_span, 5 kWh attributed to 11:45, 12:00, 12:15, 12:30, 12:45.
    # A final B reading at 12:00 is late (12:00 <= W = 13:00) and changes nothing.
    lines = ["r,B,%s,0" % t("10:00")]
    for n, hm in enumerate(quarter_hours("10:00", "13:00")):
        lines.append("r,A,%s,%d" % (t(hm), n))
    lines.append("r,B,%s,12" % t("13:00"))
    lines.append("r,A,%s,13" % t("13:15"))
    lines.append("r,B,%s,8" % t("12:00"))
    reg = REGISTRY_HEADER + "A,CN-GD,GZ,,,C,\nB,CN-GD,GZ,,,C,\n"
    counts, out = run_reference(tmp_path, reg, "\n".join(lines) + "\n")
    assert (counts["accepted"], counts["duplicate"], counts["rejected"], counts["late"]) == \
        ("16", "0", "0", "1")
    assert float(counts["late_span_kwh"]) == pytest.approx(7.0, rel=1e-12)
    assert float(counts["span_kwh"]) == pytest.approx(13 + 12, rel=1e-12)
    f = GD_2023
    h10 = read_rows(out, "1h", "2026-11-18", "1000")
    check(h10[("national", "CN")], 4, 4 * f, 1, 4, 0)          # A only; B's part there is late
    h11 = read_rows(out, "1h", "2026-11-18", "1100")
    check(h11[("national", "CN")], 5, 5 * f, 2, 5, 0)          # A 4 + B 1 (11:45-12:00)
    check(h11[("city", "GZ")], 5, 5 * f, 2, 5, 0)
    h12 = read_rows(out, "1h", "2026-11-18", "1200")
    check(h12[("province", "CN-GD")], 8, 8 * f, 2, 5, 0)       # A 4 + B 4, B counted once
    h13 = read_rows(out, "1h", "2026-11-18", "1300")
    check(h13[("industry", "C")], 1, f, 1, 1, 0)
    q1130 = read_rows(out, "15m", "2026-11-18", "1130")
    check(q1130[("national", "CN")], 1, f, 1, 1, 0)
    q1145 = read_rows(out, "15m", "2026-11-18", "1145")
    check(q1145[("national", "CN")], 2, 2 * f, 2, 2, 0)
    d = read_rows(out, "1d", "2026-11-18", "0000")
    check(d[("national", "CN")], 18, 18 * f, 2, 14, 0)         # 13 + 5; conservation: 18 + 7 = 25
    assert len(files(out)) == 13 + 4 + 1                        # 15m slots 10:00..13:00, 4 h, 1 d


# --- 2b. f records partly covering slots ---------------------------------------------------------

def test_realtime_factor_partial_slot(tmp_path):
    # Meter G (CN-GD) reads every 15 min from 10:00 to 12:00, +3 kWh each: 3 kWh per slot.
    # f records, in arrival order:
    #   f 10:05-10:10 0.3             accepted
    #   f 10:05-10:10 0.6             exact repeat: replaces (slot 10:00 still open)
    #   f 10:08-10:20 0.2             overlaps 10:05-10:10 partly: rejected overlapping_factor
    #   f 10:10-10:20 0.2             overlaps only the rejected one: accepted
    #   f 10:30-10:45 0.1             arrives when W = 11:45 = 10:45 + span_horizon: slot 10:30
    #                                 is closed, the factor comes too late for it (accepted, unused)
    # slot 10:00: 5 min annual, 5 min 0.6, 5 min 0.2 -> (0.4419 + 0.6 + 0.2) / 3; rt 2/3
    # slot 10:15: 5 min 0.2, 10 min annual -> (0.2 * 5 + 0.4419 * 10) / 15; rt 1/3
    # slot 10:30 and later: annual 0.4419, rt 0
    lines = ["f,CN-GD,%s,%s,0.3" % (t("10:05"), t("10:10")),
             "r,G,%s,0" % t("10:00"),
             "r,G,%s,3" % t("10:15"),
             "f,CN-GD,%s,%s,0.6" % (t("10:05"), t("10:10")),
             "f,CN-GD,%s,%s,0.2" % (t("10:08"), t("10:20")),
             "f,CN-GD,%s,%s,0.2" % (t("10:10"), t("10:20"))]
    for n, hm in enumerate(quarter_hours("10:30", "12:00")):
        lines.append("r,G,%s,%d" % (t(hm), 3 * (n + 2)))
    lines.append("f,CN-GD,%s,%s,0.1" % (t("10:30"), t("10:45")))
    reg = REGISTRY_HEADER + "G,CN-GD,GZ,P1,E1,D,\n"
    counts, out = run_reference(tmp_path, reg, "\n".join(lines) + "\n")
    assert (counts["accepted"], counts["duplicate"], counts["rejected"], counts["late"]) == \
        ("13", "0", "1", "0")
    assert counts["rejected_overlapping_factor"] == "1"
    a = GD_2023
    f1000 = (a + 0.6 + 0.2) / 3
    f1015 = (0.2 * 5 + a * 10) / 15
    q = read_rows(out, "15m", "2026-11-18", "1000")
    check(q[("park", "P1")], 3, 3 * f1000, 1, 1, 2 / 3)
    q = read_rows(out, "15m", "2026-11-18", "1015")
    check(q[("enterprise", "E1")], 3, 3 * f1015, 1, 1, 1 / 3)
    q = read_rows(out, "15m", "2026-11-18", "1030")
    check(q[("province", "CN-GD")], 3, 3 * a, 1, 1, 0)
    h = read_rows(out, "1h", "2026-11-18", "1000")
    check(h[("national", "CN")], 12, 3 * f1000 + 3 * f1015 + 6 * a, 1, 4, (2 + 1) / 12)
    h = read_rows(out, "1h", "2026-11-18", "1100")
    check(h[("national", "CN")], 12, 12 * a, 1, 4, 0)


# --- 2c. generation mix with different interval lengths ------------------------------------------

def test_generation_mix_average_power(tmp_path):
    # CN-YN, meter Y reads every 15 min 10:00..11:00, +1 kWh each: 1 kWh per slot.
    #   m coal  10:00-12:00 200 MWh -> 100 MW
    #   m gas   10:00-10:20  10 MWh ->  30 MW
    #   m hydro 10:30-11:00  50 MWh, later replaced by 150 MWh -> 300 MW
    # slot 10:00: (100*0.76 + 30*0.37) / 130 = 87.1 / 130 = 0.67
    #   (weighting by energy instead would give (200*0.76 + 10*0.37) / 210 = 0.7414...)
    # slot 10:15: 5 min of 0.67, 10 min of coal alone 0.76 -> (0.67*5 + 0.76*10) / 15 = 0.73
    # slot 10:30, 10:45: (100*0.76 + 300*0) / 400 = 0.19
    mix1 = (100 * EF["coal"] + 30 * EF["gas"]) / 130
    mix2 = (100 * EF["coal"] + 300 * EF["hydro"]) / 400
    lines = ["m,CN-YN,%s,%s,coal,200" % (t("10:00"), t("12:00")),
             "m,CN-YN,%s,%s,gas,10" % (t("10:00"), t("10:20")),
             "m,CN-YN,%s,%s,hydro,50" % (t("10:30"), t("11:00"))]
    for n, hm in enumerate(quarter_hours("10:00", "11:00")):
        lines.append("r,Y,%s,%d" % (t(hm), n))
        if hm == "10:15":
            lines.append("m,CN-YN,%s,%s,hydro,150" % (t("10:30"), t("11:00")))
    reg = REGISTRY_HEADER + "Y,CN-YN,KM,,,,\n"
    counts, out = run_reference(tmp_path, reg, "\n".join(lines) + "\n")
    assert (counts["accepted"], counts["duplicate"], counts["rejected"], counts["late"]) == \
        ("9", "0", "0", "0")
    assert mix1 == pytest.approx(0.67) and mix2 == pytest.approx(0.19)
    q = read_rows(out, "15m", "2026-11-18", "1000")
    check(q[("city", "KM")], 1, mix1, 1, 1, 1)
    q = read_rows(out, "15m", "2026-11-18", "1015")
    check(q[("city", "KM")], 1, (mix1 * 5 + EF["coal"] * 10) / 15, 1, 1, 1)
    q = read_rows(out, "15m", "2026-11-18", "1045")
    check(q[("province", "CN-YN")], 1, mix2, 1, 1, 1)
    h = read_rows(out, "1h", "2026-11-18", "1000")
    check(h[("national", "CN")], 4, mix1 + (mix1 * 5 + EF["coal"] * 10) / 15 + 2 * mix2, 1, 4, 1)
    assert set(h) == {("national", "CN"), ("province", "CN-YN"), ("city", "KM")}


# --- 3. parsing and counts ------------------------------------------------------------------------

def test_parsing_and_counts(tmp_path):
    # Meter Z (CN-BJ, annual 2023 0.5554 applies to 2026). Readings spelled in several ways.
    lines = [
        "# comment", "", "   ",
        "r,Z,2026-11-18T02:00:00Z,10",                 # 10:00 local, accepted
        "r,Z,1794968100,10.5",                         # 10:15 local as Unix seconds, accepted
        "r,Z,2026-11-18T10:15:00.000+08:00,10.50",     # same instant, same value: duplicate
        "r,Z,2026-11-18T10:15:00+08:00,11",            # same instant, other value: rejected
        "r,Z,2026-11-18T10:30:00.5+08:00,12",          # fractional seconds, accepted
        "r,Z,2026-11-18 10:45:00+08:00,13",            # no 'T': bad_timestamp
        "r,Z,2026-02-30T10:45:00+08:00,13",            # no such day: bad_timestamp
        "r,Z,2026-11-18T10:45:00,13",                  # no offset: bad_timestamp
        "r,Z,2026-11-18T10:45:00+08:00,1e",            # bad number
        "r,Z,2026-11-18T10:45:00+08:00,-1",            # negative
        "r,Z,2026-11-18T10:45:00+08:00",               # missing field: malformed
        "x,Z,2026-11-18T10:45:00+08:00,1",             # unknown kind: malformed
        "i,Z,%s,%s,1" % (t("10:45"), t("10:45")),       # end <= start: rejected
        "i,Z,%s,%s,1" % (t("10:45"), t("11:00")),       # accepted
        "i,Z,%s,%s,1.0" % (t("10:45"), t("11:00")),     # exact repeat (same number): duplicate
        "m,CN-BJ,%s,%s,uranium,1" % (t("10:00"), t("11:00")),   # unknown source: rejected
        "f,CN,%s,%s,0.5" % (t("10:00"), t("11:00")),            # f names a province: rejected
        "r,Q,%s,1" % t("10:00"),                                # unknown meter: rejected
    ]
    reg = REGISTRY_HEADER + "Z,CN-BJ,,,,,\n"
    counts, out = run_reference(tmp_path, reg, "\r\n".join(lines) + "\r\n")
    assert (counts["accepted"], counts["duplicate"], counts["rejected"], counts["late"]) == \
        ("4", "2", "12", "0")
    assert counts["rejected_bad_timestamp"] == "3"
    assert counts["rejected_conflicting_duplicate"] == "1"
    # spans: r 10:00-10:15 0.5 kWh, 10:15-10:30:00.5 1.5 kWh (slot 10:30 gets 1.5 * 0.5s/900.5s),
    #        i 10:45-11:00 1 kWh
    h = read_rows(out, "1h", "2026-11-18", "1000")
    check(h[("national", "CN")], 3.0, 3.0 * 0.5554, 1, 3, 0)
    q = read_rows(out, "15m", "2026-11-18", "1015")
    check(q[("national", "CN")], 1.5 * 900 / 900.5, 1.5 * 900 / 900.5 * 0.5554, 1, 1, 0)
    q = read_rows(out, "15m", "2026-11-18", "1030")
    check(q[("national", "CN")], 1.5 * 0.5 / 900.5, 1.5 * 0.5 / 900.5 * 0.5554, 1, 1, 0)


def test_interval_resends_and_overlaps(tmp_path):
    # reference §3.1: same meter, start, end with another kwh is conflicting_duplicate (the first stays);
    # a partly overlapping interval is overlapping_interval, and a rejected line never moves W.
    lines = [
        "i,Z,%s,%s,4" % (t("10:00"), t("10:30")),       # accepted, W 10:15
        "i,Z,%s,%s,5" % (t("10:00"), t("10:30")),       # resend, another kwh: conflicting_duplicate
        "i,Z,%s,%s,4" % (t("10:00"), t("10:30")),       # exact repeat: duplicate
        "i,Z,%s,%s,1" % (t("10:20"), t("13:00")),       # overlaps: rejected, W stays 10:15
        "i,Z,%s,%s,1" % (t("10:15"), t("10:20")),       # inside: overlapping (not late: W is 10:15)
        "i,Z,%s,%s,2" % (t("10:30"), t("10:45")),       # adjacent: accepted
        "i,Y,%s,%s,3" % (t("10:30"), t("10:45")),       # another meter: accepted
    ]
    reg = REGISTRY_HEADER + "Z,CN-BJ,,,,,\nY,CN-BJ,,,,,\n"
    counts, out = run_reference(tmp_path, reg, "\n".join(lines) + "\n")
    assert (counts["accepted"], counts["duplicate"], counts["rejected"], counts["late"]) == \
        ("3", "1", "3", "0")
    assert counts["rejected_conflicting_duplicate"] == "1"
    assert counts["rejected_overlapping_interval"] == "2"
    h = read_rows(out, "1h", "2026-11-18", "1000")
    check(h[("national", "CN")], 9.0, 9.0 * 0.5554, 2, 3, 0)


def test_arrival_order_across_files(tmp_path):
    # The file order on the command line is the arrival order.
    # first, second: 10:00, 11:00 (W = 10:45), then 10:15 is late -> span 10:00-11:00, 4 kWh.
    # second, first: 10:15 (W = 10:00), then 10:00 is late (10:00 <= W), 11:00 -> span
    #                10:15-11:00, 3 kWh.
    reg = REGISTRY_HEADER + "M,CN-GD,,,,,\n"
    first = "r,M,%s,0\nr,M,%s,4\n" % (t("10:00"), t("11:00"))
    second = "r,M,%s,1\n" % t("10:15")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    counts, _ = run_reference(tmp_path / "a", reg, [first, second])
    assert (counts["accepted"], counts["late"], float(counts["span_kwh"])) == ("2", "1", 4.0)
    counts, _ = run_reference(tmp_path / "b", reg, [second, first])
    assert (counts["accepted"], counts["late"], float(counts["span_kwh"])) == ("2", "1", 3.0)


# --- 4. compare.py ---------------------------------------------------------------------------------

def test_compare(tmp_path):
    _, out = run_reference(tmp_path, None, [BASIC / "records.csv"], registry=BASIC / "registry.csv")
    ok = subprocess.run([sys.executable, str(COMPARE), str(out), str(BASIC / "expected")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # a damaged copy of the expected files: one co2 value off by 2e-6, one file missing
    bad = tmp_path / "bad"
    shutil.copytree(BASIC / "expected", bad)
    target = bad / "aggregates" / "window=1h" / "date=2026-11-18" / "1000.csv.zst"
    text = subprocess.run(["zstd", "-dcq", str(target)], check=True, capture_output=True,
                          text=True).stdout
    assert ",30.025833," in text
    text = text.replace(",30.025833,", ",30.025835,")
    os.chmod(target, 0o644)
    target.unlink()
    subprocess.run(["zstd", "-q", "-o", str(target)], input=text.encode(), check=True)
    (bad / "aggregates" / "window=15m" / "date=2026-11-18" / "1045.csv.zst").unlink()
    res = subprocess.run([sys.executable, str(COMPARE), str(out), str(bad)],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "missing in gridcarbon: window=15m/date=2026-11-18/1045" in res.stdout
    assert "co2_kg gridcarbon 30.025835" in res.stdout


# --- 5. random inputs against a literal streaming simulation ---------------------------------------
#
# A second, deliberately naive implementation: it walks the lines one by one exactly as reference §3.4
# describes a stream (watermark, lateness, attribution when W passes a span's end against the
# slots closed before the move, slots closing with the factors known at that moment), and
# aggregates in plain Python. reference.py computes the same thing in batch SQL; on random inputs
# with disorder, duplicates, conflicts, gaps, resets, i/f/m records they must agree.

SLOT, RW, HORIZON, OFFSET = 900, 900, 3600, 8 * 3600
WINDOWS = {"15m": 900, "1h": 3600, "1d": 86400}


def load_annual():
    table = {}
    with open(REPO / "data" / "cn_grid_factors.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "average":
                table.setdefault(row["region"], {})[int(row["year"])] = float(row["factor_kg_per_kwh"])
    return table


def load_source_factors():
    with open(REPO / "data" / "source_factors.csv", newline="") as f:
        return {r["source"]: float(r["kg_per_kwh"]) for r in csv.DictReader(f) if r["basis"] == "direct"}


def floor_local(x, length):
    return (x + OFFSET) // length * length - OFFSET


def simulate(registry, lines, annual, ef):
    """registry: {meter: (region, max_kw)}; lines: parsed records in arrival order, times in
    integer seconds. Returns ({(window, ws): {(level, key): row}}, counts, late_span_kwh)."""
    import datetime
    W = None
    readings = {}           # meter -> {ts: value}
    i_seen, i_spans = {}, {}
    f_state, m_state = {}, {}
    energy = {}             # (meter, slot) -> [kwh, set(span ids)]
    closed = {}             # (region, slot) -> (factor, rt_frac)
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "late": 0}
    late_kwh = [0.0]

    def annual_factor(region, slot_start):
        year = datetime.datetime.fromtimestamp(slot_start + OFFSET, datetime.timezone.utc).year
        for reg in (region, "CN"):
            years = [y for y in annual.get(reg, {}) if y <= year]
            if years:
                return annual[reg][max(years)]
        raise AssertionError("no factor")

    def slot_factor(region, s):
        cuts = {s, s + SLOT}
        for (a, b) in f_state.get(region, {}):
            cuts |= {min(max(a, s), s + SLOT), min(max(b, s), s + SLOT)}
        for (reg, a, b, _src) in m_state:
            if reg == region:
                cuts |= {min(max(a, s), s + SLOT), min(max(b, s), s + SLOT)}
        cuts = sorted(cuts)
        total = rt = 0.0
        for p, q in zip(cuts, cuts[1:]):
            fv = [v for (a, b), v in f_state.get(region, {}).items() if a <= p and b >= q]
            ms = [(mwh / ((b - a) / 3600), ef[src]) for (reg, a, b, src), mwh in m_state.items()
                  if reg == region and a <= p and b >= q]
            if fv:
                val, r = fv[0], True
            elif ms and sum(w for w, _ in ms) > 0:
                val, r = sum(w * e for w, e in ms) / sum(w for w, _ in ms), True
            else:
                val, r = annual_factor(region, s), False
            total += val * (q - p)
            rt += (q - p) if r else 0
        return total / SLOT, rt / SLOT

    def attribute(span_id, meter, a, b, e, w_before):
        c = -10**18 if w_before is None else floor_local(w_before - HORIZON, SLOT)
        start = max(a, c)
        if start >= b:
            late_kwh[0] += e
            return
        late_kwh[0] += e * (start - a) / (b - a)
        s = floor_local(start, SLOT)
        while s < b:
            piece = e if (start == a and a >= s and b <= s + SLOT) else \
                e * (min(b, s + SLOT) - max(start, s)) / (b - a)
            acc = energy.setdefault((meter, s), [0.0, set()])
            acc[0] += piece
            acc[1].add(span_id)
            s += SLOT

    def spans_ending_in(lo, hi):
        """Spans with lo < b <= hi (lo None = -inf, hi None = +inf)."""
        inside = lambda b: (lo is None or b > lo) and (hi is None or b <= hi)
        for meter, rs in readings.items():
            ts = sorted(rs)
            for t0, t1 in zip(ts, ts[1:]):
                v0, v1 = rs[t0], rs[t1]
                mk = registry[meter][1]
                if inside(t1) and v1 >= v0 and not (mk is not None and (v1 - v0) / ((t1 - t0) / 3600) > mk):
                    yield ("r", meter, t0), meter, t0, t1, v1 - v0
        for meter, lst in i_spans.items():
            for n, (a, b, k) in enumerate(lst):
                if inside(b):
                    yield ("i", meter, n), meter, a, b, k

    def move(new_w):
        nonlocal W
        if new_w is not None and W is not None and new_w <= W:
            return
        old = W
        for sid, meter, a, b, e in list(spans_ending_in(old, new_w)):
            attribute(sid, meter, a, b, e, old)
        W = new_w
        for (meter, s) in energy:
            region = registry[meter][0]
            if (region, s) not in closed and (W is None or s + SLOT + HORIZON <= W):
                closed[(region, s)] = slot_factor(region, s)

    for rec in lines:
        kind = rec[0]
        if kind == "r":
            _, meter, ts, v = rec
            if W is not None and ts <= W:
                counts["late"] += 1
            elif ts in readings.get(meter, {}):
                counts["duplicate" if readings[meter][ts] == v else "rejected"] += 1
            else:
                counts["accepted"] += 1
                readings.setdefault(meter, {})[ts] = v
                move(ts - RW)
        elif kind == "i":
            _, meter, a, b, k = rec
            if W is not None and b <= W:
                counts["late"] += 1
            elif (meter, a, b) in i_seen:
                # reference §3.1: a resend of meter, start, end: duplicate, or conflicting (the first stays)
                counts["duplicate" if i_seen[(meter, a, b)] == k else "rejected"] += 1
            elif any(x < b and a < y for (x, y, _) in i_spans.get(meter, [])):
                counts["rejected"] += 1  # overlapping_interval: never moves W
            else:
                counts["accepted"] += 1
                i_seen[(meter, a, b)] = k
                i_spans.setdefault(meter, []).append((a, b, k))
                move(b - RW)
        elif kind == "f":
            _, region, a, b, v = rec
            fs = f_state.setdefault(region, {})
            if (a, b) not in fs and any(x < b and a < y for (x, y) in fs):
                counts["rejected"] += 1
            else:
                counts["accepted"] += 1
                fs[(a, b)] = v
        else:
            _, region, a, b, src, mwh = rec
            counts["accepted"] += 1
            m_state[(region, a, b, src)] = mwh
    # end of input: W -> infinity; spans still open are attributed against the last W
    last = W
    for sid, meter, a, b, e in list(spans_ending_in(last, None)):
        attribute(sid, meter, a, b, e, last)
    W = None
    for (meter, s) in energy:
        region = registry[meter][0]
        if (region, s) not in closed:
            closed[(region, s)] = slot_factor(region, s)

    out = {}
    for wname, wlen in WINDOWS.items():
        per = {}
        for (meter, s), (e, sids) in energy.items():
            factor, rtf = closed[(registry[meter][0], s)]
            key = (wname, floor_local(s, wlen))
            acc = per.setdefault(key, {}).setdefault(meter, [0.0, 0.0, 0.0, set()])
            acc[0] += e
            acc[1] += e * factor
            acc[2] += e * rtf
            acc[3] |= sids
        for key, meters in per.items():
            rows = out.setdefault(key, {})
            for meter, (e, co2, rt, sids) in meters.items():
                for level_key in (("national", "CN"), ("province", registry[meter][0])):
                    row = rows.setdefault(level_key, [0.0, 0.0, 0.0, 0, 0])
                    row[0] += e
                    row[1] += co2
                    row[2] += rt
                    row[3] += 1
                    row[4] += len(sids)
    return out, counts, late_kwh[0]


def random_case(rng):
    import datetime
    base = int(datetime.datetime(2026, 11, 18, 9, 0, tzinfo=datetime.timezone(
        datetime.timedelta(hours=8))).timestamp())
    meters = {"M%d" % k: (rng.choice(["CN-GD", "CN-XZ", "CN-YN"]),
                          rng.choice([None, None, 30.0, 200.0])) for k in range(4)}
    events = []  # (arrival time, record)
    for meter in meters:
        v = rng.uniform(0, 100)
        t = base + rng.randrange(0, 900, 60)
        while t < base + 5 * 3600:
            step = rng.choice([300, 600, 900, 900, 900, 3600, 2 * 3600 + 300])
            t += step
            v = rng.uniform(0, 5) if rng.random() < 0.05 else v + rng.uniform(0, 20) * step / 3600
            rec = ("r", meter, t, round(v, 3))
            arrival = t + rng.uniform(0, 1200)
            events.append((arrival, rec))
            if rng.random() < 0.1:
                events.append((arrival + rng.uniform(0, 600), rec))
            if rng.random() < 0.05:
                events.append((arrival + rng.uniform(0, 600), ("r", meter, t, round(v + 1, 3))))
        for _ in range(rng.randrange(0, 4)):
            a = base + rng.randrange(0, 5 * 3600, 300)
            b = a + rng.choice([300, 900, 1800, 5400])
            rec = ("i", meter, a, b, round(rng.uniform(0, 10), 2))
            events.append((b + rng.uniform(-300, 2400), rec))
            if rng.random() < 0.3:  # a resend: the same, or corrected (conflicting_duplicate)
                again = rec if rng.random() < 0.5 else rec[:4] + (round(rec[4] + 1, 2),)
                events.append((b + rng.uniform(-300, 2400), again))
    for _ in range(rng.randrange(0, 8)):
        a = base + rng.randrange(0, 5 * 3600, 300)
        rec = ("f", rng.choice(["CN-GD", "CN-YN"]), a, a + rng.choice([300, 900, 1200, 3600]),
               round(rng.uniform(0.1, 0.9), 3))
        events.append((a + rng.uniform(-3600, 7200), rec))
    for _ in range(rng.randrange(0, 10)):
        a = base + rng.randrange(0, 5 * 3600, 600)
        rec = ("m", rng.choice(["CN-GD", "CN-XZ"]), a, a + rng.choice([600, 1800, 3600, 7200]),
               rng.choice(["coal", "gas", "hydro", "wind", "other"]), round(rng.uniform(0, 500), 1))
        events.append((a + rng.uniform(-3600, 7200), rec))
    events.sort(key=lambda x: x[0])
    return meters, [rec for _, rec in events]


def render(rec, rng):
    import datetime

    def ts(x):
        if rng.random() < 0.2:
            return str(x)
        return datetime.datetime.fromtimestamp(x, datetime.timezone(
            datetime.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    kind = rec[0]
    if kind == "r":
        return "r,%s,%s,%r" % (rec[1], ts(rec[2]), rec[3])
    if kind == "i":
        return "i,%s,%s,%s,%r" % (rec[1], ts(rec[2]), ts(rec[3]), rec[4])
    if kind == "f":
        return "f,%s,%s,%s,%r" % (rec[1], ts(rec[2]), ts(rec[3]), rec[4])
    return "m,%s,%s,%s,%s,%r" % (rec[1], ts(rec[2]), ts(rec[3]), rec[4], rec[5])


@pytest.mark.parametrize("seed", range(12))
def test_random_against_streaming_simulation(tmp_path, seed):
    import datetime
    import random
    rng = random.Random(seed)
    meters, records = random_case(rng)
    reg = REGISTRY_HEADER + "".join("%s,%s,,,,,%s\n" % (m, r, "" if mk is None else mk)
                                    for m, (r, mk) in sorted(meters.items()))
    text = "\n".join(render(rec, rng) for rec in records) + "\n"
    counts, out = run_reference(tmp_path, reg, text)
    expect, sim_counts, sim_late = simulate(meters, records, load_annual(), load_source_factors())
    for k, v in sim_counts.items():
        assert int(counts[k]) == v, k
    assert float(counts["late_span_kwh"]) == pytest.approx(sim_late, rel=1e-9, abs=1e-9)
    got_files = set(files(out))
    want_files = set()
    for (wname, ws), rows in expect.items():
        d = datetime.datetime.fromtimestamp(ws + OFFSET, datetime.timezone.utc)
        want_files.add("window=%s/date=%s/%s.csv" % (wname, d.strftime("%Y-%m-%d"), d.strftime("%H%M")))
        got = read_rows(out, wname, d.strftime("%Y-%m-%d"), d.strftime("%H%M"))
        for (level, key), (e, co2, rt, n_meters, n_spans) in rows.items():
            row = got[(level, key)]
            assert row["energy_kwh"] == pytest.approx(e, rel=1e-9, abs=1e-9)
            assert row["co2_kg"] == pytest.approx(co2, rel=1e-9, abs=1e-9)
            assert (row["meters"], row["spans"]) == (n_meters, n_spans)
            if e != 0:
                assert row["realtime_share"] == pytest.approx(rt / e, rel=1e-9, abs=1e-9)
        assert {k for k in got if k[0] in ("national", "province")} == set(rows)
    assert got_files == want_files
