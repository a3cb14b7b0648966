"""Every size and range limit of OpenIMR, one constant per concept, and the one date rule.

The intake model (`cases/intake.py`), the shared data types (`models.py`), the API's schemas
and its path and query parameters (`web/`) all take their limits from here, so the page form,
the API, the command line and the OpenAPI schema state and enforce the same ones
(docs/web.md, "Limits").
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import Field

# ---------------------------------------------------------------- numbers
MAX_ID = 2**31 - 1  # the largest row id: INTEGER on PostgreSQL, and on SQLite as the tables use it
MAX_PAGE = 100_000  # the largest page number of a list
MAX_PER_PAGE = 200  # the most rows on one page of a list
MAX_ITEM_INDEX = 49  # a disputed item's index (0-based): MAX_ITEMS items per case
MAX_VERSION = MAX_ID  # a decisions version

# ---------------------------------------------------------------- counts
MAX_ITEMS = 50  # disputed items per case (application and API)
MAX_PARTIES = 50  # other parties of an application
MAX_PRIOR_IMRS = 100  # earlier IMRs listed in an application
MAX_DOCUMENTS = 2000  # documents reviewed listed in a letter, or sent with an application

# ---------------------------------------------------------------- text lengths (characters)
MAX_NAME = 300  # a person's or organization's name, an address, a specialty, a phone
MAX_SHORT = 60  # a claim number, a case number
MAX_REQUEST = 500  # one disputed item's request (and what UR authorized of it)
MAX_GUIDELINE = 2000  # a guideline citation
MAX_RATIONALE = 20000  # a reviewer's rationale
MAX_REASON = 2000  # why a determination is superseded, a case withdrawn, terminated, appealed
MAX_DOCUMENT_NAME = 200  # a document's name
MAX_DOCUMENT_TEXT = 2_000_000  # a document's text sent as JSON
MAX_QUERY = 500  # a search query
MAX_FILTER = 100  # a list filter (status, priority, decision, guideline, category, case number)
MAX_REVIEWER_ID = 64  # a panel reviewer's id
MAX_USERNAME = 100  # a workbench user name
MAX_PASSWORD = 1024  # a password (hashing is bounded by it)
MAX_NOTE = 4000  # a note QA or the reviewer leaves on a case
MAX_MESSAGE = 2000  # a page's message line passed in its address
MAX_SUMMARY = 200_000  # the clinical summary typed on the intake form
MAX_CASE_TEXT = 500_000  # all documents' text the engine reads for one draft (about 150 pages; ~25 s on one core)

# ---------------------------------------------------------------- bytes
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the largest file a user may upload (a PDF or .txt)
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 512 * 1024  # and room for the form around it
MAX_CASEFILE_BYTES = 200 * 1024 * 1024  # a case file (PDF, TIFF, PNG, JPEG): command line and upload
MAX_CASEFILE_PAGES = 2000  # and its pages (a file of more is refused whole, nothing stored)

# ---------------------------------------------------------------- dates
EARLIEST_DATE = date(1900, 1, 1)  # no date of a case (birth, injury, decision, record) is older
FUTURE_DAYS = 3653  # how far ahead a date that may lie ahead (a late report's "as of") may be


def check_day(field: str, day: date | None, *, future: bool = False, today: date | None = None) -> date | None:
    """The one date rule: a date of a case is on or after EARLIEST_DATE and not in the future
    (with `future`, at most FUTURE_DAYS ahead). ValueError "field: reason" otherwise."""
    if day is None:
        return None
    today = today or date.today()
    if day < EARLIEST_DATE:
        raise ValueError(f"{field}: {day.isoformat()} is before {EARLIEST_DATE.isoformat()}")
    latest = today + timedelta(days=FUTURE_DAYS) if future else today
    if day > latest:
        words = f"more than {FUTURE_DAYS} days ahead" if future else "in the future"
        raise ValueError(f"{field}: {day.isoformat()} is {words}")
    return day


def parse_day(field: str, value: object, *, future: bool = False) -> date | None:
    """A date from a date or an ISO string (YYYY-MM-DD) checked by `check_day`; None for
    nothing given; ValueError "field: reason" for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return check_day(field, value, future=future)
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{field}: {str(value)[:40]!r} is not a date (YYYY-MM-DD)") from None
    return check_day(field, day, future=future)


# ---------------------------------------------------------------- pydantic types
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Short = Annotated[str, Field(min_length=1, max_length=MAX_SHORT)]
RequestText = Annotated[str, Field(min_length=1, max_length=MAX_REQUEST)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
