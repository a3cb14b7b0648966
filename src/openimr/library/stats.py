"""Decision statistics: items, upheld and overturned counts and rates with Wilson 95%
intervals, grouped by decision, category, guideline, reviewer specialty, month or body
region; charts as PNG or interactive HTML (SVG with hover details)."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.orm import Session

Grouping = Literal["decision", "category", "guideline", "specialty", "month", "region"]
GROUPS: tuple[str, ...] = get_args(Grouping)


class StatRow(BaseModel):
    """One group's counts and overturned rate with its Wilson 95% interval (the row of
    `openimr stats --json` and of the workbench's /api/stats)."""

    model_config = ConfigDict(extra="forbid")
    group: str
    items: int
    upheld: int
    overturned: int
    overturned_rate: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class StatsTable(BaseModel):
    """The rows of one grouping (the answer of the workbench's /api/stats)."""

    model_config = ConfigDict(extra="forbid")
    by: Grouping
    rows: list[StatRow]


Row = StatRow


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default)."""
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _group_sql(by: str, dialect: str) -> tuple[str, str]:
    if by == "decision":
        return "i.decision", ""
    if by == "category":
        return "i.category", ""
    if by == "region":
        return "coalesce(i.body_region, '(none)')", ""
    if by == "guideline":
        return "coalesce(i.guideline, '(none)')", ""
    if by == "month":
        month = "strftime('%Y-%m', i.decision_date)" if dialect == "sqlite" else "to_char(i.decision_date, 'YYYY-MM')"
        return f"coalesce({month}, '(no date)')", ""
    if by == "specialty":
        return "coalesce(r.value, '(none)')", "LEFT JOIN library_credentials r ON r.letter_id = i.letter_id AND r.kind = 'specialty'"
    raise ValueError(f"--by: unknown grouping {by!r}; one of {', '.join(GROUPS)}")


def stats(session: Session, by: str = "decision") -> list[Row]:
    """Counts and overturned rates per group, largest group first."""
    from openimr.library.classify import category_label
    from openimr.library.records import guideline_label

    group, join = _group_sql(by, session.get_bind().dialect.name)
    sql = (
        f"SELECT {group} AS g, count(*) AS n, sum(CASE WHEN i.overturned THEN 1 ELSE 0 END) AS o "
        f"FROM library_items i {join} GROUP BY {group} ORDER BY count(*) DESC, {group}"
    )
    result = session.execute(text(sql)).all()
    rows = []
    for name, n, overturned in result:
        overturned = int(overturned or 0)
        low, high = wilson(overturned, n)
        label = str(name)
        if by == "category":
            label = category_label(label)
        elif by == "guideline" and label != "(none)":
            label = guideline_label(label) or label
        rows.append(
            StatRow(
                group=label, items=n, upheld=n - overturned, overturned=overturned,
                overturned_rate=round(overturned / n, 4) if n else 0.0, ci_low=round(low, 4), ci_high=round(high, 4),
            )
        )
    return rows


def chart(rows: list[Row], path: Path, title: str) -> Path:
    """Write a chart of overturned rates with intervals: PNG, or interactive HTML."""
    suffix = path.suffix.lower()
    if suffix == ".png":
        return _png(rows, path, title)
    if suffix in (".html", ".htm"):
        path.write_text(_html(rows, title), encoding="utf-8")
        return path
    raise ValueError(f"{path}: chart must be .png or .html")


def _png(rows: list[Row], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = rows[:30]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(shown) + 1.5))
    ys = range(len(shown))
    rates = [r.overturned_rate * 100 for r in shown]
    errors = [[(r.overturned_rate - r.ci_low) * 100 for r in shown], [(r.ci_high - r.overturned_rate) * 100 for r in shown]]
    ax.barh(list(ys), rates, xerr=errors, color="#4472c4", ecolor="#333", capsize=3)
    ax.set_yticks(list(ys), [f"{r.group[:40]} (n={r.items})" for r in shown])
    ax.invert_yaxis()
    ax.set_xlabel("Overturned (%) with Wilson 95% interval")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _html(rows: list[Row], title: str) -> str:
    bar_h, width, left = 22, 420, 260
    height = bar_h * len(rows) + 40
    parts = []
    for n, r in enumerate(rows):
        y = 20 + n * bar_h
        tip = html.escape(f"{r.group}: {r.overturned}/{r.items} overturned = {r.overturned_rate:.1%} (95% CI {r.ci_low:.1%}–{r.ci_high:.1%})")
        parts.append(
            f'<g><title>{tip}</title><text x="{left - 6}" y="{y + 15}" text-anchor="end">{html.escape(r.group[:40])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{r.overturned_rate * width:.1f}" height="{bar_h - 6}" fill="#4472c4"/>'
            f'<line x1="{left + r.ci_low * width:.1f}" x2="{left + r.ci_high * width:.1f}" y1="{y + 11}" y2="{y + 11}" stroke="#222"/></g>'
        )
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" height="{height}" font-family="sans-serif" font-size="12">{"".join(parts)}</svg>'
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>g:hover rect{fill:#c0504d}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Overturned rate with Wilson 95% interval; hover a bar for the counts.</p>{svg}</body></html>"
    )
