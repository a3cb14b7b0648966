"""Getting a letter's text out of whatever it came in: a PDF, a text file, bytes or a string."""

from __future__ import annotations

from pathlib import Path

from openimr.letters.read.errors import LetterError

# A text this size or larger is not a letter but something else (a letter is 2-10 pages).
MAX_BYTES = 50 * 1024 * 1024


def pdf_text(data: bytes, name: str) -> str:
    """The text of a PDF, page after page, read in a bounded worker subprocess (pages,
    characters, memory and time limited; see openimr.letters.read.bounded)."""
    from openimr.letters.read.bounded import pdf_text as bounded_pdf_text

    return bounded_pdf_text(data, name)


def decode_text(data: bytes, name: str) -> str:
    """Bytes of a text file as text (UTF-8, else Windows-1252); binary data is refused."""
    if b"\x00" in data[:4096]:
        raise LetterError(name, "not a letter: binary data that is neither a PDF nor text")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LetterError(name, "not a letter: undecodable text")  # pragma: no cover - latin-1 decodes all


def bytes_text(data: bytes, name: str) -> str:
    """The text of a file's bytes, PDF or text."""
    if not data.strip():
        raise LetterError(name, "empty file")
    if len(data) > MAX_BYTES:
        raise LetterError(name, f"file too large ({len(data) // 1_048_576} MB) to be a letter")
    if data.lstrip()[:5] == b"%PDF-":
        return pdf_text(data, name)
    return decode_text(data, name)


def letter_text(source: str | Path | bytes) -> tuple[str, str]:
    """(name, text) of a source: a path to a PDF or text file, PDF/text bytes, or text."""
    if isinstance(source, bytes):
        return "<bytes>", bytes_text(source, "<bytes>")
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        name = str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise LetterError(name, "no such file") from None
        except IsADirectoryError:
            raise LetterError(name, "is a folder, not a letter") from None
        except OSError as error:
            raise LetterError(name, f"cannot read the file ({error.strerror})") from None
        return name, bytes_text(data, name)
    if not source.strip():
        raise LetterError("<text>", "empty text")
    return "<text>", source


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and len(text) < 4096 and (Path(text).suffix != "" or Path(text).exists())
