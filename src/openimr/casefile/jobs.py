"""Case files indexed in the background for the workbench: one job per (case, file content).

A job is a folder's files, not a table: the uploaded file (`files/JOB.ext`), its manifest
(`jobs/JOB.json`: state, page N of M, errors, the stored documents' ids) and the pages read
so far (`pages/`, the command line's `--resume` checkpoints). The indexing is the command
line's own: `index.index_file` (the bounded worker of casefile/worker.py, OCR where needed,
resume) and then `record.store_documents` (the documents in the one case record, the
records-received event). One worker thread runs the jobs one after the other (OCR is the
costliest work of OpenIMR and the machine's cores are shared with the requests).

- **Double submits**: the job's id is made of the case and the file's SHA-256, and its
  manifest is created with O_EXCL: the same file sent twice to the same case gives the same
  job, indexed and stored once (a failed job may be sent again).
- **Several processes** (workbench workers sharing the folder): a process runs a job only once
  it has claimed it in the database (`claim`: one atomic UPDATE of `imr_casefile_claims`),
  so two processes never run the same job; a claim not renewed for CLAIM_STALE_SECONDS (its
  process died) may be taken over. Every RESCAN_SECONDS a process looks again at the jobs
  not done that it is not running (another process had them, or sent them and died) and
  queues them: a job whose process died is taken over without waiting for a restart.
- **Interruption**: a job stops between two pages when the app stops (`stop`), and every job
  not done is started again by `start` (the next app start), going on at the first page not
  kept. A job interrupted while storing is stored again only if none of its documents was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("openimr.casefile")
STATES = ("queued", "indexing", "storing", "done", "failed")
UNFINISHED = ("queued", "indexing", "storing")
SUFFIXES = {"pdf": ".pdf", "tiff": ".tif", "png": ".png", "jpeg": ".jpg"}
DIR_ENV = "OPENIMR_CASEFILE_DIR"
CLAIM_STALE_SECONDS = 600.0  # a claim not renewed for this long belongs to a process that died
CLAIM_RENEW_SECONDS = 30.0  # a running job renews its claim at most this often
RESCAN_SECONDS = 60.0  # how often a process looks for unfinished jobs it is not running


class Stopped(Exception):
    """The app is stopping: the job is left to resume at its next start."""


def default_folder(url: str) -> Path:
    """Where the jobs of a database are kept: $OPENIMR_CASEFILE_DIR, else a folder of the
    system's temporary directory named after the database URL."""
    import tempfile

    if os.environ.get(DIR_ENV):
        return Path(os.environ[DIR_ENV])
    return Path(tempfile.gettempdir()) / "openimr-casefiles" / hashlib.sha256(url.encode()).hexdigest()[:16]


