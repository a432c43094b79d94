"""The :class:`Target` an estimator states for the Monte Carlo engine's truth columns."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..losses import Loss
from .functional import ScaleSpec, m_functional

__all__ = ["Target", "target"]


@dataclass(frozen=True)
class Target:
    r"""What an estimator converges to under i.i.d. errors: its pseudo-true location and variance.

    Returned by every estimator's ``target(law)`` (``None`` where the theory has no answer);
    the Monte Carlo engine turns it into the truth columns of a cell.

    Attributes
    ----------
    location : float
        :math:`T(F)`, the shift of the intercept (the slopes are consistent for
        :math:`\beta`).
    avar : float
        Limit of :math:`n\operatorname{Var}` of the location part (the intercept in a model
        with centred regressors); ``nan`` when unknown, ``inf`` when it diverges.
    avar_slopes : float
        :math:`V_{fix}` multiplying :math:`(M^{-1})_{jj}` for the slopes: the fixed-scale
        :math:`s^2E\psi^2/(E\psi')^2` at the limit (equal to ``avar`` unless the scale is
        estimated jointly).
    kind : {"mean", "quantile", "m"}
        ``"mean"`` and ``"quantile"`` need no common residual scale, so under errors
        :math:`\sigma(x)u` with linear :math:`\sigma` the target line is
        :math:`b_0 + aT + (\beta_j + bT)x_j`; ``"mean"`` also gives the AR(1) marginal
        location :math:`T/(1 - \phi)`. ``"m"``: an M-location at a common scale.
    scale : float
        The limit scale :math:`s` (``nan`` for scale-free functionals).
    """

    location: float
    avar: float
    avar_slopes: float
    kind: str
    scale: float = math.nan

    @property
    def scale_free(self) -> bool:
        """True for the mean and the quantiles (no common residual scale)."""
        return self.kind in ("mean", "quantile")


def target(
    loss: Loss, law: Any, scale: ScaleSpec = 1.0, *, symmetric_only_avar: bool = False
) -> Target:
    """The :class:`Target` of an M-estimator with ``loss`` at ``law`` under scale ``scale``.

    Parameters
    ----------
    loss, law, scale
        As :func:`m_functional`.
    symmetric_only_avar : bool
        The estimator estimates its scale by another functional (MM's S-scale, the t-MLE's
        likelihood scale) held fixed here: the scale's own influence enters the location's
        variance unless the law is symmetric, so ``avar`` is ``nan`` for asymmetric laws (the
        slopes keep the fixed-scale variance).
    """
    mf = m_functional(loss, law, scale)
    T, V = float(mf.location), float(mf.avar)
    vfix = V
    if mf.convention == "estimated" and mf.e_dpsi and math.isfinite(mf.e_psi2):
        vfix = float(mf.scale**2 * mf.e_psi2 / mf.e_dpsi**2)
    if symmetric_only_avar and not getattr(law, "symmetric", False):
        V = math.nan
    return Target(T, V, vfix, loss.functional, float(mf.scale))
