r"""Quantile regression and LAD: exact solutions of the Koenker–Bassett linear program.

:math:`\hat\beta(\tau) = \arg\min_\beta \sum_i \rho_\tau(y_i - x_i^\top\beta)` with the check loss
:math:`\rho_\tau(u) = u(\tau - 1\{u<0\})` — the MLE of :math:`\beta` under asymmetric Laplace
errors; :math:`\tau = 1/2` is least absolute deviations, the Laplace MLE.

The linear programs are solved in :mod:`tailreg.solvers.quantile_lp` (HiGHS on the dual, the
Frisch–Newton interior point, batched for ``fit_many``, each finished by an exact certified
vertex polish); this module holds the estimator: configuration, covariance kinds, results.
"""

from __future__ import annotations

import warnings
from functools import partial
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from .. import theory
from .._validation import SeedLike, check_in_range, check_positive, check_random_state
from ..exceptions import ConvergenceWarning
from ..inference import quantile_cov
from ..inference.covariance import CovContext, covariance
from ..inference.results import FitResult, ManyFits
from ..losses import Absolute, Check, Loss
from ..solvers.quantile_lp import (
    SOLVERS,
    QuantileSolution,
    check_solver,
    solve_quantile,
    solve_quantile_many,
    solve_quantile_one,
)
from ..theory import Target
from ._base import BaseRegressor, _warn_unconverged

__all__ = ["LAD", "QuantileRegression", "QuantileSolution", "solve_quantile"]


def _refit(X: np.ndarray, y: np.ndarray, tau: float, solver: str) -> np.ndarray:
    """Refit used by the nid/iid/bootstrap kinds (module level so results pickle)."""
    return solve_quantile_one(X, y, tau, solver).beta


def _refit_many(X: np.ndarray, Y: np.ndarray, tau: float, solver: str) -> np.ndarray:
    """Batched refit of the iid/nid kinds: the single fits' solutions even when not unique."""
    return solve_quantile_many(X, Y, tau, solver, unique=True)[0]


