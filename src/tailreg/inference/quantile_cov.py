r"""Covariance kinds of quantile regression, following R quantreg's ``summary.rq``.

Under i.i.d. errors with density :math:`f`, :math:`\sqrt n(\hat\beta(\tau) - \beta(\tau)) \to
N(0, \tau(1-\tau) s(\tau)^2 Q^{-1})` with the *sparsity* :math:`s(\tau) = 1/f(F^{-1}(\tau))`
(Koenker & Bassett 1978); with conditional densities :math:`f_i` it is the sandwich
:math:`\tau(1-\tau) H^{-1} J H^{-1}`, :math:`J = \sum x_i x_i^\top`,
:math:`H = \sum f_i x_i x_i^\top` (Koenker 2005, chapter 3). The kinds differ in how they
estimate :math:`s` or :math:`f_i`:

``iid``
    Koenker–Bassett difference-quotient sparsity from the residual order statistics.
``nid``
    Hendricks & Koenker (1992): :math:`f_i = 2h / x_i^\top(\hat\beta(\tau+h) - \hat\beta(\tau-h))`.
``ker``
    Powell (1991): Gaussian-kernel :math:`f_i = \phi(r_i/h_n)/h_n`.
``bootstrap``
    xy, Parzen–Wei–Ying or wild bootstrap (:mod:`.bootstrap`).
``cluster``
    Parente & Santos Silva (2016) cluster-robust sandwich (:class:`QuantileCluster`).

The context's ``options`` carry ``tau``, ``y``, ``solver`` (the LP solver of the refits, see
:mod:`tailreg.solvers.quantile_lp`), ``bandwidth`` (``"hs"`` or ``"bofinger"``), ``n_boot`` and
``seed`` (a ``SeedSequence``). Batched contexts (R fits): ``ker`` broadcasts over them, ``iid``
and ``nid`` have vectorised :meth:`~CovarianceKind.compute_many` hooks (their refits solved
together), ``bootstrap`` is computed one fit at a time (its refits batched).

Zero cuts (a difference from R). ``summary.rq`` counts residuals below the absolute
:math:`\sqrt{\epsilon_{mach}}` as zero (``iid``) and shifts the ``nid`` quantile differences
by it, so its standard errors change with the units of y (by 7–146% between y and
:math:`10^{k}y`). Here both cuts are :math:`\sqrt{\epsilon_{mach}}` times a scale of the data
(:func:`zero_unit`: the median absolute residual for ``iid``, the median absolute
difference for ``nid``), which makes every kind equivariant to the units of y and invariant
to the units of the columns of X. On unit-scale data the counts of zero residuals are the
same as R's and the ``nid`` shift moves the densities by about 1e-8 relative, so the R
references are matched to 1e-6.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from .._linalg import Design, xtx_inv
from ..solvers.quantile_lp import solve_quantile_many, solve_quantile_one
from .bootstrap import check_overflow  # (importing .bootstrap registers its kind)
from .covariance import CovarianceKind, CovContext, register

__all__ = [
    "BANDWIDTHS",
    "bofinger",
    "hall_sheather",
    "sparsity_iid",
]

#: ``summary.rq``'s zero-residual threshold and guard, ``.Machine$double.eps^(1/2)``, used
#: here relative to a scale of the data (:func:`zero_unit`)
_EPS = float(np.sqrt(np.finfo(float).eps))


def zero_unit(v: np.ndarray) -> np.ndarray:
    r"""The unit of the relative zero cuts: the median of :math:`|v|` along the last axis.

    Falls back to the mean and then the largest :math:`|v|` when the median is 0 (more than
    half the values zero), and to 1 when all are zero. Positively homogeneous, so the cut
    :math:`\sqrt{\epsilon_{mach}}\,\mathrm{unit}` follows the units of the data, and unmoved
    by a few gross values.
    """
    a = np.abs(np.asarray(v, dtype=float))
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.median(a, axis=-1)
        for alt in (np.mean(a, axis=-1), np.max(a, axis=-1)):
            out = np.where(out > 0.0, out, alt)
    return np.where((out > 0.0) & np.isfinite(out), out, 1.0)


def hall_sheather(tau: float, n: int, alpha: float = 0.05) -> float:
    r"""Hall & Sheather (1988) bandwidth, in probability units (quantreg ``bandwidth.rq``, hs=TRUE).

    .. math::
        h_n = n^{-1/3} z_{1-\alpha/2}^{2/3}
        \left(\frac{1.5\,\phi(\Phi^{-1}(\tau))^2}{2\Phi^{-1}(\tau)^2 + 1}\right)^{1/3}.
    """
    x0 = stats.norm.ppf(tau)
    f0 = stats.norm.pdf(x0)
    return float(
        n ** (-1.0 / 3.0)
        * stats.norm.ppf(1.0 - alpha / 2.0) ** (2.0 / 3.0)
        * (1.5 * f0**2 / (2.0 * x0**2 + 1.0)) ** (1.0 / 3.0)
    )


def bofinger(tau: float, n: int) -> float:
    r"""Bofinger (1975) bandwidth (quantreg ``bandwidth.rq``, hs=FALSE).

    :math:`h_n = n^{-1/5}(4.5\,\phi(x_0)^4/(2x_0^2+1)^2)^{1/5}` with :math:`x_0 = \Phi^{-1}(\tau)`.
    """
    x0 = stats.norm.ppf(tau)
    f0 = stats.norm.pdf(x0)
    return float(n**-0.2 * (4.5 * f0**4 / (2.0 * x0**2 + 1.0) ** 2) ** 0.2)


BANDWIDTHS: dict[str, Callable[[float, int], float]] = {"hs": hall_sheather, "bofinger": bofinger}


def _bandwidth(ctx: CovContext) -> float:
    return BANDWIDTHS[ctx.options.get("bandwidth", "hs")](ctx.options["tau"], ctx.nobs)


def _refit_one(X: np.ndarray, y: np.ndarray, tau: float, solver: str) -> np.ndarray:
    """A regression quantile refit (the nid/iid/bootstrap kinds; module level so it pickles)."""
    return solve_quantile_one(X, y, tau, solver).beta


def _refit_many(X: np.ndarray, Y: np.ndarray, tau: float, solver: str) -> np.ndarray:
    """Batched refits of the iid/nid kinds: the single fits' solutions even when not unique."""
    return solve_quantile_many(X, Y, tau, solver, unique=True)[0]


