"""A small document model that the HTML and Markdown writers render.

A :class:`Document` is a title and a sequence of :class:`Section` objects, each holding
blocks: :class:`Text` (plain paragraphs, escaped on output), :class:`Table` (a DataFrame),
:class:`Image` (a matplotlib Figure) and :class:`Items` (an ordered list of (headline, detail)
pairs, e.g. recommendations with their reasons). Keeping the content apart from the format is
what lets ``to_html`` and ``to_markdown`` write the same content.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Block",
    "Document",
    "Image",
    "Items",
    "Section",
    "Table",
    "Text",
    "format_cell",
    "slug",
]


@dataclass(frozen=True)
class Text:
    """Plain text; blank lines separate paragraphs. No markup is interpreted."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table with an optional caption; floats are written with ``floatfmt``."""

    frame: pd.DataFrame
    caption: str = ""
    floatfmt: str = ".4g"


@dataclass(frozen=True)
class Image:
    """A matplotlib figure; ``name`` becomes the PNG file stem in Markdown output."""

    figure: Any
    caption: str
    name: str


@dataclass(frozen=True)
class Items:
    """An ordered list of (headline, detail) pairs, e.g. recommendations and their reasons."""

    items: Sequence[tuple[str, str]]


Block = Text | Table | Image | Items


@dataclass(frozen=True)
class Section:
    """A titled section of blocks."""

    title: str
    blocks: Sequence[Block] = field(default_factory=tuple)


@dataclass(frozen=True)
class Document:
    """A titled document of sections, with an optional one-line subtitle."""

    title: str
    sections: Sequence[Section] = field(default_factory=tuple)
    subtitle: str = ""


def slug(name: str) -> str:
    """A file-name-safe lower-case stem: runs of other characters become ``-``."""
    s = re.sub(r"[^a-z0-9_]+", "-", str(name).lower()).strip("-")
    return s or "figure"


def format_cell(v: Any, floatfmt: str) -> str:
    """A table cell as text: booleans as yes/no, floats with ``floatfmt`` (NaN as an empty
    cell), everything else ``str``."""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        f = float(v)
        return "" if f != f else format(f, floatfmt)
    return str(v)
