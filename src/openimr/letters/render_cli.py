"""The `openimr render` command (being written)."""

import typer


def register(app: typer.Typer) -> None:
    """Add the render command."""
