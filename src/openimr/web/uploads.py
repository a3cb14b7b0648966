"""Uploaded files: size and type checks with a clear one-line message."""

from __future__ import annotations

from starlette.datastructures import UploadFile  # what form parsing gives (FastAPI's UploadFile is a subclass)

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


MAX_FIELD = 4096  # a form field other than the file (the CSRF token): at most this many bytes


def _mb(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB"


async def stream_casefile(request, target, csrf=None, field: str = "file") -> tuple[str, str, int]:
    """Copy the `field` file of a multipart request body to `target` as it arrives, parsing
    the body ourselves (nothing spooled elsewhere, never whole in memory) within
    bounds.MAX_CASEFILE_BYTES: (file name, SHA-256, bytes). `csrf(fields)` is called with the
    form fields read before the file, as soon as the file begins (a wrong token writes
    nothing). ValueError naming the file and the limit when it passes it; the rest of the body
    is then read and dropped (up to the limit again) so that the browser gets the answer."""
    import hashlib

    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    from openimr import bounds

    limit = bounds.MAX_CASEFILE_BYTES
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise ValueError(f"{field}: choose a file to upload (a multipart/form-data body)")
    state: dict = {"name": None, "headers": {}, "header": b"", "value": b"", "field": None, "data": b"",
                   "fields": {}, "size": 0, "over": False, "file": False, "done": False}
    digest = hashlib.sha256()
    out = open(target, "wb")  # noqa: SIM115 - closed below, written from the parser's callbacks

    def header_field(data, start, end):
        state["header"] += data[start:end]

    def header_value(data, start, end):
        state["value"] += data[start:end]

    def header_end():
        state["headers"][state["header"].lower()] = state["value"]
        state["header"], state["value"] = b"", b""

    def headers_finished():
        _kind, disposition = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["headers"] = {}
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        state["field"], state["data"], state["file"] = name, b"", False
        if name == field and b"filename" in disposition and not state["done"]:
            filename = disposition[b"filename"].decode("utf-8", "replace")
            state["name"] = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
            state["file"] = True
            if csrf is not None:
                csrf(state["fields"])

    def part_data(data, start, end):
        if state["file"]:
            if state["over"]:
                return
            state["size"] += end - start
            if state["size"] > limit:
                state["over"] = True
                return
            chunk = data[start:end]
            digest.update(chunk)
            out.write(chunk)
        elif len(state["data"]) + end - start <= MAX_FIELD:
            state["data"] += data[start:end]

    def part_end():
        if state["file"]:
            state["done"] = True
        elif state["field"] and state["field"] not in state["fields"]:
            state["fields"][state["field"]] = state["data"].decode("utf-8", "replace")
        state["file"] = False

    parser = MultipartParser(options[b"boundary"], {
        "on_header_field": header_field, "on_header_value": header_value, "on_header_end": header_end,
        "on_headers_finished": headers_finished, "on_part_data": part_data, "on_part_end": part_end})
    dropped = 0
    try:
        async for chunk in request.stream():
            if state["over"]:  # answer only once the browser has sent its file
                dropped += len(chunk)
                if dropped > limit:
                    break
                continue
            parser.write(chunk)
        if not state["over"]:
            parser.finalize()
    except FormParserError:  # a malformed body
        raise ValueError(f"{field}: the form is not valid multipart data") from None
    finally:
        out.close()
    if state["name"] is None:
        if csrf is not None:
            csrf(state["fields"])
        raise ValueError(f"{field}: choose a file to upload")
    if state["over"]:
        raise ValueError(f"{state['name']}: too large: case files are limited to {_mb(limit)}; nothing was stored")
    if not state["size"]:
        raise ValueError(f"{state['name']}: the file is empty")
    return state["name"], digest.hexdigest(), state["size"]
