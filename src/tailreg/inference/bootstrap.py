r"""Bootstrap covariance kinds: batched refits of resampled or perturbed data.

One registered kind, ``"bootstrap"``, serves quantile regression and the M-estimators
(Huber, bisquare, MM). Its covariance is that of :math:`B` bootstrap coefficient vectors
(:math:`B - 1` denominator, as ``cov(boot.rq(...)$B)`` in quantreg's ``summary.rq``). All
:math:`B` refits go to the estimator's batched refit (:attr:`CovContext.refit`: the batched
Frisch–Newton solver for quantile regression, the batched IRLS for Huber and bisquare).

Options (read from the context's ``options``; the estimators fill them from their
hyperparameters):

``method``
    Quantile regression (quantreg ``boot.rq`` ``bsmethod``):

    ``"xy"``
        Pairs: :math:`n` rows drawn with replacement (Efron 1979; Koenker 2005, sec. 3.9).
    ``"pwy"``
        Parzen, Wei & Ying (1994): the estimating equation is perturbed by
        :math:`W = \sum_i x_i(1\{U_i < \tau\} - \tau)`, :math:`U_i` uniform, and solved exactly as
        ``boot.rq.pwy`` does, by adding the pseudo-observation :math:`(W/\tau, n\max|y|)` to
        the data.
    ``"wild"``
        Feng, He & Hu (2011): :math:`y^*_i = x_i^\top\hat\beta + w_i|\tilde r_i|` with the
        two-point weights :math:`w_i \in \{-2\tau, 2(1-\tau)\}` of probabilities
        :math:`\tau, 1 - \tau` and the leverage-adjusted residuals
        :math:`\tilde r_i = r_i + h_i(\tau - 1\{r_i<0\})/\hat f(0)`, :math:`\hat f(0)` the
        adaptive kernel density of the residuals at 0 (:func:`akj_density`), as ``boot.rq``
        — except that the :math:`k` interpolated residuals count as exactly 0 (``boot.rq``
        uses the sign of their rounding error).

    M-estimators: ``"xy"`` (pairs, with the case weights resampled with their rows) or
    ``"wild"``: :math:`y^*_i = x_i^\top\hat\beta + v_i r_i` with Rademacher :math:`v_i`
    (the Feng–He–Hu weights at :math:`\tau = 1/2`; valid for symmetric errors, where the
    M-estimator's target does not depend on the error law's asymmetry).
``replications``
    :math:`B` (default 200).
``random_state`` / ``seed``
    ``random_state`` (int, ``SeedSequence`` or ``Generator``) wins; otherwise ``seed``, the
    ``SeedSequence`` the estimator drew at fit time, so that recomputing a result's
    covariance gives the same matrix.

xy resamples whose design is rank-deficient are redrawn before fitting; refits that fail
(non-finite coefficients) are redrawn too, at most ten rounds.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import warnings
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from .._linalg import leverage
from .._validation import check_random_state
from .covariance import CovarianceKind, CovContext, register

__all__ = [
    "M_METHODS",
    "QUANTILE_METHODS",
    "BootstrapKind",
    "BootstrapMixin",
    "akj_density",
    "bootstrap_draws",
    "check_boot_method",
    "check_overflow",
    "fhh_weights",
]

QUANTILE_METHODS = ("xy", "pwy", "wild")
M_METHODS = ("xy", "wild")
#: rounds of redraws for failed refits
_MAX_ROUNDS = 10
#: residuals below this times the median absolute residual are the basis' zeros
_ZERO = float(np.sqrt(np.finfo(float).eps))


def check_boot_method(method: Any, allowed: tuple[str, ...]) -> str:
    """Validate a bootstrap ``method`` name."""
    if method not in allowed:
        raise ValueError(f"bootstrap method must be one of {list(allowed)}, got {method!r}")
    return str(method)


def akj_density(x: np.ndarray, z: float = 0.0, alpha: float = 0.5, kappa: float = 0.9) -> float:
    r"""Adaptive Gaussian-kernel density of the sample ``x`` at ``z`` (quantreg ``akj``).

    Silverman (1986, sec. 5.3): a pilot estimate :math:`\tilde f` with window
    :math:`h = \kappa\min(s, \mathrm{IQR}/1.34)\,n^{-1/5}` (:math:`s` the standard deviation
    with divisor :math:`n`, the quartiles the first order statistics whose cumulative
    probabilities reach 1/4 and 3/4), local windows :math:`h\lambda_i`,
    :math:`\lambda_i = (\tilde f(x_i)/g)^{-\alpha}` with :math:`g` the geometric mean of the
    :math:`\tilde f(x_i)`, and :math:`\hat f(z) = n^{-1}\sum_i \phi((z - x_i)/(h\lambda_i))
    /(h\lambda_i)`. quantreg's Fortran keeps :math:`g` and the constant 1.34 in single
    precision and uses :math:`\pi \approx 3.141593`; all are reproduced so that the wild
    bootstrap matches R.
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    p = 1.0 / n
    con = 1.0 / np.sqrt(2.0 * 3.141593)
    sd = np.sqrt(np.sum(x * x * p) - np.sum(x * p) ** 2)
    # the quartiles: running sums in quantreg's order (up from the bottom, down from 1)
    up = np.cumsum(np.full(n - 1, p))
    lo = x[int(np.argmax(up >= 0.25))]
    down = np.subtract.accumulate(np.concatenate([[1.0], np.full(n, p)]))[1:]
    iqr = x[n - 1 - int(np.argmax(down <= 0.75))] - lo
    # 1.34 is a single-precision constant in quantreg's Fortran
    h = kappa * min(sd, iqr / float(np.float32(1.34))) / n**0.2
    hinv = 1.0 / h
    pilot = np.empty(n)
    step = max(1, 2**22 // n)  # rows of the n x n kernel matrix per block
    for a in range(0, n, step):
        d = (x[a : a + step, None] - x[None, :]) * hinv
        pilot[a : a + step] = (p * np.exp(-0.5 * d * d) * hinv).sum(axis=1)
    pilot *= con
    g = np.float32(np.exp(np.sum(p * np.log(pilot))))
    ginv = float(np.float32(1.0 / float(g)))
    lam = hinv / (pilot * ginv) ** (-alpha)  # 1 / (h lambda_i)
    u = (z - x) * lam
    return float(con * np.sum(p * np.exp(-0.5 * u * u) * lam))


def fhh_weights(rng: np.random.Generator, shape: tuple[int, ...], tau: float) -> np.ndarray:
    """Feng, He & Hu (2011) two-point weights: -2 tau w.p. tau, 2 (1 - tau) w.p. 1 - tau."""
    return np.where(rng.random(shape) < tau, -2.0 * tau, 2.0 * (1.0 - tau))


def _full_rank(Xb: np.ndarray) -> np.ndarray:
    """(B,) mask of the stacked designs (B, n, k) of full column rank."""
    sv = np.linalg.svd(Xb, compute_uv=False)
    return sv[:, -1] > 1e-10 * sv[:, 0]


def _draw(method: str, rng: np.random.Generator, B: int, n: int, tau: float | None) -> np.ndarray:
    """The random input of B replications: indices (xy), uniforms (pwy) or weights (wild)."""
    if method == "xy":
        return rng.integers(0, n, size=(B, n))
    if method == "pwy":
        return rng.random((B, n))
    return fhh_weights(rng, (B, n), 0.5 if tau is None else tau)


def bootstrap_draws(
    ctx: CovContext,
    method: str,
    U: np.ndarray,
    *,
    fitted: np.ndarray | None = None,
) -> np.ndarray:
    r"""Bootstrap coefficients (B, k) for the random input ``U`` (B, n), by one batched refit.

    Parameters
    ----------
    ctx : CovContext
        One fit's context with ``options["y"]``, ``refit`` and, for quantile regression,
        ``options["tau"]``.
    method : {"xy", "pwy", "wild"}
    U : ndarray (B, n)
        Row indices (xy, 0-based: ``U.T + 1`` is quantreg's ``U``), uniforms (pwy: quantreg's
        ``U`` transposed) or wild weights.
    fitted : ndarray (n,), optional
        :math:`X\hat\beta` (default ``y - resid``).

    Returns
    -------
    ndarray (B, k)
        NaN rows where a refit failed.
    """
    if ctx.refit is None:
        raise ValueError("the bootstrap kind needs the estimator's refit (fit the estimator again)")
    X, y = ctx.X, np.asarray(ctx.options["y"], dtype=float)
    tau = ctx.options.get("tau")
    w = ctx.weights if tau is None else None  # quantile contexts hold scaled rows already
    n = X.shape[0]
    if method == "xy":
        idx = np.asarray(U, dtype=int)
        if tau is not None:
            # a resample as integer weights (the rows drawn c times, scaled by c): the same
            # coefficients as the repeated rows, without their ties (degenerate vertices)
            counts = np.zeros((idx.shape[0], n))
            np.add.at(counts, (np.arange(idx.shape[0])[:, None], idx), 1.0)
            return ctx.refit(X, np.broadcast_to(y, counts.shape), counts)
        return ctx.refit(X[idx], y[idx], None if w is None else w[idx])
    if method == "pwy":
        assert tau is not None
        # boot.rq.pwy: the pseudo-observation (W / tau, n max|y|), W = X'(1{U < tau} - tau)
        Wp = ((np.asarray(U) < tau) - tau) @ X  # (B, k)
        B = Wp.shape[0]
        Xa = np.concatenate([np.broadcast_to(X, (B, n, X.shape[1])), Wp[:, None, :] / tau], 1)
        Ya = np.concatenate([np.broadcast_to(y, (B, n)), np.full((B, 1), n * np.abs(y).max())], 1)
        return ctx.refit(Xa, Ya, None)
    fit = y - ctx.resid if fitted is None else fitted
    r = ctx.resid
    if tau is not None:
        # boot.rq(bsmethod = "wild"): leverage-adjusted residuals. The interpolated
        # observations' residuals are zero; quantreg takes the sign of their rounding error
        # in 1{r < 0}, here they are set to 0 first (the R reference does the same)
        r = np.where(np.abs(r) < _ZERO * np.median(np.abs(r)), 0.0, r)
        f0 = akj_density(r, 0.0)
        r = r + leverage(X) * (tau - (r < 0.0)) / f0
        ystar = fit + np.asarray(U) * np.abs(r)
    else:
        ystar = fit + np.asarray(U) * r
    return ctx.refit(X, ystar, None if w is None else np.broadcast_to(w, ystar.shape))


def check_overflow(cov: np.ndarray, ctx: CovContext, kind: str) -> np.ndarray:
    """``cov``, or a clear error when it overflowed although the fit is finite.

    Variances are squares of the data's units: y of order 1e160 or more gives variances
    beyond the largest double (an ``inf`` or ``nan`` covariance, silently).
    """
    if not np.all(np.isfinite(cov)) and np.all(np.isfinite(ctx.resid)):
        big = float(np.max(np.abs(ctx.resid))) if ctx.resid.size else 0.0
        raise ValueError(
            f"the {kind!r} covariance overflows (residuals up to {big:.3g}: variances of "
            "that order squared exceed the largest double); rescale y (e.g. divide it by "
            "a power of 10) and scale the standard errors back"
        )
    return cov


def _rng(ctx: CovContext) -> np.random.Generator:
    rs = ctx.options.get("random_state")
    if rs is not None:
        return check_random_state(rs)
    return np.random.default_rng(ctx.options.get("seed"))


@register
class BootstrapKind(CovarianceKind):
    """Bootstrap covariance: xy pairs, Parzen–Wei–Ying or wild; see the module notes."""

    name = "bootstrap"
    description = "bootstrap (xy, pwy or wild)"
    uses_scores = False
    batched = False
    #: accepted options and their defaults (``seed`` is set by the estimator)
    options: ClassVar[dict[str, Any]] = {"method": "xy", "replications": 200, "random_state": None}

    def bread(self, ctx: CovContext) -> np.ndarray:
        tau = ctx.options.get("tau")
        allowed = M_METHODS if tau is None else QUANTILE_METHODS
        method = check_boot_method(ctx.options.get("method", "xy"), allowed)
        B = int(ctx.options.get("replications", ctx.options.get("n_boot", 200)))
        if B < 2:
            raise ValueError(f"bootstrap replications must be >= 2, got {B}")
        rng = _rng(ctx)
        n = ctx.nobs
        draws = np.full((B, ctx.k), np.nan)
        todo = np.arange(B)
        for _ in range(_MAX_ROUNDS):
            U = _draw(method, rng, todo.size, n, tau)
            if method == "xy":
                good = _full_rank(ctx.X[U])
                while not good.all():  # a singular resample cannot be refitted: redraw it
                    U[~good] = _draw(method, rng, int((~good).sum()), n, tau)
                    good = _full_rank(ctx.X[U])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                beta = bootstrap_draws(ctx, method, U)
            draws[todo] = beta
            todo = todo[~np.all(np.isfinite(beta), axis=1)]
            if todo.size == 0:
                break
        else:
            raise ValueError(f"bootstrap: {todo.size} of {B} refits failed")
        with np.errstate(over="ignore", invalid="ignore"):
            cov = np.atleast_2d(np.cov(draws, rowvar=False, ddof=1))
        return check_overflow(cov, ctx, self.name)


def data_seed(*arrays: np.ndarray) -> np.random.SeedSequence:
    """A ``SeedSequence`` from a hash of the data: reproducible draws without a seed."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=float).tobytes())
    return np.random.SeedSequence(int.from_bytes(h.digest()[:16], "little"))


def _m_refit(
    est: Any, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None
) -> np.ndarray:
    """Refit ``est`` to the B responses ``Y`` (B, n) on ``X`` (n, k) or (B, n, k)."""
    if sample_weight is not None:
        raise ValueError(f"{type(est).__name__}: the bootstrap does not support sample_weight yet")
    Y = np.atleast_2d(Y)
    if hasattr(est, "_run_irls"):
        return np.asarray(est._run_irls(X, Y).beta)
    Xs = np.broadcast_to(X, (Y.shape[0], *np.shape(X)[-2:]))
    out = np.full((Y.shape[0], Xs.shape[-1]), np.nan)
    c_chi, c_psi, b = est._constants()
    loss = type(est.loss)(c_psi)
    for r in range(Y.shape[0]):
        try:
            s_fit = est._s_step(Xs[r], Y[r], c_chi, b)
            out[r] = est._m_step(Xs[r], Y[r], s_fit, loss)[0]
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
    return out


def _attach(est: Any, res: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """``res`` with its context completed for the bootstrap (response, seed, refit)."""
    ctx = res.cov_context
    options = {**ctx.options, "y": y, "seed": data_seed(X, y)}
    ctx = replace(ctx, options=options, refit=est._bootstrap_refit())
    return dataclasses.replace(res, cov_context=ctx, _cache={})


def _with_bootstrap_context(fit: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fit)
    def wrapped(self, X, y, names, sample_weight=None):
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        return _attach(self, fit(self, X, y, names, **kw), X, y)

    wrapped._bootstrap_context = True  # type: ignore[attr-defined]
    return wrapped


class BootstrapMixin:
    """Adds the ``bootstrap`` kind to an M-estimator (put before its other bases).

    ``_fit`` completes the covariance context with the response, a seed (a hash of the data,
    so that results are reproducible without one) and :meth:`_bootstrap_refit`; ``fit_many``
    with ``"bootstrap"`` among its kinds fits one replication at a time (each bootstrap
    itself batched).
    """

    def _bootstrap_refit(self) -> Callable[..., np.ndarray]:
        """The batched refit ``(X, Y, sample_weight) -> coef (B, k)`` of a copy of self.

        Estimators solved by the batched IRLS (``_run_irls``: Huber, bisquare) refit all
        replications at once; MM (S-step then M-step, ``_s_step``/``_m_step``) one by one.
        """
        return partial(_m_refit, clone(self))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # an estimator that defines its own _fit (MM) gets it wrapped, so that the mixin
        # need not come after it in the MRO
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("_fit")
        if own is not None and not getattr(own, "_bootstrap_context", False):
            cls._fit = _with_bootstrap_context(own)  # type: ignore[method-assign]

    def _fit(self, X: np.ndarray, y: np.ndarray, names: list[str], sample_weight=None):
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        res = super()._fit(X, y, names, **kw)  # type: ignore[misc]
        return _attach(self, res, X, y)

    def _fit_many(self, X, Y, names, kinds, sample_weight=None):
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        kinds = tuple(kinds)
        if "bootstrap" not in kinds:
            return super()._fit_many(X, Y, names, kinds, **kw)  # type: ignore[misc]
        others = tuple(k for k in kinds if k != "bootstrap")
        many = super()._fit_many(X, Y, names, others or kinds[:0], **kw)  # type: ignore[misc]
        R = Y.shape[0]
        se = np.full((R, many.params.shape[1]), np.nan)
        design_shared = np.ndim(X) == 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for r in np.flatnonzero(np.all(np.isfinite(many.params), axis=1)):
                Xr = X if design_shared else X[r]
                w = None if sample_weight is None else np.broadcast_to(sample_weight, Y.shape)[r]
                keep = slice(None) if w is None else w > 0
                try:
                    res = self._fit(
                        Xr[keep],
                        Y[r][keep],
                        list(names),
                        **({} if w is None else {"sample_weight": w[keep]}),
                    )
                    se[r] = res.bse("bootstrap").to_numpy()
                except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                    continue
        out = {k: many.se[k] for k in others}
        out["bootstrap"] = se
        return dataclasses.replace(many, se={k: out[k] for k in kinds})
