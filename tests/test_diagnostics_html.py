"""HTML and Markdown writers: self-contained, escaped, and carrying the same content."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from tailreg.diagnostics.document import Document, Image, Items, Section, Table, Text, slug
from tailreg.diagnostics.html import render_html, write_html
from tailreg.diagnostics.markdown import write_markdown

HOSTILE = "<script>alert('x')</script> & \"quotes\""


def _figure(title: str) -> Figure:
    fig = Figure(figsize=(2, 1.5))
    ax = fig.subplots()
    ax.plot([0, 1], [1, 0])
    ax.set_title(title)
    return fig


@pytest.fixture
def doc() -> Document:
    table = pd.DataFrame(
        {
            "term<b>": ["x1", "a|b"],
            "estimate": [0.123456789, np.nan],
            "flag": [True, False],
            "n": [3, 4],
        }
    )
    return Document(
        title=f"Diagnosis {HOSTILE}",
        subtitle="n = 2",
        sections=[
            Section("Recommendation", [Items([("Use HC3", "Breusch–Pagan p = 0.001 < 0.05")])]),
            Section(
                "Tables & figures",
                [
                    Text(f"First paragraph {HOSTILE}.\n\nSecond paragraph."),
                    Table(table, caption="a caption & more"),
                    Image(_figure("one"), "first figure", "qq plot"),
                    Image(_figure("two"), "second figure", "qq plot"),  # same name
                ],
            ),
        ],
    )


def test_html_is_self_contained(doc):
    page = render_html(doc)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    sources = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    for s in sources:
        png = base64.b64decode(s.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<style>" in page


def test_html_escapes_every_text(doc):
    page = render_html(doc)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "term&lt;b&gt;" in page and "a caption &amp; more" in page
    assert "<p>Second paragraph.</p>" in page
    assert "0.1235" in page and ">yes<" in page and ">no<" in page


def test_write_html(tmp_path, doc):
    path = write_html(doc, tmp_path / "sub" / "diagnosis.html")
    assert path.read_text(encoding="utf-8") == render_html(doc)


def test_markdown_writes_figures_next_to_the_file(tmp_path, doc):
    md = write_markdown(doc, tmp_path / "out", stem="My Diagnosis")
    assert md.name == "my-diagnosis.md"
    text = md.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == ["my-diagnosis-qq-plot.png", "my-diagnosis-qq-plot-2.png"]
    for name in links:
        assert (md.parent / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| a\\|b |" in text  # a pipe cannot split a column
    assert text.startswith("# Diagnosis")
    assert "1. **Use HC3** — Breusch–Pagan p = 0.001 < 0.05" in text


def test_html_and_markdown_carry_the_same_content(tmp_path, doc):
    page = render_html(doc)
    text = write_markdown(doc, tmp_path).read_text(encoding="utf-8")
    for piece in ("Use HC3", "Breusch–Pagan p = 0.001 &lt; 0.05", "0.1235", "first figure"):
        assert piece in page
    for piece in ("Use HC3", "Breusch–Pagan p = 0.001 < 0.05", "0.1235", "first figure"):
        assert piece in text
    assert page.count("<figure>") == text.count("![")
    assert page.count("<h2>") == text.count("\n## ")


def test_slug():
    assert slug("QQ plot (MM)") == "qq-plot-mm"
    assert slug("///") == "figure"
