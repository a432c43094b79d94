"""Batched Student-t MLE (``StudentTMLE.fit_many``) vs a loop of single fits, in one run.

Issue 15 target: ``StudentTMLE(df=None).fit_many`` with R = 200 replications at
(n, p) = (100, 3) (a constant and two regressors, t(3) errors, shared design) at least 20x
faster than the former per-replication loop and at most 0.25 s, with the same optima as single
fits. For df estimated and df = 3 the script times, on the same data and in the same run,

- ``fit_many``: the batched solver (all replications and all starts in one array program);
- ``loop``: ``StudentTMLE(...).fit`` once per replication (the same solver, R = 1 each);
- ``baseline`` (with ``--baseline-src DIR``): ``fit_many`` of another tailreg checkout (e.g.
  the commit before the batched solver, whose ``fit_many`` looped over single fits for df
  estimated), run in a subprocess on the same data.

Each timing is repeated (``--repeats``); the median and the min-max spread are printed (wall
time, BLAS on one thread). It also prints the largest relative difference between ``fit_many``
and the single fits (coefficients, sigma, df) and the smallest loglik difference (``fit_many``
minus single; a negative number would mean a batched fit stopped at a lower maximum).

Usage::

    python benchmarks/bench_student_t.py [--repeats 5] [--R 200] [--baseline-src /path/src]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from tailreg.estimators.student_t import StudentTMLE
from tailreg.solvers.t_likelihood import t_loglik

_CHILD = """
import json, sys, time, warnings
import numpy as np
from threadpoolctl import threadpool_limits
from tailreg.estimators.student_t import StudentTMLE
d = np.load(sys.argv[1]); out = {}
with threadpool_limits(limits=1), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for df in (None, 3.0):
        ts = []
        for _ in range(int(sys.argv[2])):
            t0 = time.perf_counter(); StudentTMLE(df=df).fit_many(d["X"], d["Y"])
            ts.append(time.perf_counter() - t0)
        out[str(df)] = ts
print(json.dumps(out))
"""


def timings(fn, repeats: int) -> tuple[list[float], object]:
    out, ts = None, []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return ts, out


def spread(ts: list[float]) -> str:
    return f"{np.median(ts):7.3f} s [{min(ts):.3f}-{max(ts):.3f}]"


def baseline(src: str, X: np.ndarray, Y: np.ndarray, repeats: int) -> dict[str, list[float]]:
    """``fit_many`` timings of the tailreg checkout at ``src`` (a subprocess, same data)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.npz")
        np.savez(path, X=X, Y=Y)
        env = dict(os.environ, PYTHONPATH=src)
        run = subprocess.run(
            [sys.executable, "-c", _CHILD, path, str(repeats)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--R", type=int, default=200)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--loop-repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-src", default=None, help="src dir of another checkout")
    args = parser.parse_args(argv)
    rng = np.random.default_rng([args.seed, args.R, args.n])
    X = rng.standard_normal((args.n, 2))
    Y = 1.0 + X @ np.array([1.0, -1.0]) + rng.standard_t(3, (args.R, args.n))
    print(f"R = {args.R}, n = {args.n}, p = 3 (constant + 2), t(3) errors, BLAS threads = 1")
    base = baseline(args.baseline_src, X, Y, args.loop_repeats) if args.baseline_src else {}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for df in (None, 3.0):
            est = StudentTMLE(df=df)
            t_many, many = timings(lambda: est.fit_many(X, Y), args.repeats)  # noqa: B023
            t_loop, singles = timings(
                lambda: [est.fit(X, y).result_ for y in Y],  # noqa: B023
                args.loop_repeats,
            )
            P = np.array([r.params.to_numpy() for r in singles])
            rel = np.max(np.abs(many.params - P) / np.maximum(np.abs(P), 1e-300))
            # ManyFits has no loglik: evaluate the likelihood at fit_many's estimates
            Xc = np.column_stack([np.ones(args.n), X])
            nu = many.params[:, 4] if df is None else df
            resid = Y - many.params[:, :3] @ Xc.T
            ll_many = t_loglik(resid, many.params[:, 3], nu)
            ll_gap = float(np.min(ll_many - np.array([r.loglik for r in singles])))
            print(f"df = {df}:")
            print(f"  fit_many  {spread(t_many)}")
            print(
                f"  loop      {spread(t_loop)}  ratio {np.median(t_loop) / np.median(t_many):.1f}x"
            )
            if str(df) in base:
                tb = base[str(df)]
                ratio = np.median(tb) / np.median(t_many)
                print(f"  baseline  {spread(tb)}  ratio {ratio:.1f}x")
            print(f"  max relative difference fit_many vs single fits: {rel:.2e}")
            print(f"  min loglik difference fit_many - single fits: {ll_gap:.2e}")


if __name__ == "__main__":
    main()
