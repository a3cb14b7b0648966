"""Blocks as HTML (one Jinja2 template) and the same HTML as PDF (WeasyPrint)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from openimr.letters.write.artifacts import DRAFT_BANNER
from openimr.letters.write.blocks import Block

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "letter.css").read_text(encoding="utf-8")


def render_html(blocks: list[Block], layout: str, title: str, draft: bool = False) -> str:
    """The letter as a standalone HTML page (its style inline)."""
    from markupsafe import Markup

    template = _environment().get_template("letter.html.j2")
    return template.render(
        blocks=blocks, layout=layout, title=title, draft=draft, banner=DRAFT_BANNER, css=Markup(_css())
    )


def render_pdf(html: str) -> bytes:
    """The HTML page printed to PDF by WeasyPrint (page numbers in the footer)."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
