"""The ``tailreg`` command line.

Subcommands::

    tailreg run STUDY.toml --out DIR [--backend serial|processes|dask] [--workers N]
                                     [--scheduler ADDRESS] [--block-size R] [--force] [--quiet]
                                     [--allow-huge]
    tailreg summarize DIR [--format csv|markdown] [--output FILE]
    tailreg demo
    tailreg reproduce [--quick] [--only NAME ...] [--backend ...] [--workers N] [--out DIR]
    tailreg diagnose DATA.csv --formula "y ~ x1 + x2" [--groups G] [--ordered] [--out DIR]
                              [--replications N] [--seed S] [--quiet]

    tailreg --version

Each subcommand is one ``_add_<name>(subparsers)`` function that registers its arguments and
sets ``func``; a new subcommand (e.g. ``reproduce``) is one more such function in
``SUBCOMMANDS``. ``python -m tailreg`` is the same command (:mod:`tailreg.__main__`).

Interrupting ``tailreg run`` (Ctrl-C, or SIGTERM) stops its workers at once and keeps every
finished cell; the same command resumes. Exit status: 0 done, 1 the run failed, 2 bad
arguments or study, 130 interrupted by SIGINT, 143 by SIGTERM.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata

import pandas as pd

from . import demo, reproduce
from ._optional import require
from .simulation import SimulationError, Study, read_results, run_study, summarize

__all__ = ["SUBCOMMANDS", "build_parser", "main", "positive_int", "to_markdown", "version"]


def version() -> str:
    """The installed tailreg version (package metadata), else the package's own."""
    try:
        return metadata.version("tailreg")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        from . import __version__

        return __version__


