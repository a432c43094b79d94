r"""Transparent rules from diagnostics to findings to recommendations.

Findings (each at level :math:`\alpha`, default 0.05; every one records the numbers that
decided it):

============================  ==============================================================
finding                       fires when
============================  ==============================================================
heavy tails                   the bootstrap interval of the excess kurtosis lies above 0
                              *and* Jarque–Bera rejects
skew                          the bootstrap intervals of the moment skewness *and* of the
                              quantile skewness both exclude 0, with the same sign (the
                              quantile skewness needs no moments, so heavy symmetric tails
                              do not fake skew through a few extreme residuals)
heteroscedasticity            Breusch–Pagan (Koenker) rejects
dependence                    rows ordered and Ljung–Box rejects
outliers                      more residuals beyond 2.5 robust scales than the 1.24% of
                              normal errors (one-sided binomial test rejects)
infinite variance (caution)   the upper end of the Hill interval of the heavier tail is < 2
bad leverage (advice only)    a row outlying in the regressors that the MM fit rejects
                              entirely (weight 0, :math:`|r|/s \ge c_\psi = 4.685`)
============================  ==============================================================

The bad-leverage advice asks for weight 0 rather than :math:`|r|/s > 2.5`: with the
:math:`\chi^2_{p,0.975}` leverage cutoff about 2.5% of well-behaved rows are leverage points
and 1.2% of normal errors exceed 2.5 scales, so at n = 300 a "bad leverage" row by the loose
rule appears by chance in about one data set in ten; beyond 4.685 scales a normal error goes
with probability :math:`3\cdot 10^{-6}`.

**Disagreement of two fits** (:func:`compare_coefficients`). Slope :math:`j` disagrees when
:math:`|\hat\beta_{A,j} - \hat\beta_{B,j}| > 2\sqrt{se_{A,j}^2 + se_{B,j}^2}`. The intercept
is left out: under skew OLS, LAD and MM estimate different centres (mean, median,
M-location), so their intercepts differ by design. The combined standard error treats the two
estimates as independent; fitted to the same data they are positively correlated, so the
standard error of the difference is smaller and the rule is conservative — when it fires the
fits really do disagree.

:func:`recommend` turns the findings into an ordered list of (recommendation, reason) pairs:
standard errors first (dependence, then heteroscedasticity), then the choice of estimator
(heavy tails, infinite variance, outliers and leverage), then interpretation (skew), then the
side-by-side advice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_in_range
from .laws import LawComparison
from .outliers import OutlierDiagnostics
from .residuals import Estimate, ResidualDiagnostics, TestResult
from .tails import TailDiagnostics

__all__ = [
    "DISAGREE_SE",
    "CoefficientComparison",
    "Finding",
    "Findings",
    "Recommendation",
    "compare_coefficients",
    "detect",
    "recommend",
]

#: slopes further apart than this many combined standard errors disagree
DISAGREE_SE = 2.0


@dataclass(frozen=True)
class Finding:
    """One detector: its name, whether it fired and the numbers behind the decision."""

    name: str
    detected: bool
    evidence: str


@dataclass(frozen=True)
class Findings:
    """The detectors of :func:`detect`; a detector whose test was not run is None."""

    heavy_tails: Finding
    skew: Finding
    heteroscedasticity: Finding | None
    dependence: Finding | None
    outliers: Finding | None
    infinite_variance: Finding | None
    alpha: float
    n: int

    def all(self) -> list[Finding]:
        """The detectors that were run."""
        cand = (
            self.dependence,
            self.heteroscedasticity,
            self.heavy_tails,
            self.infinite_variance,
            self.outliers,
            self.skew,
        )
        return [f for f in cand if f is not None]

    def detected(self) -> list[str]:
        """Names of the detectors that fired."""
        return [f.name for f in self.all() if f.detected]


@dataclass(frozen=True)
class Recommendation:
    """A recommendation, the reason (with the triggering numbers) and the rule's name."""

    action: str
    reason: str
    rule: str


@dataclass(frozen=True)
class CoefficientComparison:
    """Two fits' slopes compared in combined standard errors (see the module notes)."""

    labels: tuple[str, str]
    table: pd.DataFrame
    threshold: float

    @property
    def disagree_terms(self) -> tuple[str, ...]:
        """Slopes that differ by more than ``threshold`` combined standard errors."""
        return tuple(self.table.loc[self.table["disagree"], "term"])

    @property
    def disagree(self) -> bool:
        """True when any slope disagrees."""
        return bool(self.table["disagree"].any())


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def _fmt_ci(e: Estimate) -> str:
    return f"{e.value:.3g} [{e.lower:.3g}, {e.upper:.3g}]"


