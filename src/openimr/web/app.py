"""The FastAPI application: `create_app(db_url)` wires the database, auth and routes."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from openimr import db as dbmod
from openimr.cases.lifecycle import NotPermitted
from openimr.models import first_error
from openimr.web import auth
from openimr.web.auth import AuthError, Principal
from openimr.web.limits import BodyLimit
from openimr.web.workflow import Conflict, NotFound

HERE = Path(__file__).parent
log = logging.getLogger("openimr.web")
# Every page's content security policy; /docs relaxes only style-src (Swagger UI sets inline
# styles while it draws), its scripts stay same-origin.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
       "form-action 'self'")
DOCS_CSP = CSP.replace("style-src 'self';", "style-src 'self' 'unsafe-inline';")


WORKER_THREADS = 16


@lru_cache(maxsize=8)
def web_engine(url: str):
    """The web app's own engine: on SQLite without a pool (connections are cheap, and none
    waits on a pool under load), elsewhere a pool sized for the worker threads. The parts
    called with a URL keep using `openimr.db.engine_for`."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=WORKER_THREADS, max_overflow=WORKER_THREADS, pool_timeout=120,
                             pool_pre_ping=True, hide_parameters=True)
    return dbmod.sqlite_engine(url, poolclass=NullPool)  # the same set-up as every part's engine


class NotSignedIn(Exception):
    """No valid session cookie."""


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A database session per request; routes commit what they write.

    An async dependency on purpose: its clean-up (closing the session, returning the
    connection) runs on the event loop at once, not queued behind busy worker threads.
    """
    session = request.app.state.sessionmaker()
    session.info["url"] = request.app.state.db_url
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def current_user(request: Request, db: Session = Depends(get_db)) -> Principal:
    """The signed-in user, or NotSignedIn (401 for the API, the sign-in page otherwise)."""
    principal = auth.session_principal(db, request.cookies.get(auth.SESSION_COOKIE))
    db.commit()  # hand the connection back until the route itself needs one
    if principal is None:
        raise NotSignedIn()
    request.state.principal = principal
    return principal


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request without the session's CSRF token (header or form)."""
    given = request.headers.get("x-csrf-token")
    if given is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        token = form.get("csrf_token")
        given = token if isinstance(token, str) else None  # a file sent as the token is no token
    request.state.csrf_given = given


def check_csrf(request: Request, user: Principal) -> None:
    """Compare the token read by `csrf_protect` with the session's."""
    if not auth.csrf_matches(user.csrf, getattr(request.state, "csrf_given", None)):
        raise AuthError(403, "missing or wrong CSRF token: reload the page and try again")


def writer(request: Request, _c: None = Depends(csrf_protect),
           user: Principal = Depends(current_user)) -> Principal:
    """The signed-in user of a state-changing request, CSRF checked."""
    check_csrf(request, user)
    return user


def client_ip(request: Request) -> str:
    """The caller's address (the peer; uvicorn's proxy headers set it behind a proxy)."""
    return request.client.host if request.client else "unknown"


def is_tls(request: Request, app: FastAPI) -> bool:
    """Whether cookies must be Secure: TLS seen by the app, or forced by configuration."""
    return app.state.secure_cookies or request.url.scheme == "https"


