"""Pages of a case file read in a bounded worker subprocess.

A case file is hostile input as much as a letter is, and OCR is the costliest thing OpenIMR
does, so pages are never read in the calling process. This module reuses the letters' bounded
worker (`openimr.letters.read.bounded`): its limits (`Limits`: pages, address space, CPU and
wall time, from the same OPENIMR_PDF_* variables), its framing over pipes and its
die-with-parent watch. What differs is the unit of work: a worker here is given a file *path*
and streams one answer frame per page (the file is opened lazily by pdfium or Pillow, never
read whole into memory); the CPU and wall limits hold per page. A worker that dies on a page
(memory, CPU) costs that page only: the parent records "page N: over the ... limit" and starts
a fresh worker at the next page.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from openimr import bounds
from openimr.letters.read import bounded
from openimr.letters.read.bounded import Limits, _receive, _send

OCR_MEMORY_MB = 1536  # Tesseract with its English model and a 300 dpi page needs ~400 MB
MIN_TEXT_CHARS = 40  # a page with fewer letters and digits in its text layer has none usable
RENDER_DPI = 300  # scanned PDF pages are rendered at this resolution for OCR
MAX_PIXELS = 60_000_000  # an image page of more is refused from its header (a 600 dpi legal page is 20 million)
VIEW_DPI = 110  # a page shown in the workbench's page viewer (a letter page ~935 x 1210 px)
VIEW_MAX_PIXELS = 1600  # and no side of its image longer than this (a stored scan is reduced)


class CaseFileError(Exception):
    """A case file that cannot be read at all: `str()` is one line naming the file."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def casefile_limits() -> Limits:
    """The letters' limits, with bounds.MAX_CASEFILE_PAGES pages and room for OCR in the
    address space (unless OPENIMR_PDF_MAX_PAGES or OPENIMR_PDF_MEMORY_MB say otherwise)."""
    lim = bounded.limits()
    if not os.environ.get("OPENIMR_PDF_MAX_PAGES"):
        lim = replace(lim, max_pages=bounds.MAX_CASEFILE_PAGES)
    if os.environ.get("OPENIMR_PDF_MEMORY_MB"):
        return lim
    return replace(lim, memory_mb=max(lim.memory_mb, OCR_MEMORY_MB))


def sniff(path: Path) -> str:
    """"pdf", "tiff", "png" or "jpeg" from the file's first bytes; CaseFileError otherwise."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise CaseFileError(str(path), f"cannot be read ({error.strerror or error})") from None
    if size > bounds.MAX_CASEFILE_BYTES:
        raise CaseFileError(str(path), f"{size / 2**20:.0f} MB, over the limit of {bounds.MAX_CASEFILE_BYTES // 2**20} MB")
    if head.startswith(b"%PDF-") or b"%PDF-" in _head(path):
        return "pdf"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    raise CaseFileError(str(path), "not a PDF or image (PDF, TIFF, PNG or JPEG)")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:  # a PDF may have junk before its header (within 1 KB)
        return handle.read(1024)


def _usable(text: str) -> bool:
    return sum(ch.isalnum() for ch in text) >= MIN_TEXT_CHARS


# --- inside the worker ----------------------------------------------------------------------


class _Pages:
    """A file's pages, opened lazily: count(), then page(i) -> (text or None, image thunk)."""

    def __init__(self, path: str, kind: str):
        self.kind = kind
        if kind == "pdf":
            import pypdfium2 as pdfium

            try:
                self.pdf = pdfium.PdfDocument(path)
            except pdfium.PdfiumError as error:
                if "password" in str(error).lower():
                    raise ValueError("encrypted with a password") from None
                raise ValueError("not a readable PDF (damaged beyond its pages)") from None
            self.n = len(self.pdf)
        else:
            import warnings

            from PIL import Image

            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            try:
                with warnings.catch_warnings():  # Pillow only warns up to twice its limit
                    warnings.simplefilter("error", Image.DecompressionBombWarning)
                    self.picture = Image.open(path)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ValueError(_too_many_pixels(_declared_size(path))) from None
            except Exception:  # noqa: BLE001 - Pillow raises many kinds for a bad header
                raise ValueError("not a readable image") from None
            self.n = getattr(self.picture, "n_frames", 1)

    def text(self, index: int) -> str | None:
        if self.kind != "pdf":
            return None
        page = self.pdf[index]
        try:
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            return text.replace("\r\n", "\n")
        finally:
            page.close()

    def image(self, index: int):
        """(PIL image, dpi) of a page."""
        if self.kind == "pdf":
            page = self.pdf[index]
            try:
                return page.render(scale=RENDER_DPI / 72, grayscale=True).to_pil(), RENDER_DPI
            finally:
                page.close()
        self.picture.seek(index)
        if self.picture.width * self.picture.height > MAX_PIXELS:  # a later frame's header: Pillow checks the first only
            raise PageRefused(_too_many_pixels(self.picture.size))
        frame = self.picture.copy()
        frame.load()
        dpi = frame.info.get("dpi") or self.picture.info.get("dpi")
        return frame, (float(dpi[0]) if dpi and dpi[0] else None)

    def close(self) -> None:
        if self.kind == "pdf":
            self.pdf.close()
        else:
            self.picture.close()


