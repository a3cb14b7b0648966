"""Blocks as HTML (one Jinja2 template) and the same HTML as PDF (WeasyPrint)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

from openimr.letters.write.artifacts import DRAFT_BANNER
from openimr.letters.write.blocks import Block

TEMPLATES = Path(__file__).with_name("templates")
# Characters after which a line may break inside a word. A PDF's text extraction joins a
# line break with a space, so a word broken there would read back with a space in it:
# such words are kept whole (up to a length that still fits a line).
_BREAKERS = re.compile(r"[-/\u2010-\u2015_?&+=:;,.!%)\]}]")
_LONGEST_KEPT = 80
_LONGEST_SHRUNK = 200


def keep_words(text: object) -> Markup:
    """Escaped text whose words with inner break opportunities are kept on one line."""
    words = str(text or "").split()
    out: list[str] = []
    index = 0
    while index < len(words):
        group = [words[index]]
        while group[-1][-1:] in "-/\u2010\u2011\u2012\u2013\u2014" and index + 1 < len(words):
            index += 1
            group.append(words[index])
        index += 1
        joined = " ".join(group)
        inner = any(_BREAKERS.search(word[:-1]) for word in group) or len(group) > 1
        if inner and len(joined) <= _LONGEST_KEPT:
            out.append(f'<span class="nb">{escape(joined)}</span>')
        elif inner and len(joined) <= _LONGEST_SHRUNK:
            # A long web address: smaller type rather than a break inside it.
            size = round(100 * _LONGEST_KEPT / len(joined))
            out.append(f'<span class="nb" style="font-size: {size}%">{escape(joined)}</span>')
        else:
            out.append(str(escape(joined)))
    return Markup(" ".join(out))


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["words"] = keep_words
    return environment


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "letter.css").read_text(encoding="utf-8")


def _field_tables(blocks: list[Block]) -> list[Block]:
    """Consecutive rows of header fields as one table ("field_rows"), so their columns line up;
    a field printed below its label in text goes beside a lone field of the row above."""
    out: list[Block] = []
    for block in blocks:
        if block.kind == "field_below" and out and out[-1].kind == "field_rows" and len(out[-1].grid[-1]) == 1:
            # "Received:" beside a lone field ("Priority:"), as the letters' header table has it
            out[-1].grid[-1].append((block.label, block.text))
        elif block.kind != "fields":
            out.append(block)
        elif out and out[-1].kind == "field_rows":
            out[-1].grid.append(list(block.fields))
        else:
            out.append(Block("field_rows", grid=[list(block.fields)]))
    return out


def render_html(blocks: list[Block], layout: str, title: str, draft: bool = False) -> str:
    """The letter as a standalone HTML page (its style inline)."""
    from markupsafe import Markup

    template = _environment().get_template("letter.html.j2")
    return template.render(
        blocks=_field_tables(blocks), layout=layout, title=title, draft=draft, banner=DRAFT_BANNER, css=Markup(_css())
    )


@lru_cache(maxsize=1)
def _local_only():
    """WeasyPrint's fetcher for data: URIs only (the embedded logo): no network, no files."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def render_pdf(html: str) -> bytes:
    """The HTML page printed to PDF by WeasyPrint (page numbers in the footer)."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, base_url=str(TEMPLATES), url_fetcher=_local_only()).write_pdf()
