r"""Robust scale estimators of residuals, batched over leading axes.

Two conventions for the MAD circulate and both are kept, named:

* :data:`NORMAL_MAD_CONSTANT` :math:`= \Phi^{-1}(3/4) = 0.6744897501960817`, which makes
  :math:`\operatorname{median}|r|/0.67449` consistent for :math:`\sigma` at the normal
  (statsmodels ``robust.mad``, robustbase). The default of :func:`mad`.
* :data:`MASS_MAD_CONSTANT` :math:`= 0.6745`, the rounded value MASS's ``rlm`` hard-codes
  (``median(abs(resid))/0.6745``, about 0, not about the median). The IRLS core
  (:func:`tailreg.solvers.irls.irls`, ``scale="mad"``) uses it so that the Huber and
  bisquare fits reproduce ``MASS::rlm`` to reference precision; the two differ by a factor
  :math:`1.0000152`.

Huber's proposal 2 (Huber 1981, sec. 7.7) chooses the scale :math:`s` jointly with
:math:`\beta` so that
:math:`\frac{1}{n-k}\sum_i \psi_k(r_i/s)^2 = E_\Phi[\psi_k(Z)^2]`; :func:`huber_proposal2_step`
is MASS's fixed-point step for it.

:func:`median_abs` and :func:`mad_with_gradient` are the IRLS iteration's fast row-wise
MAD about 0 (and its derivative with respect to the coefficients, for Newton steps).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

from ._linalg import Design
from ._typing import FloatArray, IntArray

__all__ = [
    "MASS_MAD_CONSTANT",
    "NORMAL_MAD_CONSTANT",
    "R_MAD_FACTOR",
    "huber_proposal2",
    "huber_proposal2_step",
    "mad",
    "mad_with_gradient",
    "median_abs",
    "proposal2_gamma",
    "weighted_mad_with_gradient",
    "weighted_median_abs",
    "weighted_proposal2_step",
]

#: :math:`\Phi^{-1}(3/4)`, exact: MAD/this is consistent for sigma at the normal.
NORMAL_MAD_CONSTANT = 0.6744897501960817
#: The rounded constant hard-coded in MASS ``rlm`` (``median(abs(resid))/0.6745``).
MASS_MAD_CONSTANT = 0.6745
#: R's ``mad()`` multiplier ``constant = 1.4826`` (used by MASS only for proposal 2's start).
R_MAD_FACTOR = 1.4826


def mad(
    r: np.ndarray,
    center: float | Literal["median"] = 0.0,
    axis: int = -1,
    *,
    constant: float = NORMAL_MAD_CONSTANT,
) -> np.ndarray:
    r"""Median absolute deviation, normalised: :math:`\operatorname{median}_i|r_i - c| / q`.

    Parameters
    ----------
    r : ndarray
        Residuals; reduced along ``axis`` (leading axes are replications).
    center : float or "median"
        :math:`c`. Regression residuals are centred at 0 by construction, so MASS ``rlm``
        and the IRLS core use ``0.0``; ``"median"`` gives the classical location MAD.
    axis : int
        Axis to reduce.
    constant : float
        :math:`q`; :data:`NORMAL_MAD_CONSTANT` (default, exact) or :data:`MASS_MAD_CONSTANT`
        (0.6745, MASS ``rlm``).

    Returns
    -------
    ndarray
        ``r`` with ``axis`` removed (a 0-d array for 1-d input).
    """
    r = np.asarray(r, dtype=float)
    if isinstance(center, str):
        if center != "median":
            raise ValueError(f"center must be a number or 'median', got {center!r}")
        c = np.median(r, axis=axis, keepdims=True)
    else:
        c = float(center)
    return np.median(np.abs(r - c), axis=axis) / constant


def proposal2_gamma(k: float) -> float:
    r"""Proposal 2's constant :math:`\gamma_k = E_\Phi[\psi_k(Z)^2]`.

    :math:`\gamma_k = \theta + k^2(1-\theta) - 2k\phi(k)` with :math:`\theta = 2\Phi(k)-1`.

    The consistency constant of Huber's proposal 2 (MASS ``rlm``'s ``gamma``); 1 for
    :math:`k = \infty`.
    """
    if np.isinf(k):
        return 1.0
    theta = 2.0 * stats.norm.cdf(k) - 1.0
    return float(theta + k * k * (1.0 - theta) - 2.0 * k * stats.norm.pdf(k))


def huber_proposal2_step(
    r: np.ndarray, scale: np.ndarray | float, k: float, df_resid: float, axis: int = -1
) -> np.ndarray:
    r"""One fixed-point step of Huber's proposal 2 scale (as MASS ``rlm``, ``scale.est="Huber"``).

    .. math::
        s_{\text{new}} = \sqrt{\frac{\sum_i \min\left(r_i^2, (k s)^2\right)}{(n-p)\,\gamma_k}},
        \qquad \gamma_k = E_\Phi[\psi_k(Z)^2],

    i.e. :math:`s_\text{new}^2 = s^2 \sum_i\psi_k(r_i/s)^2 / ((n-p)\gamma_k)`; its fixed point
    solves :math:`\sum_i\psi_k(r_i/s)^2 = (n-p)\gamma_k` (Huber 1981, eq. 7.7.10).

    Parameters
    ----------
    r : ndarray (..., n)
        Residuals.
    scale : float or ndarray (...)
        Current scale.
    k : float
        Huber tuning constant (MASS's ``k2``).
    df_resid : float
        :math:`n - p` (MASS's ``n1``).
    axis : int
        Observation axis of ``r``.
    """
    r = np.moveaxis(np.asarray(r, dtype=float), axis, -1)
    s = np.asarray(scale, dtype=float)
    clipped = np.minimum(r * r, ((k * s) ** 2)[..., None])
    return np.sqrt(clipped.sum(axis=-1) / (df_resid * proposal2_gamma(k)))


def huber_proposal2(
    r: np.ndarray,
    k: float = 1.345,
    df_resid: float | None = None,
    *,
    axis: int = -1,
    tol: float = 1e-12,
    maxiter: int = 1000,
) -> np.ndarray:
    r"""Proposal-2 scale of *fixed* residuals: iterate :func:`huber_proposal2_step` to its root.

    Starts from ``R_MAD_FACTOR * median|r|`` as MASS does. ``df_resid`` defaults to the number
    of observations. The map is a contraction for the residual sets met in practice; the loop
    stops when the relative change is below ``tol``.
    """
    r = np.moveaxis(np.asarray(r, dtype=float), axis, -1)
    n = r.shape[-1]
    df = float(n if df_resid is None else df_resid)
    s = R_MAD_FACTOR * np.median(np.abs(r), axis=-1)
    for _ in range(maxiter):
        s_new = huber_proposal2_step(r, s, k, df)
        done = np.all(np.abs(s_new - s) <= tol * np.maximum(s_new, np.finfo(float).tiny))
        s = s_new
        if done:
            break
    return s


def _middle_abs(r: FloatArray, half: int) -> tuple[FloatArray, FloatArray]:
    """The two middle order statistics of each row of ``|r|`` (R, n); equal for odd n.

    A full sort wins for short rows; for long rows one partition at the upper middle, with
    the lower middle the maximum of the left part (a two-index partition costs ~4x one).
    """
    a = np.abs(r)
    n = a.shape[1]
    if n <= 256:
        a.sort(axis=1)
        return (a[:, half], a[:, half]) if n % 2 else (a[:, half], a[:, half + 1])
    if n % 2:
        a.partition(half, axis=1)
        m = a[:, half].copy()
        return m, m
    a.partition(half + 1, axis=1)
    return a[:, : half + 1].max(axis=1), a[:, half + 1].copy()


def median_abs(r: FloatArray, half: int) -> FloatArray:
    """Row medians of ``|r|`` (R, n) — np.median's result, a few times faster on small rows.

    ``half`` is ``(n - 1) // 2``.
    """
    lo, hi = _middle_abs(r, half)
    return hi if r.shape[1] % 2 else 0.5 * (lo + hi)


def mad_with_gradient(r: FloatArray, design: Design, half: int) -> tuple[FloatArray, FloatArray]:
    r"""``median|r|/0.6745`` per row and its gradient with respect to beta.

    With :math:`r = y - X\beta` the median of :math:`|r|` is :math:`|r_m|` for the middle
    observation m (the mean of the two middle ones for even n), so locally
    :math:`\partial s/\partial\beta = -\operatorname{sign}(r_m)\,x_m / 0.6745`.

    Parameters
    ----------
    r : ndarray (R, n)
    design : Design
        The R fits' designs.
    half : int
        ``(n - 1) // 2``.

    Returns
    -------
    scale : ndarray (R,)
    grad : ndarray (R, k)
    """
    a = np.abs(r)
    rows = np.arange(r.shape[0])

    def term(m: FloatArray) -> FloatArray:
        # the middle observation found by its value (a partition plus a compare is cheaper
        # than an argpartition); with ties any of them gives a valid subgradient
        j = np.argmax(a == m[:, None], axis=1)
        return np.sign(r[rows, j])[:, None] * design.pick(j)

    lo, hi = _middle_abs(r, half)
    if r.shape[1] % 2:
        med, g = hi, term(hi)
    else:
        med, g = 0.5 * (lo + hi), 0.5 * (term(lo) + term(hi))
    return med / MASS_MAD_CONSTANT, -g / MASS_MAD_CONSTANT


# --------------------------------------------------------------------------------------
# case-weighted versions (MASS ``rlm(..., wt.method = "case")``)


def _weighted_middle(r: FloatArray, v: FloatArray) -> tuple[FloatArray, IntArray, IntArray]:
    r"""Weighted median of ``|r|`` per row, with the rows that hold it.

    MASS's ``wmad`` rule: sort :math:`|r|`, :math:`p = \operatorname{cumsum}(v)/\sum v`,
    :math:`m = \#\{p < 1/2\}`; the median is :math:`|r|_{(m+1)}` when
    :math:`p_{m+1} > 1/2`, else the mean of :math:`|r|_{(m+1)}` and the next order statistic
    — here the next one *with a positive weight*, so that a row of weight 0 acts as if it were
    absent (MASS takes :math:`|r|_{(m+2)}` whatever its weight). For integer weights this is
    the median of the data with row i repeated :math:`v_i` times.

    Returns the medians (R,) and the indices (R,) of the lower and upper rows averaged
    (equal when one row holds the median).
    """
    a = np.abs(r)
    o = np.argsort(a, axis=1, kind="stable")
    vs = np.take_along_axis(np.broadcast_to(v, a.shape), o, axis=1)
    c = np.cumsum(vs, axis=1)
    p = c / c[:, -1:]
    m = np.count_nonzero(p < 0.5, axis=1)
    rows = np.arange(a.shape[0])
    tie = ~(p[rows, m] > 0.5)
    after = (np.arange(a.shape[1])[None, :] > m[:, None]) & (vs > 0)
    m2 = np.where(tie & after.any(axis=1), np.argmax(after, axis=1), m)
    j_lo, j_hi = o[rows, m], o[rows, m2]
    return 0.5 * (a[rows, j_lo] + a[rows, j_hi]), j_lo, j_hi


def weighted_median_abs(r: FloatArray, v: FloatArray) -> FloatArray:
    """Row-wise case-weighted median of ``|r|`` (R, n) with weights ``v`` (n,) or (R, n).

    MASS ``wmad`` without its 0.6745 (see :func:`_weighted_middle`); weights of 0 drop a row.
    """
    return _weighted_middle(np.asarray(r, dtype=float), np.asarray(v, dtype=float))[0]


def weighted_mad_with_gradient(
    r: FloatArray, v: FloatArray, design: Design
) -> tuple[FloatArray, FloatArray]:
    r"""Case-weighted ``median|r|/0.6745`` per row and its gradient with respect to beta.

    As :func:`mad_with_gradient`: the weighted median is :math:`|r_m|` for one row m (or the
    mean of two), so :math:`\partial s/\partial\beta = -\operatorname{sign}(r_m)x_m/0.6745`.
    """
    med, j_lo, j_hi = _weighted_middle(r, v)
    rows = np.arange(r.shape[0])
    g = 0.5 * (
        np.sign(r[rows, j_lo])[:, None] * design.pick(j_lo)
        + np.sign(r[rows, j_hi])[:, None] * design.pick(j_hi)
    )
    return med / MASS_MAD_CONSTANT, -g / MASS_MAD_CONSTANT


def weighted_proposal2_step(
    r: FloatArray, scale: FloatArray, k: float, v: FloatArray, df_resid: FloatArray
) -> FloatArray:
    r"""One case-weighted fixed-point step of proposal 2 (MASS ``rlm``, ``wt.method="case"``).

    .. math::
        s_{\text{new}} = \sqrt{\frac{\sum_i v_i\min\left(r_i^2, (k s)^2\right)}
        {(\sum_i v_i - p)\,\gamma_k}}

    with ``df_resid`` :math:`= \sum_i v_i - p` (R,). For integer weights this is
    :func:`huber_proposal2_step` on the data with row i repeated :math:`v_i` times.
    """
    clipped = np.minimum(r * r, ((k * scale) ** 2)[:, None])
    return np.sqrt(
        np.einsum("ij,ij->i", np.broadcast_to(v, r.shape), clipped)
        / (df_resid * proposal2_gamma(k))
    )
