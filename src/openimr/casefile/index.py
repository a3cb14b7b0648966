"""Index a case file: read its pages (bounded worker, OCR where needed), split, type, date,
attribute, deduplicate, and read the chronology and drafted summary. The one function the
command line, the benchmark and a Dask cluster call."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Iterator

from openimr.casefile.worker import CaseFileError, read_pages

OCR_MODES = ("auto", "always", "never")


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


def index_file(path: "str | Path", ocr: str = "auto",
               progress: Callable[[int, int | None], None] | None = None, keep_pages: bool = False,
               keep: list | None = None) -> dict:
    """The index of one case file; CaseFileError when the file cannot be read at all."""
    if ocr not in OCR_MODES:
        raise CaseFileError("--ocr", f"must be one of {', '.join(OCR_MODES)}, not {ocr!r}")
    frames = []
    for frame in read_pages(path, ocr=ocr):
        if frame.get("error") == "corrupt page":
            frame["error"] = f"corrupt page {frame['page']}"
        frames.append(frame)
        if progress:
            progress(frame["page"], None)
    out = index_frames(str(path), frames, keep)
    if keep_pages:  # each page's text and OCR figures, for the benchmark (not in the contract)
        out["_pages"] = frames
    return out


def _safe(path: str, ocr: str) -> dict:
    try:
        return index_file(path, ocr)
    except CaseFileError as error:
        return {"file": path, "error": str(error)}


def index_files(paths: Iterable[str], ocr: str = "auto", cluster: str | None = None) -> Iterator[dict]:
    """Each file's index (or {"file", "error"}), in the order given; on a Dask cluster when
    `cluster` is its scheduler's address (the workers must see the same paths)."""
    paths = [str(p) for p in paths]
    if not cluster:
        for path in paths:
            yield _safe(path, ocr)
        return
    from distributed import Client

    with Client(cluster, timeout="20s") as client:
        futures = client.map(_safe, paths, ocr=ocr, pure=False)
        for future in futures:
            yield future.result()
