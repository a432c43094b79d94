r"""``tailreg.diagnose``: what a user's regression residuals say, and what to report.

:func:`diagnose` assembles the building blocks of :mod:`tailreg.diagnostics`:

1. OLS and MM fits; residual diagnostics of both (:func:`.residual_diagnostics`: shape with
   bootstrap intervals, Jarque–Bera, Anderson–Darling, Breusch–Pagan (Koenker), and with
   ``ordered=True`` Durbin–Watson and Ljung–Box), Hill estimates of both tails of the MM
   residuals (a robust fit leaves outliers at their full size, least squares smears them),
   and the MM weights with flagged outliers and leverage points (:func:`.outlier_diagnostics`).
2. The detectors of :func:`.detect` run on the OLS residual diagnostics (the rules whose
   detection rates ``tests/test_diagnostics_acceptance.py`` measures).
3. Every estimator (OLS, Huber, bisquare, LAD, MM, Student-t MLE) side by side
   (:func:`tailreg.compare`) under the covariance kind the findings call for
   (:func:`choose_cov_kind`), falling back — with the reason written down — when an
   estimator does not offer that kind.
4. Normal, t, Laplace, skew-normal and (skewed positive) lognormal laws fitted to the MM
   residuals (:func:`.fit_error_laws`, AIC); at the best law each estimator's pseudo-true
   intercept shift :math:`T(F)` (``est.target(law)``, :mod:`tailreg.theory`) and its
   asymptotic relative efficiency against OLS for the slopes,
   :math:`\mathrm{ARE} = V_{OLS}/V_{est}` (``Target.avar_slopes``).
5. Optionally a Monte Carlo at the user's design (:mod:`.simulate`), model-based.
6. Recommendations with reasons (:func:`.recommend`, OLS against MM).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import SeedLike
from ..compare import Comparison, compare
from .advice import (
    CoefficientComparison,
    Findings,
    Recommendation,
    compare_coefficients,
    detect,
    recommend,
)
from .document import Document
from .figures import estimates_plot, hill_plot, qq_plot, residuals_vs_fitted, weights_plot
from .html import write_html
from .laws import LawComparison, fit_error_laws
from .markdown import write_markdown
from .outliers import OutlierDiagnostics, outlier_diagnostics
from .residuals import ResidualDiagnostics, residual_diagnostics
from .tails import TailDiagnostics, tail_diagnostics

__all__ = ["MIN_ROWS", "Diagnosis", "choose_cov_kind", "diagnose", "estimators"]

#: fewest complete rows diagnose accepts (the bootstrap, Hill and AIC need a sample)
MIN_ROWS = 20

#: what each estimator's intercept estimates, by ``Target.kind``
_MEANING = {
    "mean": "the mean of the errors",
    "quantile": "the median of the errors",
    "m": "an M-location of the errors (the centre of its psi at the fitted scale)",
}


def estimators(random_state: SeedLike = None) -> dict[str, Any]:
    """The estimators :func:`diagnose` fits, by display name (MM seeded by ``random_state``)."""
    from .. import LAD, MM, OLS, Bisquare, Huber, StudentTMLE

    return {
        "OLS": OLS(),
        "Huber": Huber(),
        "Bisquare": Bisquare(),
        "LAD": LAD(),
        "MM": MM(random_state=random_state),
        "t-MLE": StudentTMLE(),
    }


_HET_KINDS = ("HC3", "sandwich", "nid")


def choose_cov_kind(
    kinds: Sequence[str], findings: Findings, *, grouped: bool = False
) -> tuple[str, str]:
    """The covariance kind the diagnostics call for, among ``kinds``, and why.

    Wanted, in order: ``cluster`` when groups are given, ``HAC`` under dependence, a
    heteroscedasticity-robust kind (HC3, sandwich, nid — the first the estimator has) under
    heteroscedasticity. The first wanted kind the estimator offers is used; when it offers
    none of them, the heteroscedasticity-robust kind is the fallback (it at least does not
    assume equal variances), and the reason says what it does not cover. Without any finding
    the estimator's default (``kinds[0]``).
    """
    kinds = tuple(kinds)
    het = findings.heteroscedasticity is not None and findings.heteroscedasticity.detected
    dep = findings.dependence is not None and findings.dependence.detected
    robust = next((k for k in _HET_KINDS if k in kinds), None)
    wanted: list[tuple[str | None, str]] = []
    if grouped:
        wanted.append(("cluster", "groups given: cluster-robust"))
    if dep:
        wanted.append(("HAC", "Ljung–Box rejects: autocorrelation-robust (HAC)"))
    if het:
        wanted.append((robust, "Breusch–Pagan rejects: heteroscedasticity-robust"))
    lacking: list[str] = []
    for kind, why in wanted:
        if kind is not None and kind in kinds:
            if lacking:  # say which wanted kind this estimator could not give
                why += (
                    f" ({'; '.join(lacking)}: not offered by this estimator, kinds "
                    f"{', '.join(kinds)}; read its standard errors as too small)"
                )
            return kind, why
        lacking.append(why.split(":")[0])
    if wanted:
        missing = ", ".join(w.split(":")[0] for _, w in wanted)
        if robust is not None:
            return robust, (
                f"{missing}: the wanted kind is not offered by this estimator (kinds: "
                f"{', '.join(kinds)}); {robust} is used, which allows unequal variances but "
                "not dependence or clustering — read its standard errors as too small"
            )
        return kinds[0], f"{missing}: no robust kind offered; default {kinds[0]}"
    return kinds[0], "no departure detected: the estimator's default"


@dataclass(frozen=True, eq=False, repr=False)
class Diagnosis:
    """Everything :func:`diagnose` found; render with :meth:`to_html` / :meth:`to_markdown`.

    Attributes
    ----------
    formula : str or None
    n, n_dropped : int
        Complete rows used, rows dropped for missing values.
    names : tuple of str
        Coefficient names.
    ols_residuals, mm_residuals : ResidualDiagnostics
    tails : TailDiagnostics
        Hill estimates of the MM residuals.
    outliers : OutlierDiagnostics
    laws : LawComparison
    findings : Findings
    ols_vs_mm : CoefficientComparison
    fits : dict of name -> FitResult
        Each under its chosen covariance kind.
    covariance : DataFrame
        ``estimator``, ``kind``, ``reason``.
    table : tailreg.Comparison
    theory : DataFrame
        Per estimator at the best law: ``target_kind``, ``meaning``, ``location``
        (:math:`T(F)`, the intercept shift), ``are_vs_ols`` (slopes).
    simulation : DataFrame or None
        Monte Carlo at the user's design (:mod:`.simulate`), None when not run.
    simulation_note : str
    recommendations : tuple of Recommendation
    figures : dict of name -> matplotlib Figure
    """

    formula: str | None
    n: int
    n_dropped: int
    names: tuple[str, ...]
    ordered: bool
    ols_residuals: ResidualDiagnostics
    mm_residuals: ResidualDiagnostics
    tails: TailDiagnostics
    outliers: OutlierDiagnostics
    laws: LawComparison
    findings: Findings
    ols_vs_mm: CoefficientComparison
    fits: Mapping[str, Any]
    covariance: pd.DataFrame
    table: Comparison
    theory: pd.DataFrame
    simulation: pd.DataFrame | None
    simulation_note: str
    recommendations: tuple[Recommendation, ...]
    figures: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"<Diagnosis n={self.n} detected={self.findings.detected()} "
            f"best law={self.laws.best.label!r}>"
        )

    def estimates(self) -> pd.DataFrame:
        """Long table: ``estimator``, ``term``, ``estimate``, ``se``, ``lower``, ``upper``,
        ``kind`` (95% Wald intervals under each fit's chosen kind)."""
        rows = []
        for name, r in self.fits.items():
            ci = r.conf_int()
            se = r.bse()
            for term, b in r.params.items():
                rows.append(
                    {
                        "estimator": name,
                        "term": str(term),
                        "estimate": float(b),
                        "se": float(se[term]),
                        "lower": float(ci.iloc[:, 0][term]),
                        "upper": float(ci.iloc[:, 1][term]),
                        "kind": r.cov_kind,
                    }
                )
        return pd.DataFrame(rows)

    def document(self) -> Document:
        """The report as a :class:`~.document.Document` (what both writers render)."""
        from ._diagnosis_doc import build_document

        return build_document(self)

    def to_html(self, path: str | Path) -> Path:
        """A self-contained HTML page (figures as data URIs, no external resources)."""
        return write_html(self.document(), path)

    def to_markdown(self, folder: str | Path, stem: str = "diagnosis") -> Path:
        """``folder/<stem>.md`` with the figures as PNG files beside it."""
        return write_markdown(self.document(), folder, stem)


# --------------------------------------------------------------------------------------
# input


def _required_variables(formula: str) -> list[str]:
    from formulaic import Formula

    try:
        f = Formula(formula)
    except Exception as exc:  # formulaic raises several types on a malformed formula
        raise ValueError(f"malformed formula {formula!r}: {exc}") from None
    return sorted(str(v) for v in f.required_variables)


def _frame_inputs(
    formula: str, data: Any, groups: Any
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], np.ndarray | None, int, Any]:
    from .. import OLS
    from ..formula import design_for, fit_formula

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    needed = [v for v in _required_variables(formula) if v in frame.columns]
    gcol = None
    if isinstance(groups, str):
        if groups not in frame.columns:
            raise ValueError(f"groups column {groups!r} is not a column of the data")
        gcol = groups
    # fit_formula names a variable that is neither a column nor a known function
    complete = frame[needed + ([gcol] if gcol else [])].notna().all(axis=1)
    if groups is not None and gcol is None:
        garr = pd.Series(np.asarray(groups), index=frame.index)
        if len(garr) != len(frame):
            raise ValueError(f"groups has {len(garr)} entries for {len(frame)} rows")
        complete &= garr.notna()
    clean = frame.loc[complete]
    n_dropped = int((~complete).sum())
    _check_rows(len(clean), n_dropped)
    ols = fit_formula(formula, clean, OLS(), context={"np": np})
    X = design_for(ols, clean)
    y = ols.result_.resid + (X @ ols.coef_ + ols.intercept_)
    if gcol is not None:
        g = clean[gcol].to_numpy()
    elif groups is not None:
        g = np.asarray(groups)[complete.to_numpy()]
    else:
        g = None
    if not ols.model_spec_.intercept:
        raise ValueError("diagnose needs a formula with an intercept")
    return X, np.asarray(y, float), ols.model_spec_.columns, g, n_dropped, clean


