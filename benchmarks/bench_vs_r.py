"""tailreg against R (robustbase, quantreg, MASS) on the same data, timed in one run.

Rows (issue 15); "R = 200" is the number of replications, (n, p) the size of each data set
(p regressors plus a constant), errors Student-t(3), regressors standard normal:

- ``MM.fit_many``, R = 200, (100, 3), against an R loop of ``robustbase::lmrob(y ~ x)`` with
  lmrob's defaults, and against a loop of ``lmrob.fit`` (no formula) at our tolerances,
  ``rel.tol = 1e-12, k.max = 1000`` (ours: ``tol = 1e-12, s_max_iter = 1000``); the
  largest coefficient difference over the 200 fits and how many replications differ by more
  than 1e-4 (fast-S is random: a few may reach different local minima of the S-scale);
- one MM fit at n = 1e5 with p = 5 and p = 10 against ``lmrob`` (n = 2e4 with ``--quick``);
- ``StudentTMLE(df=None).fit_many``, R = 200, (100, 3): ours only (time per replication);
- ``LAD.fit_many``, R = 200, (100, 3), with its default ``iid`` standard errors and without
  any (``kinds=()``), against an R loop of ``quantreg::rq.fit(x, y, tau = 0.5, method = "br")``;
- single fits at n = 1000, p = 5: ``OLS`` vs ``lm.fit``, ``Huber`` vs ``MASS::rlm`` (psi.huber
  k = 1.345, MAD scale) at ``acc = 1e-12, maxit = 1000`` (ours: ``tol = 1e-12``) and at rlm's
  defaults (``acc = 1e-4, maxit = 20``), ``LAD`` (HiGHS and interior point) vs ``rq.fit``
  ``method = "fn"`` and ``"br"``.

The data are drawn once from ``--seed`` and written to a temporary directory as raw float64;
``Rscript`` runs once per family (``bench_vs_r.R`` beside this file) and times its loop
inside R, so R's start-up is not counted. BLAS runs on one thread on both sides
(threadpoolctl here; ``OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1`` for R). Every row is
warmed up once and timed ``reps`` times; fast calls are repeated in an inner loop of about
``target`` CPU seconds. Reported: best and median of the repetitions, CPU time
(``time.process_time``; user + system time of ``proc.time()`` in R) and wall time, the ratio
R time / our time of the best times (> 1: tailreg is faster), and the 1-minute load average
at the start and end of each row. On a loaded machine quote the CPU ratio. R is skipped with
a message when ``Rscript`` (or an R package) is missing.

Usage::

    python benchmarks/bench_vs_r.py [--quick] [--json PATH] [--only FAMILY ...] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import tailreg
from tailreg.estimators import LAD, MM, OLS, Huber, StudentTMLE

R_SCRIPT = Path(__file__).with_suffix(".R")
R_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FAMILIES = ("mm_many", "student_t", "lad_many", "mm_large", "single")
#: a replication "differs" from R when its largest coefficient difference exceeds this
DIFF_TOL = 1e-4

FULL = {"R": 200, "reps_many": 3, "reps_large": 2, "reps_single": 5, "target": 0.2}
QUICK = {"R": 20, "reps_many": 2, "reps_large": 1, "reps_single": 3, "target": 0.05}


def loadavg() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return [float("nan")] * 3


@dataclass
class Timing:
    """Repeated timings of one call: seconds per call, CPU and wall, one entry per repetition."""

    cpu: list[float]
    wall: list[float]
    inner: int
    load_start: list[float]
    load_end: list[float]
    n_warnings: int = 0
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_r(cls, row: dict) -> Timing:
        # R's JSON writes length-one vectors as scalars
        def vec(v):
            return np.atleast_1d(np.asarray(v, dtype=object)).tolist()

        return cls(
            vec(row["cpu"]),
            vec(row["wall"]),
            int(row["inner"]),
            vec(row["load_start"]),
            vec(row["load_end"]),
            n_warnings=int(row["n_warnings"]),
            warnings=[str(w) for w in vec(row["warnings"])],
        )

    def best(self, clock: str) -> float:
        return min(getattr(self, clock))

    def median(self, clock: str) -> float:
        return statistics.median(getattr(self, clock))


def measure(
    fn: Callable[[], Any], reps: int, target: float = 0.0, warmup: Callable[[], Any] | None = None
) -> tuple[Timing, Any]:
    """Warm up (``warmup`` or ``fn``), then time ``reps`` repetitions of ``fn``.

    With ``target > 0`` untimed calls of ``fn`` calibrate the inner loop: a repetition then
    calls ``fn`` often enough to take about ``target`` CPU seconds. Returns the timing and
    the last call's value; warnings of the last repetition are counted, not shown.
    """
    load_start = loadavg()
    inner = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (warmup or fn)()
        k = 1
        while target > 0:  # calibrate on at least min(20 ms, target) of calls, as the R side
            t0 = time.process_time()
            for _ in range(k):
                fn()
            elapsed = time.process_time() - t0
            if elapsed >= min(0.02, target):
                inner = max(1, int(np.ceil(target * k / elapsed)))
                break
            k *= 2
    cpu, wall, value = [], [], None
    for _ in range(reps):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(inner):
                value = fn()
            c1, w1 = time.process_time(), time.perf_counter()
        cpu.append((c1 - c0) / inner)
        wall.append((w1 - w0) / inner)
    msgs = sorted({str(w.message) for w in caught})
    return Timing(cpu, wall, inner, load_start, loadavg(), len(caught), msgs), value


# -- data ------------------------------------------------------------------------------
def make_data(R: int, n_large: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Data sets ``name -> (X (R, n, p) without constant, Y (R, n))``, t3 errors."""
    shapes = {"many": (R, 100, 3), "large_p5": (1, n_large, 5), "large_p10": (1, n_large, 10)}
    shapes["single"] = (1, 1000, 5)
    out = {}
    for (name, (r, n, p)), ss in zip(
        shapes.items(), np.random.SeedSequence(seed).spawn(len(shapes)), strict=True
    ):
        rng = np.random.default_rng(ss)
        X = rng.standard_normal((r, n, p))
        Y = 1.0 + X @ np.linspace(1.0, -1.0, p) + rng.standard_t(3, (r, n))
        out[name] = (X, Y)
    return out


