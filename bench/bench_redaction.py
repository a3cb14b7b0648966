"""Redaction measured on the 129 real letters with the planted-identifier benchmark
(bench/redaction_plant.py): misses, and the clinical text kept."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT.parent / "shared" / "data" / "letters"


def run() -> str:
    """Markdown section with the measured figures."""
    import openimr
    from bench.redaction_plant import SEED, make_case, measure

    letters = [(p.name, openimr.read_letter(p)) for p in sorted(LETTERS.glob("*.pdf"))]
    started = time.perf_counter()
    result = measure(letters)
    seconds = time.perf_counter() - started
    kinds = Counter(kind for i in range(len(letters)) for kind, _ in make_case(i).forms)
    missed = Counter(form.split(":")[0] for _, form in result.survived + result.kept_by_design)
    per_letter = result.planted / max(result.letters, 1)
    rows = [
        f"| letters (all the shared letters) | {result.letters} |",
        f"| identifier forms planted (seed {SEED}) | {result.planted} ({per_letter:.0f} per letter) |",
        f"| planted forms not found in the planted letter (check of the check) | {len(result.not_planted)} |",
        f"| planted forms already in the real letter (not counted) | {len(result.unchecked)} |",
        f"| **planted forms surviving redaction** (rendered text) | **{len(result.survived)}** |",
        f"| undotted initials spelling an abbreviation, kept by design | {len(result.kept_by_design)} |",
        f"| **clinical text kept**, unplanted letters | **{100 * result.kept_ratio:.3f} %** "
        f"({result.clinical_chars - result.clinical_kept:,} of {result.clinical_chars:,} characters removed) |",
        f"| plant + redact + render, per letter | {1000 * seconds / max(result.letters, 1):.0f} ms |",
    ]
    by_kind = "\n".join(f"| {kind} | {count} | {missed.get(kind, 0)} |" for kind, count in sorted(kinds.items()))
    return (
        "## Redaction\n\n"
        "Every letter gets a made-up case from a seeded generator: the worker (hyphenated and compound\n"
        "surnames, accents, middle initials), physician, attorney, adjuster, a relative among the parties,\n"
        "people the records name that the case does not list, the expert reviewer, a workbench user, and\n"
        "the numbers (date of birth in eight formats, SSN with four separators, medical record, account,\n"
        "claim, ADJ and policy numbers, five phone formats, e-mail, street with and without the number).\n"
        "They are planted as sentences into the letter's real clinical summary and rationales; the letter\n"
        "is redacted with the case's redactor, rendered as text, and each planted form searched for.\n"
        "Bare surnames are planted too: a workbench user's, the physician's (\"Per Dr. Okafor\") and, in another field than\n"
        "the full name, that of someone the case does not list (\"spoke with Jensen\"): a name found by\n"
        "the titled, credentialed or relation patterns anywhere in the letter is removed from every field.\n"
        "Initials written without dots (\"MQG\", the worker's and the attorney's) are planted too and removed,\n"
        "unless they spell a clinical or administrative abbreviation (data/redaction.yaml `not_initials` and\n"
        "the credentials: \"MS\", \"PA\", \"DO\"), which stay by design so as not to cut the clinical text:\n"
        "those are planted as `initials_abbreviation` and counted apart, not in the surviving total.\n\n"
        "| measure | value |\n| --- | --- |\n" + "\n".join(rows) + "\n\n"
        "| kind of identifier | forms planted | surviving |\n| --- | --- | --- |\n" + by_kind + "\n"
    )


if __name__ == "__main__":  # pragma: no cover
    print(run())
