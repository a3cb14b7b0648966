"""Command-line commands of this part (none yet)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this part's commands to the `openimr` application."""
