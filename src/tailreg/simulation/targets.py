"""Truth columns of a cell: true value, pseudo-true value, theoretical n*Var and the CRLB.

For i.i.d. errors independent of the regressors, with :math:`\\tilde x = (1, x^\\top)^\\top`,
:math:`M = E[\\tilde x\\tilde x^\\top]` and an M-estimator whose location functional at the
error law is :math:`T` with asymptotic variance :math:`V` (``tailreg.theory``):

* slopes: pseudo-true = true :math:`\\beta_j`;
  :math:`n\\operatorname{Var} \\to V_{fix}(M^{-1})_{jj}`;
* intercept: pseudo-true :math:`b_0 + T`; :math:`n\\operatorname{Var} \\to
  V_{fix}((M^{-1})_{00} - 1) + V` (Huber 1973; the estimated-scale correction of the
  joint influence function enters only the intercept, because
  :math:`E[\\psi'(u)u\\,\\tilde x] = E[\\psi'(u)u]\\,M e_1`);

where :math:`V_{fix} = s^2E\\psi^2/(E\\psi')^2` at the limit :math:`(T, s)` equals :math:`V`
unless the scale is estimated. MM and the fixed-df Student-t MLE estimate their scale
by the S-functional and by the likelihood (each estimator's ``target(law)``); their
targets come from the theory at that limit scale, and their intercept variance is given for
symmetric laws only. The Cramér–Rao bound is :math:`(M^{-1})_{jj}/I(F)`.

Heteroscedastic errors :math:`e = (a + b|x_j|)u` with ``scale_fn="linear"`` and non-negative
regressors shift the targets to :math:`b_0 + aT(F_u)` and :math:`\\beta_j + bT(F_u)` (the
estimator targets the conditional T-line; with regressors of both signs that line is not
linear and the targets are NaN unless :math:`T(F_u) = 0`); AR(1) errors
:math:`e_t = \\phi e_{t-1} + u_t` have marginal location :math:`T(F_u)/(1 - \\phi)` for the
mean, and for laws symmetric about their centre. Theoretical
variances are given for i.i.d. errors only. Anything the theory cannot give is NaN.
"""

from __future__ import annotations

import importlib
import math
import warnings
from functools import lru_cache
from typing import Any

import numpy as np

from .generate import make_error_law, x_moments
from .registry import make_estimator
from .spec import Cell, EstimatorSpec

__all__ = ["cell_targets"]


@lru_cache(maxsize=1024)
def _target(est: EstimatorSpec, law: Any) -> Any:
    """The estimator's :class:`~tailreg.theory.Target` at the law (cached: one per cell)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_estimator(est).target(law)


@lru_cache(maxsize=256)
def _crlb(law: Any) -> float:
    theory = importlib.import_module("tailreg.theory")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(theory.cramer_rao_bound(law))


def _location(est: EstimatorSpec, law: Any) -> tuple[float, float, float, Any]:
    r"""(T, V, V_fix, target) of the estimator at the innovation law; NaN where unknown.

    ``V`` is the variance of the location (intercept) part, ``V_fix`` the fixed-scale
    :math:`s^2E\psi^2/(E\psi')^2` at the limit, which the slopes have. Where the estimator's
    theory has no answer and the law is symmetric, every location functional is its centre.
    """
    nan = math.nan
    try:
        tg = _target(est, law)
        if tg is not None:
            return float(tg.location), float(tg.avar), float(tg.avar_slopes), tg
    except Exception:  # the theory could not solve: record NaN, never stop the run
        pass
    if getattr(law, "symmetric", False):
        try:
            return float(law.median()), nan, nan, None
        except Exception:
            pass
    return nan, nan, nan, None


def cell_targets(
    cell: Cell, est: EstimatorSpec, param_names: tuple[str, ...], n_coef: int
) -> dict[str, np.ndarray]:
    """Truth columns for each parameter of one estimator in one cell.

    Returns
    -------
    dict with arrays of length ``len(param_names)``: ``true_value``, ``pseudo_true``,
    ``avar`` (theoretical limit of n*Var) and ``crlb`` (bound on it).
    """
    q = len(param_names)
    design, spec = cell.design, cell.errors
    true = np.full(q, np.nan)
    pseudo = np.full(q, np.nan)
    avar = np.full(q, np.nan)
    crlb = np.full(q, np.nan)
    true[0] = design.intercept
    true[1:n_coef] = design.beta[: n_coef - 1]
    pseudo[1:n_coef] = true[1:n_coef]
    try:
        law = make_error_law(spec)
    except Exception:
        return {"true_value": true, "pseudo_true": pseudo, "avar": avar, "crlb": crlb}
    T, V, vfix, tg = _location(est, law)
    mu, sigma = x_moments(design)
    M = np.block([[np.ones((1, 1)), mu[None, :]], [mu[:, None], sigma + np.outer(mu, mu)]])
    minv = np.diag(np.linalg.inv(M))
    if spec.iid:
        pseudo[0] = design.intercept + T
        avar[0] = vfix * (minv[0] - 1.0) + V if math.isfinite(V) and math.isfinite(vfix) else V
        avar[1:n_coef] = vfix * minv[1:n_coef]
        ib = _crlb(law)
        crlb[:n_coef] = ib * minv[:n_coef]
        if "sigma2" in param_names:
            try:
                v = float(law.var())
                j = param_names.index("sigma2")
                true[j] = pseudo[j] = v
            except Exception:
                pass
    elif spec.heteroscedastic is not None:
        het = dict(spec.heteroscedastic)
        j = int(het.get("column", 0))
        nonneg = design.x == "lognormal" or (design.x == "uniform" and design.x_options["low"] >= 0)
        a, b = het.get("a", 1.0), het.get("b", 1.0)
        linear = het.get("scale_fn", "linear") == "linear" and nonneg
        if T == 0.0:
            pseudo[0] = design.intercept
        elif linear and tg is not None and tg.scale_free:
            # sigma(x) = a + b x for x >= 0: the mean and the quantiles scale point by point,
            # so the estimator's T-line is b0 + aT + (beta_j + bT) x_j
            pseudo[0] = design.intercept + a * T
            pseudo[1 + j] = design.beta[j] + b * T
        else:
            # Huber, bisquare, MM, t: one common residual scale, so the limit is not the
            # T-line (it solves the population estimating equations); no closed form here
            pseudo[1:n_coef] = np.nan
        if "sigma2" in param_names and linear:
            try:
                # Var(e) = Var(u) E[(a + b x_j)^2] for errors independent of u
                m1, m2 = mu[j], sigma[j, j] + mu[j] ** 2
                true[param_names.index("sigma2")] = pseudo[param_names.index("sigma2")] = float(
                    law.var()
                ) * (a * a + 2 * a * b * m1 + b * b * m2)
            except Exception:
                pass
    else:
        phi = float(spec.ar1)
        if (tg is not None and tg.kind == "mean") or getattr(law, "symmetric", False):
            pseudo[0] = design.intercept + T / (1.0 - phi)
        if "sigma2" in param_names:
            try:  # stationary AR(1) variance
                v = float(law.var()) / (1.0 - phi * phi)
                true[param_names.index("sigma2")] = pseudo[param_names.index("sigma2")] = v
            except Exception:
                pass
    return {"true_value": true, "pseudo_true": pseudo, "avar": avar, "crlb": crlb}
