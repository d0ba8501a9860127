"""The ``typology`` command-line tool (see :mod:`.app`)."""

from .app import EXIT_DATA, EXIT_OK, EXIT_USAGE, build_parser, main

__all__ = ["EXIT_DATA", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]
