r"""Quantile regression and LAD: exact solutions of the Koenker–Bassett linear program.

:math:`\hat\beta(\tau) = \arg\min_\beta \sum_i \rho_\tau(y_i - x_i^\top\beta)` with the check loss
:math:`\rho_\tau(u) = u(\tau - 1\{u<0\})` — the MLE of :math:`\beta` under asymmetric Laplace
errors; :math:`\tau = 1/2` is least absolute deviations, the Laplace MLE.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from functools import partial
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import LinAlgError, solve_triangular
from scipy.optimize import linprog

from .._validation import SeedLike, check_in_range, check_positive, check_random_state
from ..exceptions import ConvergenceWarning
from ..inference import quantile_cov
from ..inference.covariance import CovContext
from ..inference.results import FitResult
from ..losses import Check
from ._base import BaseRegressor
from ._frisch_newton import frisch_newton, response_scale, vertex_polish

__all__ = ["LAD", "QuantileRegression", "QuantileSolution", "solve_quantile"]

SOLVERS = ("highs", "interior-point")
#: HiGHS's tightest tolerances (defaults 1e-7): with unit-scale data, a 1e-7 slack on each
#: of n constraints could move the objective by about 1e-7 relative, above our 1e-8 target
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass(frozen=True, slots=True)
class QuantileSolution:
    """A regression quantile with its solver diagnostics.

    Attributes
    ----------
    beta : ndarray (k,)
    objective : float
        :math:`\\sum_i \\rho_\\tau(y_i - x_i^\\top\\hat\\beta)`.
    n_iter : int
        Simplex/IPM iterations reported by HiGHS, or Frisch–Newton iterations.
    converged : bool
        The solver reached its tolerance or the vertex polish certified optimality.
    certified : bool
        ``beta`` is a basic solution proven optimal by :func:`vertex_polish`.
    solver : str
    """

    beta: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    certified: bool
    solver: str


def _check_solver(solver: str) -> str:
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {list(SOLVERS)}, got {solver!r}")
    return solver


def _highs(X: np.ndarray, y: np.ndarray, tau: float) -> tuple[np.ndarray, int, bool]:
    r"""The primal LP of Koenker & Bassett (1978) solved by HiGHS.

    :math:`\min \tau 1^\top u + (1-\tau) 1^\top v` over :math:`b^+, b^-, u, v \ge 0` subject to
    :math:`X b^+ - X b^- + u - v = y`, :math:`\beta = b^+ - b^-`. The equality matrix
    :math:`[X, -X, I, -I]` is stored sparse: its identity blocks hold :math:`2n` of its
    :math:`2n(k+1)` nonzeros, so a dense copy would waste :math:`O(n^2)` memory for large n.
    """
    n, k = X.shape
    Xs = sp.csc_array(X)
    eye = sp.eye_array(n, format="csc")
    A_eq = sp.hstack([Xs, -Xs, eye, -eye], format="csc")
    cost = np.concatenate([np.zeros(2 * k), np.full(n, tau), np.full(n, 1.0 - tau)])
    res = linprog(cost, A_eq=A_eq, b_eq=y, bounds=(0, None), method="highs", options=_HIGHS_OPTIONS)
    if res.x is None:
        return np.full(k, np.nan), int(getattr(res, "nit", 0)), False
    beta = res.x[:k] - res.x[k : 2 * k]
    return beta, int(res.nit), res.status == 0


def _solve_quantile(
    X: np.ndarray, y: np.ndarray, tau: float = 0.5, solver: str = "highs"
) -> QuantileSolution:
    r""":func:`solve_quantile` with diagnostics (objective, iterations, convergence; no checks).

    Both solvers work on a preconditioned problem and finish with
    :func:`~tailreg.estimators._frisch_newton.vertex_polish`: the returned ``beta`` is the
    certified exact vertex when certification succeeds, otherwise the better (smaller
    objective) of the solver's point and the vertex.

    Notes
    -----
    Preconditioning uses equivariance (Koenker & Bassett 1978, Theorem 3.2). With the thin QR
    factorisation :math:`X = QR`, the OLS residuals :math:`e = y - QQ^\top y` and :math:`m` their
    :func:`~tailreg.estimators._frisch_newton.response_scale`, the LP is solved for design
    :math:`\sqrt n\,Q` and response :math:`e/m`, and mapped back by
    :math:`\hat\beta = R^{-1}(Q^\top y + m\sqrt n\,\hat\gamma)`. The design columns are orthogonal
    with entries of order one and the residuals are of order one whatever the units, the
    conditioning of X and the size of the fitted part of y, so absolute solver tolerances
    (HiGHS's feasibility tolerances, the interior point's Cholesky factor of
    :math:`Q^\top D Q`) mean the same on every problem. The certified basis :math:`h` is
    finally re-solved in the original units, :math:`\hat\beta = X_h^{-1}y_h`, which avoids the
    :math:`\epsilon\,\mathrm{cond}(X)` error of mapping back through :math:`R^{-1}` and
    interpolates the basis observations exactly.
    """
    check = Check(tau)
    n, k = X.shape
    q, r = np.linalg.qr(X)
    g_ols = q.T @ y
    e = y - q @ g_ols
    root_n = np.sqrt(n)
    m = response_scale(e)
    if m == 0.0:  # y lies in the column space: OLS interpolates every point
        beta = solve_triangular(r, g_ols)
        return QuantileSolution(beta, float(check.rho(y - X @ beta).sum()), 0, True, True, solver)
    q *= root_n
    ys = e / m
    if solver == "highs":
        gamma, n_iter, ok = _highs(q, ys, tau)
    else:
        fn = frisch_newton(q, ys, tau)
        gamma, n_iter, ok = fn.beta, fn.n_iter, fn.converged
    if not np.all(np.isfinite(gamma)):
        return QuantileSolution(np.full(k, np.nan), np.nan, n_iter, False, False, solver)
    # e carries the rounding of y - Q Q'y, of order eps |y|: ties are judged at that level
    vertex, certified, basis = vertex_polish(q, ys, tau, gamma, noise=np.abs(y) / m)
    if not certified and check.rho(ys - q @ gamma).sum() < check.rho(ys - q @ vertex).sum():
        vertex = gamma
    beta = None
    if certified:
        with contextlib.suppress(np.linalg.LinAlgError):
            beta = np.linalg.solve(X[basis], y[basis])
    if beta is None or not np.all(np.isfinite(beta)):
        try:
            beta = solve_triangular(r, g_ols + vertex * (m * root_n))
        except LinAlgError:
            beta = np.full(k, np.nan)
    objective = float(check.rho(y - X @ beta).sum())
    if not np.isfinite(objective):
        return QuantileSolution(np.full(k, np.nan), np.nan, n_iter, False, False, solver)
    return QuantileSolution(beta, objective, n_iter, ok or certified, certified, solver)


def solve_quantile(
    X: np.ndarray, y: np.ndarray, tau: float = 0.5, solver: str = "highs"
) -> np.ndarray:
    r"""Regression quantile coefficients, the array-level core (no input checks beyond names).

    Parameters
    ----------
    X : ndarray (n, k)
        Full-rank design, constant column included when wanted.
    y : ndarray (n,)
    tau : float in (0, 1)
    solver : {"highs", "interior-point"}
        ``"highs"``: the primal LP through :func:`scipy.optimize.linprog`; ``"interior-point"``:
        the Frisch–Newton method (Portnoy & Koenker 1997), much faster for large n.

    Returns
    -------
    beta : ndarray (k,)
        A minimiser of :math:`\sum_i\rho_\tau(y_i - x_i^\top\beta)` (Koenker & Bassett 1978); an
        exact basic solution whenever its optimality could be certified.
    """
    check_in_range("tau", tau, 0.0, 1.0)
    sol = _solve_quantile(X, y, float(tau), _check_solver(solver))
    if not sol.converged:
        warnings.warn(
            f"quantile regression ({solver}) did not reach the LP optimum; objective "
            f"{sol.objective:.10g} may be above it",
            ConvergenceWarning,
            stacklevel=2,
        )
    return sol.beta


def _refit(X: np.ndarray, y: np.ndarray, tau: float, solver: str) -> np.ndarray:
    """Refit used by the nid/iid/bootstrap kinds (module level so results pickle)."""
    return _solve_quantile(X, y, tau, solver).beta


class QuantileRegression(BaseRegressor):
    r"""Linear quantile regression (Koenker & Bassett 1978), solved exactly as a linear program.

    Parameters
    ----------
    tau : float in (0, 1), default 0.5
        The quantile.
    solver : {"highs", "interior-point"}, default "highs"
        LP solver; see :func:`solve_quantile`.
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
    """

    _cov_kinds = ("iid", "nid", "ker", "bootstrap")

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

    def _check_params(self) -> None:
        check_in_range("tau", self._tau, 0.0, 1.0)
        _check_solver(self.solver)
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
        sol = _solve_quantile(X, y, tau, self.solver)
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
        ctx = CovContext(
            X=X,
            resid=resid,
            scale=sigma,
            loss=loss,
            options={
                "tau": tau,
                "y": y,
                "refit": partial(_refit, solver=self.solver),
                "bandwidth": self.bandwidth,
                "n_boot": int(self.n_boot),
                "seed": seed,
            },
        )
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

    @property
    def _tau(self) -> float:
        return 0.5
