r"""Asymptotic theory of the location (intercept) functional of every loss, under any error law.

With i.i.d. errors :math:`e \sim F` independent of the regressors, an M-estimator with loss
:math:`\rho` and :math:`\psi = \rho'` has slopes consistent for :math:`\beta`, an intercept that
converges to :math:`\beta_0 + T(F)`, and

.. math::
    \sqrt n(\hat\beta - \beta) \to N(0, V\,Q^{-1}) \text{ (slopes)}, \qquad
    \sqrt n(T_n - T(F)) \to N(0, V) \text{ (location model)},

where :math:`Q = \operatorname{Cov}(x)` (Huber 1973, "Robust regression: asymptotics,
conjectures and Monte Carlo", Ann. Statist. 1, 799-821; Koenker & Bassett 1978 for the check
loss). This package computes :math:`T(F)`, :math:`V`, the Fisher information for location and
the Cramér-Rao bound, asymptotic relative efficiencies, Huber's minimax tuning constant, the
stable-law rate of least squares under infinite variance, the S- and Student-t likelihood
functionals of MM and the t MLE, and pseudo-true regression lines on discretised populations.

Laws are duck-typed: any object with ``pdf``, ``cdf``, ``ppf`` (vectorised) and optionally
``logpdf``, ``median``, ``mean``, ``var``, ``tail_index``, ``support`` and ``symmetric``
(methods or attributes) works — the laws of :mod:`tailreg.distributions`, including
:func:`tailreg.distributions.from_scipy` wrappers of any continuous ``scipy.stats`` law.
Losses are read through their attributes (``functional``, ``tau``, ``kinks``, ``smooth``,
``psi``, ``psi_prime``, ``rho_max``/``chi``), never their class.

Scale conventions (argument ``scale``), for the losses whose functional depends on it:

* a positive float ``s`` — known scale, :math:`u = (e - T)/s`;
* ``"mad"`` — :math:`s` held fixed at the law's population MAD about its median divided by
  :math:`\Phi^{-1}(3/4) = 0.6744897501960817`;
* ``"estimated"`` — :math:`(T, s)` solve :math:`E\psi((e-T)/s) = 0` and
  :math:`s = \operatorname{med}|e - T| / 0.6744897501960817` jointly, which is what an IRLS
  fit that re-estimates the MAD of its residuals at every step converges to. :math:`V` then
  comes from the joint influence function (see :func:`m_functional`). For laws symmetric
  about :math:`T` it equals the fixed-scale :math:`V` at the same :math:`s`; for skewed laws
  it can differ a lot (about double for a centred lognormal).

Every expectation is computed by the one integrator, :func:`integrate` (adaptive
Gauss-Kronrod (7, 15) with QUADPACK's tail map, vectorised over panels; see
:mod:`tailreg.theory.quadrature`), also exposed as :func:`expect` and
:func:`normal_expectation`. Divergent integrals are recognised from the law's tail index and
reported as ``inf``, never as a large finite number.

Modules: :mod:`~tailreg.theory.quadrature` (the integrator), :mod:`~tailreg.theory.functional`
(:math:`T`, :math:`V`), :mod:`~tailreg.theory.target` (what estimators state to the engine),
:mod:`~tailreg.theory.information` (information, bounds, efficiencies),
:mod:`~tailreg.theory.scale_functionals` (S and t likelihood), and
:mod:`~tailreg.theory.population` (pseudo-true lines of discretised populations).
"""

from .functional import (
    MAD_CONSTANT,
    MFunctional,
    ScaleSpec,
    asymptotic_variance,
    location_functional,
    m_functional,
    slope_covariance,
)
from .information import (
    cramer_rao_bound,
    efficiency_vs_bound,
    fisher_information,
    huber_minimax_k,
    ols_stable_rate,
    relative_efficiency,
)
from .population import (
    Population,
    discretise,
    least_squares_line,
    m_line,
    population_line,
    quantile_line,
    t_line,
    uniform_nodes,
    weighted_median,
)
from .quadrature import PreparedLaw, expect, integrate, normal_expectation, prepare
from .scale_functionals import m_scale_functional, s_functional, t_mle_functional
from .target import Target, target

__all__ = [
    "MAD_CONSTANT",
    "MFunctional",
    "Population",
    "PreparedLaw",
    "ScaleSpec",
    "Target",
    "asymptotic_variance",
    "cramer_rao_bound",
    "discretise",
    "efficiency_vs_bound",
    "expect",
    "fisher_information",
    "huber_minimax_k",
    "integrate",
    "least_squares_line",
    "location_functional",
    "m_functional",
    "m_line",
    "m_scale_functional",
    "normal_expectation",
    "ols_stable_rate",
    "population_line",
    "prepare",
    "quantile_line",
    "relative_efficiency",
    "s_functional",
    "slope_covariance",
    "t_line",
    "t_mle_functional",
    "target",
    "uniform_nodes",
    "weighted_median",
]
