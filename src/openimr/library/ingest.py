"""Ingest letters into the library: parse in parallel, classify, embed, store.

Sources are PDFs, text files and JSON Lines of letters (one `Letter` per line); folders are
walked recursively. Parsing, classifying and embedding run in worker processes (or on a
Dask distributed cluster); the parent writes whole letters in batches, one transaction per
batch, so an interrupted run leaves only complete letters and a second run finishes the
job. A letter is stored once per case number (else per content hash): the same letter
again is "unchanged", a changed one replaces its earlier version.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUFFIXES = {".pdf": "pdf", ".txt": "text", ".text": "text", ".jsonl": "jsonl", ".ndjson": "jsonl"}
CHUNK = int(os.environ.get("OPENIMR_INGEST_CHUNK", "64"))  # files handed to a worker at a time
BATCH = int(os.environ.get("OPENIMR_INGEST_BATCH", "500"))


@dataclass
class Unit:
    """One letter to ingest: a file, or one line of a JSON Lines file."""

    name: str
    kind: str  # "pdf" | "text" | "json"
    payload: bytes | str
    source_hash: str


@dataclass
class Summary:
    """What an ingest run did."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
            "failed": [{"source": s, "reason": r} for s, r in self.failed],
        }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_sources(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files to read (folders walked recursively) and the paths that cannot be read."""
    files, problems = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            if path.suffix.lower() in SUFFIXES:
                files.append(path)
            else:
                problems.append((str(path), f"unsupported file type {path.suffix or '(none)'!r}: expected .pdf, .txt or .jsonl"))
        else:
            problems.append((str(path), "no such file or folder"))
    return files, problems


def iter_units(files: Iterable[Path]) -> Iterator[Unit | tuple[str, str]]:
    """Units of work from files, or (name, reason) for a file that cannot be read."""
    for path in files:
        kind = SUFFIXES[path.suffix.lower()]
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield (str(path), f"cannot read: {exc.strerror or exc}")
            continue
        if kind == "jsonl":
            for number, line in enumerate(data.splitlines(), start=1):
                if line.strip():
                    yield Unit(f"{path}:{number}", "json", line.decode("utf-8", "replace"), _sha(line))
        elif kind == "text":
            yield Unit(str(path), "text", data.decode("utf-8", "replace"), _sha(data))
        else:
            yield Unit(str(path), "pdf", data, _sha(data))


# --- work done in the workers ------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    from pydantic import ValidationError

    from openimr.models import first_error

    if isinstance(exc, ValidationError):
        return first_error(exc, "letter")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def parse_unit(unit: Unit):
    """The Letter in one unit of work (raises on bad input)."""
    from openimr.models import Letter

    if unit.kind == "json":
        return Letter.model_validate_json(unit.payload)
    from openimr.letters.read import parse_text
    from openimr.letters.read.source import bytes_text

    if unit.kind == "text":
        return parse_text(str(unit.payload), unit.name)
    payload = unit.payload if isinstance(unit.payload, bytes) else unit.payload.encode("utf-8")
    return parse_text(bytes_text(payload, unit.name), unit.name)  # PDF text read bounded


def prepare_chunk(units: list[Unit], embed: bool = True) -> list[tuple[str, str, Any]]:
    """Parse, classify and embed a chunk: ("ok", name, record) or ("error", name, reason)."""
    from openimr.library.records import letter_record

    results: list[tuple[str, str, Any]] = []
    for unit in units:
        try:
            letter = parse_unit(unit)
            results.append(("ok", unit.name, letter_record(letter, unit.name, unit.source_hash)))
        except Exception as exc:  # every bad input becomes a one-line reason
            message = _one_line(exc)
            if message.startswith(unit.name):
                message = message[len(unit.name) :].lstrip(": ")
            results.append(("error", unit.name, message))
    if embed:
        from openimr.library.records import embed_records

        embed_records([r[2] for r in results if r[0] == "ok"])
    return results


# --- the parent: dispatch and store --------------------------------------------------------


def _chunks(units: Iterable[Unit], size: int) -> Iterator[list[Unit]]:
    chunk: list[Unit] = []
    for unit in units:
        chunk.append(unit)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _local_results(chunks: Iterator[list[Unit]], workers: int, embed: bool) -> Iterator[list]:
    if workers <= 1:
        for chunk in chunks:
            yield prepare_chunk(chunk, embed)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from openimr.letters.read.bounded import die_with_parent, started_from_main_thread

    # fork: workers start at once with the reader imported; they use none of the parent's
    # threads or connections (the CLI starts its progress bar only once results arrive)
    context = multiprocessing.get_context("fork")
    # each worker dies with this process (a kill -9 of `openimr ingest` leaves no orphan)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=die_with_parent,
                             initargs=(os.getpid(), started_from_main_thread())) as pool:
        yield from _bounded(lambda c: pool.submit(prepare_chunk, c, embed), chunks, workers * 3, lambda fs: wait(fs, return_when=FIRST_COMPLETED))


def _cluster_results(chunks: Iterator[list[Unit]], address: str, embed: bool) -> Iterator[list]:
    from distributed import Client, wait

    with Client(address, timeout="20s") as client:
        slots = max(2, 3 * sum(client.nthreads().values()))
        yield from _bounded(
            lambda c: client.submit(prepare_chunk, c, embed, pure=False), chunks, slots, lambda fs: wait(fs, return_when="FIRST_COMPLETED")
        )


def _bounded(submit: Callable, chunks: Iterator[list[Unit]], slots: int, wait_first: Callable) -> Iterator[list]:
    """Keep at most `slots` chunks in flight; yield each chunk's results as it completes."""
    pending = set()
    for chunk in chunks:
        pending.add(submit(chunk))
        if len(pending) >= slots:
            done, pending = wait_first(pending)
            pending = set(pending)
            for future in done:
                yield future.result()
    while pending:
        done, pending = wait_first(pending)
        pending = set(pending)
        for future in done:
            yield future.result()


def count_units(files: list[Path]) -> int:
    """How many letters the files hold (JSON Lines: their non-blank lines)."""
    total = 0
    for path in files:
        if SUFFIXES[path.suffix.lower()] != "jsonl":
            total += 1
            continue
        try:
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        except OSError:
            total += 1
    return total


@dataclass
class _Run:
    """State of one ingest run: the summary and how many letters are handled so far."""

    url: str
    summary: Summary
    total: int
    progress: Callable[[int, int], None] | None
    done: int = 0

    def advance(self, count: int) -> None:
        self.done += count
        if self.progress:
            self.progress(self.done, self.total)

    def fresh_chunks(self, files: list[Path]) -> Iterator[list[Unit]]:
        """Chunks of units still to parse: read lazily, those already stored skipped."""
        from openimr.db import session_scope
        from openimr.library.store import known_source_hashes

        for chunk in _chunks(self._units(files), CHUNK):
            with session_scope(self.url) as session:
                known = known_source_hashes(session, [u.source_hash for u in chunk])
            fresh = [u for u in chunk if u.source_hash not in known]
            self.summary.unchanged += len(chunk) - len(fresh)
            self.advance(len(chunk) - len(fresh))
            if fresh:
                yield fresh

    def _units(self, files: list[Path]) -> Iterator[Unit]:
        for unit in iter_units(files):
            if isinstance(unit, tuple):
                self.summary.failed.append(unit)
                self.advance(1)
            else:
                yield unit


def ingest(
    paths: Iterable[str | Path],
    url: str,
    workers: int | None = None,
    cluster: str | None = None,
    embed: bool = True,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> Summary:
    """Ingest letters from files/folders into the library at `url`; return the summary.

    Files are read as the work goes (memory stays bounded); `progress(done, total)` is
    called as letters are handled.
    """
    from openimr.db import migrate

    migrate(url)
    summary = Summary()
    files, problems = find_sources(paths)
    summary.failed += problems
    run = _Run(url, summary, count_units(files), progress)
    run.advance(0)
    chunks = run.fresh_chunks(files)
    workers = workers or os.cpu_count() or 1
    stream = _cluster_results(chunks, cluster, embed) if cluster else _local_results(chunks, workers, embed)
    batch: list[dict] = []
    for results in stream:
        for status, name, value in results:
            if status == "ok":
                batch.append(value)
            else:
                summary.failed.append((name, value))
        if len(batch) >= batch_size:
            _store(url, batch, summary)
            batch = []
        run.advance(len(results))
    if batch:
        _store(url, batch, summary)
    return summary


def _store(url: str, batch: list[dict], summary: Summary) -> None:
    from openimr.db import session_scope
    from openimr.library.store import store_records

    with session_scope(url) as session:
        outcome = store_records(session, batch)
    summary.added += len(outcome["added"])
    summary.replaced += len(outcome["replaced"])
    summary.unchanged += len(outcome["unchanged"])