def _refit(ctx: CovContext) -> Callable[[np.ndarray, np.ndarray, float], np.ndarray]:
    return partial(_refit_one, solver=ctx.options.get("solver", "highs"))


def sparsity_iid(
    resid: np.ndarray,
    k: int,
    tau: float,
    h: float,
    refit: Callable[[np.ndarray, np.ndarray, float], np.ndarray],
) -> float:
    r"""Koenker–Bassett difference-quotient sparsity, exactly as ``summary.rq(se="iid")``.

    Parameters
    ----------
    resid : ndarray (n,)
        Residuals of the regression quantile fit.
    k : int
        Number of coefficients.
    tau : float
    h : float
        Bandwidth in probability units (:func:`hall_sheather` or :func:`bofinger`).
    refit : callable
        Regression-quantile solver ``(X, y, tau) -> beta``.

    Returns
    -------
    float
        :math:`\hat s(\tau)`.

    Notes
    -----
    With :math:`p_z` residuals (the interpolated basis) below
    :math:`\sqrt{\epsilon_{mach}}` times their median absolute value (:func:`zero_unit`; R:
    the absolute :math:`\sqrt{\epsilon_{mach}}`) in absolute value and
    :math:`m = \max(k+1, \lceil n h\rceil)`, take the residuals ranked
    :math:`p_z+1, \dots, p_z+m+1` by absolute value, sort them, and regress them by median
    regression on :math:`j/(n-k)` for those ranks :math:`j`; the slope estimates the derivative of
    the residual quantile function, :math:`s(\tau)` (Koenker 2005, chapter 3; the
    :math:`n - k` accounts for the :math:`k` zero residuals).
    """
    n = resid.shape[0]
    pz = int(np.sum(np.abs(resid) < _EPS * zero_unit(resid)))
    m = max(k + 1, int(np.ceil(n * h)))
    ranks = np.arange(pz + 1, m + pz + 2)
    if ranks[-1] > n:
        raise ValueError(
            f"the iid sparsity needs {ranks[-1]} residuals but n_samples={n}; "
            "use the 'ker' or 'bootstrap' kind"
        )
    by_size = resid[np.argsort(np.abs(resid), kind="stable")]
    ordered = np.sort(by_size[ranks - 1])
    xt = ranks / (n - k)
    design = np.column_stack([np.ones_like(xt), xt])
    return float(refit(design, ordered, 0.5)[1])


