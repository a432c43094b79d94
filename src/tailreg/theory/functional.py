r"""The location functional :math:`T(F)` of a loss and its asymptotic variance :math:`V`.

The functionals dispatch on the loss's attributes (``functional``, ``tau``, ``kinks``,
``smooth``), never on its class, so a user's loss works as soon as it states them.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize

from .._validation import check_positive
from ..losses import Loss
from ._access import attr, pdf, ppf
from .quadrature import PreparedLaw

__all__ = [
    "MAD_CONSTANT",
    "MFunctional",
    "ScaleSpec",
    "asymptotic_variance",
    "location_functional",
    "m_functional",
    "slope_covariance",
]

#: :math:`\Phi^{-1}(3/4)`: MAD / MAD_CONSTANT is consistent for the normal standard deviation
MAD_CONSTANT = 0.6744897501960817

ScaleSpec = float | Literal["mad", "estimated"]


def _check_scale(scale: Any) -> ScaleSpec:
    if isinstance(scale, str):
        if scale not in ("mad", "estimated"):
            raise ValueError(f'scale must be a positive float, "mad" or "estimated", got {scale!r}')
        return scale  # type: ignore[return-value]
    return check_positive("scale", scale)


def _psi_growth(loss: Loss) -> float:
    """Exponent p with :math:`|\\psi(u)| \\sim |u|^p` at infinity (0 for bounded psi)."""
    u = np.array([1e4, 1e8, -1e4, -1e8])
    a = np.abs(loss.psi(u))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.log(np.maximum(a[[1, 3]], 1e-300) / np.maximum(a[[0, 2]], 1e-300)) / np.log(1e4)
    return float(max(0.0, np.nanmax(p)))


@dataclass(frozen=True)
class MFunctional:
    r"""Population limit of a location M-estimator and its asymptotic variance.

    Attributes
    ----------
    location : float
        :math:`T(F)`.
    scale : float
        The scale :math:`s` at which :math:`u = (e - T)/s` is formed (``nan`` for losses whose
        functional does not depend on a scale: squared, absolute, check).
    avar : float
        :math:`V`, the asymptotic variance of :math:`\sqrt n (T_n - T)`; ``inf`` when it
        diverges.
    convention : str
        ``"known"``, ``"mad"`` or ``"estimated"``.
    e_psi2, e_dpsi, e_dpsi_u : float
        :math:`E\psi^2(u)`, :math:`E\psi'(u)`, :math:`E[\psi'(u)u]` at the solution (``nan``
        where not used).
    """

    location: float
    scale: float
    avar: float
    convention: str
    e_psi2: float = math.nan
    e_dpsi: float = math.nan
    e_dpsi_u: float = math.nan


def _solve_root(h, T0: float, width: float) -> float:
    """Root of a function decreasing through zero near ``T0``: bracket outward, then Brent.

    For a redescending psi E psi((e - T)/s) can have several roots; this returns the one
    reached from ``T0`` (the median), as an iteration started at a robust fit does.
    """
    h0 = h(T0)
    if h0 == 0.0:
        return T0
    if abs(h0) <= 1e-8:
        # possibly zero up to integration error (symmetric laws): accept T0 when h decreases
        # through zero within a hair of it
        delta = 1e-10 * width
        if h(T0 - delta) >= 0.0 >= h(T0 + delta):
            return T0
    direction = 1.0 if h0 > 0 else -1.0
    step = 0.25 * width
    a, ha = T0, h0
    for _ in range(60):
        b = a + direction * step
        hb = h(b)
        if np.sign(hb) != np.sign(ha) or hb == 0.0:
            lo, hi = (a, b) if a < b else (b, a)
            return optimize.brentq(h, lo, hi, xtol=1e-13 * width, maxiter=200)
        a, ha, step = b, hb, 2.0 * step
    raise RuntimeError("could not bracket the root of E psi((e - T)/s) = 0")


def _mean_functional(law: Any, L: PreparedLaw, convention: str) -> MFunctional:
    """Squared loss: the mean and the variance (nan / inf where they do not exist)."""
    alpha = L.alpha
    mean = attr(law, "mean")
    if mean is None:
        mean = L.expect(lambda u: u, 0.0, 1.0) if alpha > 1 else math.nan
    var = attr(law, "var")
    if var is None:
        var = L.expect(lambda u: u * u, mean, 1.0) if alpha > 2 else math.inf
    if alpha <= 1 or math.isnan(mean):
        mean = math.nan
    if alpha <= 2 or not math.isfinite(var):
        var = math.inf
    return MFunctional(mean, math.nan, var, convention)


def _quantile_functional(loss: Loss, law: Any, convention: str) -> MFunctional:
    """Check loss: the tau-quantile and tau(1 - tau)/f(q)^2 (Koenker & Bassett 1978)."""
    tau = float(loss.tau)  # type: ignore[attr-defined]
    q = ppf(law, tau)
    f = pdf(law, q)
    avar = math.inf if f <= 0.0 else tau * (1.0 - tau) / f**2
    return MFunctional(q, math.nan, avar, convention)


def _solve_location(loss: Loss, L: PreparedLaw, scale: ScaleSpec) -> tuple[float, float]:
    """``(T, s)``: the root of E psi((e - T)/s) = 0 under the scale convention."""
    med, width, kinks = L.median, L.unit, loss.kinks
    if scale == "estimated":

        def s_of(T: float) -> float:
            return L.mad_about(T) / MAD_CONSTANT

        def h(T: float) -> float:
            return L.expect(loss.psi, T, s_of(T), kinks)

        T = _solve_root(h, med, width)
        return T, s_of(T)
    s = L.mad_about(med) / MAD_CONSTANT if scale == "mad" else float(scale)
    T = _solve_root(lambda t: L.expect(loss.psi, t, s, kinks), med, width)
    return T, s


def _estimated_scale_avar(
    loss: Loss, L: PreparedLaw, T: float, s: float, A: float, B: float, e_psi2: float
) -> float:
    """V of the joint (T, MAD-scale) solution from its influence function (see m_functional)."""
    c = MAD_CONSTANT
    a, b = pdf(L.law, T + c * s), pdf(L.law, T - c * s)
    cab = c * (a + b)
    D = A * cab - B * (a - b)
    e_psi_in = L.expect(
        lambda u: loss.psi(u) * (np.abs(u) <= c), T, s, (*loss.kinks, -c, c)
    )  # E[psi(u) 1{|u| <= c}]
    return float((cab**2 * s * s * e_psi2 + 2.0 * cab * B * s * e_psi_in + 0.25 * B * B) / D**2)


def m_functional(loss: Loss, law: Any, scale: ScaleSpec = 1.0) -> MFunctional:
    r"""Solve for :math:`T(F)` (and :math:`s`) and compute the asymptotic variance :math:`V`.

    * ``loss.functional == "mean"`` (squared loss): :math:`T = E e`,
      :math:`V = \operatorname{Var}(e)` (``inf`` when the tail index is :math:`\le 2`;
      :math:`T` is ``nan`` when the mean does not exist).
    * ``"quantile"`` (absolute / check loss): :math:`T = F^{-1}(\tau)`,
      :math:`V = \tau(1-\tau)/f(F^{-1}(\tau))^2` (Koenker & Bassett 1978); free of the scale.
    * ``"m"`` with a smooth :math:`\psi` (Huber, bisquare, Student-t) at a fixed scale (a
      float, or ``"mad"``): :math:`T` solves :math:`E\psi((e - T)/s) = 0` and
      :math:`V = s^2 E\psi^2 / (E\psi')^2` (Huber 1964, 1973). Huber's :math:`\psi'` has jumps,
      which is fine: :math:`E\psi' = P(|u| \le k)`. For a redescending :math:`\psi`
      (bisquare, Student-t) the root is the one reached by searching outward from the median;
      if :math:`E\psi' \le 0` there (a local maximum of :math:`E\rho`) a ``RuntimeWarning``
      is issued and :math:`V` is ``nan``.
    * ``scale="estimated"``: :math:`(T, s)` solve jointly

      .. math::
          E\psi\!\left(\frac{e - T}{s}\right) = 0, \qquad
          F(T + cs) - F(T - cs) = \tfrac12 \quad (c = 0.6744897501960817).

      Differentiating both equations along :math:`F_t = (1-t)F + t\delta_x`, with
      :math:`u = (x - T)/s`, :math:`A = E\psi'(u)`, :math:`B = E[\psi'(u)u]`,
      :math:`a = f(T + cs)`, :math:`b = f(T - cs)`, gives the joint influence function

      .. math::
          A\,\mathrm{IF}_T + B\,\mathrm{IF}_s = s\,\psi(u), \qquad
          (a - b)\,\mathrm{IF}_T + c(a + b)\,\mathrm{IF}_s = \tfrac12 - 1\{|u| \le c\},

      i.e. :math:`\mathrm{IF}_T = [s\psi(u) - B\,\mathrm{IF}_s]/A`. Solving,
      :math:`\mathrm{IF}_T = [c(a+b)\,s\psi(u) - B(\tfrac12 - 1\{|u|\le c\})]/D` with
      :math:`D = Ac(a+b) - B(a-b)`, and :math:`V = E\,\mathrm{IF}_T^2`:

      .. math::
          V = \frac{c^2(a+b)^2 s^2 E\psi^2 + 2c(a+b)Bs\,E[\psi(u)1\{|u|\le c\}]
                    + B^2/4}{D^2},

      using :math:`E\psi = 0` and :math:`P(|u| \le c) = 1/2`. For a law symmetric about
      :math:`T`, :math:`B = 0` and :math:`a = b`, so the cross terms vanish and :math:`V` is the
      fixed-scale value :math:`s^2E\psi^2/A^2` (Huber 1981, *Robust Statistics*, sec. 6.4).

    Parameters
    ----------
    loss : Loss
        Any loss from :mod:`tailreg.losses` (or a subclass stating ``functional``, ``kinks``).
    law : object
        Error law with vectorised ``pdf``, ``cdf``, ``ppf`` (see :mod:`tailreg.theory`).
    scale : float, "mad" or "estimated"
        Scale convention (see :mod:`tailreg.theory`).

    Returns
    -------
    MFunctional
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a tailreg.losses.Loss, got {loss!r}")
    scale = _check_scale(scale)
    convention = "known" if not isinstance(scale, str) else scale
    L = PreparedLaw(law)
    if loss.functional == "mean":
        return _mean_functional(law, L, convention)
    if loss.functional == "quantile":
        return _quantile_functional(loss, law, convention)
    if not loss.smooth:
        raise NotImplementedError(
            f"{loss!r}: psi has jumps; only the absolute and check losses are handled among "
            "non-smooth losses"
        )
    T, s = _solve_location(loss, L, scale)
    kinks = loss.kinks
    A = L.expect(loss.psi_prime, T, s, kinks)
    B = L.expect(lambda u: loss.psi_prime(u) * u, T, s, kinks)
    if 2.0 * _psi_growth(loss) >= L.alpha:  # E psi^2 diverges (unbounded psi, heavy tails)
        return MFunctional(T, s, math.inf, convention, math.inf, A, B)
    e_psi2 = L.expect(lambda u: loss.psi(u) ** 2, T, s, kinks)
    if A <= 0.0:
        warnings.warn(
            f"E psi'(u) = {A:.3g} <= 0 at the root for {loss!r}: the root is not a local "
            "minimum of E rho and the asymptotic variance is undefined",
            RuntimeWarning,
            stacklevel=2,
        )
        return MFunctional(T, s, math.nan, convention, e_psi2, A, B)
    if convention != "estimated":
        return MFunctional(T, s, s * s * e_psi2 / A**2, convention, e_psi2, A, B)
    avar = _estimated_scale_avar(loss, L, T, s, A, B, e_psi2)
    return MFunctional(T, s, avar, convention, e_psi2, A, B)