def job_id(case_number: str, sha256: str) -> str:
    return hashlib.sha256(f"{case_number}|{sha256}".encode()).hexdigest()[:24]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Jobs:
    """The background indexing of one database's case files (`start` it, `stop` it)."""

    def __init__(self, folder: str | Path, url: str, ocr: str = "auto", cluster: str | None = None):
        self.folder, self.url, self.ocr = Path(folder), url, ocr
        self.cluster = cluster  # a Dask scheduler's address: the pages are read there (index_on_cluster)
        for sub in ("jobs", "files", "pages", "incoming", "images"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # the manifests' writes
        self._stopping = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._drawing = threading.BoundedSemaphore(1)  # page images drawn one at a time
        import socket
        import uuid

        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._renewed: dict[str, float] = {}  # job -> when its claim was last renewed (monotonic)
        self._pending: set[str] = set()  # jobs queued or running in this process
        self._watcher: threading.Thread | None = None
        self.rescan_seconds = RESCAN_SECONDS

    # ------------------------------------------------------------ manifests
    def _manifest(self, job: str) -> Path:
        return self.folder / "jobs" / f"{job}.json"

    def get(self, job: str) -> dict | None:
        try:
            return json.loads(self._manifest(job).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write(self, job: dict) -> None:
        job["updated_at"] = _now()
        path = self._manifest(job["id"])
        temporary = path.with_suffix(f".{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(job), encoding="utf-8")
        os.replace(temporary, path)  # a reader sees the old manifest or the new one, never half

    def _update(self, job: dict, **changes) -> dict:
        with self._lock:
            job.update(changes)
            self._write(job)
        return job

    def of_case(self, case_number: str) -> list[dict]:
        """The jobs of a case, oldest first."""
        jobs = []
        for path in (self.folder / "jobs").glob("*.json"):
            job = self.get(path.stem)
            if job and job.get("case_number") == case_number:
                jobs.append(job)
        return sorted(jobs, key=lambda j: (j["created_at"], j["id"]))

    # ------------------------------------------------------------ submitting
    def incoming(self) -> Path:
        """A fresh file to stream an upload into (give it to `submit`, or delete it)."""
        import tempfile

        handle, name = tempfile.mkstemp(dir=self.folder / "incoming", suffix=".part")
        os.close(handle)
        return Path(name)

    def submit(self, received: Path, case_number: str, case_id: int, name: str, sha256: str, kind: str,
               size: int, actor: str) -> tuple[dict, bool]:
        """Queue the indexing of an uploaded file (moved from `received`): (the job, whether it
        is new). The same file sent again to the same case is the same job (not queued twice)."""
        job = job_id(case_number, sha256)
        manifest = {"id": job, "case_number": case_number, "case_id": case_id, "name": name, "sha256": sha256,
                    "kind": kind, "bytes": size, "ocr": self.ocr, "actor": actor, "state": "queued", "page": 0,
                    "pages": None, "errors": [], "error": None, "stored": [], "documents": None,
                    "duplicates": None, "resumed_pages": 0, "created_at": _now(), "updated_at": _now()}
        with self._lock:
            try:
                fd = os.open(self._manifest(job), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                existing = self.get(job)
                if existing is not None and existing.get("state") != "failed":
                    received.unlink(missing_ok=True)
                    return existing, False
                fd = None  # a failed job is tried again
            if fd is not None:
                os.close(fd)
            os.replace(received, self._file(manifest))
            self._write(manifest)
        self._queue(manifest)
        return manifest, True

    def _file(self, job: dict) -> Path:
        return self.folder / "files" / (job["id"] + SUFFIXES.get(job["kind"], ".bin"))

    # ------------------------------------------------------------ page images
    def job_of_document(self, case_number: str, document_id: int) -> dict | None:
        """The done job of a case that stored document `document_id` (its uploaded file)."""
        return next((j for j in self.of_case(case_number)
                     if j.get("state") == "done" and document_id in (j.get("stored") or [])), None)

    def page_image(self, job: dict, page: int) -> Path:
        """Page `page` (1-based) of a job's file as a PNG, drawn once in the bounded worker
        (casefile.worker.render_page) and kept in `images/`; CaseFileError when it cannot be."""
        from openimr.casefile.worker import render_page

        target = self.folder / "images" / f"{job['id']}-{int(page)}.png"
        if target.exists():
            return target
        with self._drawing:
            if not target.exists():  # drawn meanwhile by another request
                render_page(self._file(job), page, target)
        return target

    # ------------------------------------------------------------ running
    def start(self) -> int:
        """Queue (on the one worker thread) every job not done (interrupted ones resume);
        how many were queued again."""
        self._stopping.clear()
        again = self._queue_unfinished()
        for stale in (self.folder / "incoming").glob("*.part"):  # uploads cut off by a stop
            stale.unlink(missing_ok=True)
        with self._pool_lock:
            if self._watcher is None or not self._watcher.is_alive():
                self._watcher = threading.Thread(target=self._watch, name="openimr-casefile-rescan", daemon=True)
                self._watcher.start()
        return again

    def _queue_unfinished(self) -> int:
        """Queue every job not done that this process is not already running; how many."""
        queued = 0
        for path in sorted((self.folder / "jobs").glob("*.json")):
            job = self.get(path.stem)
            if job and job.get("state") in UNFINISHED and job["id"] not in self._pending:
                self._queue(job)
                queued += 1
        return queued

    def _watch(self) -> None:
        """Every `rescan_seconds` until stopped: the jobs other processes left (see above)."""
        while not self._stopping.wait(self.rescan_seconds):
            try:
                self._queue_unfinished()
            except Exception as error:  # noqa: BLE001 - the next look may succeed (database busy)
                log.warning("case file rescan failed: %s", type(error).__name__)

    def stop(self) -> None:
        """Stop between two pages; what is not done resumes at the next `start`."""
        self._stopping.set()
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.join(timeout=5)
        self._pending.clear()

    def _queue(self, job: dict) -> None:
        with self._pool_lock:  # the one worker thread, started by the first job
            if self._stopping.is_set():
                return  # stopping: the job resumes at the next start
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openimr-casefile")
            self._pending.add(job["id"])
            self._pool.submit(self._run_pending, job["id"])

    def _run_pending(self, job_id_: str) -> None:
        try:
            self._run(job_id_)
        finally:
            self._pending.discard(job_id_)  # claimed elsewhere or ended: a later rescan may queue it

    # ------------------------------------------------------------ claims
    def claim(self, job: str) -> bool:
        """Whether this process now runs `job`: claimed by one UPDATE that holds only while no
        other process has it (or its claim went stale), atomic in the database."""
        import time

        from sqlalchemy import CursorResult, insert, or_, update
        from sqlalchemy.exc import IntegrityError

        from openimr import db
        from openimr.cases.tables import CaseFileClaimRow as Claim

        now = time.time()
        with db.session_scope(self.url) as session:
            if session.get(Claim, job) is None:
                try:
                    with session.begin_nested():
                        session.execute(insert(Claim).values(job=job, owner=None, renewed_at=None))
                except IntegrityError:
                    pass  # inserted meanwhile by another process
            result: CursorResult = session.execute(  # type: ignore[assignment]
                update(Claim).where(Claim.job == job, or_(Claim.owner.is_(None), Claim.owner == self.owner,
                                                          Claim.renewed_at < now - CLAIM_STALE_SECONDS))
                .values(owner=self.owner, renewed_at=now))
        return result.rowcount == 1

    def release(self, job: str) -> None:
        """Give up this process's claim of `job` (done, failed or stopped)."""
        from sqlalchemy import update

        from openimr import db
        from openimr.cases.tables import CaseFileClaimRow as Claim

        with db.session_scope(self.url) as session:
            session.execute(update(Claim).where(Claim.job == job, Claim.owner == self.owner)
                            .values(owner=None, renewed_at=None))

    def _renew(self, job: str) -> None:
        import time

        if time.monotonic() - self._renewed.get(job, 0.0) < CLAIM_RENEW_SECONDS:
            return
        self._renewed[job] = time.monotonic()
        if not self.claim(job):
            raise Stopped()  # taken over (this process was thought dead): the other one goes on

    def _run(self, job_id_: str) -> None:
        job = self.get(job_id_)
        if job is None or job.get("state") not in UNFINISHED or self._stopping.is_set():
            return
        if not self.claim(job_id_):
            log.info("case file job %s is run by another process", job_id_)
            return
        try:
            job = self.get(job_id_)  # as the process that had it last left it
            if job is None or job.get("state") not in UNFINISHED:
                return
            self._run_claimed(job)
        finally:
            self.release(job_id_)

    def _run_claimed(self, job: dict) -> None:
        try:
            self._index(job)
        except Stopped:
            log.info("case file job %s stopped at page %s; it resumes at the next start", job["id"], job["page"])
        except Exception as error:  # noqa: BLE001 - a job fails with one line, the worker goes on
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            self._update(job, state="failed", error=f"{job['name']}: {reason}")
            log.warning("case file job %s failed: %s", job["id"], type(error).__name__)

    def _index(self, job: dict) -> None:
        from openimr.casefile.index import index_file, index_on_cluster
        from openimr.casefile.record import store_documents
        from openimr.casefile.worker import CaseFileError
        from openimr.cases import store

        if job["state"] == "storing" and self._stored_already(job):
            self._update(job, state="done")
            return
        self._update(job, state="indexing", error=None)

        def progress(page: int, pages: int) -> None:
            self._update(job, page=page, pages=pages or job.get("pages"))
            self._renew(job["id"])
            if self._stopping.is_set():
                raise Stopped()

        documents: list = []
        try:
            if self.cluster:
                result = index_on_cluster(self._file(job), self.cluster, job.get("ocr") or self.ocr, keep=documents,
                                          resume=self.folder / "pages")
            else:
                result = index_file(self._file(job), job.get("ocr") or self.ocr, progress=progress, keep=documents,
                                    resume=self.folder / "pages")
        except CaseFileError as error:  # refused whole (too big, too many pages, not readable)
            self._update(job, state="failed", error=f"{job['name']}: {error.reason}")
            self._file(job).unlink(missing_ok=True)  # nothing of it is kept
            return
        errors = [line.replace(str(self._file(job)), job["name"]) for line in result["errors"]]
        self._update(job, state="storing", pages=result["pages"], page=result["pages"], errors=errors,
                     resumed_pages=max(job.get("resumed_pages") or 0, result.get("resumed_pages") or 0),
                     documents=len(result["documents"]),
                     duplicates=sum(1 for d in result["documents"] if d["duplicate_of"]))
        stored = store.run(self.url, store_documents, job["case_number"], job["name"], documents, job["actor"])
        self._update(job, state="done", stored=stored)

    def _stored_already(self, job: dict) -> bool:
        """Whether a job interrupted while storing had stored its documents (their names)."""
        from sqlalchemy import select

        from openimr import db
        from openimr.cases.tables import CaseRow, DocumentRow

        with db.session_scope(self.url) as session:
            names = session.scalars(select(DocumentRow.name).join(CaseRow, CaseRow.id == DocumentRow.case_id)
                                    .where(CaseRow.case_number == job["case_number"]))
            return any(n.startswith(f"{job['name']} p. ") for n in names)
