"""Case workflow figures: case intake throughput (redaction: bench_redaction.py)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT.parent / "shared" / "data" / "letters"
APPLICATION = ROOT / "tests" / "cases" / "data" / "application.json"


def _intake(count: int = 200) -> list[str]:
    import copy
    import json

    from openimr.cases import store
    from openimr.cases.intake import parse_application
    from openimr.cases.settings import load_settings

    base = json.loads(APPLICATION.read_text())
    settings = load_settings()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        store.ready(url)
        started = time.perf_counter()
        for k in range(count):
            data = copy.deepcopy(base)
            data["employee"]["name"] = f"Worker {k}"
            store.run(url, store.create_case, parse_application(data), settings, actor="bench")
        seconds = time.perf_counter() - started
    return [f"| `case new` (screen, store, audit) on SQLite | {1000 * seconds / count:.1f} ms per case |"]


def run() -> str:
    """Markdown section with the measured figures."""
    rows = _intake()
    return "## Case workflow\n\n| measure | value |\n| --- | --- |\n" + "\n".join(rows) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(run())
