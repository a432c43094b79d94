"""Study `skewness`: which line each estimator estimates under skewed (and heteroscedastic) errors.

Model y = b0 + beta x + e with x ~ U(0, 1). Under skewed i.i.d. errors every estimator's slope
is consistent for beta, but the intercepts converge to b0 + T(F), with T the estimator's
location functional: the mean (OLS), the median (LAD), the Huber or bisquare M-location
(``tailreg.theory.m_functional``). Under skewed *and* heteroscedastic errors e = (a + b x) u
the estimators target different conditional lines, for the mean / median (exactly)
b0 + a T(F_u) + (beta + b T(F_u)) x, so the slopes differ too.

The truth columns of the engine give those targets where theory has them (NaN for MM and
the Student-t MLE). Beside them this script computes the *population fit*: each estimator's
defining equations solved on a discretised population (Gauss–Legendre nodes in x times
equal-probability strata of the error law), which gives the exact pseudo-true line for
Huber, bisquare (MAD scale, MASS ``rlm`` rule) and the Student-t MLE (df estimated), also
where the theory's line formula is only an approximation (Huber / bisquare under
heteroscedasticity: their location functional is not scale-equivariant, so the conditional
Huber line is not a + b x times one constant). MM has neither: its empirical limit (the Monte
Carlo mean at the largest n) is shown and labelled as such.

Writes only under ``results/skewness/`` (or ``--out``): ``raw/`` (the engine's store),
``summary``, ``targets`` and ``limits`` tables (CSV + Markdown), figures (PNG + SVG),
``meta.json``.
"""

from __future__ import annotations

import math
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tailreg import plotting
from tailreg.simulation import run_study
from tailreg.simulation.generate import make_error_law
from tailreg.simulation.registry import make_estimator
from tailreg.simulation.spec import Design, ErrorSpec, EstimatorSpec, Study

from .common import study_arguments, write_study_meta, write_table

STUDY = "skewness"
STUDY_KEYS = ("name", "seed", "replications", "sample_sizes", "seed_block", "max_errors")
MAD = 0.6744897501960817
COLORS = {
    "ols": "C0",
    "huber": "C1",
    "lad": "C2",
    "bisquare": "C3",
    "mm": "C4",
    "student_t": "C5",
}


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------
def load_config(path: Path, quick: bool = False) -> dict:
    """The study file, with its ``[quick]`` table applied when ``quick``."""
    cfg = tomllib.loads(path.read_text())
    if quick:
        cfg.update(cfg.get("quick", {}))
    return cfg


def build_study(cfg: dict) -> Study:
    """The engine's study from the study-file keys (extra tables are this script's own)."""
    d = {k: cfg[k] for k in STUDY_KEYS if k in cfg}
    d.update(design=cfg["design"], errors=cfg["errors"], estimators=cfg["estimators"])
    return Study.from_dict(d)


# --------------------------------------------------------------------------------------
# population fit: exact pseudo-true lines on a discretised population
# --------------------------------------------------------------------------------------
# the fits themselves live in tailreg.theory.population (imported here, beside their use)
from tailreg import theory  # noqa: E402
from tailreg.simulation.generate import make_process  # noqa: E402


def population_fit(
    design: Design, spec: ErrorSpec, est: EstimatorSpec, x_nodes: int, u_strata: int
) -> np.ndarray:
    """Pseudo-true (intercept, slope) of an estimator: its estimating equations solved on a
    discretised population (``tailreg.theory.population``); NaN (2,) where no population
    version is implemented (MM's S-scale, Huber's proposal 2) or for AR(1) errors.

    The fit follows the estimator's stated capabilities (``tailreg.theory.population_line``):
    least squares for a mean loss (a check of the discretisation: it must return the nominal
    line), the conditional-quantile line for LAD (closed form for sigma(x) = a + b x >= 0),
    IRLS with the MAD scale for Huber / bisquare (started from least squares, as the
    estimators start), the weighted t likelihood for the Student-t MLE.
    """
    if design.x != "uniform" or design.p != 1:
        raise ValueError("the population fit handles one U(low, high) regressor")
    if spec.ar1 is not None:
        return np.full(2, np.nan)
    o = design.x_options
    x, wx = theory.uniform_nodes(o["low"], o["high"], x_nodes)
    pop = theory.discretise(
        make_error_law(spec),
        x,
        wx,
        intercept=design.intercept,
        beta=design.beta,
        process=make_process(spec),
        u_strata=u_strata,
    )
    return theory.population_line(pop, make_estimator(est))


