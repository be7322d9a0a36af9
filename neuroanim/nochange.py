"""A no-op build in milliseconds: has anything a build reads changed since the last?

A finished build records every file it depends on with its size and mtime (the
lesson, the trajectory files it names, the source of every module whose code is
in a key, the scene folders, the library folders where packages get installed,
and every file it wrote), plus the lines it would print were nothing to render.
The next `neuroanim build` with the same command line in the same folder stats
those files before importing anything else (no numpy, no scenes): if all match,
nothing can have changed and it prints the no-op report. Anything else, or any
doubt, runs the real build. Size and mtime decide, as git's index and the
build's own output check do.

The record lives in the user's cache folder, not in the (shared) output folder,
and only ever makes a build do less work when every recorded file is as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

SCHEMA = "neuroanim.nochange/1"
MAX_BYTES = 8_000_000


def cache_root() -> Path:
    """The cache folder `render.cache_dir` uses (without creating or checking it)."""
    env = os.environ.get("NEUROANIM_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "neuroanim"


def _record_path(argv: list[str]) -> Path:
    key = json.dumps([SCHEMA, os.getcwd(), sys.executable, argv])
    return cache_root() / "nochange" / (hashlib.sha256(key.encode()).hexdigest()[:32]
                                        + ".json")


def _stat(path: str) -> list[int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def record(argv: list[str], paths, lines: list[str]) -> None:
    """Remember that `argv` ran to the end with nothing left to render."""
    doc = {"schema": SCHEMA, "files": {str(p): _stat(str(p)) for p in sorted(
        {os.path.abspath(p) for p in paths})}, "lines": lines}
    target = _record_path(argv)
    try:
        from .files import atomic_write

        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, json.dumps(doc).encode())
    except OSError:
        pass  # a missing record only costs the next build its fast path


def forget(argv: list[str]) -> None:
    try:
        _record_path(argv).unlink(missing_ok=True)
    except OSError:
        pass


def unchanged(argv: list[str]) -> list[str] | None:
    """The recorded no-op report when every recorded file is as it was, else None."""
    try:
        path = _record_path(argv)
        if path.stat().st_size > MAX_BYTES:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        return None
    files, lines = doc.get("files"), doc.get("lines")
    if not isinstance(files, dict) or not isinstance(lines, list) or not files:
        return None
    for name, seen in files.items():  # a file missing then must be missing now
        if _stat(name) != seen:
            return None
    return [str(x) for x in lines]


FAST_OPTIONS = {"-o", "--out-dir", "-j", "--jobs"}


def fast_argv(args: list[str]) -> list[str] | None:
    """`build [LESSON] [-o DIR] [-j N]` normalised, or None for anything else."""
    if not args or args[0] != "build":
        return None
    rest, out, positional = args[1:], [], 0
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in FAST_OPTIONS and i + 1 < len(rest):
            out += [a, rest[i + 1]]
            i += 2
        elif not a.startswith("-") and positional == 0:
            out.append(a)
            positional += 1
            i += 1
        else:
            return None  # --force, --only, -n, --debug, --scenes...: the real thing
    return ["build", *out]
