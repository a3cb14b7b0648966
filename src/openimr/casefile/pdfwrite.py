"""A small PDF writer for the synthetic case files: text pages in the standard Helvetica
fonts (a real text layer) and image pages (a scan: one JPEG filling the page). Only what the
generator needs; nothing here reads PDFs."""

from __future__ import annotations

import io
import zlib

WIDTH, HEIGHT = 612, 792  # US Letter, points


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


class PdfWriter:
    def __init__(self):
        self._objects: list[bytes] = [b""] * 4  # 1 catalog, 2 page tree, 3-4 fonts
        self._pages: list[int] = []

    def _add(self, body: bytes) -> int:
        self._objects.append(body)
        return len(self._objects)

    def _stream(self, head: str, data: bytes) -> int:
        return self._add(f"<< {head} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream")

    def text_page(self, lines: list[tuple[float, float, float, bool, str]]) -> None:
        """A page of text: (x, y from the top, size, bold, text) a line."""
        ops = []
        for x, y, size, bold, text in lines:
            font = "/F2" if bold else "/F1"
            ops.append(b"BT %s %.1f Tf %.1f %.1f Td (" % (font.encode(), size, x, HEIGHT - y) + _escape(text) + b") Tj ET")
        content = self._stream("/Filter /FlateDecode", zlib.compress(b"\n".join(ops)))
        self._pages.append(self._add(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content} 0 R >>".encode()))

    def image_page(self, image, quality: int = 70) -> None:
        """A scanned page: a greyscale image filling the page."""
        buffer = io.BytesIO()
        image.convert("L").save(buffer, "JPEG", quality=quality)
        xobject = self._stream(
            f"/Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
            "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", buffer.getvalue())
        content = self._stream("", f"q {WIDTH} 0 0 {HEIGHT} 0 0 cm /Im0 Do Q".encode())
        self._pages.append(self._add(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] "
            f"/Resources << /XObject << /Im0 {xobject} 0 R >> >> /Contents {content} 0 R >>".encode()))

    def getvalue(self) -> bytes:
        kids = " ".join(f"{n} 0 R" for n in self._pages)
        self._objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
        self._objects[1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(self._pages)} >>".encode()
        self._objects[2] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
        self._objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
        out = io.BytesIO()
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self._objects, start=1):
            offsets.append(out.tell())
            out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        xref = out.tell()
        out.write(f"xref\n0 {len(self._objects) + 1}\n0000000000 65535 f \n".encode())
        for offset in offsets:
            out.write(f"{offset:010d} 00000 n \n".encode())
        out.write(f"trailer\n<< /Size {len(self._objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
        return out.getvalue()
