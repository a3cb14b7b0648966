"""The `openimr` command line: a thin shell over the library.

Each part of the system adds its own commands through `register(app)` in its `cli`
module; heavy imports stay inside the commands so that `openimr --help` is quick.
"""

from __future__ import annotations

import typer

from openimr import demo
from openimr.casefile import cli as casefile_cli
from openimr.cases import cli as cases_cli
from openimr.engine import cli as engine_cli
from openimr.letters import cli as letters_cli
from openimr.letters import render_cli
from openimr.library import cli as library_cli
from openimr.panel import cli as panel_cli
from openimr.web import cli as web_cli

app = typer.Typer(
    name="openimr",
    help="OpenIMR: Independent Medical Review letters, precedents, cases and determinations.",
    no_args_is_help=True,
    epilog="Example: openimr parse ../shared/data/letters --summary  (each command: openimr COMMAND --help)",
    add_completion=False,
    pretty_exceptions_enable=False,
)

# each part's commands, in the order of `openimr --help`
AREAS = (letters_cli, render_cli, library_cli, cases_cli, panel_cli, engine_cli, casefile_cli, web_cli, demo)



@app.callback()
def _root() -> None:
    """OpenIMR: Independent Medical Review letters, precedents, cases and determinations."""


for _area in AREAS:
    _area.register(app)


def main() -> None:
    """Entry point of the `openimr` script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
