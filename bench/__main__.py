"""`make bench`: runs every benchmark module and writes docs/benchmarks.md.

Each module bench/bench_<part>.py has `run() -> str`, returning a Markdown section with
the figures it measured (ratios measured side by side in the same run). Each section is
kept between markers, so `python -m bench parse` re-measures one part and replaces only
its section; `make bench` (no names) measures them all and rewrites the file.
"""

from __future__ import annotations

import importlib
import platform
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Written by `make bench` (all parts) or `python -m bench NAME` (one part's section), "
    "Python {python}, {machine}, 2 cores. Ratios are measured side by side in the same run; "
    "each section says when it was measured.\n\n"
)


def _marked(name: str, body: str) -> str:
    return f"<!-- bench:{name} -->\n{body.rstrip()}\n<!-- /bench:{name} -->\n"


def _sections(text: str) -> dict[str, str]:
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r"<!-- bench:(\w+) -->\n.*?<!-- /bench:\1 -->\n", text, re.DOTALL)
    }


def main(selected: list[str]) -> None:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
        if not names:
            raise SystemExit(f"no benchmark matches {' '.join(selected)}")
    kept = _sections(OUT.read_text()) if selected and OUT.exists() else {}
    for name in names:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        section = importlib.import_module(f"bench.{name}").run()
        print(section, flush=True)
        stamp = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
        kept[name] = _marked(name, section.rstrip() + f"\n\n_({name}: measured {stamp}, took {time.perf_counter() - started:.0f} s)_\n")
    header = HEADER.format(python=platform.python_version(), machine=platform.machine())
    OUT.write_text(header + "\n".join(kept[n] for n in sorted(kept)))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
