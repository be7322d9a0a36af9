"""The one exception type that means "the user asked for something invalid"."""

from __future__ import annotations


class UserError(ValueError):
    """Bad input: the CLI prints the message as one line and exits with status 2."""
