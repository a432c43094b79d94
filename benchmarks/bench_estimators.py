"""Per-fit time of every tailreg estimator beside statsmodels and scikit-learn, and fit_many
throughput beside a Python loop of statsmodels fits.

Run: ``python benchmarks/bench_estimators.py [--quick]``. BLAS is held to one thread
(threadpoolctl): on 2-core machines OpenBLAS's default threading makes small dense fits many
times slower. Ratios are "their time / our time" measured in the same run, so > 1 means
tailreg is faster.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import statsmodels.api as sm
from sklearn.linear_model import HuberRegressor, LinearRegression, QuantileRegressor
from threadpoolctl import threadpool_limits

from tailreg.estimators.bisquare import Bisquare
from tailreg.estimators.huber import Huber
from tailreg.estimators.mle import GaussianMLE
from tailreg.estimators.mm import MM
from tailreg.estimators.ols import OLS
from tailreg.estimators.quantile import QuantileRegression
from tailreg.estimators.student_t import StudentTMLE


def best_time(fn: Callable[[], object], budget: float = 0.5, max_reps: int = 20) -> float:
    """Best wall time of repeated calls within a time budget (at least one call)."""
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (not times or time.perf_counter() - start < budget):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def data(n: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = 1.0 + X @ np.linspace(1, -1, p) + rng.standard_t(3, size=n)
    return X, y


def cases(X: np.ndarray, y: np.ndarray, big: bool) -> list:
    """(name, our fit, {reference name: reference fit}) for one data set."""
    Xc = sm.add_constant(X)
    return [
        (
            "OLS",
            lambda: OLS().fit(X, y),
            {
                "statsmodels OLS": lambda: sm.OLS(y, Xc).fit(),
                "sklearn LinearRegression": lambda: LinearRegression().fit(X, y),
            },
        ),
        (
            "GaussianMLE",
            lambda: GaussianMLE().fit(X, y),
            {"statsmodels OLS": lambda: sm.OLS(y, Xc).fit()},
        ),
        (
            "Huber",
            lambda: Huber().fit(X, y),
            {
                "statsmodels RLM(HuberT)": lambda: sm.RLM(y, Xc, M=sm.robust.norms.HuberT()).fit(),
                "sklearn HuberRegressor": lambda: HuberRegressor(alpha=0.0, max_iter=1000).fit(
                    X, y
                ),
            },
        ),
        (
            "Bisquare",
            lambda: Bisquare().fit(X, y),
            {
                "statsmodels RLM(TukeyBiweight)": lambda: sm.RLM(
                    y, Xc, M=sm.robust.norms.TukeyBiweight()
                ).fit()
            },
        ),
        (
            "QuantileRegression(highs)",
            lambda: QuantileRegression(solver="highs").fit(X, y),
            {}
            if big
            else {
                "statsmodels QuantReg": lambda: sm.QuantReg(y, Xc).fit(q=0.5),
                "sklearn QuantileRegressor": lambda: QuantileRegressor(
                    quantile=0.5, alpha=0.0, solver="highs"
                ).fit(X, y),
            },
        ),
        (
            "QuantileRegression(interior-point)",
            lambda: QuantileRegression(solver="interior-point").fit(X, y),
            # sklearn's HiGHS primal LP took 374 s at n = 100000, p = 3: skipped there
            {"statsmodels QuantReg": lambda: sm.QuantReg(y, Xc).fit(q=0.5)}
            | (
                {}
                if big
                else {
                    "sklearn QuantileRegressor(highs)": lambda: QuantileRegressor(
                        quantile=0.5, alpha=0.0, solver="highs"
                    ).fit(X, y)
                }
            ),
        ),
        ("MM", lambda: MM(random_state=0).fit(X, y), {}),
        ("StudentTMLE(df=3)", lambda: StudentTMLE(df=3.0).fit(X, y), {}),
    ]


def per_fit_rows(sizes, skip_slow_at: int):
    rows = []
    for n, p in sizes:
        X, y = data(n, p)
        big = n >= skip_slow_at
        for name, ours, refs in cases(X, y, big):
            if big and name in ("MM",):
                continue
            t_ours = best_time(ours)
            row = {"n": n, "p": p, "estimator": name, "tailreg_s": t_ours}
            for ref_name, ref in refs.items():
                t_ref = best_time(ref, budget=0.3, max_reps=3 if big else 20)
                row[ref_name] = f"{t_ref:.4g}s ({t_ref / t_ours:.1f}x)"
            rows.append(row)
            print(row, flush=True)
    return rows


def fit_many_rows(R: int = 2000, n: int = 100, p: int = 3):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, p))
    # the same draws as before fit_many took Y as (R, n): one response per row
    Y = np.ascontiguousarray(
        (1.0 + (X @ np.linspace(1, -1, p))[:, None] + rng.standard_t(3, size=(n, R))).T
    )
    Xc = sm.add_constant(X)
    rows = []
    loops = {
        "OLS": (OLS(), lambda y: sm.OLS(y, Xc).fit().bse),
        "GaussianMLE": (GaussianMLE(), lambda y: sm.OLS(y, Xc).fit().bse),
        "Huber": (Huber(), lambda y: sm.RLM(y, Xc, M=sm.robust.norms.HuberT()).fit().bse),
        "Bisquare": (
            Bisquare(),
            lambda y: sm.RLM(y, Xc, M=sm.robust.norms.TukeyBiweight()).fit().bse,
        ),
        "LAD (batched Frisch-Newton)": (
            QuantileRegression(),
            lambda y: sm.QuantReg(y, Xc).fit(q=0.5).bse,
        ),
        "StudentTMLE(df=3)": (StudentTMLE(df=3.0), None),
    }
    for name, (est, sm_fit) in loops.items():
        t_ours = best_time(lambda est=est: est.fit_many(X, Y), budget=1.0, max_reps=5)
        row = {
            "estimator": name,
            "R": R,
            "n": n,
            "p": p,
            "fit_many_s": t_ours,
            "fits_per_s": R / t_ours,
        }
        if sm_fit is not None:
            # a loop over 200 replications, scaled to R
            t_loop = best_time(lambda sm_fit=sm_fit: [sm_fit(Y[r]) for r in range(200)], max_reps=2)
            t_loop *= R / 200
            row["statsmodels loop s"] = t_loop
            row["speed-up"] = t_loop / t_ours
        rows.append(row)
        print(row, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip n = 100000")
    ap.add_argument("--fit-many-only", action="store_true", help="only the throughput table")
    args = ap.parse_args(argv)
    sizes = [(n, p) for n in (100, 1000, 100_000) for p in (3, 10)]
    if args.quick:
        sizes = [s for s in sizes if s[0] < 100_000]
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        if not args.fit_many_only:
            print("== per-fit time (their time, and ratio their/ours) ==")
            per_fit_rows(sizes, skip_slow_at=100_000)
        print("== fit_many throughput ==")
        fit_many_rows()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
