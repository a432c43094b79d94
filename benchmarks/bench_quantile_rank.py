"""Rank-inversion intervals: tailreg's ``rank_conf_int`` vs R quantreg's ``summary.rq(se="rank")``.

For n in (100, 500, 1000, 5000) and p = 3 (constant, a Gaussian and a uniform regressor) with
heteroscedastic Student-t(3) errors at tau = 0.5, prints the CPU seconds per fit of each
side (BLAS limited to one thread in Python; best of a few repeats; CPU rather than wall time
so that other jobs on a shared machine distort the ratio less), their ratio, and the largest
difference between the two sets of interval end points (scaled by max(1, |R|)).

R runs in one ``Rscript`` process for all sizes, timing a loop of fits per size (at least
``--r-seconds`` of work) so that start-up is not counted; R is skipped with a note when
``Rscript`` or quantreg is missing.

Measured (2 shared cores, CPU seconds per fit, tau = 0.5; all end points agree with R to
about 2e-14):

=====  ==================  ==================  ==================  ==================
n      iid: tailreg        iid: R              nid: tailreg        nid: R
=====  ==================  ==================  ==================  ==================
100    0.0067              0.0006              0.0090              0.0027
500    0.0140              0.0029              0.0174              0.0057
1000   0.0195              0.0075              0.0287              0.0113
5000   0.0661              0.0768              0.0870              0.0960
=====  ==================  ==================  ==================  ==================

R's compiled walk is 10x faster at n = 100 and 2.5x at n = 1000, where tailreg spends its
time in numpy call overhead (about 0.1 ms per kink for k = 3); from n of a few thousand the
O(nk) vector work dominates and tailreg is slightly faster.

Usage::

    python benchmarks/bench_quantile_rank.py [--sizes 100 500 1000 5000] [--tau 0.5] [--nid]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from tailreg.inference.quantile_rank import rank_conf_int

R_SCRIPT = r"""
suppressPackageStartupMessages(library(quantreg))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; tau <- as.numeric(args[2]); iid <- as.logical(args[3])
min_sec <- as.numeric(args[4])
out <- list()
for (f in list.files(dir, pattern = "^n[0-9]+\\.csv$")) {
  d <- read.csv(file.path(dir, f))
  fit <- rq(y ~ x1 + x2, tau = tau, data = d)
  reps <- 0
  cpu <- function() sum(proc.time()[c("user.self", "sys.self")])
  t0 <- cpu()
  repeat {
    s <- suppressWarnings(summary(fit, se = "rank", iid = iid))
    reps <- reps + 1
    el <- cpu() - t0
    if (el >= min_sec) break
  }
  out[[sub("\\.csv$", "", f)]] <- list(
    seconds = el / reps, reps = reps,
    lower = unname(s$coefficients[, 2]), upper = unname(s$coefficients[, 3])
  )
}
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def make_problem(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, n])
    x1, x2 = rng.standard_normal(n), rng.uniform(size=n)
    X = np.column_stack([np.ones(n), x1, x2])
    y = 1.0 + x1 - 2.0 * x2 + (1.0 + x2) * rng.standard_t(3, n)
    return X, y


def best_time(fn, repeats: int):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def run_r(problems: dict[int, tuple], tau: float, iid: bool, min_sec: float) -> dict | None:
    if shutil.which("Rscript") is None:
        print("Rscript not found: R timings skipped")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        for n, (X, y) in problems.items():
            rows = np.column_stack([y, X[:, 1:]])
            np.savetxt(
                Path(tmp, f"n{n}.csv"),
                rows,
                delimiter=",",
                fmt="%.17g",
                header="y,x1,x2",
                comments="",
            )
        script = Path(tmp, "bench.R")
        script.write_text(R_SCRIPT)
        proc = subprocess.run(
            ["Rscript", str(script), tmp, repr(tau), "TRUE" if iid else "FALSE", str(min_sec)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        print(f"R failed, timings skipped:\n{proc.stderr.strip()}")
        return None
    return {int(k[1:]): v for k, v in json.loads(proc.stdout).items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000, 5000])
    parser.add_argument("--tau", type=float, default=0.5)
    parser.add_argument("--nid", action="store_true", help="iid=FALSE (density weights)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--r-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    iid = not args.nid
    problems = {n: make_problem(n, args.seed) for n in args.sizes}
    ours = {}
    with threadpool_limits(limits=1):
        for n, (X, y) in problems.items():
            ours[n] = best_time(
                lambda X=X, y=y: rank_conf_int(X, y, args.tau, iid=iid), args.repeats
            )
    r = run_r(problems, args.tau, iid, args.r_seconds)
    print(f"p = 3, tau = {args.tau}, iid = {iid}, level = 0.90; CPU seconds per fit")
    print(
        f"{'n':>6} {'tailreg':>10} {'R quantreg':>11} {'R reps':>7} {'R / tailreg':>12} "
        f"{'max diff':>9}"
    )
    for n in args.sizes:
        t_py, res = ours[n]
        if r is None:
            print(f"{n:>6} {t_py:>10.4f}")
            continue
        rn = r[n]
        ref = np.r_[rn["lower"], rn["upper"]]
        got = np.r_[res.lower, res.upper]
        diff = np.max(np.abs(got - ref) / np.maximum(1.0, np.abs(ref)))
        print(
            f"{n:>6} {t_py:>10.4f} {rn['seconds']:>11.4f} {rn['reps']:>7} "
            f"{rn['seconds'] / t_py:>11.1f}x {diff:>9.1e}"
        )


if __name__ == "__main__":
    main()
