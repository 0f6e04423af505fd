#!/usr/bin/python3
"""Writes test/fixtures/shapiro-wilk-scipy.json: seeded samples and the W and p that
scipy.stats.shapiro returns for each (SciPy's swilk is Royston's AS R94), so that
src/core/shapiro-wilk.ts can be checked against SciPy without Python at test time.

Run from the repository root:  /usr/bin/python3 scripts/make-shapiro-fixture.py
Samples are rounded to 4 decimals before SciPy sees them, so the stored numbers are exactly
the ones tested (the rounding also makes a few ties at large n, as real data has).
"""
import json
import sys

import numpy as np
import scipy
from scipy import stats

SIZES = [3, 4, 5, 10, 11, 20, 50, 100, 500, 2000, 5000]
COMMAND = "/usr/bin/python3 scripts/make-shapiro-fixture.py"
OUT = "test/fixtures/shapiro-wilk-scipy.json"


def draw(kind, rng, n):
    if kind == "normal":
        return rng.normal(10.0, 2.0, n)
    if kind == "uniform":
        return rng.uniform(0.0, 1.0, n)
    if kind == "exponential":
        return rng.exponential(1.0, n)
    if kind == "heavy-tailed":
        return rng.standard_t(2.0, n)
    if kind == "ties":
        # Few distinct values: a normal sample rounded to whole numbers.
        return np.round(rng.normal(0.0, 1.5, n))
    raise ValueError(kind)


def main():
    cases = []
    seed = 1000
    for kind in ["normal", "uniform", "exponential", "heavy-tailed", "ties"]:
        for n in SIZES:
            seed += 1
            rng = np.random.default_rng(seed)
            x = np.round(draw(kind, rng, n), 4)
            if np.ptp(x) == 0:
                # A zero-range sample has no defined W; draw again with the next seed.
                seed += 1
                x = np.round(draw(kind, np.random.default_rng(seed), n), 4)
            r = stats.shapiro(x)
            cases.append(
                {
                    "name": f"{kind}-{n}",
                    "seed": seed,
                    "n": n,
                    "w": float(r.statistic),
                    "p": float(r.pvalue),
                    "x": [float(v) for v in x],
                }
            )
    doc = {
        "about": "scipy.stats.shapiro on seeded samples (numpy default_rng(seed), rounded to 4 decimals)",
        "command": COMMAND,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "cases": cases,
    }
    with open(OUT, "w") as f:
        f.write("{\n")
        head = {k: v for k, v in doc.items() if k != "cases"}
        for k, v in head.items():
            f.write(f"  {json.dumps(k)}: {json.dumps(v)},\n")
        f.write('  "cases": [\n')
        f.write(",\n".join("    " + json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n  ]\n}\n")
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
