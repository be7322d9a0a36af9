"""The `neuroanim` command: a no-op build answered from its record, else the CLI.

Kept apart from `cli` so that a build with nothing to do imports neither numpy
nor any scene (see `nochange`).
"""

from __future__ import annotations

import os
import sys
import time

from . import nochange


def main() -> None:
    started = time.perf_counter()
    argv = nochange.fast_argv(sys.argv[1:])
    lines = nochange.unchanged(argv) if argv else None
    if lines is not None:
        try:
            for line in lines:
                print(line.replace("{seconds}", f"{time.perf_counter() - started:.1f}"))
            sys.stdout.flush()
        except BrokenPipeError:
            os._exit(0)
        sys.exit(0)
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:  # Ctrl-C while starting up: no traceback
        sys.exit(130)
    cli_main()
