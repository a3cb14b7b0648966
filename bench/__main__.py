"""`make bench`: runs every benchmark module and writes docs/benchmarks.md.

Each module bench/bench_<part>.py has `run() -> str`, returning a Markdown section with
the figures it measured (ratios measured side by side in the same run); each module runs
in a fresh process of its own. Each section is
kept between markers, so `python -m bench parse` re-measures one part and replaces only
its section; `make bench` (no names) measures them all and rewrites the file.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
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


def _run_isolated(name: str) -> str:
    """A benchmark's section, measured in a fresh Python process.

    Each part runs alone: a process that already loaded another part's libraries (thread
    pools, models) would slow the next part's worker processes and distort its figures.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".md") as out:
        code = (
            "import importlib, sys; "
            f"section = importlib.import_module('bench.{name}').run(); "
            "open(sys.argv[1], 'w').write(section)"
        )
        subprocess.run([sys.executable, "-c", code, out.name], cwd=HERE.parent, check=True)
        return Path(out.name).read_text()


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
        section = _run_isolated(name)
        print(section, flush=True)
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        kept[name] = _marked(name, section.rstrip() + f"\n\n_({name}: measured {stamp}, took {time.perf_counter() - started:.0f} s)_\n")
    header = HEADER.format(python=platform.python_version(), machine=platform.machine())
    OUT.write_text(header + "\n".join(kept[n] for n in sorted(kept)))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
