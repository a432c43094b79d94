r"""One family of losses: every estimator in tailreg minimises :math:`\sum_i \rho(r_i / s)`.

A loss acts on standardised residuals :math:`u = r/s`. Each loss provides

* ``rho(u)`` — the objective per observation,
* ``psi(u)`` — its derivative :math:`\rho'(u)` (the estimating function),
* ``psi_prime(u)`` — :math:`\psi'(u)` (zero almost everywhere for the non-smooth ones),
* ``weight(u)`` — :math:`\psi(u)/u`, the IRLS weight, with its limit at :math:`u = 0`,
* ``pdf(u)`` / ``logpdf(u)`` — the error density :math:`f` for which minimising
  :math:`\sum\rho` *is* maximum likelihood, i.e. :math:`f(u) \propto e^{-\rho(u)}`;
* ``rho_max`` and ``chi(u)`` — :math:`\sup\rho` and, for a bounded :math:`\rho`, the
  normalised :math:`\chi = \rho/\sup\rho \in [0, 1]` of S-scales (Rousseeuw & Yohai 1984);

and states what :mod:`tailreg.theory` needs to know about it, so that the theory dispatches
on these attributes and never on the class: ``functional`` (``"mean"``, ``"quantile"`` or
``"m"``: which population functional the location estimator of the loss converges to),
``tau`` (the quantile level, for ``functional == "quantile"``) and ``kinks`` (the points
where :math:`\psi` or :math:`\psi'` is not smooth, where the theory splits its integrals).

This last point is the package's central idea. Minimising the squared loss
:math:`\rho(u) = u^2/2` maximises :math:`\prod_i \phi(r_i/s)`: least squares is the Gaussian
MLE. The absolute loss is the Laplace MLE, the check loss the asymmetric-Laplace MLE (Koenker &
Machado 1999), Huber's loss the MLE of his least-favourable density (Huber 1964), and the
Student-t loss the t MLE (Lange, Little & Taylor 1989). The Tukey bisquare loss is bounded, so
:math:`e^{-\rho}` is not integrable and no density corresponds to it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import numpy as np
from scipy import special, stats

from ._validation import check_in_range, check_positive

__all__ = [
    "Absolute",
    "Bisquare",
    "Check",
    "Huber",
    "Loss",
    "Squared",
    "StudentT",
]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


class Loss(ABC):
    """Base class of the loss family (stateless, vectorised over any array shape)."""

    #: short lower-case name used in study files and labels
    name: str = "loss"
    #: True when rho is convex (a unique minimiser, any start works)
    convex: bool = True
    #: True when psi is differentiable everywhere (smooth sandwich available)
    smooth: bool = True
    #: True when exp(-rho) is integrable, i.e. the loss is a negative log-likelihood
    has_density: bool = True
    #: population functional of the location estimator: "mean" (E e), "quantile"
    #: (F^{-1}(tau)) or "m" (the root of E psi((e - T)/s) = 0)
    functional: ClassVar[Literal["mean", "quantile", "m"]] = "m"

    @abstractmethod
    def rho(self, u: np.ndarray) -> np.ndarray:
        """Objective per observation :math:`\\rho(u)`."""

    @abstractmethod
    def psi(self, u: np.ndarray) -> np.ndarray:
        """Derivative :math:`\\psi(u) = \\rho'(u)`."""

    @abstractmethod
    def psi_prime(self, u: np.ndarray) -> np.ndarray:
        """Second derivative :math:`\\psi'(u)` (0 a.e. for piecewise-linear losses)."""

    def weight(self, u: np.ndarray) -> np.ndarray:
        """IRLS weight :math:`w(u) = \\psi(u)/u`, with :math:`w(0) = \\psi'(0)`."""
        u = np.asarray(u, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            w = self.psi(u) / u
        return np.where(u == 0, self._weight_at_zero(), w)

    def _weight_at_zero(self) -> float:
        return float(self.psi_prime(np.zeros(1))[0])

    @property
    def kinks(self) -> tuple[float, ...]:
        r"""Points (in ``u`` units) where :math:`\psi` or :math:`\psi'` is not smooth or turns.

        :mod:`tailreg.theory` splits its integrals there; empty for smooth losses.
        """
        return ()

    @property
    def rho_max(self) -> float:
        r""":math:`\sup_u\rho(u)`; ``inf`` for an unbounded loss."""
        return math.inf

    @property
    def rejection_point(self) -> float:
        r"""The :math:`r` with :math:`\psi(u) = 0` (:math:`\rho` constant) for :math:`|u| > r`
        (Hampel et al. 1986, sec. 2.6); ``inf`` when :math:`\psi` never vanishes."""
        return math.inf

    def chi(self, u: np.ndarray) -> np.ndarray:
        r"""Normalised loss :math:`\chi(u) = \rho(u)/\sup\rho \in [0, 1]` (bounded losses).

        The function of an M-scale :math:`\operatorname{ave}\chi(r/s) = b` (S-estimators).

        Raises
        ------
        ValueError
            If :math:`\rho` is unbounded.
        """
        top = self.rho_max
        if not math.isfinite(top):
            raise ValueError(f"the {self.name} loss is unbounded: chi = rho / sup rho is undefined")
        return self.rho(u) / top

    def logpdf(self, u: np.ndarray) -> np.ndarray:
        """Log of the error density :math:`f(u) = e^{-\\rho(u)} / \\int e^{-\\rho}`."""
        if not self.has_density:
            raise ValueError(
                f"the {self.name} loss is bounded: exp(-rho) is not integrable, so it is "
                "not the negative log-likelihood of any density"
            )
        return -self.rho(np.asarray(u, dtype=float)) - self.log_normalizer()

    def pdf(self, u: np.ndarray) -> np.ndarray:
        """Error density for which minimising this loss is maximum likelihood."""
        return np.exp(self.logpdf(u))

    def log_normalizer(self) -> float:
        """:math:`\\log \\int e^{-\\rho(u)}\\,du`."""
        raise NotImplementedError

    @property
    def density_name(self) -> str:
        """Name of the law whose MLE this loss gives."""
        return "none"

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def _params(self) -> dict[str, float]:
        return {}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._params() == other._params()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self._params().items())))


class Squared(Loss):
    r"""Squared loss :math:`\rho(u) = u^2/2`, :math:`\psi(u) = u`: least squares.

    :math:`e^{-\rho(u)}/\sqrt{2\pi}` is the standard normal density, so minimising
    :math:`\sum (r_i/s)^2/2` is the Gaussian MLE of the regression coefficients, for any
    :math:`s`. Its location functional is the mean and its asymptotic variance
    :math:`\operatorname{Var}(e)`, finite only when the errors have finite variance.
    """

    name = "squared"
    functional = "mean"

    def rho(self, u):
        u = np.asarray(u, dtype=float)
        return 0.5 * u * u

    def psi(self, u):
        return np.asarray(u, dtype=float).copy()

    def psi_prime(self, u):
        return np.ones_like(np.asarray(u, dtype=float))

    def weight(self, u):
        return np.ones_like(np.asarray(u, dtype=float))

    def log_normalizer(self) -> float:
        return _LOG_SQRT_2PI

    @property
    def density_name(self) -> str:
        return "normal"


class Absolute(Loss):
    r"""Absolute loss :math:`\rho(u) = |u|`, :math:`\psi(u) = \operatorname{sign}(u)`: LAD.

    The MLE of the Laplace density :math:`f(u) = e^{-|u|}/2`. :math:`\psi'` is zero
    except for a point mass at 0, so ``psi_prime`` returns 0 and the asymptotic variance
    uses the error density at the median instead: :math:`1/(4 f(0)^2)`.
    """

    name = "absolute"
    smooth = False
    functional = "quantile"
    #: the absolute loss is the check loss at the median
    tau = 0.5

    def rho(self, u):
        return np.abs(np.asarray(u, dtype=float))

    def psi(self, u):
        return np.sign(np.asarray(u, dtype=float))

    def psi_prime(self, u):
        return np.zeros_like(np.asarray(u, dtype=float))

    def _weight_at_zero(self) -> float:
        return np.inf

    def log_normalizer(self) -> float:
        return np.log(2.0)

    @property
    def density_name(self) -> str:
        return "laplace"


class Check(Loss):
    r"""Koenker–Bassett check loss :math:`\rho_\tau(u) = u(\tau - 1\{u < 0\})`.

    Minimising :math:`\sum\rho_\tau(y_i - x_i^\top\beta)` gives the :math:`\tau`-th regression
    quantile (Koenker & Bassett 1978). It is the negative log-likelihood of the asymmetric
    Laplace density :math:`f(u) = \tau(1-\tau)e^{-\rho_\tau(u)}` (Koenker & Machado 1999).
    :math:`\psi(u) = \tau - 1\{u < 0\}`.

    Parameters
    ----------
    tau : float in (0, 1)
    """

    name = "check"
    smooth = False
    functional = "quantile"

    def __init__(self, tau: float = 0.5) -> None:
        self.tau = check_in_range("tau", tau, 0.0, 1.0)

    def _params(self):
        return {"tau": self.tau}

    def rho(self, u):
        u = np.asarray(u, dtype=float)
        return u * (self.tau - (u < 0))

    def psi(self, u):
        u = np.asarray(u, dtype=float)
        return self.tau - (u < 0).astype(float)

    def psi_prime(self, u):
        return np.zeros_like(np.asarray(u, dtype=float))

    def _weight_at_zero(self) -> float:
        return np.inf

    def log_normalizer(self) -> float:
        return -np.log(self.tau * (1.0 - self.tau))

    @property
    def density_name(self) -> str:
        return "asymmetric_laplace"


class Huber(Loss):
    r"""Huber's loss: quadratic for :math:`|u| \le k`, linear beyond.

    .. math::
        \rho_k(u) = \begin{cases} u^2/2 & |u| \le k \\ k|u| - k^2/2 & |u| > k \end{cases},
        \qquad \psi_k(u) = \max(-k, \min(k, u)).

    It is the MLE of Huber's (1964) least-favourable density for the
    :math:`\varepsilon`-contaminated normal,
    :math:`f(u) = (1-\varepsilon)(2\pi)^{-1/2}e^{-\rho_k(u)}` with
    :math:`1/(1-\varepsilon) = 2\Phi(k) - 1 + 2\phi(k)/k`. ``k = 1.345`` gives 95% asymptotic
    efficiency at the normal with known scale.

    Parameters
    ----------
    k : float > 0
    """

    name = "huber"

    def __init__(self, k: float = 1.345) -> None:
        self.k = check_positive("k", k, allow_inf=True)

    def _params(self):
        return {"k": self.k}

    def rho(self, u):
        a = np.abs(np.asarray(u, dtype=float))
        k = self.k
        # k = inf: the unused branch is inf - inf; |u| near the largest double: a * a overflows
        # in the unused branch
        with np.errstate(invalid="ignore", over="ignore"):
            return np.where(a <= k, 0.5 * a * a, k * a - 0.5 * k * k)

    def psi(self, u):
        return np.clip(np.asarray(u, dtype=float), -self.k, self.k)

    @property
    def kinks(self) -> tuple[float, ...]:
        r""":math:`\pm k`, where :math:`\psi'` jumps (none for ``k = inf``)."""
        return (-self.k, self.k) if math.isfinite(self.k) else ()

    def psi_prime(self, u):
        return (np.abs(np.asarray(u, dtype=float)) <= self.k).astype(float)

    def weight(self, u):
        a = np.asarray(np.abs(np.asarray(u, dtype=float)))
        if np.isinf(self.k):
            return np.ones_like(a)
        # min(1, k/|u|) in two in-place passes: this runs once per IRLS sweep on (R, n)
        np.maximum(a, self.k, out=a)
        return np.divide(self.k, a, out=a)

    @property
    def epsilon(self) -> float:
        r"""Contamination :math:`\varepsilon` for which this k is minimax (Huber 1964)."""
        k = self.k
        if np.isinf(k):
            return 0.0
        total = 2.0 * stats.norm.cdf(k) - 1.0 + 2.0 * stats.norm.pdf(k) / k
        return 1.0 - 1.0 / total

    def log_normalizer(self) -> float:
        return _LOG_SQRT_2PI - np.log1p(-self.epsilon)

    @property
    def density_name(self) -> str:
        return "huber_least_favourable"


class Bisquare(Loss):
    r"""Tukey's bisquare (biweight) loss, redescending and bounded.

    .. math::
        \rho_c(u) = \frac{c^2}{6}\left[1 - \left(1 - (u/c)^2\right)^3\right] \ (|u| \le c),
        \quad \frac{c^2}{6} \ (|u| > c); \qquad
        \psi_c(u) = u\left(1 - (u/c)^2\right)^2 1\{|u| \le c\}.

    ``c = 4.685`` gives 95% efficiency at the normal; ``c = 1.54764`` with
    :math:`E\rho/\max\rho = 1/2` gives a 50% breakdown S-estimator (Rousseeuw & Yohai 1984).
    Because :math:`\rho` is bounded, :math:`e^{-\rho}` is not integrable: the bisquare is not
    the MLE of any density (``pdf`` raises).

    Parameters
    ----------
    c : float > 0
    """

    name = "bisquare"
    convex = False
    has_density = False

    def __init__(self, c: float = 4.685) -> None:
        self.c = check_positive("c", c)

    def _params(self):
        return {"c": self.c}

    # beyond |u| = c the functions are constant (0 for psi, psi', w); the polynomial branch,
    # evaluated there too and discarded, overflows (to +-inf, never NaN) for |u| near the
    # largest double: silenced
    def rho(self, u):
        t = np.asarray(u, dtype=float) / self.c
        inside = np.abs(t) <= 1
        with np.errstate(over="ignore"):
            return (self.c**2 / 6.0) * np.where(inside, 1.0 - (1.0 - t * t) ** 3, 1.0)

    def psi(self, u):
        u = np.asarray(u, dtype=float)
        t = u / self.c
        with np.errstate(over="ignore"):
            return np.where(np.abs(t) <= 1, u * (1.0 - t * t) ** 2, 0.0)

    def psi_prime(self, u):
        with np.errstate(over="ignore"):
            t2 = (np.asarray(u, dtype=float) / self.c) ** 2
            return np.where(t2 <= 1, (1.0 - t2) * (1.0 - 5.0 * t2), 0.0)

    def weight(self, u):
        with np.errstate(over="ignore"):
            t2 = (np.asarray(u, dtype=float) / self.c) ** 2
            return np.where(t2 <= 1, (1.0 - t2) ** 2, 0.0)

    @property
    def rho_max(self) -> float:
        """:math:`\\sup\\rho = c^2/6`."""
        return self.c**2 / 6.0

    def chi(self, u: np.ndarray) -> np.ndarray:
        r"""Normalised bisquare :math:`\chi_c = \rho_c/(c^2/6) = 1 - (1 - t)^3`, :math:`t =
        \min((u/c)^2, 1)`, evaluated as :math:`t(3 + t(-3 + t))`.

        robustbase's ``Mchi(u, c, "bisquare")`` (``tukeyChi``), the scale function of its
        S-estimator; this is the one implementation the S-estimation, the MM covariance and
        the theory's S-functional share.
        """
        t = np.minimum((np.asarray(u, dtype=float) / self.c) ** 2, 1.0)
        return t * (3.0 + t * (-3.0 + t))

    def chi_prime(self, u: np.ndarray) -> np.ndarray:
        """:math:`\\chi'(u) = \\psi(u)/\\sup\\rho = 6\\psi(u)/c^2`."""
        return self.psi(u) / self.rho_max

    @property
    def kinks(self) -> tuple[float, ...]:
        """:math:`\\pm c`, beyond which :math:`\\psi` vanishes."""
        return (-self.c, self.c)

    @property
    def rejection_point(self) -> float:
        """:math:`c`: :math:`\\psi` vanishes beyond it."""
        return self.c


class StudentT(Loss):
    r"""Student-t negative log-likelihood :math:`\rho(u) = \frac{\nu+1}{2}\log(1 + u^2/\nu)`.

    :math:`\psi(u) = (\nu+1)u/(\nu+u^2)`, IRLS weight :math:`(\nu+1)/(\nu+u^2)` — the EM weights
    of Lange, Little & Taylor (1989). :math:`e^{-\rho}` normalised is the :math:`t_\nu` density.
    Non-convex: :math:`\psi` redescends for :math:`|u| > \sqrt\nu`. As
    :math:`\nu\to\infty` the loss tends to the squared loss.

    Parameters
    ----------
    df : float > 0, degrees of freedom :math:`\nu`
    """

    name = "student_t"
    convex = False

    def __init__(self, df: float = 4.0) -> None:
        self.df = check_positive("df", df)

    def _params(self):
        return {"df": self.df}

    def rho(self, u):
        u = np.asarray(u, dtype=float)
        return 0.5 * (self.df + 1.0) * np.log1p(u * u / self.df)

    def psi(self, u):
        u = np.asarray(u, dtype=float)
        return (self.df + 1.0) * u / (self.df + u * u)

    def psi_prime(self, u):
        u2 = np.asarray(u, dtype=float) ** 2
        return (self.df + 1.0) * (self.df - u2) / (self.df + u2) ** 2

    def weight(self, u):
        u = np.asarray(u, dtype=float)
        return (self.df + 1.0) / (self.df + u * u)

    @property
    def kinks(self) -> tuple[float, ...]:
        """:math:`\\pm\\sqrt\\nu`, where :math:`\\psi` turns (redescends beyond)."""
        return (-math.sqrt(self.df), math.sqrt(self.df))

    def log_normalizer(self) -> float:
        nu = self.df
        if nu > 1e3:
            # log Gamma(nu/2) - log Gamma((nu+1)/2) cancels ~log(nu) digits (an error of 1e-6
            # at nu = 1e9); the asymptotic series is exact to rounding here (next term 1e-17)
            return float(0.5 * np.log(2.0 * np.pi) + 0.25 / nu - 1.0 / (24.0 * nu**3))
        return float(
            special.gammaln(nu / 2.0) + 0.5 * np.log(nu * np.pi) - special.gammaln((nu + 1.0) / 2.0)
        )

    @property
    def density_name(self) -> str:
        return "t"
