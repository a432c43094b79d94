"""Regression estimators: one loss family, one result object, scikit-learn compatible."""

from .bisquare import Bisquare
from .huber import Huber
from .ols import OLS

__all__ = ["OLS", "Bisquare", "Huber"]