def targets_table(study: Study, cfg: dict) -> pd.DataFrame:
    """Per (law, estimator, parameter): nominal value and the population-fit target."""
    pop = cfg.get("population", {})
    rows = []
    for design in study.designs:
        for spec in study.errors:
            for est in study.estimators:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    line = population_fit(
                        design, spec, est, pop.get("x_nodes", 32), pop.get("u_strata", 2000)
                    )
                for j, name in enumerate(("const", "x1")):
                    rows.append(
                        {
                            "law": spec.name,
                            "estimator": est.display,
                            "parameter": name,
                            "population": float(line[j]),
                        }
                    )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------
def limits_table(summary: pd.DataFrame, targets: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Monte Carlo mean at the largest n against the nominal value and each target.

    ``target``: under i.i.d. errors the engine's pseudo-true value (theory) where finite,
    else the population fit; under heteroscedastic errors the population fit where it exists
    (exact), else the theory's line, labelled ``theory (approx.)`` for estimators whose
    location functional is not scale-equivariant (MM). ``source`` says which.
    """
    n_max = max(study.sample_sizes)
    het = {e.name: not e.iid for e in study.errors}
    s = summary[summary["n"] == n_max].merge(targets, on=["law", "estimator", "parameter"])
    out = pd.DataFrame(
        {
            "law": s["law"],
            "errors": np.where(s["law"].map(het), "heteroscedastic", "iid"),
            "estimator": s["estimator"],
            "parameter": s["parameter"],
            "n": s["n"],
            "nominal": s["true_value"],
            "theory": s["pseudo_true"],
            "population": s["population"],
        }
    )
    has_th = np.isfinite(out["theory"]).to_numpy()
    has_pop = np.isfinite(out["population"]).to_numpy()
    is_het = (out["errors"] == "heteroscedastic").to_numpy()
    # the line formula b0 + aT, beta + bT is exact only for scale-equivariant functionals
    exact = out["estimator"].map(_scale_free(study)).to_numpy()
    use_pop = has_pop & (~has_th | (is_het & ~exact))
    out["target"] = np.where(use_pop, out["population"], out["theory"])
    out["source"] = np.select(
        [use_pop, has_th & (~is_het | exact), has_th],
        ["population", "theory", "theory (approx.)"],
        "empirical",
    )
    out["mean"] = s["mean"].to_numpy()
    out["mean_mcse"] = s["mean_mcse"].to_numpy()
    out["bias_nominal"] = out["mean"] - out["nominal"]
    out["bias_target"] = out["mean"] - out["target"]
    out["z_target"] = out["bias_target"] / out["mean_mcse"]
    out["theory_minus_population"] = out["theory"] - out["population"]
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------
def _scale_free(study: Study) -> dict[str, bool]:
    """Label -> whether the estimator's location functional needs no common residual scale
    (mean, quantiles: ``Target.scale_free``), so its line formula is exact under
    heteroscedasticity."""
    law = make_error_law(study.errors[0])
    out = {}
    for spec in study.estimators:
        t = make_estimator(spec).target(law)
        out[spec.display] = t is not None and t.scale_free
    return out


def _est_base(label: str, study: Study) -> str:
    for e in study.estimators:
        if e.display == label:
            return e.name
    return label


def plot_estimates(
    summary: pd.DataFrame, limits: pd.DataFrame, study: Study, het: bool, out: Path
) -> None:
    """MC mean ± 1.96 MCSE against n, one row per law, intercept and slope columns, with
    horizontal lines at each estimator's target (dashed: theory or population fit)."""
    laws = [e.name for e in study.errors if (not e.iid) == het]
    if not laws:
        return
    ns = sorted(study.sample_sizes)
    ests = [e.display for e in study.estimators]
    fig, axes = plotting.facet(2 * len(laws), ncols=2, width=4.6, height=2.9)
    for i, law in enumerate(laws):
        for j, (param, pname) in enumerate((("const", "intercept"), ("x1", "slope"))):
            ax = axes[2 * i + j]
            d = summary[(summary["law"] == law) & (summary["parameter"] == param)]
            lim = limits[(limits["law"] == law) & (limits["parameter"] == param)]
            nominal = float(d["true_value"].iloc[0])
            ax.axhline(nominal, color="k", lw=1.2, label="nominal value")
            for k, est in enumerate(ests):
                de = d[d["estimator"] == est].sort_values("n")
                color = COLORS.get(_est_base(est, study), f"C{k}")
                dodge = np.exp(0.05 * (k - (len(ests) - 1) / 2))
                ax.errorbar(
                    de["n"] * dodge,
                    de["mean"],
                    yerr=1.96 * de["mean_mcse"],
                    color=color,
                    marker="o",
                    ms=3,
                    lw=1,
                    capsize=2,
                    label=est,
                )
                t = lim[lim["estimator"] == est]
                if len(t):
                    th, pop = float(t["theory"].iloc[0]), float(t["population"].iloc[0])
                    if np.isfinite(th):
                        ax.axhline(th, color=color, lw=1, ls="--")
                    if np.isfinite(pop) and not (np.isfinite(th) and abs(pop - th) < 2e-3):
                        ax.axhline(pop, color=color, lw=1.2, ls=":")
            plotting.log_n_axis(ax, ns)
            ax.set_ylabel(f"{pname} estimate")
            ax.set_title(f"{law}: {pname}", fontsize=9)
    axes[1].legend(fontsize=7, ncol=2)
    kind = "skewed heteroscedastic errors" if het else "skewed i.i.d. errors"
    fig.suptitle(
        f"Estimates (MC mean ± 1.96 MCSE) against n, {kind}\n"
        "lines: targets (dashed: theory, dotted: population fit; black: nominal)",
        fontsize=10,
    )
    plotting.save(fig, out / ("fig_het_estimates" if het else "fig_iid_estimates"))


def plot_bias(summary: pd.DataFrame, limits: pd.DataFrame, study: Study, out: Path) -> None:
    """Bias against the nominal value and against the target, intercept (i.i.d.) and slope
    (heteroscedastic), first law of each kind, against n."""
    exact = limits[limits["source"].isin(["theory", "population"])]
    tgt = exact.set_index(["law", "estimator", "parameter"])["target"]
    iid = [e.name for e in study.errors if e.iid][:1]
    het = [e.name for e in study.errors if not e.iid][:1]
    panels = [(law, "const", "intercept") for law in iid] + [(law, "x1", "slope") for law in het]
    if not panels:
        return
    fig, axes = plotting.facet(2 * len(panels), ncols=2, width=4.6, height=3.0)
    ns = sorted(study.sample_sizes)
    for i, (law, param, pname) in enumerate(panels):
        d = summary[(summary["law"] == law) & (summary["parameter"] == param)]
        for j, against in enumerate(("nominal", "target")):
            ax = axes[2 * i + j]
            for k, est in enumerate(e.display for e in study.estimators):
                de = d[d["estimator"] == est].sort_values("n")
                ref = de["true_value"] if against == "nominal" else tgt.get((law, est, param))
                if ref is None or (np.ndim(ref) == 0 and not np.isfinite(ref)):
                    continue
                color = COLORS.get(_est_base(est, study), f"C{k}")
                plotting.band(
                    ax, de["n"], de["mean"] - ref, de["mean_mcse"], label=est, color=color
                )
            ax.axhline(0, color="k", lw=0.8)
            plotting.log_n_axis(ax, ns)
            ax.set_ylabel(f"bias of the {pname}")
            ax.set_title(f"{law}: against the {against}", fontsize=9)
    # the band between the nominal (0) and the robust biases is empty in the slope panel
    axes[min(2, len(axes) - 1)].legend(fontsize=7, ncol=3, loc="center")
    fig.suptitle(
        "Bias against the nominal value and against each estimator's target (± 1.96 MCSE); "
        "right: only estimators with an exact target",
        fontsize=10,
    )
    plotting.save(fig, out / "fig_bias")


# --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__, STUDY).parse_args(argv)
    t0 = time.time()
    cfg = load_config(args.config, args.quick)
    study = build_study(cfg)
    run = run_study(
        study,
        out=args.out / "raw",
        backend=args.backend,
        workers=args.workers,
        force=args.force,
        progress=not args.no_progress,
    )
    summary = run.summary(bootstrap=0)
    write_table(summary, args.out / "summary")
    targets = targets_table(study, cfg)
    limits = limits_table(summary, targets, study)
    write_table(limits, args.out / "limits")
    for het in (False, True):
        plot_estimates(summary, limits, study, het, args.out)
    plot_bias(summary, limits, study, args.out)
    write_study_meta(
        args.out,
        STUDY,
        study.to_dict(),
        t0,
        quick=args.quick,
        engine_wall_time_seconds=round(run.wall_time, 1),
        population=cfg.get("population", {}),
    )
    return 0


# --------------------------------------------------------------------------------------
def report_section(out: Path, rel: str) -> str:
    """The REPORT.md section of this study, its numbers read from the tables in ``out``.

    Long by nature: one paragraph after another of report prose, each filling its
    numbers from the tables; splitting it would scatter the text of one section.
    """
    lim = pd.read_csv(out / "limits.csv")
    n_max = int(lim["n"].max())
    iid = lim[lim["errors"] == "iid"]
    het = lim[lim["errors"] == "heteroscedastic"]
    law0 = iid["law"].iloc[0] if len(iid) else ""
    hlaw0 = het["law"].iloc[0] if len(het) else ""

    def row(d: pd.DataFrame, law: str, est: str, param: str) -> pd.Series | None:
        r = d[(d["law"] == law) & (d["estimator"] == est) & (d["parameter"] == param)]
        return None if r.empty else r.iloc[0]

    def mean(d, law, est, param) -> str:
        r = row(d, law, est, param)
        return "n/a" if r is None else f"{r['mean']:.3f} (MCSE {r['mean_mcse']:.3f})"

    def tgt(d, law, est, param) -> str:
        r = row(d, law, est, param)
        if r is None or not np.isfinite(r["target"]):
            return "none"
        return f"{r['target']:.3f} ({r['source']})"

    def col(d, law, est, param, c) -> float:
        r = row(d, law, est, param)
        return math.nan if r is None else float(r[c])

    with_t = lim[lim["source"].isin(["theory", "population"])]
    m_iid = iid[iid["estimator"].isin(["huber", "bisquare"])]
    agree = float(np.nanmax(np.abs(m_iid["theory_minus_population"]))) if len(m_iid) else math.nan
    zmax = float(np.nanmax(np.abs(with_t["z_target"]))) if len(with_t) else math.nan
    iid_slopes = iid[iid["parameter"] == "x1"]
    zslope = float(np.nanmax(np.abs(iid_slopes["z_target"]))) if len(iid_slopes) else math.nan
    gap = het[het["estimator"].isin(["huber", "bisquare"]) & (het["parameter"] == "x1")]
    gap_txt = "; ".join(
        f"{r.estimator} under {r.law}: population fit {r.population:.3f}, "
        f"Monte Carlo {r.mean:.3f} (MCSE {r.mean_mcse:.3f})"
        for r in gap.itertuples()
    )
    mm = het[(het["estimator"] == "mm") & (het["parameter"] == "x1")]
    mm_txt = "; ".join(
        f"{r.law}: Monte Carlo {r.mean:.3f} (MCSE {r.mean_mcse:.3f})" for r in mm.itertuples()
    )
    return f"""## Skewed errors: which line does each estimator estimate?

Model $y = 1 + x + e$, $x \\sim U(0,1)$, errors mean-centred (so the nominal line is the
conditional mean) with unit IQR; estimates at n up to {n_max}. Each estimator's target is its
pseudo-true value: theory (`tailreg.theory` through the engine's truth columns) where it has
one, otherwise the *population fit* — the estimator's defining equations solved on a
discretised population (`population_fit` in `experiments/skewness.py`; under i.i.d. errors
it reproduces the theory's Huber and bisquare targets to {agree:.1e}). Under
heteroscedasticity MM has neither, and its empirical limit (the Monte Carlo mean at
n = {n_max}) is shown as such.

![estimates under skewed iid errors]({rel}/fig_iid_estimates.png)

*Intercept and slope estimates (MC mean ± 1.96 MCSE) against n under skewed i.i.d. errors;
black: the nominal value, coloured dashed lines: each estimator's theoretical target, dotted:
the population fit (Student-t MLE).* The slopes of all estimators converge to the nominal
slope (largest |bias|/MCSE over all i.i.d. slopes at n = {n_max}: {zslope:.2f}). The
intercepts do not: under the {law0} law OLS gives {mean(iid, law0, "ols", "const")}
(target: the mean, {tgt(iid, law0, "ols", "const")}), LAD {mean(iid, law0, "lad", "const")}
(target: the median, {tgt(iid, law0, "lad", "const")}), Huber
{mean(iid, law0, "huber", "const")} (target {tgt(iid, law0, "huber", "const")}), the
Student-t MLE {mean(iid, law0, "student_t", "const")} (target
{tgt(iid, law0, "student_t", "const")}) and MM {mean(iid, law0, "mm", "const")} (target
{tgt(iid, law0, "mm", "const")}, the bisquare location at the S-scale limit).
Table: [`{rel}/limits.csv`]({rel}/limits.csv).

![estimates under skewed heteroscedastic errors]({rel}/fig_het_estimates.png)

*The same under skewed heteroscedastic errors $e = (a + bx)u$.* Now the slopes differ: OLS
still estimates the conditional mean, slope {mean(het, hlaw0, "ols", "x1")} under the
{hlaw0} law, while LAD estimates the conditional median line, slope
{mean(het, hlaw0, "lad", "x1")} against its target $\\beta + b\\,\\mathrm{{med}}(F_u)$ =
{tgt(het, hlaw0, "lad", "x1")}, and Huber {mean(het, hlaw0, "huber", "x1")} against
{tgt(het, hlaw0, "huber", "x1")}. For Huber and bisquare the tempting formula
$\\beta + b\\,T(F_u)$ is *not* the target (the engine records no closed-form target there):
the M-location with one common scale is not scale-equivariant observation by observation
(where $\\sigma(x)$ is small the common scale is large relative to the error and the
estimator acts like the mean; where it is large, like the median), so the conditional
Huber-location line is not $(a + bx)\\,T(F_u)$. The population fit gives the exact target and
the Monte Carlo agrees with it ({gap_txt}). MM has no population fit here, so for MM only the
empirical limit is reported ({mm_txt}).

![bias against nominal and target]({rel}/fig_bias.png)

*Bias against the nominal value (left) and against each estimator's own target (right),
± 1.96 MCSE.* Against the nominal value the robust intercepts (and, with heteroscedasticity,
slopes) keep a bias that does not shrink with n; against their own targets they are
unbiased to Monte Carlo precision: over every cell with a target the largest |bias|/MCSE
at n = {n_max} is {zmax:.2f} (column `z_target` of the limits table).
"""


if __name__ == "__main__":
    raise SystemExit(main())