class _QuantileKind(CovarianceKind):
    """Base of the quantile kinds: single-fit code (a batched context goes to the hook)."""

    def compute(self, ctx: CovContext) -> np.ndarray:
        if ctx.batched:
            return self.compute_many(ctx)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                cov = self._compute_one(ctx)
        except (OverflowError, FloatingPointError):
            cov = np.full((ctx.k, ctx.k), np.inf)
        return check_overflow(np.asarray(cov, dtype=float), ctx, self.name)

    def _compute_one(self, ctx: CovContext) -> np.ndarray:
        return super().compute(ctx)

    def compute_many(self, ctx: CovContext) -> np.ndarray:
        """The R covariances; NaN for a fit whose covariance overflowed (huge units)."""
        with np.errstate(over="ignore", invalid="ignore"):
            cov = np.array(self._many(ctx), dtype=float)
        cov[~np.all(np.isfinite(cov), axis=(-2, -1))] = np.nan
        return cov

    def _many(self, ctx: CovContext) -> np.ndarray:
        return CovarianceKind.compute_many(self, ctx)


@register
class QuantileIID(_QuantileKind):
    r""":math:`\tau(1-\tau)\hat s^2 (X^\top X)^{-1}`, :math:`\hat s` from :func:`sparsity_iid`.

    Koenker & Bassett (1978); ``summary.rq(se="iid")``.
    """

    name = "iid"
    description = "Koenker-Bassett sparsity, iid errors"

    def bread(self, ctx: CovContext) -> np.ndarray:
        tau = ctx.options["tau"]
        s = sparsity_iid(ctx.resid, ctx.k, tau, _bandwidth(ctx), _refit(ctx))
        return s**2 * tau * (1.0 - tau) * ctx.xtx_inverse()

    def _many(self, ctx: CovContext) -> np.ndarray:
        """:func:`sparsity_iid` of R fits at once; NaN where it would raise or a fit failed.

        The sparsity's median regressions share their design within the fits with the same
        number of zero residuals, so they are solved in groups by the batched solver; only
        the :math:`m + p_z + 1` smallest residuals are sorted.
        """
        resid = ctx.resid
        R, n = resid.shape
        k = ctx.k
        tau = ctx.options["tau"]
        m = max(k + 1, int(np.ceil(n * _bandwidth(ctx))))
        size = np.abs(resid)
        pz = np.sum(size < _EPS * zero_unit(resid)[:, None], axis=1)
        # partition, then a stable sort of the candidates taken in index order: the order of
        # the single fit's stable argsort, ties included
        top = min(n, m + int(pz.max()) + 1)
        cand = np.sort(np.argpartition(size, top - 1, axis=1)[:, :top], axis=1)
        order = np.take_along_axis(
            cand, np.argsort(np.take_along_axis(size, cand, 1), axis=1, kind="stable"), 1
        )
        by_size = np.take_along_axis(resid, order, 1)
        sparsity = np.full(R, np.nan)
        finite = np.all(np.isfinite(resid), axis=1)
        solver = ctx.options.get("solver", "highs")
        for z in np.unique(pz):
            rows = np.flatnonzero((pz == z) & finite)
            ranks = np.arange(z + 1, m + z + 2)
            if rows.size == 0 or ranks[-1] > n:
                continue
            ordered = np.sort(by_size[np.ix_(rows, ranks - 1)], axis=1)
            design = np.column_stack([np.ones(ranks.size), ranks / (n - k)])
            sparsity[rows] = _refit_many(design, ordered, 0.5, solver)[:, 1]
        return sparsity[:, None, None] ** 2 * tau * (1.0 - tau) * xtx_inv(ctx.X)


class _QuantileSandwich(_QuantileKind):
    r"""Huber sandwich :math:`\tau(1-\tau)(X^\top F X)^{-1} X^\top X (X^\top F X)^{-1}`."""

    def density(self, ctx: CovContext) -> np.ndarray:
        """Estimated conditional densities :math:`f_i` at the fitted quantile (n,)."""
        raise NotImplementedError

    def _probability_bandwidth(self, ctx: CovContext) -> float:
        tau = ctx.options["tau"]
        h = _bandwidth(ctx)
        if tau + h > 1.0 or tau - h < 0.0:
            raise ValueError(
                f"tau +/- bandwidth leaves (0, 1) (tau={tau}, h={h:.4g}, n_samples={ctx.nobs}); "
                f"the {self.name!r} kind needs more observations or a tau nearer 0.5"
            )
        return h

    def bread(self, ctx: CovContext) -> np.ndarray:
        f = self.density(ctx)
        return xtx_inv(np.sqrt(f)[..., None] * ctx.X)

    def meat(self, ctx: CovContext) -> np.ndarray:
        tau = ctx.options["tau"]
        return tau * (1.0 - tau) * (np.swapaxes(ctx.X, -1, -2) @ ctx.X)


