r"""A small numpy multilayer perceptron, its backpropagation and its input gradient.

The network
-----------
For layer sizes :math:`(n_1, \dots, n_L)`:

.. math::
    a^{[1]} = x \in \mathbb{R}^{n_1}, \qquad
    z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}, \qquad
    a^{[l]} = \sigma_l(z^{[l]}), \quad l = 2, \dots, L,

with :math:`W^{[l]} \in \mathbb{R}^{n_l \times n_{l-1}}`. In code the lists ``weights`` and
``biases`` hold :math:`W^{[2]}, \dots, W^{[L]}` and :math:`b^{[2]}, \dots, b^{[L]}`
(``weights[0]`` is :math:`W^{[2]}`). Inputs are batched as rows: ``X`` has shape
``(m, n_1)`` and :math:`z^{[l]}` of all rows is ``A @ W.T + b``.

Backpropagation for a loss
--------------------------
For a cost :math:`C = \sum_i \rho(r_i / s)` of the residuals :math:`r = y - a^{[L]}`
(the definition's :math:`C = \tfrac12\lVert y - a^{[L]}\rVert^2` is :math:`\rho(u) = u^2/2`,
:math:`s = 1`: the Gaussian negative log-likelihood up to constants), the chain rule gives

.. math::
    \delta^{[L]} = \sigma_L'(z^{[L]}) \circ \frac{\partial C}{\partial a^{[L]}}
                 = -\sigma_L'(z^{[L]}) \circ \psi(r/s)/s, \qquad
    \delta^{[l]} = \sigma_l'(z^{[l]}) \circ (W^{[l+1]})^\top \delta^{[l+1]},

and :math:`\partial C/\partial W^{[l]} = \delta^{[l]} (a^{[l-1]})^\top`,
:math:`\partial C/\partial b^{[l]} = \delta^{[l]}`, summed over the batch.

The input gradient
------------------
For :math:`n_L = 1` the same recursion without any loss gives :math:`\nabla_x a^{[L]}`:
:math:`a^{[L]}` depends on :math:`x` only through :math:`z^{[2]} = W^{[2]}x + b^{[2]}`, so
:math:`\nabla_x a^{[L]} = (W^{[2]})^\top \partial a^{[L]}/\partial z^{[2]}`, and
:math:`\delta^{[l]} := \partial a^{[L]}/\partial z^{[l]}` obeys

.. math::
    \delta^{[L]} = \sigma_L'(z^{[L]}), \qquad
    \delta^{[l]} = \sigma_l'(z^{[l]}) \circ (W^{[l+1]})^\top \delta^{[l+1]}, \qquad
    \nabla_x a^{[L]} = (W^{[2]})^\top \delta^{[2]}.

One backward pass, batched over many :math:`x`. The MSE deltas are these deltas times the
scalar :math:`a^{[L]} - y`, so dividing them by :math:`(a^{[L]} - y)` recovers the same
gradient for :math:`n_L = 1` — but only where :math:`a^{[L]} \ne y`; where the network
interpolates the point the quotient is 0/0 and undefined. The direct recursion needs no
target at all, so the detour is unnecessary. For :math:`n_L > 1`, :meth:`MLP.jacobian`
propagates a whole matrix, in reverse mode (:math:`n_L` rows) or forward mode
(:math:`n_1` columns), whichever is narrower.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from .._validation import SeedLike, check_random_state
from ..losses import Loss, Squared

__all__ = ["ACTIVATIONS", "MLP"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _dsigmoid(z):
    s = _sigmoid(z)
    return s * (1.0 - s)


def _relu(z):
    # .real keeps the comparison defined for complex-step differentiation
    return np.where(np.real(z) > 0, z, 0.0 * z)


def _drelu(z):
    return (np.real(z) > 0).astype(float)


#: name -> (sigma, sigma'), both functions of z (and analytic where smooth, so that
#: complex-step derivatives work)
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (_sigmoid, _dsigmoid),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (_relu, _drelu),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}


def _check_input(X: np.ndarray, n_in: int) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim == 1 and n_in == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != n_in:
        raise ValueError(f"X must have shape (m, {n_in}), got {X.shape}")
    if not np.iscomplexobj(X) and not np.all(np.isfinite(X)):
        raise ValueError("Input X contains NaN or infinity")
    return X


class MLP:
    """Multilayer perceptron :math:`a^{[l]} = \\sigma(W^{[l]} a^{[l-1]} + b^{[l]})`.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths :math:`(n_1, \\dots, n_L)`, :math:`L \\ge 2`.
    activations : str or sequence of str, optional
        Activation of layers 2..L (a single name for all); default ``"sigmoid"``, as in the
        definition. Names: sigmoid, tanh, relu, identity.
    random_state : int, SeedSequence, Generator or None
        Seeds the Glorot-uniform initialisation (biases start at 0).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activations: str | Sequence[str] | None = None,
        random_state: SeedLike = None,
    ) -> None:
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive widths, got {sizes}")
        if activations is None:
            activations = "sigmoid"
        if isinstance(activations, str):
            activations = [activations] * (len(sizes) - 1)
        activations = list(activations)
        if len(activations) != len(sizes) - 1:
            raise ValueError(
                f"need {len(sizes) - 1} activations (layers 2..L), got {len(activations)}"
            )
        for name in activations:
            if name not in ACTIVATIONS:
                raise ValueError(f"unknown activation {name!r}; known: {sorted(ACTIVATIONS)}")
        self.sizes = sizes
        self.activations = activations
        rng = check_random_state(random_state)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        for n_in, n_out in itertools.pairwise(sizes):
            bound = np.sqrt(6.0 / (n_in + n_out))
            self.weights.append(rng.uniform(-bound, bound, size=(n_out, n_in)))
            self.biases.append(np.zeros(n_out))

    # -- parameters as one vector (for scipy optimizers) ------------------------------
    @property
    def n_params(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True))

    def get_params_vector(self) -> np.ndarray:
        """All weights then biases of each layer, concatenated."""
        return np.concatenate(
            [np.concatenate([w.ravel(), b]) for w, b in zip(self.weights, self.biases, strict=True)]
        )

    def set_params_vector(self, theta: np.ndarray) -> None:
        """Inverse of :meth:`get_params_vector`."""
        theta = np.asarray(theta)
        if theta.shape != (self.n_params,):
            raise ValueError(f"expected {self.n_params} parameters, got shape {theta.shape}")
        pos = 0
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            self.weights[i] = theta[pos : pos + n_in * n_out].reshape(n_out, n_in)
            pos += n_in * n_out
            self.biases[i] = theta[pos : pos + n_out]
            pos += n_out

    # -- forward ----------------------------------------------------------------------
    def _forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return (z[2..L], a[1..L]) for a batch of rows."""
        a = [X]
        zs = []
        for W, b, name in zip(self.weights, self.biases, self.activations, strict=True):
            z = a[-1] @ W.T + b
            zs.append(z)
            a.append(ACTIVATIONS[name][0](z))
        return zs, a

    def forward(self, X) -> np.ndarray:
        """Network output :math:`a^{[L]}` for each row of ``X`` (m, n_1) -> (m, n_L)."""
        X = _check_input(X, self.sizes[0])
        return self._forward(X)[1][-1]

    def _sigma_prime(self, zs: list[np.ndarray]) -> list[np.ndarray]:
        return [ACTIVATIONS[name][1](z) for z, name in zip(zs, self.activations, strict=True)]

    # -- gradients --------------------------------------------------------------------
    def input_gradient(self, X) -> np.ndarray:
        """:math:`\\nabla_x a^{[L]}(x)` for each row (m, n_1), by one backward pass (n_L = 1)."""
        if self.sizes[-1] != 1:
            raise ValueError(
                f"input_gradient needs one output (n_L = 1), this network has {self.sizes[-1]}; "
                "use jacobian()"
            )
        X = _check_input(X, self.sizes[0])
        zs, _ = self._forward(X)
        dsig = self._sigma_prime(zs)
        delta = dsig[-1]  # (m, 1): delta[L] = sigma'(z[L])
        for l in range(len(self.weights) - 2, -1, -1):
            delta = dsig[l] * (delta @ self.weights[l + 1])
        return delta @ self.weights[0]

    def jacobian(self, X) -> np.ndarray:
        """:math:`\\partial a^{[L]} / \\partial x` for each row, shape (m, n_L, n_1).

        Reverse mode when :math:`n_L \\le n_1`, forward mode otherwise.
        """
        X = _check_input(X, self.sizes[0])
        zs, _ = self._forward(X)
        dsig = self._sigma_prime(zs)
        m = X.shape[0]
        if self.sizes[-1] <= self.sizes[0]:
            D = dsig[-1][:, :, None] * np.eye(self.sizes[-1])  # (m, n_L, n_L)
            for l in range(len(self.weights) - 2, -1, -1):
                D = (D @ self.weights[l + 1]) * dsig[l][:, None, :]
            return D @ self.weights[0]
        T = np.broadcast_to(self.weights[0], (m, *self.weights[0].shape)) * dsig[0][:, :, None]
        for l in range(1, len(self.weights)):
            T = dsig[l][:, :, None] * (self.weights[l] @ T)
        return T

    def backprop(
        self, X, y, loss: Loss | None = None, scale: float = 1.0
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """Cost :math:`C = \\sum_i \\rho(r_i/s)` and its gradients for each layer (batched).

        Parameters
        ----------
        X : (m, n_1)
        y : (m, n_L) or (m,) when n_L = 1
        loss : a :mod:`tailreg.losses` loss
            Default squared, :math:`C = \\tfrac12\\lVert y - a^{[L]}\\rVert^2`.
        scale : the residual scale :math:`s`.

        Returns
        -------
        cost, grads_W, grads_b
            ``grads_W[i]`` has the shape of ``weights[i]``.
        """
        loss = Squared() if loss is None else loss
        X = _check_input(X, self.sizes[0])
        y = np.asarray(y)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape != (X.shape[0], self.sizes[-1]):
            raise ValueError(f"y must have shape ({X.shape[0]}, {self.sizes[-1]}), got {y.shape}")
        zs, a = self._forward(X)
        dsig = self._sigma_prime(zs)
        u = (y - a[-1]) / scale
        cost = loss.rho(u).sum()
        delta = dsig[-1] * (-loss.psi(u) / scale)
        grads_W = [np.empty(0)] * len(self.weights)
        grads_b = [np.empty(0)] * len(self.weights)
        for l in range(len(self.weights) - 1, -1, -1):
            grads_W[l] = delta.T @ a[l]
            grads_b[l] = delta.sum(axis=0)
            if l > 0:
                delta = dsig[l - 1] * (delta @ self.weights[l])
        return cost, grads_W, grads_b
