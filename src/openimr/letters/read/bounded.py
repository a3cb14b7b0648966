"""Bounded PDF text extraction: a persistent pool of worker subprocesses with resource limits.

A PDF is hostile input: a file of a hundred kilobytes can hold content streams that inflate
to tens of millions of characters, or a page tree of a hundred thousand pages. So PDF text is
never extracted in the calling process. A worker (`python -m openimr.letters.read.bounded`)
runs with an address-space limit (RLIMIT_AS) and, per document, a CPU-time limit
(RLIMIT_CPU); the parent waits no longer than the wall-time limit and kills a worker that
overruns. The worker itself stops at the page and character limits. Past any limit the
caller gets one LetterError naming the file and the limit; nothing is returned to store.

Workers are started once and reused (a pool per process, sized for the threads that call
it), so a letter costs one round trip over a pipe, not a process start. A worker watches
its parent and exits when the parent is gone (no orphans after a kill -9).

The limits are `LIMITS` below; each can be changed with an environment variable
(OPENIMR_PDF_MAX_PAGES, OPENIMR_PDF_MAX_CHARS, OPENIMR_PDF_MEMORY_MB, OPENIMR_PDF_CPU_SECONDS,
OPENIMR_PDF_WALL_SECONDS).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import IO

from openimr.letters.read.errors import LetterError


@dataclass(frozen=True)
class Limits:
    """What reading one PDF may cost."""

    max_pages: int = 2_000  # a letter is 2-10 pages; a medical record file a few hundred
    max_chars: int = 5_000_000  # all pages' text together (a 1,000-page record is ~3 million)
    memory_mb: int = 768  # address space of a worker (RLIMIT_AS)
    cpu_seconds: int = 30  # CPU time per document (RLIMIT_CPU)
    wall_seconds: int = 60  # elapsed time per document, then the worker is killed

    @classmethod
    def from_env(cls) -> Limits:
        base = cls()
        names = {"max_pages": "MAX_PAGES", "max_chars": "MAX_CHARS", "memory_mb": "MEMORY_MB",
                 "cpu_seconds": "CPU_SECONDS", "wall_seconds": "WALL_SECONDS"}
        values = {}
        for field, suffix in names.items():
            raw = os.environ.get(f"OPENIMR_PDF_{suffix}")
            if raw:
                try:
                    values[field] = max(1, int(raw))
                except ValueError:
                    raise LetterError(f"OPENIMR_PDF_{suffix}", f"must be a whole number, not {raw!r}") from None
        return replace(base, **values)


def limits() -> Limits:
    """The limits in force (defaults, or the environment's)."""
    return Limits.from_env()


# --- the wire: length-prefixed frames over the worker's stdin/stdout -----------------------

_HEADER = struct.Struct("!I")


def _send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    """Read `size` bytes from a file descriptor, waiting no later than `deadline`."""
    import select

    chunks, left = [], size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int, deadline: float | None = None) -> bytes:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return _read_exact(fd, size, deadline)


# --- the worker process -------------------------------------------------------------------


class _Limit(Exception):
    """A limit was reached inside the worker: (which, detail)."""


def _extract(data: bytes, lim: Limits) -> str:
    """The text of a PDF, page after page, stopping at the page and character limits.
    pypdfium2 first, pypdf as a fallback for files pdfium cannot open."""
    try:
        return _pdfium_text(data, lim)
    except (_Limit, MemoryError):
        raise
    except Exception as first:  # noqa: BLE001 - any other pdfium failure falls back to pypdf
        try:
            return _pypdf_text(data, lim)
        except (_Limit, MemoryError):
            raise
        except Exception:  # noqa: BLE001
            raise ValueError(f"unreadable PDF ({type(first).__name__})") from None


def _check_pages(count: int, lim: Limits) -> None:
    if count > lim.max_pages:
        raise _Limit(f"{count} pages, over the limit of {lim.max_pages:,} pages")


