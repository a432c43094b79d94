"""Building blocks of ``tailreg.diagnose``: what the residuals of a regression say.

* :mod:`.residuals` — skewness, quantile skewness and excess kurtosis with bootstrap
  intervals; Jarque–Bera, Anderson–Darling, Breusch–Pagan (Koenker), Durbin–Watson and
  Ljung–Box (all from statsmodels).
* :mod:`.tails` — Hill tail-index estimates of both tails with the Hill-plot data.
* :mod:`.laws` — normal, t, Laplace, skew-normal and shifted lognormal fitted by maximum
  likelihood, chosen by AIC, returned as :class:`tailreg.distributions.ErrorLaw` objects.
* :mod:`.outliers` — outliers and leverage points of a robust (MM) fit.
* :mod:`.advice` — findings and recommendations by stated rules, each citing its numbers.
* :mod:`.figures` — QQ, residuals-vs-fitted, Hill, weights and estimates plots.
* :mod:`.document`, :mod:`.html`, :mod:`.markdown` — a self-contained HTML page and a
  Markdown file with PNG figures from one document.
"""

from .advice import (
    CoefficientComparison,
    Finding,
    Findings,
    Recommendation,
    compare_coefficients,
    detect,
    recommend,
)
from .document import Document, Image, Items, Section, Table, Text
from .figures import estimates_plot, hill_plot, qq_plot, residuals_vs_fitted, weights_plot
from .html import render_html, write_html
from .laws import LawComparison, LawFit, fit_error_laws, fit_law
from .markdown import write_markdown
from .outliers import OutlierDiagnostics, hat_values, outlier_diagnostics, robust_distances
from .residuals import (
    Estimate,
    ResidualDiagnostics,
    TestResult,
    breusch_pagan,
    durbin_watson,
    jarque_bera,
    ljung_box,
    ljung_box_lags,
    normal_anderson_darling,
    quantile_skewness,
    residual_diagnostics,
    shape_statistics,
)
from .tails import HillEstimate, HillPath, TailDiagnostics, hill, hill_path, tail_diagnostics

__all__ = [
    "CoefficientComparison",
    "Document",
    "Estimate",
    "Finding",
    "Findings",
    "HillEstimate",
    "HillPath",
    "Image",
    "Items",
    "LawComparison",
    "LawFit",
    "OutlierDiagnostics",
    "Recommendation",
    "ResidualDiagnostics",
    "Section",
    "Table",
    "TailDiagnostics",
    "TestResult",
    "Text",
    "breusch_pagan",
    "compare_coefficients",
    "detect",
    "durbin_watson",
    "estimates_plot",
    "fit_error_laws",
    "fit_law",
    "hat_values",
    "hill",
    "hill_path",
    "hill_plot",
    "jarque_bera",
    "ljung_box",
    "ljung_box_lags",
    "normal_anderson_darling",
    "outlier_diagnostics",
    "qq_plot",
    "quantile_skewness",
    "recommend",
    "render_html",
    "residual_diagnostics",
    "residuals_vs_fitted",
    "robust_distances",
    "shape_statistics",
    "tail_diagnostics",
    "weights_plot",
    "write_html",
    "write_markdown",
]
