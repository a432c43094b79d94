r"""Tukey bisquare M-regression by IRLS from a chosen initial fit."""

from __future__ import annotations

import numpy as np

from .._linalg import Design
from .._validation import check_positive
from ..inference.bootstrap import BootstrapMixin
from ..losses import Bisquare as BisquareLoss
from ..losses import Huber as HuberLoss
from ..solvers.irls import irls
from ..solvers.quantile_lp import solve_quantile
from ._base import BaseRegressor
from ._mestimation import M_COV_KINDS, MEstimatorMixin

__all__ = ["Bisquare"]

_INITS = ("ls", "lad", "huber")


class Bisquare(BootstrapMixin, MEstimatorMixin, BaseRegressor):
    r"""Tukey's bisquare (biweight) M-estimator of regression, fitted by IRLS.

    Minimises :math:`\sum_i\rho_c(r_i/s)` with the bounded bisquare loss
    (:class:`tailreg.losses.Bisquare`): :math:`\psi_c` redescends to 0 beyond :math:`c` scales,
    so gross outliers get weight exactly 0 — unlike Huber's, whose influence stays at
    :math:`k`.

    Parameters
    ----------
    c : float > 0, default 4.685
        Tuning constant; 4.685 gives 95% efficiency at the normal.
    scale : "mad", "proposal2" or float, default "mad"
        As :class:`~tailreg.estimators.huber.Huber` (``"proposal2"`` uses MASS's ``k2 = 1.345``).
    init : {"ls", "lad", "huber"}, default "ls"
        The initial fit IRLS starts from: least squares (MASS ``rlm``'s default), least absolute
        deviations (``solve_quantile`` with tau = 0.5), or a Huber fit (k = 1.345, same scale
        rule).
    fit_intercept : bool, default True
    tol : float, default 1e-12
        Tolerance on the relative change of the residuals (MASS's ``acc``).
    max_iter : int, default 1000

    Notes
    -----
    **Why the start matters.** The bisquare :math:`\rho` is bounded, hence not convex: the
    objective has several local minima, and IRLS (a descent method) converges to the one whose
    basin contains the start. Least squares is itself pulled by outliers — by a bad leverage
    point above all — and a start inside the wrong basin converges to a bad local minimum that
    may fit the outliers. A monotone-:math:`\psi` start (LAD or Huber) is the unique minimum of
    a convex problem, consistent, and robust to outliers in y, so it usually lies in the basin
    of the good solution (Huber 1981, sec. 7.9; Maronna, Martin & Yohai 2006, sec. 4.4.2). None
    of the three is robust to bad leverage points; for those use the MM-estimator, whose start
    is a high-breakdown S-estimate.

    Covariance kinds: ``H1`` (default, Huber's corrected formula as MASS ``summary.rlm``) and
    ``sandwich`` (see :func:`~tailreg.estimators._mestimation.m_scores_jacobian`). Both treat
    the scale as known; :math:`\overline{\psi'}` can be small or negative when many points are
    downweighted, and the formulas then break down.
    """

    supports_sample_weight = True
    _cov_kinds = M_COV_KINDS
    study_name = "bisquare"
    objective_doc = "sum of rho_c(r_i / s) at the final scale s"
    _min_extra_rows = 1

    def __init__(
        self,
        c: float = 4.685,
        scale: str | float = "mad",
        init: str = "ls",
        fit_intercept: bool = True,
        tol: float = 1e-12,
        max_iter: int = 1000,
    ) -> None:
        self.c = c
        self.scale = scale
        self.init = init
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _check_params(self) -> None:
        check_positive("c", self.c)
        if not isinstance(self.init, str) or self.init not in _INITS:
            raise ValueError(f"init must be one of {list(_INITS)}, got {self.init!r}")
        self._check_irls_params()

    def _make_loss(self) -> BisquareLoss:
        return BisquareLoss(self.c)

    def _start(
        self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> np.ndarray | None:
        if self.init == "ls":
            return None
        if self.init == "huber":
            start = irls(
                X,
                Y,
                HuberLoss(1.345),
                scale=self._scale_rule(),
                tol=float(self.tol),
                maxiter=int(self.max_iter),
                sample_weight=sample_weight,
            )
            # a start needs to lie in the right basin, not to be converged: no warning here
            return start.beta
        design = Design(X)
        if sample_weight is None:
            return np.stack([solve_quantile(design.row(r), Y[r], tau=0.5) for r in range(len(Y))])
        V = np.broadcast_to(sample_weight, Y.shape)
        return np.stack([_weighted_lad(design.row(r), Y[r], V[r]) for r in range(len(Y))])


def _weighted_lad(X: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    r"""Case-weighted LAD, :math:`\min\sum_i v_i|y_i - x_i^\top\beta|`: the LAD of the rows
    :math:`(v_ix_i, v_iy_i)` (the absolute loss is positively homogeneous; quantreg's
    ``rq.wfit``), rows of weight 0 left out."""
    keep = v > 0
    vk = v[keep]
    return solve_quantile(X[keep] * vk[:, None], y[keep] * vk, tau=0.5)
