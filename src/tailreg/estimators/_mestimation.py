r"""What the M-estimators share: their covariance context, results and ``fit``/``fit_many``.

The iteration itself is :func:`tailreg.solvers.irls.irls` (MASS ``rlm``'s conventions);
:class:`MEstimatorMixin` gives Huber, bisquare and the M-step of MM their ``_fit`` and
vectorised ``_fit_many``, and :func:`m_scores_jacobian` the scores and Jacobian of the
M-estimating equation that the ``sandwich`` kind reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any, ClassVar

import numpy as np

from .. import theory
from .._linalg import weighted_gram
from ..exceptions import ExactFitWarning
from ..inference.covariance import REGISTRY, CovContext, standard_errors
from ..inference.results import FitResult, ManyFits
from ..losses import Loss
from ..solvers.irls import IRLSResult, check_scale_rule, irls, warn_irls
from ..theory import Target
from ._base import BaseRegressor

#: covariance kinds of the IRLS M-estimators (Huber, bisquare), default first
M_COV_KINDS: tuple[str, ...] = (
    "H1",
    "sandwich",
    "HC0",
    "HC1",
    "HC2",
    "HC3",
    "HAC",
    "cluster",
    "bootstrap",
)

__all__ = [
    "M_COV_KINDS",
    "ExactFitWarning",
    "IRLSResult",
    "MEstimatorMixin",
    "check_scale_rule",
    "irls",
    "m_cov_context",
    "m_scores_jacobian",
    "warn_irls",
]


# --------------------------------------------------------------------------------------
# inference and results


def m_scores_jacobian(
    X: np.ndarray,
    resid: np.ndarray,
    scale: float | np.ndarray,
    loss: Loss,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Scores and Jacobian of the M-estimating equation for the registry's ``sandwich`` kind.

    :math:`s_i = \psi(u_i)\,x_i` and :math:`J = \sum_i \psi'(u_i)\,x_i x_i^\top / s`, with
    :math:`u_i = r_i/s`, so that ``sandwich`` gives
    :math:`s^2\left(\sum\psi' xx^\top\right)^{-1}\left(\sum\psi^2 xx^\top\right)
    \left(\sum\psi' xx^\top\right)^{-1}` (Huber 1967; Huber 1981, eq. 7.6.3 with the scale
    treated as known). For the squared loss this is HC0.

    With case weights :math:`v_i` the scores stay the unit contributions
    :math:`\psi(u_i)x_i` and the Jacobian is the weighted sum
    :math:`\sum_i v_i\psi'(u_i)x_ix_i^\top/s` (the ``sandwich`` meat then weights the
    scores' outer products by :math:`v_i`), so that integer weights give the covariance of the
    data with rows repeated.

    Parameters
    ----------
    X : (n, k) or (R, n, k)
    resid : (n,) or (R, n)
    scale : float or (R,)
    loss : Loss
    weights : (n,) or (R, n), optional
        Case weights (zeros: absent rows).

    Returns
    -------
    scores : (..., n, k)
    jacobian : (..., k, k)
    """
    s = np.asarray(scale, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        u = resid / s[..., None]
        scores = loss.psi(u)[..., None] * X
        dpsi = loss.psi_prime(u)
        if weights is not None:
            dpsi = dpsi * weights
        jac = weighted_gram(X, dpsi) / s[..., None, None]
    return scores, jac


def m_cov_context(
    X: np.ndarray,
    resid: np.ndarray,
    scale: float | np.ndarray,
    loss: Loss,
    options: Mapping[str, Any] | None = None,
    gram_inv: np.ndarray | None = None,
    with_scores: bool = True,
    weights: np.ndarray | None = None,
) -> CovContext:
    """The :class:`CovContext` of an M-fit: residuals, scale, loss, scores and Jacobian.

    ``with_scores=False`` leaves the scores (R, n, k) and Jacobians out (None): they cost as
    much as an IRLS sweep and only some covariance kinds read them. ``weights`` are case
    weights (n,) or (R, n) (zeros: absent rows), carried as ``CovContext.weights``; the
    Jacobian is then their weighted sum (:func:`m_scores_jacobian`) and ``gram_inv``, if
    given, must be :math:`(X^\top VX)^{-1}`.
    """
    scores, jac = m_scores_jacobian(X, resid, scale, loss, weights) if with_scores else (None, None)
    return CovContext(
        X=X,
        resid=resid,
        scale=scale,
        loss=loss,
        scores=scores,
        jacobian=jac,
        options=dict(options or {}),
        gram_inv=gram_inv,
        weights=weights,
    )


class MEstimatorMixin(BaseRegressor):
    """``_fit`` and vectorised ``_fit_many`` for any estimator solved by :func:`irls`.

    A subclass of :class:`~tailreg.estimators._base.BaseRegressor`; a subclass provides
    ``_make_loss()``, and may override ``_scale_rule()`` (default: ``self.scale``),
    ``_start(X, Y, sample_weight)`` (default: ``None``, (weighted) least squares) and
    ``_cov_options()``; it must have ``tol`` and ``max_iter`` attributes and set
    ``_cov_kinds``.

    Observation weights are case weights, ``MASS::rlm(weights = v, wt.method = "case")``:
    row i counts :math:`v_i` times in the start, the IRLS steps, the scale (weighted MAD or
    weighted proposal 2) and the covariance kinds (see the ``sample_weight`` parameter of
    :func:`~tailreg.solvers.irls.irls` and :func:`m_scores_jacobian`).
    """

    _cov_kinds: ClassVar[tuple[str, ...]]
    tol: float
    max_iter: int
    #: the scale of an M-estimate is estimated, and its tests are asymptotic
    use_t: ClassVar[bool] = False
    use_t_doc: ClassVar[str] = "normal: the covariances are asymptotic (MASS's summary.rlm)"

    def _make_loss(self) -> Loss:
        raise NotImplementedError

    @property
    def loss(self) -> Loss:
        """The M-estimator's loss (rho, psi, psi', weights)."""
        return self._make_loss()

    def target(self, law: Any) -> Target | None:
        """The M-location of the loss at the law, under the estimator's scale rule.

        ``scale="mad"`` re-estimates the MAD of the residuals at every step, which the theory's
        ``"estimated"`` convention models; a fixed scale is a known scale; proposal 2 has no
        counterpart in :mod:`tailreg.theory` (None).
        """
        rule = self._scale_rule()
        if isinstance(rule, str):
            if rule != "mad":
                return None
            return theory.target(self._make_loss(), law, "estimated")
        if np.ndim(rule) == 0 and np.isfinite(rule):
            return theory.target(self._make_loss(), law, float(rule))
        return None

    def _scale_rule(self) -> str | float | np.ndarray:
        return check_scale_rule(self.scale)

    def _start(
        self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> np.ndarray | None:
        return None

    def _cov_options(self) -> dict[str, Any]:
        return {}

    def _use_newton(self) -> bool:
        """Newton steps in :func:`irls` (convex losses only); IRLS by default."""
        return False

    def _run_irls(
        self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> IRLSResult:
        if sample_weight is None:  # unweighted: the call (hence the numbers) as before
            return irls(
                X,
                Y,
                self._make_loss(),
                scale=self._scale_rule(),
                beta0=self._start(X, Y),
                tol=float(self.tol),
                maxiter=int(self.max_iter),
                newton=self._use_newton(),
            )
        return irls(
            X,
            Y,
            self._make_loss(),
            scale=self._scale_rule(),
            beta0=self._start(X, Y, sample_weight),
            tol=float(self.tol),
            maxiter=int(self.max_iter),
            newton=self._use_newton(),
            sample_weight=sample_weight,
        )

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sample_weight: np.ndarray | None = None,
    ) -> FitResult:
        res = self._run_irls(X, y[None, :], sample_weight)
        warn_irls(type(self).__name__, res, int(self.max_iter))
        loss = self._make_loss()
        resid = res.resid[0]
        s = float(res.scale[0])
        ctx = m_cov_context(X, resid, s, loss, self._cov_options(), weights=sample_weight)
        # rho of Huber(k=inf) evaluates inf - inf off-branch; r/s of an outlier near the
        # largest double overflows (its rho is the constant or linear branch all the same)
        with np.errstate(invalid="ignore", over="ignore"):
            rho = loss.rho(resid / s) if s > 0 else None
        objective = None
        if rho is not None:
            objective = float(rho.sum() if sample_weight is None else rho @ sample_weight)
        extra = {"loss": repr(loss), "weights": res.weights[0], "exact_fit": bool(res.exact_fit[0])}
        if sample_weight is not None:
            extra["sample_weight"] = sample_weight
        return self._result(
            res.beta[0],
            names,
            ctx,
            scale=s,
            n_iter=res.n_iter[0],
            converged=res.converged[0],
            objective=objective,
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
        """All R fits by one batched :func:`~tailreg.solvers.irls.irls`.

        Exact fits (scale 0) and singular stops get NaN standard errors; their (discarded)
        covariances are computed at unit scale, so that nothing divides by zero.
        """
        res = self._run_irls(X, Y, sample_weight)
        warn_irls(type(self).__name__, res, int(self.max_iter))
        bad = res.exact_fit | res.singular
        s = np.where(bad, 1.0, res.scale)
        with_scores = any(REGISTRY[kind].uses_scores for kind in kinds if kind in REGISTRY)
        ctx = m_cov_context(
            X,
            res.resid,
            s,
            self._make_loss(),
            self._cov_options(),
            res.gram_inv,
            with_scores,
            weights=sample_weight,
        )
        return self._many(
            res.beta,
            names,
            X.shape[-1],
            standard_errors(ctx, kinds, valid=~bad),
            scale=res.scale,
            converged=res.converged,
            n_iter=res.n_iter,
        )

    def _check_irls_params(self) -> None:
        """Validate ``scale``, ``tol`` and ``max_iter`` (call from ``_check_params``)."""
        self._scale_rule()
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, Real) or not (0 < float(tol) < 1):
            raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
        mi = self.max_iter
        if isinstance(mi, bool) or not isinstance(mi, int | np.integer) or mi < 1:
            raise ValueError(f"max_iter must be a positive integer, got {mi!r}")