def write_data(tmp: Path, data: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Raw little-endian float64 that R reads as an (n, p, R) array and an (n, R) matrix."""
    for name, (X, Y) in data.items():
        X.transpose(1, 2, 0).ravel(order="F").astype("<f8").tofile(tmp / f"{name}_X.bin")
        Y.ravel(order="C").astype("<f8").tofile(tmp / f"{name}_y.bin")


def run_r(family: str, names: list[str], ctx: dict) -> dict | None:
    """Run one R family in its own Rscript; None (with a message) when R is unavailable."""
    if ctx["tmp"] is None:
        return None
    dims = {}
    for name in names:
        r, n, p = ctx["data"][name][0].shape
        dims[name] = {"R": r, "n": n, "p": p}
    reps = ctx["mode"]["reps_large" if family == "mm_large" else "reps_many"]
    if family == "single":
        reps = ctx["mode"]["reps_single"]
    cfg = {"family": family, "seed": ctx["seed"], "reps": reps, "target": ctx["mode"]["target"]}
    cfg["datasets"] = dims
    cfg_path, out_path = ctx["tmp"] / f"{family}.json", ctx["tmp"] / f"{family}_out.json"
    cfg_path.write_text(json.dumps(cfg))
    proc = subprocess.run(
        ["Rscript", str(R_SCRIPT), str(cfg_path), str(out_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **R_ENV},
    )
    if proc.returncode != 0 or not out_path.exists():
        print(f"[{family}] R failed, its timings are skipped:\n{proc.stderr.strip()}")
        return None
    out = json.loads(out_path.read_text())
    if "skipped" in out:
        print(f"[{family}] R skipped: {out['skipped']}")
        return None
    ctx["r_meta"] = out["meta"]
    return out["rows"]


# -- accuracy --------------------------------------------------------------------------
def coef_agreement(ours: np.ndarray, theirs: np.ndarray) -> dict:
    """Largest |difference| and the replications whose largest difference exceeds DIFF_TOL."""
    diff = np.abs(np.asarray(ours, float) - np.asarray(theirs, float)).max(axis=1)
    return {
        "max_abs_coef_diff": float(diff.max()),
        "median_abs_coef_diff": float(np.median(diff)),
        "n_over_1e-4": int((diff > DIFF_TOL).sum()),
        "over": np.flatnonzero(diff > DIFF_TOL).tolist(),
    }


def mm_agreement(ours, r_value: dict) -> dict:
    """coef_agreement plus, for replications that differ, which side has the smaller S-scale."""
    acc = coef_agreement(ours.coef, r_value["coef"])
    # R's JSON writes length-one vectors as scalars
    s_r = np.atleast_1d(np.asarray(r_value["scale"], float))
    conv_r = np.atleast_1d(np.asarray(r_value["converged"], bool))
    over = acc["over"]
    same = np.setdiff1d(np.arange(len(s_r)), over)
    acc["over_ours_lower_S_scale"] = int((ours.scale[over] < s_r[over]).sum())
    acc["over_r_not_converged"] = int((~conv_r[over]).sum())
    acc["max_rel_S_scale_diff_others"] = float(np.max(np.abs(ours.scale[same] / s_r[same] - 1)))
    acc["r_not_converged"] = int((~conv_r).sum())
    acc["ours_not_converged"] = int((~ours.converged).sum())
    acc["over_detail"] = [
        {
            "replication": int(i),
            "max_abs_coef_diff": float(np.max(np.abs(ours.coef[i] - r_value["coef"][i]))),
            "ours_S_scale": float(ours.scale[i]),
            "r_S_scale": float(s_r[i]),
            "r_converged": bool(conv_r[i]),
        }
        for i in over
    ]
    return acc


def lad_objective_gap(X: np.ndarray, Y: np.ndarray, ours: np.ndarray, theirs: np.ndarray) -> float:
    """max over replications of (our objective - R's) / R's: <= ~1e-15 when ours is optimal."""

    def obj(beta):
        beta = np.asarray(beta, float)
        return np.abs(Y - beta[:, :1] - (X @ beta[:, 1:, None])[:, :, 0]).sum(axis=1)

    return float(np.max((obj(ours) - obj(theirs)) / obj(theirs)))


def make_row(name, counterpart, unit, ours, r_rows, r_key, accuracy=None, notes=()) -> dict:
    r_row = None if r_rows is None or r_key is None else r_rows.get(r_key)
    return {
        "benchmark": name,
        "counterpart": counterpart,
        "unit": unit,
        "ours": ours,
        "r": None if r_row is None else Timing.from_r(r_row),
        "accuracy": accuracy or {},
        "notes": list(notes),
    }


def r_value(r_rows: dict | None, key: str) -> dict | None:
    return None if r_rows is None or key not in r_rows else r_rows[key]["value"]


# -- families --------------------------------------------------------------------------
def family_mm_many(ctx: dict) -> list[dict]:
    X, Y = ctx["data"]["many"]
    R, reps, seed = len(Y), ctx["mode"]["reps_many"], ctx["seed"]
    t, fits = measure(
        lambda: MM(random_state=seed).fit_many(X, Y),
        reps,
        warmup=lambda: MM(random_state=seed).fit_many(X[:5], Y[:5]),
    )
    r = run_r("mm_many", ["many"], ctx)
    note = f"per replication {t.best('cpu') / R * 1e3:.2f} ms CPU"
    rows = []
    for key, counterpart in (
        ("lmrob", "R loop of lmrob(y ~ x), defaults (rel.tol = 1e-7)"),
        ("lmrob_fit_equal", "R loop of lmrob.fit(X, y), rel.tol = 1e-12, k.max = 1000"),
    ):
        val = r_value(r, key)
        acc = None if val is None else mm_agreement(fits, val)
        rows.append(
            make_row(
                f"MM.fit_many R={R} (100, 3)", counterpart, f"{R} fits", t, r, key, acc, [note]
            )
        )
    return rows


def family_student_t(ctx: dict) -> list[dict]:
    X, Y = ctx["data"]["many"]
    R = len(Y)
    t, fits = measure(
        lambda: StudentTMLE(df=None).fit_many(X, Y),
        ctx["mode"]["reps_many"],
        warmup=lambda: StudentTMLE(df=None).fit_many(X[:2], Y[:2]),
    )
    notes = [
        f"per replication {t.best('cpu') / R * 1e3:.1f} ms CPU",
        "no R counterpart (issue target: 20x faster than this baseline)",
        f"{int((~fits.converged).sum())} of {R} not converged",
    ]
    name = f"StudentTMLE(df=None).fit_many R={R} (100, 3)"
    return [make_row(name, "-", f"{R} fits", t, None, None, notes=notes)]


def family_lad_many(ctx: dict) -> list[dict]:
    X, Y = ctx["data"]["many"]
    R, reps = len(Y), ctx["mode"]["reps_many"]

    def warm():
        return LAD().fit_many(X[:5], Y[:5])

    target = ctx["mode"]["target"]
    t_se, fits = measure(lambda: LAD().fit_many(X, Y), reps, target, warm)
    t_bare, _ = measure(lambda: LAD().fit_many(X, Y, kinds=()), reps, target, warm)
    r = run_r("lad_many", ["many"], ctx)
    val = r_value(r, "rq_br")
    acc = None
    if val is not None:
        acc = coef_agreement(fits.coef, val["coef"])
        acc["max_rel_objective_gap"] = lad_objective_gap(X, Y, fits.coef, val["coef"])
    counterpart = 'R loop of rq.fit(X, y, method = "br")'
    return [
        make_row(
            f"LAD.fit_many R={R} (100, 3), iid se",
            counterpart,
            f"{R} fits",
            t_se,
            r,
            "rq_br",
            acc,
            [f"per replication {t_se.best('cpu') / R * 1e3:.2f} ms CPU"],
        ),
        make_row(
            f"LAD.fit_many R={R} (100, 3), kinds=()",
            counterpart,
            f"{R} fits",
            t_bare,
            r,
            "rq_br",
            acc,
            ["coefficients only, as rq.fit"],
        ),
    ]


def family_mm_large(ctx: dict) -> list[dict]:
    names = ["large_p5", "large_p10"]
    timings = {}
    for name in names:
        X, Y = ctx["data"][name]
        x, y = X[0], Y[0]
        timings[name] = measure(
            lambda x=x, y=y: MM(random_state=ctx["seed"]).fit(x, y),
            ctx["mode"]["reps_large"],
            warmup=lambda x=x, y=y: MM(random_state=ctx["seed"]).fit(x[:500], y[:500]),
        )
    r = run_r("mm_large", names, ctx)
    rows = []
    for name in names:
        t, est = timings[name]
        n, p = ctx["data"][name][0].shape[1:]
        val = r_value(r, f"lmrob_{name}")
        acc = None
        if val is not None:
            ours = np.r_[est.intercept_, est.coef_][None, :]
            acc = coef_agreement(ours, val["coef"])
            acc["rel_S_scale_diff"] = float(est.result_.scale / np.ravel(val["scale"])[0] - 1.0)
        note = "lmrob uses its large-n fast-S here (n > fast.s.large.n = 2000); ours does not"
        rows.append(
            make_row(
                f"MM.fit n={n} p={p}",
                "lmrob(y ~ x), defaults",
                "1 fit",
                t,
                r,
                f"lmrob_{name}",
                acc,
                [note],
            )
        )
    return rows


def family_single(ctx: dict) -> list[dict]:
    X, Y = ctx["data"]["single"]
    x, y = X[0], Y[0]
    reps, target = ctx["mode"]["reps_single"], ctx["mode"]["target"]
    ests = {
        "OLS.fit": OLS(),
        "Huber.fit": Huber(),
        "LAD.fit (highs)": LAD(),
        "LAD(solver='interior-point').fit": LAD(solver="interior-point"),
    }
    ours = {k: measure(lambda e=e: e.fit(x, y), reps, target) for k, e in ests.items()}
    r = run_r("single", ["single"], ctx)
    spec = [
        ("OLS.fit", "lm.fit(X, y)", "lm_fit"),
        ("Huber.fit", "rlm(X, y, acc = 1e-12, maxit = 1000)", "rlm_acc12"),
        ("Huber.fit", "rlm(X, y), defaults (acc = 1e-4, maxit = 20)", "rlm_default"),
        ("LAD.fit (highs)", 'rq.fit(X, y, method = "fn")', "rq_fn"),
        ("LAD.fit (highs)", 'rq.fit(X, y, method = "br")', "rq_br"),
        ("LAD(solver='interior-point').fit", 'rq.fit(X, y, method = "fn")', "rq_fn"),
    ]
    rows = []
    for key, counterpart, r_key in spec:
        t, est = ours[key]
        val = r_value(r, r_key)
        acc = None
        if val is not None:
            acc = coef_agreement(np.r_[est.intercept_, est.coef_][None, :], val["coef"])
            acc["r_converged"] = bool(val["converged"])
        rows.append(make_row(f"{key} n=1000 p=5", counterpart, "1 fit", t, r, r_key, acc))
    return rows


RUNNERS = {
    "mm_many": family_mm_many,
    "student_t": family_student_t,
    "lad_many": family_lad_many,
    "mm_large": family_mm_large,
    "single": family_single,
}


# -- report ----------------------------------------------------------------------------
def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 0.9995:
        return f"{s:.2f} s"
    if s >= 0.9995e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} us"


def fmt_pair(t: Timing | None, clock: str) -> str:
    if t is None:
        return "-"
    return f"{fmt_time(t.best(clock))} ({fmt_time(t.median(clock))})"


def ratio(row: dict, clock: str) -> float | None:
    if row["r"] is None or row["ours"] is None:
        return None
    return row["r"].best(clock) / row["ours"].best(clock)


def print_report(rows: list[dict], meta: dict) -> None:
    print(
        f"\ntailreg {meta['tailreg']} vs {meta.get('r', {}).get('R', 'R: not run')}; "
        f"{meta['cpus']} CPUs; BLAS threads = 1 on both sides; best (median) of the reps"
    )
    w = max(len(r["benchmark"]) for r in rows)
    c = max(len(r["counterpart"]) for r in rows)
    head = f"{'benchmark':<{w}}  {'R counterpart':<{c}}  {'unit':>8}"
    print(
        f"{head}  {'ours CPU':>19}  {'R CPU':>19}  {'R/ours':>6}  {'ours wall':>19}"
        f"  {'R wall':>19}  {'R/ours':>6}"
    )
    for row in rows:
        ratios = [ratio(row, k) for k in ("cpu", "wall")]
        rs = ["-" if q is None else f"{q:.2f}" for q in ratios]
        print(
            f"{row['benchmark']:<{w}}  {row['counterpart']:<{c}}  {row['unit']:>8}  "
            f"{fmt_pair(row['ours'], 'cpu'):>19}  {fmt_pair(row['r'], 'cpu'):>19}  {rs[0]:>6}  "
            f"{fmt_pair(row['ours'], 'wall'):>19}  {fmt_pair(row['r'], 'wall'):>19}  {rs[1]:>6}"
        )
    print("\nreps x inner calls, 1-minute load average at start -> end (ours; R), accuracy")
    for row in rows:
        parts = []
        for side in ("ours", "r"):
            t = row[side]
            if t is not None:
                parts.append(
                    f"{side} {len(t.cpu)}x{t.inner} load {t.load_start[0]:.1f}->{t.load_end[0]:.1f}"
                    + (f", {t.n_warnings} warnings" if t.n_warnings else "")
                )
        acc = {k: v for k, v in row["accuracy"].items() if k not in ("over", "over_detail")}
        acc_txt = ", ".join(
            f"{k}={v:.1e}" if isinstance(v, float) else f"{k}={v}" for k, v in acc.items()
        )
        print(f"- {row['benchmark']} vs {row['counterpart']}: {'; '.join(parts)}")
        for line in filter(None, [acc_txt, *row["notes"]]):
            print(f"    {line}")


def to_json(rows: list[dict], meta: dict) -> dict:
    def timing(t: Timing | None) -> dict | None:
        if t is None:
            return None
        d = asdict(t)
        for clock in ("cpu", "wall"):
            d[f"best_{clock}"], d[f"median_{clock}"] = t.best(clock), t.median(clock)
        return d

    out_rows = []
    for row in rows:
        d = {**row, "ours": timing(row["ours"]), "r": timing(row["r"])}
        d["ratio_cpu"], d["ratio_wall"] = ratio(row, "cpu"), ratio(row, "wall")
        out_rows.append(d)
    return {"meta": meta, "rows": out_rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="R = 20, fewer reps, n = 2e4")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--only", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-large", type=int, help="n of the single MM fits (1e5; quick 2e4)")
    args = parser.parse_args(argv)
    mode = dict(QUICK if args.quick else FULL)
    n_large = args.n_large or (20_000 if args.quick else 100_000)
    meta = {
        "tailreg": tailreg.__version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "quick": args.quick,
        "seed": args.seed,
        "mode": mode,
        "n_large": n_large,
        "load_start": loadavg(),
    }
    data = make_data(mode["R"], n_large, args.seed)
    have_r = shutil.which("Rscript") is not None
    if not have_r:
        print("Rscript not found: R timings are skipped (tailreg's are still reported)")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(limits=1):
        meta["blas"] = [f"{d['internal_api']} {d['version']}" for d in threadpool_info()]
        if have_r:
            write_data(Path(tmp), data)
        ctx = {"data": data, "mode": mode, "seed": args.seed, "tmp": Path(tmp) if have_r else None}
        for family in args.only:
            print(f"running {family} ...", flush=True)
            rows.extend(RUNNERS[family](ctx))
        meta["r"] = ctx.get("r_meta", {})
    meta["load_end"] = loadavg()
    print_report(rows, meta)
    if args.json:
        args.json.write_text(json.dumps(to_json(rows, meta), indent=1))
        print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