def _check_rows(n: int, n_dropped: int) -> None:
    if n < MIN_ROWS:
        raise ValueError(
            f"only {n} complete rows ({n_dropped} dropped for missing values); diagnose "
            f"needs at least {MIN_ROWS}"
        )


def _array_inputs(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    names: tuple[str, ...]
    if isinstance(X, pd.DataFrame):
        names = tuple(str(c) for c in X.columns)
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if not isinstance(X, pd.DataFrame):
        names = tuple(f"x{j + 1}" for j in range(Xa.shape[1]))
    ya = np.asarray(y, dtype=float).ravel()
    if Xa.ndim != 2 or Xa.shape[0] != ya.size:
        raise ValueError(f"X has shape {Xa.shape} for {ya.size} responses")
    ok = np.isfinite(Xa).all(axis=1) & np.isfinite(ya)
    _check_rows(int(ok.sum()), int((~ok).sum()))
    if not ok.all():
        raise ValueError(f"{int((~ok).sum())} rows have missing or non-finite values")
    return Xa, ya, names


# --------------------------------------------------------------------------------------
# the assembly


def _fit_all(
    X: np.ndarray, y: np.ndarray, names: tuple[str, ...], seed: np.random.SeedSequence
) -> dict[str, Any]:
    Xf = pd.DataFrame(X, columns=list(names))
    out = {}
    for name, est in estimators(np.random.default_rng(seed)).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # non-convergence is in result_
            out[name] = est.fit(Xf, y)
    return out


def _with_kinds(
    fits: Mapping[str, Any], findings: Findings, groups: np.ndarray | None
) -> tuple[dict[str, Any], pd.DataFrame]:
    results, rows = {}, []
    for name, est in fits.items():
        kind, why = choose_cov_kind(est.cov_kinds, findings, grouped=groups is not None)
        res = est.result_
        # cluster needs the labels (a covariance option, where the estimator offers it)
        opts = {"groups": groups} if kind == "cluster" else {}
        res = res.with_cov(kind, **opts)
        results[name] = res
        rows.append({"estimator": name, "kind": kind, "reason": why})
    return results, pd.DataFrame(rows)


def _theory(fits: Mapping[str, Any], law: Any) -> pd.DataFrame:
    rows = []
    ols_v = math.nan
    for name, est in fits.items():
        try:
            t = est.target(law)
        except (ValueError, ArithmeticError) as exc:  # the theory may not reach this law
            t, note = None, f"theory failed: {exc}"
        else:
            note = "" if t is not None else "no theory for this estimator"
        v = math.nan if t is None else float(t.avar_slopes)
        if name == "OLS":
            ols_v = v
        rows.append(
            {
                "estimator": name,
                "target_kind": "" if t is None else t.kind,
                "meaning": "" if t is None else _MEANING.get(t.kind, t.kind),
                "location": math.nan if t is None else float(t.location),
                "avar_slopes": v,
                "note": note,
            }
        )
    frame = pd.DataFrame(rows)
    frame["are_vs_ols"] = ols_v / frame["avar_slopes"]
    return frame


def _figures(
    fits: Mapping[str, Any],
    y: np.ndarray,
    names: Sequence[str],
    diag: dict[str, Any],
    est: pd.DataFrame,
) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    ols = fits["OLS"].result_
    fitted = y - ols.resid
    mm_resid = fits["MM"].result_.resid
    slopes = est[est["term"].isin(names)]  # not the intercept, nor sigma/df of the t-MLE
    return {
        "qq": qq_plot(mm_resid, diag["laws"].best, title="MM residuals against the best law"),
        "residuals_vs_fitted": residuals_vs_fitted(fitted, ols.resid, title="OLS residuals"),
        "hill": hill_plot(diag["tails"]),
        "weights": weights_plot(diag["outliers"]),
        "estimates": estimates_plot(slopes if len(slopes) else est),
    }


def _root_seed(random_state: SeedLike) -> np.random.SeedSequence:
    """Every draw of diagnose flows from one SeedSequence (a Generator seeds it once)."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    return np.random.SeedSequence(random_state)


def diagnose(
    formula_or_X: Any,
    data: Any = None,
    *,
    groups: Any = None,
    ordered: bool = False,
    replications: int = 200,
    random_state: SeedLike = 0,
    alpha: float = 0.05,
    n_boot: int = 999,
    progress: bool = False,
) -> Diagnosis:
    """Diagnose a regression and compare every estimator with fitting inference.

    Parameters
    ----------
    formula_or_X : str or array-like of shape (n, p)
        A formula ``"y ~ x1 + x2"`` (then ``data`` is the frame), or the regressors
        without the constant (then ``data`` is ``y``).
    data : DataFrame, mapping or array-like
    groups : str or array-like, optional
        Cluster labels (a column name with a formula): asks for cluster-robust errors.
    ordered : bool, default False
        The rows are in a meaningful order (time): run Durbin–Watson and Ljung–Box.
    replications : int, default 200
        Monte Carlo replications at the user's design; 0 skips the simulation.
    random_state : int, SeedSequence or None, default 0
        Root of every draw (bootstrap, MCD, MM starts, the simulation), via SeedSequence.
    alpha : float, default 0.05
        Level of every test.
    n_boot : int, default 999
        Bootstrap resamples of the shape statistics.
    progress : bool, default False
        Show a progress bar for the simulation.

    Returns
    -------
    Diagnosis

    Raises
    ------
    ValueError
        A malformed formula, an unknown column, fewer than :data:`MIN_ROWS` complete rows,
        mismatched shapes.
    """
    if isinstance(formula_or_X, str):
        if data is None:
            raise ValueError("diagnose(formula, data): data is missing")
        formula: str | None = formula_or_X
        X, y, names, g, n_dropped, _ = _frame_inputs(formula_or_X, data, groups)
    else:
        formula = None
        X, y, names = _array_inputs(formula_or_X, data)
        g = None if groups is None else np.asarray(groups)
        if g is not None and g.shape != y.shape:
            raise ValueError(f"groups has shape {g.shape} for {y.size} rows")
        n_dropped = 0
    root = _root_seed(random_state)
    s_fit, s_boot, s_mcd, s_sim = root.spawn(4)
    fits = _fit_all(X, y, names, s_fit)
    ols, mm = fits["OLS"].result_, fits["MM"].result_
    rng = np.random.default_rng(s_boot)
    ols_rd = residual_diagnostics(ols.resid, X, ordered=ordered, n_boot=n_boot, random_state=rng)
    mm_rd = residual_diagnostics(mm.resid, X, ordered=ordered, n_boot=n_boot, random_state=rng)
    tails = tail_diagnostics(mm.resid)
    od = outlier_diagnostics(fits["MM"], X, random_state=np.random.default_rng(s_mcd))
    laws = fit_error_laws(mm.resid)
    findings = detect(ols_rd, tails, od, laws, alpha=alpha)
    results, cov = _with_kinds(fits, findings, g)
    table = compare(results)
    cmp = compare_coefficients(
        results["OLS"].params,
        results["OLS"].bse(),
        results["MM"].params,
        results["MM"].bse(),
        labels=("OLS", "MM"),
    )
    recs = recommend(findings, cmp, od)
    theory = _theory(fits, laws.best.law)
    sim, sim_note = None, "not run (replications = 0)"
    if replications > 0:
        from .simulate import simulate_at_design

        sim, sim_note = simulate_at_design(
            X,
            fits,
            laws.best,
            findings,
            kinds=dict(zip(cov["estimator"], cov["kind"], strict=True)),
            names=["const", *names],
            replications=replications,
            seed=s_sim,
            progress=progress,
        )
    diag = dict(tails=tails, outliers=od, laws=laws)
    d = Diagnosis(
        formula=formula,
        n=int(y.size),
        n_dropped=n_dropped,
        names=("const", *names),
        ordered=bool(ordered),
        ols_residuals=ols_rd,
        mm_residuals=mm_rd,
        tails=tails,
        outliers=od,
        laws=laws,
        findings=findings,
        ols_vs_mm=cmp,
        fits=results,
        covariance=cov,
        table=table,
        theory=theory,
        simulation=sim,
        simulation_note=sim_note,
        recommendations=recs,
    )
    object.__setattr__(d, "figures", _figures(fits, y, names, diag, d.estimates()))
    return d
