"""tailreg: least squares is the Gaussian MLE — what heavy tails and skewness do to it,
and what robust estimators buy instead.

Estimators (``OLS``, ``GaussianMLE``, ``Huber``, ``QuantileRegression``/``LAD``,
``Bisquare``, ``MM``, ``StudentTMLE``) share the loss family of :mod:`tailreg.losses` and the
immutable :class:`~tailreg.inference.FitResult`. Error laws live in
:mod:`tailreg.distributions`, asymptotic theory in :mod:`tailreg.theory`, the Monte Carlo
engine in :mod:`tailreg.simulation` and the MLP in :mod:`tailreg.network`. Modelling
helpers: :func:`fit_formula` (Wilkinson formulas), :func:`compare` (side-by-side tables),
:func:`summary_text` (a statsmodels-style summary) and ``est.predict_interval``.
"""

from . import distributions, losses, processes, theory
from .compare import Comparison, compare
from .diagnostics.diagnose import Diagnosis, diagnose
from .estimators import (
    LAD,
    MM,
    OLS,
    Bisquare,
    GaussianMLE,
    Huber,
    QuantileProcess,
    QuantileRegression,
    StudentTMLE,
)
from .exceptions import ConvergenceWarning, ExactFitWarning, MultipleOptimaWarning
from .formula import design_for, fit_formula
from .reporting import summary_text

__version__ = "0.1.0"
__all__ = [
    "LAD",
    "MM",
    "OLS",
    "Bisquare",
    "Comparison",
    "ConvergenceWarning",
    "Diagnosis",
    "ExactFitWarning",
    "GaussianMLE",
    "Huber",
    "MultipleOptimaWarning",
    "QuantileProcess",
    "QuantileRegression",
    "StudentTMLE",
    "compare",
    "design_for",
    "diagnose",
    "distributions",
    "fit_formula",
    "losses",
    "processes",
    "summary_text",
    "theory",
]