class _Text:
    """Pages of text gathered under the character limit."""

    def __init__(self, lim: Limits):
        self.lim = lim
        self.pages: list[str] = []
        self.total = 0

    def add(self, text: str) -> None:
        self.total += len(text) + 1
        if self.total > self.lim.max_chars:
            raise _Limit(f"over the limit of {self.lim.max_chars:,} characters of text")
        self.pages.append(text)

    def count(self, chars: int) -> None:
        """Refuse before extracting a page whose character count alone passes the limit."""
        if self.total + chars > self.lim.max_chars:
            raise _Limit(f"over the limit of {self.lim.max_chars:,} characters of text")

    def text(self) -> str:
        return "\n".join(self.pages)


def _pdfium_text(data: bytes, lim: Limits) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        _check_pages(len(pdf), lim)
        out = _Text(lim)
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            out.count(textpage.count_chars())
            out.add(textpage.get_text_range())
            textpage.close()
            page.close()
        return out.text()
    finally:
        pdf.close()


def _pypdf_text(data: bytes, lim: Limits) -> str:
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings would go to stderr
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    _check_pages(len(reader.pages), lim)
    out = _Text(lim)
    for page in reader.pages:
        out.add(page.extract_text() or "")
    return out.text()


def _watch_parent(parent: int) -> None:
    """Exit as soon as the parent process is gone (its pid is no longer our parent)."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.2)


def die_with_parent(parent: int, kernel: bool = True) -> None:
    """End this process when process `parent` ends: a watch thread sees the parent go (our
    parent pid changes), and with `kernel` the kernel also kills us at once (Linux
    PR_SET_PDEATHSIG). The kernel's signal follows the parent *thread* that started us, so
    `kernel` only when that was the parent's main thread (a server's worker threads come
    and go)."""
    if kernel:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            pass
    if os.getppid() != parent:
        os._exit(0)
    threading.stack_size(256 * 1024)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def started_from_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _set_cpu_limit(seconds: int) -> None:
    """RLIMIT_CPU counts the whole process's life: allow `seconds` more from now."""
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(spent) + seconds + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def worker_main() -> None:  # pragma: no cover - runs in the worker subprocess
    """The worker: read (limits, PDF bytes) frames, answer with a JSON frame each."""
    import resource

    parent, memory_mb, kernel = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    die_with_parent(parent, kernel)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; it ends us
    import pypdf  # noqa: F401
    import pypdfium2  # noqa: F401 - loaded before the limit, once, like the parent's pool expects

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, resource.RLIM_INFINITY))
    stdin, stdout = sys.stdin.buffer.fileno(), sys.stdout.buffer
    _send(stdout, b'{"ready": true}')
    while True:
        try:
            head = json.loads(_receive(stdin))
            data = _receive(stdin)
        except EOFError:
            return
        lim = Limits(**head["limits"])
        _set_cpu_limit(lim.cpu_seconds)
        try:
            answer = {"text": _extract(data, lim)}
        except _Limit as limit:
            answer = {"limit": str(limit)}
        except MemoryError:
            answer = {"limit": f"over the memory limit of {memory_mb} MB"}
        except ValueError as error:
            answer = {"error": str(error)}
        except Exception as error:  # noqa: BLE001 - any other failure is an unreadable PDF
            answer = {"error": f"unreadable PDF ({type(error).__name__})"}
        del data
        try:
            _send(stdout, json.dumps(answer).encode())
        except MemoryError:
            _send(stdout, json.dumps({"limit": f"over the memory limit of {memory_mb} MB"}).encode())


# --- the parent: a pool of workers ---------------------------------------------------------


