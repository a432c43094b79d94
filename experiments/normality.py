"""Study `normality`: sampling distributions of sqrt(n)(beta_hat - beta*)/sqrt(V) against n.

Model y = 1 + x + e with a symmetric regressor (x ~ N(0, 1)) and a skewed one
(x ~ lognormal(s = 1)), e from the 14 error laws of ``normality.toml``, n = 50, 200, 1000, 5000.
Each estimate is standardized as z = (beta_hat - beta*) / sqrt(V/n), with beta* the
pseudo-true target and V the asymptotic variance from ``tailreg.theory`` (the engine's
``avar`` column, which includes the design's (M^-1)_jj). Where V is infinite (OLS under
infinite-variance errors) z uses the Monte Carlo median and IQR/1.349 instead; where the
theory has no V (MM, Student-t MLE with estimated df) it uses the Monte Carlo mean and SD.
The ``standardization`` column of ``shape.csv`` says which.

Shape metrics: Kolmogorov-Smirnov and Anderson-Darling distances of z to N(0, 1)
(``tailreg.simulation.metrics``; bootstrap MCSE), skewness and excess kurtosis of the
sampling distribution (the engine's summary, which standardizes by the Monte Carlo moments).
Theory for OLS: the third cumulant of beta_hat_j given X is kappa_3(e) sum_i a_ji^3 with
a_j the j-th row of (X'X)^-1 X', and its conditional mean is beta, so the unconditional
skewness is gamma_1(e) E[sum a^3] / E[sum a^2]^(3/2); E over X by simulation here. With
symmetric x, E sum a^3 is about 0 for the slope, not for the intercept.

The Monte Carlo runs through :func:`tailreg.simulation.run_study` (``common.run_parts``), the
simulated designs of the OLS skewness theory through :func:`tailreg.simulation.tasks.run_tasks`
(one task per design and n); the standardization and the shape distances are
:mod:`tailreg.simulation.task_metrics`.

Writes only under ``--out`` (default ``results/normality/``).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from tailreg import plotting
from tailreg.simulation import summarize
from tailreg.simulation.generate import draw_x
from tailreg.simulation.spec import Design
from tailreg.simulation.task_metrics import shape_distances
from tailreg.simulation.task_metrics import standardize as standardize_by
from tailreg.simulation.tasks import Task, run_tasks

from .common import (
    COLORS,
    NAMES,
    PARAMS,
    est_order,
    law_objects,
    load_config,
    run_parts,
    split_studies,
    study_arguments,
    write_study_meta,
    write_table,
)

STUDY = "normality"
GROUP = ["design", "law", "n", "estimator", "parameter"]


def standardize(reps: pd.DataFrame) -> pd.DataFrame:
    """Add ``z`` and ``standardization`` (theory / iqr / mc) per replication row."""
    return standardize_by(reps, GROUP)


def shape_table(reps: pd.DataFrame, summary: pd.DataFrame, bootstrap: int = 200) -> pd.DataFrame:
    """KS and AD of z against N(0, 1) (bootstrap MCSE) with the engine's skewness/kurtosis."""
    out = shape_distances(reps, GROUP, "z", bootstrap)
    cols = ["skewness", "skewness_mcse", "kurtosis", "kurtosis_mcse"]
    return out.merge(summary[GROUP + cols], on=GROUP, how="left")


def design_weights(task: Task) -> pd.DataFrame:
    """E sum a^3 / (E sum a^2)^(3/2) for intercept and slope over simulated designs.

    a_j is row j of (X'X)^-1 X'; E over the design by ``draws`` designs drawn from the task.
    """
    p = task.payload
    design = Design.from_dict(p["design"])
    n, draws = p["n"], p["draws"]
    rng = task.rng(0)
    X = draw_x(design, n, rng, reps=draws)
    Xc = np.concatenate([np.ones((draws, n, 1)), X], axis=2)
    A = np.linalg.solve(np.einsum("rni,rnj->rij", Xc, Xc), np.swapaxes(Xc, 1, 2))
    s2 = (A**2).sum(axis=2).mean(axis=0)
    s3 = (A**3).sum(axis=2).mean(axis=0)
    ratio = s3 / s2**1.5
    return pd.DataFrame(
        {
            "design": design.name,
            "n": n,
            "parameter": ["const", "x1"],
            "weight_ratio": ratio[:2].astype(float),
        }
    )


