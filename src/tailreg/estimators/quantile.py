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
from functools import partial
from numbers import Integral
from typing import Any

import numpy as np

from .. import theory
from .._linalg import Design
from .._validation import SeedLike, check_in_range, check_positive, check_random_state
from ..exceptions import ConvergenceWarning
from ..inference import quantile_cov
from ..inference.bootstrap import QUANTILE_METHODS, check_boot_method
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
        Replications of the ``bootstrap`` kind (its ``replications`` option).
    random_state : None, int, SeedSequence or Generator
        Seeds the ``bootstrap`` kind (resolved once per fit, so a result's bootstrap
        covariance is reproducible).
    boot_method : {"xy", "pwy", "wild"}, default "xy"
        The ``bootstrap`` kind's ``method`` option (quantreg ``boot.rq`` ``bsmethod``); see
        :mod:`tailreg.inference.bootstrap`.

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
    ``bootstrap`` (xy pairs, Parzen–Wei–Ying or Feng–He–Hu wild; options ``method``,
    ``replications``, ``random_state``; :mod:`tailreg.inference.bootstrap`); ``cluster``
    (Parente & Santos Silva 2016, option ``groups``). Inference uses the t distribution with
    :math:`n-k` degrees of freedom, as ``summary.rq``.

    Observation weights :math:`v_i` (``sample_weight``) give the weighted check loss
    :math:`\sum_i v_i\rho_\tau(y_i - x_i^\top\beta)`, as ``quantreg::rq(weights=)``, which
    is the unweighted problem on the rows :math:`(v_i x_i, v_i y_i)` (:math:`\rho_\tau` is
    positively homogeneous); integer weights therefore give the coefficients of repeated rows.
    Every covariance kind then works on the scaled rows with :math:`n` the number of rows,
    exactly as ``summary.rq`` does for weighted fits (the weights are a row scale there, not
    frequency weights: the standard errors differ from those of repeated rows). ``scale`` is
    :math:`\sum v_i\rho_\tau(r_i) / \sum v_i` and ``loglik`` the weighted log-likelihood.

    Difference from R: ``summary.rq`` counts a residual as zero (``iid``) and shifts the
    ``nid`` quantile differences by the absolute :math:`\sqrt{\epsilon_{mach}}`; here both
    cuts are relative to the data's scale (:mod:`tailreg.inference.quantile_cov`), so every
    kind is equivariant to the units of y and of the columns of X. On unit-scale data the two
    agree (the R references are matched to 1e-6).

    ``fit_many`` solves all replications together with the batched Frisch–Newton method
    (:func:`~tailreg.solvers.frisch_newton_many.frisch_newton_many`) and a batched exact
    vertex polish, whichever ``solver`` is set; replications it cannot certify (degenerate
    vertices, ties) are refitted by ``solver`` one at a time. Objectives are exact either way;
    coefficients equal those of ``fit`` whenever the optimum is unique.
    """

    _cov_kinds = ("iid", "nid", "ker", "bootstrap", "cluster")
    supports_sample_weight = True
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
        boot_method: str = "xy",
    ) -> None:
        self.tau = tau
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.bandwidth = bandwidth
        self.n_boot = n_boot
        self.random_state = random_state
        self.boot_method = boot_method

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
        check_boot_method(self.boot_method, QUANTILE_METHODS)

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
        w = sample_weight
        # rq(weights = v): the unweighted problem on the rows (v_i x_i, v_i y_i) (rq.wfit)
        Xv, yv = (X, y) if w is None else (X * w[:, None], y * w)
        sol = solve_quantile_one(Xv, yv, tau, self.solver)
        if not sol.converged:
            other = SOLVERS[1 - SOLVERS.index(self.solver)]
            warnings.warn(
                f"{type(self).__name__}: the {self.solver} solver did not reach the LP optimum "
                f"(converged=False); try solver={other!r}",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self._solved_result(X, y, names, sol, w)

    def _solved_result(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sol: QuantileSolution,
        w: np.ndarray | None = None,
    ) -> FitResult:
        """The result of the vertex ``sol`` solved on (X, y) with weights ``w`` (also used by
        :class:`~tailreg.estimators.quantile_process.QuantileProcess`)."""
        tau = float(self._tau)
        resid = y - X @ sol.beta
        n, k = X.shape
        loss = Check(tau)
        total = float(n if w is None else w.sum())
        sigma = sol.objective / total
        # the fit is the asymmetric-Laplace MLE of beta; sigma-hat = objective / sum(w) is its
        # (weighted) MLE, and the log-likelihood is the weighted one
        loglik = None
        if sigma > 0:
            lp = loss.logpdf(resid / sigma)
            loglik = float((lp if w is None else w * lp).sum() - total * np.log(sigma))
        ctx = self._cov_context(X, y, resid, sigma, tau, self._bootstrap_seed(), w)
        extra: dict[str, Any] = {"tau": tau, "solver": self.solver, "certified": sol.certified}
        if w is not None:
            extra["sample_weight"] = w
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
        """Batched fits (:func:`~tailreg.solvers.quantile_lp.solve_quantile_many`).

        Both solvers share the batched interior point here, since every returned vertex is
        certified optimal or comes from the single-problem ``solver`` itself. ``iid``, ``nid``
        and ``ker`` are vectorised over the replications; the bootstrap kinds batch their
        refits within each replication (a seed drawn per replication, as ``fit`` does).
        Weights with zeros (rows absent from some fits) are fitted one replication at a time
        with those rows dropped, which is what ``fit`` does.
        """
        W = sample_weight
        if W is not None and not np.all(W > 0):
            return super()._fit_many(X, Y, names, kinds, sample_weight=W)
        tau = float(self._tau)
        R, n = Y.shape
        if W is None:
            Xv, Yv = X, Y
        else:
            Xv = W[..., None] * X  # (n,) or (R, n) weights: (n, k) or (R, n, k) rows
            Yv = Y * W
        beta, obj, n_iter, converged, _ = solve_quantile_many(Xv, Yv, tau, self.solver)
        resid = Y - Design(X).fitted(beta)
        scale = obj / (n if W is None else np.broadcast_to(W, Y.shape).sum(axis=1))
        seeds = [self._bootstrap_seed() if _needs_seed(kinds) else None for _ in range(R)]
        ctx = self._cov_context(X, Y, resid, scale, tau, seeds, W)
        se = standard_errors(
            replace(ctx, row_options=("y", "seed")), kinds, valid=np.all(np.isfinite(beta), axis=1)
        )
        _warn_unconverged(type(self).__name__, converged)
        return self._many(
            beta, names, X.shape[-1], se, scale=scale, converged=converged, n_iter=n_iter
        )

    def _cov_context(
        self,
        X: np.ndarray,
        y: np.ndarray,
        resid: np.ndarray,
        sigma: Any,
        tau: float,
        seed: Any,
        w: np.ndarray | None = None,
    ) -> CovContext:
        """The covariance context; with weights v it holds the scaled rows, as ``summary.rq``.

        ``summary.rq`` multiplies x, y and the residuals of a weighted fit by v and applies
        the unweighted formulas (with n the number of rows) to the scaled rows; every quantile
        kind here reads the context's ``X``, ``resid`` and ``options["y"]``, so they are the
        scaled ones (``weights`` keeps v itself).
        """
        if w is not None:
            X = X * w[..., None]
            y, resid = y * w, resid * w
        return CovContext(
            X=X,
            resid=resid,
            scale=sigma,
            loss=Check(tau),
            weights=w,
            refit=partial(_refit_rows, tau=tau, solver=self.solver),
            options={
                "tau": tau,
                "y": y,
                "solver": self.solver,
                "bandwidth": self.bandwidth,
                "n_boot": int(self.n_boot),
                "replications": int(self.n_boot),
                "method": self.boot_method,
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


def _needs_seed(kinds: tuple[str, ...]) -> bool:
    return any(k in ("bootstrap", "cluster") for k in kinds)


def _refit_rows(
    X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None, *, tau: float, solver: str
) -> np.ndarray:
    """The batched refit of the bootstrap kinds: regression quantiles of (B, n) responses.

    Weights scale the rows, as ``rq(weights=)``; all problems go to the batched solver.
    """
    Y = np.atleast_2d(Y)
    if sample_weight is not None:
        W = np.atleast_2d(sample_weight)
        X = W[:, :, None] * X if X.ndim == 3 else W[:, :, None] * X[None]
        Y = Y * W
    return solve_quantile_many(X, Y, tau, solver)[0]


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
        boot_method: str = "xy",
    ) -> None:
        # no super().__init__: sklearn reads the parameters from this signature, without tau
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.bandwidth = bandwidth
        self.n_boot = n_boot
        self.random_state = random_state
        self.boot_method = boot_method

    study_name = "lad"
    objective_doc = "sum of rho_0.5(r_i) = sum |r_i| / 2"

    @property
    def _tau(self) -> float:
        return 0.5

    def _target_loss(self) -> Loss:
        return Absolute()
