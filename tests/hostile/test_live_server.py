"""Against a live workbench (uvicorn, two worker processes) on SQLite and PostgreSQL: PDF bombs
uploaded as a letter and as a case document, request bodies in chunked transfer encoding,
and a burst of parallel wrong passwords."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from .bombs import page_bomb, text_bomb
from .conftest import GROWTH_KB, PASSWORD, memory_kb

LIMIT_LINE = "request too large: uploads are limited to 10 MB"


def test_pdf_bombs_are_refused_as_letter_and_as_case_document(live):
    admin = live.client("admin")
    letters = admin.get("/api/letters").json()["total"]
    documents = live.documents()
    workers = live.worker_pids()
    assert len(workers) == 2
    # the workers load the engine and the library model before answering: what is measured is
    # each worker's growth from there
    before = {pid: memory_kb(pid, "VmHWM") for pid in workers}
    for bomb, reason in ((text_bomb(), "refused: over the limit of 1,000,000 characters of text"),
                         (page_bomb(), "refused: 160000 pages, over the limit of 2,000 pages")):
        started = time.monotonic()
        as_letter = admin.post("/api/letters", files={"file": ("bomb.pdf", bomb, "application/pdf")})
        as_record = admin.post(f"/api/cases/{live.case_id}/documents", params={"kind": "medical_record"},
                               files={"file": ("bomb.pdf", bomb, "application/pdf")})
        assert time.monotonic() - started < 30
        for response in (as_letter, as_record):
            assert response.status_code == 422, response.text
            detail = response.json()["detail"]
            assert "\n" not in detail and detail.startswith("bomb.pdf: ") and detail.endswith(reason), detail
    # nothing stored, and the server's memory stayed bounded (the text never reached it)
    assert admin.get("/api/letters").json()["total"] == letters
    assert live.documents() == documents
    for pid in workers:
        grew = memory_kb(pid, "VmHWM") - before[pid]
        assert grew < GROWTH_KB, f"server worker {pid} grew by {grew} KB for a bomb"
    # and a real record is still accepted
    added = admin.post(f"/api/cases/{live.case_id}/documents", params={"kind": "medical_record"},
                       files={"file": ("note.txt", b"Lumbar MRI 2016: L4-5 protrusion.", "text/plain")})
    assert added.status_code == 201, added.text


def _raw_chunked(base: str, path: str, total: int, headers: dict[str, str], prefix: bytes = b"") -> tuple[int, str]:
    """POST a body of `total` bytes in chunked transfer encoding over a plain socket; the
    status and body of the answer (the server may answer before the body is done)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Transfer-Encoding: chunked", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        chunk = b"x" * 65536
        sent = 0
        try:
            sock.sendall(b"%x\r\n" % len(prefix) + prefix + b"\r\n")
            while sent < total:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: read what it said
        data = b""
        try:
            while part := sock.recv(65536):
                data += part
        except ConnectionResetError:
            pass
    status_line, _, rest = data.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
    return int(status_line.split()[1]), body


def test_chunked_body_past_the_limit_is_refused_with_413(live):
    admin = live.client("admin")
    cookie = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())
    headers = {"Cookie": cookie, "X-CSRF-Token": admin.headers["X-CSRF-Token"],
               "Content-Type": "multipart/form-data; boundary=xyz"}
    started = time.monotonic()
    part = (b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n")  # a well-formed upload that never ends
    status, body = _raw_chunked(live.base, f"/api/cases/{live.case_id}/documents", 40 * 1024 * 1024, headers, part)
    assert status == 413 and json.loads(body) == {"detail": LIMIT_LINE}, (status, body[:300])
    assert time.monotonic() - started < 20
    status, body = _raw_chunked(live.base, f"/cases/{live.case_id}/documents", 40 * 1024 * 1024, headers, part)
    assert status == 413 and body.strip() == LIMIT_LINE  # a page: the same line, as text
    # a declared Content-Length over the limit is refused before the body is read
    host, port = live.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /api/login HTTP/1.1\r\nHost: {host}\r\nContent-Length: {20 << 20}\r\n"
                     "Content-Type: application/json\r\n\r\n{".encode())
        answer = b""
        while part := sock.recv(65536):
            answer += part
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 413") and LIMIT_LINE in answer
    # and a small chunked body is served as usual
    ok = httpx.post(live.base + "/api/login", content=iter([b'{"username": "admin", ', b'"password": "' + PASSWORD.encode() + b'"}']),
                    headers={"Content-Type": "application/json"}, timeout=30)
    assert ok.status_code == 200 and ok.request.headers.get("transfer-encoding") == "chunked"


def test_parallel_wrong_passwords_are_evaluated_at_most_the_limit(live):
    def guess(k: int) -> int:
        return httpx.post(live.base + "/api/login", json={"username": "target", "password": f"wrong-{k}"},
                          timeout=120).status_code

    assert len(live.worker_pids()) == 2
    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(guess, range(40)))
    evaluated = codes.count(401)
    assert set(codes) <= {401, 429} and codes.count(429) == 40 - evaluated
    assert evaluated == 5, codes
    # the right password is refused now too, while other users sign in
    right = httpx.post(live.base + "/api/login", json={"username": "target", "password": PASSWORD}, timeout=60)
    assert right.status_code == 429 and "too many failed sign-ins" in right.json()["detail"]
    assert live.client("intake").get("/api/me").json()["username"] == "intake"


def _settled(pids: list[int], seconds: float = 90) -> None:
    """Wait until no process of `pids` has grown its peak memory for three seconds."""
    deadline = time.monotonic() + seconds
    last, still = None, 0.0
    while time.monotonic() < deadline and still < 3:
        now = [memory_kb(pid, "VmHWM") for pid in pids]
        still = still + 0.5 if now == last else 0.0
        last = now
        time.sleep(0.5)


def test_a_large_case_file_is_streamed_to_disk_not_held_in_memory(live):
    """64 MB sent in chunked transfer encoding as a case file (under its 200 MB bound, six times
    the workbench's other bound): taken, and no server worker grew by anything like its size."""
    size = 96 * 1024 * 1024

    def body(size: int, fill: bytes):
        yield (b'--B0und\r\nContent-Disposition: form-data; name="file"; filename="big-fax.pdf"\r\n'
               b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n")
        chunk = fill * 65536
        for _ in range(size // len(chunk)):
            yield chunk
        yield b"\r\n--B0und--\r\n"

    intake = live.client("intake")
    kind = {"content-type": "multipart/form-data; boundary=B0und"}
    workers = live.worker_pids()
    for _ in workers:  # each worker's first upload loads its modules: not what is measured
        assert intake.post(f"/api/cases/{live.case_id}/casefile", content=body(2**20, b"\1"),
                           headers=kind).status_code == 202
    _settled(workers)  # the workers' background warm-up (engine, library model) is done
    before = {pid: memory_kb(pid, "VmHWM") for pid in workers}
    sent = intake.post(f"/api/cases/{live.case_id}/casefile", content=body(size, b"\0"), headers=kind)
    assert sent.status_code == 202, sent.text
    assert sent.json()["job"]["bytes"] == size + len("%PDF-1.4\n")
    for pid in workers:
        grew = memory_kb(pid, "VmHWM") - before[pid]
        assert grew < 24 * 1024, f"server worker {pid} grew by {grew} KB for a {size // 2**20} MB upload"
