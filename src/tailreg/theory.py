r"""Asymptotic theory of the location (intercept) functional of every loss, under any error law.

With i.i.d. errors :math:`e \sim F` independent of the regressors, an M-estimator with loss
:math:`\rho` and :math:`\psi = \rho'` has slopes consistent for :math:`\beta`, an intercept that
converges to :math:`\beta_0 + T(F)`, and

.. math::
    \sqrt n(\hat\beta - \beta) \to N(0, V\,Q^{-1}) \text{ (slopes)}, \qquad
    \sqrt n(T_n - T(F)) \to N(0, V) \text{ (location model)},

where :math:`Q = \operatorname{Cov}(x)` (Huber 1973, "Robust regression: asymptotics,
conjectures and Monte Carlo", Ann. Statist. 1, 799-821; Koenker & Bassett 1978 for the check
loss). This module computes :math:`T(F)`, :math:`V`, the Fisher information for location and
the Cramér-Rao bound, asymptotic relative efficiencies, Huber's minimax tuning constant and the
stable-law rate of least squares under infinite variance.

Laws are duck-typed: any object with ``pdf``, ``cdf``, ``ppf`` (vectorised) and optionally
``logpdf``, ``median``, ``mean``, ``var`` and ``tail_index`` (methods or attributes) works — the
laws of :mod:`tailreg.distributions`, or a thin wrapper around a frozen ``scipy.stats`` law.

Scale conventions (argument ``scale``), for the losses whose functional depends on it:

* a positive float ``s`` — known scale, :math:`u = (e - T)/s`;
* ``"mad"`` — :math:`s` held fixed at the law's population MAD about its median divided by
  :math:`\Phi^{-1}(3/4) = 0.6744897501960817`;
* ``"estimated"`` — :math:`(T, s)` solve :math:`E\psi((e-T)/s) = 0` and
  :math:`s = \operatorname{med}|e - T| / 0.6744897501960817` jointly, which is what an IRLS
  fit that re-estimates the MAD of its residuals at every step converges to. :math:`V` then
  comes from the joint influence function (see :func:`m_functional`). For laws symmetric
  about :math:`T` it equals the fixed-scale :math:`V` at the same :math:`s`; for skewed laws
  it can differ a lot (about double for a centred lognormal).

Expectations are one-dimensional integrals over the error axis, split at the centre, at the
kinks of :math:`\psi` (:math:`T \pm ks`), at the quartiles and at the support edges, computed
by adaptive Gauss-Kronrod (7, 15) quadrature — QUADPACK's rule, as in
``scipy.integrate.quad`` — with the half-infinite tails mapped to (0, 1] as QUADPACK's QAGI
does, but with all panels of a refinement sweep evaluated in one vectorised ``pdf`` call
(scalar ``quad`` calls made a Huber solve 50-100 times slower; the tests check the results
against ``scipy.integrate.quad``). Divergent integrals are recognised from the law's tail
index and reported as ``inf``, never as a large finite number.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, stats

from ._validation import check_in_range, check_positive
from .losses import Absolute, Bisquare, Check, Huber, Loss, Squared, StudentT

__all__ = [
    "MAD_CONSTANT",
    "MFunctional",
    "Target",
    "asymptotic_variance",
    "cramer_rao_bound",
    "efficiency_vs_bound",
    "fisher_information",
    "huber_minimax_k",
    "location_functional",
    "m_functional",
    "ols_stable_rate",
    "relative_efficiency",
    "slope_covariance",
    "target",
]

#: :math:`\Phi^{-1}(3/4)`: MAD / MAD_CONSTANT is consistent for the normal standard deviation
MAD_CONSTANT = 0.6744897501960817

ScaleSpec = float | Literal["mad", "estimated"]


# ----------------------------------------------------------------------------------------
# duck-typed access to a law
# ----------------------------------------------------------------------------------------
def _attr(law: Any, name: str) -> float | None:
    """Value of a law's method-or-attribute ``name`` as a float, ``None`` when absent."""
    value = getattr(law, name, None)
    if value is None:
        return None
    if callable(value):
        value = value()
    return float(value)


def _check_law(law: Any) -> None:
    missing = [m for m in ("pdf", "cdf", "ppf") if not callable(getattr(law, m, None))]
    if missing:
        raise TypeError(
            f"law must provide vectorised pdf, cdf and ppf methods; {law!r} lacks {missing}"
        )


def _pdf(law: Any, x: float) -> float:
    return float(law.pdf(np.asarray(x, dtype=float)))


