"""`make bench`: runs every benchmark module and writes docs/benchmarks.md.

Each module bench/bench_<part>.py has `run() -> str`, returning a Markdown section with
the figures it measured (ratios measured side by side in the same run).
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE.parent / "docs" / "benchmarks.md"


def main(selected: list[str]) -> None:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    sections = []
    for name in names:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        section = importlib.import_module(f"bench.{name}").run()
        print(section, flush=True)
        sections.append(section.rstrip() + f"\n\n_({name} took {time.perf_counter() - started:.0f} s)_\n")
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"Python {platform.python_version()}, {platform.machine()}, 2 cores.\n"
        "Ratios are measured side by side in the same run.\n\n"
    )
    if selected and OUT.exists():
        print("(partial run: docs/benchmarks.md not rewritten)")
        return
    OUT.write_text(header + "\n".join(sections))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
