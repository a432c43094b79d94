r"""Covariance kinds as named strategies in a registry.

Every kind computes :math:`V = B\,M\,B` from a *bread* :math:`B` and a *meat* :math:`M`
(a kind without meat returns its bread). Estimators list the kinds they support and hand a
:class:`CovContext` to :func:`covariance`; nothing here knows which estimator is calling.

All strategies are batched: the arrays of a context may carry leading replication axes
(``X`` of shape ``(n, k)`` shared, or ``(R, n, k)``; ``resid`` of shape ``(R, n)``), so the
same code computes one fit's covariance and the standard errors of thousands of Monte Carlo
replications in :meth:`fit_many`.

New kinds register themselves with :func:`register`; quantile-regression and MM kinds live
beside their estimators.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._linalg import GRAM_COND_MAX, gram_inverse, leverage, weighted_gram, xtx_inv

__all__ = [
    "GRAM_COND_MAX",
    "REGISTRY",
    "CovContext",
    "CovarianceKind",
    "covariance",
    "gram_inverse",
    "hac_default_maxlags",
    "leverage",
    "register",
    "weighted_gram",
    "xtx_inv",
]


@dataclass(frozen=True)
class CovContext:
    """What a covariance strategy may read about a fit.

    Attributes
    ----------
    X : ndarray (..., n, k)
        Design including the constant column.
    resid : ndarray (..., n)
        Residuals ``y - X @ beta``.
    scale : float or ndarray (...)
        The fit's scale (OLS: :math:`s = \\sqrt{RSS/(n-k)}`; M-estimators: the robust scale).
    loss : Loss or None
        The loss of an M-estimator.
    scores : ndarray (..., n, q) or None
        Per-observation estimating-function contributions :math:`s_i(\\hat\\theta)`.
    jacobian : ndarray (..., q, q) or None
        :math:`J = -\\sum_i \\partial s_i / \\partial\\theta^\\top`; for a likelihood, the observed
        information.
    options : mapping
        Kind-specific options (``maxlags``, ``tau``, ``y``, ``refit``, ``random_state``, ...).
    gram_inv : ndarray (..., k, k) or None
        :math:`(X^\\top X)^{-1}` if the estimator has it; see :meth:`xtx_inverse`.
    """

    X: np.ndarray
    resid: np.ndarray
    scale: Any = 1.0
    loss: Any = None
    scores: np.ndarray | None = None
    jacobian: np.ndarray | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    gram_inv: np.ndarray | None = field(default=None, repr=False, compare=False)

    def xtx_inverse(self) -> np.ndarray:
        """:math:`(X^\\top X)^{-1}` (..., k, k), computed once per context and shared by kinds.

        An estimator that already has it (from its least-squares step) passes ``gram_inv``.
        """
        if self.gram_inv is None:
            object.__setattr__(self, "gram_inv", xtx_inv(self.X))
        return self.gram_inv

    @property
    def nobs(self) -> int:
        return self.X.shape[-2]

    @property
    def k(self) -> int:
        return self.X.shape[-1]


class CovarianceKind(ABC):
    """A covariance estimator :math:`V = B M B`."""

    name: ClassVar[str]
    #: one-line description shown in summaries and docs
    description: ClassVar[str] = ""
    #: reads ``ctx.scores`` or ``ctx.jacobian`` (estimators may skip computing them otherwise)
    uses_scores: ClassVar[bool] = True

    @abstractmethod
    def bread(self, ctx: CovContext) -> np.ndarray:
        """The bread :math:`B` (..., q, q)."""

    def meat(self, ctx: CovContext) -> np.ndarray | None:
        """The meat :math:`M` (..., q, q); ``None`` when :math:`V = B`."""
        return None

    def compute(self, ctx: CovContext) -> np.ndarray:
        """Covariance matrix of the parameter estimates (..., q, q)."""
        b = self.bread(ctx)
        m = self.meat(ctx)
        if m is None:
            return b
        return b @ m @ np.swapaxes(b, -1, -2)


REGISTRY: dict[str, CovarianceKind] = {}


def register(cls: type[CovarianceKind]) -> type[CovarianceKind]:
    """Class decorator adding a kind to :data:`REGISTRY` under ``cls.name``."""
    REGISTRY[cls.name] = cls()
    return cls


def covariance(kind: str, ctx: CovContext) -> np.ndarray:
    """Compute covariance ``kind`` for the fit described by ``ctx``."""
    try:
        strategy = REGISTRY[kind]
    except KeyError:
        raise ValueError(f"unknown covariance kind {kind!r}; known: {sorted(REGISTRY)}") from None
    return strategy.compute(ctx)


# --------------------------------------------------------------------------------------
# shared pieces


def _as_batch_scalar(s: Any) -> np.ndarray:
    return np.asarray(s, dtype=float)[..., None, None]


def hac_default_maxlags(n: int) -> int:
    """Newey–West (1994) rule of thumb :math:`\\lfloor 4 (n/100)^{2/9} \\rfloor`."""
    return int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


# --------------------------------------------------------------------------------------
# least-squares kinds


@register
class Classical(CovarianceKind):
    """:math:`s^2 (X^\\top X)^{-1}`, valid under homoscedastic errors."""

    name = "classical"
    description = "s^2 (X'X)^-1"
    uses_scores = False

    def bread(self, ctx):
        return _as_batch_scalar(ctx.scale) ** 2 * ctx.xtx_inverse()


class _HC(CovarianceKind):
    """White (1980) / MacKinnon & White (1985) heteroscedasticity-consistent sandwich.

    :math:`(X^\\top X)^{-1} \\left(\\sum_i \\omega_i r_i^2 x_i x_i^\\top\\right) (X^\\top X)^{-1}`.
    """

    uses_scores = False

    def bread(self, ctx):
        return ctx.xtx_inverse()

    def omega(self, ctx: CovContext, bread: np.ndarray) -> np.ndarray:
        return np.ones_like(ctx.resid)

    def compute(self, ctx):
        b = self.bread(ctx)
        w = self.omega(ctx, b) * ctx.resid**2
        return b @ weighted_gram(ctx.X, w) @ b


@register
class HC0(_HC):
    name = "HC0"
    description = "White (1980)"


@register
class HC1(_HC):
    name = "HC1"
    description = "HC0 * n/(n-k)"

    def omega(self, ctx, bread):
        return np.full_like(ctx.resid, ctx.nobs / (ctx.nobs - ctx.k))


@register
class HC2(_HC):
    name = "HC2"
    description = "r_i^2/(1-h_i)"

    def omega(self, ctx, bread):
        return 1.0 / (1.0 - leverage(ctx.X, bread))


@register
class HC3(_HC):
    name = "HC3"
    description = "r_i^2/(1-h_i)^2"

    def omega(self, ctx, bread):
        return 1.0 / (1.0 - leverage(ctx.X, bread)) ** 2


@register
class HAC(CovarianceKind):
    """Newey & West (1987): Bartlett-kernel long-run variance of the scores :math:`x_i r_i`.

    Lags ``options["maxlags"]``, default :func:`hac_default_maxlags`. No small-sample
    correction (as statsmodels' ``cov_type="HAC"`` default).
    """

    name = "HAC"
    description = "Newey-West, Bartlett kernel"
    uses_scores = False

    def bread(self, ctx):
        return ctx.xtx_inverse()

    def meat(self, ctx):
        maxlags = ctx.options.get("maxlags")
        if maxlags is None:
            maxlags = hac_default_maxlags(ctx.nobs)
        g = ctx.X * ctx.resid[..., None]  # (..., n, k) scores
        s = np.swapaxes(g, -1, -2) @ g
        for lag in range(1, int(maxlags) + 1):
            w = 1.0 - lag / (maxlags + 1.0)
            gamma = np.swapaxes(g[..., lag:, :], -1, -2) @ g[..., :-lag, :]
            s = s + w * (gamma + np.swapaxes(gamma, -1, -2))
        return s


# --------------------------------------------------------------------------------------
# M-estimation and likelihood kinds


@register
class Sandwich(CovarianceKind):
    """Huber (1967) / White (1982) sandwich :math:`J^{-1}(\\sum_i s_i s_i^\\top)J^{-1}`.

    Uses the per-observation scores and their Jacobian supplied by the estimator. For the
    squared loss it equals HC0; for a quasi-likelihood it is robust to the misspecified density.
    """

    name = "sandwich"
    description = "J^-1 (sum s s') J^-1"

    def bread(self, ctx):
        if ctx.jacobian is None or ctx.scores is None:
            raise ValueError("the sandwich kind needs the estimator's scores and jacobian")
        return np.linalg.inv(ctx.jacobian)

    def meat(self, ctx):
        return np.swapaxes(ctx.scores, -1, -2) @ ctx.scores


@register
class ObservedInformation(CovarianceKind):
    """Inverse observed information :math:`J^{-1}` (correct when the likelihood is right)."""

    name = "oim"
    description = "inverse observed information"

    def bread(self, ctx):
        if ctx.jacobian is None:
            raise ValueError("the oim kind needs the estimator's observed information")
        return np.linalg.inv(ctx.jacobian)


@register
class HuberH1(CovarianceKind):
    r"""Huber's (1981, eq. 7.6.5) corrected covariance for M-estimators, as MASS ``rlm``'s summary.

    .. math::
        V = K^2 \frac{\sum_i\psi(u_i)^2/(n-k)}{\bar{\psi'}^2} s^2 (X^\top X)^{-1},
        \qquad K = 1 + \frac{k}{n}\frac{\widehat{\operatorname{Var}}(\psi')}{\bar{\psi'}^2},

    with :math:`u_i = r_i/s`, :math:`\bar{\psi'}` the mean of :math:`\psi'(u_i)` and the
    variance computed with the :math:`n-1` denominator (as MASS does).
    """

    name = "H1"
    description = "Huber's corrected M covariance"
    uses_scores = False

    def bread(self, ctx):
        s = np.asarray(ctx.scale, dtype=float)
        u = ctx.resid / s[..., None]
        n, k = ctx.nobs, ctx.k
        psi = ctx.loss.psi(u)
        dpsi = ctx.loss.psi_prime(u)
        m = dpsi.mean(axis=-1)
        var = dpsi.var(axis=-1, ddof=1)
        kappa = 1.0 + (k / n) * var / m**2
        factor = kappa**2 * (psi**2).sum(axis=-1) / (n - k) / m**2 * s**2
        return factor[..., None, None] * ctx.xtx_inverse()