def ols_skew_theory(cfg: dict, laws: dict, out: Path, draws: int = 400, **run) -> tuple:
    """OLS skewness gamma_1(e) E[sum a^3] / E[sum a^2]^(3/2) for slope and intercept.

    The weight ratios come from :func:`design_weights` (tasks into ``out``); returns the
    table, the task files and the number of tasks computed.
    """
    study = split_studies(cfg)["main"]
    tasks = [
        Task(
            f"skewtheory|{design.key}|{n}",
            {"design": design.to_dict(), "n": n, "draws": draws},
            seed=int(cfg["seed"]),
        )
        for design in study.designs
        for n in study.sample_sizes
    ]
    done = run_tasks(design_weights, tasks, out, desc=f"{STUDY} theory", **run)
    weights = done.frame()
    rows = []
    for _, w in weights.groupby(["design", "n"], sort=False):
        for law in cfg.get("skewed_laws", []):
            g1 = float(laws[law].skewness())
            for r in w.itertuples(index=False):
                rows.append(
                    {
                        "design": r.design,
                        "law": law,
                        "n": r.n,
                        "parameter": r.parameter,
                        "weight_ratio": float(r.weight_ratio),
                        "skewness_theory": g1 * float(r.weight_ratio),
                    }
                )
    return pd.DataFrame(rows), done.files, done.computed


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------
def _curve(ax, de: pd.DataFrame, metric: str, est: str, r_main: int):
    """Band for well-replicated estimators; a thin dashed line (no band) for the costly ones."""
    if de["R"].min() >= r_main / 2:
        return plotting.band(
            ax,
            de["n"],
            de[metric],
            de[f"{metric}_mcse"],
            label=NAMES.get(est, est),
            color=COLORS.get(est),
        )
    (line,) = ax.plot(
        de["n"],
        de[metric],
        ls="--",
        lw=0.9,
        marker=".",
        color=COLORS.get(est),
        label=f"{NAMES.get(est, est)} (R={int(de['R'].min())}, no band)",
    )
    return line


def plot_qq(reps: pd.DataFrame, cfg: dict, design: str, par: str, out: Path) -> None:
    """QQ grid: rows estimators, columns laws; one curve per n."""
    laws = cfg["qq_laws"]
    d0 = reps[(reps["design"] == design) & (reps["parameter"] == par)]
    ests = est_order(d0["estimator"].unique())
    ns = sorted(d0["n"].unique())
    fig, axes = plotting.facet(len(ests) * len(laws), ncols=len(laws), width=2.3, height=2.2)
    palette = ["#3b0f70", "#2c7fb8", "#41ab5d", "#fd8d3c", "#e31a1c"]
    lim = 5.0
    for i, est in enumerate(ests):
        for j, law in enumerate(laws):
            ax = axes[i * len(laws) + j]
            d = d0[(d0["estimator"] == est) & (d0["law"] == law)]
            for k, n in enumerate(ns):
                z = np.sort(d.loc[d["n"] == n, "z"].to_numpy(float))
                z = z[np.isfinite(z)]
                if z.size == 0:
                    continue
                p = (np.arange(1, z.size + 1) - 0.5) / z.size
                ax.plot(
                    special.ndtri(p),
                    np.clip(z, -lim, lim),
                    ".",
                    ms=1.5,
                    color=palette[k % len(palette)],
                    label=f"n = {n}",
                )
            ax.plot([-lim, lim], [-lim, lim], color="0.3", lw=0.8)
            ax.set_xlim(-4, 4)
            ax.set_ylim(-lim - 0.3, lim + 0.3)
            std = d["standardization"].iat[0] if len(d) else ""
            ax.text(
                0.03,
                0.97,
                {"theory": "V theory", "iqr": "IQR (V = inf)", "mc": "MC sd"}.get(std, std),
                transform=ax.transAxes,
                fontsize=6,
                va="top",
            )
            if i == 0:
                ax.set_title(law)
            if j == 0:
                ax.set_ylabel(f"{NAMES.get(est, est)}\nsample quantile of z")
            if i == len(ests) - 1:
                ax.set_xlabel("N(0,1) quantile")
    fig.legend(
        *axes[0].get_legend_handles_labels(), loc="lower center", ncol=6, fontsize=8, markerscale=5
    )
    fig.suptitle(
        f"QQ plots of z = (estimate - target)/sqrt(V/n) for the {PARAMS[par]} "
        f"({design}), against N(0,1); clipped at ±{lim:g}"
    )
    plotting.save_titled(fig, out / f"fig_qq_{PARAMS[par]}", bottom=0.3)