def _cdf(law: Any, x: float) -> float:
    return float(law.cdf(np.asarray(x, dtype=float)))


def _ppf(law: Any, p: float) -> float:
    return float(law.ppf(np.asarray(p, dtype=float)))


def _median(law: Any) -> float:
    med = _attr(law, "median")
    return _ppf(law, 0.5) if med is None else med


def _tail_index(law: Any) -> float:
    """Tail index alpha (moments of order < alpha exist); inf for light tails or when unknown."""
    alpha = _attr(law, "tail_index")
    return math.inf if alpha is None or math.isnan(alpha) else alpha


def _support(law: Any) -> tuple[float, float]:
    """Support edges from a ``support`` attribute or ppf(0), ppf(1); unknown edges are infinite."""
    support = getattr(law, "support", None)
    if support is not None and not callable(support):
        lo, hi = (float(v) for v in support)
        return (-math.inf if math.isnan(lo) else lo), (math.inf if math.isnan(hi) else hi)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lo, hi = _ppf(law, 0.0), _ppf(law, 1.0)
        except Exception:  # a law whose ppf rejects the closed endpoints
            return -math.inf, math.inf
    return (-math.inf if math.isnan(lo) else lo), (math.inf if math.isnan(hi) else hi)


# ----------------------------------------------------------------------------------------
# integration: adaptive Gauss-Kronrod (7, 15), vectorised over panels
# ----------------------------------------------------------------------------------------
# QUADPACK's dqk15 rule (Piessens et al. 1983), the rule scipy.integrate.quad applies on
# infinite ranges; here every panel of a refinement sweep is evaluated in ONE vectorised call
# of the law's pdf, which makes the many expectations of a root search cheap even for laws
# whose pdf is costly per call (mixtures, standardized wrappers).
_XGK = np.array(
    [
        0.991455371120812639206854697526329,
        0.949107912342758524526189684047851,
        0.864864423359769072789712788640926,
        0.741531185599394439863864773280788,
        0.586087235467691130294144845693013,
        0.405845151377397166906606412076961,
        0.207784955007898467600689403773245,
    ]
)
_WGK_HALF = np.array(
    [
        0.022935322010529224963732008058970,
        0.063092092629978553290700663189204,
        0.104790010322250183839876322541518,
        0.140653259715525918745189590510238,
        0.169004726639267902826583426598550,
        0.190350578064785409913256402421014,
        0.204432940075298892414161999234649,
    ]
)
_WGK_CENTRE = 0.209482141084727828012999174891714
_WG_HALF = np.array(
    [
        0.129484966168869693270611432679082,
        0.279705391489276667901467771423780,
        0.381830050505118944950369775488975,
    ]
)  # at _XGK[1], _XGK[3], _XGK[5]
_WG_CENTRE = 0.417959183673469387755102040816327
_NODES = np.concatenate([-_XGK, [0.0], _XGK[::-1]])
_WK = np.concatenate([_WGK_HALF, [_WGK_CENTRE], _WGK_HALF[::-1]])
_WG = np.zeros(15)
_WG[[1, 3, 5]] = _WG_HALF
_WG[[13, 11, 9]] = _WG_HALF
_WG[7] = _WG_CENTRE

_EPSABS, _EPSREL = 1e-12, 1e-10
_MAX_SWEEPS, _MAX_PANELS = 64, 20000


