r"""Hill estimates of the tail index of each tail of the residuals.

Both tails are measured about the sample median :math:`m`, which makes the estimates
invariant to the intercept (a location shift) and to the residual scale: the upper tail uses
:math:`y_i = x_i - m`, the lower tail :math:`y_i = m - x_i`. With the positive
:math:`y` sorted downwards, :math:`y_{(1)} \ge y_{(2)} \ge \dots`, the Hill (1975) estimate
from the :math:`k` largest is

.. math::
    \hat\gamma_k = \frac1k\sum_{i=1}^k \log y_{(i)} - \log y_{(k+1)}, \qquad
    \hat\alpha_k = 1/\hat\gamma_k,

and under regular variation :math:`\sqrt k(\hat\alpha_k - \alpha) \to N(0, \alpha^2)`
when :math:`k \to \infty`, :math:`k/n \to 0` and the second-order bias vanishes
(de Haan & Ferreira 2006, thm. 3.2.5), giving the usual Wald interval
:math:`\hat\alpha_k(1 \pm z_{1-a/2}/\sqrt k)`.

**Choice of k.** :math:`k = \lfloor\sqrt n\rfloor` (capped at the number of positive
:math:`y` minus one). The AMSE-optimal :math:`k` grows like :math:`n^{2\rho/(2\rho - 1)}`
with the unknown second-order parameter :math:`\rho < 0` (Hall 1982); :math:`\sqrt n` is
that rate at :math:`\rho = -1/2` and below the optimum for the common :math:`\rho = -1`
(Pareto-like tails, :math:`t_\nu` has :math:`\rho = -2/\nu`), a deliberate choice of lower
bias at the price of a wider interval, and it needs no tuning that would itself be noisy at
the sample sizes of regression data. The Hill plot (:math:`\hat\alpha_k` against :math:`k`)
is returned so the choice can be judged by eye.

**Reliability.** With :math:`k < 30` (:math:`n < 900` under the rule) the normal
approximation and the unknown bias make the interval indicative only; such estimates carry
``reliable = False`` and a note. Light tails (normal, lognormal) are not regularly varying:
there :math:`\hat\alpha_k` grows slowly with :math:`n` instead of settling (for the normal
about :math:`u^2` at the threshold :math:`u`, i.e. 3–5 at :math:`n = 300`), so a finite
:math:`\hat\alpha` alone is no evidence of a power tail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from .._validation import check_finite, check_in_range

__all__ = [
    "MIN_RELIABLE_K",
    "HillEstimate",
    "HillPath",
    "TailDiagnostics",
    "default_k",
    "hill",
    "hill_path",
    "tail_diagnostics",
]

#: below this many order statistics the Hill interval is flagged as indicative only
MIN_RELIABLE_K = 30

Tail = Literal["upper", "lower"]


@dataclass(frozen=True)
class HillEstimate:
    """Hill estimate of one tail.

    Attributes
    ----------
    tail : {"upper", "lower"}
    k : int
        Order statistics used.
    k_rule : str
        How ``k`` was chosen.
    alpha : float
        Tail index :math:`\\hat\\alpha_k = 1/\\hat\\gamma_k`.
    lower, upper : float
        Wald interval :math:`\\hat\\alpha_k(1 \\mp z/\\sqrt k)` (lower bound floored at 0).
    level : float
    se : float
        :math:`\\hat\\alpha_k/\\sqrt k`.
    threshold : float
        :math:`y_{(k+1)}`, the excess over the median at which the tail starts.
    n : int
        Sample size.
    n_tail : int
        Positive excesses available in this tail.
    reliable : bool
        ``k >= MIN_RELIABLE_K``.
    note : str
    """

    tail: str
    k: int
    k_rule: str
    alpha: float
    lower: float
    upper: float
    level: float
    se: float
    threshold: float
    n: int
    n_tail: int
    reliable: bool
    note: str


@dataclass(frozen=True)
class HillPath:
    """Hill-plot data of one tail: :math:`\\hat\\alpha_k` and its Wald band for each ``k``."""

    tail: str
    k: np.ndarray
    alpha: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float


@dataclass(frozen=True)
class TailDiagnostics:
    """Hill estimates and Hill-plot data of both tails, about ``center`` (default the median)."""

    center: float
    upper: HillEstimate
    lower: HillEstimate
    upper_path: HillPath
    lower_path: HillPath

    @property
    def heavier(self) -> HillEstimate:
        """The tail with the smaller :math:`\\hat\\alpha` (the heavier one)."""
        return self.upper if self.upper.alpha <= self.lower.alpha else self.lower


def _excesses(x, tail: str, center: float | None) -> tuple[np.ndarray, int]:
    """Positive excesses of one tail over the centre (default the median), sorted downwards,
    and n."""
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got shape {a.shape}")
    check_finite("x", a)
    if tail not in ("upper", "lower"):
        raise ValueError(f"tail must be 'upper' or 'lower', got {tail!r}")
    y = a - (np.median(a) if center is None else float(center))
    if tail == "lower":
        y = -y
    y = np.sort(y[y > 0])[::-1]
    if y.size < 3:
        raise ValueError(
            f"the {tail} tail has {y.size} value(s) beyond the centre; the Hill estimator "
            "needs at least 3"
        )
    return y, a.size


def _gamma_path(y: np.ndarray, k_max: int) -> np.ndarray:
    """:math:`\\hat\\gamma_k` for k = 1..k_max from excesses ``y`` sorted downwards."""
    logs = np.log(y[: k_max + 1])
    k = np.arange(1, k_max + 1)
    return np.cumsum(logs[:k_max]) / k - logs[1 : k_max + 1]


def default_k(n: int) -> int:
    """The default number of order statistics, :math:`\\lfloor\\sqrt n\\rfloor` (at least 2)."""
    return max(2, math.isqrt(int(n)))


def _wald(alpha, k, level: float):
    z = stats.norm.ppf(0.5 + level / 2.0)
    half = z / np.sqrt(k)
    return np.maximum(alpha * (1.0 - half), 0.0), alpha * (1.0 + half)


def hill(
    x,
    k: int | None = None,
    *,
    tail: Tail = "upper",
    center: float | None = None,
    level: float = 0.95,
) -> HillEstimate:
    """Hill estimate of the tail index of one tail of ``x`` about its median.

    Parameters
    ----------
    x : array-like of shape (n,)
    k : int, optional
        Order statistics to use; default :func:`default_k` (:math:`\\lfloor\\sqrt n\\rfloor`),
        capped at the positive excesses minus one.
    tail : {"upper", "lower"}
        ``"lower"`` applies the estimator to the negated excesses.
    center : float, optional
        The point the excesses are measured from; default the sample median. ``0`` gives
        the classical Hill estimator of a positive sample.
    level : float, default 0.95
        Level of the Wald interval :math:`\\hat\\alpha(1 \\pm z/\\sqrt k)`.

    Returns
    -------
    HillEstimate
    """
    check_in_range("level", level, 0.0, 1.0)
    y, n = _excesses(x, tail, center)
    cap = y.size - 1
    if k is None:
        kk = min(default_k(n), cap)
        rule = f"k = floor(sqrt(n)) = {default_k(n)}" + (
            f", capped at {cap} excesses - 1" if kk < default_k(n) else ""
        )
    else:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= cap:
            raise ValueError(f"k must be an integer in [1, {cap}] for this tail, got {k!r}")
        kk, rule = int(k), f"k = {int(k)} (given)"
    gamma = float(_gamma_path(y, kk)[-1])
    alpha = 1.0 / gamma if gamma > 0 else math.inf
    lo, hi = _wald(alpha, kk, level)
    reliable = kk >= MIN_RELIABLE_K
    note = (
        ""
        if reliable
        else f"only k = {kk} < {MIN_RELIABLE_K} order statistics: indicative, not reliable"
    )
    return HillEstimate(
        tail=tail,
        k=kk,
        k_rule=rule,
        alpha=alpha,
        lower=float(lo),
        upper=float(hi),
        level=level,
        se=alpha / math.sqrt(kk),
        threshold=float(y[kk]),
        n=n,
        n_tail=int(y.size),
        reliable=reliable,
        note=note,
    )


def hill_path(
    x,
    *,
    tail: Tail = "upper",
    center: float | None = None,
    k_max: int | None = None,
    level: float = 0.95,
) -> HillPath:
    """Hill-plot data: :math:`\\hat\\alpha_k` and its Wald band for :math:`k = 2, \\dots,
    k_{\\max}` (default: every positive excess but one, i.e. up to about :math:`n/2`)."""
    check_in_range("level", level, 0.0, 1.0)
    y, _ = _excesses(x, tail, center)
    cap = y.size - 1
    km = cap if k_max is None else min(int(k_max), cap)
    if km < 2:
        raise ValueError(f"k_max must be at least 2, got {k_max!r}")
    with np.errstate(divide="ignore"):
        alpha = 1.0 / _gamma_path(y, km)[1:]
    k = np.arange(2, km + 1)
    lo, hi = _wald(alpha, k, level)
    return HillPath(tail=tail, k=k, alpha=alpha, lower=lo, upper=hi, level=level)


def tail_diagnostics(
    x, k: int | None = None, *, center: float | None = None, level: float = 0.95
) -> TailDiagnostics:
    """Hill estimates (:func:`hill`) and Hill-plot data (:func:`hill_path`) of both tails
    about ``center`` (default the sample median)."""
    c = float(np.median(np.asarray(x, dtype=float))) if center is None else float(center)
    return TailDiagnostics(
        center=c,
        upper=hill(x, k, tail="upper", center=c, level=level),
        lower=hill(x, k, tail="lower", center=c, level=level),
        upper_path=hill_path(x, tail="upper", center=c, level=level),
        lower_path=hill_path(x, tail="lower", center=c, level=level),
    )
