"""Admin work on the pages and the API: users (`openimr user add` and `user list`, through
the same face `web.auth.create_user`) and the panel's records (`openimr panel add`, through
`panel.reviewers.add`; the panel page's editor). An expert reviewer's account only
links to their record on the panel; a bad field is one line naming it (422), a user name
taken already (a double-submitted form) adds nobody."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from openimr import bounds
from openimr.web import auth, workflow
from openimr.web.app import current_user, get_db, writer
from openimr.web.auth import Principal
from openimr.web.schemas import Out, UserOut
from openimr.web.tables import ROLES, User

api = APIRouter(prefix="/api", tags=["api"])
pages = APIRouter(include_in_schema=False)


class UserIn(Out):
    """A new workbench user; `panel_reviewer_id` links an expert reviewer to the panel."""

    username: str = Field(min_length=1, max_length=bounds.MAX_USERNAME)
    password: str = Field(min_length=8, max_length=bounds.MAX_PASSWORD)
    role: str = Field(max_length=bounds.MAX_FILTER)
    display_name: str | None = Field(None, max_length=bounds.MAX_NAME)
    panel_reviewer_id: str | None = Field(None, max_length=bounds.MAX_REVIEWER_ID)


def add_user(session: Session, who: Principal, body: UserIn) -> User:
    """Add a user (admin): `auth.create_user`, the face `openimr user add` calls."""
    workflow.require_role(who, "admin")
    return auth.create_user(session, body.username, body.password, body.role, body.display_name or None,
                            body.panel_reviewer_id or None)


@api.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Add a workbench user (admin); 422 naming the field (taken user name, unknown panel id...)."""
    from openimr.web.routes_api import user_out

    added = add_user(db, user, body)
    db.commit()
    return user_out(db, added)


def _page(request: Request, user: Principal, db: Session, status: int = 200, error: str = "", message: str = "",
          form: dict | None = None):
    from openimr.web.routes_api import user_out
    from openimr.web.routes_pages import render

    users = [user_out(db, u) for u in db.scalars(select(User).order_by(User.id))]
    return render(request, "users.html", user, status, users=users, roles=ROLES, error=error, message=message,
                  form=form or {})


@pages.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    workflow.require_role(user, "admin")
    return _page(request, user, db)


@pages.post("/users", response_class=HTMLResponse)
def users_submit(request: Request, username: str = Form("", max_length=bounds.MAX_USERNAME),
                 password: str = Form("", max_length=bounds.MAX_PASSWORD), role: str = Form("", max_length=20),
                 display_name: str = Form("", max_length=bounds.MAX_NAME),
                 panel_reviewer_id: str = Form("", max_length=bounds.MAX_REVIEWER_ID),
                 user: Principal = Depends(writer), db: Session = Depends(get_db)):
    workflow.require_role(user, "admin")
    form = {"username": username, "role": role, "display_name": display_name, "panel_reviewer_id": panel_reviewer_id}
    try:
        added = auth.create_user(db, username, password, role, display_name or None, panel_reviewer_id or None)
    except ValueError as error:  # the password is never sent back
        db.rollback()
        return _page(request, user, db, 422, error=str(error).splitlines()[0], form=form)
    db.commit()
    return _page(request, user, db, 201, message=f"Added {added.username} ({added.role})")


# ---------------------------------------------------------------- the panel (admin)
def save_reviewers(session: Session, who: Principal, data: object) -> dict[str, list[str]]:
    """Add or replace reviewers of the panel (`openimr panel add`'s face, admin): one record
    or a list, with licences, certifications, affiliations and patients treated (the
    conflicts the match checks). A record sent again unchanged writes nothing (a repeat)."""
    from openimr.panel import reviewers as panel

    workflow.require_role(who, "admin")
    parsed = panel.parse_reviewers(data, "reviewers")
    done: dict[str, list[str]] = {"added": [], "replaced": [], "unchanged": []}
    changed = []
    for reviewer in parsed:
        before = panel.record(session, reviewer.id)
        kind = "added" if before is None else "unchanged" if before == reviewer else "replaced"
        done[kind].append(reviewer.id)
        if kind != "unchanged":
            changed.append(reviewer)
    if changed:
        panel.add(session, changed, workflow.actor(who))
    return done


@api.post("/reviewers")
async def post_reviewers(request: Request, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Add or replace reviewers of the panel (admin): a REVIEWER.json record or a list; 422
    with each problem's place; `{added, replaced, unchanged}` (ids)."""
    try:
        data = await request.json()
    except ValueError:
        raise ValueError("body: not valid JSON (a reviewer record or a list of them)") from None
    done = save_reviewers(db, user, data)
    db.commit()
    return done


@api.get("/reviewers/{reviewer_id}/record")
def reviewer_record(reviewer_id: str, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """One reviewer's full panel record, the name too (admin): what an edit starts from."""
    from openimr.panel import reviewers as panel

    workflow.require_role(user, "admin")
    found = panel.record(db, reviewer_id[: bounds.MAX_REVIEWER_ID])
    if found is None:
        raise workflow.NotFound(f"reviewer {reviewer_id[:64]!r}: not on the panel")
    return found.model_dump(mode="json")
