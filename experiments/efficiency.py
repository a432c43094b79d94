"""Study `efficiency`: Monte Carlo efficiency of the slope against OLS and the Cramér–Rao bound.

Model y = 1 + x + e, x ~ N(0, 1), n = 500, e from the 18 error laws of ``efficiency.toml``.
With i.i.d. errors independent of x every estimator's slope is consistent for the true slope
and n Var(slope) -> V (M^-1)_11, so slope efficiencies are the location efficiencies of
``tailreg.theory`` (the engine's ``avar`` and ``crlb`` columns):

* relative efficiency against OLS, MC: MSE(OLS)/MSE(estimator) on paired replications (the
  engine's ``rel_eff``, delta-method MCSE); theory V_OLS / V;
* efficiency against the Cramér–Rao bound, MC: (1/I(F)) (M^-1)_11 / (n Var) (``eff_crlb``);
  theory (1/I(F)) / V.

Scale conventions: Huber and bisquare re-estimate the MAD of the residuals, so their theory is
``scale="estimated"`` (the engine's registry); for the slope the estimated scale enters only
through its limit (targets.py). MM's theory is the bisquare M-step at the limit of its
S-scale (``tailreg.theory``, via the engine's ``cell_targets``, which also
gives the theory curves here). The Student-t MLE with estimated df has no variance formula:
only Monte Carlo points are shown for it, except that on the t family it is the MLE of the
true model, whose location efficiency is 1 (the information matrix of a symmetric
location-scale-df family is block-diagonal).

Curves: theoretical ARE against t degrees of freedom (log-spaced over [1, 30]) and against the
contamination fraction eps of (1 - eps) N(0, 1) + eps N(0, 25) (0 to 0.3), with the Monte
Carlo points of the matching laws on them.

Writes only under ``--out`` (default ``results/efficiency/``).
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tailreg import plotting
from tailreg.simulation import summarize
from tailreg.simulation.spec import Cell, ErrorSpec
from tailreg.simulation.targets import cell_targets

from .common import (
    COLORS,
    NAMES,
    est_order,
    load_config,
    run_parts,
    split_studies,
    study_arguments,
    write_study_meta,
    write_table,
)

STUDY = "efficiency"
DF_INF = 60.0  # where the normal (df = infinity) is drawn on the df axis


def efficiency_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Slope efficiencies per law and estimator: Monte Carlo with MCSE beside the theory."""
    s = summary[summary["parameter"] == "x1"].copy()
    ols_avar = s[s["estimator"] == "ols"].set_index("law")["avar"]
    s["are_theory"] = s["law"].map(ols_avar) / s["avar"]
    s["eff_crlb_theory"] = s["crlb"] / s["avar"]
    # V = inf (OLS under infinite variance): efficiency 0 against the bound, ARE undefined
    s.loc[np.isinf(s["avar"]), "eff_crlb_theory"] = 0.0
    cols = [
        "law",
        "estimator",
        "n",
        "n_rep",
        "rel_eff",
        "rel_eff_mcse",
        "are_theory",
        "eff_crlb",
        "eff_crlb_mcse",
        "eff_crlb_theory",
        "nvar",
        "nvar_mcse",
        "avar",
        "crlb",
        "nvar_ratio",
        "nvar_ratio_mcse",
    ]
    return s[cols].reset_index(drop=True)