def plot_ks_ad(shape: pd.DataFrame, cfg: dict, design: str, par: str, out: Path) -> None:
    """KS and AD distance to N(0, 1) against n: rows metrics, columns laws."""
    laws = cfg["qq_laws"]
    d0 = shape[(shape["design"] == design) & (shape["parameter"] == par)]
    ns = sorted(d0["n"].unique())
    r_main = int(d0["R"].max())
    fig, axes = plotting.facet(2 * len(laws), ncols=len(laws), width=2.6, height=2.6)
    for i, (metric, label) in enumerate((("ks", "KS distance"), ("ad", "AD statistic $A^2$"))):
        for j, law in enumerate(laws):
            ax = axes[i * len(laws) + j]
            ax.set_yscale("log")
            d = d0[d0["law"] == law]
            for est in est_order(d["estimator"].unique()):
                de = d[d["estimator"] == est].sort_values("n")
                _curve(ax, de, metric, est, r_main)
            if metric == "ks":
                main = d[d["estimator"] == "ols"]
                if len(main):
                    ax.axhline(
                        float(main["ks_null"].iloc[0]),
                        color="0.4",
                        ls=":",
                        lw=1,
                        label="E KS at N(0,1)",
                    )
            plotting.log_n_axis(ax, ns)
            if i == 0:
                ax.set_title(law)
            if j == 0:
                ax.set_ylabel(label)
    plotting.bottom_legend(fig, axes[0])
    fig.suptitle(
        f"Distance of the standardized {PARAMS[par]} ({design}) to N(0,1) against n "
        "(± 1.96 bootstrap MCSE; dotted: KS noise level of the main replications)"
    )
    plotting.save_titled(fig, out / f"fig_ks_ad_{PARAMS[par]}", bottom=0.3)


def plot_moments(
    shape: pd.DataFrame, laws_obj: dict, cfg: dict, design: str, par: str, out: Path
) -> None:
    """Skewness and excess kurtosis against n; OLS-intercept theory gamma1/sqrt(n), gamma2/n."""
    laws = cfg["figure_laws"]
    d0 = shape[(shape["design"] == design) & (shape["parameter"] == par)]
    ns = np.array(sorted(d0["n"].unique()), float)
    r_main = int(d0["R"].max())
    fig, axes = plotting.facet(2 * len(laws), ncols=len(laws), width=2.4, height=2.6)
    for i, (metric, label) in enumerate(
        (("skewness", "skewness"), ("kurtosis", "excess kurtosis"))
    ):
        for j, law in enumerate(laws):
            ax = axes[i * len(laws) + j]
            d = d0[d0["law"] == law]
            for est in est_order(d["estimator"].unique()):
                de = d[d["estimator"] == est].sort_values("n")
                _curve(ax, de, metric, est, r_main)
            L = laws_obj[law]
            g = float(L.skewness()) if metric == "skewness" else float(L.kurtosis())
            if np.isfinite(g) and g != 0 and par == "const" and design == "x normal":
                # the OLS intercept with centred normal x is close to a sample mean
                th = g / np.sqrt(ns) if metric == "skewness" else g / ns
                ax.plot(ns, th, "k:", lw=1.2, label="OLS theory")
            ax.axhline(0, color="0.3", lw=0.8)
            ax.set_yscale("symlog", linthresh=0.3)
            plotting.log_n_axis(ax, ns)
            if i == 0:
                ax.set_title(law)
            if j == 0:
                ax.set_ylabel(label)
    plotting.bottom_legend(fig, axes[len(laws) - 1])
    fig.suptitle(
        f"Skewness and excess kurtosis of the sampling distribution of the "
        f"{PARAMS[par]} ({design}) against n (± 1.96 bootstrap MCSE; symlog axis; "
        r"dotted: OLS $\gamma_1/\sqrt{n}$, $\gamma_2/n$)"
    )
    plotting.save_titled(fig, out / f"fig_moments_{PARAMS[par]}", bottom=0.3)


