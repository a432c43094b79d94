r"""Huber M-regression by IRLS, with MASS ``rlm``'s scale rules and Huber's H1 covariance."""

from __future__ import annotations

from .._validation import check_positive
from ..inference.bootstrap import BootstrapMixin
from ..losses import Huber as HuberLoss
from ._base import BaseRegressor
from ._mestimation import M_COV_KINDS, MEstimatorMixin

__all__ = ["Huber"]


class Huber(BootstrapMixin, MEstimatorMixin, BaseRegressor):
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
    method : {"newton", "irls"}, default "newton"
        ``"irls"``: MASS's iteration, weighted least squares with weights
        :math:`\min(1, k/|u|)`. ``"newton"``: Newton steps with :math:`\psi'` weights and,
        near the solution, the MAD's derivative (see :func:`~tailreg.estimators._mestimation.irls`)
        — the same fixed point in 2.5–3.5 times fewer sweeps. When the beta-and-MAD equations
        have several roots the two can stop at different ones; ``"irls"`` then reproduces
        MASS. Measured (p = 3, 6000 samples per law and n): under a 20% contaminated normal
        (scale 10) 4 samples at n = 20 and 1 at n = 75, none at n = 30, 40, 50, 100, 200; none
        of 126000 normal, t3 or lognormal samples at those n. Over a wider sweep (normal,
        lognormal, leverage and uniform regressors, p = 1 to 6, k = 0.5 and 1.345, eight
        error laws, n = 30 and 200) 11 of 115000 fits differ, all at n = 30 under Cauchy,
        Lomax or stable errors.

    Notes
    -----
    Covariance kinds: ``H1`` (default) — Huber's (1981, eq. 7.6.5) small-sample corrected
    :math:`K^2 \frac{\sum\psi^2/(n-p)}{(\overline{\psi'})^2} s^2 (X^\top X)^{-1}`, as
    ``summary.rlm`` (statsmodels RLM's ``H1`` uses the :math:`n` rather than :math:`n-1`
    variance of :math:`\psi'` in :math:`K`); ``sandwich`` —
    :math:`s^2 (\sum\psi' xx^\top)^{-1}(\sum\psi^2 xx^\top)(\sum\psi' xx^\top)^{-1}`, robust to
    heteroscedasticity (HC0 when :math:`k = \infty`). Both treat the scale as known.

    With ``method="irls"`` the fit reproduces ``MASS::rlm(..., acc = 1e-13)`` step by step:
    the same start, scale rule, iteration and stopping rule (see
    :mod:`tailreg.estimators._mestimation`). The default Newton iteration solves the same
    equations from the same start and stops by the same rule; it lands on MASS's fit to
    ~1e-12 (the R references are tested with both).
    """

    supports_sample_weight = True
    _cov_kinds = M_COV_KINDS
    study_name = "huber"
    objective_doc = "sum of rho_k(r_i / s) at the final scale s"
    _min_extra_rows = 1

    def __init__(
        self,
        k: float = 1.345,
        scale: str | float = "mad",
        fit_intercept: bool = True,
        tol: float = 1e-12,
        max_iter: int = 1000,
        method: str = "newton",
    ) -> None:
        self.k = k
        self.scale = scale
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.method = method

    def _check_params(self) -> None:
        check_positive("k", self.k, allow_inf=True)
        self._check_irls_params()
        if self.method not in ("newton", "irls"):
            raise ValueError(f"method must be 'newton' or 'irls', got {self.method!r}")

    def _use_newton(self) -> bool:
        return self.method == "newton"

    def _make_loss(self) -> HuberLoss:
        return HuberLoss(self.k)