def _integrate(g, pts: np.ndarray, width: float) -> float:
    r""":math:`\int g(x)\,dx` over ``[pts[0], pts[-1]]`` split at every point of ``pts``.

    ``g`` is vectorised. A half-infinite end interval :math:`[a, \infty)` is mapped to
    :math:`t \in (0, 1]` by :math:`x = a + w(1 - t)/t` (QUADPACK's QAGI substitution, with the
    law's IQR as length unit :math:`w`), so tails decaying like any power are integrated
    accurately. Panels whose Kronrod-Gauss difference exceeds their share of the tolerance are
    bisected, all at once, until the total tolerance is met.
    """
    ta, tb, kind, anchor = [], [], [], []
    for a, b in itertools.pairwise(pts):
        if not b > a:
            continue
        if math.isinf(a) and math.isinf(b):
            raise ValueError("need a finite split point")
        if math.isinf(a):
            ta.append(0.0), tb.append(1.0), kind.append(-1.0), anchor.append(b)
        elif math.isinf(b):
            ta.append(0.0), tb.append(1.0), kind.append(1.0), anchor.append(a)
        else:
            ta.append(a), tb.append(b), kind.append(0.0), anchor.append(0.0)
    ta, tb = np.array(ta), np.array(tb)
    kind, anchor = np.array(kind), np.array(anchor)
    total, tol = 0.0, _EPSABS
    for sweep in range(_MAX_SWEEPS):
        mid, half = 0.5 * (ta + tb), 0.5 * (tb - ta)
        t = mid[:, None] + half[:, None] * _NODES
        mapped = kind[:, None] != 0.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = np.where(mapped, anchor[:, None] + kind[:, None] * width * (1.0 - t) / t, t)
            jac = np.where(mapped, width / (t * t), 1.0)
            y = np.asarray(g(x.ravel()), dtype=float).reshape(x.shape) * jac
        y[~np.isfinite(y) & (jac == 0.0)] = 0.0
        k_est = half * (y @ _WK)
        err = np.abs(k_est - half * (y @ _WG))
        tol = max(_EPSABS, _EPSREL * abs(total + k_est.sum()))
        # a panel is done when its error is below its share of the tolerance
        share = np.maximum(half / max(half.sum(), 1e-300), 1.0 / 64.0)
        done = (err <= tol * share) | (sweep == _MAX_SWEEPS - 1) | (half < 1e-15 * width)
        if ta.size > _MAX_PANELS:
            done[:] = True
        total += float(k_est[done].sum())
        if done.all():
            break
        keep = ~done
        a, b, m = ta[keep], tb[keep], mid[keep]
        ta, tb = np.concatenate([a, m]), np.concatenate([m, b])
        kind, anchor = np.tile(kind[keep], 2), np.tile(anchor[keep], 2)
    return total


class _Law:
    """A law with its split points, support, median and length unit computed once."""

    def __init__(self, law: Any) -> None:
        _check_law(law)
        self.law = law
        self.lo, self.hi = _support(law)
        with np.errstate(all="ignore"):
            q = np.asarray(law.ppf(np.array([0.01, 0.25, 0.5, 0.75, 0.99])), dtype=float)
        self.median = _median(law)
        self.unit = float(q[3] - q[1])
        self.alpha = _tail_index(law)
        self.base_points = np.array([self.lo, *q, self.median, self.hi])

    def points(self, extra=()) -> np.ndarray:
        pts = np.concatenate([self.base_points, np.asarray(extra, dtype=float)])
        pts = np.unique(np.clip(pts[~np.isnan(pts)], self.lo, self.hi))
        return pts

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.law.pdf(x), dtype=float)

    def expect(self, h, T: float, s: float, kinks: tuple[float, ...] = ()) -> float:
        r""":math:`E\,h((e - T)/s)`, split at ``T`` and at ``T + s*kinks``."""

        def g(x: np.ndarray) -> np.ndarray:
            f = self.pdf(x)
            with np.errstate(all="ignore"):
                return np.where(f > 0.0, np.asarray(h((x - T) / s), dtype=float) * f, 0.0)

        return _integrate(g, self.points([T, *(T + s * k for k in kinks)]), self.unit)

    def mad_about(self, centre: float) -> float:
        return _mad_about(self.law, centre)


def _kinks(loss: Loss) -> tuple[float, ...]:
    """Points (in u units) where psi or psi' is not smooth, to split the integrals there."""
    if isinstance(loss, Huber) and math.isfinite(loss.k):
        return (-loss.k, loss.k)
    if isinstance(loss, Bisquare):
        return (-loss.c, loss.c)
    if isinstance(loss, StudentT):
        return (-math.sqrt(loss.df), math.sqrt(loss.df))
    return ()


def _psi_growth(loss: Loss) -> float:
    """Exponent p with :math:`|\\psi(u)| \\sim |u|^p` at infinity (0 for bounded psi)."""
    u = np.array([1e4, 1e8, -1e4, -1e8])
    a = np.abs(loss.psi(u))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.log(np.maximum(a[[1, 3]], 1e-300) / np.maximum(a[[0, 2]], 1e-300)) / np.log(1e4)
    return float(max(0.0, np.nanmax(p)))


# ----------------------------------------------------------------------------------------
# scale conventions
# ----------------------------------------------------------------------------------------
def _check_scale(scale: Any) -> ScaleSpec:
    if isinstance(scale, str):
        if scale not in ("mad", "estimated"):
            raise ValueError(f'scale must be a positive float, "mad" or "estimated", got {scale!r}')
        return scale  # type: ignore[return-value]
    return check_positive("scale", scale)


