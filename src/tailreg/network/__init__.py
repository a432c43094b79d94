"""The network case: an MLP trained by MSE is the Gaussian MLE of a nonlinear regression.

See :mod:`tailreg.network.mlp` for the definition, backpropagation and the input-gradient
algorithm, and :mod:`tailreg.network.regression` for training by any tailreg loss.
"""

from .mlp import ACTIVATIONS, MLP
from .regression import MLPRegression

__all__ = ["ACTIVATIONS", "MLP", "MLPRegression"]
