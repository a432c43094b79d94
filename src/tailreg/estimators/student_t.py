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
from ..solvers.student_t import fit_student_t, fit_student_t_many, t_loglik, t_scores_hessian
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
        ``n_iter``: EM + Newton iterations of the best start (df fixed) or the number of
        profile-likelihood evaluations (df estimated);
        ``loglik``, ``aic``, ``bic`` (``k_params = len(params)``), ``scale`` = sigma, and
        ``extra``: ``df``, ``df_fixed``, ``df_at_bound``, ``n_starts``,
        ``local_optima`` (loglik of the distinct other local maxima found).

    Notes
    -----
    *Starts.* The likelihood is multimodal for small :math:`\nu`. Each fit starts from the OLS,
    LAD and Huber lines, their midpoint :math:`(\hat\beta_{OLS} + \hat\beta_{LAD})/2` and
    :math:`2\hat\beta_{OLS} - \hat\beta_{LAD}` (these two differ from OLS only where OLS and
    LAD disagree; starts reaching the same point are merged); the highest maximum is
    kept. A :class:`~tailreg.exceptions.MultipleOptimaWarning` reports distinct local maxima
    (coefficients more than 1e-3 standard errors apart and different logliks).
    With ``df=None`` the starts are followed as chains along the profile likelihood, whose
    value at each :math:`\nu` is the best chain's.

    *Covariance kinds.* ``oim`` (default): the inverse observed information
    :math:`(-H)^{-1}` of :math:`(\beta, \sigma, \nu)` (analytic Hessian, see
    :func:`t_scores_hessian`); ``sandwich``: :math:`J^{-1}(\sum_i s_is_i^\top)J^{-1}` with the
    per-observation scores, valid when the errors are not t (White 1982). With df fixed,
    df is not a parameter: it is left out of ``params`` and of both matrices (and of
    ``k_params``), and is reported in ``result_.extra["df"]``. Reference distribution: normal.

    *fit_many* with df fixed runs all replications and all five starts as one batched EM and
    Newton iteration (only the LAD starts are solved one by one); with df estimated it loops
    over ``fit``. Either way it returns what separate fits return, and one
    ``MultipleOptimaWarning`` counts the replications with several local maxima.
    """

    _cov_kinds = ("oim", "sandwich", "cluster")
    study_name = "student_t"
    nuisance_names = ("sigma", "df")
    objective_doc = "negative log-likelihood"
    use_t_doc = "normal: likelihood asymptotics"
    _min_extra_rows = 1

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

    # -- one fit ----------------------------------------------------------------------
    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sample_weight: np.ndarray | None = None,
    ) -> FitResult:
        n, k = X.shape
        fit = fit_student_t(
            X,
            y,
            None if self.df is None else float(self.df),
            tol=self.tol,
            max_iter=self.max_iter,
            df_bounds=self.df_bounds,
        )
        if fit.local_optima:
            warnings.warn(
                f"StudentTMLE(df={self.df}): the likelihood has {len(fit.local_optima) + 1} "
                f"distinct local maxima among {fit.n_starts} starts (loglik {fit.loglik:.6f} "
                f"kept; others {', '.join(f'{ll:.6f}' for ll in fit.local_optima)})",
                MultipleOptimaWarning,
                stacklevel=3,
            )
        df = fit.df
        if not fit.converged:
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
        values = [*fit.beta, fit.sigma] + ([df] if with_df else [])
        pnames = [*names, "sigma"] + (["df"] if with_df else [])
        ctx = CovContext(
            X=X,
            resid=fit.resid,
            scale=fit.sigma,
            loss=StudentT(df),
            scores=fit.scores,
            jacobian=fit.jacobian,
        )
        return self._result(
            values,
            pnames,
            ctx,
            scale=fit.sigma,
            n_iter=fit.n_iter,
            converged=fit.converged,
            loglik=fit.loglik,
            objective=-fit.loglik,
            extra={
                "df": df,
                "df_fixed": not with_df,
                "df_at_bound": fit.df_at_bound,
                "n_starts": fit.n_starts,
                "local_optima": fit.local_optima,
            },
        )

    # -- many fits --------------------------------------------------------------------
    def _fit_many(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        names: list[str],
        kinds: tuple[str, ...],
        sample_weight: np.ndarray | None = None,
    ) -> ManyFits:
        if self.df is None:
            return self._loop_many(X, Y, names, kinds)
        df = float(self.df)
        k = X.shape[-1]
        fit = fit_student_t_many(X, Y, df, tol=self.tol, max_iter=self.max_iter)
        if fit.n_multimodal:
            warnings.warn(
                f"StudentTMLE(df={df:g}): {fit.n_multimodal} of {len(Y)} fits had distinct "
                "local maxima of the likelihood among their starts (the best is kept)",
                MultipleOptimaWarning,
                stacklevel=3,
            )
        ctx = CovContext(
            X=X,
            resid=fit.resid,
            scale=fit.sigma,
            loss=StudentT(df),
            scores=fit.scores,
            jacobian=fit.jacobian,
        )
        se = standard_errors(ctx, kinds)
        _warn_unconverged(type(self).__name__, fit.converged)
        return self._many(
            np.column_stack([fit.beta, fit.sigma]),
            (*names, "sigma"),
            k,
            se,
            scale=fit.sigma,
            converged=fit.converged,
            n_iter=fit.n_iter,
        )

    def _loop_many(
        self, X: np.ndarray, Y: np.ndarray, names: list[str], kinds: tuple[str, ...]
    ) -> ManyFits:
        """df estimated: one ``_fit`` per replication, optima warnings summed into one."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = BaseRegressor._fit_many(self, X, Y, names, kinds)
        n_multi = 0
        for w in caught:
            if issubclass(w.category, MultipleOptimaWarning):
                n_multi += 1
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if n_multi:
            warnings.warn(
                f"StudentTMLE(df=None): {n_multi} of {len(Y)} fits had distinct local maxima "
                "of the likelihood among their starts (the best is kept)",
                MultipleOptimaWarning,
                stacklevel=3,
            )
        return out
