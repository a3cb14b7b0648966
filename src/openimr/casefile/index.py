"""Index a case file: read its pages (bounded worker, OCR where needed), split, type, date,
attribute, deduplicate, and read the chronology and drafted summary. The one function the
command line, the benchmark and a Dask cluster call."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from openimr.casefile.worker import CaseFileError, read_pages

OCR_MODES = ("auto", "always", "never")
PageProgress = Callable[[int, int], None]  # (page, pages) of one file
FileProgress = Callable[[str, int, int], None]  # (file, page, pages)


def for_file(progress: FileProgress | None, path: str) -> PageProgress | None:
    """A progress(file, page, pages) as one file's progress(page, pages)."""
    if progress is None:
        return None
    return lambda page, pages: progress(path, page, pages)


def index_frames(name: str, frames: list[dict], keep: list | None = None) -> dict:
    """The index of a case file from its page frames (the worker's answers); with `keep`, the
    Document objects are appended to it (to store them)."""
    from openimr.casefile.chronology import read
    from openimr.casefile.split import split

    documents = split(frames)
    if keep is not None:
        keep.extend(documents)
    out = {"file": name, "pages": len(frames),
           "documents": [d.as_json() for d in documents]}
    out.update(read(documents))
    out["ocr"] = [{"page": f["page"], "confidence": f.get("confidence"), "rotation": f.get("rotation", 0),
                   "skew": f.get("skew", 0.0)} for f in frames if f.get("scanned")]
    out["errors"] = [f"{name}: page {f['page']}: {f['error']}" for f in frames if f.get("error")]
    return out


def _checkpoint(folder: Path, path: Path, ocr: str) -> Path:
    """Where the pages read so far of this file (its path, size, time and OCR mode) are kept."""
    import hashlib

    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{ocr}"
    return folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".jsonl")


def _saved(checkpoint: Path | None) -> list[dict]:
    import json

    if checkpoint is None or not checkpoint.exists():
        return []
    frames: list[dict] = []
    for line in checkpoint.read_text(encoding="utf-8").splitlines():
        try:
            frame = json.loads(line)
        except ValueError:  # the line being written when the work was interrupted
            break
        if frame.get("page") != len(frames) + 1:
            break
        frames.append(frame)
    return frames


def index_file(path: str | Path, ocr: str = "auto",
               progress: PageProgress | None = None, keep_pages: bool = False,
               keep: list | None = None, resume: str | Path | None = None) -> dict:
    """The index of one case file; CaseFileError when the file cannot be read at all.
    `progress(page, pages)` after each page; with `resume` (a folder), each page read is kept
    there as it is read, and an interrupted indexing of the same file goes on where it stopped."""
    import json

    if ocr not in OCR_MODES:
        raise CaseFileError("--ocr", f"must be one of {', '.join(OCR_MODES)}, not {ocr!r}")
    path = Path(path)
    checkpoint = None
    if resume is not None:
        Path(resume).mkdir(parents=True, exist_ok=True)
        checkpoint = _checkpoint(Path(resume), path, ocr)
    frames = _saved(checkpoint)
    resumed = len(frames)
    total = frames[-1].get("of") if frames else None
    if total is None or len(frames) < total:
        sink = checkpoint.open("w", encoding="utf-8") if checkpoint else None
        try:
            if sink:  # rewrite what was kept (a torn last line is dropped), then append
                for frame in frames:
                    sink.write(json.dumps(frame) + "\n")
                sink.flush()
            for frame in read_pages(path, ocr=ocr, start=len(frames)):
                if frame.get("error") == "corrupt page":
                    frame["error"] = f"corrupt page {frame['page']}"
                frames.append(frame)
                if sink:
                    sink.write(json.dumps(frame) + "\n")
                    sink.flush()
                if progress:
                    progress(frame["page"], frame.get("of") or 0)
        finally:
            if sink:
                sink.close()
    out = index_frames(str(path), frames, keep)
    if checkpoint is not None:
        out["resumed_pages"] = resumed  # pages taken from the checkpoint, not read again
    if keep_pages:  # each page's text and OCR figures, for the benchmark (not in the contract)
        out["_pages"] = frames
    return out


def _safe(path: str, ocr: str, resume: str | None = None, progress: PageProgress | None = None) -> dict:
    try:
        return index_file(path, ocr, resume=resume, progress=progress)
    except CaseFileError as error:
        return {"file": path, "error": str(error)}


def _pages_on_worker(path: str, ocr: str, resume: str | None) -> dict:
    """On a Dask worker: the page frames of one file ({"frames", "resumed_pages"}), or
    {"reason"} when it cannot be read (the error's one line travels, not the exception)."""
    try:
        out = index_file(path, ocr, resume=resume, keep_pages=True)
    except CaseFileError as error:
        return {"reason": error.reason}
    return {"frames": out["_pages"], "resumed_pages": out.get("resumed_pages")}


def index_on_cluster(path: str | Path, cluster: str, ocr: str = "auto", keep: list | None = None,
                     resume: str | Path | None = None) -> dict:
    """`index_file` with the pages read on a Dask cluster (its scheduler's address; the worker
    must see the same path), split and kept here (`keep`: the Documents, to store them);
    CaseFileError as `index_file`. No progress by page: the file comes back whole."""
    from distributed import Client

    with Client(cluster, timeout="20s") as client:
        got = client.submit(_pages_on_worker, str(path), ocr, str(resume) if resume else None, pure=False).result()
    if "reason" in got:
        raise CaseFileError(str(path), got["reason"])
    out = index_frames(str(path), got["frames"], keep)
    if got.get("resumed_pages") is not None:
        out["resumed_pages"] = got["resumed_pages"]
    return out


def index_files(paths: Iterable[str], ocr: str = "auto", cluster: str | None = None,
                resume: str | None = None, progress: FileProgress | None = None) -> Iterator[dict]:
    """Each file's index (or {"file", "error"}), in the order given; on a Dask cluster when
    `cluster` is its scheduler's address (the workers must see the same paths)."""
    paths = [str(p) for p in paths]
    if not cluster:
        for path in paths:
            yield _safe(path, ocr, resume, for_file(progress, path))
        return
    from distributed import Client

    with Client(cluster, timeout="20s") as client:
        futures = client.map(_safe, paths, ocr=ocr, resume=resume, pure=False)
        for future in futures:
            yield future.result()
