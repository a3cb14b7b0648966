"""The review organization of a mailed letter: its letterhead (name, address, contact, logo).

One data file, `organization.yaml` beside this module (a demonstration organization); a
deployment points the environment variable OPENIMR_ORGANIZATION at its own file of the same
form. The file is validated at load; a bad file is one line naming the file, the field and
the reason (`OrganizationError`). The logo is a file path relative to the YAML file, read
once and embedded in the letter as a data URI, so the HTML stands alone and the PDF needs
nothing from the network.
"""

from __future__ import annotations

import base64
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from openimr.models import first_error

ORGANIZATION_FILE = Path(__file__).with_name("organization.yaml")
ORGANIZATION_ENV = "OPENIMR_ORGANIZATION"
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
LOGO_MAX_BYTES = 1_000_000
# What the letters' readers take as an organization's guideline label ("MAXIMUS guideline:").
GUIDELINE_LABEL = re.compile(r"[A-Z][A-Za-z .&]{1,60}")

Line = Annotated[str, Field(min_length=1, max_length=120)]


class OrganizationError(ValueError):
    """The organization file cannot be used; str() is one line naming the file and the reason."""


class Organization(BaseModel):
    """The letterhead of a review organization."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Line
    short_name: Annotated[str, Field(pattern=f"^{GUIDELINE_LABEL.pattern}$")]
    address: list[Line] = Field(min_length=1, max_length=6)
    phone: Line | None = None
    fax: Line | None = None
    email: Line | None = None
    website: Line | None = None
    logo: Path | None = None  # relative to the organization file; resolved at load
    logo_data_uri: str | None = Field(default=None, exclude=True)

    @field_validator("name", "phone", "fax", "email", "website", "address")
    @classmethod
    def _one_line(cls, value):
        for line in value if isinstance(value, list) else [value]:
            if line is not None and ("\n" in line or "\r" in line or not line.strip()):
                raise ValueError("must be one non-blank line")
        return value

    @field_validator("short_name")
    @classmethod
    def _not_the_claims_administrator(cls, value: str) -> str:
        if value.lower() == "claims administrator":
            raise ValueError("must not be 'Claims Administrator' (that label is the claims administrator's guideline line)")
        if value != " ".join(value.split()):
            raise ValueError("must have single spaces between words and none at the ends")
        return value

    def contact_line(self) -> str:
        """Phone, fax, e-mail and web site on one line, those given."""
        parts = [
            f"{label} {value}"
            for label, value in (("Phone", self.phone), ("Fax", self.fax), ("", self.email), ("", self.website))
            if value
        ]
        return "  |  ".join(part.strip() for part in parts)


def _logo_data_uri(path: Path, source: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in LOGO_TYPES:
        raise OrganizationError(f"{source}: logo: {path.name} is not a PNG, JPEG or SVG file")
    try:
        size = path.stat().st_size
        if size > LOGO_MAX_BYTES:
            raise OrganizationError(f"{source}: logo: {path.name} is {size} bytes; the limit is {LOGO_MAX_BYTES}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise OrganizationError(f"{source}: logo: {path} does not exist") from None
    except OSError as error:
        raise OrganizationError(f"{source}: logo: {path} cannot be read ({type(error).__name__})") from None
    magic_ok = {
        ".png": data.startswith(b"\x89PNG\r\n\x1a\n"),
        ".jpg": data.startswith(b"\xff\xd8\xff"),
        ".jpeg": data.startswith(b"\xff\xd8\xff"),
        ".svg": b"<svg" in data[:4096],
    }[suffix]
    if not magic_ok:
        raise OrganizationError(f"{source}: logo: {path.name} does not hold {suffix[1:].upper()} data")
    return f"data:{LOGO_TYPES[suffix]};base64,{base64.b64encode(data).decode('ascii')}"


def load_organization(path: str | Path | None = None) -> Organization:
    """The organization of `path`, else of $OPENIMR_ORGANIZATION, else the bundled file."""
    import yaml

    source = Path(path or os.environ.get(ORGANIZATION_ENV) or ORGANIZATION_FILE)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OrganizationError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise OrganizationError(f"{source}: cannot be read ({type(error).__name__})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise OrganizationError(f"{source}{where}: not YAML") from None
    if not isinstance(data, dict):
        raise OrganizationError(f"{source}: expected a mapping of fields (name, short_name, address, ...)")
    if "logo_data_uri" in data:
        raise OrganizationError(f"{source}: logo_data_uri: unknown field (give logo, a file path)")
    try:
        organization = Organization.model_validate(data)
    except ValidationError as error:
        raise OrganizationError(f"{source}: {first_error(error, 'organization')}") from None
    if organization.logo is None:
        return organization
    logo = organization.logo if organization.logo.is_absolute() else source.parent / organization.logo
    return organization.model_copy(update={"logo": logo, "logo_data_uri": _logo_data_uri(logo, source)})


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int) -> Organization:
    return load_organization(path)


def configured_organization() -> Organization:
    """The deployment's organization (OPENIMR_ORGANIZATION, else the bundled file), read once
    per file version."""
    source = Path(os.environ.get(ORGANIZATION_ENV) or ORGANIZATION_FILE)
    try:
        mtime = source.stat().st_mtime_ns
    except OSError:
        mtime = -1  # load_organization says what is wrong with it
    return _cached(str(source), mtime)
