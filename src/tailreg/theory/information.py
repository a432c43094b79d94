"""Fisher information for location, the Cramér-Rao bound, asymptotic relative efficiencies,
Huber's minimax tuning constant and the stable-law rate of least squares."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize, stats

from .._validation import check_in_range, check_positive
from ..losses import Loss
from ._access import attr, check_law, pdf
from .functional import ScaleSpec, asymptotic_variance
from .quadrature import PreparedLaw, integrate

__all__ = [
    "cramer_rao_bound",
    "efficiency_vs_bound",
    "fisher_information",
    "huber_minimax_k",
    "ols_stable_rate",
    "relative_efficiency",
]


def _edge_info_diverges(law: Any, edge: float, inward: float, unit: float) -> bool:
    """At a finite support edge, (f')^2/f ~ d^(p-2) for f ~ d^p: integrable only if p > 1.

    The local exponent p is measured at distances 1e-7, 1e-30 and 1e-100 (times ``unit``):
    a power law has the same p at all of them, a density such as the lognormal's, whose
    exponent grows without bound towards the edge (slowly: 0.8 at 1e-7 for s = 3), does not
    diverge. Divergence needs p <= 1 at every depth where f is positive.
    """
    for depth in (1e-7, 1e-30, 1e-100):
        d1, d2 = depth * unit, 2.0 * depth * unit
        f1, f2 = pdf(law, edge + inward * d1), pdf(law, edge + inward * d2)
        if not (f1 > 0.0 and f2 > 0.0):  # vanishes faster than any power there
            return False
        if math.log(f2 / f1) / math.log(2.0) > 1.0 + 1e-3:
            return False
    return True


def fisher_information(law: Any) -> float:
    r"""Fisher information for location :math:`I(F) = \int (f')^2/f = E[(\log f)'(e)^2]`.

    A ``fisher_information`` attribute of the law (closed form) is used when present.
    Otherwise the score :math:`(\log f)'` is a central difference of ``logpdf`` with step
    :math:`10^{-5}` times the distance to the median or the nearest support edge (so that it
    never straddles a kink at the median, as the Laplace has), and the integral is split at
    the median, quartiles and support edges. A law whose density does not vanish fast enough
    at a finite support edge (:math:`f \sim d^p` with :math:`p \le 1`, e.g. Lomax, gamma with
    shape :math:`\le 2`) has :math:`I = \infty` (a non-regular location problem). Examples:
    normal :math:`1/\sigma^2`, Laplace 1, logistic 1/3, :math:`t_\nu` :math:`(\nu+1)/(\nu+3)`.
    """
    check_law(law)
    closed = attr(law, "fisher_information")
    if closed is not None:
        return closed
    L = PreparedLaw(law)
    unit, lo, hi, med = L.unit, L.lo, L.hi, L.median
    if (math.isfinite(lo) and _edge_info_diverges(law, lo, 1.0, unit)) or (
        math.isfinite(hi) and _edge_info_diverges(law, hi, -1.0, unit)
    ):
        return math.inf
    logpdf = getattr(law, "logpdf", None)
    if not callable(logpdf):

        def logpdf(x):
            with np.errstate(divide="ignore"):
                return np.log(law.pdf(x))

    def g(x: np.ndarray) -> np.ndarray:
        f = L.pdf(x)
        # the step shrinks towards the median and the support edges so that the central
        # difference never straddles a kink there (Laplace) or leaves the support (gamma)
        edge = np.minimum(x - lo, hi - x)
        d = np.minimum(np.abs(x - med), edge)
        # the floor (against cancellation next to the median) never exceeds 1e-5 of the
        # distance to an edge: near an edge where the integrand still matters (lognormal
        # s = 3 peaks at x ~ 1e-8) the difference must not reach across it
        h = np.maximum(1e-5 * d, np.minimum(1e-9 * unit, 1e-5 * edge))
        with np.errstate(all="ignore"):
            lp_minus = np.asarray(logpdf(x - h), dtype=float)
            lp_plus = np.asarray(logpdf(x + h), dtype=float)
            score = (lp_plus - lp_minus) / (2.0 * h)
            out = score * score * f
        # within h of a support edge (measure ~h, negligible) or where f underflows
        return np.where((f > 0.0) & np.isfinite(out), out, 0.0)

    info = integrate(g, L.points(), unit)
    _check_edge_resolved(g, info, lo, hi, unit)
    return info


def _check_edge_resolved(g: Any, info: float, lo: float, hi: float, unit: float) -> None:
    r"""Raise when the information integrand has mass where double precision cannot resolve it.

    The quadrature stops refining at panels of width 1e-15 ``unit`` next to a support edge;
    if the integrand in log distance to the edge, :math:`d\,(f')^2/f`, still carries more than
    1e-3 of the integral there (the lognormal's peaks at :math:`d = e^{-2s^2}`: s > 3.3), the
    answer would be silently wrong.
    """
    for edge, inward in ((lo, 1.0), (hi, -1.0)):
        if not math.isfinite(edge):
            continue
        d = 1e-15 * unit
        tail = d * float(np.asarray(g(np.array([edge + inward * d])))[0])
        if tail > 1e-3 * info:
            raise ValueError(
                "fisher_information: the integrand (f')^2/f carries mass within 1e-15 (relative) "
                f"of the support edge {edge:g}, below what double precision resolves (e.g. a "
                "lognormal with s > 3.3); the Fisher information cannot be computed reliably"
            )


def cramer_rao_bound(law: Any) -> float:
    r""":math:`1/I(F)`: the smallest asymptotic variance of a regular location estimator.

    0 when :math:`I(F) = \infty`. For unit-scale :math:`t_\nu`: :math:`(\nu+3)/(\nu+1)`.
    """
    info = fisher_information(law)
    return 0.0 if math.isinf(info) else 1.0 / info


def relative_efficiency(loss_a: Loss, loss_b: Loss, law: Any, scale: ScaleSpec = 1.0) -> float:
    r"""Asymptotic relative efficiency of estimator a with respect to b: :math:`V_b / V_a`.

    Above 1 means a is more efficient (needs fewer observations for the same precision).
    "Median vs mean" is ``relative_efficiency(Absolute(), Squared(), law)``: :math:`2/\pi` at
    the normal, 2 at the Laplace, :math:`\pi^2/12` at the logistic. Returns ``inf`` when only
    :math:`V_b` is infinite, 0 when only :math:`V_a` is, ``nan`` when both are.
    """
    va = asymptotic_variance(loss_a, law, scale)
    vb = asymptotic_variance(loss_b, law, scale)
    if math.isinf(va) and math.isinf(vb):
        return math.nan
    if math.isinf(va):
        return 0.0
    if math.isinf(vb):
        return math.inf
    return vb / va


def efficiency_vs_bound(loss: Loss, law: Any, scale: ScaleSpec = 1.0) -> float:
    r"""Efficiency against the Cramér-Rao bound, :math:`(1/I(F)) / V` (0 when V is infinite)."""
    V = asymptotic_variance(loss, law, scale)
    return 0.0 if math.isinf(V) else cramer_rao_bound(law) / V


def huber_minimax_k(eps: float) -> float:
    r"""Huber's minimax k for the :math:`\varepsilon`-contaminated normal.

    Root of :math:`2\phi(k)/k - 2\Phi(-k) = \varepsilon/(1-\varepsilon)` (Huber 1964,
    "Robust estimation of a location parameter", Ann. Math. Statist. 35, 73-101): 1.399 at
    :math:`\varepsilon = 0.05`, 1.140 at 0.10, 0.862 at 0.20. The left side decreases from
    :math:`\infty` to 0, so the root is unique.
    """
    eps = check_in_range("eps", eps, 0.0, 1.0)
    target = eps / (1.0 - eps)

    def g(k: float) -> float:
        return 2.0 * stats.norm.pdf(k) / k - 2.0 * stats.norm.sf(k) - target

    lo = 1e-3
    while g(lo) < 0.0:
        lo /= 10.0
    return optimize.brentq(g, lo, 40.0, xtol=1e-15)


def ols_stable_rate(alpha: float) -> float:
    r"""Exponent r with :math:`n^{r}(\hat\beta_{OLS} - \beta) = O_p(1)` under tail index alpha.

    0.5 for :math:`\alpha \ge 2` (finite variance; at exactly 2 up to a slowly varying
    factor). For :math:`\alpha \in (1, 2)`, :math:`r = 1 - 1/\alpha` with a non-normal stable
    limit (generalized CLT, Gnedenko & Kolmogorov; Davis, Knight & Liu 1992). For
    :math:`\alpha \le 1`, :math:`r = 1 - 1/\alpha \le 0`: OLS does not converge (at the
    Cauchy, :math:`r = 0`; below 1 the error grows like :math:`n^{1/\alpha - 1}`).
    """
    alpha = check_positive("alpha", alpha, allow_inf=True)
    return 0.5 if alpha >= 2.0 else 1.0 - 1.0 / alpha
