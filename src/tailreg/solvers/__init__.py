"""Pure array cores of the estimators: no configuration, no results, no input checks.

Each module solves one kind of problem on arrays (designs shared (n, k) or stacked
(R, n, k), responses (R, n); see :mod:`tailreg._linalg`) and imports neither
:mod:`tailreg.estimators` nor :mod:`tailreg.inference`:

- :mod:`~tailreg.solvers.irls`: iteratively reweighted least squares (and Newton steps) of
  M-estimation, with MASS ``rlm``'s scale rules;
- :mod:`~tailreg.solvers.quantile_lp`: regression quantiles by HiGHS or Frisch–Newton, one or
  many at once (:mod:`~tailreg.solvers.frisch_newton`,
  :mod:`~tailreg.solvers.frisch_newton_many`);
- :mod:`~tailreg.solvers.s_estimation`: fast-S and the M-scale;
- :mod:`~tailreg.solvers.student_t`: the Student-t likelihood, EM + Newton, profile over df;
- :mod:`~tailreg.solvers.gaussian_mle`: the Gaussian likelihood by Newton.

Least squares itself is :func:`tailreg._linalg.lstsq`.
"""
