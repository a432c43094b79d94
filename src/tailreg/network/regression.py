r"""``MLPRegression``: a scikit-learn regressor training the MLP by a loss of :mod:`tailreg.losses`.

Training by the squared loss is the Gaussian MLE of the network function, the nonlinear case
of "least squares is the Gaussian MLE". The Huber, absolute and Student-t losses give the
robust and the t-likelihood alternatives.

Scale of the robust losses: the absolute loss is scale-free; Huber and Student-t act on
:math:`r/s`. With ``scale="auto"`` the network is first trained by the absolute loss, the
residual scale is taken as :math:`s = \mathrm{MAD}(r)/0.6745`, and the final loss is trained
from that fit at fixed :math:`s` — the same logic as an MM-estimator (robust start and scale,
then the efficient M-step).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import optimize
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_positive, check_random_state
from ..exceptions import ConvergenceWarning
from ..losses import Absolute, Huber, Loss, Squared, StudentT
from .mlp import ACTIVATIONS, MLP

__all__ = ["MLPRegression"]

_LOSSES = ("squared", "huber", "absolute", "student_t")
_MAD_CONST = 0.6744897501960817


def _make_loss(name: str, huber_k: float, student_df: float) -> Loss:
    return {
        "squared": lambda: Squared(),
        "huber": lambda: Huber(huber_k),
        "absolute": lambda: Absolute(),
        "student_t": lambda: StudentT(student_df),
    }[name]()


def _objective(net: MLP, X, y, loss: Loss, scale: float, alpha: float):
    """Mean loss plus the ridge penalty, and its gradient as one vector."""
    n = X.shape[0]
    cost, gW, gb = net.backprop(X, y, loss, scale)
    penalty = 0.5 * alpha * sum(float((W**2).sum()) for W in net.weights)
    grad = np.concatenate(
        [
            np.concatenate([(g / n + alpha * W).ravel(), b / n])
            for g, b, W in zip(gW, gb, net.weights, strict=True)
        ]
    )
    return cost / n + penalty, grad


class MLPRegression(RegressorMixin, BaseEstimator):
    """Regression by a one-output MLP trained on a loss from :mod:`tailreg.losses`.

    Parameters
    ----------
    hidden : tuple of int
        Hidden layer widths.
    activation : str
        Hidden activation (tanh, sigmoid, relu, identity); the output layer is identity.
    loss : {"squared", "huber", "absolute", "student_t"}
    solver : {"lbfgs", "adam"}
        Full-batch L-BFGS with the backprop gradient, or mini-batch Adam.
    alpha : float
        Ridge penalty on the weights, :math:`\\tfrac{\\alpha}{2}\\sum\\lVert W\\rVert^2`, added to
        the mean loss.
    huber_k, student_df : float
        Loss parameters.
    scale : "auto" or float
        Residual scale for the Huber and Student-t losses on the standardised response.
    max_iter, tol : stopping rules (L-BFGS iterations or Adam epochs; gradient tolerance).
    batch_size, learning_rate : Adam settings.
    random_state : seeds initialisation and Adam's mini-batches.

    Notes
    -----
    Inputs are standardised by mean and standard deviation, the response by median and MAD
    (robust to the heavy-tailed noise the package studies). Fitted attributes: ``network_``
    (on the standardised scale), ``scale_``, ``n_iter_``, ``converged_``, ``loss_``.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (16, 16),
        activation: str = "tanh",
        loss: str = "squared",
        solver: str = "lbfgs",
        alpha: float = 0.0,
        huber_k: float = 1.345,
        student_df: float = 3.0,
        scale: str | float = "auto",
        max_iter: int = 2000,
        tol: float = 1e-8,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        random_state=None,
    ) -> None:
        self.hidden = hidden
        self.activation = activation
        self.loss = loss
        self.solver = solver
        self.alpha = alpha
        self.huber_k = huber_k
        self.student_df = student_df
        self.scale = scale
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {self.loss!r}")
        if self.solver not in ("lbfgs", "adam"):
            raise ValueError(f"solver must be 'lbfgs' or 'adam', got {self.solver!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}")
        if any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden widths must be positive, got {self.hidden!r}")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha!r}")
        check_positive("huber_k", self.huber_k)
        check_positive("student_df", self.student_df)
        if self.scale != "auto":
            check_positive("scale", self.scale)
        check_positive("max_iter", self.max_iter)

    def fit(self, X, y) -> MLPRegression:
        """Train the network; returns ``self``."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        self._check_params()
        rng = check_random_state(self.random_state)
        self.x_mean_ = X.mean(axis=0)
        sd = X.std(axis=0)
        self.x_scale_ = np.where(sd > 0, sd, 1.0)
        self.y_center_ = float(np.median(y))
        mad = float(np.median(np.abs(y - self.y_center_))) / _MAD_CONST
        self.y_scale_ = mad if mad > 0 else (float(y.std()) or 1.0)
        Xs = (X - self.x_mean_) / self.x_scale_
        ys = ((y - self.y_center_) / self.y_scale_)[:, None]
        sizes = (X.shape[1], *(int(h) for h in self.hidden), 1)
        activations = [self.activation] * len(self.hidden) + ["identity"]
        net = MLP(sizes, activations, random_state=rng)
        loss = _make_loss(self.loss, self.huber_k, self.student_df)
        scale = 1.0
        n_iter = 0
        converged = True
        if self.loss in ("huber", "student_t"):
            if self.scale == "auto":
                it, ok = self._train(net, Xs, ys, Absolute(), 1.0, rng)
                n_iter += it
                converged &= ok
                r = ys[:, 0] - net.forward(Xs)[:, 0]
                scale = float(np.median(np.abs(r - np.median(r)))) / _MAD_CONST
                if not scale > 0:
                    scale = 1.0
            else:
                scale = float(self.scale) / self.y_scale_
        it, ok = self._train(net, Xs, ys, loss, scale, rng)
        self.network_ = net
        self.loss_ = loss
        self.scale_ = scale * self.y_scale_
        self.n_iter_ = n_iter + it
        self.converged_ = bool(converged and ok)
        if not self.converged_:
            warnings.warn(
                f"MLPRegression ({self.solver}) stopped after {self.n_iter_} iterations "
                "before meeting tol; converged_ is False",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _train(self, net, X, y, loss, scale, rng) -> tuple[int, bool]:
        if self.solver == "lbfgs":
            return self._train_lbfgs(net, X, y, loss, scale)
        return self._train_adam(net, X, y, loss, scale, rng)

    def _train_lbfgs(self, net, X, y, loss, scale) -> tuple[int, bool]:
        def fun(theta):
            net.set_params_vector(theta)
            return _objective(net, X, y, loss, scale, self.alpha)

        res = optimize.minimize(
            fun,
            net.get_params_vector(),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(self.max_iter), "gtol": self.tol, "ftol": 0.0, "maxcor": 20},
        )
        net.set_params_vector(res.x)
        # ABNORMAL line-search ends on non-smooth losses (absolute) still leave a usable fit;
        # only running out of iterations counts as non-convergence
        return int(res.nit), res.status != 1

    def _train_adam(self, net, X, y, loss, scale, rng) -> tuple[int, bool]:
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        theta = net.get_params_vector()
        m = np.zeros_like(theta)
        v = np.zeros_like(theta)
        n = X.shape[0]
        bs = min(int(self.batch_size), n)
        t = 0
        prev = np.inf
        for epoch in range(1, int(self.max_iter) + 1):
            for idx in np.array_split(rng.permutation(n), max(n // bs, 1)):
                net.set_params_vector(theta)
                _, g = _objective(net, X[idx], y[idx], loss, scale, self.alpha)
                t += 1
                m = beta1 * m + (1 - beta1) * g
                v = beta2 * v + (1 - beta2) * g * g
                theta = theta - self.learning_rate * (m / (1 - beta1**t)) / (
                    np.sqrt(v / (1 - beta2**t)) + eps
                )
            net.set_params_vector(theta)
            value, _ = _objective(net, X, y, loss, scale, self.alpha)
            if abs(prev - value) <= self.tol * max(1.0, abs(value)):
                return epoch, True
            prev = value
        return int(self.max_iter), False

    def predict(self, X) -> np.ndarray:
        """Network prediction on the original response scale."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Xs = (X - self.x_mean_) / self.x_scale_
        return self.y_center_ + self.y_scale_ * self.network_.forward(Xs)[:, 0]

    def input_gradient(self, X) -> np.ndarray:
        """:math:`\\nabla_x \\hat f(x)` on the original scales, by the backward recursion."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Xs = (X - self.x_mean_) / self.x_scale_
        return self.network_.input_gradient(Xs) * (self.y_scale_ / self.x_scale_)
