"""Precedent library: stored facet values move to the one vocabulary (openimr.vocab).

Body regions become the region keys of vocab/regions.yaml ("lumbar spine" -> "lumbar",
"wrist and hand" -> "hand", "upper extremities" -> "upper_extremity", ...). The old set
merged ankle with foot and chest with abdomen; those rows are split by what their request
names. Guideline keys of guidelines that now have one in the registry (Medicare fee schedule,
the MTUS drug formulary, occupational asthma, occupational interstitial lung disease) move
from the catch-all keys ("other:...", "mtus") to theirs. The SQLite facet column is generated
from body_region, so its full-text tokens follow the update through the index's triggers.
"""

from alembic import op

revision = "library_0003"
down_revision = "library_0002"
branch_labels = None
depends_on = None

RENAMED = {
    "lumbar spine": "lumbar",
    "cervical spine": "cervical",
    "thoracic spine": "thoracic",
    "wrist and hand": "hand",
    "upper extremities": "upper_extremity",
    "lower extremities": "lower_extremity",
}
# (old value, new key when the request names one of the words, new key otherwise)
SPLIT: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("ankle and foot", ("ankle", "achilles"), "ankle", "foot"),
    ("chest and abdomen", ("abdom", "hernia"), "abdomen", "chest"),
)
# (new key, words in the stored guideline name, keys they were filed under before)
GUIDELINES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("medicare-fee-schedule", ("medicare",), ("other:%",)),
    ("mtus-drug-formulary", ("formulary",), ("mtus", "other:%")),
    ("mtus-asthma", ("asthma",), ("mtus", "other:%")),
    ("mtus-interstitial-lung", ("interstitial lung",), ("mtus", "other:%")),
)

_TEXT = "lower(coalesce(disputed_request, request))"


def upgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(f"UPDATE library_items SET body_region = '{new}' WHERE body_region = '{old}'")
    for old, words, named, otherwise in SPLIT:
        named_sql = " OR ".join(f"{_TEXT} LIKE '%{w}%'" for w in words)
        op.execute(f"UPDATE library_items SET body_region = CASE WHEN {named_sql} THEN '{named}' ELSE '{otherwise}' END "
                   f"WHERE body_region = '{old}'")
    for key, words, before in GUIDELINES:
        was = " OR ".join(f"guideline_key LIKE '{b}'" for b in before)
        says = " OR ".join(f"lower(coalesce(guideline, '')) LIKE '%{w}%'" for w in words)
        op.execute(f"UPDATE library_citations SET guideline_key = '{key}' WHERE ({was}) AND ({says})")
        op.execute(
            f"UPDATE library_items SET guideline = '{key}' WHERE id IN (SELECT item_id FROM library_citations "
            f"WHERE role = 'imr' AND guideline_key = '{key}' AND position = 0) AND (guideline LIKE 'other:%' OR guideline = 'mtus')"
        )


def downgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(f"UPDATE library_items SET body_region = '{old}' WHERE body_region = '{new}'")
    for old, _words, named, otherwise in SPLIT:
        op.execute(f"UPDATE library_items SET body_region = '{old}' WHERE body_region IN ('{named}', '{otherwise}')")
    for key, _words, before in GUIDELINES:
        back = "mtus" if "mtus" in before else None
        if back:
            op.execute(f"UPDATE library_citations SET guideline_key = '{back}' WHERE guideline_key = '{key}'")
            op.execute(f"UPDATE library_items SET guideline = '{back}' WHERE guideline = '{key}'")
        else:  # the catch-all key was the cleaned-up name, lower case
            op.execute("UPDATE library_citations SET guideline_key = 'other:' || lower(guideline) "
                       f"WHERE guideline_key = '{key}'")
            op.execute("UPDATE library_items SET guideline = (SELECT c.guideline_key FROM library_citations c "
                       "WHERE c.item_id = library_items.id AND c.role = 'imr' AND c.position = 0) "
                       f"WHERE guideline = '{key}'")
