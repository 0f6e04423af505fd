#!/usr/bin/python3
"""Writes test/fixtures/binomial-scipy.json: binomial upper tails (log of scipy.stats.binom.sf
computed with logsf) and central 99% quantiles (binom.ppf), so that src/core/binomial.ts is
checked against SciPy without Python at test time.

Run from the repository root:  /usr/bin/python3 scripts/make-binomial-fixture.py
"""
import json
import sys

import numpy as np
import scipy
from scipy import stats

OUT = "test/fixtures/binomial-scipy.json"
TAILS = [(10, 0, 0.5), (10, 3, 0.5), (10, 10, 0.5), (100, 30, 1 / 9), (100, 60, 1 / 9), (300, 150, 1 / 9),
         (300, 20, 1 / 9), (1000, 500, 0.1), (2000, 10, 0.005), (5000, 25, 0.005), (45, 40, 1 / 9),
         (64, 64, 0.5), (20, 1, 0.01), (3000, 400, 1 / 9)]
QUANTILES = [(100, 0.05), (1000, 0.005), (3000, 0.05), (2000, 0.1), (450, 0.2), (10000, 0.01)]

tails = [{"n": n, "k": k, "p": p, "logsf": float(stats.binom.logsf(k - 1, n, p)),
          "sf": float(stats.binom.sf(k - 1, n, p))} for n, k, p in TAILS]
quantiles = [{"n": n, "p": p, "lo": int(stats.binom.ppf(0.005, n, p)), "hi": int(stats.binom.ppf(0.995, n, p))}
             for n, p in QUANTILES]
json.dump({"source": "scipy.stats.binom (logsf(k - 1) = ln P(X >= k); ppf at 0.005 and 0.995)",
           "command": "/usr/bin/python3 scripts/make-binomial-fixture.py",
           "versions": {"scipy": scipy.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
           "tails": tails, "quantiles": quantiles}, open(OUT, "w"), indent=1)
print("wrote", OUT)
