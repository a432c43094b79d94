r"""Student-t regression by maximum likelihood: the likelihood answer to heavy tails.

Model: :math:`y_i = x_i^\top\beta + \sigma e_i` with :math:`e_i \sim t_\nu`, so

.. math::
    \ell(\beta, \sigma, \nu) = \sum_i \Big[\log\Gamma\big(\tfrac{\nu+1}{2}\big)
    - \log\Gamma\big(\tfrac{\nu}{2}\big) - \tfrac12\log(\nu\pi) - \log\sigma
    - \tfrac{\nu+1}{2}\log\big(1 + u_i^2/\nu\big)\Big], \qquad u_i = (y_i - x_i^\top\beta)/\sigma,

i.e. ``StudentT(df).logpdf(u) - log(sigma)`` summed. For fixed :math:`\nu` it is maximised
by EM (Lange, Little & Taylor 1989, sec. 3): with weights
:math:`w_i = (\nu+1)/(\nu+u_i^2)` (the loss's IRLS weight) :math:`\beta` is the weighted least
squares fit and :math:`\sigma^2 = \sum w_i r_i^2/\sum w_i` — the parameter-expanded scale step
(Kent, Tyler & Vardi 1994; Liu, Rubin & Wu 1998), whose fixed points are those of
:math:`\sum w_i r_i^2/n` (at the MLE :math:`\sum w_i = n`) and which converges faster.
Newton steps on :math:`(\beta, \log\sigma)` with the analytic Hessian polish the EM answer.
With :math:`\nu` unknown the profile likelihood is maximised over :math:`\log\nu`, then
:math:`(\beta, \log\sigma, \log\nu)` are polished jointly.

The likelihood is not concave and can have several local maxima for small :math:`\nu`
(Lange et al. 1989, sec. 2), so every fit starts from several regression lines and keeps the best.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import theory
from .._validation import check_positive
from ..exceptions import ConvergenceWarning, MultipleOptimaWarning
from ..inference.covariance import CovContext, standard_errors
from ..inference.results import FitResult, ManyFits
from ..losses import StudentT
from ..solvers.student_t import (
    PERFECT_FIT_MESSAGE,
    StudentTManyFit,
    fit_student_t_many,
    t_loglik,
    t_scores_hessian,
)
from ..solvers.student_t_profile import fit_student_t_df_many
from ..theory import Target
from ._base import BaseRegressor, _warn_unconverged

__all__ = ["StudentTMLE", "t_loglik", "t_scores_hessian"]


class StudentTMLE(BaseRegressor):
    r"""Regression with Student-t errors by maximum likelihood, df fixed or estimated.

    :math:`y_i = x_i^\top\beta + \sigma e_i`, :math:`e_i \sim t_\nu` (Lange, Little & Taylor
    1989). Outlying observations get EM weight :math:`(\nu+1)/(\nu+u_i^2)`, so the fit is
    resistant to heavy-tailed errors in y (not to bad leverage points: :math:`\psi` redescends
    only slowly). When the errors are t, it attains the Cramér–Rao bound where OLS does not;
    with :math:`\nu\to\infty` it is the Gaussian MLE.

    Parameters
    ----------
    df : float > 0 or None, default None
        Degrees of freedom :math:`\nu`. ``None`` estimates it by maximising the profile
        likelihood over :math:`\log\nu` in ``df_bounds``.
    fit_intercept : bool, default True
    tol : float, default 1e-10
        Convergence when the Newton decrement :math:`g^\top(-H)^{-1}g/2`, the predicted
        loglik gain of one more step, is at most ``tol``.
    max_iter : int, default 500
        Iterations (EM plus Newton) per start and per value of df.
    df_bounds : (float, float), default (0.1, 1000)
        Search interval for ``df=None``. The lower end is raised to :math:`2k/(n-k)`: for
        :math:`\nu(n-k) < k` the likelihood is unbounded (a fit through k points with
        :math:`\sigma\to 0`). ``result_.extra["df_at_bound"]`` flags an estimate on a bound
        (at the normal the profile likelihood often increases up to the upper bound, where
        :math:`t_{1000}` is practically Gaussian).

    Attributes
    ----------
    result_ : FitResult
        ``params`` = coefficients, ``sigma`` and — only when estimated — ``df``;
        ``n_iter``: EM + Newton iterations of the kept chain (df fixed), or profile-grid
        evaluations plus joint Newton iterations (df estimated);
        ``loglik``, ``aic``, ``bic`` (``k_params = len(params)``), ``scale`` = sigma, and
        ``extra``: ``df``, ``df_fixed``, ``df_at_bound``, ``n_starts`` (chains started),
        ``n_optima`` (distinct local maxima found, the kept one included: 1 on a unimodal
        likelihood), ``local_optima`` (loglik of the distinct other local maxima) and, for a
        weighted fit, ``sample_weight``.

    Notes
    -----
    *Starts, df fixed or estimated.* The likelihood is multimodal for small :math:`\nu`
    (e.g. bad leverage points at df = 3). Each fit starts chains from the OLS, LAD (exact,
    high breakdown in y) and Huber lines, their midpoint
    :math:`(\hat\beta_{OLS} + \hat\beta_{LAD})/2` and :math:`2\hat\beta_{OLS} - \hat\beta_{LAD}`,
    each at its MAD scale, and OLS and LAD also at a tenth of it (EM then locks on to the
    cluster nearest the line); chains reaching the same point are merged and the highest
    maximum is kept. A :class:`~tailreg.exceptions.MultipleOptimaWarning` reports distinct
    local maxima (coefficients more than 1e-3 standard errors apart and different logliks).
    With ``df=None`` the chains are walked along a grid of :math:`\log\nu` from
    :math:`\nu\approx 4` until the profile likelihood falls, then polished by Newton on
    :math:`(\beta, \log\sigma, \log\nu)` (:mod:`tailreg.solvers.student_t_profile`).

    *Observation weights* (``sample_weight``): the weighted log-likelihood
    :math:`\sum_i w_i\log f(e_i)` (integer weights = rows repeated; weighted starts); ``oim``
    is the weighted information, ``sandwich`` uses the unit scores with the case weights.

    *Extreme data.* The response is divided by a power of two near its spread before fitting
    (exact), and the arithmetic is safe for residuals up to the overflow threshold, so one
    gross outlier (up to the largest double) does not move the fixed-df fit. When sigma is
    beyond 1e±150 the covariance (of order sigma^2) is not representable: a warning, and
    NaN standard errors.

    *Covariance kinds.* ``oim`` (default): the inverse observed information
    :math:`(-H)^{-1}` of :math:`(\beta, \sigma, \nu)` (analytic Hessian, see
    :func:`t_scores_hessian`); ``sandwich``: :math:`J^{-1}(\sum_i s_is_i^\top)J^{-1}` with the
    per-observation scores, valid when the errors are not t (White 1982). With df fixed,
    df is not a parameter: it is left out of ``params`` and of both matrices (and of
    ``k_params``), and is reported in ``result_.extra["df"]``. Reference distribution: normal.

    *fit_many* runs all replications and all chains as one array program, for df fixed and
    estimated (one fit is the same code with R = 1, so ``fit_many`` returns what separate fits
    return, to rounding); a replication whose response is an exact linear function of X is a
    NaN row with ``converged=False`` and a warning, and one ``MultipleOptimaWarning`` counts the
    replications with several local maxima.
    """

    _cov_kinds = ("oim", "sandwich", "cluster")
    study_name = "student_t"
    nuisance_names = ("sigma", "df")
    objective_doc = "negative log-likelihood"
    use_t_doc = "normal: likelihood asymptotics"
    _min_extra_rows = 1
    supports_sample_weight = True

    def __init__(
        self,
        df: float | None = None,
        fit_intercept: bool = True,
        tol: float = 1e-10,
        max_iter: int = 500,
        df_bounds: tuple[float, float] = (0.1, 1000.0),
    ) -> None:
        self.df = df
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.df_bounds = df_bounds

    @property
    def loss(self) -> StudentT | None:
        """The t negative log-density at fixed df (None when df is estimated)."""
        return None if self.df is None else StudentT(float(self.df))

    def target(self, law: Any) -> Target | None:
        """With df fixed: the t location at the likelihood's limit scale; None with df estimated.

        The likelihood scale's influence enters the intercept's variance unless the law is
        symmetric (``avar`` NaN for asymmetric laws).
        """
        if self.df is None:
            return None
        df = float(self.df)
        scale = theory.t_mle_functional(law, df)[1]
        if not math.isfinite(scale):
            return None
        return theory.target(StudentT(df), law, scale, symmetric_only_avar=True)

    def _check_params(self) -> None:
        if self.df is not None:
            check_positive("df", self.df, allow_inf=False)
        check_positive("tol", self.tol)
        if (
            isinstance(self.max_iter, bool)
            or not isinstance(self.max_iter, int | np.integer)
            or self.max_iter < 1
        ):
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        try:
            lo, hi = self.df_bounds
        except (TypeError, ValueError):
            raise ValueError(
                f"df_bounds must be a pair (low, high), got {self.df_bounds!r}"
            ) from None
        check_positive("df_bounds[0]", lo)
        check_positive("df_bounds[1]", hi)
        if not lo < hi:
            raise ValueError(f"df_bounds must satisfy low < high, got {self.df_bounds!r}")

    # -- fits -------------------------------------------------------------------------
    def _solve(self, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None) -> StudentTManyFit:
        """The batched solver for R problems (one fit is R = 1)."""
        if self.df is None:
            return fit_student_t_df_many(
                X,
                Y,
                tol=self.tol,
                max_iter=self.max_iter,
                df_bounds=(float(self.df_bounds[0]), float(self.df_bounds[1])),
                weights=weights,
            )
        return fit_student_t_many(
            X, Y, float(self.df), tol=self.tol, max_iter=self.max_iter, weights=weights
        )

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sample_weight: np.ndarray | None = None,
    ) -> FitResult:
        n, k = X.shape
        w = None if sample_weight is None else sample_weight[None, :]
        fit = self._solve(X, y[None, :], w)
        if fit.perfect[0]:
            raise ValueError(PERFECT_FIT_MESSAGE)
        _check_finite_fit(fit, 0)
        local = fit.local_optima[0]
        loglik = float(fit.loglik[0])
        if local:
            warnings.warn(
                f"StudentTMLE(df={self.df}): the likelihood has {len(local) + 1} "
                f"distinct local maxima among {fit.n_starts} starts (loglik {loglik:.6f} "
                f"kept; others {', '.join(f'{ll:.6f}' for ll in local)})",
                MultipleOptimaWarning,
                stacklevel=3,
            )
        df = float(fit.df[0])
        converged = bool(fit.converged[0])
        if not converged:
            hint = (
                f"; with df={df:g} < k/(n-k)={k / (n - k):.3g} the likelihood is unbounded "
                "(sigma -> 0), choose a larger df"
                if df * (n - k) < k
                else "; raise max_iter or tol"
            )
            warnings.warn(
                f"StudentTMLE did not converge in max_iter={self.max_iter} iterations "
                f"(converged=False){hint}",
                ConvergenceWarning,
                stacklevel=3,
            )
        with_df = self.df is None
        sigma = float(fit.sigma[0])
        jacobian = fit.jacobian[0]
        if not 1e-150 < sigma < 1e150:
            # the information ~ 1/sigma^2 and the covariance ~ sigma^2 under/overflow
            warnings.warn(
                f"StudentTMLE: sigma = {sigma:.3g}, so the covariance (of order sigma^2) is not "
                "representable in double precision; standard errors are NaN (rescale y)",
                UserWarning,
                stacklevel=3,
            )
            jacobian = np.full_like(jacobian, np.nan)
        values = [*fit.beta[0], sigma] + ([df] if with_df else [])
        pnames = [*names, "sigma"] + (["df"] if with_df else [])
        ctx = CovContext(
            X=X,
            resid=fit.resid[0],
            scale=sigma,
            loss=StudentT(df),
            scores=fit.scores[0],
            jacobian=jacobian,
            weights=sample_weight,
        )
        extra: dict[str, Any] = {
            "df": df,
            "df_fixed": not with_df,
            "df_at_bound": bool(fit.df_at_bound[0]),
            "n_starts": fit.n_starts,
            "n_optima": int(fit.n_optima[0]),
            "local_optima": local,
        }
        if sample_weight is not None:
            extra["sample_weight"] = sample_weight
        return self._result(
            values,
            pnames,
            ctx,
            scale=sigma,
            n_iter=int(fit.n_iter[0]),
            converged=converged,
            loglik=loglik,
            objective=-loglik,
            extra=extra,
        )

    def _fit_many(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        names: list[str],
        kinds: tuple[str, ...],
        sample_weight: np.ndarray | None = None,
    ) -> ManyFits:
        k = X.shape[-1]
        W = sample_weight
        if W is not None and W.ndim == 1:
            W = np.broadcast_to(W, Y.shape)
        fit = self._solve(X, Y, W)
        n_multi = int((fit.n_optima > 1).sum())
        if n_multi:
            warnings.warn(
                f"StudentTMLE(df={self.df}): {n_multi} of {len(Y)} fits had distinct "
                "local maxima of the likelihood among their starts (the best is kept)",
                MultipleOptimaWarning,
                stacklevel=3,
            )
        if fit.perfect.any():
            warnings.warn(
                f"StudentTMLE: {int(fit.perfect.sum())} of {len(Y)} responses are exact linear "
                f"functions of the design ({PERFECT_FIT_MESSAGE}); their rows are NaN",
                ConvergenceWarning,
                stacklevel=3,
            )
        with_df = self.df is None
        ctx = CovContext(
            X=X,
            resid=fit.resid,
            scale=fit.sigma,
            loss=None if self.df is None else StudentT(float(self.df)),
            scores=fit.scores,
            jacobian=fit.jacobian,
            weights=W,
        )
        valid = np.isfinite(fit.loglik)
        se = standard_errors(ctx, kinds, valid=valid)
        conv = fit.converged
        _warn_unconverged(type(self).__name__, conv[~fit.perfect])
        cols = [fit.beta, fit.sigma[:, None]] + ([fit.df[:, None]] if with_df else [])
        return self._many(
            np.concatenate(cols, axis=1),
            (*names, "sigma") + (("df",) if with_df else ()),
            k,
            se,
            scale=fit.sigma,
            converged=conv,
            n_iter=fit.n_iter,
        )


def _check_finite_fit(fit: StudentTManyFit, r: int) -> None:
    """A fit whose estimates are not finite is a clear error, not a silent NaN."""
    if not (np.isfinite(fit.loglik[r]) and np.all(np.isfinite(fit.beta[r]))):
        raise ValueError(
            "StudentTMLE: the likelihood could not be maximised (non-finite estimates); "
            "check the data for extreme or degenerate values"
        )
