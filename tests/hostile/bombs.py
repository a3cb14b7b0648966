"""Hostile files made by the tests' own code: PDFs that are small on disk and huge once read."""

from __future__ import annotations

import zlib


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes) -> bytes:
    packed = zlib.compress(data, 9)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def text_bomb(characters: int = 60_000_000, per_page: int = 700_000) -> bytes:
    """A PDF whose pages show about `characters` characters of text in all (700 lines of 1,000
    characters a page, every page the same content stream): some 100 KB on disk."""
    lines = [b"BT /F1 1 Tf"]
    for k in range(per_page // 1000):
        letter = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[k % 26 : k % 26 + 1]
        lines.append(b"1 0 0 1 10 %d Tm (" % (780 - k) + letter * 1000 + b") Tj")
    stream = _stream(b"\n".join(lines + [b"ET"]))
    pages = max(1, characters // per_page)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" 5 0 R" * pages + b"] /Count %d >>" % pages,
               FONT, stream,
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
               b" /Contents 4 0 R >>"]
    return _pdf(objects)


def page_bomb(fanout: int = 400) -> bytes:
    """A PDF of fanout**2 pages (160,000 by default) in a few KB: the page tree's nodes list
    the same child again and again, and every page shows the same content stream."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" 3 0 R" * fanout + b"] /Count %d >>" % (fanout * fanout),
               b"<< /Type /Pages /Parent 2 0 R /Kids [" + b" 4 0 R" * fanout + b"] /Count %d >>" % fanout,
               b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>"
               b" /Contents 6 0 R >>",
               FONT,
               _stream(b"BT /F1 12 Tf 72 720 Td (page) Tj ET")]
    return _pdf(objects)


def small_text_pdf(text: str) -> bytes:
    """An ordinary one-page PDF with a line of text (a well-behaved control)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                 b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
                 FONT,
                 b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
                 b" /Contents 5 0 R >>",
                 _stream(b"BT /F1 12 Tf 72 720 Td (" + safe + b") Tj ET")])