def set_session_cookie(response, request: Request, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure behind TLS."""
    response.set_cookie(auth.SESSION_COOKIE, token, max_age=auth.SESSION_HOURS * 3600, httponly=True,
                        samesite="lax", secure=is_tls(request, request.app), path="/")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path == "/openapi.json"


def _back(request: Request) -> str | None:
    """Where the user came from, when it is a page of this workbench (for the error page's link)."""
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return None
    path = referer.path or ""
    if not path.startswith("/") or path.startswith("//") or path == request.url.path:
        return None
    return path + (f"?{referer.query}" if referer.query else "")


def _error(request: Request, status: int, message: str):
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": message, "back": _back(request),
                                      "user": getattr(request.state, "principal", None)}, status_code=status)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _exc: NotSignedIn):
        if _wants_json(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError):
        return _error(request, exc.status, exc.message)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):
        return _error(request, 404, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        # Unknown pages and methods: an HTML page for browsers, JSON for the API.
        messages = {404: "there is no such page", 405: "that action is not offered here"}
        message = messages.get(exc.status_code) if exc.detail in (None, "Not Found", "Method Not Allowed") else None
        response = _error(request, exc.status_code, message or str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(NotPermitted)
    async def _not_permitted(request: Request, exc: NotPermitted):
        return _error(request, 403, str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict):
        return _error(request, 409, str(exc))

    @app.exception_handler(ValueError)
    async def _bad_value(request: Request, exc: ValueError):
        return _error(request, 422, str(exc).splitlines()[0])

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return _error(request, 422, first_error(exc, "request", skip=("body", "query", "path", "form"), plain=True))


def _warm(app: FastAPI) -> None:
    """The warm-up at start (web.parts.warm_up), before the app answers its first request."""
    from openimr.web import parts

    try:
        seconds = parts.warm_up()
        log.info("engine and library model loaded in %.1f s", seconds)
    except Exception as error:  # a slower first page, not a broken start
        log.warning("warm-up failed: %s", type(error).__name__)
    finally:
        app.state.warmed.set()


SERVE_OPTIONS = "OPENIMR_SERVE_OPTIONS"  # create_app's options for the processes of `serve --workers`


def app_from_options() -> FastAPI:
    """The app of one process of `openimr serve --workers N` (uvicorn calls it in each):
    create_app's options as JSON in $OPENIMR_SERVE_OPTIONS; the parent migrated already."""
    import json
    import os

    options = json.loads(os.environ[SERVE_OPTIONS])
    return create_app(options["db_url"], secure_cookies=bool(options.get("secure_cookies")), migrate=False,
                      cluster=options.get("cluster"))


def create_app(db_url: str | None = None, secure_cookies: bool = False, migrate: bool = True,
               warm: bool = True, casefile_dir: str | Path | None = None,
               cluster: str | None = None) -> FastAPI:
    """The workbench application on this database (migrated to the newest schema first).

    `secure_cookies` forces the Secure flag (set it when a TLS proxy sits in front without
    forwarding headers); requests seen as https get it anyway. `warm` loads the engine and
    the library's model at start, before the server answers its first request
    (`app.state.warmed` is set when done; a failed warm-up is logged, the app starts anyway).
    Uploaded case files and their indexing jobs are kept in `casefile_dir` (default
    casefile.jobs.default_folder); jobs interrupted by a stop resume at the next start. With
    `cluster` (a Dask scheduler's address) their pages are read on that cluster.
    """
    from openimr.casefile.jobs import Jobs, default_folder
    from openimr.web import (
        routes_api,
        routes_casefile,
        routes_events,
        routes_pages,
        routes_qa,
        routes_records,
        routes_review,
        routes_users,
    )

    url = dbmod.normalise_url(db_url or dbmod.default_url())
    if migrate:
        dbmod.migrate(url)
    engine = web_engine(url)
    threads = WORKER_THREADS
    jobs = Jobs(casefile_dir or default_folder(url), url, cluster=cluster)

    @asynccontextmanager
    async def lifespan(_app):
        # A bounded number of worker threads: requests queue in the server, each holding at
        # most one connection of the web engine (and briefly one of the parts' engine).
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        if warm:  # before the first request: the first case page is as fast as the rest
            await anyio.to_thread.run_sync(_warm, _app)
        resumed = jobs.start()  # case files whose indexing a stop interrupted
        if resumed:
            log.info("%d case file job(s) resumed", resumed)
        try:
            yield
        finally:
            jobs.stop()  # between two pages; the rest resumes at the next start

    app = FastAPI(title="OpenIMR workbench", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Independent Medical Review: cases, determinations, precedents. "
                              "Sign in with POST /api/login; send the returned csrf_token as "
                              "X-CSRF-Token on every write.")
    app.state.db_url = url
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.secure_cookies = secure_cookies
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.draft_cache = {}
    app.state.warmed = threading.Event()
    app.state.casefile_jobs = jobs
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    # Swagger UI from the installed swagger-ui-bundle package: /docs works with no internet.
    app.mount("/swagger-ui", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    _install_errors(app)
    app.include_router(routes_api.router)
    app.include_router(routes_events.api)
    app.include_router(routes_pages.router)
    app.include_router(routes_records.api)
    app.include_router(routes_records.pages)
    app.include_router(routes_casefile.api)
    app.include_router(routes_casefile.pages)
    app.include_router(routes_events.pages)
    app.include_router(routes_review.api)
    app.include_router(routes_review.pages)
    app.include_router(routes_qa.api)
    app.include_router(routes_qa.pages)
    app.include_router(routes_users.api)
    app.include_router(routes_users.pages)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        if not request.url.path.startswith(("/static", "/swagger-ui")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(BodyLimit)  # every request body, chunked or not (web.limits)

    @app.get("/docs", include_in_schema=False)
    def _docs(request: Request) -> HTMLResponse:
        response = app.state.templates.TemplateResponse(request, "docs.html", {})
        response.headers["Content-Security-Policy"] = DOCS_CSP
        return response

    @app.get("/healthz", include_in_schema=False)
    def _health() -> HTMLResponse:
        return HTMLResponse("ok")

    return app