def _theory_row(cfg: dict, errors: dict) -> dict[str, float]:
    """Theoretical slope efficiencies of every estimator at one law.

    Computed by the engine's own ``cell_targets`` (the ``avar``/``crlb`` columns of the
    Monte Carlo table), so curve and table share one code path and one scale convention.
    """
    study = split_studies(cfg)
    ests = [e for part in study.values() for e in part.estimators]
    cell = Cell(study["main"].designs[0], ErrorSpec.from_dict(errors), 500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg = {e.display: cell_targets(cell, e, ("const", "x1"), 2) for e in ests}
    v = {k: float(t["avar"][1]) for k, t in tg.items()}
    crlb = float(tg[ests[0].display]["crlb"][1])
    row = {"crlb": crlb}
    for est, V in v.items():
        row[f"eff_crlb_{est}"] = 0.0 if math.isinf(V) else crlb / V
        row[f"are_{est}"] = v["ols"] / V if math.isfinite(v["ols"]) else math.inf
    return row


def theory_curves(cfg: dict) -> pd.DataFrame:
    """Theoretical efficiencies over the df grid of t laws and the eps grid of contamination.

    NaN where the theory has none (the Student-t MLE with estimated df).
    """
    c = cfg["curves"]
    rows = []
    for df in np.geomspace(c["df_min"], c["df_max"], int(c["df_points"])):
        law = {"law": "t", "df": float(df), "center": "median", "scale": "iqr"}
        rows.append({"family": "t", "x": float(df), **_theory_row(cfg, law)})
    for eps in np.linspace(0.0, c["eps_max"], int(c["eps_points"])):
        law = {
            "law": "contaminated",
            "eps": float(eps),
            "c": float(c["contamination_c"]),
            "center": "median",
            "scale": "iqr",
        }
        rows.append({"family": "contaminated", "x": float(eps), **_theory_row(cfg, law)})
    return pd.DataFrame(rows)


def law_positions(cfg: dict) -> pd.DataFrame:
    """Place of each study law on the curves: (family, x) for t / Cauchy / normal / CN laws."""
    rows = []
    c5 = float(cfg["curves"]["contamination_c"])
    for e in split_studies(cfg)["main"].errors:
        p = dict(e.params)
        if e.law == "t":
            rows += [{"law": e.name, "family": "t", "x": float(p["df"])}]
        elif e.law == "cauchy":
            rows += [{"law": e.name, "family": "t", "x": 1.0}]
        elif e.law == "normal":
            rows += [
                {"law": e.name, "family": "t", "x": DF_INF},
                {"law": e.name, "family": "contaminated", "x": 0.0},
            ]
        elif e.law == "contaminated" and float(p.get("c", 0)) == c5:
            rows += [{"law": e.name, "family": "contaminated", "x": float(p["eps"])}]
    return pd.DataFrame(rows, columns=["law", "family", "x"])


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------
def _drop_undefined(eff: pd.DataFrame) -> pd.DataFrame:
    """Blank the ratio to OLS where OLS has no variance (its MSE ratio then grows without bound)."""
    eff = eff.copy()
    no_var = eff["law"].map(eff[eff["estimator"] == "ols"].set_index("law")["avar"]).pipe(np.isinf)
    eff.loc[no_var, ["rel_eff", "rel_eff_mcse", "are_theory"]] = np.nan
    return eff


def plot_table(eff: pd.DataFrame, cfg: dict, out: Path) -> None:
    """Per law: Monte Carlo efficiency (± 1.96 MCSE) and theory (open markers)."""
    order = cfg.get("figure_laws") or list(dict.fromkeys(eff["law"]))
    laws = [law for law in order if law in set(eff["law"])]
    no_var = set(eff[(eff["estimator"] == "ols") & np.isinf(eff["avar"])]["law"])
    eff = _drop_undefined(eff)
    ests = est_order(eff["estimator"].unique())
    fig, axes = plotting.facet(2, ncols=2, width=6.0, height=0.32 * len(laws) + 1.6)
    y = np.arange(len(laws))
    panels = (
        ("rel_eff", "are_theory", "relative efficiency vs OLS: MSE(OLS)/MSE"),
        ("eff_crlb", "eff_crlb_theory", "efficiency vs Cramér–Rao bound: CRLB/(n Var)"),
    )
    for ax, (mc, th, label) in zip(axes, panels, strict=True):
        for j, est in enumerate(ests):
            if mc == "rel_eff" and est == "ols":
                continue
            d = eff[eff["estimator"] == est].set_index("law").reindex(laws)
            off = (j - (len(ests) - 1) / 2) * 0.12
            ax.errorbar(
                d[mc],
                y + off,
                xerr=1.96 * d[f"{mc}_mcse"],
                fmt="o",
                ms=3.5,
                lw=1,
                color=COLORS.get(est),
                label=f"{NAMES.get(est, est)} (MC)",
            )
            ax.scatter(
                d[th],
                y + off,
                marker="D",
                s=28,
                facecolors="none",
                edgecolors=COLORS.get(est),
                linewidths=1,
                zorder=4,
            )
        ax.scatter([], [], marker="D", facecolors="none", edgecolors="k", label="theory")
        ax.axvline(1.0, color="0.4", ls="--", lw=1)
        ax.set_yticks(y)
        ax.set_yticklabels(
            [f"{law} (OLS V = ∞)" if law in no_var and mc == "rel_eff" else law for law in laws]
        )
        ax.invert_yaxis()
        ax.set_xlabel(label)
        if mc == "rel_eff":
            ax.set_xscale("log")
    plotting.bottom_legend(fig, axes[1], ncol=7)
    n = int(eff["n"].iloc[0])
    fig.suptitle(
        f"Efficiency of the slope at n = {n}: Monte Carlo (± 1.96 MCSE) and "
        "asymptotic theory (open diamonds; none for the df-estimated t-MLE)\n"
        "ratio to OLS left blank where OLS has infinite variance"
    )
    plotting.save_titled(fig, out / "fig_efficiency", bottom=0.35, title_lines=2)


def plot_curves(
    curves: pd.DataFrame, eff: pd.DataFrame, pos: pd.DataFrame, family: str, out: Path
) -> None:
    """Theory curves against df (log x) or eps, with Monte Carlo points (± 1.96 MCSE)."""
    cur = curves[curves["family"] == family].sort_values("x")
    pts = _drop_undefined(eff).merge(pos[pos["family"] == family], on="law")
    fig, axes = plotting.facet(2, ncols=2, width=4.9, height=3.8)
    ests = est_order(eff["estimator"].unique())
    for ax, (mc, th, label) in zip(
        axes,
        (
            ("rel_eff", "are", "relative efficiency vs OLS"),
            ("eff_crlb", "eff_crlb", "efficiency vs Cramér–Rao bound"),
        ),
        strict=True,
    ):
        for est in ests:
            if mc == "rel_eff" and est == "ols":
                continue
            col = COLORS.get(est)
            has = f"{th}_{est}" in cur and np.isfinite(cur[f"{th}_{est}"]).any()
            if has:
                yv = cur[f"{th}_{est}"].replace(np.inf, np.nan)
                ax.plot(cur["x"], yv, color=col, lw=1.5, label=f"{NAMES[est]} theory")
            d = pts[pts["estimator"] == est].sort_values("x")
            ax.errorbar(
                d["x"],
                d[mc],
                yerr=1.96 * d[f"{mc}_mcse"],
                fmt="o",
                ms=4,
                mfc=col if has else "white",
                color=col,
                lw=1,
                capsize=2,
                label=f"{NAMES.get(est, est)} MC",
            )
        if family == "t" and mc == "eff_crlb" and "student_t" in ests:
            ax.axhline(
                1.0,
                color=COLORS["student_t"],
                ls="--",
                lw=1.2,
                label="t-MLE theory (model true): 1",
            )
        ax.axhline(1.0, color="0.5", lw=0.6)
        ax.set_ylabel(label)
        if family == "t":
            ax.set_xscale("log")
            ticks = [1, 1.5, 2, 3, 5, 10, 20, 30, DF_INF]
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:g}" for t in ticks[:-1]] + ["∞"])
            ax.minorticks_off()
            ax.set_xlabel("t degrees of freedom (log scale; ∞ = normal)")
        else:
            ax.set_xlabel("contamination fraction eps of (1-eps) N(0,1) + eps N(0, 25)")
        if mc == "rel_eff":
            ax.set_yscale("log")
            ax.set_ylim(0.4, 12)  # the ratio diverges as OLS's variance does (df -> 2)
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7)
    n = int(eff["n"].iloc[0])
    what = "t degrees of freedom" if family == "t" else "contamination fraction"
    fig.suptitle(
        f"Asymptotic efficiency of the slope against {what} (lines)\nwith Monte Carlo "
        f"points at n = {n} (± 1.96 MCSE; open: no theory; vs OLS only where OLS has "
        "finite variance)"
    )
    plotting.save_titled(
        fig, out / f"fig_are_{'df' if family == 't' else 'eps'}", bottom=0.75, title_lines=2
    )


