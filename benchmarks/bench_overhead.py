"""Per-call overhead of a single OLS fit at n = 1000, p = 5 (issue 15, item 3).

Times, in one run and on the same data, ``OLS().fit`` against its floor — the Householder
QR and triangular solve it performs (``numpy.linalg.qr`` + ``solve``) — and against
``numpy.linalg.lstsq``; also the first covariance request (computed lazily). The R
comparison (``lm.fit``) is in ``bench_vs_r.py --only single``. Reported: median and
interquartile range of ``reps`` repetitions of an inner loop, in microseconds per call,
and the ratio to the floor.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_overhead.py [--reps 15]
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np
from threadpoolctl import threadpool_limits

from tailreg import OLS


def _time(fn, number: int, reps: int) -> tuple[float, float, float]:
    times = [t / number * 1e6 for t in timeit.repeat(fn, number=number, repeat=reps)]
    q = statistics.quantiles(times, n=4)
    return statistics.median(times), q[0], q[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--number", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n, p = 1000, 5
    X = rng.standard_normal((n, p))
    y = X.sum(axis=1) + rng.standard_t(3, n)
    D = np.column_stack([np.ones(n), X])

    def floor() -> None:
        q, r = np.linalg.qr(D)
        np.linalg.solve(r, q.T @ y)

    def first_cov() -> None:
        OLS().fit(X, y).result_.bse()

    rows = {
        "QR + solve (floor)": floor,
        "numpy.linalg.lstsq": lambda: np.linalg.lstsq(D, y, rcond=None),
        "OLS().fit": lambda: OLS().fit(X, y),
        "OLS().fit + bse()": first_cov,
    }
    with threadpool_limits(1):
        results = {name: _time(fn, args.number, args.reps) for name, fn in rows.items()}
    base = results["QR + solve (floor)"][0]
    print(f"n = {n}, p = {p}; median [IQR] us per call over {args.reps} x {args.number}")
    for name, (med, lo, hi) in results.items():
        print(f"{name:22s} {med:8.1f} [{lo:7.1f}, {hi:7.1f}]   x{med / base:5.2f} of the floor")


if __name__ == "__main__":
    main()
