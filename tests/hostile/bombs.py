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


# ---------------------------------------------------------------- image bombs: huge declared sizes in tiny files
def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header declares width x height 8-bit grey pixels (about 70 bytes)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


def jpeg_bomb(width: int = 65_000, height: int = 65_000) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to declare width x height."""
    import io
    import struct

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A TIFF of one uncompressed grey page declared width x height, its one strip 8 bytes."""
    import struct

    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 8)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\x00" * 4
    return b"II*\x00" + struct.pack("<I", 16) + b"\x00" * 8 + ifd


def tiff_frames(frames: int, huge_last: bool = False) -> bytes:
    """A multi-page TIFF of `frames` small blank pages; with `huge_last`, its last page's
    header declares 100,000 x 100,000 pixels (the first page alone is what Pillow checks)."""
    import io
    import struct

    from PIL import Image

    pages = [Image.new("L", (16, 16), 255) for _ in range(frames)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:])
    data = bytearray(buffer.getvalue())
    if huge_last:  # rewrite the width and length tags of the last directory
        offset, last = struct.unpack("<I", data[4:8])[0], 0
        while offset:
            last = offset
            count = struct.unpack("<H", data[offset : offset + 2])[0]
            offset = struct.unpack("<I", data[offset + 2 + 12 * count : offset + 6 + 12 * count])[0]
        count = struct.unpack("<H", data[last : last + 2])[0]
        for k in range(count):
            entry = last + 2 + 12 * k
            tag, kind = struct.unpack("<HH", data[entry : entry + 4])
            if tag in (256, 257):
                data[entry + 2 : entry + 12] = struct.pack("<HII", 4, 1, 100_000)
    return bytes(data)
