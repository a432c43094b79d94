"""Self-contained HTML from a :class:`~tailreg.diagnostics.document.Document`.

The page needs nothing outside itself: the CSS is inline, figures are embedded as base64
PNG ``data:`` URIs, there is no script, and every piece of text (titles, cells, captions)
is HTML-escaped, so it opens offline and cannot be broken by a column name.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .document import Document, Image, Items, Section, Table, Text, format_cell

__all__ = ["figure_data_uri", "render_html", "write_html"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2933; max-width: 62rem; margin: 2rem auto; padding: 0 1.2rem;
       line-height: 1.5; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #d9dee3; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
p.subtitle { color: #52606d; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.88rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e4e7eb; text-align: left; }
th { background: #f5f7fa; border-bottom: 2px solid #cbd2d9; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; color: #52606d; padding-bottom: 0.3rem; }
figure { margin: 0.8rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e4e7eb; }
figcaption { color: #52606d; font-size: 0.88rem; }
ol.findings li { margin-bottom: 0.6rem; }
ol.findings .reason { display: block; color: #52606d; font-size: 0.9rem; }
"""


def figure_data_uri(fig, dpi: int = 110) -> str:
    """The figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _esc(s: str) -> str:
    return html.escape(str(s), quote=True)


def _text(b: Text) -> str:
    paras = [p.strip() for p in str(b.text).split("\n\n") if p.strip()]
    return "\n".join(f"<p>{_esc(p)}</p>" for p in paras)


def _numeric(series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _table(b: Table) -> str:
    df = b.frame
    num = [_numeric(df[c]) for c in df.columns]
    cls = [' class="num"' if k else "" for k in num]
    head = "".join(f"<th{c}>{_esc(col)}</th>" for col, c in zip(df.columns, cls, strict=True))
    rows = []
    for row in df.itertuples(index=False):
        cells = "".join(
            f"<td{c}>{_esc(format_cell(v, b.floatfmt))}</td>" for v, c in zip(row, cls, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{_esc(b.caption)}</caption>" if b.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _image(b: Image) -> str:
    return (
        f'<figure><img src="{figure_data_uri(b.figure)}" alt="{_esc(b.caption)}">'
        f"<figcaption>{_esc(b.caption)}</figcaption></figure>"
    )


def _findings(b: Items) -> str:
    items = "".join(
        f'<li><strong>{_esc(h)}</strong><span class="reason">{_esc(d)}</span></li>'
        for h, d in b.items
    )
    return f'<ol class="findings">{items}</ol>'


_RENDER: dict[type, Callable[[Any], str]] = {
    Text: _text,
    Table: _table,
    Image: _image,
    Items: _findings,
}


def _section(s: Section) -> str:
    body = "\n".join(_RENDER[type(b)](b) for b in s.blocks)
    return f"<section><h2>{_esc(s.title)}</h2>\n{body}\n</section>"


def render_html(doc: Document) -> str:
    """The document as one self-contained HTML page (see the module notes)."""
    sub = f'<p class="subtitle">{_esc(doc.subtitle)}</p>' if doc.subtitle else ""
    sections = "\n".join(_section(s) for s in doc.sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(doc.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_esc(doc.title)}</h1>\n{sub}\n{sections}\n</body>\n</html>\n"
    )


def write_html(doc: Document, path: str | Path) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8, parent folders created); returns it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(doc), encoding="utf-8")
    return p
