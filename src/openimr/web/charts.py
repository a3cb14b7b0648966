"""Server-side charts as inline SVG: overturned rate per group with its 95% interval."""

from __future__ import annotations

from html import escape


def rate_chart(rows: list[dict], title: str, limit: int = 15) -> str:
    """A horizontal bar chart of overturned rates (bars) with Wilson intervals (whiskers)."""
    rows = rows[:limit]
    label_w, bar_w, row_h, top = 340, 380, 26, 12
    height = top + row_h * max(len(rows), 1) + 30
    width = label_w + bar_w + 150
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'width="100%" class="chart" aria-labelledby="t-{id(rows)}">',
             f'<title id="t-{id(rows)}">{escape(title)}</title>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + tick * bar_w
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 24}" class="grid"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" class="tick" text-anchor="middle">{tick:.0%}</text>')
    for i, row in enumerate(rows):
        y = top + i * row_h
        label = row["group"] if len(row["group"]) <= 46 else row["group"][:45] + "…"
        rate_w = row["overturned_rate"] * bar_w
        low, high = label_w + row["ci_low"] * bar_w, label_w + row["ci_high"] * bar_w
        parts += [
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="label">{escape(label)}</text>',
            f'<rect x="{label_w}" y="{y + 4}" width="{max(rate_w, 1):.1f}" height="{row_h - 10}" class="bar">'
            f'<title>{escape(row["group"])}: {row["overturned"]} of {row["items"]} overturned '
            f'({row["overturned_rate"]:.0%}, 95% CI {row["ci_low"]:.0%}–{row["ci_high"]:.0%})</title></rect>',
            f'<line x1="{low:.1f}" y1="{y + 13}" x2="{high:.1f}" y2="{y + 13}" class="ci"/>',
            f'<text x="{label_w + bar_w + 8}" y="{y + 16}" class="value">'
            f'{row["overturned_rate"]:.0%} of {row["items"]}</text>',
        ]
    if not rows:
        parts.append(f'<text x="{label_w}" y="{top + 16}" class="label">no items yet</text>')
    parts.append("</svg>")
    return "".join(parts)
