"""Markdown from a :class:`~tailreg.diagnostics.document.Document`, figures as PNG files.

``write_markdown(doc, folder)`` writes ``folder/<stem>.md`` and one PNG per figure next to
it (``<stem>-<figure name>.png``), linked by relative paths so the folder can be moved or
committed as a whole. Table cells escape ``|`` so a cell cannot split a column.
"""

from __future__ import annotations

from pathlib import Path

from .document import Document, Image, Items, Section, Table, Text, format_cell, slug

__all__ = ["render_markdown", "write_markdown"]


def _cell(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(b: Table) -> str:
    df = b.frame
    lines = [
        "| " + " | ".join(_cell(str(c)) for c in df.columns) + " |",
        "|" + "---|" * len(df.columns),
    ]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(format_cell(v, b.floatfmt)) for v in row) + " |")
    cap = f"*{b.caption}*\n\n" if b.caption else ""
    return cap + "\n".join(lines)


def _findings(b: Items) -> str:
    return "\n".join(f"{i}. **{h}** — {d}" for i, (h, d) in enumerate(b.items, start=1))


def _section(s: Section, images: dict[int, str]) -> str:
    parts = [f"## {s.title}"]
    for b in s.blocks:
        if isinstance(b, Text):
            parts.append(str(b.text).strip())
        elif isinstance(b, Table):
            parts.append(_table(b))
        elif isinstance(b, Image):
            parts.append(f"![{b.caption}]({images[id(b)]})\n\n*{b.caption}*")
        elif isinstance(b, Items):
            parts.append(_findings(b))
    return "\n\n".join(parts)


def _image_names(doc: Document, stem: str) -> dict[int, str]:
    names, used = {}, set()
    for s in doc.sections:
        for b in s.blocks:
            if isinstance(b, Image):
                base = f"{stem}-{slug(b.name)}"
                name, j = f"{base}.png", 2
                while name in used:
                    name, j = f"{base}-{j}.png", j + 1
                used.add(name)
                names[id(b)] = name
    return names


def render_markdown(doc: Document, images: dict[int, str]) -> str:
    """The Markdown text, with each Image block linked to ``images[id(block)]``."""
    head = f"# {doc.title}\n\n" + (f"{doc.subtitle}\n\n" if doc.subtitle else "")
    return head + "\n\n".join(_section(s, images) for s in doc.sections) + "\n"


def write_markdown(doc: Document, folder: str | Path, stem: str = "diagnosis") -> Path:
    """Write ``folder/<stem>.md`` and its figures as PNG files beside it; returns the .md path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stem = slug(stem)
    images = _image_names(doc, stem)
    for s in doc.sections:
        for b in s.blocks:
            if isinstance(b, Image):
                b.figure.savefig(out / images[id(b)], format="png", dpi=110)
    md = out / f"{stem}.md"
    md.write_text(render_markdown(doc, images), encoding="utf-8")
    return md
