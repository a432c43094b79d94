"""Regression estimators: one loss family, one result object, scikit-learn compatible."""

from ._base import BaseRegressor
from .bisquare import Bisquare
from .huber import Huber
from .mle import GaussianMLE
from .mm import MM
from .ols import OLS
from .quantile import LAD, QuantileRegression
from .quantile_process import QuantileProcess
from .student_t import StudentTMLE

__all__ = [
    "LAD",
    "MM",
    "OLS",
    "BaseRegressor",
    "Bisquare",
    "GaussianMLE",
    "Huber",
    "QuantileProcess",
    "QuantileRegression",
    "StudentTMLE",
]