# --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__, STUDY).parse_args(argv)
    t0 = time.time()
    cfg = load_config(args.config, args.quick)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    reps, walls = run_parts(cfg, out, backend=args.backend, workers=args.workers, force=args.force)
    t1 = time.time()
    summary = summarize(reps, reference="ols", bootstrap=0)
    eff = efficiency_table(summary)
    write_table(eff, out / "efficiency")
    curves = theory_curves(cfg)
    write_table(curves, out / "curves")
    pos = law_positions(cfg)
    plot_table(eff, cfg, out)
    plot_curves(curves, eff, pos, "t", out)
    plot_curves(curves, eff, pos, "contaminated", out)
    write_study_meta(
        out,
        STUDY,
        cfg,
        t0,
        quick=args.quick,
        engine_walls=walls,
        post_seconds=round(time.time() - t1, 1),
    )
    return 0


# --------------------------------------------------------------------------------------
def report_section(out: Path, rel: str) -> str:
    """The REPORT.md section of this study; every number is read from the tables in ``out``."""
    eff = pd.read_csv(out / "efficiency.csv")
    n = int(eff["n"].iloc[0])

    def mc(law: str, est: str, col: str) -> str:
        r = eff[(eff["law"] == law) & (eff["estimator"] == est)]
        if r.empty or not np.isfinite(r[col].iloc[0]):
            return "n/a"
        return f"{r[col].iloc[0]:.3f} (MCSE {r[col + '_mcse'].iloc[0]:.3f})"

    def th(law: str, est: str, col: str) -> str:
        r = eff[(eff["law"] == law) & (eff["estimator"] == est)]
        if r.empty or not np.isfinite(r[col].iloc[0]):
            return "n/a"
        return f"{r[col].iloc[0]:.3f}"

    have = eff[
        np.isfinite(eff["are_theory"]) & np.isfinite(eff["rel_eff"]) & (eff["estimator"] != "ols")
    ]
    zs = ((have["rel_eff"] - have["are_theory"]) / have["rel_eff_mcse"]).abs()
    worst = have.loc[zs.idxmax()] if len(have) else None
    R = int(eff[eff["estimator"] == "ols"]["n_rep"].min())
    Rc = int(eff["n_rep"].min())
    worst_txt = (
        f"the largest gap is {worst['estimator']} under {worst['law']}, "
        f"{worst['rel_eff']:.3f} against {worst['are_theory']:.3f} ({zs.max():.1f} MCSE; "
        f"the theory is the n -> infinity limit, the Monte Carlo is at n = {n})"
        if worst is not None
        else "n/a"
    )
    return f"""## Efficiency: Monte Carlo against theory

Slope efficiencies at n = {n} ({R} replications; {Rc} for MM and the t-MLE, on the same data)
against OLS (MSE ratio on paired replications) and against the Cramér–Rao bound, beside the
asymptotic values of `tailreg.theory` (Huber and bisquare with their MAD scale re-estimated:
theory scale convention `"estimated"`; MM: the bisquare M-step at the limit of its S-scale).
The t-MLE with estimated df has no variance formula, so only its Monte Carlo values are shown
(on the t family it is the MLE of the true model and its theoretical efficiency is 1). Table:
[`efficiency.csv`]({rel}/efficiency.csv).

![efficiency table]({rel}/fig_efficiency.png)

*Monte Carlo efficiencies (filled, ± 1.96 MCSE) beside the theory (open diamonds) for every
law.* At the normal the robust estimators pay a small price: Huber
{mc("normal", "huber", "rel_eff")}
(theory {th("normal", "huber", "are_theory")}), bisquare {mc("normal", "bisquare", "rel_eff")}
(theory {th("normal", "bisquare", "are_theory")}), LAD {mc("normal", "lad", "rel_eff")}
(theory {th("normal", "lad", "are_theory")}), MM {mc("normal", "mm", "rel_eff")}. Under t3
Huber gains {mc("t3", "huber", "rel_eff")} (theory {th("t3", "huber", "are_theory")}); against
the bound, Huber reaches {mc("t3", "huber", "eff_crlb")} (theory
{th("t3", "huber", "eff_crlb_theory")}) and the t-MLE
{mc("t3", "student_t", "eff_crlb")}. Across all
laws with a theory value {worst_txt}.

![ARE against df]({rel}/fig_are_df.png)

*Theoretical efficiency against the t degrees of freedom (lines) with the Monte Carlo points
(± 1.96 MCSE; open points: no theory).* OLS loses all efficiency as the tails grow: against
the bound {mc("t3", "ols", "eff_crlb")} at t3 (theory {th("t3", "ols", "eff_crlb_theory")}),
{mc("t2.5", "ols", "eff_crlb")} at t2.5 (theory {th("t2.5", "ols", "eff_crlb_theory")}).

![ARE against contamination]({rel}/fig_are_eps.png)

*The same against the contamination fraction of (1-eps) N(0,1) + eps N(0,25).* At 10%
contamination Huber's efficiency against OLS is {mc("CN(10%, x5)", "huber", "rel_eff")}
(theory {th("CN(10%, x5)", "huber", "are_theory")}) and bisquare's
{mc("CN(10%, x5)", "bisquare", "rel_eff")} (theory {th("CN(10%, x5)", "bisquare", "are_theory")}).
"""


if __name__ == "__main__":
    raise SystemExit(main())
