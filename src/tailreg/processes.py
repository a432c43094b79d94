"""Error processes beyond i.i.d.: heteroscedastic and AR(1) errors built on any error law.

Both processes draw their innovations from an :class:`~tailreg.distributions.ErrorLaw`
(``.law``), take the design ``X`` (without the intercept column) and a numpy ``Generator``,
and return one error per row. ``X`` may also be a stack of designs of shape ``(R, n, p)``
(one per replication), in which case ``sample`` returns an ``(R, n)`` array; with a single
design, ``reps=R`` draws ``R`` independent error vectors for it. Both are picklable (a
callable scale function must be a module-level function for that) and have a stable ``key``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import signal

from ._validation import check_in_range
from .distributions import ErrorLaw, fmt_param, make

__all__ = ["AR1", "Heteroscedastic", "make_process"]


def _check_law(law: Any) -> ErrorLaw:
    if not isinstance(law, ErrorLaw):
        raise ValueError(f"law must be a tailreg.distributions ErrorLaw, got {type(law).__name__}")
    return law


def _shape(X: Any, reps: int | None) -> tuple[np.ndarray, tuple[int, ...]]:
    """Return X as float array and the shape of the error array to draw."""
    X = np.asarray(X, dtype=float)
    if X.ndim not in (1, 2, 3):
        raise ValueError(f"X must have 1, 2 or 3 dimensions, got shape {X.shape}")
    if X.ndim == 3:
        if reps is not None and reps != X.shape[0]:
            raise ValueError(f"reps={reps} does not match the stacked X with {X.shape[0]} designs")
        return X, X.shape[:2]
    n = X.shape[0]
    return X, ((n,) if reps is None else (int(reps), n))


class Heteroscedastic:
    """Heteroscedastic errors :math:`e_i = \\sigma(x_i)\\,u_i` with :math:`u_i` i.i.d. ``law``.

    The scalar :math:`x_i` is column ``column`` of ``X`` (default 0, the first regressor;
    ``X`` excludes the intercept column), and

    * ``"linear"``: :math:`\\sigma(x) = a + b|x|`,
    * ``"power"``:  :math:`\\sigma(x) = (a + |x|)^{\\text{exponent}}`,
    * a callable ``f``: :math:`\\sigma_i = f(X)_i`, evaluated on the whole ``X`` of shape
      ``(n, p)`` (or ``(R, n, p)``), so it may use every column.

    The absolute value keeps :math:`\\sigma > 0` for regressors of either sign; with
    non-negative regressors ``"linear"`` is exactly :math:`a + b x`. Because :math:`u` is
    scaled, not shifted, the conditional location of :math:`e_i` that an estimator targets is
    :math:`\\sigma(x_i) T(F_u)`: centre the law at the functional of interest (e.g.
    ``center="median"`` for LAD) so the regression line stays the true one.

    Parameters
    ----------
    law : ErrorLaw
    scale_fn : {"linear", "power"} or callable, default "linear"
    a, b : float, defaults 1.0 (``b`` is used by ``"linear"`` only)
    exponent : float, default 1.0 (``"power"`` only)
    column : int, default 0
    """

    def __init__(
        self,
        law: ErrorLaw,
        scale_fn: str | Callable[[np.ndarray], np.ndarray] = "linear",
        a: float = 1.0,
        b: float = 1.0,
        exponent: float = 1.0,
        column: int = 0,
    ) -> None:
        self.law = _check_law(law)
        if not (callable(scale_fn) or scale_fn in ("linear", "power")):
            raise ValueError(f"scale_fn must be 'linear', 'power' or a callable, got {scale_fn!r}")
        self.scale_fn = scale_fn
        if scale_fn == "linear":
            self.a = check_in_range("a", a, 0.0, math.inf, low_closed=True)
            self.b = check_in_range("b", b, 0.0, math.inf, low_closed=True)
            if self.a == 0 and self.b == 0:
                raise ValueError("a and b cannot both be 0 (sigma(x) = a + b|x| would vanish)")
        else:
            self.a = check_in_range("a", a, 0.0, math.inf, low_closed=True)
            self.b = float(b)
        self.exponent = check_in_range("exponent", exponent, -math.inf, math.inf)
        if isinstance(column, bool) or not isinstance(column, int | np.integer) or column < 0:
            raise ValueError(f"column must be a non-negative int, got {column!r}")
        self.column = int(column)

    @property
    def key(self) -> str:
        if callable(self.scale_fn):
            fn = self.scale_fn
            what = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
            spec = f"fn={what}"
        elif self.scale_fn == "linear":
            spec = f"linear,a={fmt_param(self.a)},b={fmt_param(self.b)},col={self.column}"
        else:
            spec = (
                f"power,a={fmt_param(self.a)},exponent={fmt_param(self.exponent)},col={self.column}"
            )
        return f"hetero({spec})|{self.law.key}"

    @property
    def label(self) -> str:
        if callable(self.scale_fn):
            return f"{self.law.label}, heteroscedastic ({getattr(self.scale_fn, '__name__', 'fn')})"
        if self.scale_fn == "linear":
            how = f"sigma = {fmt_param(self.a)} + {fmt_param(self.b)}|x{self.column + 1}|"
        else:
            how = f"sigma = ({fmt_param(self.a)} + |x{self.column + 1}|)^{fmt_param(self.exponent)}"
        return f"{self.law.label}, {how}"

    def __repr__(self) -> str:
        return (
            f"Heteroscedastic({self.law!r}, scale_fn={self.scale_fn!r}, a={self.a!r}, "
            f"b={self.b!r}, exponent={self.exponent!r}, column={self.column!r})"
        )

    def scale(self, X: Any) -> np.ndarray:
        """The scale :math:`\\sigma(x_i)` per row, shape ``X.shape[:-1]`` (or ``(n,)``)."""
        X = np.asarray(X, dtype=float)
        if callable(self.scale_fn):
            s = np.asarray(self.scale_fn(X), dtype=float)
            want = X.shape if X.ndim == 1 else X.shape[:-1]
            if s.shape != want:
                raise ValueError(f"scale_fn returned shape {s.shape}, expected {want}")
        else:
            if X.ndim == 1:
                x = X
            else:
                if self.column >= X.shape[-1]:
                    raise ValueError(f"column={self.column} but X has {X.shape[-1]} column(s)")
                x = X[..., self.column]
                if X.ndim == 2 and x.size > 1 and np.ptp(x) == 0:
                    raise ValueError(
                        f"column {self.column} of X is constant; pass X without the intercept "
                        "column (or choose another column)"
                    )
            ax = np.abs(x)
            if self.scale_fn == "linear":
                s = self.a + self.b * ax
            else:
                with np.errstate(divide="ignore"):
                    s = (self.a + ax) ** self.exponent
        if not (np.all(np.isfinite(s)) and np.all(s > 0)):
            raise ValueError("the scale function must give finite positive sigma(x) for every row")
        return s

    def affine_coefficients(self, X: Any) -> tuple[float, np.ndarray] | None:
        """``(a, b)`` with :math:`\\sigma(x) = a + b^\\top x` on every row of ``X`` (n, p), or None.

        Known exactly for ``scale_fn="linear"`` when column ``column`` of ``X`` is
        non-negative (then :math:`|x_j| = x_j`); ``b`` is ``b`` at that column and 0 elsewhere.
        The conditional quantiles of :math:`y = b_0 + x^\\top\\beta + \\sigma(x)u` are then
        straight lines (used by :mod:`tailreg.theory.population`).
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if callable(self.scale_fn) or self.scale_fn != "linear" or self.column >= X.shape[-1]:
            return None
        if not np.all(X[..., self.column] >= 0.0):
            return None
        b = np.zeros(X.shape[-1])
        b[self.column] = self.b
        return self.a, b

    def sample(self, X: Any, rng: np.random.Generator, reps: int | None = None) -> np.ndarray:
        """Draw :math:`e_i = \\sigma(x_i) u_i`, one per row of ``X`` (see the module notes)."""
        X, shape = _shape(X, reps)
        s = self.scale(X)
        return s * self.law.sample(shape, rng)


