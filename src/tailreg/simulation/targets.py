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
unless the scale is estimated. Each estimator states its target (``target(law)`` returning a
:class:`tailreg.theory.Target`); MM and the fixed-df Student-t MLE estimate their scale by
the S-functional and by the likelihood, and their intercept variance is given for symmetric
laws only. The Cramér–Rao bound is :math:`(M^{-1})_{jj}/I(F)`. :math:`M` comes from the
design's regressor law (a design file: its sample moments, see
:func:`~tailreg.simulation.generate.x_moments`).

Heteroscedastic errors :math:`e = (a + b|x_j|)u` with ``scale_fn="linear"`` and non-negative
regressors shift the targets to :math:`b_0 + aT(F_u)` and :math:`\\beta_j + bT(F_u)` (the
estimator targets the conditional T-line; with regressors of both signs that line is not
linear and the targets are NaN unless :math:`T(F_u) = 0`); AR(1) errors
:math:`e_t = \\phi e_{t-1} + u_t` have marginal location :math:`T(F_u)/(1 - \\phi)` for the
mean, and for laws symmetric about their centre. Theoretical variances are given for i.i.d.
errors only.

What the theory could not give is NaN *and said*: the ``theory`` note of each
(cell, estimator) is ``""`` when every target the estimator states was computed, ``"none"``
when the estimator has no theory (a plug-in without ``target``, or ``target(law)`` returned
None; with a symmetric law the intercept's pseudo-true value is still its centre), and
``"failed: <what>: <error>"`` when a computation raised one of :data:`THEORY_ERRORS` (the
engine counts these in ``meta.json`` and the summary shows them).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .. import theory
from .generate import make_error_law, x_moments
from .registry import EstimatorSpec, make_estimator
from .spec import Cell

__all__ = ["THEORY_ERRORS", "CellTargets", "cell_targets"]

#: what a failing theory computation raises (no convergence, a bad integral, a domain error;
#: ``TypeError`` for a law without the functions the theory needs)
THEORY_ERRORS = (ArithmeticError, ValueError, RuntimeError, TypeError)


@dataclass(frozen=True)
class CellTargets:
    """Truth columns of one estimator in one cell, one value per parameter.

    Attributes
    ----------
    true_value, pseudo_true, avar, crlb : ndarray
        True value, the estimator's limit, the limit of n*Var and the CRLB on it.
    theory : str
        ``""``, ``"none"`` or ``"failed: ..."`` (see the module docstring).
    """

    true_value: np.ndarray
    pseudo_true: np.ndarray
    avar: np.ndarray
    crlb: np.ndarray
    theory: str = ""

    def __getitem__(self, column: str) -> np.ndarray:
        """The truth column ``column`` (``targets["avar"]``)."""
        return getattr(self, column)

    @property
    def failed(self) -> bool:
        """True when a theory computation raised."""
        return "failed:" in self.theory


def _failure(what: str, exc: BaseException) -> str:
    return f"failed: {what}: {type(exc).__name__}: {exc}"


@lru_cache(maxsize=1024)
def _target(est: EstimatorSpec, law: Any, symmetric: bool) -> tuple[Any, str]:
    """(Target or None, note) of the estimator at the law (cached: one per cell).

    ``symmetric`` is part of the cache key: a law's ``key`` does not hold it, and the theory
    uses it."""
    model = make_estimator(est)
    if not callable(getattr(model, "target", None)):
        return None, "absent"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tg = model.target(law)
        except THEORY_ERRORS as exc:
            return None, _failure("target", exc)
    return tg, "" if tg is not None else "none"


@lru_cache(maxsize=256)
def _crlb(law: Any) -> tuple[float, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(theory.cramer_rao_bound(law)), ""
        except THEORY_ERRORS as exc:
            return math.nan, _failure("crlb", exc)


def _law_value(law: Any, method: str) -> tuple[float, str]:
    """``law.<method>()`` (``var``, ``median``) as a float, or NaN and a failure note."""
    fn = getattr(law, method, None)
    if not callable(fn):
        return math.nan, f"failed: {method}: the law has no {method}()"
    try:
        return float(fn()), ""
    except THEORY_ERRORS as exc:
        return math.nan, _failure(method, exc)


@dataclass
class _Theory:
    """The estimator's theory at the innovation law, as the three branches below use it."""

    T: float
    V: float
    vfix: float
    target: Any
    stated: bool  # the estimator states a target (has ``target``): its slopes are consistent
    notes: list[str]


def _location(est: EstimatorSpec, law: Any) -> _Theory:
    r"""T, V, :math:`V_{fix}` of the estimator at the law; NaN where unknown.

    ``V`` is the variance of the location (intercept) part, ``V_fix`` the fixed-scale
    :math:`s^2E\psi^2/(E\psi')^2` at the limit, which the slopes have. Where the estimator's
    theory has no answer and the law is symmetric, every location functional of an
    equivariant estimator is its centre.
    """
    nan = math.nan
    tg, note = _target(est, law, bool(getattr(law, "symmetric", False)))
    if tg is not None:
        return _Theory(float(tg.location), float(tg.avar), float(tg.avar_slopes), tg, True, [])
    if note == "absent":
        return _Theory(nan, nan, nan, None, False, ["none"])
    notes = [note]
    T = nan
    if getattr(law, "symmetric", False):
        T, bad = _law_value(law, "median")
        notes += [bad] if bad else []
    return _Theory(T, nan, nan, None, True, notes)


def _sigma2(out: dict[str, np.ndarray], names: tuple[str, ...], value: float) -> None:
    if "sigma2" in names:  # the nuisance of the N(0, sigma2) likelihood: the error variance
        j = names.index("sigma2")
        out["true_value"][j] = out["pseudo_true"][j] = value


def cell_targets(
    cell: Cell, est: EstimatorSpec, param_names: tuple[str, ...], n_coef: int
) -> CellTargets:
    """Truth columns for each parameter of one estimator in one cell.

    Returns
    -------
    CellTargets
        Arrays of length ``len(param_names)``: ``true_value``, ``pseudo_true``, ``avar``
        (theoretical limit of n*Var) and ``crlb`` (bound on it), and the ``theory`` note.
    """
    q = len(param_names)
    design, spec = cell.design, cell.errors
    out = {k: np.full(q, np.nan) for k in ("true_value", "pseudo_true", "avar", "crlb")}
    out["true_value"][0] = design.intercept
    out["true_value"][1:n_coef] = design.beta[: n_coef - 1]
    law = make_error_law(spec)
    th = _location(est, law)
    if th.stated:
        out["pseudo_true"][1:n_coef] = out["true_value"][1:n_coef]
    mu, sigma = x_moments(design, cell.n)
    M = np.block([[np.ones((1, 1)), mu[None, :]], [mu[:, None], sigma + np.outer(mu, mu)]])
    minv = np.diag(np.linalg.inv(M))
    if spec.iid:
        _iid(out, cell, law, th, minv, param_names, n_coef)
    elif spec.heteroscedastic is not None:
        _heteroscedastic(out, cell, law, th, (mu, sigma), param_names, n_coef)
    else:
        _autoregressive(out, cell, law, th, param_names)
    notes = [n for n in dict.fromkeys(th.notes) if n]
    return CellTargets(**out, theory="; ".join(notes))


def _iid(out, cell, law, th: _Theory, minv, names, n_coef) -> None:
    T, V, vfix = th.T, th.V, th.vfix
    out["pseudo_true"][0] = cell.design.intercept + T
    finite = math.isfinite(V) and math.isfinite(vfix)
    out["avar"][0] = vfix * (minv[0] - 1.0) + V if finite else V
    out["avar"][1:n_coef] = vfix * minv[1:n_coef]
    ib, note = _crlb(law)
    th.notes.append(note)
    out["crlb"][:n_coef] = ib * minv[:n_coef]
    if "sigma2" in names:
        v, note = _law_value(law, "var")
        th.notes.append(note)
        _sigma2(out, names, v)


def _heteroscedastic(out, cell, law, th: _Theory, moments, names, n_coef) -> None:
    design, het = cell.design, dict(cell.errors.heteroscedastic)
    j = int(het.get("column", 0))
    a, b = het.get("a", 1.0), het.get("b", 1.0)
    linear = het.get("scale_fn", "linear") == "linear" and design.regressors.nonnegative(j, cell.n)
    T, tg = th.T, th.target
    if T == 0.0:
        out["pseudo_true"][0] = design.intercept
    elif linear and tg is not None and tg.scale_free:
        # sigma(x) = a + b x for x >= 0: the mean and the quantiles scale point by point,
        # so the estimator's T-line is b0 + aT + (beta_j + bT) x_j
        out["pseudo_true"][0] = design.intercept + a * T
        out["pseudo_true"][1 + j] = design.beta[j] + b * T
    else:
        # Huber, bisquare, MM, t: one common residual scale, so the limit is not the
        # T-line (it solves the population estimating equations); no closed form here
        out["pseudo_true"][1:n_coef] = np.nan
    if "sigma2" in names and linear:
        # Var(e) = Var(u) E[(a + b x_j)^2] for errors independent of u
        mu, sigma = moments
        m1, m2 = mu[j], sigma[j, j] + mu[j] ** 2
        v, note = _law_value(law, "var")
        th.notes.append(note)
        _sigma2(out, names, v * (a * a + 2 * a * b * m1 + b * b * m2))


def _autoregressive(out, cell, law, th: _Theory, names) -> None:
    phi = float(cell.errors.ar1)
    tg = th.target
    if (tg is not None and tg.kind == "mean") or getattr(law, "symmetric", False):
        out["pseudo_true"][0] = cell.design.intercept + th.T / (1.0 - phi)
    if "sigma2" in names:  # stationary AR(1) variance
        v, note = _law_value(law, "var")
        th.notes.append(note)
        _sigma2(out, names, v / (1.0 - phi * phi))
