"""The web's limits: the ranges of path and query parameters, and a limit on request bodies
whatever the transfer encoding (pure ASGI middleware).

A declared Content-Length over the limit is refused before any byte is read. A body without
one (chunked transfer encoding) is counted as it arrives: once past the limit the
application gets no more of it, and whatever it was about to answer is replaced by the
413 — one line, JSON for the API, plain text for pages.
"""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import Path, Query

from openimr.bounds import (
    MAX_BODY_BYTES,
    MAX_FILTER,
    MAX_ID,
    MAX_ITEM_INDEX,
    MAX_MESSAGE,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY,
    MAX_UPLOAD_BYTES,
)

# The path and query parameters of every route, with their ranges from openimr.bounds (so they
# show in the OpenAPI schema and a value out of range is a 422 naming the parameter).
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="a case's id")]
DeterminationId = Annotated[int, Path(ge=1, le=MAX_ID, description="a signed determination's id")]
LetterId = Annotated[int, Path(ge=1, le=MAX_ID, description="a library letter's id")]
DocumentId = Annotated[int, Path(ge=1, le=MAX_ID, description="a stored document's id")]
FilePage = Annotated[int, Path(ge=1, le=MAX_ID, description="a page of the case file, from 1")]
ItemIndex = Annotated[int, Path(ge=0, le=MAX_ITEM_INDEX, description="a disputed item's index, from 0")]
SimilarTo = Annotated[int, Query(ge=0, le=MAX_ID, description="a library item's id: list its nearest precedents (0: none)")]
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description="the page of the list, from 1")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="rows per page")]
Filter = Annotated[str, Query(max_length=MAX_FILTER)]
SearchText = Annotated[str, Query(max_length=MAX_QUERY)]
Message = Annotated[str, Query(max_length=MAX_MESSAGE)]


class _TooLarge(Exception):
    """Raised into the application when the body passes the limit (caught here)."""


MESSAGE = f"request too large: uploads are limited to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"


# The case-file uploads read their own body (web.uploads.stream_casefile) within
# bounds.MAX_CASEFILE_BYTES and refuse a larger file in one line naming it; they are counted
# here only as a backstop (the file, and as much again dropped so that the browser gets that
# line).
CASEFILE_UPLOAD = re.compile(r"^/(api/)?cases/\d+/(records/)?casefile$")


def casefile_body_bytes() -> int:
    from openimr import bounds

    return 2 * bounds.MAX_CASEFILE_BYTES + 1024 * 1024


class BodyLimit:
    """ASGI middleware: 413 for an HTTP request whose body passes `max_bytes` (a case-file
    upload: `casefile_body_bytes()`, its own route naming the file past its limit)."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.default_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        casefile = scope.get("method") == "POST" and bool(CASEFILE_UPLOAD.match(scope.get("path", "")))
        max_bytes = casefile_body_bytes() if casefile else self.default_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, send, casefile)
            return
        state = {"read": 0, "over": False, "started": False, "refused": False}

        async def limited_receive():
            if state["over"]:
                return {"type": "http.disconnect"}
            event = await receive()
            if event["type"] == "http.request":
                state["read"] += len(event.get("body", b""))
                if state["read"] > max_bytes:
                    state["over"] = True
                    raise _TooLarge()
            return event

        async def guarded_send(event):
            if state["over"] and not state["started"]:
                if not state["refused"]:
                    state["refused"] = True
                    await self._refuse(scope, send, casefile)
                return  # the application's own answer to a truncated body is dropped
            if event["type"] == "http.response.start":
                state["started"] = True
            await send(event)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"] and not state["refused"]:
            state["refused"] = True
            await self._refuse(scope, send, casefile)

    async def _refuse(self, scope, send, casefile: bool = False) -> None:
        from openimr import bounds

        text = (f"request too large: case files are limited to {bounds.MAX_CASEFILE_BYTES // (1024 * 1024)} MB"
                if casefile else MESSAGE)
        if scope.get("path", "").startswith("/api") or scope.get("path") == "/openapi.json":
            body, kind = json.dumps({"detail": text}).encode(), b"application/json"
        else:
            body, kind = (text + "\n").encode(), b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
