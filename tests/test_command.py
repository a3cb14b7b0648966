"""The command line starts both ways: the `openimr` script and `python -m openimr`."""

from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_openimr_is_the_command_line():
    done = subprocess.run([sys.executable, "-m", "openimr", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for command in ("parse", "evaluate", "case", "casefile", "serve"):
        assert command in done.stdout, command