class PageRefused(Exception):
    """A page past a limit, found from its header: `str()` says which (the page alone is lost)."""


def _too_many_pixels(size: tuple[int, int] | None) -> str:
    shown = f"{size[0]:,} x {size[1]:,} pixels, " if size else ""
    return f"refused: {shown}over the limit of {MAX_PIXELS:,} pixels"


def _declared_size(path: str) -> tuple[int, int] | None:
    """An image's declared width and height, read from its header without decoding it."""
    from PIL import Image

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as picture:
            return picture.size
    except Exception:  # noqa: BLE001 - the size is only for the message
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _read_page(pages: _Pages, index: int, ocr: str, reader_box: list) -> dict:
    started = time.process_time()
    text = pages.text(index)
    answer = {"page": index + 1, "text": text or "", "scanned": False, "confidence": None}
    if ocr == "always" or (ocr == "auto" and not _usable(text or "")):
        if ocr == "never":  # pragma: no cover - excluded above
            pass
        image, dpi = pages.image(index)
        if not reader_box:
            from openimr.casefile.ocr import MissingModel, Reader

            try:
                reader_box.append(Reader())
            except MissingModel:
                raise
            except (RuntimeError, MemoryError, ImportError):  # how tesserocr fails to allocate
                raise MemoryError from None
        answer.update(reader_box[0].page(image, dpi))
        answer["scanned"] = True
    answer["cpu"] = round(time.process_time() - started, 4)
    return answer


def _view(job: dict) -> dict:
    """Write page `image` (0-based) of a file as a PNG at `out` for the page viewer: a PDF page
    rendered by pdfium at VIEW_DPI, an image's own frame (a TIFF fax page, a PNG or JPEG)
    reduced to VIEW_MAX_PIXELS; {"image": out} or {"error"}."""
    try:
        pages = _Pages(job["path"], job["kind"])
    except ValueError as error:
        return {"error": str(error)}
    except MemoryError:
        return {"error": "over the memory limit"}
    try:
        index = int(job["image"])
        if not 0 <= index < pages.n:
            return {"error": f"page {index + 1}: the file has {pages.n} pages"}
        if pages.kind == "pdf":
            page = pages.pdf[index]
            try:
                picture = page.render(scale=VIEW_DPI / 72, grayscale=True).to_pil()
            finally:
                page.close()
        else:
            picture, _dpi = pages.image(index)
        picture.thumbnail((VIEW_MAX_PIXELS, VIEW_MAX_PIXELS))
        if picture.mode not in ("1", "L", "RGB"):
            picture = picture.convert("RGB")
        temporary = job["out"] + f".{os.getpid()}.tmp"
        picture.save(temporary, format="PNG", optimize=False)
        os.replace(temporary, job["out"])  # a reader sees no image or the whole one
        return {"image": job["out"]}
    except MemoryError:
        return {"error": f"page {int(job['image']) + 1}: over the memory limit"}
    except Exception:  # noqa: BLE001 - a damaged page is that page's error
        return {"error": f"page {int(job['image']) + 1}: corrupt page"}
    finally:
        pages.close()


def worker_main() -> None:  # pragma: no cover - runs in the worker subprocess
    """Read {"path", "kind", "start", "ocr", "limits"}; answer {"pages": n}, then one frame a
    page, then {"done": true} (or {"error"} when the file cannot be opened)."""
    import resource

    parent, memory_mb, kernel = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    bounded.die_with_parent(parent, kernel)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import numpy  # noqa: F401 - loaded before the limit
    import pypdfium2  # noqa: F401
    import tesserocr  # noqa: F401 - its shared libraries are mapped before the limit
    from PIL import Image  # noqa: F401

    from openimr.casefile.ocr import MissingModel

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, resource.RLIM_INFINITY))
    stdin, stdout = sys.stdin.buffer.fileno(), sys.stdout.buffer
    _send(stdout, b'{"ready": true}')
    reader_box: list = []
    while True:
        try:
            job = json.loads(_receive(stdin))
        except EOFError:
            return
        lim = Limits(**job["limits"])
        if "image" in job:
            bounded._set_cpu_limit(lim.cpu_seconds)
            _send(stdout, json.dumps(_view(job)).encode())
            continue
        try:
            pages = _Pages(job["path"], job["kind"])
        except ValueError as error:
            _send(stdout, json.dumps({"error": str(error)}).encode())
            continue
        except MemoryError:
            _send(stdout, json.dumps({"error": f"over the memory limit of {memory_mb} MB"}).encode())
            continue
        _send(stdout, json.dumps({"pages": pages.n}).encode())
        if pages.n > lim.max_pages:
            pages.close()
            continue
        for index in range(job["start"], pages.n):
            bounded._set_cpu_limit(lim.cpu_seconds)
            try:
                answer = _read_page(pages, index, job["ocr"], reader_box)
            except MemoryError:
                answer = {"page": index + 1, "error": f"over the memory limit of {memory_mb} MB"}
            except PageRefused as refused:
                answer = {"page": index + 1, "error": str(refused)}
            except MissingModel as error:  # not the page's fault: said as it is
                answer = {"page": index + 1, "error": str(error)}
            except Exception:  # noqa: BLE001 - a damaged page costs that page only
                answer = {"page": index + 1, "error": "corrupt page"}
            _send(stdout, json.dumps(answer).encode())
        pages.close()
        _send(stdout, b'{"done": true}')


