"""The MLP: gradients against complex-step and finite differences, linear case = OLS."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from tailreg.estimators.ols import OLS
from tailreg.exceptions import ConvergenceWarning
from tailreg.losses import Absolute, Huber, Squared, StudentT
from tailreg.network import MLP, MLPRegression

H = 1e-20
NETS = [
    ((3, 5, 1), ["tanh", "identity"]),
    ((2, 4, 6, 1), ["sigmoid", "tanh", "sigmoid"]),
    ((4, 7, 3, 5, 1), "tanh"),
    ((1, 3, 1), None),
    ((3, 5, 4, 2), ["sigmoid", "tanh", "identity"]),
    ((2, 6, 8, 5), "tanh"),
    ((5, 4, 3), "sigmoid"),
]


def _complex_step_jacobian(net: MLP, X: np.ndarray) -> np.ndarray:
    n_in = X.shape[1]
    cols = [net.forward(X + 1j * H * np.eye(n_in)[j]).imag / H for j in range(n_in)]
    return np.stack(cols, axis=2)


def _flat(gW, gb):
    return np.concatenate([np.concatenate([g.ravel(), b]) for g, b in zip(gW, gb, strict=True)])


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize(("sizes", "acts"), NETS)
def test_jacobian_matches_complex_step(sizes, acts):
    net = MLP(sizes, acts, random_state=11)
    X = np.random.default_rng(1).normal(size=(7, sizes[0]))
    ref = _complex_step_jacobian(net, X)
    assert net.jacobian(X).shape == (7, sizes[-1], sizes[0])
    assert _rel(net.jacobian(X), ref) < 1e-10
    if sizes[-1] == 1:
        assert _rel(net.input_gradient(X), ref[:, 0, :]) < 1e-10


@pytest.mark.parametrize(("sizes", "acts"), NETS)
def test_input_gradient_matches_central_differences(sizes, acts):
    net = MLP(sizes, acts, random_state=3)
    X = np.random.default_rng(2).normal(size=(5, sizes[0]))
    h = 1e-5
    fd = np.stack(
        [(net.forward(X + h * e) - net.forward(X - h * e)) / (2 * h) for e in np.eye(sizes[0])],
        axis=2,
    )
    assert _rel(net.jacobian(X), fd) < 1e-6


def test_relu_network_gradient_away_from_kinks():
    net = MLP((3, 6, 1), ["relu", "identity"], random_state=4)
    X = np.random.default_rng(3).normal(size=(9, 3))
    assert _rel(net.input_gradient(X), _complex_step_jacobian(net, X)[:, 0, :]) < 1e-10


@pytest.mark.parametrize(("sizes", "acts"), NETS)
def test_parameter_gradient_mse_matches_complex_step(sizes, acts):
    net = MLP(sizes, acts, random_state=5)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(6, sizes[0]))
    y = rng.normal(size=(6, sizes[-1]))
    cost, gW, gb = net.backprop(X, y)
    assert cost == pytest.approx(0.5 * np.sum((y - net.forward(X)) ** 2), rel=1e-14)
    theta = net.get_params_vector()
    ref = np.empty_like(theta)
    for i in range(theta.size):
        t = theta.astype(complex)
        t[i] += 1j * H
        net.set_params_vector(t)
        ref[i] = (0.5 * np.sum((y - net.forward(X)) ** 2)).imag / H
    net.set_params_vector(theta)
    assert _rel(_flat(gW, gb), ref) < 1e-10


@pytest.mark.parametrize("loss", [Squared(), Huber(0.7), Absolute(), StudentT(3.0)])
def test_parameter_gradient_robust_losses_central_differences(loss):
    net = MLP((2, 5, 1), ["tanh", "identity"], random_state=6)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 2))
    y = rng.normal(size=8) * 2
    scale = 0.8
    _, gW, gb = net.backprop(X, y, loss, scale)
    theta = net.get_params_vector()
    h = 1e-6
    fd = np.empty_like(theta)
    for i in range(theta.size):
        vals = []
        for sgn in (1, -1):
            t = theta.copy()
            t[i] += sgn * h
            net.set_params_vector(t)
            vals.append(loss.rho((y - net.forward(X)[:, 0]) / scale).sum())
        fd[i] = (vals[0] - vals[1]) / (2 * h)
    net.set_params_vector(theta)
    assert _rel(_flat(gW, gb), fd) < 1e-6


def test_identity_network_trained_by_mse_recovers_ols():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(150, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 1.0 + rng.standard_t(3, size=150)
    m = MLPRegression(
        hidden=(3,), activation="identity", tol=1e-14, max_iter=20000, random_state=0
    ).fit(X, y)
    ols = OLS().fit(X, y)
    np.testing.assert_allclose(m.predict(X), ols.predict(X), rtol=0, atol=1e-6 * np.abs(y).max())
    # coefficients implied by the product of the weights, back on the original scale
    W2, W3 = m.network_.weights
    slope = (W3 @ W2)[0] * m.y_scale_ / m.x_scale_
    np.testing.assert_allclose(slope, ols.coef_, rtol=1e-6)
    np.testing.assert_allclose(m.input_gradient(X[:4]), np.tile(ols.coef_, (4, 1)), rtol=1e-6)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("loss", ["squared", "huber", "absolute", "student_t"])
def test_training_is_reproducible_bit_for_bit(solver, loss):
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, size=(80, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.standard_cauchy(80)
    kw = dict(hidden=(6,), loss=loss, solver=solver, max_iter=30, random_state=123)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = MLPRegression(**kw).fit(X, y)
        b = MLPRegression(**kw).fit(X, y)
    for wa, wb in zip(a.network_.weights, b.network_.weights, strict=True):
        assert np.array_equal(wa, wb)
    assert np.array_equal(a.predict(X), b.predict(X))


def test_robust_training_beats_mse_under_cauchy_noise():
    rng = np.random.default_rng(8)
    X = rng.uniform(-2, 2, size=(400, 1))
    f = np.sin(1.5 * X[:, 0])
    y = f + 0.3 * rng.standard_cauchy(400)
    grid = np.linspace(-1.8, 1.8, 50)[:, None]
    err = {}
    for loss in ("squared", "huber"):
        m = MLPRegression(hidden=(8,), loss=loss, alpha=1e-4, max_iter=150, random_state=0)
        with pytest.warns(ConvergenceWarning):  # 150 L-BFGS steps do not meet tol=1e-8
            m.fit(X, y)
        err[loss] = np.mean((m.predict(grid) - np.sin(1.5 * grid[:, 0])) ** 2)
    assert err["huber"] < err["squared"]


def test_bad_input_raises_clear_errors():
    net = MLP((3, 4, 1), random_state=0)
    with pytest.raises(ValueError, match="shape"):
        net.forward(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        net.forward(np.array([[np.nan, 0.0, 1.0]]))
    with pytest.raises(ValueError, match="n_L = 1"):
        MLP((3, 4, 2), random_state=0).input_gradient(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="activation"):
        MLP((3, 4, 1), "softsign")
    with pytest.raises(ValueError, match="NaN"):
        MLPRegression().fit(np.array([[0.0], [np.nan], [1.0]]), np.ones(3))
    with pytest.raises(ValueError, match="loss"):
        MLPRegression(loss="cauchy").fit(np.zeros((5, 1)), np.arange(5.0))


def test_weights_are_settable_and_used():
    net = MLP((2, 2, 1), ["identity", "identity"], random_state=0)
    net.weights = [np.eye(2), np.array([[2.0, -1.0]])]
    net.biases = [np.zeros(2), np.array([0.5])]
    np.testing.assert_allclose(net.forward(np.array([[1.0, 3.0]])), [[0.5 + 2.0 - 3.0]])
    np.testing.assert_allclose(net.input_gradient(np.array([[1.0, 3.0]])), [[2.0, -1.0]])


@parametrize_with_checks([MLPRegression(hidden=(4,), max_iter=50, random_state=0)])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
