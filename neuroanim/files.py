"""Files in an output folder: safe names, writes that never follow a planted link.

An output folder is shared ground: a course's other tools, an editor or someone
with write access may have put anything there, the manifest included. So every
name read back from disk must be a plain file name inside the folder, files are
opened without following symbolic links, and every write goes to a fresh
temporary name created exclusively, then renamed into place (a rename replaces
a link itself, never its target).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from pathlib import Path

NAME_MAX = 255  # bytes in one file name on Linux, macOS and Windows file systems
# The longest decoration a build adds to a name it writes: `.NAME.XXXXXXXX.part`
# (atomic writes) and `.STEM.fit-XXXXXXXX.gif` (GIF attempts) add at most this.
TEMP_EXTRA = 16
PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
VIDEO_FORMATS = ("mp4", "webm", "mov")
CAPTIONED_FORMATS = (*VIDEO_FORMATS, "gif")  # formats that carry .srt/.vtt captions
FORMAT_OF = {"html": "interactive"}  # extension -> format, where they differ


class WriteError(OSError):
    """A file the build had to write could not be written (disk full, permissions).

    Not bad input: the CLI prints one line naming the file and exits 1.
    """


def plain_name(name: object) -> bool:
    """Is `name` a plain file name: no folder part, nothing hidden, not too long?"""
    return (isinstance(name, str) and bool(PLAIN.fullmatch(name))
            and ".." not in name and len(name.encode()) <= NAME_MAX)


def poster_name(name: str) -> str:
    """`and-gate.mp4` -> `and-gate.poster.png`."""
    return Path(name).stem + ".poster.png"


def caption_names(name: str) -> dict[str, str]:
    """`and-gate.mp4` -> {"srt": "and-gate.srt", "vtt": "and-gate.vtt"}."""
    stem = Path(name).stem
    return {"srt": stem + ".srt", "vtt": stem + ".vtt"}


def sidecars(name: str, fmt: str) -> list[str]:
    """Every file a build writes beside output `name`: poster and captions."""
    out = []
    if fmt in VIDEO_FORMATS:
        out.append(poster_name(name))
    if fmt in CAPTIONED_FORMATS:
        out += caption_names(name).values()
    return out


def regular_file(folder: Path, name: object) -> Path | None:
    """`folder/name` when `name` is plain and names a regular file (not a link)."""
    if not plain_name(name):
        return None
    path = Path(folder) / str(name)
    try:
        return path if stat.S_ISREG(os.lstat(path).st_mode) else None
    except OSError:
        return None


def read_bytes(path: Path, limit: int) -> bytes:
    """A regular file's bytes, opened without following a link; at most `limit`.

    OSError (ELOOP for a link, EFBIG past the limit) for anything else.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if st.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return fh.read(limit + 1)[:limit]