def plot_skew_design(shape: pd.DataFrame, theory: pd.DataFrame, cfg: dict, out: Path) -> None:
    """Slope versus intercept skewness against n, per design and skewed law."""
    skewed = cfg.get("skewed_laws", [])
    designs = list(dict.fromkeys(shape["design"]))
    fig, axes = plotting.facet(
        len(skewed) * len(designs), ncols=len(designs), width=4.4, height=3.2
    )
    ests = [e for e in ("ols", "huber", "lad") if e in set(shape["estimator"])]
    k = 0
    for law in skewed:
        for des in designs:
            ax = axes[k]
            k += 1
            for par, ls, mk in (("x1", "-", "o"), ("const", "--", "s")):
                for est in ests:
                    de = shape[
                        (shape["design"] == des)
                        & (shape["law"] == law)
                        & (shape["parameter"] == par)
                        & (shape["estimator"] == est)
                    ].sort_values("n")
                    line = plotting.band(
                        ax,
                        de["n"],
                        de["skewness"],
                        de["skewness_mcse"],
                        color=COLORS.get(est),
                        ls=ls,
                        label=f"{NAMES[est]} {PARAMS[par]}",
                    )
                    line.set_marker(mk)
                th = theory[
                    (theory["design"] == des)
                    & (theory["law"] == law)
                    & (theory["parameter"] == par)
                ].sort_values("n")
                ax.plot(
                    th["n"],
                    th["skewness_theory"],
                    color="k",
                    ls=ls,
                    lw=1.6,
                    label=f"OLS theory {PARAMS[par]}",
                    zorder=5,
                )
            ax.axhline(0, color="0.3", lw=0.8)
            top = theory[theory["law"] == law]["skewness_theory"].max()
            # a single extreme replication can make one estimate (and its MCSE) huge
            ax.set_ylim(-max(1.0, top), 2.0 * max(top, 0.5) + 0.5)
            plotting.log_n_axis(ax, shape["n"].unique())
            ax.set_title(f"{law} errors, {des}")
            ax.set_ylabel("skewness of beta_hat")
    plotting.bottom_legend(fig, axes[0], ncol=4)
    fig.suptitle(
        "Skewness of slope (solid) and intercept (dashed) against n (± 1.96 MCSE)\n"
        r"symmetric x: slope stays symmetric ($\sum w_i^3 \approx 0$); "
        "lognormal x: it does not (black: OLS theory; y axis clipped)"
    )
    plotting.save_titled(fig, out / "fig_skewness_design", bottom=0.8, title_lines=2)


# --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__, STUDY).parse_args(argv)
    t0 = time.time()
    cfg = load_config(args.config, args.quick)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    run = {"backend": args.backend, "workers": args.workers, "force": args.force}
    reps, walls = run_parts(cfg, out, **run)
    t1 = time.time()
    laws = law_objects(cfg)
    reps = standardize(reps[reps["parameter"].isin(PARAMS)].reset_index(drop=True))
    summary = summarize(reps, reference="ols", bootstrap=200)
    shape = shape_table(reps, summary)
    write_table(shape, out / "shape")
    theory, files, computed = ols_skew_theory(
        cfg, laws, out / "tasks" / "skewness_theory", progress=not args.no_progress, **run
    )
    write_table(theory, out / "skewness_theory")
    design0 = split_studies(cfg)["main"].designs[0].name
    plot_qq(reps, cfg, design0, "x1", out)
    plot_ks_ad(shape, cfg, design0, "x1", out)
    plot_moments(shape, laws, cfg, design0, "const", out)
    plot_skew_design(shape, theory, cfg, out)
    write_study_meta(
        out,
        STUDY,
        cfg,
        t0,
        cells=files,
        quick=args.quick,
        engine_walls=walls,
        theory_tasks_computed=computed,
        post_seconds=round(time.time() - t1, 1),
    )
    return 0


