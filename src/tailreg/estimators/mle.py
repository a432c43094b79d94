r"""The Gaussian linear model fitted by maximum likelihood, as a separate road to OLS.

The likelihood is maximised in :mod:`tailreg.solvers.gaussian_mle`; this module holds the
estimator: configuration, the ``oim`` and ``sandwich`` kinds' scores and information, results.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import theory
from .._linalg import EinsumDesign
from .._validation import check_positive
from ..exceptions import ConvergenceWarning
from ..inference.covariance import CovContext, standard_errors
from ..inference.results import FitResult, ManyFits
from ..losses import Squared
from ..solvers.gaussian_mle import fit_gaussian, fit_gaussian_many, gaussian_scores_information
from ..theory import Target
from ._base import BaseRegressor, _warn_unconverged

__all__ = ["GaussianMLE", "gaussian_scores_information"]


class GaussianMLE(BaseRegressor):
    r"""Gaussian linear model fitted by maximum likelihood over :math:`(\beta, \log\sigma)`.

    Maximises :math:`\ell(\beta,\sigma) = -\frac n2\log(2\pi\sigma^2) - RSS(\beta)/(2\sigma^2)`
    with scipy's exact trust-region Newton method (``trust-exact``) using the analytic
    gradient and Hessian, then polishes with plain Newton steps. The optimum is
    :math:`\hat\beta = \hat\beta_{OLS}` and :math:`\hat\sigma^2 = RSS/n` (not the unbiased
    :math:`RSS/(n-k)`), reached here without solving the normal equations — the
    equivalence is a test, not an implementation detail.

    Parameters
    ----------
    fit_intercept : bool, default True
    tol : float, default 1e-8
        Convergence tolerance on the Newton decrement :math:`\lambda = (g^\top H^{-1}g)^{1/2}`
        of :math:`-\ell/n` (affine invariant; the step that meets it is still taken, so
        with quadratic convergence the answer is accurate to rounding). Also the gradient
        tolerance of the trust-region phase.
    max_iter : int, default 100
        Maximum optimiser iterations.

    Attributes
    ----------
    result_ : FitResult
        ``params`` are ``const, x1.., sigma2``; ``scale`` is :math:`\hat\sigma`;
        ``loglik``, ``aic`` and ``bic`` count :math:`\sigma^2` among the parameters, as R's
        ``logLik.lm`` does.

    Notes
    -----
    Covariance kinds (both cover :math:`\sigma^2`):

    ``oim`` (default)
        Inverse observed information. At the MLE it is block diagonal:
        :math:`\hat\sigma^2(X^\top X)^{-1}` (the classical OLS covariance times
        :math:`(n-k)/n`) and :math:`\operatorname{Var}\hat\sigma^2 = 2\hat\sigma^4/n`.
    ``sandwich``
        Quasi-MLE :math:`J^{-1}(\sum_i s_i s_i^\top)J^{-1}` (White 1982). Its
        :math:`\beta` block is HC0; its :math:`\sigma^2` entry
        :math:`\sum_i (r_i^2 - \hat\sigma^2)^2 / n^2` is valid under non-normal errors with
        finite fourth moment.

    Reference distributions are normal (``use_t=False``).

    *Observation weights* (``sample_weight``) give the weighted log-likelihood
    :math:`\sum_i w_i\log\phi_\sigma(y_i - x_i^\top\beta)`: :math:`\hat\beta` is weighted least
    squares (as ``lm(weights=)`` and statsmodels ``WLS``) and
    :math:`\hat\sigma^2 = \sum_i w_ir_i^2/\sum_i w_i`; integer weights are frequency weights
    (the fit of the data with rows repeated). ``oim`` uses the weighted information,
    ``sandwich`` the weighted sum of the unit scores' outer products. In ``fit_many`` a
    weight of 0 removes the row.
    """

    _cov_kinds = ("oim", "sandwich", "cluster")
    study_name = "gaussian_mle"
    nuisance_names = ("sigma2",)
    objective_doc = "negative log-likelihood"
    use_t_doc = "normal: likelihood asymptotics (sigma2 is the MLE RSS / n)"
    _min_extra_rows = 1
    supports_sample_weight = True

    def __init__(self, fit_intercept: bool = True, tol: float = 1e-8, max_iter: int = 100) -> None:
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    @property
    def loss(self) -> Squared:
        """The Gaussian negative log-likelihood in beta is the squared loss."""
        return Squared()

    def target(self, law: Any) -> Target:
        """The mean of the law (the Gaussian MLE of beta is least squares)."""
        return theory.target(Squared(), law, 1.0)

    def _check_params(self) -> None:
        check_positive("tol", self.tol)
        if (
            isinstance(self.max_iter, bool)
            or not isinstance(self.max_iter, int | np.integer)
            or self.max_iter < 1
        ):
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")

    # -- one fit ----------------------------------------------------------------------
    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sample_weight: np.ndarray | None = None,
    ) -> FitResult:
        fit = fit_gaussian(X, y, tol=self.tol, max_iter=self.max_iter, weights=sample_weight)
        if not fit.converged:
            warnings.warn(
                f"GaussianMLE: the likelihood maximisation did not converge in {fit.n_iter} "
                f"iterations ({fit.why}); converged=False",
                ConvergenceWarning,
                stacklevel=3,
            )
        sigma2 = fit.sigma2
        scores, info = gaussian_scores_information(X, fit.resid, sigma2, sample_weight)
        ctx = CovContext(
            X=X,
            resid=fit.resid,
            scale=np.sqrt(sigma2),
            loss=Squared(),
            scores=scores,
            jacobian=info,
            weights=sample_weight,
        )
        return self._result(
            np.append(fit.beta, sigma2),
            [*names, "sigma2"],
            ctx,
            scale=np.sqrt(sigma2),
            n_iter=fit.n_iter,
            converged=fit.converged,
            loglik=fit.loglik,
            objective=-fit.loglik,
            extra=None if sample_weight is None else {"sample_weight": sample_weight},
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
        """Batched Newton on the joint likelihood, all R fits at once.

        See :func:`~tailreg.solvers.gaussian_mle.fit_gaussian_many`.
        """
        k = X.shape[-1]
        W = sample_weight
        if W is not None and W.ndim == 1:
            W = np.broadcast_to(W, Y.shape)
        fit = fit_gaussian_many(X, Y, tol=self.tol, max_iter=int(self.max_iter), weights=W)
        beta, sigma2, converged, bad = fit.beta, fit.sigma2, fit.converged, fit.perfect
        _warn_unconverged(type(self).__name__, converged)
        resid = Y - EinsumDesign(X).fitted(beta)
        scores, info = gaussian_scores_information(X, resid, sigma2, W)
        ctx = CovContext(
            X=X, resid=resid, scale=np.sqrt(sigma2), scores=scores, jacobian=info, weights=W
        )
        return self._many(
            np.concatenate([beta, sigma2[:, None]], axis=1),
            (*names, "sigma2"),
            k,
            standard_errors(ctx, kinds, valid=~bad),
            scale=np.sqrt(sigma2),
            converged=converged,
            n_iter=fit.n_iter,
        )