def _test_text(t: TestResult) -> str:
    df = f", df {t.df:g}" if t.df is not None else ""
    return f"{t.name} statistic {t.statistic:.3g}{df}, p = {_fmt_p(t.pvalue)}"


# --------------------------------------------------------------------------------------
# detectors


def _heavy(res: ResidualDiagnostics, tails, laws, alpha) -> Finding:
    k, jb = res.kurtosis, res.jarque_bera
    hit = k.lower > 0 and jb.rejects(alpha)
    bits = [
        f"excess kurtosis {_fmt_ci(k)} ({k.level:.0%} bootstrap)",
        f"{_test_text(jb)} {'<' if jb.rejects(alpha) else '>='} {alpha:g}",
    ]
    if tails is not None:
        h = tails.heavier
        bits.append(
            f"Hill tail index of the {h.tail} tail {h.alpha:.2f} [{h.lower:.2f}, {h.upper:.2f}]"
            f" from k = {h.k}" + ("" if h.reliable else " (indicative: small k)")
        )
    if laws is not None:
        bits.append(f"best-AIC error law {laws.best.label}")
    return Finding("heavy tails", bool(hit), "; ".join(bits))


def _skew(res: ResidualDiagnostics, alpha) -> Finding:
    g, q = res.skewness, res.quantile_skewness
    same_sign = np.sign(g.value) == np.sign(q.value)
    hit = g.excludes(0.0) and q.excludes(0.0) and same_sign
    ev = (
        f"skewness {_fmt_ci(g)}, quantile skewness {_fmt_ci(q)} ({g.level:.0%} bootstrap); "
        f"Anderson–Darling p = {_fmt_p(res.anderson_darling.pvalue)}"
    )
    return Finding("skew", bool(hit), ev)


def _outliers(out: OutlierDiagnostics, alpha) -> Finding:
    hit = out.pvalue < alpha
    n = len(out.table)
    ev = (
        f"{out.n_outliers} of {n} residuals ({out.outlier_share:.1%}) beyond "
        f"{out.cutoff:g} robust scales against {out.expected_share:.2%} for normal errors, "
        f"binomial p = {_fmt_p(out.pvalue)}; {out.bad_leverage.size} bad leverage row(s), "
        f"{out.leverage.size} leverage row(s) by {out.leverage_rule}"
    )
    return Finding("outliers", bool(hit), ev)


def detect(
    residuals: ResidualDiagnostics,
    tails: TailDiagnostics | None = None,
    outliers: OutlierDiagnostics | None = None,
    laws: LawComparison | None = None,
    *,
    alpha: float = 0.05,
) -> Findings:
    """Apply the detection rules of the module notes.

    Parameters
    ----------
    residuals : ResidualDiagnostics
    tails : TailDiagnostics, optional
        Adds the Hill evidence and the infinite-variance caution.
    outliers : OutlierDiagnostics, optional
        Enables the outlier detector.
    laws : LawComparison, optional
        Cited in the heavy-tail evidence.
    alpha : float, default 0.05

    Returns
    -------
    Findings
    """
    check_in_range("alpha", alpha, 0.0, 1.0)
    het = dep = inf_var = None
    if residuals.breusch_pagan is not None:
        bp = residuals.breusch_pagan
        het = Finding("heteroscedasticity", bp.rejects(alpha), _test_text(bp))
    if residuals.ljung_box is not None:
        lb = residuals.ljung_box
        ev = _test_text(lb) + f" ({lb.note})"
        if residuals.durbin_watson is not None:
            dw = residuals.durbin_watson
            ev += f"; Durbin–Watson {dw.statistic:.3f} ({dw.note})"
        dep = Finding("dependence", lb.rejects(alpha), ev)
    if tails is not None:
        h = tails.heavier
        ev = f"Hill interval of the {h.tail} tail [{h.lower:.2f}, {h.upper:.2f}] from k = {h.k}"
        inf_var = Finding("infinite variance", bool(h.upper < 2.0), ev)
    return Findings(
        heavy_tails=_heavy(residuals, tails, laws, alpha),
        skew=_skew(residuals, alpha),
        heteroscedasticity=het,
        dependence=dep,
        outliers=None if outliers is None else _outliers(outliers, alpha),
        infinite_variance=inf_var,
        alpha=float(alpha),
        n=residuals.n,
    )


