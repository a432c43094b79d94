r"""Quantile regression and LAD: exact solutions of the Koenker–Bassett linear program.

:math:`\hat\beta(\tau) = \arg\min_\beta \sum_i \rho_\tau(y_i - x_i^\top\beta)` with the check loss
:math:`\rho_\tau(u) = u(\tau - 1\{u<0\})` — the MLE of :math:`\beta` under asymmetric Laplace
errors; :math:`\tau = 1/2` is least absolute deviations, the Laplace MLE.

Solvers: HiGHS on the bounded dual LP (:func:`_highs`), the Frisch–Newton interior point
(:mod:`._frisch_newton`) and, for ``fit_many``, its batched form (:mod:`._frisch_newton_many`);
each answer is finished by an exact, certified vertex polish.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from functools import partial
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import LinAlgError, solve_triangular
from scipy.optimize import linprog

from .. import theory
from .._validation import SeedLike, check_in_range, check_positive, check_random_state
from ..exceptions import ConvergenceWarning
from ..inference import quantile_cov
from ..inference.covariance import CovContext, covariance
from ..inference.results import FitResult, ManyFits
from ..losses import Absolute, Check, Loss
from ..theory import Target
from ._base import BaseRegressor, _warn_unconverged
from ._frisch_newton import frisch_newton, response_scale, vertex_polish
from ._frisch_newton_many import frisch_newton_many, response_scale_many, vertex_polish_many

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
    r"""The bounded dual LP of the regression quantile problem solved by HiGHS.

    :math:`\max_a y^\top a` subject to :math:`X^\top a = (1-\tau) X^\top 1`,
    :math:`0 \le a \le 1` (Koenker 2005, sec. 6.2), passed to :func:`scipy.optimize.linprog` as
    :math:`\min -y^\top a`. Its :math:`k` equality constraints and :math:`n` boxed variables
    suit the dual simplex far better than the primal LP in :math:`(b^+, b^-, u, v)`, whose
    :math:`n` equality rows cost about :math:`n` simplex iterations (18 min against 21 s at
    :math:`n = 10^5`, :math:`k = 11`). ``linprog`` reports in ``eqlin.marginals`` the
    derivative of its (minimised) objective with respect to :math:`b_{eq}`, the multiplier
    :math:`\lambda` of :math:`X\lambda + z - w = -y`; the regression quantile is
    :math:`\hat\beta = -\lambda` (LP duality; Koenker 2005, sec. 6.2).
    """
    k = X.shape[1]
    res = linprog(
        -y,
        A_eq=X.T,
        b_eq=(1.0 - tau) * X.sum(axis=0),
        bounds=(0.0, 1.0),
        method="highs",
        options=_HIGHS_OPTIONS,
    )
    eqlin = getattr(res, "eqlin", None)
    n_iter = int(getattr(res, "nit", 0) or 0)
    if res.status != 0 or eqlin is None or eqlin.marginals is None:
        return np.full(k, np.nan), n_iter, False
    return -np.asarray(eqlin.marginals, dtype=float), n_iter, True


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


#: elements (R * n) of one batch of :func:`_solve_quantile_many`: the working arrays of the
#: batched interior point then stay in cache (measured best near 2**16 on one core)
_BATCH_ELEMENTS = 65536


def _solve_quantile_many(
    X: np.ndarray, Y: np.ndarray, tau: float, solver: str = "highs", *, unique: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""R regression quantiles at once: :func:`_solve_quantile` batched (no checks).

    Parameters
    ----------
    X : ndarray (n, k) shared, or (R, n, k)
    Y : ndarray (R, n)
    tau : float
    solver : str
        The single-problem solver used for the problems the batch cannot certify.
    unique : bool
        Also hand to ``solver`` the problems whose certified vertex may not be the unique
        optimum (a dual value on its bound), so that even then the single-fit choice among
        the optimal vertices is returned.

    Returns
    -------
    beta : ndarray (R, k)
    objective : ndarray (R,)
    n_iter : ndarray of int (R,)
    converged, certified : ndarray of bool (R,)

    Notes
    -----
    The same preconditioning as :func:`_solve_quantile` (QR of each design, OLS residuals
    over their :func:`~tailreg.estimators._frisch_newton.response_scale`), then
    :func:`~tailreg.estimators._frisch_newton_many.frisch_newton_many` and
    :func:`~tailreg.estimators._frisch_newton_many.vertex_polish_many`; a certified basis
    :math:`h` is re-solved in the original units, :math:`\hat\beta = X_h^{-1}y_h`. Every
    problem that the batch does not certify (degenerate vertex, ties, an interior point that
    stopped early, y in the column space of X) is handed whole to :func:`_solve_quantile` with
    ``solver``, so each returned solution is the one a single fit gives or an equally certified
    optimal vertex — the objective is exact in either case.
    """
    R, n = Y.shape
    k = X.shape[-1]
    step = max(1, _BATCH_ELEMENTS // max(n, 1))
    out = [
        np.empty((R, k)),
        np.empty(R),
        np.zeros(R, dtype=int),
        np.zeros(R, bool),
        np.zeros(R, bool),
    ]
    # a shared design is factorised once for all batches
    q = np.linalg.qr(X)[0] if X.ndim == 2 else None
    for lo in range(0, R, step):
        sl = slice(lo, min(R, lo + step))
        Xb = X if X.ndim == 2 else X[sl]
        parts = _solve_batch(Xb, Y[sl], tau, solver, q, unique)
        for o, v in zip(out, parts, strict=True):
            o[sl] = v
    return tuple(out)


def _solve_batch(X, Y, tau, solver, q=None, unique=False):
    """One batch of :func:`_solve_quantile_many` (``q``: the shared design's Q factor)."""
    check = Check(tau)
    R, n = Y.shape
    k = X.shape[-1]
    shared = X.ndim == 2
    if q is None:
        q = np.linalg.qr(X)[0]
    root_n = np.sqrt(n)
    if shared:
        g_ols = Y @ q
        e = Y - g_ols @ q.T
    else:
        g_ols = (Y[:, None, :] @ q)[:, 0, :]
        e = Y - (q @ g_ols[:, :, None])[:, :, 0]
    m = response_scale_many(e)
    fine = m > 0.0
    m_safe = np.where(fine, m, 1.0)
    qs = q * root_n
    ys = e / m_safe[:, None]
    noise = np.abs(Y) / m_safe[:, None]
    certified = np.zeros(R, dtype=bool)
    is_unique = np.zeros(R, dtype=bool)
    basis = np.zeros((R, k), dtype=int)

    def polish(rows: np.ndarray, gamma: np.ndarray) -> np.ndarray:
        Xr = qs if shared else qs[rows]
        _, cert, bas, uniq = vertex_polish_many(Xr, ys[rows], tau, gamma, noise=noise[rows])
        certified[rows], basis[rows], is_unique[rows] = cert, bas, uniq
        return cert & (uniq | (not unique))

    # the polish is tried once the duality gap is small; certified problems stop iterating
    fn = frisch_newton_many(qs, ys, tau, certify=polish)
    rest = np.flatnonzero(~certified)
    if rest.size:
        polish(rest, fn.beta[rest])
    certified &= fine
    if unique:
        certified &= is_unique
    beta = np.full((R, k), np.nan)
    if certified.any():
        idx = np.flatnonzero(certified)
        bas = basis[idx]
        Xh = X[bas] if shared else np.take_along_axis(X[idx], bas[:, :, None], axis=1)
        yh = np.take_along_axis(Y[idx], bas, axis=1)
        try:
            beta[idx] = np.linalg.solve(Xh, yh[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            certified[:] = False
    certified &= np.all(np.isfinite(beta), axis=1)
    n_iter = fn.n_iter.copy()
    converged = certified.copy()
    for i in np.flatnonzero(~certified):
        sol = _solve_quantile(X if shared else X[i], Y[i], tau, solver)
        beta[i], n_iter[i] = sol.beta, sol.n_iter
        converged[i], certified[i] = sol.converged, sol.certified
    fitted = beta @ X.T if shared else (X @ beta[:, :, None])[:, :, 0]
    objective = check.rho(Y - fitted).sum(axis=1)
    return beta, objective, n_iter, converged, certified


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
        ``"highs"``: the bounded dual LP through :func:`scipy.optimize.linprog` (dual simplex),
        :math:`\hat\beta` from its equality multipliers; ``"interior-point"``: the
        Frisch–Newton method (Portnoy & Koenker 1997), faster for large n.

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


def _refit_many(X: np.ndarray, Y: np.ndarray, tau: float, solver: str) -> np.ndarray:
    """Batched refit of the iid/nid kinds: the single fits' solutions even when not unique."""
    return _solve_quantile_many(X, Y, tau, solver, unique=True)[0]


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

    ``fit_many`` solves all replications together with the batched Frisch–Newton method
    (:func:`~tailreg.estimators._frisch_newton_many.frisch_newton_many`) and a batched exact
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
        """Batched fits (:func:`_solve_quantile_many`); ``iid``, ``nid``, ``ker`` vectorised.

        Both solvers share the batched interior point here, since every returned vertex is
        certified optimal or comes from the single-problem ``solver`` itself. ``bootstrap``
        is computed one replication at a time, exactly as ``fit`` does; a kind that fails for
        a replication gives NaN there (as the base-class loop).
        """
        tau = float(self._tau)
        R, n = Y.shape
        k = X.shape[-1]
        beta, obj, n_iter, converged, _ = _solve_quantile_many(X, Y, tau, self.solver)
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