def umask() -> int:
    """The process umask, read without changing it where Linux allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def temp_beside(path: Path, suffix: str = ".part") -> Path:
    """A new, empty, exclusively created file beside `path` (mode 0600).

    mkstemp opens with O_CREAT | O_EXCL, which never follows a link: a name
    planted in advance makes it pick another one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def atomic_write(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically: readers see the old file or the new one.

    The bytes go to an exclusive temporary name beside `path`, get the usual
    mode (0666 less the umask, so a web server can read them), and are renamed
    over `path`. A failure leaves the old file and no temporary behind, and is
    a WriteError naming `path`.
    """
    path = Path(path)
    tmp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                    dir=path.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise WriteError(exc.errno or errno.EIO, exc.strerror or str(exc),
                         str(path)) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return path


def place(files: list[tuple[Path, Path]]) -> None:
    """Copy each `src` beside its `dest` under an exclusive temporary name, then
    rename them all, last and together (a video and its captions as a pair).

    Copy, not move: the source may be on another file system, and only a rename
    within one folder is atomic.
    """
    parts: list[tuple[Path, Path]] = []
    current = files[0][1] if files else None
    try:
        for src, dest in files:
            current = dest
            tmp = temp_beside(dest)
            parts.append((tmp, dest))
            with open(src, "rb") as fin, open(tmp, "r+b") as fout:
                while chunk := fin.read(1 << 20):
                    fout.write(chunk)
            os.chmod(tmp, 0o666 & ~umask())
        for tmp, dest in parts:
            current = dest
            os.replace(tmp, dest)
    except OSError as exc:
        raise WriteError(exc.errno or errno.EIO, exc.strerror or str(exc),
                         str(current)) from exc
    finally:
        for tmp, _ in parts:
            tmp.unlink(missing_ok=True)


_NUMBERS = ("bytes", "width", "height", "fps", "frames", "duration", "mtime_ns",
            "seconds", "cpu")
_TEXTS = ("figure", "scene", "format", "theme", "quality", "key", "made", "alt",
          "title", "sha256")


def link_href_ok(href: str) -> bool:
    """A relative URL (chapter-3/index.html, ../x.html#y) or http(s) address."""
    if not href or any(c.isspace() or ord(c) < 32 for c in href) or "\\" in href:
        return False
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", href)
    if scheme:
        return scheme.group(1).lower() in ("http", "https") and href.startswith(
            scheme.group(1) + "://")
    return not href.startswith("//")


def base_url_ok(url: str) -> bool:
    """A base URL for snippets: http(s)://..., /abs/path/ or rel/path/ (no quotes,
    spaces, query or fragment: it is glued in front of file names)."""
    return link_href_ok(url) and not any(c in url for c in "\"'<>?#")


def base_join(base: str | None, name: str) -> str:
    """`name` as a course site serves it: under `base` ("" or None: as is)."""
    if not base:
        return name
    return base if base.endswith("/") and not name else (
        base.rstrip("/") + "/" + name)


def entry_problem(name: object, entry: object) -> str | None:
    """Why a manifest record cannot be trusted as written by a build, or None.

    The manifest is read back from disk, so it is untrusted input: its output
    name must be plain, its poster and captions exactly the names a build gives
    them (never a path elsewhere), and every field of the type a build writes.
    """
    if not plain_name(name):
        return f"output name {name!r} is not a plain file name"
    if not isinstance(entry, dict):
        return "is not an object"
    fmt = Path(str(name)).suffix.lstrip(".")
    poster = entry.get("poster")
    if poster is not None and (fmt not in VIDEO_FORMATS or poster != poster_name(name)):
        return f"poster {poster!r} is not {poster_name(name)!r}"
    caps = entry.get("captions")
    if caps is not None and (fmt not in CAPTIONED_FORMATS
                             or caps != caption_names(str(name))):
        return f"captions {caps!r} are not {caption_names(str(name))!r}"
    for key in _NUMBERS:
        v = entry.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            return f"field {key!r} is not a number"
    for key in _TEXTS:
        v = entry.get(key)
        if v is not None and not isinstance(v, str):
            return f"field {key!r} is not text"
    if entry.get("format") not in (None, FORMAT_OF.get(fmt, fmt)):
        return f"format {entry.get('format')!r} does not match the name"
    notes = entry.get("notes")
    if notes is not None and not (isinstance(notes, list)
                                  and all(isinstance(n, str) for n in notes)):
        return "field 'notes' is not a list of text"
    opts = entry.get("options")
    if opts is not None and not isinstance(opts, dict):
        return "field 'options' is not an object"
    link = entry.get("link")
    if link is not None and not (isinstance(link, dict) and set(link) == {"text", "href"}
                                 and all(isinstance(v, str) for v in link.values())):
        return "field 'link' is not {text, href}"
    return None


def trusted_outputs(outputs: dict, source: object, warn) -> dict:
    """The records of `outputs` that pass `entry_problem`; each other one is
    dropped with a warning (a build renders it again; the page leaves it out)."""
    good = {}
    for name, entry in outputs.items():
        problem = entry_problem(name, entry)
        if problem is None:
            good[name] = entry
        else:
            warn(f"warning: {source}: entry {str(name)[:80]!r} {problem}; "
                 "ignoring it (a build renders it again)")
    return good
