"""tailreg: least squares is the Gaussian MLE — what heavy tails and skewness do to it,
and what robust estimators buy instead."""

from . import losses
from .estimators import *  # noqa: F403
from .estimators import __all__ as _estimators_all
from .exceptions import ConvergenceWarning, MultipleOptimaWarning

__version__ = "0.1.0"
__all__ = ["ConvergenceWarning", "MultipleOptimaWarning", "losses", *_estimators_all]
