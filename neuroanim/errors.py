"""The two kinds of failure the CLI reports in one line: bad input, a scene's bug."""

from __future__ import annotations


class UserError(ValueError):
    """Bad input: the CLI prints the message as one line and exits with status 2."""


class SceneError(Exception):
    """A scene's own code raised (its prepare, alt text or construct).

    The message is one line naming the scene's file and line. Not bad input of
    the command: the CLI exits 1, and a build marks only that figure failed.
    """
