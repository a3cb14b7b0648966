"""`python -m openimr`: the same command line as the `openimr` script."""

from openimr.cli import main

main()
