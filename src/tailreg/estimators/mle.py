r"""Gaussian maximum likelihood, fitted by numerical optimisation of the likelihood itself.

Least squares *is* the Gaussian MLE of :math:`\beta`. This module reaches the same point by a
separate road — maximising

.. math::
    \ell(\beta, \sigma) = -\frac n2\log(2\pi\sigma^2)
        - \frac{1}{2\sigma^2}\sum_i (y_i - x_i^\top\beta)^2

jointly over :math:`(\beta, \log\sigma)` with a Newton-type optimiser — so that the
equivalence "OLS = Gaussian MLE" is checked by two code paths rather than assumed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize

from .. import theory
from .._validation import check_positive
from ..exceptions import ConvergenceWarning
from ..inference.covariance import CovContext, covariance
from ..inference.results import FitResult, ManyFits
from ..losses import Squared
from ..theory import Target
from ._base import BaseRegressor, _warn_unconverged

__all__ = ["GaussianMLE", "gaussian_scores_information"]

_LOG_2PI = np.log(2.0 * np.pi)
PERFECT_FIT_MESSAGE = (
    "perfect fit: residual variance is zero, the Gaussian likelihood is unbounded "
    "(y is an exact linear function of X)"
)
#: Newton steps polishing the optimiser's answer (quadratic convergence: 2 reach rounding level)
_POLISH_STEPS = 3
#: back-tracking halvings allowed per batched Newton step
_MAX_HALVINGS = 40


def gaussian_scores_information(
    X: np.ndarray, resid: np.ndarray, sigma2: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-observation scores and observed information of :math:`\theta = (\beta, \sigma^2)`.

    With :math:`r_i = y_i - x_i^\top\beta`,

    .. math::
        s_i = \left(\frac{x_i r_i}{\sigma^2},\;
              -\frac{1}{2\sigma^2} + \frac{r_i^2}{2\sigma^4}\right), \qquad
        J = -\sum_i \frac{\partial s_i}{\partial\theta^\top} =
        \begin{pmatrix} X^\top X/\sigma^2 & X^\top r/\sigma^4 \\
                        r^\top X/\sigma^4 & -n/(2\sigma^4) + \sum r_i^2/\sigma^6
        \end{pmatrix},

    which at the MLE (:math:`X^\top r = 0`, :math:`\sigma^2 = RSS/n`) is
    :math:`\operatorname{diag}(X^\top X/\sigma^2,\ n/(2\sigma^4))`.

    Parameters
    ----------
    X : ndarray (n, k) shared or (R, n, k)
    resid : ndarray (n,) or (R, n)
    sigma2 : float or ndarray (R,)

    Returns
    -------
    scores : ndarray (..., n, k + 1)
    information : ndarray (..., k + 1, k + 1)
    """
    resid = np.asarray(resid, dtype=float)
    s2 = np.asarray(sigma2, dtype=float)
    n, k = X.shape[-2:]
    batch = np.broadcast_shapes(X.shape[:-2], resid.shape[:-1], s2.shape)
    s2n = s2[..., None]  # (..., 1) against the n axis
    scores = np.empty((*batch, n, k + 1))
    scores[..., :k] = X * (resid / s2n)[..., None]
    scores[..., k] = -0.5 / s2n + 0.5 * resid**2 / s2n**2
    info = np.empty((*batch, k + 1, k + 1))
    s2m = s2[..., None, None]
    info[..., :k, :k] = np.swapaxes(X, -1, -2) @ X / s2m
    cross = np.einsum("...ij,...i->...j", X, resid) / s2n**2
    info[..., :k, k] = cross
    info[..., k, :k] = cross
    rss = (resid**2).sum(axis=-1)
    info[..., k, k] = -0.5 * n / s2**2 + rss / s2**3
    return scores, info