class QuantileRegression(BaseRegressor):
    r"""Linear quantile regression (Koenker & Bassett 1978), solved exactly as a linear program.

    Parameters
    ----------
    tau : float in (0, 1), default 0.5
        The quantile.
    solver : {"highs", "interior-point"}, default "highs"
        LP solver; see :func:`~tailreg.solvers.quantile_lp.solve_quantile`.
    fit_intercept : bool, default True
    bandwidth : {"hs", "bofinger"}, default "hs"
        Bandwidth rule of the ``iid``, ``nid`` and ``ker`` covariance kinds: Hall & Sheather
        (1988) or Bofinger (1975), as R quantreg's ``hs=TRUE/FALSE``.
    n_boot : int, default 200
        Replications of the ``bootstrap`` kind.
    random_state : None, int, SeedSequence or Generator
        Seeds the ``bootstrap`` kind (resolved once per fit, so a result's bootstrap
        covariance is reproducible).

    Attributes
    ----------
    coef_, intercept_ : fitted coefficients.
    result_ : FitResult
        ``objective`` is :math:`\sum_i\rho_\tau(r_i)`, ``scale`` the asymmetric-Laplace MLE
        :math:`\hat\sigma = \sum_i\rho_\tau(r_i)/n` and ``loglik`` the asymmetric-Laplace
        log-likelihood at :math:`(\hat\beta, \hat\sigma)`,
        :math:`n\log(\tau(1-\tau)/\hat\sigma) - n` (Yu & Moyeed 2001; ``aic``/``bic`` count
        :math:`\sigma`); ``extra`` holds ``tau``, ``solver`` and ``certified``.

    Notes
    -----
    Covariance kinds (Koenker 2005, chapter 3; R quantreg ``summary.rq``): ``iid``
    (default) :math:`\tau(1-\tau)\hat s^2 (X^\top X)^{-1}` with the Koenker–Bassett
    difference-quotient sparsity :math:`\hat s`; ``nid`` (Hendricks & Koenker 1992) and ``ker``
    (Powell 1991) sandwiches :math:`\tau(1-\tau) (X^\top F X)^{-1} X^\top X (X^\top F X)^{-1}`;
    ``bootstrap`` (xy-pairs). Inference uses the t distribution with :math:`n-k` degrees of
    freedom, as ``summary.rq``.

    ``fit_many`` solves all replications together with the batched Frisch–Newton method
    (:func:`~tailreg.solvers.frisch_newton_many.frisch_newton_many`) and a batched exact
    vertex polish, whichever ``solver`` is set; replications it cannot certify (degenerate
    vertices, ties) are refitted by ``solver`` one at a time. Objectives are exact either way;
    coefficients equal those of ``fit`` whenever the optimum is unique.
    """

    _cov_kinds = ("iid", "nid", "ker", "bootstrap")
    study_name = "quantile"
    objective_doc = "sum of rho_tau(r_i), the check loss"

    def __init__(
        self,
        tau: float = 0.5,
        solver: str = "highs",
        fit_intercept: bool = True,
        bandwidth: str = "hs",
        n_boot: int = 200,
        random_state: SeedLike = None,
    ) -> None:
        self.tau = tau
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.bandwidth = bandwidth
        self.n_boot = n_boot
        self.random_state = random_state

    @property
    def _tau(self) -> float:
        return self.tau

    def _target_loss(self) -> Loss:
        return Check(float(self._tau))

    @property
    def loss(self) -> Check:
        """The check loss at ``tau``."""
        return Check(float(self._tau))

    def target(self, law: Any) -> Target:
        """The tau-quantile of the law (Koenker & Bassett 1978)."""
        return theory.target(self._target_loss(), law, 1.0)

    def _check_params(self) -> None:
        check_in_range("tau", self._tau, 0.0, 1.0)
        check_solver(self.solver)
        if self.bandwidth not in quantile_cov.BANDWIDTHS:
            raise ValueError(
                f"bandwidth must be one of {list(quantile_cov.BANDWIDTHS)}, got {self.bandwidth!r}"
            )
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, Integral):
            raise ValueError(f"n_boot must be an integer >= 2, got {self.n_boot!r}")
        check_positive("n_boot", self.n_boot)
        if self.n_boot < 2:
            raise ValueError(f"n_boot must be an integer >= 2, got {self.n_boot!r}")

    def _fit(self, X, y, names):
        tau = float(self._tau)
        sol = solve_quantile_one(X, y, tau, self.solver)
        name = type(self).__name__
        other = SOLVERS[1 - SOLVERS.index(self.solver)]
        if not sol.converged:
            warnings.warn(
                f"{name}: the {self.solver} solver did not reach the LP optimum "
                f"(converged=False); try solver={other!r}",
                ConvergenceWarning,
                stacklevel=3,
            )
        resid = y - X @ sol.beta
        n, k = X.shape
        loss = Check(tau)
        sigma = sol.objective / n
        # the fit is the asymmetric-Laplace MLE of beta; sigma-hat = objective / n is its MLE
        loglik = float(loss.logpdf(resid / sigma).sum() - n * np.log(sigma)) if sigma > 0 else None
        # draw the bootstrap seed now: a result's bootstrap covariance is then fixed, and an
        # int random_state gives the same draws on every fit
        seed = np.random.SeedSequence(check_random_state(self.random_state).integers(2**63, size=2))
        ctx = self._cov_context(X, y, resid, sigma, tau, seed)
        return FitResult(
            params=pd.Series(sol.beta, index=names, name="coef"),
            cov_context=ctx,
            cov_kinds=self._cov_kinds,
            cov_kind=self.default_cov_kind,
            nobs=n,
            df_resid=n - k,
            scale=sigma,
            n_iter=sol.n_iter,
            converged=sol.converged,
            resid=resid,
            estimator=name,
            use_t=True,
            objective=sol.objective,
            loglik=loglik,
            k_params=k + 1,
            extra={"tau": tau, "solver": self.solver, "certified": sol.certified},
        )

    def _fit_many(self, X, Y, names, kinds):
        """Batched fits (:func:`~tailreg.solvers.quantile_lp.solve_quantile_many`).

        ``iid``, ``nid`` and ``ker`` are vectorised over the replications.

        Both solvers share the batched interior point here, since every returned vertex is
        certified optimal or comes from the single-problem ``solver`` itself. ``bootstrap``
        is computed one replication at a time, exactly as ``fit`` does; a kind that fails for
        a replication gives NaN there (as the base-class loop).
        """
        tau = float(self._tau)
        R, n = Y.shape
        k = X.shape[-1]
        beta, obj, n_iter, converged, _ = solve_quantile_many(X, Y, tau, self.solver)
        resid = Y - (beta @ X.T if X.ndim == 2 else (X @ beta[:, :, None])[:, :, 0])
        scale = obj / n
        se: dict[str, np.ndarray] = {}
        for kind in kinds:
            if kind in ("iid", "nid"):
                # unique=True: where the refits' optimum is not unique (often for the
                # sparsity's median regression on few points), the single fit's choice
                refit_many = partial(_refit_many, solver=self.solver)
                h = quantile_cov.BANDWIDTHS[self.bandwidth](tau, n)
                if kind == "iid":
                    se[kind] = quantile_cov.iid_se_many(X, resid, tau, h, refit_many)
                else:
                    se[kind] = quantile_cov.nid_se_many(X, Y, tau, h, refit_many)
                continue
            if kind == "ker":  # vectorised over the replications by the kind itself
                try:
                    ctx = self._cov_context(X, Y, resid, scale, tau, None)
                    se[kind] = np.sqrt(np.diagonal(covariance(kind, ctx), axis1=-2, axis2=-1))
                    continue
                except (ValueError, np.linalg.LinAlgError):
                    pass  # e.g. tau +/- h outside (0, 1): NaN, or one failed fit: loop below
            se[kind] = np.full((R, k), np.nan)
            seeds = None
            if kind == "bootstrap":
                seeds = [
                    np.random.SeedSequence(
                        check_random_state(self.random_state).integers(2**63, size=2)
                    )
                    for _ in range(R)
                ]
            for i in range(R):
                if not np.all(np.isfinite(beta[i])):
                    continue
                ctx = self._cov_context(
                    X if X.ndim == 2 else X[i],
                    Y[i],
                    resid[i],
                    scale[i],
                    tau,
                    None if seeds is None else seeds[i],
                )
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        se[kind][i] = np.sqrt(np.diag(covariance(kind, ctx)))
                except (ValueError, np.linalg.LinAlgError):
                    pass
        _warn_unconverged(type(self).__name__, converged)
        return ManyFits(beta, tuple(names), k, se, scale, converged, n_iter)

    def _cov_context(self, X, y, resid, sigma, tau, seed) -> CovContext:
        return CovContext(
            X=X,
            resid=resid,
            scale=sigma,
            loss=Check(tau),
            options={
                "tau": tau,
                "y": y,
                "refit": partial(_refit, solver=self.solver),
                "bandwidth": self.bandwidth,
                "n_boot": int(self.n_boot),
                "seed": seed,
            },
        )


class LAD(QuantileRegression):
    r"""Least absolute deviations, :math:`\arg\min\sum_i|y_i - x_i^\top\beta|`: the Laplace MLE.

    :class:`QuantileRegression` with ``tau = 0.5`` fixed (its ``objective`` is
    :math:`\sum_i\rho_{1/2}(r_i) = \tfrac12\sum_i|r_i|`, as R's ``rq``). Parameters as there,
    without ``tau``.
    """

    def __init__(
        self,
        solver: str = "highs",
        fit_intercept: bool = True,
        bandwidth: str = "hs",
        n_boot: int = 200,
        random_state: SeedLike = None,
    ) -> None:
        # no super().__init__: sklearn reads the parameters from this signature, without tau
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.bandwidth = bandwidth
        self.n_boot = n_boot
        self.random_state = random_state

    study_name = "lad"
    objective_doc = "sum of rho_0.5(r_i) = sum |r_i| / 2"

    @property
    def _tau(self) -> float:
        return 0.5

    def _target_loss(self) -> Loss:
        return Absolute()
