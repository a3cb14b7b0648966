"""`openimr demo`: the main job on the embedded default."""

import typer


def register(app: typer.Typer) -> None:
    """Add the demo command."""