# --------------------------------------------------------------------------------------
# comparing two fits


def compare_coefficients(
    coef_a,
    se_a,
    coef_b,
    se_b,
    *,
    names: Sequence[str] | None = None,
    labels: tuple[str, str] = ("OLS", "MM"),
    threshold: float = DISAGREE_SE,
    exclude: Sequence[str] = ("const",),
) -> CoefficientComparison:
    """Compare two fits' slopes: disagreement when
    :math:`|b_A - b_B| > \\text{threshold}\\cdot\\sqrt{se_A^2 + se_B^2}` (module notes).

    Parameters
    ----------
    coef_a, se_a, coef_b, se_b : pandas.Series or array-like
        Estimates and standard errors of the two fits; Series are aligned by index.
    names : sequence of str, optional
        Term names for arrays (default: the Series index, or ``b0, b1, ...``).
    labels : (str, str)
    threshold : float, default 2
    exclude : sequence of str, default ("const",)
        Terms left out (the intercept targets different centres under skew).

    Returns
    -------
    CoefficientComparison
        ``table`` has ``term``, both estimates and SEs, ``diff``, ``combined_se``, ``z`` and
        ``disagree``.
    """
    arrays = [coef_a, se_a, coef_b, se_b]
    if names is None and isinstance(coef_a, pd.Series):
        names = [str(i) for i in coef_a.index]
    vals = []
    for v in arrays:
        if isinstance(v, pd.Series) and names is not None:
            v = v.reindex(names)
        vals.append(np.asarray(v, dtype=float).ravel())
    m = vals[0].size
    if any(v.size != m for v in vals):
        raise ValueError("coef_a, se_a, coef_b and se_b must have the same length")
    names = list(names) if names is not None else [f"b{j}" for j in range(m)]
    if len(names) != m:
        raise ValueError(f"names has {len(names)} entries for {m} coefficients")
    check_in_range("threshold", threshold, 0.0, math.inf)
    ba, sa, bb, sb = vals
    comb = np.sqrt(sa**2 + sb**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(ba - bb) / comb
    table = pd.DataFrame(
        {
            "term": names,
            f"{labels[0]} estimate": ba,
            f"{labels[0]} se": sa,
            f"{labels[1]} estimate": bb,
            f"{labels[1]} se": sb,
            "diff": ba - bb,
            "combined_se": comb,
            "z": z,
        }
    )
    table = table[~table["term"].isin(list(exclude))].reset_index(drop=True)
    table["disagree"] = table["z"] > threshold
    return CoefficientComparison(
        labels=(labels[0], labels[1]), table=table, threshold=float(threshold)
    )


# --------------------------------------------------------------------------------------
# recommendations


def _se_advice(f: Findings) -> list[Recommendation]:
    out = []
    if f.dependence is not None and f.dependence.detected:
        out.append(
            Recommendation(
                "Report HAC (Newey–West) standard errors for every estimator; iid and HC "
                "standard errors understate the uncertainty under positive autocorrelation"
                + (
                    " (HAC also covers the heteroscedasticity)"
                    if f.heteroscedasticity is not None and f.heteroscedasticity.detected
                    else ""
                ),
                f"{f.dependence.evidence} < {f.alpha:g}",
                "dependence",
            )
        )
    if f.heteroscedasticity is not None and f.heteroscedasticity.detected:
        out.append(
            Recommendation(
                "Report heteroscedasticity-robust standard errors: HC3 for OLS and the M/MM "
                "fits (the sandwich where HC3 is not offered, as for the t-MLE), the "
                "Hendricks–Koenker (nid) kind for quantile regression",
                f"{f.heteroscedasticity.evidence} < {f.alpha:g}",
                "heteroscedasticity",
            )
        )
    return out


def _estimator_advice(f: Findings, outliers: OutlierDiagnostics | None) -> list[Recommendation]:
    out = []
    if f.heavy_tails.detected:
        out.append(
            Recommendation(
                "Prefer a robust fit (MM, Huber or the Student-t MLE) to OLS: with heavy "
                "tails least squares is unbiased but inefficient, and its efficiency loss grows "
                "with the tail weight",
                f.heavy_tails.evidence,
                "heavy tails",
            )
        )
    if f.infinite_variance is not None and f.infinite_variance.detected:
        out.append(
            Recommendation(
                "The error variance may be infinite: OLS standard errors are then not valid; "
                "rely on LAD or MM and their standard errors",
                f.infinite_variance.evidence + " lies below 2",
                "infinite variance",
            )
        )
    if f.outliers is not None and f.outliers.detected:
        rows = ", ".join(str(i) for i in outliers.outliers[:10]) if outliers is not None else ""
        more = " ..." if outliers is not None and outliers.outliers.size > 10 else ""
        out.append(
            Recommendation(
                f"Inspect the flagged rows ({rows}{more}); the MM fit down-weights them",
                f.outliers.evidence,
                "outliers",
            )
        )
    rejected = _rejected_leverage(outliers)
    if rejected.size and outliers is not None:
        c_psi = outliers.zero_weight_cutoff
        out.append(
            Recommendation(
                "Prefer MM (50% breakdown) to OLS, Huber or LAD, which a single bad "
                "leverage point can pull arbitrarily far",
                f"{rejected.size} bad leverage row(s) ({', '.join(map(str, rejected[:10]))}) "
                f"that the MM fit rejects entirely (weight 0, |r|/s >= {c_psi:.4g}; a normal "
                f"error gets there with probability {2 * stats.norm.sf(c_psi):.1g}) and that "
                f"are outlying in the regressors ({outliers.leverage_rule})",
                "bad leverage",
            )
        )
    return out


def _rejected_leverage(outliers: OutlierDiagnostics | None) -> np.ndarray:
    """Bad leverage rows with robustness weight 0."""
    if outliers is None:
        return np.zeros(0, dtype=int)
    return np.intersect1d(outliers.bad_leverage, outliers.zero_weight)


def _interpretation_advice(f: Findings) -> list[Recommendation]:
    if not f.skew.detected:
        return []
    action = (
        "State which centre the intercept estimates: OLS the mean, LAD the median, Huber/MM "
        "an M-location of the errors; their intercepts differ by design"
    )
    if f.heteroscedasticity is not None and f.heteroscedasticity.detected:
        action += (
            ". With skew and heteroscedasticity together the slopes differ too: mean, median "
            "and M-regression then target different lines — choose the one that answers your "
            "question"
        )
    return [Recommendation(action, f.skew.evidence, "skew")]


def _comparison_advice(c: CoefficientComparison) -> Recommendation:
    a, b = c.labels
    if c.disagree:
        rows = c.table[c.table["disagree"]]
        ev = "; ".join(
            f"{r.term}: {a} {r[f'{a} estimate']:.4g} vs {b} {r[f'{b} estimate']:.4g}, "
            f"|diff| = {r.z:.2f} combined SEs > {c.threshold:g}"
            for r in (row for _, row in rows.iterrows())
        )
        return Recommendation(
            f"Report {a} and {b} side by side and say why they differ (the diagnostics above)",
            ev,
            "disagreement",
        )
    zmax = float(c.table["z"].max()) if len(c.table) else math.nan
    return Recommendation(
        f"{a} and {b} agree on every slope: the conclusions do not hinge on the estimator",
        f"largest slope difference {zmax:.2f} combined SEs <= {c.threshold:g}",
        "agreement",
    )


def recommend(
    findings: Findings,
    comparison: CoefficientComparison | None = None,
    outliers: OutlierDiagnostics | None = None,
) -> tuple[Recommendation, ...]:
    """Ordered recommendations with their reasons (rules in the module notes).

    Parameters
    ----------
    findings : Findings
        From :func:`detect`.
    comparison : CoefficientComparison, optional
        OLS against a robust fit (:func:`compare_coefficients`): adds the side-by-side advice.
    outliers : OutlierDiagnostics, optional
        Names the flagged rows and the bad leverage points.

    Returns
    -------
    tuple of Recommendation
        Standard errors, estimator, interpretation, comparison — in that order. When nothing
        fires, one recommendation saying so, with the sample size (the tests' power is
        limited in small samples).
    """
    recs = [
        *_se_advice(findings),
        *_estimator_advice(findings, outliers),
        *_interpretation_advice(findings),
    ]
    if not recs:
        names = ", ".join(f.name for f in findings.all())
        split = comparison is not None and comparison.disagree
        recs.append(
            Recommendation(
                "No departure detected by the tests, yet the fits disagree (below): look at "
                "the flagged rows before trusting either"
                if split
                else "OLS with classical standard errors is adequate for these data",
                f"no detector fired at level {findings.alpha:g} ({names}); with n = "
                f"{findings.n} the tests can miss mild departures",
                "none detected",
            )
        )
    if comparison is not None:
        recs.append(_comparison_advice(comparison))
    return tuple(recs)
