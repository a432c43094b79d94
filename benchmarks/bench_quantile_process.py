"""The quantile process at 19 quantiles: ``QuantileProcess`` vs a loop of single fits vs R.

For (n, p) in {(1e4, 5), (1e5, 10)} (Gaussian regressors, heteroscedastic Student-t(3)
errors), times ``QuantileProcess(taus="grid").fit(X, y)`` (tau = 1:19/20), a loop of
``QuantileRegression(tau, solver="interior-point").fit(X, y)`` over the same 19 quantiles,
and R quantreg's ``rq(y ~ ., tau = 1:19/20, method = "fn")`` in one ``Rscript`` run on the
same data. CPU seconds (BLAS limited to one thread), every repeat kept: medians and
min-max spreads are printed, with the ratios loop/process and R/process. The largest
coefficient difference process vs loop (should be ~1e-15: the same certified vertices) and
process vs R's fn (an interior point stopped at its tolerance, ~1e-6) is printed too.
R is skipped with a note when ``Rscript`` or quantreg is missing.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        python benchmarks/bench_quantile_process.py [--sizes 10000x5 100000x10] [--repeats 5]
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

from tailreg import QuantileProcess, QuantileRegression
from tailreg.estimators.quantile_process import GRID

R_SCRIPT = r"""
suppressPackageStartupMessages(library(quantreg))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2])
cpu <- function() sum(proc.time()[c("user.self", "sys.self")])
secs <- numeric(reps)
for (r in seq_len(reps)) {
  t0 <- cpu()
  fit <- rq(y ~ ., tau = 1:19 / 20, data = d, method = "fn")
  secs[r] <- cpu() - t0
}
cat(jsonlite::toJSON(list(seconds = secs, coef = unname(t(coef(fit)))), digits = NA))
"""


def make_problem(n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, n, p])
    X = rng.standard_normal((n, p))
    y = X @ np.linspace(1.0, -1.0, p) + (1.0 + 0.5 * np.abs(X[:, 0])) * rng.standard_t(3, n)
    return X, y


def cpu_time(fn):
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def loop_fit(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.array(
        [QuantileRegression(tau=t, solver="interior-point").fit(X, y).result_.params for t in GRID]
    )


def run_r(X: np.ndarray, y: np.ndarray, reps: int) -> dict | None:
    if shutil.which("Rscript") is None:
        print("Rscript not found: R timings skipped")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        header = ",".join(["y"] + [f"x{j + 1}" for j in range(X.shape[1])])
        np.savetxt(
            Path(tmp, "d.csv"), np.column_stack([y, X]), delimiter=",", fmt="%.17g",
            header=header, comments="",
        )  # fmt: skip
        script = Path(tmp, "bench.R")
        script.write_text(R_SCRIPT)
        proc = subprocess.run(
            ["Rscript", str(script), str(Path(tmp, "d.csv")), str(reps)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        print(f"R failed, timings skipped:\n{proc.stderr.strip()}")
        return None
    return json.loads(proc.stdout)


def spread(v) -> str:
    v = np.asarray(v, dtype=float)
    return f"{np.median(v):8.3f} [{v.min():.3f}, {v.max():.3f}]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10000x5", "100000x10"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for size in args.sizes:
        n, p = (int(v) for v in size.split("x"))
        X, y = make_problem(n, p, args.seed)
        proc_t, loop_t = [], []
        with threadpool_limits(limits=1):
            for _ in range(args.repeats):  # interleaved: load changes hit both alike
                t, qp = cpu_time(lambda X=X, y=y: QuantileProcess(taus="grid").fit(X, y))
                proc_t.append(t)
                t, loop = cpu_time(lambda X=X, y=y: loop_fit(X, y))
                loop_t.append(t)
        coef = qp.coef_.to_numpy()
        r = run_r(X, y, args.repeats)
        print(f"n = {n}, p = {p} (k = {p + 1}), 19 taus; CPU seconds, median [min, max]")
        print(f"  QuantileProcess  {spread(proc_t)}   reused {int(qp.reused_.sum())}/19")
        print(f"  loop of fits     {spread(loop_t)}")
        ratio = np.array(loop_t) / np.array(proc_t)
        print(f"  loop / process   {spread(ratio)}")
        print(f"  max |coef diff| process vs loop: {np.abs(coef - loop).max():.2e}")
        if r is not None:
            r_t = np.array(r["seconds"], dtype=float)
            print(f"  R rq(fn)         {spread(r_t)}")
            print(f"  R / process      {np.median(r_t) / np.median(proc_t):8.2f} (medians)")
            diff = np.abs(coef - np.array(r["coef"])) / np.maximum(1.0, np.abs(coef))
            print(f"  max scaled |coef diff| process vs R fn: {diff.max():.2e}")


if __name__ == "__main__":
    main()
