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
from dataclasses import replace
from numbers import Integral
from typing import Any

import numpy as np

from .. import theory
from .._linalg import Design
from .._validation import SeedLike, check_in_range, check_positive, check_random_state
from ..exceptions import ConvergenceWarning
from ..inference import quantile_cov
from ..inference.covariance import CovContext, standard_errors
from ..inference.quantile_rank import rank_conf_int_fitted
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
    use_t = True
    use_t_doc = "t with n - k degrees of freedom, as quantreg's summary.rq"

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

    def _bootstrap_seed(self) -> np.random.SeedSequence:
        # drawn when fitting: a result's bootstrap covariance is then fixed, and an int
        # random_state gives the same draws on every fit
        return np.random.SeedSequence(check_random_state(self.random_state).integers(2**63, size=2))

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sample_weight: np.ndarray | None = None,
    ) -> FitResult:
        tau = float(self._tau)
        sol = solve_quantile_one(X, y, tau, self.solver)
        if not sol.converged:
            other = SOLVERS[1 - SOLVERS.index(self.solver)]
            warnings.warn(
                f"{type(self).__name__}: the {self.solver} solver did not reach the LP optimum "
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
        ctx = self._cov_context(X, y, resid, sigma, tau, self._bootstrap_seed())
        return self._result(
            sol.beta,
            names,
            ctx,
            scale=sigma,
            n_iter=sol.n_iter,
            converged=sol.converged,
            objective=sol.objective,
            loglik=loglik,
            k_params=k + 1,
            extra={"tau": tau, "solver": self.solver, "certified": sol.certified},
        )

    def _fit_many(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        names: list[str],
        kinds: tuple[str, ...],
        sample_weight: np.ndarray | None = None,
    ) -> ManyFits:
        """Batched fits (:func:`~tailreg.solvers.quantile_lp.solve_quantile_many`).

        Both solvers share the batched interior point here, since every returned vertex is
        certified optimal or comes from the single-problem ``solver`` itself. ``iid``, ``nid``
        and ``ker`` are vectorised over the replications; ``bootstrap`` is computed one
        replication at a time, exactly as ``fit`` does (a seed drawn per replication).
        """
        tau = float(self._tau)
        R, n = Y.shape
        beta, obj, n_iter, converged, _ = solve_quantile_many(X, Y, tau, self.solver)
        resid = Y - Design(X).fitted(beta)
        scale = obj / n
        seeds = [self._bootstrap_seed() if "bootstrap" in kinds else None for _ in range(R)]
        ctx = self._cov_context(X, Y, resid, scale, tau, seeds)
        se = standard_errors(
            replace(ctx, row_options=("y", "seed")), kinds, valid=np.all(np.isfinite(beta), axis=1)
        )
        _warn_unconverged(type(self).__name__, converged)
        return self._many(
            beta, names, X.shape[-1], se, scale=scale, converged=converged, n_iter=n_iter
        )

    def _cov_context(
        self, X: np.ndarray, y: np.ndarray, resid: np.ndarray, sigma: Any, tau: float, seed: Any
    ) -> CovContext:
        return CovContext(
            X=X,
            resid=resid,
            scale=sigma,
            loss=Check(tau),
            options={
                "tau": tau,
                "y": y,
                "solver": self.solver,
                "bandwidth": self.bandwidth,
                "n_boot": int(self.n_boot),
                "seed": seed,
            },
        )

    def rank_conf_int(self, level: float = 0.95, iid: bool = True) -> Any:
        r"""Rank-inversion confidence intervals (Koenker 1994), as ``summary.rq(se = "rank")``.

        ``summary(rq(...), se = "rank", iid = iid, alpha = 1 - level)``: the values of each
        coefficient that the regression rank-score test does not reject, interpolated between
        the kinks of the statistic (:func:`~tailreg.inference.quantile_rank.rank_conf_int`).
        ``iid=False`` scales the statistic with local densities from the fits at
        :math:`\tau \pm h` (``bandwidth``; quantreg's is Hall–Sheather).

        Cost: exact parametric simplex walks, one per coefficient and side, each crossing
        :math:`O(\sqrt n)` kinks of :math:`O(nk)` work (:math:`O(k^2 n^{3/2})` in all; a
        few ms at n = 100, about 0.1 s at n = 5000, k = 3). quantreg makes these intervals
        its default for n < 1001 (the ``nid`` sandwich above): they need no density estimate,
        keep their level in small samples and may be asymmetric, but give no covariance.

        Returns
        -------
        pandas.DataFrame
            Index the coefficient names, columns ``lower``, ``upper``.
        """
        return rank_conf_int_fitted(self, level=level, iid=iid)


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