def location_functional(loss: Loss, law: Any, scale: ScaleSpec = 1.0) -> float:
    r"""Probability limit :math:`T(F)` of the location (intercept) estimator of ``loss``.

    The mean for :class:`~tailreg.losses.Squared` (``nan`` when it does not exist), the median
    for :class:`~tailreg.losses.Absolute`, the :math:`\tau`-quantile for
    :class:`~tailreg.losses.Check`, and the root of :math:`E\psi((e - T)/s) = 0` for Huber,
    bisquare and Student-t losses, with ``scale`` a known float, ``"mad"`` or ``"estimated"``
    (see :func:`m_functional`). For skewed laws the root depends on the convention.
    """
    return m_functional(loss, law, scale).location


def asymptotic_variance(loss: Loss, law: Any, scale: ScaleSpec = 1.0) -> float:
    r"""Asymptotic variance :math:`V` of :math:`\sqrt n(T_n - T(F))`; ``inf`` when it diverges.

    :math:`\operatorname{Var}(e)` for the squared loss, :math:`\tau(1-\tau)/f(q_\tau)^2` for
    the check / absolute loss (Koenker & Bassett 1978), :math:`s^2E\psi^2/(E\psi')^2` for a
    smooth :math:`\psi` at fixed scale (Huber 1964), and the joint-influence-function variance
    for ``scale="estimated"`` (derivation in :func:`m_functional`).
    """
    return m_functional(loss, law, scale).avar


