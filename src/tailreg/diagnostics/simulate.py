r"""The Monte Carlo of :func:`tailreg.diagnose` at the user's own design (model-based).

The study is built programmatically for :func:`tailreg.simulation.run_study`:

* **design** — the user's regressors written to a CSV in a temporary folder and read back
  as a design file with ``sampling = "fixed"``: every replication uses exactly the user's
  :math:`X` (all rows);
* **line** — the MM coefficients taken as the true line :math:`\beta`;
* **errors** — the best-AIC law fitted to the MM residuals, rebuilt in the workers by the
  factory :func:`fitted_law` (``"tailreg.diagnostics.simulate:fitted_law"``) from its
  parameters, not re-centred or re-scaled;
* **heteroscedasticity**, only when Breusch–Pagan rejects — the engine's hook is
  :math:`e_i = \sigma(x_{ij})u_i` with :math:`\sigma(x) = a + b|x|` of one column :math:`j`.
  The simplest honest fit: for each regressor the least-squares line of :math:`|r_i|` (MM
  residuals) on :math:`|x_{ij}|`, the column with the largest :math:`R^2` kept, its slope
  clipped at 0 and intercept at 1% of the mean, normalised so that :math:`\sigma` averages 1
  over the design (the fitted law carries the overall scale). This captures a variance that
  grows with one regressor; it misses variance patterns in several regressors at once;
* **covariance kinds** — each estimator's kind chosen by the diagnosis, so the coverage is
  that of the standard errors the report recommends.

Reported per estimator and coefficient: bias against the estimator's own pseudo-true target
(``bias_pseudo``: the intercept's target is shifted by :math:`T(F)`), RMSE about it and the
coverage of the 95% Wald interval, each with its Monte Carlo standard error. Model-based:
the numbers are right for data drawn from the fitted model, and only as right for the
user's data as that model is.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..distributions import ErrorLaw, Laplace, LogNormal, Normal, SkewNormal
from ..distributions import StudentT as StudentTLaw
from .advice import Findings
from .laws import LawFit, _affine

__all__ = ["REGISTRY_NAMES", "fitted_law", "heteroscedastic_fit", "simulate_at_design"]

#: diagnose's display names -> the engine's estimator names
REGISTRY_NAMES = {
    "OLS": "ols",
    "Huber": "huber",
    "Bisquare": "bisquare",
    "LAD": "lad",
    "MM": "mm",
    "t-MLE": "student_t",
}
FACTORY = "tailreg.diagnostics.simulate:fitted_law"


def fitted_law(family: str, **params: float) -> ErrorLaw:
    """The law of :mod:`tailreg.diagnostics.laws` with these parameters, as fitted
    (``LawFit.params``).

    Parameters
    ----------
    family : {"normal", "t", "laplace", "skewnormal", "lognormal"}
    **params
        ``loc``, ``scale`` and ``df`` (t) or ``a`` (skew-normal); the lognormal
        ``shift``, ``mu``, ``s``.
    """
    # the study file passes them prefixed ``fit_`` (see _study)
    params = {k.removeprefix("fit_"): v for k, v in params.items()}
    if family == "normal":
        return Normal(params["loc"], params["scale"])
    if family == "laplace":
        return _affine(Laplace(), params["loc"], params["scale"])
    if family == "t":
        return _affine(StudentTLaw(params["df"]), params["loc"], params["scale"])
    if family == "skewnormal":
        return _affine(SkewNormal(params["a"]), params["loc"], params["scale"])
    if family == "lognormal":
        return _affine(LogNormal(params["s"]), params["shift"], math.exp(params["mu"]))
    raise ValueError(f"unknown family {family!r}")


def heteroscedastic_fit(X: np.ndarray, resid: np.ndarray) -> dict[str, Any]:
    """:math:`\\sigma(x) = a + b|x_j|` from :math:`|r|` (module notes), mean 1 over ``X``."""
    absr = np.abs(np.asarray(resid, float))
    best: tuple[float, int, float, float] = (-math.inf, 0, 1.0, 0.0)
    for j in range(X.shape[1]):
        z = np.abs(X[:, j])
        A = np.column_stack([np.ones_like(z), z])
        coef, *_ = np.linalg.lstsq(A, absr, rcond=None)
        fit = A @ coef
        r2 = 1.0 - float(((absr - fit) ** 2).sum() / ((absr - absr.mean()) ** 2).sum())
        if r2 > best[0]:
            best = (r2, j, float(coef[0]), float(coef[1]))
    _, j, a, b = best
    b = max(b, 0.0)
    a = max(a, 0.01 * float(absr.mean()))
    mean_sigma = a + b * float(np.abs(X[:, j]).mean())
    return {"scale_fn": "linear", "a": a / mean_sigma, "b": b / mean_sigma, "column": j}


def _study(
    X: np.ndarray,
    path: Path,
    fits: Mapping[str, Any],
    law: LawFit,
    kinds: Mapping[str, str],
    het: dict[str, Any] | None,
    replications: int,
    seed: int,
) -> dict[str, Any]:
    cols = [f"x{j + 1}" for j in range(X.shape[1])]
    pd.DataFrame(X, columns=cols).to_csv(path, index=False)
    mm = fits["MM"].result_.params
    errors: dict[str, Any] = {
        "law": FACTORY,
        "family": law.family,
        # prefixed: "scale" and "center" are the spec's own keys (standardization)
        **{f"fit_{k}": float(v) for k, v in law.params.items()},
        "label": "fitted",
    }
    if het is not None:
        errors["heteroscedastic"] = het
    return {
        "name": "diagnose-at-design",
        "seed": seed,
        "replications": int(replications),
        "sample_sizes": [int(X.shape[0])],
        "seed_block": min(50, int(replications)),
        "design": {
            "x": {"file": str(path), "columns": cols, "sampling": "fixed"},
            "beta": [float(v) for v in mm.iloc[1:]],
            "intercept": float(mm.iloc[0]),
            "label": "your design",
        },
        "errors": [errors],
        "estimators": [
            {"name": REGISTRY_NAMES[name], "label": name, "kinds": [kinds[name]]}
            for name in fits
            if name in REGISTRY_NAMES
        ],
    }


def _table(summary: pd.DataFrame, kinds: Mapping[str, str], names: list[str]) -> pd.DataFrame:
    rows = []
    for _, r in summary.iterrows():
        kind = kinds[r["estimator"]]
        # the design file's columns are x1..xp (see _study): map back to the user's names
        par = str(r["parameter"])
        j = int(par[1:]) if par[:1] == "x" and par[1:].isdigit() else None
        rows.append(
            {
                "estimator": r["estimator"],
                "term": names[j] if j is not None and j < len(names) else r["parameter"],
                "target": r.get("pseudo_true", math.nan),
                "bias": r.get("bias_pseudo", math.nan),
                "bias_mcse": r.get("bias_pseudo_mcse", math.nan),
                "rmse": r.get("rmse_pseudo", math.nan),
                "sd": r.get("sd", math.nan),
                "se kind": kind,
                "mean se": r.get(f"mean_se_{kind}", math.nan),
                "coverage": r.get(f"coverage_pseudo_{kind}", math.nan),
                "coverage_mcse": r.get(f"coverage_pseudo_{kind}_mcse", math.nan),
                "replications": r.get("n_rep", math.nan),
            }
        )
    frame = pd.DataFrame(rows)
    return frame[frame["term"].isin(names)].reset_index(drop=True)  # not sigma/df of the t-MLE


def simulate_at_design(
    X: np.ndarray,
    fits: Mapping[str, Any],
    law: LawFit,
    findings: Findings,
    *,
    kinds: Mapping[str, str],
    names: list[str],
    replications: int,
    seed: np.random.SeedSequence,
    progress: bool = False,
) -> tuple[pd.DataFrame | None, str]:
    """Run the study of the module notes; returns (table, note)."""
    from ..simulation import run_study, summarize

    het_found = findings.heteroscedasticity is not None and findings.heteroscedasticity.detected
    het = heteroscedastic_fit(X, fits["MM"].result_.resid) if het_found else None
    root = int(seed.generate_state(1)[0])
    with tempfile.TemporaryDirectory() as tmp:
        spec = _study(X, Path(tmp) / "design.csv", fits, law, kinds, het, replications, root)
        run = run_study(spec, progress=progress)
        summary = summarize(run.replications, bootstrap=0)
    table = _table(summary, kinds, names)
    het_text = (
        f"; heteroscedastic errors sigma(x) = {het['a']:.3g} + {het['b']:.3g}"
        f"|{names[het['column'] + 1]}|"
        " (mean 1 over the design; Breusch–Pagan rejected)"
        if het is not None
        else "; homoscedastic (Breusch–Pagan did not reject)"
    )
    dep = findings.dependence is not None and findings.dependence.detected
    note = (
        f"Model-based: {replications} replications of your design (all {X.shape[0]} rows, "
        f"fixed) with the MM line as the truth and errors from the fitted {law.label}"
        + het_text
        + ". Bias and RMSE are about each estimator's own target (the intercept's includes "
        "its T(F)); coverage is that of the 95% interval under the standard errors chosen "
        "above. The numbers hold for data from this fitted model, and only as far as it "
        "describes your data."
        + (
            " The simulated errors are independent: the dependence found is not simulated."
            if dep
            else ""
        )
    )
    return table, note