def _mad_about(law: Any, centre: float) -> float:
    r"""Population :math:`\operatorname{med}|e - c|`: root m of F(c + m) - F(c - m) = 1/2."""
    q25, q75 = _ppf(law, 0.25), _ppf(law, 0.75)
    upper = max(q75 - centre, centre - q25)  # [c - upper, c + upper] contains the IQR

    def g(m: float) -> float:
        return _cdf(law, centre + m) - _cdf(law, centre - m) - 0.5

    if g(upper) <= 0.0:
        return upper
    return optimize.brentq(g, 0.0, upper, xtol=1e-14 * max(upper, 1e-300))


def _is_quantile_loss(loss: Loss) -> bool:
    return isinstance(loss, Absolute | Check)


def _tau(loss: Loss) -> float:
    return loss.tau if isinstance(loss, Check) else 0.5


# ----------------------------------------------------------------------------------------
# the functional
# ----------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class Target:
    r"""What an estimator converges to under i.i.d. errors: its pseudo-true location and variance.

    Returned by every estimator's ``target(law)`` (``None`` where the theory has no answer);
    the Monte Carlo engine turns it into the truth columns of a cell.

    Attributes
    ----------
    location : float
        :math:`T(F)`, the shift of the intercept (the slopes are consistent for
        :math:`\beta`).
    avar : float
        Limit of :math:`n\operatorname{Var}` of the location part (the intercept in a model
        with centred regressors); ``nan`` when unknown, ``inf`` when it diverges.
    avar_slopes : float
        :math:`V_{fix}` multiplying :math:`(M^{-1})_{jj}` for the slopes: the fixed-scale
        :math:`s^2E\psi^2/(E\psi')^2` at the limit (equal to ``avar`` unless the scale is
        estimated jointly).
    kind : {"mean", "quantile", "m"}
        ``"mean"`` and ``"quantile"`` need no common residual scale, so under errors
        :math:`\sigma(x)u` with linear :math:`\sigma` the target line is
        :math:`b_0 + aT + (\beta_j + bT)x_j`; ``"mean"`` also gives the AR(1) marginal
        location :math:`T/(1 - \phi)`. ``"m"``: an M-location at a common scale.
    scale : float
        The limit scale :math:`s` (``nan`` for scale-free functionals).
    """

    location: float
    avar: float
    avar_slopes: float
    kind: str
    scale: float = math.nan

    @property
    def scale_free(self) -> bool:
        """True for the mean and the quantiles (no common residual scale)."""
        return self.kind in ("mean", "quantile")


def target(
    loss: Loss, law: Any, scale: ScaleSpec = 1.0, *, symmetric_only_avar: bool = False
) -> Target:
    """The :class:`Target` of an M-estimator with ``loss`` at ``law`` under scale ``scale``.

    Parameters
    ----------
    loss, law, scale
        As :func:`m_functional`.
    symmetric_only_avar : bool
        The estimator estimates its scale by another functional (MM's S-scale, the t-MLE's
        likelihood scale) held fixed here: the scale's own influence enters the location's
        variance unless the law is symmetric, so ``avar`` is ``nan`` for asymmetric laws (the
        slopes keep the fixed-scale variance).
    """
    mf = m_functional(loss, law, scale)
    T, V = float(mf.location), float(mf.avar)
    vfix = V
    if mf.convention == "estimated" and mf.e_dpsi and math.isfinite(mf.e_psi2):
        vfix = float(mf.scale**2 * mf.e_psi2 / mf.e_dpsi**2)
    if symmetric_only_avar and not getattr(law, "symmetric", False):
        V = math.nan
    if isinstance(loss, Squared):
        kind = "mean"
    elif _is_quantile_loss(loss):
        kind = "quantile"
    else:
        kind = "m"
    return Target(T, V, vfix, kind, float(mf.scale))


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