# --------------------------------------------------------------------------------------
def report_section(out: Path, rel: str) -> str:
    """The REPORT.md section of this study; every number is read from the tables in ``out``.

    Long by nature: one paragraph after another of report prose, each filling its
    numbers from the tables; splitting it would scatter the text of one section.
    """
    sh = pd.read_csv(out / "shape.csv")
    th = pd.read_csv(out / "skewness_theory.csv")
    ns = sorted(sh["n"].unique())
    n0, n1 = int(ns[0]), int(ns[-1])
    designs = list(dict.fromkeys(sh["design"]))
    d0, d1 = designs[0], designs[-1]

    def v(law: str, est: str, col: str, n: int = n1, par: str = "x1", des: str = d0) -> str:
        r = sh[
            (sh["law"] == law)
            & (sh["estimator"] == est)
            & (sh["n"] == n)
            & (sh["parameter"] == par)
            & (sh["design"] == des)
        ]
        if r.empty or not np.isfinite(r[col].iloc[0]):
            return "n/a"
        return f"{r[col].iloc[0]:.3g} (MCSE {r[col + '_mcse'].iloc[0]:.2g})"

    def t(law: str, par: str, n: int, des: str) -> str:
        r = th[
            (th["law"] == law) & (th["parameter"] == par) & (th["n"] == n) & (th["design"] == des)
        ]
        return "n/a" if r.empty else f"{r['skewness_theory'].iloc[0]:.3g}"

    def who(kind: str) -> str:
        d = sh[sh["standardization"] == kind]
        n_laws = sh["law"].nunique()
        items = [
            f"{NAMES.get(e, e)} {PARAMS.get(p, p)} under "
            + ("every law" if g["law"].nunique() == n_laws else ", ".join(sorted(set(g["law"]))))
            for (e, p), g in d.groupby(["estimator", "parameter"], sort=False)
        ]
        return "; ".join(items) if items else "none"

    iqr_txt, mc_txt = who("iqr"), who("mc")
    R = int(sh[sh["estimator"] == "ols"]["R"].min())
    Rc = int(sh["R"].min())
    null = 0.8687 / math.sqrt(R)
    sk = "lognormal" if "lognormal" in set(sh["law"]) else sh["law"].iloc[0]
    # the design contrast is clearest under the milder chi2(3): lognormal errors times
    # lognormal x make the skewness estimate itself very noisy
    sd = "chi2(3)" if "chi2(3)" in set(th["law"]) else sk
    return f"""## Asymptotic normality: sampling distributions against n

Each estimate is standardized as $z = (\\hat\\beta - \\beta^*)/\\sqrt{{V/n}}$ with $\\beta^*$ the
pseudo-true target and $V$ from `tailreg.theory` (including the design factor
$(M^{{-1}})_{{jj}}$). Where $V = \\infty$ ({iqr_txt}) the Monte Carlo
median and IQR/1.349 standardize instead, and where the theory has no $V$ ({mc_txt}) the
Monte Carlo mean and SD (column `standardization` of
[`shape.csv`]({rel}/shape.csv)). {R} replications per cell ({Rc} for MM and the t-MLE, with
the symmetric design only); n = {", ".join(str(int(n)) for n in ns)}.

![QQ grid]({rel}/fig_qq_slope.png)

*QQ plots of the standardized slope against N(0,1), estimators by rows, laws by columns, one
colour per n ({d0}).* Points on the diagonal mean that $N(0, V/n)$ is the right
approximation. OLS under t(1.5) and Cauchy errors keeps heavy, non-normal tails at every n
(a stable limit), while the bounded-$\\psi$ estimators line up with the diagonal.

![KS and AD distances]({rel}/fig_ks_ad_slope.png)

*Kolmogorov–Smirnov and Anderson–Darling distances of z to N(0,1) against n (± 1.96 bootstrap
MCSE; dotted: the KS value expected from sampling noise alone with {R} replications,
{null:.3f}).* At n = {n1}, KS of the OLS slope: normal errors {v("normal", "ols", "ks")},
t(1.5) {v("t1.5", "ols", "ks")}, Cauchy {v("Cauchy", "ols", "ks")}; Huber under the Cauchy
{v("Cauchy", "huber", "ks")}.

![skewness and kurtosis]({rel}/fig_moments_intercept.png)

*Skewness and excess kurtosis of the intercept's sampling distribution against n ({d0};
dotted: the OLS theory $\\gamma_1(e)/\\sqrt n$ and $\\gamma_2(e)/n$).* Under skewed errors the
skewness decays slowly, like $n^{{-1/2}}$ (theory), and is hard to estimate — its MCSE is
large because it involves the sixth moment of the errors: OLS intercept under the {sk},
{v(sk, "ols", "skewness", n0, "const")} at n = {n0} and
{v(sk, "ols", "skewness", n1, "const")} at n = {n1}. Under t(1.5) the OLS
excess kurtosis stays large ({v("t1.5", "ols", "kurtosis", n1, "const")} at n = {n1}): the
sampling distribution stays heavy-tailed.

![slope vs intercept skewness by design]({rel}/fig_skewness_design.png)

*Skewness of slope (solid) and intercept (dashed) against n, for each design and skewed law;
black: the OLS theory $\\gamma_1(e)\\,E\\sum a_i^3/(E\\sum a_i^2)^{{3/2}}$ (table
[`skewness_theory.csv`]({rel}/skewness_theory.csv)).* With symmetric x the OLS slope stays
nearly symmetric even under {sd} errors ({v(sd, "ols", "skewness", n0, "x1", d0)} at n = {n0};
theory {t(sd, "x1", n0, d0)}), while its intercept is skewed
({v(sd, "ols", "skewness", n0, "const", d0)}; theory {t(sd, "const", n0, d0)}). With {d1}
the slope is skewed too: {v(sd, "ols", "skewness", n0, "x1", d1)} at n = {n0} (theory
{t(sd, "x1", n0, d1)}) and {v(sd, "ols", "skewness", n1, "x1", d1)} at n = {n1} (theory
{t(sd, "x1", n1, d1)}).
"""


if __name__ == "__main__":
    raise SystemExit(main())
