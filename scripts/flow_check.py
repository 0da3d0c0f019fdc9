#!/usr/bin/env python3
"""Flow-traced factors (reference §9.3) against an independent solve with numpy.

Generates random cases of generation (`m`) and exchange (`x`) records over a random set of
provinces, solves each province's consumption factor with numpy from the equation of §9.3
    c_i * (G_i + sum_j X_ji) = sum_s G_is * ef_s + sum_j X_ji * c_j
(imports from a province without generation records at its annual factor, rules 3-4), and compares
with what `gridcarbon factors --at TIME --records FILE --csv` prints. Exits 1 on any difference.

    python3 scripts/flow_check.py --bin .build/debug/gridcarbon [--cases 25] [--seed 1]
"""
import argparse
import csv
import io
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ["coal", "gas", "oil", "nuclear", "hydro", "wind", "solar", "biomass", "other"]
T0 = 1794967200  # 2026-11-18T10:00:00+08:00
HOUR = 3600


def source_factors():
    ef = {}
    with open(os.path.join(ROOT, "data", "source_factors.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["basis"] == "direct":
                ef[row["source"]] = float(row["kg_per_kwh"])
    return ef


def annual_factors(year):
    """Rules 3-4 for `year`: the province's own average factor (latest year <= `year`), else national."""
    rows = {}
    with open(os.path.join(ROOT, "data", "cn_grid_factors.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] != "average":
                continue
            y = int(row["year"])
            if y <= year and (row["region"] not in rows or rows[row["region"]][0] < y):
                rows[row["region"]] = (y, float(row["factor_kg_per_kwh"]))
    return {r: v for r, (_, v) in rows.items()}


def provinces(binary):
    out = subprocess.run([binary, "factors", "--csv"], check=True, capture_output=True, text=True).stdout
    return sorted({row["region"] for row in csv.DictReader(io.StringIO(out)) if row["region"] != "CN"} | {"CN-XZ"})


def case(rng, codes, ef, annual):
    """Random records, shuffled, and what each province's factor must be (computed from the lines)."""
    n = rng.randint(2, len(codes))
    members = rng.sample(codes, n)
    outsiders = [c for c in codes if c not in members]
    lines = []
    for p in members:
        for s in rng.sample(SOURCES, rng.randint(1, 4)):
            hours = rng.choice([1, 1, 1, 2])           # power weighting: mwh / hours
            start = T0 - (hours - 1) * HOUR * rng.randint(0, 1)
            lines.append(f"m,{p},{start},{start + hours * HOUR},{s},{round(rng.uniform(0, 5000), 3)}")
        lines.append(f"m,{p},{T0},{T0 + HOUR},other,{round(rng.uniform(1, 50), 3)}")   # never all zero
    for _ in range(rng.randint(1, 3 * n)):
        a = rng.choice(members + outsiders[:3])
        b = rng.choice(members + outsiders[:2])
        if a != b:
            lines.append(f"x,{a},{b},{T0},{T0 + rng.choice([1, 1, 2]) * HOUR},{round(rng.uniform(0, 3000), 3)}")
    realtime = rng.choice(members) if rng.random() < 0.3 else None
    if realtime:
        lines.append(f"f,{realtime},{T0},{T0 + HOUR},0.4321")
    rng.shuffle(lines)
    # The records as reference §3.3 / §9.1 hold them: a later exact repeat replaces the earlier.
    mix, exchange = {}, {}
    for line in lines:
        f = line.split(",")
        if f[0] == "m":
            mix[(f[1], int(f[2]), int(f[3]), f[4])] = float(f[5])
        elif f[0] == "x":
            exchange[(f[1], f[2], int(f[3]), int(f[4]))] = float(f[5])
    gen, emis = {}, {}
    for (p, a, b, s), mwh in mix.items():
        if a <= T0 < b:
            power = mwh / ((b - a) / HOUR)
            gen[p] = gen.get(p, 0.0) + power
            emis[p] = emis.get(p, 0.0) + power * ef[s]
    system = [p for p in members if gen.get(p, 0) > 0]
    idx = {p: k for k, p in enumerate(system)}
    m = len(system)
    A = np.zeros((m, m))
    rhs = np.zeros(m)
    for p in system:
        A[idx[p], idx[p]] = gen[p]
        rhs[idx[p]] = emis[p]
    for (a, t, s, e), mwh in exchange.items():
        if t not in idx or not (s <= T0 < e) or mwh <= 0:
            continue
        x = mwh / ((e - s) / HOUR)
        i = idx[t]
        A[i, i] += x
        if a in idx:
            A[i, idx[a]] -= x
        else:
            rhs[i] += x * annual.get(a, annual["CN"])
    c = np.linalg.solve(A, rhs)
    expected = {}
    for p in codes:
        if p == realtime:
            expected[p] = (0.4321, "realtime")
        elif p in idx:
            expected[p] = (c[idx[p]], "flow_traced")
        else:
            expected[p] = (annual.get(p, annual["CN"]), "annual" if p in annual else "national")
    return lines, expected


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "debug", "gridcarbon"))
    ap.add_argument("--cases", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rel", type=float, default=1e-9, help="relative tolerance")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    ef = source_factors()
    annual = annual_factors(2026)
    codes = provinces(args.bin)
    failures = 0
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.cases):
            lines, expected = case(rng, codes, ef, annual)
            path = os.path.join(tmp, f"case{k}.csv")
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            out = subprocess.run([args.bin, "factors", "--at", str(T0), "--records", path, "--csv"],
                                 check=True, capture_output=True, text=True)
            if out.stderr.strip():
                print(f"case {k}: stderr: {out.stderr.strip()}")
                failures += 1
            got = {row["region"]: (float(row["kg_per_kwh"]), row["rule"]) for row in csv.DictReader(io.StringIO(out.stdout))}
            for p, (want, rule) in expected.items():
                have, have_rule = got.get(p, (float("nan"), "missing"))
                err = abs(have - want) / max(abs(want), 1e-12)
                ok = have_rule == rule and err <= args.rel
                worst = max(worst, abs(have - want))
                if not ok:
                    failures += 1
                    print(f"case {k} {p}: gridcarbon {have} ({have_rule}), numpy {want} ({rule})")
    print(f"flow_check: {args.cases} cases, {failures} differences, largest absolute difference {worst:.3g}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
