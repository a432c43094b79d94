"""The report of a :class:`~.diagnose.Diagnosis` as a :class:`~.document.Document`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .document import Document, Image, Items, Section, Table, Text

if TYPE_CHECKING:
    from .diagnose import Diagnosis

__all__ = ["build_document"]


def _findings(d: Diagnosis) -> Section:
    rows = [
        {"finding": f.name, "detected": f.detected, "evidence": f.evidence}
        for f in d.findings.all()
    ]
    skipped = (
        ""
        if d.ordered
        else (
            " Dependence was not tested: the rows were not declared ordered (ordered=True / "
            "--ordered)."
        )
    )
    return Section(
        "What the residuals show",
        (
            Text(
                f"{d.n} complete rows ({d.n_dropped} dropped for missing values). Each "
                f"detector is a stated rule at level {d.findings.alpha:g} on the OLS "
                "residuals; the outlier rule uses the MM fit." + skipped
            ),
            Table(pd.DataFrame(rows), caption="Findings and the numbers behind them"),
        ),
    )


def _recommendations(d: Diagnosis) -> Section:
    return Section(
        "Recommendation",
        (Items(tuple((r.action, r.reason) for r in d.recommendations)),),
    )


def _estimates(d: Diagnosis) -> Section:
    frame = d.table.frame.copy()
    frame.insert(0, "", frame.index)
    return Section(
        "Every estimator side by side",
        (
            Text(
                "Standard errors in parentheses, each under the covariance kind chosen from "
                "the findings (below). The intercepts estimate different centres of the "
                "errors when they are skewed (see 'What each intercept means')."
            ),
            Table(frame.reset_index(drop=True), caption="Estimates (standard errors)"),
            Table(d.covariance, caption="Covariance kind of each estimator and why"),
            Table(
                d.ols_vs_mm.table,
                caption=(
                    f"OLS against MM, slopes only: disagreement when |diff| > "
                    f"{d.ols_vs_mm.threshold:g} combined standard errors"
                ),
            ),
            Image(d.figures["estimates"], "Slopes with 95% intervals", "estimates"),
        ),
    )


def _law(d: Diagnosis) -> Section:
    th = d.theory[["estimator", "meaning", "location", "are_vs_ols", "note"]].rename(
        columns={
            "location": "intercept shift T(F)",
            "are_vs_ols": "ARE vs OLS (slopes)",
        }
    )
    skipped = "; ".join(f"{k}: {v}" for k, v in d.laws.skipped.items())
    return Section(
        "Fitted error law and what each intercept means",
        (
            Text(
                "Laws fitted by maximum likelihood to the MM residuals, chosen by AIC ("
                + d.laws.rule
                + ")."
                + (f" Not fitted: {skipped}." if skipped else "")
            ),
            Table(d.laws.to_frame(), caption="Error laws by AIC"),
            Text(
                f"At the chosen law ({d.laws.best.label}) tailreg.theory gives each "
                "estimator's pseudo-true intercept shift T(F) — what its intercept converges "
                "to, beyond the regression line's — and its asymptotic relative efficiency "
                "for the slopes against OLS (above 1: more precise than OLS). These assume "
                "i.i.d. errors from the fitted law."
            ),
            Table(th, caption=f"Theory at {d.laws.best.label}"),
            Image(d.figures["qq"], "QQ plot of the MM residuals against the chosen law", "qq"),
        ),
    )


def _residuals(d: Diagnosis) -> Section:
    ols = d.ols_residuals.to_frame().add_prefix("OLS ")
    mm = d.mm_residuals.to_frame()
    frame = pd.DataFrame(
        {
            "quantity": mm["quantity"],
            "OLS": ols["OLS statistic"],
            "OLS p": ols["OLS pvalue"],
            "MM": mm["statistic"],
            "MM p": mm["pvalue"],
            "OLS interval": [
                "" if pd.isna(lo) else f"[{lo:.3g}, {hi:.3g}]"
                for lo, hi in zip(ols["OLS lower"], ols["OLS upper"], strict=True)
            ],
            "note": mm["note"],
        }
    )
    t = d.tails
    hill = pd.DataFrame(
        [
            {
                "tail": h.tail,
                "alpha": h.alpha,
                "lower": h.lower,
                "upper": h.upper,
                "k": h.k,
                "reliable": h.reliable,
            }
            for h in (t.lower, t.upper)
        ]
    )
    od = d.outliers
    flagged = od.table[od.table["kind"] != "regular"] if "kind" in od.table else od.table
    return Section(
        "Residual diagnostics",
        (
            Table(frame, caption="Shape and tests of the OLS and MM residuals"),
            Table(
                hill,
                caption=(
                    "Hill tail index of each tail of the MM residuals about their median "
                    "(95% interval; k is the number of upper order statistics used)"
                ),
            ),
            Image(d.figures["hill"], "Hill plot: estimate against k", "hill"),
            Image(
                d.figures["residuals_vs_fitted"],
                "OLS residuals against fitted values with a LOWESS smooth",
                "residuals-vs-fitted",
            ),
            Text(
                f"Outliers: |r|/s > {od.cutoff:g} for the MM scale s = {od.scale:.4g}; "
                f"leverage by {od.leverage_rule}."
            ),
            Table(
                flagged.head(30).reset_index(drop=True),
                caption=f"Flagged rows ({len(flagged)}; first 30)",
            ),
            Image(d.figures["weights"], "MM robustness weights", "weights"),
        ),
    )


def _simulation(d: Diagnosis) -> Section:
    blocks: list = [Text(d.simulation_note)]
    if d.simulation is not None:
        blocks.append(Table(d.simulation, caption="Monte Carlo at this design (model-based)"))
    return Section("Monte Carlo at your design (model-based)", tuple(blocks))


def build_document(d: Diagnosis) -> Document:
    """Findings and recommendation first, then the evidence."""
    sub = f"Model: {d.formula}" if d.formula else f"Model: y on {', '.join(d.names[1:])}"
    return Document(
        "tailreg diagnosis",
        (
            _findings(d),
            _recommendations(d),
            _estimates(d),
            _law(d),
            _simulation(d),
            _residuals(d),
        ),
        subtitle=sub + f" — {d.n} rows",
    )
