"""Captions for the web: manim's SRT subcaptions as WebVTT, with escaped cue text."""

from __future__ import annotations

import re
from pathlib import Path

from . import files
from .errors import UserError

_TIMING = re.compile(
    r"^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*"
    r"(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
)


def _ms(h: str, m: str, s: str, frac: str) -> int:
    # "1,5" in a timestamp means 500 ms: the digits are a decimal fraction.
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac.ljust(3, "0"))


def _stamp(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, rest = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{rest:03d}"


def _escape_cue(line: str) -> str:
    """Cue text is markup in WebVTT: `&`, `<`, `>` must be character references.

    manim's subcaptions are plain text, so a caption such as "loss < 0.1" is shown
    literally rather than parsed as a tag (or ending the cue at `-->`).
    """
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse_srt(text: str) -> list[tuple[str, int, int, list[str]]]:
    """SRT text -> [(id, start_ms, end_ms, text lines)] in file order.

    Raises UserError naming the cue for a block without a valid timing line.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n[ \t]*\n", text.strip("\n"))
    cues = []
    for n, block in enumerate(b for b in blocks if b.strip()):
        lines = block.split("\n")
        ident = ""
        if lines and lines[0].strip().isdigit() and len(lines) > 1:
            ident = lines.pop(0).strip()
        m = _TIMING.match(lines[0]) if lines else None
        if not m:
            raise UserError(f"SRT cue {ident or n + 1}: no "
                            "'HH:MM:SS,mmm --> HH:MM:SS,mmm' line")
        start, end = _ms(*m.groups()[:4]), _ms(*m.groups()[4:])
        if end < start:
            raise UserError(f"SRT cue {ident or n + 1}: ends before it starts")
        cues.append((ident, start, end, lines[1:]))
    return cues


def srt_to_vtt(text: str) -> str:
    """WebVTT from SRT text: header, `.` before milliseconds, escaped text.

    Cues are sorted stably by start time, as WebVTT requires; SRT numbers are
    kept as cue identifiers.
    """
    cues = sorted(parse_srt(text), key=lambda c: c[1])
    out = ["WEBVTT", ""]
    for ident, start, end, lines in cues:
        if ident:
            out.append(ident)
        out.append(f"{_stamp(start)} --> {_stamp(end)}")
        out.extend(_escape_cue(line) for line in lines)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def write_vtt(srt_path: Path, vtt_path: Path) -> Path:
    """Convert an .srt file to .vtt beside it (atomically); UserError names the file."""
    srt_path, vtt_path = Path(srt_path), Path(vtt_path)
    try:
        text = srt_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{srt_path}: cannot read captions ({exc})") from None
    try:
        vtt = srt_to_vtt(text)
    except UserError as exc:
        raise UserError(f"{srt_path}: {exc}") from None
    files.atomic_write(vtt_path, vtt.encode("utf-8"))
    return vtt_path
