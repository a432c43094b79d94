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
from ._optional import require
from .compare import Comparison, compare
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
from .reporting import summary_text

__version__ = "0.1.0"

#: names whose modules need an optional extra: imported on first use (``tailreg[formula]``,
#: ``tailreg[diagnose]``), so ``import tailreg`` works with the core install
_LAZY = {
    "fit_formula": ("tailreg.formula", "tailreg.fit_formula"),
    "design_for": ("tailreg.formula", "tailreg.design_for"),
    "diagnose": ("tailreg.diagnostics.diagnose", "tailreg.diagnose"),
    "Diagnosis": ("tailreg.diagnostics.diagnose", "tailreg.Diagnosis"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, feature = _LAZY[name]
        return getattr(require(module, feature), name)
    raise AttributeError(f"module 'tailreg' has no attribute {name!r}")


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