class _Worker:
    """One worker subprocess (`python -m MODULE parent_pid memory_mb main_thread`) and its pipes."""

    MODULE = "openimr.letters.read.bounded"
    ENV: dict[str, str] = {}

    def __init__(self, memory_mb: int):
        self.memory_mb = memory_mb
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.MODULE, str(os.getpid()), str(memory_mb),
             "1" if started_from_main_thread() else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore", **self.ENV},
        )
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:  # pragma: no cover - both were asked for as pipes
            self.process.kill()
            raise OSError("the worker was started without its pipes")
        self.stdin: IO[bytes] = stdin
        self.stdout: IO[bytes] = stdout
        _receive(self.stdout.fileno(), time.monotonic() + 60)  # {"ready": true}

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.stdin, self.stdout):
            try:
                stream.close()
            except OSError:  # pragma: no cover
                pass

    def run(self, data: bytes, lim: Limits) -> dict:
        """Send one document; the worker's answer, or a {"limit"} when it died or overran."""
        deadline = time.monotonic() + lim.wall_seconds
        try:
            _send(self.stdin, json.dumps({"limits": asdict(lim)}).encode())
            _send(self.stdin, data)
            return json.loads(_receive(self.stdout.fileno(), deadline))
        except TimeoutError:
            self.kill()
            return {"limit": f"over the time limit of {lim.wall_seconds} s", "dead": True}
        except (EOFError, BrokenPipeError, OSError, ValueError):
            self.process.wait()
            code = self.process.returncode
            self.kill()
            if code == -signal.SIGXCPU:
                return {"limit": f"over the CPU time limit of {lim.cpu_seconds} s", "dead": True}
            # under RLIMIT_AS, an allocation the PDF library cannot make ends the process
            return {"limit": f"over the memory limit of {self.memory_mb} MB", "dead": True}


class Pool:
    """Worker subprocesses shared by the threads of one process."""

    def __init__(self, size: int):
        self.size = size
        self.idle: list[_Worker] = []
        self.started = 0
        self.lock = threading.Condition()
        self.pid = os.getpid()

    def _take(self, memory_mb: int) -> _Worker:
        with self.lock:
            while True:
                while self.idle:
                    worker = self.idle.pop()
                    if worker.alive() and worker.memory_mb == memory_mb:
                        return worker
                    self.started -= 1
                    worker.kill()
                if self.started < self.size:
                    self.started += 1
                    break
                self.lock.wait()
        try:
            return _Worker(memory_mb)
        except BaseException:
            with self.lock:
                self.started -= 1
                self.lock.notify()
            raise

    def _give(self, worker: _Worker | None) -> None:
        with self.lock:
            if worker is not None and worker.alive():
                self.idle.append(worker)
            else:
                self.started -= 1
            self.lock.notify()

    def extract(self, data: bytes, lim: Limits) -> dict:
        worker = self._take(lim.memory_mb)
        answer = None
        try:
            answer = worker.run(data, lim)
        finally:
            self._give(None if answer is None or answer.get("dead") else worker)
        return answer

    def close(self) -> None:
        with self.lock:
            workers, self.idle, self.started = self.idle, [], 0
        for worker in workers:
            worker.kill()


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> Pool:
    """This process's pool (a forked child gets a new one of its own)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL.pid != os.getpid():
            size = int(os.environ.get("OPENIMR_PDF_WORKERS", "0")) or min(4, os.cpu_count() or 1)
            _POOL = Pool(size)
        return _POOL


def _forget_pool_in_child() -> None:
    global _POOL
    if _POOL is not None:  # the parent's workers stay the parent's; close our copies of the pipes
        for worker in _POOL.idle:
            for stream in (worker.stdin, worker.stdout):
                try:
                    stream.close()
                except OSError:  # pragma: no cover
                    pass
    _POOL = None


os.register_at_fork(after_in_child=_forget_pool_in_child)


def pdf_text(data: bytes, name: str, lim: Limits | None = None) -> str:
    """The text of a PDF read in a bounded worker; LetterError naming `name` and the limit."""
    lim = lim or limits()
    answer = pool().extract(data, lim)
    if "text" in answer:
        return answer["text"]
    if "limit" in answer:
        raise LetterError(name, f"refused: {answer['limit']}")
    raise LetterError(name, answer.get("error") or "unreadable PDF")


if __name__ == "__main__":  # pragma: no cover
    worker_main()
