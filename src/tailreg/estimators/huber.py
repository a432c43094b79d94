r"""Huber M-regression by IRLS, with MASS ``rlm``'s scale rules and Huber's H1 covariance."""

from __future__ import annotations

from .._validation import check_positive
from ..losses import Huber as HuberLoss
from ._base import BaseRegressor
from ._mestimation import MEstimatorMixin

__all__ = ["Huber"]


class Huber(MEstimatorMixin, BaseRegressor):
    r"""Huber's M-estimator of regression (Huber 1964, 1973), fitted by IRLS.

    Minimises :math:`\sum_i \rho_k(r_i/s)` with Huber's loss
    (:class:`tailreg.losses.Huber`): quadratic within :math:`k` scales of the fit, linear
    beyond — least squares for the bulk, least absolute deviations for the tails. It is the
    MLE of Huber's least-favourable density, convex (any start reaches the unique minimum) and
    robust to outliers in y, but not to bad leverage points.

    Parameters
    ----------
    k : float > 0, default 1.345
        Tuning constant; 1.345 gives 95% efficiency at the normal. ``k = inf`` is least squares.
    scale : "mad", "proposal2" or float, default "mad"
        ``"mad"``: :math:`\operatorname{median}|r_i|/0.6745` re-estimated from the residuals at
        every IRLS step (MASS ``rlm`` ``scale.est="MAD"``). ``"proposal2"``: Huber's proposal 2,
        :math:`\sum\psi_k(r_i/s)^2 = (n-p)E_\Phi\psi_k^2`, solved jointly with beta
        (MASS ``scale.est="Huber"`` with ``k2 = k``). A float holds the scale fixed.
    fit_intercept : bool, default True
    tol : float, default 1e-12
        Convergence tolerance on the relative change of the residuals (MASS's ``acc``).
    max_iter : int, default 1000
        Maximum IRLS steps.

    Notes
    -----
    Covariance kinds: ``H1`` (default) — Huber's (1981, eq. 7.6.5) small-sample corrected
    :math:`K^2 \frac{\sum\psi^2/(n-p)}{(\overline{\psi'})^2} s^2 (X^\top X)^{-1}`, as
    ``summary.rlm`` (statsmodels RLM's ``H1`` uses the :math:`n` rather than :math:`n-1`
    variance of :math:`\psi'` in :math:`K`); ``sandwich`` —
    :math:`s^2 (\sum\psi' xx^\top)^{-1}(\sum\psi^2 xx^\top)(\sum\psi' xx^\top)^{-1}`, robust to
    heteroscedasticity (HC0 when :math:`k = \infty`). Both treat the scale as known.

    The fitted values reproduce ``MASS::rlm(..., acc = 1e-13)``: the same start, scale rule,
    iteration and stopping rule (see :mod:`tailreg.estimators._mestimation`).
    """

    _cov_kinds = ("H1", "sandwich")
    _min_extra_rows = 1

    def __init__(
        self,
        k: float = 1.345,
        scale: str | float = "mad",
        fit_intercept: bool = True,
        tol: float = 1e-12,
        max_iter: int = 1000,
    ) -> None:
        self.k = k
        self.scale = scale
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _check_params(self) -> None:
        check_positive("k", self.k, allow_inf=True)
        self._check_irls_params()

    def _make_loss(self) -> HuberLoss:
        return HuberLoss(self.k)