# --- the parent -----------------------------------------------------------------------------


class _Worker(bounded._Worker):
    """The letters' worker handle (its kill()), started on this module's worker_main."""

    MODULE = "openimr.casefile.worker"
    ENV = {"OMP_THREAD_LIMIT": "1", "OPENBLAS_NUM_THREADS": "1"}

    def __init__(self, memory_mb: int):  # noqa: D107 - the letters' worker start, this module's command
        super().__init__(memory_mb)
        self.fd = self.stdout.fileno()

    def ask(self, job: dict) -> None:
        _send(self.stdin, json.dumps(job).encode())

    def answer(self, seconds: float) -> dict:
        return json.loads(_receive(self.fd, time.monotonic() + seconds))

    def why_dead(self, lim: Limits, memory_mb: int) -> str:
        self.kill()
        if self.process.returncode == -signal.SIGXCPU:
            return f"over the CPU time limit of {lim.cpu_seconds} s"
        return f"over the memory limit of {memory_mb} MB"


def read_pages(path: str | Path, ocr: str = "auto", start: int = 0, lim: Limits | None = None):
    """Yield {"page", "text", "scanned", "confidence", ...} or {"page", "error"} for each page
    of a case file, from page `start` (0-based), as the worker reads them. CaseFileError when
    the file as a whole cannot be read (too big, too many pages, not a PDF or image,
    encrypted)."""
    path = Path(path)
    name = str(path)
    kind = sniff(path)
    lim = lim or casefile_limits()
    worker = _Worker(lim.memory_mb)
    try:
        index = start
        while True:
            worker.ask({"path": str(path.resolve()), "kind": kind, "start": index, "ocr": ocr,
                        "limits": asdict(lim)})
            try:
                head = worker.answer(lim.wall_seconds)
            except (TimeoutError, EOFError, OSError, ValueError):
                raise CaseFileError(name, "refused: " + worker.why_dead(lim, lim.memory_mb)) from None
            if "error" in head:
                raise CaseFileError(name, head["error"])
            total = head["pages"]
            if total > lim.max_pages:
                raise CaseFileError(name, f"refused: {total:,} pages, over the limit of {lim.max_pages:,} pages")
            died = False
            while index < total:
                try:
                    frame = worker.answer(lim.wall_seconds)
                except TimeoutError:
                    reason = f"over the time limit of {lim.wall_seconds} s"
                    worker.kill()
                except (EOFError, OSError, ValueError):
                    reason = worker.why_dead(lim, lim.memory_mb)
                else:
                    if frame.get("done"):
                        break
                    index = frame["page"]
                    frame["of"] = total
                    yield frame
                    continue
                index += 1
                yield {"page": index, "error": reason, "of": total}
                died = True
                break
            if not died:
                try:
                    worker.answer(lim.wall_seconds)  # {"done"}
                except (TimeoutError, EOFError, OSError, ValueError):
                    pass
                return
            worker = _Worker(lim.memory_mb)
            if index >= total:
                return
    finally:
        worker.kill()


def render_page(path: str | Path, page: int, out: str | Path, lim: Limits | None = None) -> Path:
    """Page `page` (1-based) of a case file as a PNG image at `out`, drawn in a bounded worker
    (memory, CPU and wall time as for reading); CaseFileError naming the file otherwise."""
    path, out = Path(path), Path(out)
    kind = sniff(path)
    lim = lim or casefile_limits()
    worker = _Worker(lim.memory_mb)
    try:
        worker.ask({"path": str(path.resolve()), "kind": kind, "image": page - 1, "out": str(out),
                    "limits": asdict(lim)})
        try:
            answer = worker.answer(lim.wall_seconds)
        except TimeoutError:
            raise CaseFileError(str(path), f"page {page}: over the time limit of {lim.wall_seconds} s") from None
        except (EOFError, OSError, ValueError):
            raise CaseFileError(str(path), f"page {page}: " + worker.why_dead(lim, lim.memory_mb)) from None
    finally:
        worker.kill()
    if "error" in answer:
        raise CaseFileError(str(path), answer["error"])
    return out


if __name__ == "__main__":  # pragma: no cover
    worker_main()
