"""Regression estimators: one loss family, one result object, scikit-learn compatible."""

from .ols import OLS

__all__ = ["OLS"]
