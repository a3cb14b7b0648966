"""Case workflow figures: redaction on the 129 real letters, and case intake throughput."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT.parent / "shared" / "data" / "letters"
APPLICATION = ROOT / "tests" / "cases" / "data" / "application.json"


def _redaction() -> list[str]:
    import openimr
    from openimr.cases.redaction_check import measure

    letters = [(p.name, openimr.read_letter(p)) for p in sorted(LETTERS.glob("*.pdf"))]
    started = time.perf_counter()
    result = measure(letters)
    seconds = time.perf_counter() - started
    return [
        f"| letters | {result.letters} |",
        f"| identifiers planted (summary and every rationale) | {result.planted} |",
        f"| planted identifiers not present before redaction | {len(result.not_planted)} |",
        f"| planted identifiers surviving redaction (rendered text) | {len(result.survived)} |",
        f"| clinical text kept, unplanted letters | {100 * result.kept_ratio:.3f} % |",
        f"| plant + redact + render, per letter | {1000 * seconds / max(result.letters, 1):.1f} ms |",
    ]


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
            store.create_case(url, parse_application(data), settings, actor="bench")
        seconds = time.perf_counter() - started
    return [f"| `case new` (screen, store, audit) on SQLite | {1000 * seconds / count:.1f} ms per case |"]


def run() -> str:
    """Markdown section with the measured figures."""
    rows = _redaction() + _intake()
    return "## Case workflow\n\n| measure | value |\n| --- | --- |\n" + "\n".join(rows) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(run())
