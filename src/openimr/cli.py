"""The `openimr` command line: a thin shell over the library.

Each part of the system adds its own commands through `register(app)` in its `cli`
module; heavy imports stay inside the commands so that `openimr --help` is quick.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="openimr",
    help="OpenIMR: Independent Medical Review letters, precedents, cases and determinations.",
    no_args_is_help=True,
    epilog="Example: openimr parse ../shared/data/letters --summary  (each command: openimr COMMAND --help)",
    add_completion=False,
    pretty_exceptions_enable=False,
)

AREAS = (
    "openimr.letters.cli",
    "openimr.letters.render_cli",
    "openimr.library.cli",
    "openimr.cases.cli",
    "openimr.panel.cli",
    "openimr.engine.cli",
    "openimr.casefile.cli",
    "openimr.web.cli",
    "openimr.demo",
)



@app.callback()
def _root() -> None:
    """OpenIMR: Independent Medical Review letters, precedents, cases and determinations."""


for _module in AREAS:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Entry point of the `openimr` script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