def positive_int(text: str) -> int:
    """argparse type of ``--workers``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that the run stops like on Ctrl-C."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While a run lasts, SIGTERM raises :class:`Terminated` (in the main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------------------
def _cmd_run(args: argparse.Namespace) -> int:
    backend = args.backend or ("dask" if args.scheduler else "serial")
    if args.scheduler and backend != "dask":
        print("tailreg run: --scheduler needs --backend dask", file=sys.stderr)
        return 2
    try:
        study = Study.from_toml(args.study)
    except (OSError, ValueError) as exc:
        print(f"tailreg run: invalid study {args.study}: {exc}", file=sys.stderr)
        return 2
    try:
        with _sigterm_interrupts():
            run = run_study(
                study,
                out=args.out,
                backend=backend,
                workers=args.workers,
                scheduler=args.scheduler,
                force=args.force,
                progress=not args.quiet,
                block_size=args.block_size,
                allow_huge=args.allow_huge,
            )
    except KeyboardInterrupt as exc:
        what = "SIGTERM" if isinstance(exc, Terminated) else "interrupt"
        print(
            f"\ntailreg run: stopped by {what}; finished cells are kept in {args.out} and the "
            "same command resumes",
            file=sys.stderr,
        )
        return 143 if isinstance(exc, Terminated) else 130
    except (SimulationError, ValueError, OSError) as exc:  # ConnectionError is an OSError
        print(f"tailreg run: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        extended = sum(1 for v in run.status.values() if v == "extended")
        topped = f" ({extended} extended with new replications)" if extended else ""
        print(
            f"{study.name}: {run.cells_run} cell(s) computed{topped}, {run.cells_skipped} "
            f"already finished, {run.wall_time:.1f} s; results in {args.out}"
        )
    return 0


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a Monte Carlo study described by a TOML file")
    p.add_argument("study", help="study file (TOML)")
    p.add_argument("--out", required=True, help="output directory (Parquet per cell + meta.json)")
    p.add_argument(
        "--backend",
        choices=("serial", "processes", "dask"),
        default=None,
        help="default: serial, or dask when --scheduler is given",
    )
    p.add_argument(
        "--workers", type=positive_int, default=None, help="worker processes (default: cores)"
    )
    p.add_argument("--scheduler", default=None, help="address of a running dask scheduler")
    p.add_argument(
        "--block-size",
        type=int,
        default=None,
        help="replications per task, a multiple of the study's seed_block (results unchanged)",
    )
    p.add_argument("--force", action="store_true", help="recompute finished cells")
    p.add_argument("--quiet", action="store_true", help="no progress bar or final message")
    p.add_argument(
        "--allow-huge",
        action="store_true",
        help="run a study beyond the size caps (1e9 error draws, 2e8 numbers per seed block)",
    )
    p.set_defaults(func=_cmd_run)


# --------------------------------------------------------------------------------------
def _fmt_cell(v: object) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.4g}"
    return str(v)


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no dependency on ``tabulate``)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt_cell(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


#: the columns ``summarize --format markdown`` shows (the CSV has them all)
_MARKDOWN_COLUMNS = ("bias", "bias_pseudo", "sd", "rmse", "rel_eff", "nvar_ratio")


def _markdown_view(summary: pd.DataFrame) -> pd.DataFrame:
    keys = ["design", "law", "n", "estimator", "parameter", "n_rep"]
    cols = [c for c in _MARKDOWN_COLUMNS if c in summary]
    cols += [c for c in summary.columns if c.startswith("coverage_") and not c.endswith("_mcse")]
    view = summary[keys].copy()
    for c in cols:
        val, se = summary[c], summary.get(f"{c}_mcse")
        if se is None:
            view[c] = val.map(_fmt_cell)
        else:
            view[c] = [
                "" if pd.isna(v) else f"{v:.4g} ({s:.2g})" for v, s in zip(val, se, strict=True)
            ]
    if "rate" in summary:
        view["rate"] = [
            "" if pd.isna(v) else f"{v:.3f} ({s:.2g})"
            for v, s in zip(summary["rate"], summary["rate_mcse"], strict=True)
        ]
    return view


def _notes_markdown(summary: pd.DataFrame) -> str:
    """Warnings per (cell, estimator) and theory notes, below the table (as SimDesign)."""
    keys = ["design", "law", "n", "estimator"]
    if not {"warnings", "theory"} <= set(summary.columns):
        return ""
    cells = summary.drop_duplicates(keys)
    text = ""
    warned = cells.loc[cells["warnings"] > 0, [*keys, "warnings", "first_warning"]]
    if len(warned):
        text += "\nWarnings raised by the fits (count, first message):\n\n"
        text += to_markdown(warned) + "\n"
    noted = cells.loc[cells["theory"] != "", [*keys, "theory"]]
    if len(noted):
        text += "\nTargets without theory (NaN pseudo-true values or variances):\n\n"
        text += to_markdown(noted) + "\n"
    return text


def _cmd_summarize(args: argparse.Namespace) -> int:
    try:
        table = read_results(args.dir, missing="skip")
    except (FileNotFoundError, ValueError) as exc:
        print(f"tailreg summarize: {exc}", file=sys.stderr)
        return 2
    summary = summarize(table, reference=args.reference)
    if args.format == "csv":
        text = summary.to_csv(index=False)
    else:
        text = (
            "Values with Monte Carlo standard errors in parentheses.\n\n"
            + to_markdown(_markdown_view(summary))
            + "\n"
            + _notes_markdown(summary)
        )
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _add_summarize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summarize", help="summary metrics with Monte Carlo standard errors")
    p.add_argument("dir", help="output directory of `tailreg run`")
    p.add_argument("--format", choices=("csv", "markdown"), default="csv")
    p.add_argument("--output", default=None, help="write to this file instead of stdout")
    p.add_argument(
        "--reference", default="ols", help="estimator label for relative efficiency (default ols)"
    )
    p.set_defaults(func=_cmd_summarize)


# --------------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    return int(demo.main([]) or 0)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="every estimator on the stackloss and engel data")
    p.set_defaults(func=_cmd_demo)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    return reproduce.run(args)


def _add_reproduce(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="run every study and rebuild REPORT.md")
    reproduce.add_arguments(p)
    p.set_defaults(func=_cmd_reproduce)


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from pathlib import Path

    diagnose = require("tailreg.diagnostics.diagnose", "tailreg diagnose").diagnose

    try:
        data = pd.read_csv(args.data)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        print(f"tailreg diagnose: cannot read {args.data}: {exc}", file=sys.stderr)
        return 2
    try:
        d = diagnose(
            args.formula,
            data,
            groups=args.groups,
            ordered=args.ordered,
            replications=args.replications,
            random_state=args.seed,
            progress=not args.quiet,
        )
    except ValueError as exc:
        print(f"tailreg diagnose: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    html = d.to_html(out / "diagnosis.html")
    md = d.to_markdown(out)
    d.estimates().to_csv(out / "estimates.csv", index=False)
    if not args.quiet:
        print(f"detected: {', '.join(d.findings.detected()) or 'nothing'}")
        for r in d.recommendations:
            print(f"- {r.action}")
        print(f"report: {html} and {md}")
    return 0


def _add_diagnose(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diagnose", help="diagnose a regression on a CSV file and compare every estimator"
    )
    p.add_argument("data", help="CSV file with a header row")
    p.add_argument("--formula", required=True, help='model formula, e.g. "y ~ x1 + x2"')
    p.add_argument("--groups", default=None, help="column of cluster labels")
    p.add_argument("--ordered", action="store_true", help="rows are in time order")
    p.add_argument("--out", default="diagnosis", help="output folder (default: diagnosis)")
    p.add_argument("--replications", type=int, default=200, help="Monte Carlo replications")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=_cmd_diagnose)


#: one function per subcommand
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_run,
    _add_summarize,
    _add_demo,
    _add_reproduce,
    _add_diagnose,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="tailreg",
        description="Least squares is the Gaussian MLE: Monte Carlo studies of what heavy "
        "tails and skewness do to it, and what robust estimators buy instead.",
    )
    parser.add_argument("--version", action="version", version=f"tailreg {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tailreg`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
