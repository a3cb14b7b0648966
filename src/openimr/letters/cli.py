"""Command-line commands of this part (filled in below)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this part's commands to the `openimr` application."""
