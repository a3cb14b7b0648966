"""`openimr serve` and `openimr user ...`: run the workbench and manage its users."""

from __future__ import annotations

import typer

MAX_WORKERS = 16  # server processes of `openimr serve --workers`
user_app = typer.Typer(help="Workbench users (roles: intake, reviewer, qa, admin).", no_args_is_help=True)


def serve(
    db: str = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite file, or $OPENIMR_DB)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    secure_cookies: bool = typer.Option(False, help="Always mark cookies Secure (behind a TLS proxy)."),
    cluster: str = typer.Option(None, "--cluster", help="Dask scheduler address (tcp://HOST:PORT): uploaded "
                                "case files are read there (its workers must see the jobs folder)."),
    workers: int = typer.Option(1, "--workers", min=1, max=MAX_WORKERS, help="Server processes sharing the port "
                                f"(1 to {MAX_WORKERS}): pages are drawn on that many cores at once."),
) -> None:
    """Serve the reviewer workbench (web pages and the /api).

    Example: openimr serve --db sqlite:///openimr.sqlite --port 8000 --workers 2
    """
    import json
    import os

    import uvicorn

    from openimr.web.app import SERVE_OPTIONS, create_app

    typer.echo(f"OpenIMR workbench on http://{host}:{port}/  (API: /api, OpenAPI: /openapi.json)"
               + (f", {workers} processes" if workers > 1 else ""))
    served = {"host": host, "port": port, "proxy_headers": True, "forwarded_allow_ips": "127.0.0.1",
              "timeout_keep_alive": 75, "log_level": "warning"}
    if workers == 1:
        uvicorn.run(create_app(db, secure_cookies=secure_cookies, cluster=cluster), **served)  # type: ignore[arg-type]
        return
    # Several processes: the schema is migrated once here, then uvicorn starts each worker
    # process, which builds its own app (web.app.app_from_options) from these options.
    from openimr import db as dbmod

    url = dbmod.normalise_url(db or dbmod.default_url())
    dbmod.migrate(url)
    os.environ[SERVE_OPTIONS] = json.dumps({"db_url": url, "secure_cookies": secure_cookies, "cluster": cluster})
    uvicorn.run("openimr.web.app:app_from_options", factory=True, workers=workers, **served)  # type: ignore[arg-type]


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="Sign-in name."),
    role: str = typer.Option(..., "--role", help="intake, reviewer, qa or admin."),
    name: str = typer.Option(None, "--name", help="Display name (kept from intake users and letters)."),
    panel_id: str = typer.Option(None, "--panel-id", help="A reviewer's record on the expert reviewer panel "
                                 "(openimr panel add): their licences, specialties and whether they may be "
                                 "assigned cases and sign come from it."),
    password_env: str = typer.Option("OPENIMR_PASSWORD", help="Environment variable holding the password; "
                                     "asked for when unset."),
    db: str = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite file)."),
    as_json: bool = typer.Option(False, "--json", help="Print the user as JSON."),
) -> None:
    """Add a workbench user; the password is read from $OPENIMR_PASSWORD or asked for. An
    expert reviewer is linked to their panel record, added first with `openimr panel add`.

    Example: openimr user add drlee --role reviewer --panel-id R-ORTHO-01 --name "Dr. Lee"
    """
    import os

    from openimr import db as dbmod
    from openimr.web import auth
    from openimr.web.routes_api import user_out

    password = os.environ.get(password_env) or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    url = dbmod.normalise_url(db or dbmod.default_url())
    dbmod.migrate(url)
    try:
        with dbmod.session_scope(url) as session:
            user = auth.create_user(session, username, password, role, name, panel_id)
            out = user_out(session, user)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(out.model_dump_json() if as_json else f"added {out.username} ({out.role}"
               f"{', panel ' + out.panel_reviewer_id if out.panel_reviewer_id else ''})")


@user_app.command("list")
def user_list(
    db: str = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite file)."),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines, one user per line."),
) -> None:
    """List workbench users.

    Example: openimr user list --json
    """
    from sqlalchemy import select

    from openimr import db as dbmod
    from openimr.web.routes_api import user_out
    from openimr.web.tables import User

    url = dbmod.normalise_url(db or dbmod.default_url())
    dbmod.migrate(url)
    with dbmod.session_scope(url) as session:
        for user in session.scalars(select(User).order_by(User.id)):
            out = user_out(session, user)
            linked = f" (panel {out.panel_reviewer_id}{', may sign' if out.may_sign else ', may not sign'})" \
                if out.panel_reviewer_id else ""
            typer.echo(out.model_dump_json() if as_json else f"{out.username}\t{out.role}{linked}\t{out.display_name}")


def register(app: typer.Typer) -> None:
    """Add `serve` and `user` to the `openimr` application."""
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
