"""Per-call cost of LAD against R quantreg, timed in the same run (issue 15 item 3).

- ``LAD().fit`` (HiGHS and interior point) at (n, p) = (1000, 5) against
  ``rq.fit(X, y, method = "fn")``, the fit alone and with the default ``iid`` covariance;
- ``LAD().fit_many`` at R = 200, (100, 3) against an R loop of ``rq.fit(method = "br")``.

Medians over repeats with the interquartile spread; R is skipped cleanly when ``Rscript`` or
quantreg is missing. Run with one BLAS thread::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_quantile_overhead.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from tailreg import LAD

R_SCRIPT = r"""
suppressPackageStartupMessages(library(quantreg))
d <- read.csv(file.path(Sys.getenv("QB_DIR"), "one.csv"))
X1 <- cbind(1, as.matrix(d[, -1])); y <- d$y
m <- as.matrix(read.csv(file.path(Sys.getenv("QB_DIR"), "many.csv")))
Xm <- cbind(1, m[, 1:2]); Ym <- m[, -(1:2)]
rep_time <- function(f, reps) {
  vapply(seq_len(reps), function(i) { t <- proc.time()[[3]]; f(); proc.time()[[3]] - t }, 0)
}
fn1 <- function() for (i in 1:20) rq.fit(X1, y, tau = 0.5, method = "fn")
br_loop <- function() for (r in seq_len(ncol(Ym))) rq.fit(Xm, Ym[, r], tau = 0.5, method = "br")
fn1(); br_loop()
out <- list(rq_fn = rep_time(fn1, 15) / 20, rq_br_loop = rep_time(br_loop, 15))
cat(jsonlite::toJSON(out, digits = NA))
"""


def timed(f, reps: int, inner: int = 1) -> np.ndarray:
    f()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(inner):
            f()
        out.append((time.perf_counter() - t) / inner)
    return np.array(out)


def fmt(t: np.ndarray) -> str:
    q1, med, q3 = np.percentile(t, [25, 50, 75]) * 1e3
    return f"{med:8.3f} ms  [{q1:.3f}, {q3:.3f}]"


def r_times(X: np.ndarray, y: np.ndarray, Xm: np.ndarray, Ym: np.ndarray) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        np.savetxt(
            d / "one.csv",
            np.column_stack([y, X]),
            delimiter=",",
            fmt="%.17g",
            header=",".join(["y"] + [f"x{j}" for j in range(X.shape[1])]),
            comments="",
        )
        np.savetxt(
            d / "many.csv",
            np.column_stack([Xm, Ym.T]),
            delimiter=",",
            fmt="%.17g",
            header=",".join([f"c{j}" for j in range(2 + Ym.shape[0])]),
            comments="",
        )
        res = subprocess.run(
            ["Rscript", "-e", R_SCRIPT],
            env={**__import__("os").environ, "QB_DIR": tmp},
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            print("R skipped:", res.stderr.strip()[:200])
            return None
        return {k: np.array(v) for k, v in json.loads(res.stdout).items()}


def main() -> None:
    rng = np.random.default_rng(0)
    n, p = 1000, 5
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + rng.standard_t(3, n)
    Xm = rng.normal(size=(100, 2))
    Ym = 1 + Xm @ [0.5, -0.5] + rng.standard_t(3, (200, 100))
    rows = {
        "LAD.fit highs (1000, 5), fit only": timed(lambda: LAD().fit(X, y), 15, 5),
        "LAD.fit interior-point (1000, 5), fit only": timed(
            lambda: LAD(solver="interior-point").fit(X, y), 15, 5
        ),
        "LAD.fit highs (1000, 5) + iid se": timed(lambda: LAD().fit(X, y).result_.bse(), 15, 5),
        "LAD.fit_many R=200 (100, 3), iid se": timed(lambda: LAD().fit_many(Xm, Ym), 15),
        "LAD.fit_many R=200 (100, 3), kinds=()": timed(
            lambda: LAD().fit_many(Xm, Ym, kinds=()), 15
        ),
    }
    r = r_times(X, y, Xm, Ym)
    for name, t in rows.items():
        print(f"{name:45s} {fmt(t)}")
    if r is not None:
        print(f"{'R rq.fit(fn) (1000, 5)':45s} {fmt(r['rq_fn'])}")
        print(f"{'R loop of rq.fit(br) R=200 (100, 3)':45s} {fmt(r['rq_br_loop'])}")
        for name in list(rows)[:3]:
            print(f"ratio {name} / rq.fit(fn): {np.median(rows[name]) / np.median(r['rq_fn']):.2f}")
        for name in list(rows)[3:]:
            print(
                f"speed-up R br loop / {name}: "
                f"{np.median(r['rq_br_loop']) / np.median(rows[name]):.2f}"
            )


if __name__ == "__main__":
    main()
