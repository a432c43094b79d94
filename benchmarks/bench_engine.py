"""Benchmark of the Monte Carlo engine against its floor (issue 15, Performance).

Study: R = 2000 replications, n in (100, 1000), p = 3 normal regressors, t3 errors,
estimators OLS (classical SE) and Huber (H1 SE), results written to a temporary store as in
a real run. Printed, each as the median (min-max) over ``--repeat`` alternating runs:

* the floor: drawing that study's regressors and errors (``draw_block`` for every seed
  block of every cell, nothing else);
* the engine's wall time, ``serial`` and ``processes`` with 2 workers;
* where the serial time goes: drawing, each estimator's ``fit_many`` (timed outside the
  engine on the same blocks) and the rest ("bookkeeping": rows, truth columns, Parquet
  writes, the cell notes).

Targets: engine (serial) at most 3x the floor; ``processes`` with 2 workers at least 1.7x
faster than ``serial``. The ratios are taken within each repeat (floor, serial and processes
run back to back), so a slow spell of a shared machine hits all three.

Usage: ``python benchmarks/bench_engine.py [--reps 2000] [--repeat 5] [--skip-processes]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings

from threadpoolctl import threadpool_limits

from tailreg.simulation import Study, run_study
from tailreg.simulation.engine import _configure
from tailreg.simulation.generate import draw_block
from tailreg.simulation.registry import default_kinds

SIZES = (100, 1000)


def study(reps: int) -> Study:
    return Study.from_dict(
        {
            "name": "bench",
            "seed": 1,
            "replications": reps,
            "sample_sizes": list(SIZES),
            "seed_block": 250,
            "design": {"x": "normal", "beta": [1.0, -0.5, 0.25]},
            "errors": [{"law": "t", "df": 3}],
            "estimators": [
                {"name": "ols", "kinds": ["classical"]},
                {"name": "huber", "kinds": ["H1"]},
            ],
        }
    )


def engine_time(s: Study, backend: str, workers: int | None = None) -> float:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_study(s, out=d, backend=backend, workers=workers, progress=False, block_size=500)
        return time.perf_counter() - t0


def floor_time(s: Study) -> float:
    """Drawing every seed block's regressors and errors, nothing else (BLAS 1 thread)."""
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for cell in s.cells():
            for b in range(s.n_blocks):
                draw_block(s, cell, b)
        return time.perf_counter() - t0


def breakdown(s: Study) -> dict[str, float]:
    """Seconds spent drawing the data and in each estimator's fit_many, outside the engine."""
    out = {"draw": 0.0} | {e.display: 0.0 for e in s.estimators}
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cell in s.cells():
            for b in range(s.n_blocks):
                t0 = time.perf_counter()
                blk = draw_block(s, cell, b)
                out["draw"] += time.perf_counter() - t0
                for i, spec in enumerate(s.estimators):
                    est = _configure(spec, i, s, cell, b)
                    kinds = spec.kinds if spec.kinds is not None else default_kinds(est)
                    t0 = time.perf_counter()
                    est.fit_many(blk.X, blk.Y, kinds)
                    out[spec.display] += time.perf_counter() - t0
    return out


def _fmt(values: list[float], digits: int = 3) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=5, help="alternating runs (median, range)")
    p.add_argument("--skip-processes", action="store_true")
    args = p.parse_args(argv)
    s = study(args.reps)
    print(
        f"R = {args.reps}, n in {SIZES}, p = 3, t3 errors, OLS + Huber; seconds, median "
        f"(min-max) of {args.repeat} alternating runs, BLAS 1 thread"
    )
    run_study(study(250), progress=False)  # warm-up: imports, cached theory targets
    floors, serial, procs = [], [], []
    for _ in range(args.repeat):
        floors.append(floor_time(s))
        serial.append(engine_time(s, "serial"))
        if not args.skip_processes:
            procs.append(engine_time(s, "processes", workers=2))
    ratio = [e / f for e, f in zip(serial, floors, strict=True)]
    print(f"floor (draw regressors and errors)  {_fmt(floors)}")
    print(f"engine, serial                      {_fmt(serial)}")
    print(f"  engine / floor                    {_fmt(ratio, 2)}   (target <= 3)")
    if procs:
        gain = [a / b for a, b in zip(serial, procs, strict=True)]
        print(f"engine, processes (2 workers)       {_fmt(procs)}")
        print(f"  serial / processes                {_fmt(gain, 2)}   (target >= 1.7)")
    parts = [breakdown(s) for _ in range(max(1, args.repeat // 2))]
    med = {k: statistics.median(r[k] for r in parts) for k in parts[0]}
    book = statistics.median(serial) - sum(med.values())
    print(
        "where the serial time goes: "
        + ", ".join(f"{k} {v:.3f}" for k, v in med.items())
        + f", engine bookkeeping {book:.3f}"
    )
    fits = sum(v for k, v in med.items() if k != "draw")
    print(
        f"the fits alone take {fits / med['draw']:.2f}x the floor: the engine's 3x target "
        f"leaves {3 * med['draw'] - med['draw']:.3f} s for fits and bookkeeping"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