class _Standardised:
    r"""The problem in standardised coordinates, where one Newton method fits every data set.

    When the design has a constant column, the other regressors are centred and scaled to
    unit standard deviation and the response centred and scaled likewise; without one,
    columns and response are only scaled to unit root mean square. This affine change of
    coordinates leaves the MLE equivariant (it maps back exactly) but removes the
    intercept--regressor collinearity that otherwise slows the optimisers to a crawl
    (a regressor with mean 1e5 and sd 1 makes :math:`X^\top X` condition ~1e20).

    Batched: ``X`` (n, k) shared or (R, n, k); ``Y`` (R, n).
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray) -> None:
        first = X[..., :1, :]
        self.const = np.all(first == X, axis=-2) & (first[..., 0, :] != 0)  # (..., k)
        has_const = self.const.any(axis=-1, keepdims=True)
        self.m = np.where(has_const & ~self.const, X.mean(axis=-2), 0.0)
        sd = np.sqrt(np.mean((X - self.m[..., None, :]) ** 2, axis=-2))
        # a zero-variance column (rank deficiency in one replication of a stacked design)
        # keeps s = 1 and is caught as a perfect fit below
        self.s = np.where(self.const, first[..., 0, :], np.where(sd > 0, sd, 1.0))
        self.Z = (X - self.m[..., None, :]) / self.s[..., None, :]
        self.mu = np.where(np.broadcast_to(has_const[..., 0], Y.shape[:-1]), Y.mean(axis=-1), 0.0)
        Yc = Y - self.mu[:, None]
        self.c = np.sqrt(np.mean(Yc * Yc, axis=-1))  # (R,)
        self.degenerate = self.c == 0
        self.V = Yc / np.where(self.degenerate, 1.0, self.c)[:, None]

    def beta(self, b: np.ndarray) -> np.ndarray:
        """Coefficients on the original scale (R, k) from standardised ones ``b`` (R, k)."""
        beta = self.c[:, None] * b / self.s
        shift = self.mu - np.sum(self.m * beta, axis=-1)
        return beta + shift[:, None] * self.const / self.s

    def perfect_fit(self) -> np.ndarray:
        """True where the response is (to rounding) an exact linear function of X (R,).

        Decided by the smallest singular value of the augmented matrix ``[Z, v]``, with
        the relative tolerance of the design's rank check: an exact-fit test that does not
        solve the least-squares problem.
        """
        n, k = self.Z.shape[-2:]
        Zb = np.broadcast_to(self.Z, (*self.V.shape[:-1], n, k))
        sv = np.linalg.svd(np.concatenate([Zb, self.V[..., None]], axis=-1), compute_uv=False)
        tiny = sv[..., -1] <= 10.0 * max(n, k + 1) * np.finfo(float).eps * sv[..., 0]
        return self.degenerate | tiny


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
    """

    _cov_kinds = ("oim", "sandwich")
    study_name = "gaussian_mle"
    nuisance_names = ("sigma2",)
    objective_doc = "negative log-likelihood"
    _min_extra_rows = 1

    def __init__(self, fit_intercept: bool = True, tol: float = 1e-8, max_iter: int = 100) -> None:
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    @property
    def loss(self) -> Squared:
        """The Gaussian negative log-likelihood in beta is the squared loss."""
        return Squared()

    def target(self, law) -> Target:
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
    def _fit(self, X, y, names):
        n, k = X.shape
        std = _Standardised(X, y[None, :])
        if std.perfect_fit()[0]:
            raise ValueError(PERFECT_FIT_MESSAGE)
        Z, v, c = std.Z, std.V[0], float(std.c[0])
        zz = Z.T @ Z

        # standardised negative log-likelihood per observation (constants dropped):
        # f(b, eta) = eta + ||v - Z b||^2 e^{-2 eta} / (2n)
        def parts(theta):
            b, eta = theta[:k], theta[k]
            r = v - Z @ b
            w = np.exp(-2.0 * eta) / n
            return r, w, float(r @ r)

        def fun(theta):
            _, w, rss = parts(theta)
            return theta[k] + 0.5 * rss * w

        def jac(theta):
            r, w, rss = parts(theta)
            return np.append(-w * (Z.T @ r), 1.0 - w * rss)

        def hess(theta):
            r, w, rss = parts(theta)
            h = np.empty((k + 1, k + 1))
            h[:k, :k] = w * zz
            h[:k, k] = h[k, :k] = 2.0 * w * (Z.T @ r)
            h[k, k] = 2.0 * w * rss
            return h

        # crude start: beta = 0 with the sigma that goes with it (unit, by the scaling)
        theta0 = np.zeros(k + 1)
        theta0[k] = 0.5 * np.log(np.mean(v * v))
        res = optimize.minimize(
            fun,
            theta0,
            jac=jac,
            hess=hess,
            method="trust-exact",
            options={"gtol": self.tol, "maxiter": int(self.max_iter)},
        )
        theta, n_iter = res.x, int(res.nit)
        # Polish with Newton steps and judge convergence by the Newton decrement
        # lambda^2 = g'H^{-1}g, which is affine invariant: a gradient test is not (in
        # near-perfect fits rounding alone puts |g| ~ eps/sigma^2 at the optimum). Skipped
        # when the iteration budget ran out, so that max_iter means what it says.
        decrement = np.inf
        if res.status != 1 and np.all(np.isfinite(theta)):
            for _ in range(_POLISH_STEPS):
                g = jac(theta)
                try:
                    step = -np.linalg.solve(hess(theta), g)
                except np.linalg.LinAlgError:
                    break
                decrement = float(-g @ step)
                if not decrement >= 0:  # Hessian not positive definite here
                    decrement = np.inf
                    break
                theta = theta + step
                n_iter += 1
                if decrement <= (1e-3 * self.tol) ** 2:
                    break
        converged = bool(np.all(np.isfinite(theta)) and np.sqrt(decrement) <= self.tol)
        if not converged:
            why = (
                f"stopped at max_iter={self.max_iter}"
                if res.status == 1
                else f"Newton decrement {np.sqrt(decrement):.3g} > tol={self.tol:g}; {res.message}"
            )
            warnings.warn(
                f"GaussianMLE: the likelihood maximisation did not converge in {n_iter} "
                f"iterations ({why}); converged=False",
                ConvergenceWarning,
                stacklevel=3,
            )

        beta = std.beta(theta[None, :k])[0]
        sigma2 = c * c * np.exp(2.0 * theta[k])
        resid = y - X @ beta
        rss = float(resid @ resid)
        loglik = -0.5 * n * (_LOG_2PI + np.log(sigma2)) - 0.5 * rss / sigma2
        scores, info = gaussian_scores_information(X, resid, sigma2)
        ctx = CovContext(
            X=X, resid=resid, scale=np.sqrt(sigma2), loss=Squared(), scores=scores, jacobian=info
        )
        return FitResult(
            params=pd.Series(np.append(beta, sigma2), index=[*names, "sigma2"], name="coef"),
            cov_context=ctx,
            cov_kinds=self._cov_kinds,
            cov_kind=self.default_cov_kind,
            nobs=n,
            df_resid=n - k,
            scale=float(np.sqrt(sigma2)),
            n_iter=n_iter,
            converged=converged,
            resid=resid,
            estimator="GaussianMLE",
            use_t=False,
            loglik=float(loglik),
            objective=float(-loglik),
        )

    # -- many fits --------------------------------------------------------------------
    def _fit_many(self, X, Y, names, kinds):
        r"""Batched Newton on the joint likelihood, all R replications in stacked arrays.

        Uses Olsen's (1978) reparametrisation :math:`\gamma = \beta/\sigma`,
        :math:`\tau = 1/\sigma`, in which the negative log-likelihood
        :math:`-n\log\tau + \tfrac12\lVert\tau v - Z\gamma\rVert^2` is strictly convex, so
        Newton with back-tracking converges from the crude start :math:`\gamma = 0` for every
        replication at once; the loop runs over iterations, never over R.
        """
        R = Y.shape[0]
        n, k = X.shape[-2:]
        std = _Standardised(X, Y)
        Z, V, c = std.Z, std.V, std.c
        bad = std.perfect_fit()

        zz = np.swapaxes(Z, -1, -2) @ Z  # (k, k) or (R, k, k)
        zv = _zt(Z, V)  # (R, k)
        vv = np.einsum("rn,rn->r", V, V)

        def nll(gam, tau):
            e = tau[:, None] * V - _zb(Z, gam)
            with np.errstate(divide="ignore", invalid="ignore"):
                return -n * np.log(tau) + 0.5 * np.einsum("rn,rn->r", e, e)

        gam = np.zeros((R, k))
        tau = np.ones(R)  # sigma = 1 is the scale that goes with beta = 0 (unit-RMS v)
        f = nll(gam, tau)
        active = ~bad
        converged = np.zeros(R, dtype=bool)
        n_iter = np.zeros(R, dtype=int)
        hess = np.empty((R, k + 1, k + 1))
        hess[:, :k, :k] = zz
        for _ in range(int(self.max_iter)):
            if not active.any():
                break
            e = tau[:, None] * V - _zb(Z, gam)
            grad = np.concatenate(
                [-_zt(Z, e), (-n / tau + np.einsum("rn,rn->r", V, e))[:, None]], 1
            )
            hess[:, :k, k] = hess[:, k, :k] = -zv
            hess[:, k, k] = n / tau**2 + vv
            hess[bad] = np.eye(k + 1)  # keep the batched solve defined; results set to NaN
            step = -np.linalg.solve(hess, grad[..., None])[..., 0]
            step[~active] = 0.0
            decrement = -np.einsum("rq,rq->r", grad, step) / n  # lambda^2 of -loglik/n
            # Back-tracking (Armijo) keeps tau > 0 and the likelihood increasing. f is
            # self-concordant (Nesterov & Nemirovski 1994), so once lambda < 1/4 the full
            # step converges quadratically; there the Armijo test could not even resolve
            # the decrease at rounding level, so it is skipped.
            t = np.ones(R)
            for _ in range(_MAX_HALVINGS):
                new_tau = tau + t * step[:, k]
                f_new = nll(gam + t[:, None] * step[:, :k], np.where(new_tau > 0, new_tau, 1.0))
                ok = (new_tau > 0) & (f_new <= f - 1e-4 * t * n * decrement)
                ok |= ~active | (n * decrement < 1.0 / 16.0)
                if ok.all():
                    break
                t = np.where(ok, t, 0.5 * t)
            gam = gam + t[:, None] * step[:, :k]
            tau = tau + t * step[:, k]
            # exact minimisation along the ray (t gam, t tau), i.e. sigma^2 = RSS(beta)/n for
            # the current beta: without it tau only doubles per step when the fit is tight
            e = tau[:, None] * V - _zb(Z, gam)
            ray = np.sqrt(n / np.einsum("rn,rn->r", e, e))
            ray = np.where(active & np.isfinite(ray), ray, 1.0)
            gam *= ray[:, None]
            tau *= ray
            f = nll(gam, tau)
            n_iter += active
            done = active & (np.sqrt(decrement) <= self.tol)
            converged |= done
            active &= ~done

        beta = std.beta(gam / tau[:, None])
        sigma2 = (c / tau) ** 2
        beta[bad] = np.nan
        sigma2[bad] = np.nan
        converged &= np.isfinite(sigma2)
        _warn_unconverged(type(self).__name__, converged)
        resid = Y - _zb(X, beta)
        scores, info = gaussian_scores_information(X, resid, sigma2)
        ctx = CovContext(X=X, resid=resid, scale=np.sqrt(sigma2), scores=scores, jacobian=info)
        se = {}
        for kind in kinds:
            cov = np.full((R, k + 1, k + 1), np.nan)
            ok = ~bad
            if ok.any():
                sub = CovContext(
                    X=X if X.ndim == 2 else X[ok],
                    resid=resid[ok],
                    scale=ctx.scale[ok],
                    scores=scores[ok],
                    jacobian=info[ok],
                )
                cov[ok] = covariance(kind, sub)
            se[kind] = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
        return ManyFits(
            np.concatenate([beta, sigma2[:, None]], axis=1),
            (*names, "sigma2"),
            k,
            se,
            np.sqrt(sigma2),
            converged,
            n_iter,
        )


def _zb(Z: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise :math:`Z b_r` (R, n) for a shared (n, k) or stacked (R, n, k) design."""
    return b @ Z.T if Z.ndim == 2 else np.einsum("rnk,rk->rn", Z, b)


def _zt(Z: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Row-wise :math:`Z^\\top e_r` (R, k)."""
    return e @ Z if Z.ndim == 2 else np.einsum("rnk,rn->rk", Z, e)