class AR1:
    """Stationary AR(1) errors :math:`e_t = \\phi e_{t-1} + u_t` with i.i.d. innovations
    :math:`u_t \\sim` ``law`` and :math:`|\\phi| < 1`; row order of ``X`` is time order.

    Stationary start:

    * Gaussian innovations (``law.gaussian``), exact: :math:`e_1 = \\mu/(1-\\phi) +
      (u_1 - \\mu)/\\sqrt{1-\\phi^2}` with :math:`\\mu` the innovation mean.
    * Any other law: the recursion starts at 0 and runs a burn-in of
      :math:`B = \\lceil 53 \\log 2 / \\log(1/|\\phi|) \\rceil` steps, which are discarded. Then
      :math:`e_{B+1} = e^{*} - \\phi^B e^{**}` with :math:`e^{*}, e^{**}` stationary and
      :math:`|\\phi|^B \\le 2^{-53}`: the start is stationary to double precision. This works
      for any innovation law, even without a finite variance (the series converges a.s.
      whenever :math:`E\\log^+|u| < \\infty`).

    The stationary mean is :math:`E u/(1-\\phi)`, variance :math:`\\mathrm{Var}(u)/(1-\\phi^2)`
    and lag-k autocorrelation :math:`\\phi^k`. For a skewed law a *median*-centred innovation
    does not give a median-zero :math:`e_t`; mean-centre it when the mean exists.

    Parameters
    ----------
    law : ErrorLaw
    phi : float in (-1, 1)
    """

    def __init__(self, law: ErrorLaw, phi: float) -> None:
        self.law = _check_law(law)
        self.phi = check_in_range("phi", phi, -1.0, 1.0)

    @property
    def key(self) -> str:
        return f"ar1(phi={fmt_param(self.phi)})|{self.law.key}"

    @property
    def label(self) -> str:
        return f"{self.law.label}, AR(1) phi = {fmt_param(self.phi)}"

    def __repr__(self) -> str:
        return f"AR1({self.law!r}, phi={self.phi!r})"

    @property
    def burn_in(self) -> int:
        """Steps discarded before the first returned error (0 for Gaussian laws or phi = 0)."""
        if self.phi == 0.0 or self.law.gaussian:
            return 0
        return math.ceil(53 * math.log(2.0) / -math.log(abs(self.phi)))

    def stationary_mean(self) -> float:
        """:math:`E u / (1-\\phi)`."""
        return self.law.mean() / (1.0 - self.phi)

    def stationary_var(self) -> float:
        """:math:`\\mathrm{Var}(u) / (1-\\phi^2)` (``inf``/``nan`` as the innovation's)."""
        return self.law.var() / (1.0 - self.phi**2)

    def autocorrelation(self, lag: int) -> float:
        """Lag-``lag`` autocorrelation :math:`\\phi^{|k|}` (finite-variance innovations)."""
        return self.phi ** abs(int(lag))

    def sample(self, X: Any, rng: np.random.Generator, reps: int | None = None) -> np.ndarray:
        """Draw a stationary AR(1) path of length ``n`` per design (see the module notes)."""
        _, shape = _shape(X, reps)
        n = shape[-1]
        burn = self.burn_in
        u = self.law.sample((*shape[:-1], burn + n), rng)
        if n + burn == 0:
            return u
        if self.phi == 0.0:
            return u
        a = [1.0, -self.phi]
        if self.law.gaussian:
            mu = self.law.mean()
            e1 = mu / (1.0 - self.phi) + (u[..., :1] - mu) / math.sqrt(1.0 - self.phi**2)
            if n == 1:
                return e1
            # lfilter's state zi = phi * e_1 makes y_0 = u_2 + phi e_1
            rest, _ = signal.lfilter([1.0], a, u[..., 1:], axis=-1, zi=self.phi * e1)
            return np.concatenate([e1, rest], axis=-1)
        e = signal.lfilter([1.0], a, u, axis=-1)
        return np.ascontiguousarray(e[..., burn:])


