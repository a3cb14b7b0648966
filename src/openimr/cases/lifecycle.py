"""The one lifecycle of a case, declared in data/lifecycle.yaml and checked at load.

`apply(row, action, role)` is the only way a case's status changes: it finds the transition
of `action` from the current status, checks the role may make it, sets the new status and
returns the audit event to write. An illegal transition is refused with one line
(`LifecycleError`, a CaseConflict: 409 in the web), a role that may not make it with
`NotPermitted` (403). Which states are open (a determination pending, deadlines running) or
signed (a Final Determination in force) is read from the same file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator

from openimr.cases.errors import CaseConflict, CaseError
from openimr.models import Model

FILE = Path(__file__).parent / "data" / "lifecycle.yaml"


class LifecycleError(CaseConflict):
    """A transition the lifecycle does not allow from the case's status."""


class NotPermitted(CaseError):
    """A transition the caller's role may not make."""


class State(Model):
    meaning: str
    open: bool = False  # a determination is pending: the case counts as open work, deadlines run
    signed: bool = False  # a Final Determination is in force


class Transition(Model):
    action: str
    from_: list[str] = Field(alias="from")
    to: str | list[str] | None  # None: the status stays
    by: list[str]
    event: str


class Lifecycle(Model):
    roles: list[str]
    initial: str
    states: dict[str, State]
    transitions: list[Transition]

    @model_validator(mode="after")
    def _names(self) -> Lifecycle:
        known = set(self.states)
        if self.initial not in known:
            raise ValueError(f"initial: {self.initial!r} is not a state")
        seen: set[tuple[str, str]] = set()
        for n, t in enumerate(self.transitions):
            targets = t.to if isinstance(t.to, list) else [t.to] if t.to else []
            for name in [*t.from_, *targets]:
                if name not in known:
                    raise ValueError(f"transitions.{n} ({t.action}): {name!r} is not a state")
            for role in t.by:
                if role not in self.roles:
                    raise ValueError(f"transitions.{n} ({t.action}): {role!r} is not a role")
            for source in t.from_:
                if (t.action, source) in seen:
                    raise ValueError(f"transitions.{n}: {t.action} from {source} is declared twice")
                seen.add((t.action, source))
        return self


@lru_cache(maxsize=1)
def load(path: Path = FILE) -> Lifecycle:
    """The lifecycle of data/lifecycle.yaml; ValueError naming the file and field otherwise."""
    from openimr.vocab.data import load as load_file

    return load_file(path.name, Lifecycle, path, ValueError)


def states(flag: str | None = None) -> tuple[str, ...]:
    """Every state, or those with `flag` set (open, signed), in the file's order."""
    return tuple(name for name, s in load().states.items() if flag is None or getattr(s, flag))


def sources(action: str) -> tuple[str, ...]:
    """The states `action` can be made from."""
    return tuple(s for t in load().transitions if t.action == action for s in t.from_)


def target(action: str) -> str | None:
    """The one state `action` leads to (None when it leads to several, or leaves the status)."""
    found = {t.to if isinstance(t.to, str) else None for t in load().transitions if t.action == action}
    return found.pop() if len(found) == 1 else None


def roles(action: str) -> tuple[str, ...]:
    """The roles that may make `action` from some state."""
    return tuple(dict.fromkeys(r for t in load().transitions if t.action == action for r in t.by))


def allowed(status: str, action: str, role: str) -> bool:
    """Whether `role` may make `action` from `status` (what a page offers)."""
    return any(t.action == action and status in t.from_ and role in t.by for t in load().transitions)


def require_role(case_number: str, action: str, by: tuple[str, ...] | list[str], role: str) -> None:
    """One line (NotPermitted) when `role` is not among the roles `by` that make `action`."""
    if role not in by:
        raise NotPermitted(f"case {case_number}: {action.replace('_', ' ')} is for {' or '.join(by)}; "
                           f"you act as {role}")


def transition(case_number: str, status: str, action: str, role: str) -> Transition:
    """The transition of `action` from `status` for `role`, or one line saying why not."""
    found = [t for t in load().transitions if t.action == action]
    if not found:
        raise CaseError(f"{action!r} is not an action of the case lifecycle")
    match = next((t for t in found if status in t.from_), None)
    if match is None:
        allowed = ", ".join(dict.fromkeys(s for t in found for s in t.from_))
        raise LifecycleError(f"case {case_number}: status {status}: cannot {action.replace('_', ' ')} "
                             f"(only from {allowed})")
    require_role(case_number, action, match.by, role)
    return match


def apply(row, action: str, role: str, to: str | None = None) -> str:
    """Move the case `row` by `action` (made by `role`); its new status set, the audit event
    returned. `to` picks the target where the transition allows several (screening)."""
    t = transition(row.case_number, row.status or load().initial, action, role)
    if isinstance(t.to, list):
        if to not in t.to:
            raise CaseError(f"case {row.case_number}: {action} leads to one of {', '.join(t.to)}, not {to}")
        row.status = to
    elif t.to is not None:
        row.status = t.to
    return t.event
