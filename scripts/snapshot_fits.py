"""Store, or compare against, the numbers of a fixed set of fits (the refactor safety net).

``python scripts/snapshot_fits.py save SNAP.npz`` fits every estimator configuration on a
fixed collection of data sets — single fits with every covariance kind, and ``fit_many`` on
shared and stacked designs — and writes every array to ``SNAP.npz``.
``python scripts/snapshot_fits.py compare SNAP.npz`` recomputes them and reports each array
that is not bit-identical (exit status 1 if any differs).

A refactor that "moves no digit" keeps ``compare`` silent.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from statsmodels.datasets import engel, stackloss

import tailreg

CONFIGS = {
    "ols": lambda: tailreg.OLS(),
    "ols_hac3": lambda: tailreg.OLS(hac_maxlags=3),
    "gmle": lambda: tailreg.GaussianMLE(),
    "huber": lambda: tailreg.Huber(),
    "huber_irls": lambda: tailreg.Huber(method="irls"),
    "huber_p2": lambda: tailreg.Huber(scale="proposal2"),
    "huber_fixed": lambda: tailreg.Huber(scale=2.0),
    "bisq": lambda: tailreg.Bisquare(),
    "bisq_lad": lambda: tailreg.Bisquare(init="lad"),
    "bisq_huber": lambda: tailreg.Bisquare(init="huber"),
    "lad": lambda: tailreg.LAD(random_state=1, n_boot=20),
    "lad_ip": lambda: tailreg.LAD(solver="interior-point", random_state=1, n_boot=20),
    "q25": lambda: tailreg.QuantileRegression(0.25, random_state=2, n_boot=20),
    "q90_bof": lambda: tailreg.QuantileRegression(
        0.9, bandwidth="bofinger", n_boot=20, random_state=3
    ),
    "mm": lambda: tailreg.MM(random_state=5),
    "mm85": lambda: tailreg.MM(efficiency=0.85, random_state=5),
    "t3": lambda: tailreg.StudentTMLE(df=3.0),
    "tdf": lambda: tailreg.StudentTMLE(),
}
#: estimators whose fit_many is exercised (the slow ones on fewer replications)
MANY_REPS = {"tdf": 4, "mm": 6, "mm85": 4, "bisq_lad": 6}


def datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    sl = stackloss.load_pandas().data
    en = engel.load_pandas().data
    out = {
        "stackloss": (
            sl[["AIRFLOW", "WATERTEMP", "ACIDCONC"]].to_numpy(float),
            sl["STACKLOSS"].to_numpy(float),
        ),
        "engel": (en[["income"]].to_numpy(float), en["foodexp"].to_numpy(float)),
    }
    rng = np.random.default_rng(20261202)
    for law, n in (("normal", 40), ("t3", 120), ("lognormal", 80), ("cauchy", 60)):
        X = rng.standard_normal((n, 2))
        e = {
            "normal": rng.standard_normal(n),
            "t3": rng.standard_t(3, n),
            "lognormal": rng.lognormal(0, 1, n),
            "cauchy": rng.standard_cauchy(n),
        }[law]
        out[law] = (X, 1.0 + X @ np.array([0.5, -1.0]) + e)
    return out


def many_data(R: int, n: int = 50, p: int = 2):
    rng = np.random.default_rng(7)
    Xs = rng.standard_normal((n, p))
    Xk = rng.standard_normal((R, n, p))
    E = rng.standard_t(3, (R, n))
    Ys = 1.0 + Xs @ np.ones(p) + E  # (R, n)
    Yk = 1.0 + np.einsum("rnp,p->rn", Xk, np.ones(p)) + E
    return Xs, Ys, Xk, Yk


def fit_many(est, X, Y_rn, kinds):
    """``fit_many`` with Y given as (R, n), the API's one orientation for shared and stacked X."""
    return est.fit_many(X, Y_rn, kinds)


def collect() -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    data = datasets()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cname, make in CONFIGS.items():
            for dname, (X, y) in data.items():
                if cname in ("tdf",) and dname not in ("stackloss", "engel", "t3"):
                    continue
                key = f"{cname}/{dname}"
                try:
                    est = make().fit(X, y)
                except Exception as exc:  # recorded, so a change in failure is seen too
                    out[f"{key}/error"] = np.array(f"{type(exc).__name__}: {exc}")
                    continue
                r = est.result_
                out[f"{key}/params"] = r.params.to_numpy()
                out[f"{key}/scale"] = np.array(r.scale)
                out[f"{key}/n_iter"] = np.array(r.n_iter)
                out[f"{key}/converged"] = np.array(r.converged)
                out[f"{key}/resid"] = np.asarray(r.resid)
                for attr in ("objective", "loglik"):
                    v = getattr(r, attr)
                    if v is not None:
                        out[f"{key}/{attr}"] = np.array(v)
                out[f"{key}/predict"] = est.predict(X[:5])
                for kind in r.cov_kinds:
                    try:
                        out[f"{key}/cov_{kind}"] = r.cov(kind).to_numpy()
                    except Exception as exc:
                        out[f"{key}/cov_{kind}/error"] = np.array(type(exc).__name__)
            R = MANY_REPS.get(cname, 12)
            Xs, Ys, Xk, Yk = many_data(R)
            est = make()
            kinds = [k for k in est.cov_kinds if k != "bootstrap"]
            for tag, X, Y in (("shared", Xs, Ys), ("stacked", Xk, Yk)):
                key = f"{cname}/many_{tag}"
                f = fit_many(make(), X, Y, kinds)
                out[f"{key}/params"] = f.params
                out[f"{key}/scale"] = np.asarray(f.scale)
                out[f"{key}/converged"] = np.asarray(f.converged)
                out[f"{key}/n_iter"] = np.asarray(f.n_iter)
                for kind in kinds:
                    out[f"{key}/se_{kind}"] = f.se[kind]
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "compare"):
        print(__doc__)
        return 2
    mode, path = argv
    now = collect()
    if mode == "save":
        np.savez(path, **{k.replace("/", "|"): v for k, v in now.items()})
        print(f"saved {len(now)} arrays to {path}")
        return 0
    ref = {k.replace("|", "/"): v for k, v in np.load(path).items()}
    bad = []
    for key in sorted(set(ref) | set(now)):
        if key not in now or key not in ref:
            bad.append(f"{key}: only in {'reference' if key in ref else 'new run'}")
            continue
        a, b = ref[key], now[key]
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            bad.append(f"{key}: shape/dtype {a.shape}{a.dtype} -> {b.shape}{b.dtype}")
        elif a.dtype.kind in "fc":
            if not np.array_equal(a, b, equal_nan=True):
                with np.errstate(invalid="ignore", divide="ignore"):
                    rel = np.nanmax(np.abs(a - b) / np.maximum(np.abs(a), 1e-300))
                bad.append(f"{key}: differs (max rel {rel:.3g})")
        elif not np.array_equal(a, b):
            bad.append(f"{key}: differs ({a!r} -> {b!r})")
    for line in bad:
        print(line)
    print(f"{len(ref)} reference arrays, {len(bad)} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