def m_functional(loss: Loss, law: Any, scale: ScaleSpec = 1.0) -> MFunctional:
    r"""Solve for :math:`T(F)` (and :math:`s`) and compute the asymptotic variance :math:`V`.

    * Squared loss: :math:`T = E e`, :math:`V = \operatorname{Var}(e)` (``inf`` when the tail
      index is :math:`\le 2`; :math:`T` is ``nan`` when the mean does not exist).
    * Absolute / check loss: :math:`T = F^{-1}(\tau)`,
      :math:`V = \tau(1-\tau)/f(F^{-1}(\tau))^2` (Koenker & Bassett 1978); free of the scale.
    * Smooth :math:`\psi` (Huber, bisquare, Student-t) with fixed scale (a float, or ``"mad"``):
      :math:`T` solves :math:`E\psi((e - T)/s) = 0` and
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
        Any loss from :mod:`tailreg.losses`.
    law : object
        Error law with vectorised ``pdf``, ``cdf``, ``ppf`` (see the module docstring).
    scale : float, "mad" or "estimated"
        Scale convention (see the module docstring).

    Returns
    -------
    MFunctional
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a tailreg.losses.Loss, got {loss!r}")
    scale = _check_scale(scale)
    convention = "known" if not isinstance(scale, str) else scale
    L = _Law(law)
    alpha = L.alpha

    if isinstance(loss, Squared):
        mean = _attr(law, "mean")
        if mean is None:
            mean = L.expect(lambda u: u, 0.0, 1.0) if alpha > 1 else math.nan
        var = _attr(law, "var")
        if var is None:
            var = L.expect(lambda u: u * u, mean, 1.0) if alpha > 2 else math.inf
        if alpha <= 1 or math.isnan(mean):
            mean = math.nan
        if alpha <= 2 or not math.isfinite(var):
            var = math.inf
        return MFunctional(mean, math.nan, var, convention)

    if _is_quantile_loss(loss):
        tau = _tau(loss)
        q = _ppf(law, tau)
        f = _pdf(law, q)
        avar = math.inf if f <= 0.0 else tau * (1.0 - tau) / f**2
        return MFunctional(q, math.nan, avar, convention)

    if not loss.smooth:
        raise NotImplementedError(
            f"{loss!r}: psi has jumps; only the absolute and check losses are handled among "
            "non-smooth losses"
        )

    med, width = L.median, L.unit
    kinks = _kinks(loss)
    growth = _psi_growth(loss)

    if convention == "estimated":

        def s_of(T: float) -> float:
            return L.mad_about(T) / MAD_CONSTANT

        def h(T: float) -> float:
            return L.expect(loss.psi, T, s_of(T), kinks)

        T = _solve_root(h, med, width)
        s = s_of(T)
    else:
        s = L.mad_about(med) / MAD_CONSTANT if convention == "mad" else float(scale)
        T = _solve_root(lambda t: L.expect(loss.psi, t, s, kinks), med, width)

    A = L.expect(loss.psi_prime, T, s, kinks)
    B = L.expect(lambda u: loss.psi_prime(u) * u, T, s, kinks)
    if 2.0 * growth >= alpha:  # E psi^2 diverges (e.g. unbounded psi, infinite variance)
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

    c = MAD_CONSTANT
    a, b = _pdf(law, T + c * s), _pdf(law, T - c * s)
    cab = c * (a + b)
    D = A * cab - B * (a - b)
    e_psi_in = L.expect(
        lambda u: loss.psi(u) * (np.abs(u) <= c), T, s, (*kinks, -c, c)
    )  # E[psi(u) 1{|u| <= c}]
    avar = (cab**2 * s * s * e_psi2 + 2.0 * cab * B * s * e_psi_in + 0.25 * B * B) / D**2
    return MFunctional(T, s, float(avar), convention, e_psi2, A, B)


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


# ----------------------------------------------------------------------------------------
# information, bounds, efficiencies
# ----------------------------------------------------------------------------------------
def _edge_info_diverges(law: Any, edge: float, inward: float, unit: float) -> bool:
    """At a finite support edge, (f')^2/f ~ d^(p-2) for f ~ d^p: integrable only if p > 1."""
    d1, d2 = 1e-7 * unit, 2e-7 * unit
    f1, f2 = _pdf(law, edge + inward * d1), _pdf(law, edge + inward * d2)
    if f1 <= 0.0 or f2 <= 0.0:  # vanishes faster than any power there
        return False
    p = math.log(f2 / f1) / math.log(2.0)
    return p <= 1.0 + 1e-3


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
    _check_law(law)
    closed = _attr(law, "fisher_information")
    if closed is not None:
        return closed
    L = _Law(law)
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
        d = np.minimum(np.abs(x - med), np.minimum(x - lo, hi - x))
        h = np.maximum(1e-5 * d, 1e-9 * unit)
        with np.errstate(all="ignore"):
            lp_minus = np.asarray(logpdf(x - h), dtype=float)
            lp_plus = np.asarray(logpdf(x + h), dtype=float)
            score = (lp_plus - lp_minus) / (2.0 * h)
            out = score * score * f
        # within h of a support edge (measure ~h, negligible) or where f underflows
        return np.where((f > 0.0) & np.isfinite(out), out, 0.0)

    return _integrate(g, L.points(), unit)


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


# ----------------------------------------------------------------------------------------
# Huber's minimax constant, stable rate of OLS
# ----------------------------------------------------------------------------------------
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