@register
class QuantileNID(_QuantileSandwich):
    r"""Hendricks & Koenker (1992) sandwich, as ``summary.rq(se="nid")``.

    :math:`f_i = \max\{0, 2h / (x_i^\top(\hat\beta(\tau+h) - \hat\beta(\tau-h)) - \epsilon)\}`
    with the bandwidth :math:`h` in probability units and
    :math:`\epsilon = \sqrt{\epsilon_{mach}}\,\mathrm{median}_i|x_i^\top(\hat\beta(\tau+h) -
    \hat\beta(\tau-h))|` (R: :math:`\sqrt{\epsilon_{mach}}`, see the module notes); a
    warning counts non-positive differences (crossing quantiles).
    """

    name = "nid"
    description = "Hendricks-Koenker sandwich"

    def density(self, ctx: CovContext) -> np.ndarray:
        tau = ctx.options["tau"]
        h = self._probability_bandwidth(ctx)
        refit, y = _refit(ctx), ctx.options["y"]
        dyhat = ctx.X @ (refit(ctx.X, y, tau + h) - refit(ctx.X, y, tau - h))
        bad = int(np.sum(dyhat <= 0))
        if bad:
            warnings.warn(f"nid covariance: {bad} non-positive fis", RuntimeWarning, stacklevel=5)
        return np.maximum(0.0, 2.0 * h / (dyhat - _EPS * zero_unit(dyhat)))

    def _many(self, ctx: CovContext) -> np.ndarray:
        """The sandwich of R fits at once, their refits at :math:`\tau \\pm h` solved together.

        NaN where the single kind raises (:math:`\tau \\pm h` outside (0, 1)) or a density is
        not finite; one ``RuntimeWarning`` counts the non-positive differences of all fits.
        """
        X, Y = ctx.X, np.asarray(ctx.options["y"])
        R, k = Y.shape[0], ctx.k
        tau = ctx.options["tau"]
        h = _bandwidth(ctx)
        out = np.full((R, k, k), np.nan)
        if tau + h > 1.0 or tau - h < 0.0:
            return out
        solver = ctx.options.get("solver", "highs")
        design = Design(X)
        diff = _refit_many(X, Y, tau + h, solver) - _refit_many(X, Y, tau - h, solver)
        dyhat = design.fitted(diff)
        bad = int(np.sum(dyhat <= 0))
        if bad:
            warnings.warn(
                f"nid covariance: {bad} non-positive fis in {R} fits", RuntimeWarning, stacklevel=5
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.maximum(0.0, 2.0 * h / (dyhat - _EPS * zero_unit(dyhat)[:, None]))
        ok = np.all(np.isfinite(f), axis=1)
        if not ok.any():
            return out
        Xo = design.take(ok).X
        try:
            bread = xtx_inv(np.sqrt(f[ok])[:, :, None] * Xo)
        except np.linalg.LinAlgError:
            return out
        meat = tau * (1.0 - tau) * (np.swapaxes(Xo, -1, -2) @ Xo)
        out[ok] = bread @ meat @ np.swapaxes(bread, -1, -2)
        return out


@register
class QuantileKernel(_QuantileSandwich):
    r"""Powell (1991) kernel sandwich, as ``summary.rq(se="ker")``.

    :math:`f_i = \phi(r_i/h_n)/h_n` with
    :math:`h_n = (\Phi^{-1}(\tau+h) - \Phi^{-1}(\tau-h))\min(\mathrm{sd}(r), \mathrm{IQR}(r)/1.34)`
    (sd with :math:`n-1`, IQR from R's default type-7 quantiles).
    """

    name = "ker"
    description = "Powell kernel sandwich"

    def compute(self, ctx: CovContext) -> np.ndarray:
        # broadcast over the replication axis (no refits), unlike the other kinds
        if ctx.batched:
            return CovarianceKind.compute(self, ctx)
        return super().compute(ctx)

    def density(self, ctx: CovContext) -> np.ndarray:
        tau = ctx.options["tau"]
        h = self._probability_bandwidth(ctx)
        r = ctx.resid
        q25, q75 = np.quantile(r, [0.25, 0.75], axis=-1)
        spread = np.minimum(np.std(r, ddof=1, axis=-1), (q75 - q25) / 1.34)
        hn = ((stats.norm.ppf(tau + h) - stats.norm.ppf(tau - h)) * spread)[..., None]
        return stats.norm.pdf(r / hn) / hn


class QuantileCluster(_QuantileKind):
    r"""Parente & Santos Silva (2016) cluster-robust covariance of a regression quantile.

    .. math::
        V = \hat H^{-1}\Big(\sum_g s_g s_g^\top\Big)\hat H^{-1},\qquad
        s_g = \sum_{i\in g} \psi_\tau(r_i)\,x_i,\qquad
        \hat H = \frac{1}{2h_n}\sum_i 1\{|r_i|\le h_n\}\,x_i x_i^\top,

    :math:`\psi_\tau(u) = \tau - 1\{u < 0\}`, the uniform-kernel (Powell 1991) estimate of
    :math:`\sum_i f_i(0)x_i x_i^\top` with the ``ker`` kind's bandwidth
    :math:`h_n = (\Phi^{-1}(\tau+h) - \Phi^{-1}(\tau-h))\min(\mathrm{sd}(r), \mathrm{IQR}(r)/1.34)`;
    no small-sample factor (as the paper). Valid when the clusters are independent and
    their number grows, whatever the dependence within a cluster; with one observation per
    cluster it is Powell's heteroscedasticity-robust sandwich with a uniform kernel.

    Not registered itself: the one ``"cluster"`` kind (:class:`tailreg.inference.cluster.Cluster`)
    hands quantile fits (their context carries ``tau``) to it, so ``with_cov("cluster")`` means
    the same thing for every estimator. Options: ``groups`` (n,) cluster labels, required
    (``with_cov("cluster", groups=...)``, or the groups a formula fit recorded). With weights
    :math:`v_i` the scaled rows are used, as for every quantile kind
    (:math:`\psi_\tau(v_ir_i) = \psi_\tau(r_i)`).
    """

    name = "cluster"
    description = "Parente-Santos Silva cluster-robust"
    uses_scores = False
    batched = False
    options: ClassVar[dict[str, Any]] = {"groups": None}

    def _compute_one(self, ctx: CovContext) -> np.ndarray:
        groups = ctx.options.get("groups")
        if groups is None:
            raise ValueError(
                "the 'cluster' covariance kind needs groups= (one label per observation), "
                "e.g. result.with_cov('cluster', groups=g)"
            )
        g = np.asarray(groups)
        if g.shape != (ctx.nobs,):
            raise ValueError(f"groups must have shape ({ctx.nobs},), got {g.shape}")
        labels, inverse = np.unique(g, return_inverse=True)
        if labels.size < 2:
            raise ValueError("the 'cluster' covariance kind needs at least 2 clusters")
        tau = ctx.options["tau"]
        h = _QuantileSandwich._probability_bandwidth(self, ctx)  # type: ignore[arg-type]
        r, X = ctx.resid, ctx.X
        q25, q75 = np.quantile(r, [0.25, 0.75])
        hn = (stats.norm.ppf(tau + h) - stats.norm.ppf(tau - h)) * min(
            float(np.std(r, ddof=1)), float(q75 - q25) / 1.34
        )
        if not hn > 0:
            raise ValueError("cluster covariance: the residuals have no spread (bandwidth 0)")
        inside = (np.abs(r) <= hn).astype(float)
        H = (X * inside[:, None]).T @ X / (2.0 * hn)
        # the interpolated residuals are 0 (psi = tau), not the sign of their rounding error
        r = np.where(np.abs(r) < _EPS * zero_unit(r), 0.0, r)
        psi = tau - (r < 0.0)
        S = np.zeros((labels.size, ctx.k))
        np.add.at(S, inverse, psi[:, None] * X)
        Hinv = np.linalg.inv(H)
        return Hinv @ (S.T @ S) @ Hinv

    def bread(self, ctx: CovContext) -> np.ndarray:
        return self._compute_one(ctx)
