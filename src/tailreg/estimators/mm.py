r"""MM-estimation of regression (Yohai 1987), as R robustbase's ``lmrob`` defaults.

An S-estimate with a 50% breakdown point supplies a robust start :math:`\hat\beta_S` and
scale :math:`\hat s`; a bisquare M-estimate with :math:`\hat s` held fixed, started at
:math:`\hat\beta_S`, then raises the efficiency at the normal to 95% while keeping the
breakdown point (Yohai 1987).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from .. import theory
from .._linalg import Design
from .._validation import SeedLike, check_in_range
from ..exceptions import ConvergenceWarning, ExactFitWarning
from ..inference.bootstrap import BootstrapMixin
from ..inference.covariance import standard_errors
from ..inference.results import FitResult, ManyFits
from ..inference.robust_cov import AVar1
from ..losses import Bisquare
from ..solvers.irls import irls, warn_irls
from ..solvers.s_estimation import (
    BISQUARE_CHI_C50,
    BISQUARE_PSI_C95,
    SManyResult,
    SResult,
    bisquare_c_for_breakdown,
    bisquare_c_for_efficiency,
    fast_s_many,
)
from ..theory import Target
from ._base import BaseRegressor, _warn_unconverged
from ._mestimation import m_cov_context

__all__ = ["MM", "AVar1"]

#: smallest accepted ``breakdown`` (c_chi about 17)
_MIN_BREAKDOWN = 0.01


class MM(BootstrapMixin, BaseRegressor):
    r"""MM-estimator of regression: 50% breakdown with 95% efficiency at the normal.

    1. **S-step.** An S-estimate (:func:`~tailreg.solvers.s_estimation.fast_s`):
       :math:`\hat\beta_S` minimises the M-scale :math:`s` solving
       :math:`\sum_i\chi_{c_0}(r_i/s)/(n-k) = b`, with the bisquare
       :math:`\chi_{c_0} = \rho_{c_0}/\sup\rho_{c_0}`, :math:`b` = ``breakdown`` and
       :math:`c_0` tuned so that :math:`E_\Phi\chi_{c_0} = b`. Fast-S (Salibian-Barrera &
       Yohai 2006) searches it from ``n_subsamples`` random elemental fits.
    2. **M-step.** The bisquare M-estimate with :math:`c_1` tuned to ``efficiency``, the scale
       fixed at the S-scale :math:`\hat s`, by IRLS from :math:`\hat\beta_S` (Yohai 1987).

    The defaults reproduce R robustbase's ``lmrob()`` (method ``"SM"``, ``psi = "bisquare"``,
    ``tuning.chi = 1.54764``, ``bb = 0.5``, ``tuning.psi = 4.685061``, ``nResample = 500``,
    ``k.fast.s = 1``, ``best.r.s = 2``, ``refine.tol = 1e-7``, ``cov = ".vcov.avar1"``).

    Parameters
    ----------
    efficiency : float in (0, 1), default 0.95
        Asymptotic efficiency of the M-step at the normal, relative to least squares;
        0.95 uses robustbase's 4.685061, other values solve
        :func:`~tailreg.solvers.s_estimation.bisquare_c_for_efficiency`.
    breakdown : float in [0.01, 0.5], default 0.5
        Breakdown point of the S-step; 0.5 uses robustbase's 1.54764, other values solve
        :func:`~tailreg.solvers.s_estimation.bisquare_c_for_breakdown`.
    random_state : None, int, SeedSequence or Generator
        Seeds the elemental subsets. On well-posed data every seed gives the same estimate.
    fit_intercept : bool, default True
    n_subsamples : int, default 500
        Random elemental subsets of fast-S (robustbase ``nResample``).
    s_max_iter : int, default 1000
        Refinement steps allowed to each of the two best S candidates. robustbase's
        ``k.max = 200`` occasionally falls short of ``refine.tol = 1e-7`` (1 of 300 normal
        samples with n = 500 in our runs: the I-steps converge linearly and needed about
        310 steps); robustbase then warns and returns the S-estimate without its M-step.
        The larger default only matters in those cases.
    tol : float, default 1e-12
        Tolerance of the M-step IRLS (relative change of the residuals).
    max_iter : int, default 1000
        Step limit of the M-step IRLS.

    Attributes
    ----------
    result_ : FitResult
        ``scale`` is the S-scale; ``extra`` holds the S-estimate (``s_coef``,
        ``s_converged``), the constants ``c_chi``, ``c_psi``, ``b`` and the robustness
        ``weights``.

    Notes
    -----
    Covariance kinds: ``avar1`` (default; :class:`~tailreg.inference.robust_cov.AVar1`,
    robustbase's ``.vcov.avar1``) and ``sandwich`` (the M-sandwich at the fixed S-scale,
    :math:`\hat s^2(\sum\psi'xx^\top)^{-1}(\sum\psi^2xx^\top)(\sum\psi'xx^\top)^{-1}`).
    Tests use the t reference with :math:`n - k` degrees of freedom, as ``summary.lmrob``.

    If the M-step does not converge the S-estimate is returned with ``converged=False`` and a
    ``ConvergenceWarning``, as robustbase does. If more than half the data lie exactly on a
    hyperplane the S-scale is 0: that exact fit is returned with an ``ExactFitWarning`` and
    NaN standard errors.

    References: Yohai (1987), Ann. Statist. 15, 642–656; Salibian-Barrera & Yohai (2006),
    JCGS 15, 414–427; Croux, Dhaene & Hoorelbeke (2003); Maronna, Martin & Yohai (2006),
    sec. 5.5.
    """

    _cov_kinds = (
        "avar1",
        "sandwich",
        "HC0",
        "HC1",
        "HC2",
        "HC3",
        "HAC",
        "cluster",
        "bootstrap",
    )
    study_name = "mm"
    objective_doc = "sum of rho_c(r_i / s) of the M-step at the S-scale s"
    use_t = True
    use_t_doc = "t with n - k degrees of freedom, as robustbase's summary.lmrob"
    _min_extra_rows = 1

    def __init__(
        self,
        efficiency: float = 0.95,
        breakdown: float = 0.5,
        random_state: SeedLike = None,
        fit_intercept: bool = True,
        n_subsamples: int = 500,
        s_max_iter: int = 1000,
        tol: float = 1e-12,
        max_iter: int = 1000,
    ) -> None:
        self.efficiency = efficiency
        self.breakdown = breakdown
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.n_subsamples = n_subsamples
        self.s_max_iter = s_max_iter
        self.tol = tol
        self.max_iter = max_iter

    # -- hyperparameters --------------------------------------------------------------
    def _check_params(self) -> None:
        check_in_range("efficiency", self.efficiency, 0.0, 1.0)
        check_in_range("breakdown", self.breakdown, 0.0, 0.5, high_closed=True)
        if float(self.breakdown) < _MIN_BREAKDOWN:
            # c_chi grows like sqrt(3 / breakdown): beyond this the S-step's chi is flat
            # and its tuning-constant solve leaves its bracket
            raise ValueError(
                f"breakdown must be in [{_MIN_BREAKDOWN}, 0.5], got {self.breakdown!r}"
            )
        for name in ("n_subsamples", "s_max_iter", "max_iter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        check_in_range("tol", self.tol, 0.0, 1.0)
        self._constants()

    @property
    def loss(self) -> Bisquare:
        """The bisquare loss of the M-step (``c_psi`` from ``efficiency``)."""
        return Bisquare(self._constants()[1])

    def target(self, law: Any) -> Target | None:
        """The bisquare M-location at the S-functional's scale (Yohai 1987).

        The S-scale's influence enters the intercept's variance unless the law is symmetric,
        so there ``avar`` is NaN for asymmetric laws; the slopes have the fixed-scale variance.
        """
        c_chi, c_psi, b = self._constants()
        scale = theory.s_functional(law, c_chi, b)[1]
        if not math.isfinite(scale):
            return None
        return theory.target(Bisquare(c_psi), law, scale, symmetric_only_avar=True)

    def _constants(self) -> tuple[float, float, float]:
        """``(c_chi, c_psi, b)`` of the S- and M-steps."""
        b = float(self.breakdown)
        c_chi = BISQUARE_CHI_C50 if b == 0.5 else bisquare_c_for_breakdown(b)
        eff = float(self.efficiency)
        try:
            c_psi = BISQUARE_PSI_C95 if eff == 0.95 else bisquare_c_for_efficiency(eff)
        except ValueError:
            raise ValueError(
                f"efficiency={eff!r} is out of reach of the bisquare (c would exceed 100); "
                "choose a value further from 0 or 1"
            ) from None
        return c_chi, c_psi, b

    # -- fitting ----------------------------------------------------------------------
    def _s_step_many(self, X: np.ndarray, Y: np.ndarray, c_chi: float, b: float) -> SManyResult:
        """Fast-S for the R fits ``Y`` (R, n), each drawing its subsets as a single fit would."""
        s_fit = fast_s_many(
            X,
            Y,
            c=c_chi,
            b=b,
            random_state=self.random_state,
            n_resample=int(self.n_subsamples),
            k_max=int(self.s_max_iter),
        )
        if not s_fit.converged.all():
            bad = int((~s_fit.converged).sum())
            warnings.warn(
                f"{type(self).__name__}: the S-step refinements of {bad} of {Y.shape[0]} fits "
                f"did not converge in s_max_iter={self.s_max_iter} steps (converged=False); "
                "increase s_max_iter",
                ConvergenceWarning,
                stacklevel=4,
            )
        return s_fit

    def _s_step(self, X: np.ndarray, y: np.ndarray, c_chi: float, b: float) -> SResult:
        return self._s_step_many(X, y[None, :], c_chi, b).row(0)

    def _m_step(
        self, X: np.ndarray, y: np.ndarray, s_fit: SResult, loss: Bisquare
    ) -> tuple[np.ndarray, int, bool, float]:
        """The M-step from the S-estimate: ``(beta, n_iter, converged, scale)``.

        An exact S-fit (scale 0) has no M-step; its scale for the covariances is NaN.
        """
        name = type(self).__name__
        if not s_fit.scale > 0:
            warnings.warn(
                f"{name}: the fit is exact — more than half the residuals of the S-estimate "
                "are zero, so the S-scale is 0; the coefficients are the exact fit's and the "
                "standard errors are NaN",
                ExactFitWarning,
                stacklevel=4,
            )
            return s_fit.beta, 0, True, np.nan
        res = irls(
            X,
            y[None, :],
            loss,
            scale=s_fit.scale,
            beta0=s_fit.beta,
            tol=float(self.tol),
            maxiter=int(self.max_iter),
        )
        warn_irls(name, res, int(self.max_iter))
        m_ok = bool(res.converged[0])
        # robustbase keeps the S-estimate when the M-step fails
        beta = res.beta[0] if m_ok else s_fit.beta
        return beta, int(res.n_iter[0]), m_ok, s_fit.scale

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sample_weight: np.ndarray | None = None,
    ) -> FitResult:
        c_chi, c_psi, b = self._constants()
        s_fit = self._s_step(X, y, c_chi, b)
        loss = Bisquare(c_psi)
        beta, n_iter, m_ok, scale_ctx = self._m_step(X, y, s_fit, loss)
        resid = y - X @ beta
        k = X.shape[1]
        options = {"resid0": s_fit.resid, "c_chi": c_chi, "b": b}
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx = m_cov_context(X, resid, scale_ctx, loss, options)
            u = resid / scale_ctx
        if not np.isfinite(scale_ctx):
            ctx = replace(ctx, jacobian=np.full((k, k), np.nan))
        return self._result(
            beta,
            names,
            ctx,
            scale=s_fit.scale,
            n_iter=n_iter,
            converged=s_fit.converged and m_ok,
            objective=float(loss.rho(u).sum()) if s_fit.scale > 0 else None,
            extra={
                "s_coef": pd.Series(s_fit.beta, index=names, name="S coef"),
                "s_converged": s_fit.converged,
                "m_converged": m_ok,
                "c_chi": c_chi,
                "c_psi": c_psi,
                "b": b,
                "weights": loss.weight(u),
                "n_singular_subsamples": s_fit.n_singular,
            },
        )

    def _fit_many(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        names: list[str],
        kinds: tuple[str, ...],
        sample_weight: np.ndarray | None = None,
    ) -> ManyFits:
        """All R fits at once: one batched fast-S, one batched M-step IRLS, batched covariances.

        Each fit equals :meth:`fit` on its data (the same subsets, the same S-estimate; the
        M-step's batched products round like the single fit's to ~1e-15).
        """
        c_chi, c_psi, b = self._constants()
        loss = Bisquare(c_psi)
        R = Y.shape[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            s_fit = self._s_step_many(X, Y, c_chi, b)
        beta = s_fit.beta.copy()
        n_iter = np.zeros(R, dtype=int)
        m_ok = np.ones(R, dtype=bool)
        exact = ~(s_fit.scale > 0)
        live = np.flatnonzero(~exact)
        if live.size:
            Xl = X if X.ndim == 2 else X[live]
            res = irls(
                Xl,
                Y[live],
                loss,
                scale=s_fit.scale[live],
                beta0=s_fit.beta[live],
                tol=float(self.tol),
                maxiter=int(self.max_iter),
            )
            m_ok[live] = res.converged
            n_iter[live] = res.n_iter
            # robustbase keeps the S-estimate when the M-step fails
            beta[live] = np.where(res.converged[:, None], res.beta, s_fit.beta[live])
        if exact.any():
            warnings.warn(
                f"{type(self).__name__}: {int(exact.sum())} of {R} fits are exact (more than "
                "half the residuals of the S-estimate are zero, S-scale 0); their standard "
                "errors are NaN",
                ExactFitWarning,
                stacklevel=3,
            )
        converged = s_fit.converged & m_ok
        _warn_unconverged(type(self).__name__, converged)
        resid = Y - Design(X).fitted(beta)
        s_ctx = np.where(exact, 1.0, s_fit.scale)
        options = {"resid0": s_fit.resid, "c_chi": c_chi, "b": b}
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx = m_cov_context(X, resid, s_ctx, loss, options)
        se = standard_errors(ctx, kinds, valid=~exact)
        return self._many(
            beta, names, X.shape[-1], se, scale=s_fit.scale, converged=converged, n_iter=n_iter
        )