def make_process(kind: str, law: ErrorLaw | str, **params: Any) -> Heteroscedastic | AR1:
    """Build an error process from a study-file description.

    Parameters
    ----------
    kind : {"heteroscedastic", "ar1"}
    law : ErrorLaw or str
        The innovation law, or its name for :func:`tailreg.distributions.make` (then pass
        its keys in ``law_params``).
    **params
        ``scale_fn``, ``a``, ``b``, ``exponent``, ``column`` for ``"heteroscedastic"``;
        ``phi`` for ``"ar1"``; ``law_params`` (dict) when ``law`` is a name.
    """
    law_params = params.pop("law_params", {}) or {}
    if isinstance(law, str):
        law = make(law, **law_params)
    allowed = {
        "heteroscedastic": {"scale_fn", "a", "b", "exponent", "column"},
        "ar1": {"phi"},
    }
    if kind not in allowed:
        raise ValueError(f"unknown error process {kind!r}; known: heteroscedastic, ar1")
    unknown = sorted(set(params) - allowed[kind])
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for process {kind!r} "
            f"(expected: {', '.join(sorted(allowed[kind]))})"
        )
    if kind == "heteroscedastic":
        return Heteroscedastic(law, **params)
    if "phi" not in params:
        raise ValueError("process 'ar1' needs parameter 'phi'")
    return AR1(law, **params)
