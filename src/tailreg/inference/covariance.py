r"""Covariance kinds as named strategies in a registry, and the batched standard errors.

Every kind computes :math:`V = B\,M\,B` from a *bread* :math:`B` and a *meat* :math:`M`
(a kind without meat returns its bread). Estimators list the kinds they support and hand a
:class:`CovContext` to :func:`covariance`; nothing here knows which estimator is calling.

Kinds are batched: the arrays of a context may carry a leading replication axis (``X`` of
shape ``(n, k)`` shared, or ``(R, n, k)``; ``resid`` of shape ``(R, n)``), so the same code
computes one fit's covariance and the standard errors of thousands of Monte Carlo
replications in ``fit_many``. A kind whose formula broadcasts over that axis does nothing
special (:attr:`CovarianceKind.batched`); one that needs per-fit work either overrides the
batched hook :meth:`CovarianceKind.compute_many` (the quantile ``iid`` and ``nid`` kinds) or
declares ``batched = False`` and is computed one fit at a time (``bootstrap``).
:func:`standard_errors` is the one routine through which every ``fit_many`` obtains its
standard errors, with one NaN policy.

New kinds register themselves with :func:`register`; the quantile kinds live in
:mod:`.quantile_cov` and MM's in :mod:`.robust_cov`.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

import numpy as np

from .._linalg import GRAM_COND_MAX, Design, gram_inverse, leverage, weighted_gram, xtx_inv
from .._typing import BoolArray, FloatArray
from ..exceptions import ConvergenceWarning

__all__ = [
    "GRAM_COND_MAX",
    "REGISTRY",
    "CovContext",
    "CovarianceKind",
    "case_count",
    "check_maxlags",
    "covariance",
    "gram_inverse",
    "hac_default_maxlags",
    "inv_jacobian",
    "leverage",
    "m_leverage",
    "register",
    "score_pieces",
    "standard_errors",
    "weighted_gram",
    "with_options",
    "xtx_inv",
]


@dataclass(frozen=True)
class CovContext:
    """What a covariance strategy may read about a fit (or about R fits, batched).

    Attributes
    ----------
    X : ndarray (n, k) or (R, n, k)
        Design including the constant column (shared by the R fits, or one per fit).
    resid : ndarray (n,) or (R, n)
        Residuals ``y - X @ beta``.
    scale : float or ndarray (R,)
        The fit's scale (OLS: :math:`s = \\sqrt{RSS/(n-k)}`; M-estimators: the robust scale).
    loss : Loss or None
        The loss of an M-estimator.
    scores : ndarray (..., n, q) or None
        Per-observation estimating-function contributions :math:`s_i(\\hat\\theta)`.
    jacobian : ndarray (..., q, q) or None
        :math:`J = -\\sum_i \\partial s_i / \\partial\\theta^\\top`; for a likelihood, the observed
        information.
    options : mapping
        Kind-specific options (``maxlags``, ``tau``, ``y``, ``solver``, ``seed``, ...).
    gram_inv : ndarray (..., k, k) or None
        :math:`(X^\\top X)^{-1}` if the estimator has it; see :meth:`xtx_inverse`.
    row_options : tuple of str
        The options whose values carry the replication axis first in a batched context
        (sliced by :meth:`take`); ``"y"`` by default.
    """

    X: np.ndarray
    resid: np.ndarray
    scale: Any = 1.0
    loss: Any = None
    scores: np.ndarray | None = None
    jacobian: np.ndarray | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    gram_inv: np.ndarray | None = field(default=None, repr=False, compare=False)
    row_options: tuple[str, ...] = ("y",)
    #: case (frequency) weights (n,) or (..., n), None for unweighted fits. With weights the
    #: ``scores`` stay per-observation unit contributions and ``jacobian`` is the weighted sum
    weights: np.ndarray | None = None
    #: batched refit ``(X (B, n, k) or (n, k), Y (B, n), sample_weight (B, n) or None) ->
    #: coef (B, k)`` of the estimator that made the fit (set at fit time; the bootstraps use it)
    refit: Callable[..., np.ndarray] | None = field(default=None, repr=False, compare=False)

    def xtx_inverse(self) -> np.ndarray:
        """:math:`(X^\\top X)^{-1}` (..., k, k), computed once per context and shared by kinds.

        An estimator that already has it (from its least-squares step) passes ``gram_inv``.
        """
        if self.gram_inv is None:
            object.__setattr__(self, "gram_inv", xtx_inv(self.X))
        assert self.gram_inv is not None
        return self.gram_inv

    @property
    def nobs(self) -> int:
        return int(self.X.shape[-2])

    @property
    def k(self) -> int:
        return int(self.X.shape[-1])

    @property
    def batched(self) -> bool:
        """The context describes R fits (``resid`` is (R, n))."""
        return self.resid.ndim > 1

    @property
    def n_fits(self) -> int:
        """R for a batched context, 1 otherwise."""
        return int(self.resid.shape[0]) if self.batched else 1

    def take(self, r: int) -> CovContext:
        """The context of fit ``r`` of a batched context (its replication axis removed)."""
        design = Design(self.X)

        def at(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[r]

        options = dict(self.options)
        for key in self.row_options:
            if key in options:
                options[key] = options[key][r]
        return replace(
            self,
            X=design.row(r),
            resid=self.resid[r],
            scale=self.scale if np.ndim(self.scale) == 0 else np.asarray(self.scale)[r],
            scores=at(self.scores),
            jacobian=at(self.jacobian),
            options=options,
            gram_inv=self.gram_inv if design.shared else at(self.gram_inv),
            weights=self.weights
            if self.weights is None or self.weights.ndim == 1
            else self.weights[r],
        )


class CovarianceKind(ABC):
    """A covariance estimator :math:`V = B M B`."""

    name: ClassVar[str]
    #: one-line description shown in summaries and docs
    description: ClassVar[str] = ""
    #: reads ``ctx.scores`` or ``ctx.jacobian`` (estimators may skip computing them otherwise)
    uses_scores: ClassVar[bool] = True
    #: :meth:`compute_many` handles R fits at once (by broadcasting :meth:`compute` over the
    #: replication axis, or by an override); False: one fit at a time
    batched: ClassVar[bool] = True
    #: the options a caller may pass (``result_.with_cov(kind, **options)``,
    #: ``result_.cov(kind, **options)``, :func:`covariance`), with their defaults; ``None``
    #: means "chosen by the kind" (e.g. the Newey–West rule of thumb for ``maxlags``)
    options: ClassVar[Mapping[str, Any]] = {}
    #: options whose default a :class:`~tailreg.inference.results.FitResult` takes from its
    #: ``extra`` (option name -> key of ``extra``), e.g. ``{"groups": "groups"}``
    options_from_extra: ClassVar[Mapping[str, str]] = {}
    #: options without which the kind cannot be computed (``cluster``: ``groups``); code that
    #: loops over an estimator's kinds without options (studies, ``fit_many`` defaults) skips
    #: kinds with requirements
    requires: ClassVar[tuple[str, ...]] = ()

    def check_options(self, options: Mapping[str, Any], ctx: CovContext) -> dict[str, Any]:
        """Validate caller options for the fit(s) of ``ctx``; return them normalised.

        An option the kind does not declare in :attr:`options` is a ``ValueError`` naming the
        accepted ones; the values are checked by :meth:`validate_options`.
        """
        unknown = [key for key in options if key not in self.options]
        if unknown:
            accepted = ", ".join(f"{k}={v!r}" for k, v in self.options.items()) or "no options"
            raise ValueError(
                f"covariance kind {self.name!r} does not accept option(s) {unknown}; "
                f"it accepts: {accepted}"
            )
        return self.validate_options(dict(options), ctx)

    def validate_options(self, options: dict[str, Any], ctx: CovContext) -> dict[str, Any]:
        """Check (and normalise) the values of known options; override per kind."""
        return options

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

    def compute_many(self, ctx: CovContext) -> np.ndarray:
        """Covariance matrices (R, q, q) of the R fits of a batched context (the batched hook).

        By default :meth:`compute` itself (its formulas broadcast), or, for a kind that is
        not :attr:`batched`, :meth:`compute` on each fit's context (:meth:`CovContext.take`).
        """
        if self.batched:
            return self.compute(ctx)
        return np.stack([self.compute(ctx.take(r)) for r in range(ctx.n_fits)])


REGISTRY: dict[str, CovarianceKind] = {}

_K = TypeVar("_K", bound=type[CovarianceKind])


def register(cls: _K) -> _K:
    """Class decorator adding a kind to :data:`REGISTRY` under ``cls.name``."""
    REGISTRY[cls.name] = cls()
    return cls


def _strategy(kind: str) -> CovarianceKind:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ValueError(f"unknown covariance kind {kind!r}; known: {sorted(REGISTRY)}") from None


def with_options(
    strategy: CovarianceKind, ctx: CovContext, options: Mapping[str, Any] | None
) -> CovContext:
    """``ctx`` with the caller's ``options`` for ``strategy`` checked and merged in.

    Caller options override the estimator's own (e.g. OLS's ``hac_maxlags`` as ``maxlags``).
    """
    if not options:
        return ctx
    checked = strategy.check_options(options, ctx)
    return replace(ctx, options={**ctx.options, **checked})


def covariance(kind: str, ctx: CovContext, options: Mapping[str, Any] | None = None) -> np.ndarray:
    """Compute covariance ``kind`` for the fit (or the R fits, batched) described by ``ctx``.

    ``options`` are the kind's caller options (:attr:`CovarianceKind.options`); an unknown
    one is a ``ValueError`` naming those the kind accepts.
    """
    strategy = _strategy(kind)
    ctx = with_options(strategy, ctx, options)
    return strategy.compute_many(ctx) if ctx.batched else strategy.compute(ctx)


def standard_errors(
    ctx: CovContext,
    kinds: Iterable[str],
    *,
    valid: BoolArray | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, FloatArray]:
    """Standard errors (R, q) of the R fits of a batched context, for each kind.

    The square roots of the covariance diagonals, computed for all R fits at once by the
    kind's :meth:`~CovarianceKind.compute_many`; when that raises (``ValueError``,
    ``LinAlgError``: one fit it cannot handle spoils the batch) or the kind is not
    :attr:`~CovarianceKind.batched`, one fit at a time.

    NaN policy (the same for every estimator): a fit gets NaN standard errors when it is not
    ``valid`` (a failed, exact or singular fit — its batched numbers are discarded, and it
    is skipped by the fit-at-a-time path) or when the kind cannot be computed for it (it
    raises for that fit, or the diagonal is negative or not finite). Floating-point warnings
    are silenced (the discarded fits raise them routinely), and so are the convergence
    warnings of refits in the fit-at-a-time path.

    Parameters
    ----------
    ctx : CovContext
        Batched: ``resid`` (R, n).
    kinds : iterable of str
    valid : ndarray of bool (R,), optional
        The fits whose standard errors are meaningful (default: all).
    options : mapping of kind to mapping, optional
        Caller options per kind (e.g. ``{"cluster": {"groups": g}, "HAC": {"maxlags": 2}}``),
        checked up front: a bad option is a ``ValueError``, not NaN standard errors.
    """
    R = ctx.n_fits
    ok = np.ones(R, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    options = options or {}
    out: dict[str, FloatArray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for kind in kinds:
            strategy = _strategy(kind)
            kctx = with_options(strategy, ctx, options.get(kind))
            se = None
            if strategy.batched:
                try:
                    se = np.sqrt(np.diagonal(strategy.compute_many(kctx), axis1=-2, axis2=-1))
                except (ValueError, np.linalg.LinAlgError):
                    se = None
            if se is None:
                se = _one_fit_at_a_time(strategy, kctx, ok)
            out[kind] = np.where(ok[:, None], se, np.nan)
    return out


def _one_fit_at_a_time(strategy: CovarianceKind, ctx: CovContext, ok: BoolArray) -> FloatArray:
    """Standard errors of the ``ok`` fits one by one; NaN where the kind raises."""
    rows: dict[int, FloatArray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for r in np.flatnonzero(ok):
            try:
                rows[int(r)] = np.sqrt(np.diag(strategy.compute(ctx.take(int(r)))))
            except (ValueError, np.linalg.LinAlgError):
                continue
    if rows:
        q = len(next(iter(rows.values())))
    else:
        q = ctx.jacobian.shape[-1] if ctx.jacobian is not None else ctx.k
    out = np.full((ctx.n_fits, q), np.nan)
    for i, se in rows.items():
        out[i] = se
    return out


# --------------------------------------------------------------------------------------
# shared pieces


def _as_batch_scalar(s: Any) -> np.ndarray:
    return np.asarray(s, dtype=float)[..., None, None]


def hac_default_maxlags(n: int) -> int:
    """Newey–West (1994) rule of thumb :math:`\\lfloor 4 (n/100)^{2/9} \\rfloor`."""
    return int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


# --------------------------------------------------------------------------------------
# the pieces of score-based kinds

#: diagonal dynamic range of a Jacobian beyond which it is inverted equilibrated
_EQUILIBRATE_RANGE = 1e16


def inv_jacobian(J: np.ndarray) -> np.ndarray:
    r""":math:`J^{-1}` (..., q, q), equilibrated when its diagonal spans many decades.

    A likelihood's information mixes units: for :math:`(\beta, \sigma^2)` the blocks scale
    as :math:`y^{-2}` and :math:`y^{-4}`, so for y in units of :math:`10^{-20}` the diagonal
    spans 40 decades and LU's partial pivoting picks a tiny cross term over the diagonal,
    losing every digit. Then :math:`J^{-1} = D(DJD)^{-1}D` with
    :math:`D = \operatorname{diag}(|J_{jj}|^{-1/2})`, which is exact in exact arithmetic and
    invariant to the units. A Jacobian whose diagonal ratio is at most
    ``_EQUILIBRATE_RANGE`` (1e16) is inverted directly: pivoting only goes wrong when a
    rounding-size cross term, about :math:`\epsilon\sqrt{J_{ii}J_{jj}}`, exceeds
    :math:`J_{ii}`, i.e. beyond a ratio of :math:`\epsilon^{-2}`; below the threshold the
    numbers of existing fits do not move.
    """
    plain = np.linalg.inv(J)
    d = np.abs(np.diagonal(J, axis1=-2, axis2=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        span = d.max(axis=-1) / d.min(axis=-1)
    bad = np.isfinite(span) & (span > _EQUILIBRATE_RANGE)
    if not np.any(bad):
        return plain
    Dv = 1.0 / np.sqrt(d)
    dd = Dv[..., :, None] * Dv[..., None, :]
    eq = np.linalg.inv(J * dd) * dd
    return np.where(bad[..., None, None], eq, plain)


def score_pieces(ctx: CovContext) -> tuple[np.ndarray, np.ndarray]:
    r"""The bread :math:`B` (..., q, q) and the scores :math:`s_i` (..., n, q) of a fit.

    With the estimator's scores and Jacobian (M-estimators, likelihoods):
    :math:`B = J^{-1}` and its scores, as the ``sandwich`` kind. Without (least squares):
    :math:`B = (X^\top V X)^{-1}` (:math:`V` the case weights, or the identity) and
    :math:`s_i = r_i x_i`.
    """
    if ctx.scores is not None and ctx.jacobian is not None:
        return inv_jacobian(ctx.jacobian), ctx.scores
    if ctx.weights is None:
        bread = ctx.xtx_inverse()
    else:
        bread = np.linalg.inv(weighted_gram(ctx.X, np.asarray(ctx.weights, dtype=float)))
    return bread, ctx.X * ctx.resid[..., None]


def case_count(ctx: CovContext) -> Any:
    r"""Observations counted with their case weights: n, or :math:`\sum_i v_i` (..., )."""
    if ctx.weights is None:
        return ctx.nobs
    return np.asarray(ctx.weights, dtype=float).sum(axis=-1)


def m_leverage(ctx: CovContext) -> np.ndarray:
    r"""Leverages :math:`h_i` (..., n) of the fit's last weighted least-squares step.

    :math:`h_i = W_i x_i^\top(\sum_j v_j W_j x_j x_j^\top)^{-1} x_i` with the robustness
    weights :math:`W_i = \psi(u_i)/u_i` (``ctx.loss.weight``; 1 without a loss or for
    least squares) and the case weights :math:`v_j`: the diagonal of the hat matrix of the
    final IRLS step, sandwich's ``hatvalues`` convention for MASS ``rlm`` (h of one copy of
    a case-weighted row). It stays defined when some :math:`W_i = 0` (bisquare), where R's
    ``hatvalues(rlm)`` fails.
    """
    loss = ctx.loss
    if loss is None or ctx.scores is None:
        W = np.ones_like(ctx.resid)
    else:
        s = np.asarray(ctx.scale, dtype=float)[..., None]
        W = loss.weight(ctx.resid / s)
    vW = W if ctx.weights is None else W * np.asarray(ctx.weights, dtype=float)
    inv = np.linalg.inv(weighted_gram(ctx.X, vW))
    return W * np.einsum("...ij,...jk,...ik->...i", ctx.X, inv, ctx.X)


def check_maxlags(maxlags: Any, n: int) -> int:
    """``maxlags`` as an int in ``[0, n)``; otherwise a ``ValueError`` saying why."""
    if isinstance(maxlags, bool) or not isinstance(maxlags, int | np.integer):
        raise ValueError(f"HAC: maxlags must be an integer >= 0, got {maxlags!r}")
    if maxlags < 0:
        raise ValueError(f"HAC: maxlags must be >= 0, got {maxlags}")
    if maxlags >= n:
        raise ValueError(
            f"HAC: maxlags={maxlags} must be smaller than the number of observations n={n} "
            "(autocovariances beyond lag n - 1 do not exist)"
        )
    return int(maxlags)


# --------------------------------------------------------------------------------------
# least-squares kinds, and HC/HAC for every estimator with scores


@register
class Classical(CovarianceKind):
    r""":math:`s^2 (X^\top X)^{-1}`, valid under homoscedastic errors."""

    name = "classical"
    description = "s^2 (X'X)^-1"
    uses_scores = False

    def bread(self, ctx: CovContext) -> np.ndarray:
        return _as_batch_scalar(ctx.scale) ** 2 * ctx.xtx_inverse()


class _HC(CovarianceKind):
    r"""White (1980) / MacKinnon & White (1985) heteroscedasticity-consistent sandwich.

    :math:`B\left(\sum_i \omega_i v_i s_i s_i^\top\right)B` with the bread and scores of
    :func:`score_pieces` and case weights :math:`v_i` (1 without). Least squares:
    :math:`(X^\top X)^{-1}(\sum_i \omega_i r_i^2 x_i x_i^\top)(X^\top X)^{-1}`.
    M-estimators (Huber, bisquare, MM): the ``sandwich`` kind's bread and scores,
    :math:`s^2 A^{-1}(\sum_i\omega_i\psi(u_i)^2x_ix_i^\top)A^{-1}`,
    :math:`A = \sum_i\psi'(u_i)x_ix_i^\top`, as ``sandwich::vcovHC`` for MASS ``rlm``.
    :math:`\omega_i` is 1 (HC0), :math:`n/(n-k)` (HC1), :math:`1/(1-h_i)` (HC2) or
    :math:`1/(1-h_i)^2` (HC3), :math:`h_i` from :func:`m_leverage` (the hat values of the
    weighted fit; for least squares those of :math:`X`); with case weights
    :math:`n = \sum_i v_i`.
    """

    #: reads the estimator's scores and Jacobian when it supplies them
    uses_scores = True

    def bread(self, ctx: CovContext) -> np.ndarray:
        return score_pieces(ctx)[0]

    def omega(self, ctx: CovContext, hat: Any, n: Any) -> np.ndarray:
        r"""The factor :math:`\omega_i` (..., n); ``hat()`` gives the leverages."""
        return np.ones_like(ctx.resid)

    def compute(self, ctx: CovContext) -> np.ndarray:
        if (ctx.scores is None or ctx.jacobian is None) and ctx.weights is None:
            # least squares (no scores): the classic formula on X and the residuals
            b = ctx.xtx_inverse()
            w = self.omega(ctx, lambda: leverage(ctx.X, b), ctx.nobs) * ctx.resid**2
            return b @ weighted_gram(ctx.X, w) @ b
        bread, scores = score_pieces(ctx)
        n = np.asarray(case_count(ctx), dtype=float)
        omega = self.omega(ctx, lambda: m_leverage(ctx), n[..., None] if n.ndim else n)
        if ctx.weights is not None:
            omega = omega * np.asarray(ctx.weights, dtype=float)
        return bread @ weighted_gram(scores, omega) @ np.swapaxes(bread, -1, -2)


@register
class HC0(_HC):
    name = "HC0"
    description = "White (1980)"


@register
class HC1(_HC):
    name = "HC1"
    description = "HC0 * n/(n-k)"

    def omega(self, ctx: CovContext, hat: Any, n: Any) -> np.ndarray:
        if np.ndim(n) == 0:
            return np.full_like(ctx.resid, n / (n - ctx.k))
        return np.broadcast_to(n / (n - ctx.k), ctx.resid.shape)


@register
class HC2(_HC):
    name = "HC2"
    description = "r_i^2/(1-h_i)"

    def omega(self, ctx: CovContext, hat: Any, n: Any) -> np.ndarray:
        return 1.0 / (1.0 - hat())


@register
class HC3(_HC):
    name = "HC3"
    description = "r_i^2/(1-h_i)^2"

    def omega(self, ctx: CovContext, hat: Any, n: Any) -> np.ndarray:
        return 1.0 / (1.0 - hat()) ** 2


@register
class HAC(CovarianceKind):
    r"""Newey & West (1987): Bartlett-kernel long-run variance of the scores.

    :math:`B\,[\Gamma_0 + \sum_{j=1}^{L}(1 - j/(L+1))(\Gamma_j + \Gamma_j^\top)]\,B`,
    :math:`\Gamma_j = \sum_{t>j} s_t s_{t-j}^\top`, rows in data order, with the bread and
    scores of :func:`score_pieces` (least squares: :math:`s_t = r_t x_t`; M-estimators:
    :math:`\psi(u_t)x_t` with the ``sandwich`` bread). No small-sample correction and no
    prewhitening: ``sandwich::NeweyWest(fit, lag = L, prewhite = FALSE, adjust = FALSE)``
    for ``lm`` and ``rlm``, and statsmodels' ``cov_type="HAC"``.

    Options: ``maxlags`` :math:`L`, an integer in :math:`[0, n)`; default the estimator's
    (OLS ``hac_maxlags``), else :func:`hac_default_maxlags`. Case weights are rejected (a
    weighted row is not a stretch of a time series).
    """

    name = "HAC"
    description = "Newey-West, Bartlett kernel"
    uses_scores = True
    options: ClassVar[Mapping[str, Any]] = {"maxlags": None}

    def validate_options(self, options: dict[str, Any], ctx: CovContext) -> dict[str, Any]:
        if options.get("maxlags") is not None:
            options["maxlags"] = check_maxlags(options["maxlags"], ctx.nobs)
        return options

    def bread(self, ctx: CovContext) -> np.ndarray:
        return score_pieces(ctx)[0]

    def meat(self, ctx: CovContext) -> np.ndarray:
        if ctx.weights is not None:
            raise ValueError(
                "HAC: observation weights are not supported (a weighted row is not a stretch "
                "of a time series); fit without sample_weight"
            )
        maxlags = ctx.options.get("maxlags")
        if maxlags is None:
            maxlags = hac_default_maxlags(ctx.nobs)
        maxlags = check_maxlags(maxlags, ctx.nobs)
        g = score_pieces(ctx)[1]  # (..., n, q) scores
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

    def bread(self, ctx: CovContext) -> np.ndarray:
        if ctx.jacobian is None or ctx.scores is None:
            raise ValueError("the sandwich kind needs the estimator's scores and jacobian")
        return inv_jacobian(ctx.jacobian)

    def meat(self, ctx: CovContext) -> np.ndarray:
        assert ctx.scores is not None  # checked by bread
        if ctx.weights is not None:  # case weights: row i counts v_i times
            return weighted_gram(ctx.scores, np.asarray(ctx.weights, dtype=float))
        return np.swapaxes(ctx.scores, -1, -2) @ ctx.scores


@register
class ObservedInformation(CovarianceKind):
    """Inverse observed information :math:`J^{-1}` (correct when the likelihood is right)."""

    name = "oim"
    description = "inverse observed information"

    def bread(self, ctx: CovContext) -> np.ndarray:
        if ctx.jacobian is None:
            raise ValueError("the oim kind needs the estimator's observed information")
        return inv_jacobian(ctx.jacobian)


@register
class HuberH1(CovarianceKind):
    r"""Huber's (1981, eq. 7.6.5) corrected covariance for M-estimators, as MASS ``rlm``'s summary.

    .. math::
        V = K^2 \frac{\sum_i\psi(u_i)^2/(n-k)}{\bar{\psi'}^2} s^2 (X^\top X)^{-1},
        \qquad K = 1 + \frac{k}{n}\frac{\widehat{\operatorname{Var}}(\psi')}{\bar{\psi'}^2},

    with :math:`u_i = r_i/s`, :math:`\bar{\psi'}` the mean of :math:`\psi'(u_i)` and the
    variance computed with the :math:`n-1` denominator (as MASS does).

    With case weights :math:`v_i` every sum counts row i :math:`v_i` times, as
    ``summary.rlm`` for ``wt.method = "case"``: :math:`n \to \sum_i v_i`, weighted mean and
    variance of :math:`\psi'`, :math:`\sum_i v_i\psi(u_i)^2` and
    :math:`(X^\top VX)^{-1}`.
    """

    name = "H1"
    description = "Huber's corrected M covariance"
    uses_scores = False

    def bread(self, ctx: CovContext) -> np.ndarray:
        if ctx.weights is not None:
            return self._weighted(ctx)
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

    @staticmethod
    def _weighted(ctx: CovContext) -> np.ndarray:
        """H1 with case weights (MASS ``summary.rlm``, ``wt.method = "case"``)."""
        v = np.asarray(ctx.weights, dtype=float)
        s = np.asarray(ctx.scale, dtype=float)
        u = ctx.resid / s[..., None]
        k = ctx.k
        psi = ctx.loss.psi(u)
        dpsi = ctx.loss.psi_prime(u)
        nn = np.broadcast_to(v, u.shape).sum(axis=-1)
        m1 = (v * dpsi).sum(axis=-1)
        m2 = (v * dpsi**2).sum(axis=-1)
        m = m1 / nn
        kappa = 1.0 + k * (m2 - m1**2 / nn) / (nn - 1.0) / (nn * m**2)
        factor = kappa**2 * (v * psi**2).sum(axis=-1) / (nn - k) / m**2 * s**2
        return factor[..., None, None] * np.linalg.inv(weighted_gram(ctx.X, v))