def slope_covariance(loss: Loss, law: Any, Q: Any, scale: ScaleSpec = 1.0) -> np.ndarray:
    r"""Asymptotic covariance :math:`V\,Q^{-1}` of :math:`\sqrt n(\hat\beta_{slopes} - \beta)`.

    For i.i.d. errors independent of the regressors, with :math:`Q = \operatorname{Cov}(x)`
    of the non-constant regressors (Huber 1973; Koenker & Bassett 1978 for quantiles).
    With ``scale="estimated"`` the slopes' :math:`V` is the *fixed-scale*
    :math:`s^2E\psi^2/(E\psi')^2` at the joint limit :math:`(T, s)`: the scale estimate
    enters the influence function through :math:`E[\psi'(u)u]\,E[x]`, i.e. the intercept only.

    Parameters
    ----------
    loss, law, scale
        As in :func:`asymptotic_variance`.
    Q : array_like, shape (p, p) or scalar
        Covariance matrix of the regressors (symmetric positive definite).

    Returns
    -------
    ndarray, shape (p, p)
        Entries are ``±inf`` (``0`` where :math:`Q^{-1}` is exactly 0) when :math:`V` is
        infinite.
    """
    Q = np.atleast_2d(np.asarray(Q, dtype=float))
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
        raise ValueError(f"Q must be a square matrix, got shape {Q.shape}")
    if not np.allclose(Q, Q.T) or np.any(np.linalg.eigvalsh(Q) <= 0):
        raise ValueError("Q must be symmetric positive definite (the covariance of x)")
    Qinv = np.linalg.inv(Q)
    V = asymptotic_variance(loss, law, scale)
    if scale == "estimated" and not math.isinf(V):
        # Estimating the scale moves only the intercept: E[psi'(u) u x] = E[psi'(u) u] E[x],
        # which the centred slopes do not see. Their V is the fixed-scale one, taken at the
        # joint limit (T, s).
        m = m_functional(loss, law, scale)
        if np.isfinite(m.scale):
            V = asymptotic_variance(loss, law, m.scale)
    if math.isinf(V):
        return np.where(Qinv > 0, math.inf, np.where(Qinv < 0, -math.inf, 0.0))
    return V * Qinv
