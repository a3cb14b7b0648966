"""Uploaded files: size and type checks with a clear one-line message."""

from __future__ import annotations

from fastapi import UploadFile

from openimr.web.limits import MAX_UPLOAD_BYTES as MAX_BYTES

TYPES = {".pdf": "PDF", ".txt": "text"}


async def read_upload(upload: UploadFile | None, field: str = "file") -> tuple[str, bytes, str]:
    """(file name, bytes, kind "pdf"|"text"); ValueError naming the file and the reason."""
    if upload is None or not upload.filename:
        raise ValueError(f"{field}: choose a file to upload")
    name = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    content = await upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise ValueError(f"{name}: too large (over {MAX_BYTES // (1024 * 1024)} MB)")
    if not content:
        raise ValueError(f"{name}: the file is empty")
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in TYPES:
        raise ValueError(f"{name}: unsupported type; upload a PDF or a .txt file")
    if suffix == ".pdf":
        if not content.startswith(b"%PDF-"):
            raise ValueError(f"{name}: not a PDF (the file does not start with %PDF-)")
        return name, content, "pdf"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text") from None
    return name, content, "text"


def upload_text(name: str, content: bytes, kind: str) -> str:
    """The text of an uploaded record."""
    from openimr.letters.read.source import pdf_text  # bounded: pages, characters, memory, time

    text = pdf_text(content, name) if kind == "pdf" else content.decode("utf-8")
    if not text.strip():
        raise ValueError(f"{name}: no text found (a scanned PDF without a text layer?)")
    return text


async def attach_document(db, user, case_id: int, kind: str, upload: UploadFile | None):
    """Attach an uploaded record to a case (intake and admin): (case, file name, text)."""
    from openimr.cases.record import DOCUMENT_KINDS
    from openimr.web import workflow

    case = workflow.load_case(db, user, case_id)
    workflow.require_role(user, "intake", "admin")
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"kind: must be {', '.join(DOCUMENT_KINDS[:-1])} or {DOCUMENT_KINDS[-1]}")
    name, content, file_kind = await read_upload(upload)
    text = upload_text(name, content, file_kind)
    workflow.add_document(db, user, case, kind, name, text)
    db.commit()
    return case, name, text


CHUNK = 1024 * 1024


async def stream_to_disk(upload: UploadFile | None, target, field: str = "file") -> tuple[str, str, int]:
    """Copy an uploaded file to `target` a chunk at a time (never whole in memory), within
    MAX_BYTES: (file name, SHA-256, bytes); ValueError naming the file and the reason."""
    import hashlib

    if upload is None or not upload.filename:
        raise ValueError(f"{field}: choose a file to upload")
    name = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > MAX_BYTES:
                raise ValueError(f"{name}: too large (over {MAX_BYTES // (1024 * 1024)} MB)")
            digest.update(chunk)
            out.write(chunk)
    if not size:
        raise ValueError(f"{name}: the file is empty")
    return name, digest.hexdigest(), size
