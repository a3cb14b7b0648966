"""Root of every branch: creates nothing.

Each part of OpenIMR keeps its tables in its own branch that starts here
(branch labels: library, cases, web), so parts can grow their schema independently.
"""

revision = "base_0001"
down_revision = None
branch_labels = ("base",)
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
