"""The preview page: every output of a build as a course page shows it, with embeds.

No manim import here: the page works from finished files and the manifest, so a
lesson build that skips every render can still rewrite it in milliseconds.
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from importlib.resources import files as package_files
from pathlib import Path
from urllib.parse import quote

from . import files
from .errors import UserError
from .wording import LANGUAGES

BROWSER_VIDEO = {"webm": "video/webm", "mp4": "video/mp4"}  # <source> order: webm first


def human_size(n: int | float | None) -> str:
    """Bytes in decimal units (1 MB = 1,000,000), the units GIF budgets use."""
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def _url(name: str) -> str:
    return quote(name.replace(os.sep, "/"))


def _link(base: str | None, name: str) -> str:
    """`name` where the course site serves it (`build --base-url`)."""
    return files.base_join(base, _url(name))


def _a(value) -> str:
    return html.escape(str(value), quote=True)


VTT_MAX = 5_000_000  # bytes: far beyond any lesson's captions


def _data_url(out_dir: Path, name: object) -> str | None:
    """A captions file of the output folder as a data: URL, or None.

    `name` comes from a manifest, which anyone may have edited: only a plain
    `.vtt` name of a regular file inside `out_dir` is ever opened.
    """
    path = files.regular_file(out_dir, name)
    if path is None or path.suffix != ".vtt":
        return None
    try:
        raw = files.read_bytes(path, VTT_MAX)
    except OSError:
        return None
    return "data:text/vtt;base64," + base64.b64encode(raw).decode("ascii")


_FORMAT_ORDER = {f: i for i, f in enumerate(("mp4", "webm", "mov", "gif", "png",
                                               "interactive"))}
_THEME_ORDER = {"light": 0, "dark": 1}
_BACKGROUNDS = {"dark": "#111318", "light": "#FFFFFF"}


def _figures(manifest: dict) -> dict[str, list[tuple[str, dict]]]:
    """Outputs grouped by figure in lesson order, each group sorted for display."""
    groups: dict[str, list[tuple[str, dict]]] = {}
    for name, entry in (manifest.get("outputs") or {}).items():
        groups.setdefault(str(entry.get("figure") or entry.get("scene") or name),
                          []).append((name, entry))
    order = manifest.get("figures")  # the lesson's order; others after, by name
    if isinstance(order, list):
        rank = {str(n): i for i, n in enumerate(order)}
        groups = dict(sorted(groups.items(), key=lambda g: (rank.get(g[0], len(rank)),
                                                            g[0])))
    for items in groups.values():
        primary = _primary(items)
        items.sort(key=lambda it: (_lang(it[1]) != primary, _lang(it[1]),
                                   _FORMAT_ORDER.get(it[1].get("format"), 9),
                                   _THEME_ORDER.get(it[1].get("theme"), 2), it[0]))
    return groups


def _lang(entry: dict) -> str:
    lang = entry.get("language")
    return lang if isinstance(lang, str) and lang in LANGUAGES else "en"


def _track(lang: str, src: str, default: bool = True) -> str:
    """A captions <track> in `lang`, labelled in that language."""
    name = LANGUAGES[lang].name
    return (f'<track kind="captions" srclang="{lang}" label="{_a(name)}" '
            f'src="{_a(src)}"{" default" if default else ""}>')


def _primary(items: list[tuple[str, dict]]) -> str:
    """A figure's first language (its unsuffixed outputs speak it)."""
    langs = items[0][1].get("languages") if items else None
    if isinstance(langs, list) and langs and langs[0] in LANGUAGES:
        return langs[0]
    return _lang(items[0][1]) if items else "en"


def _fmt(entry: dict, name: str) -> str:
    return str(entry.get("format") or Path(name).suffix.lstrip(".")).lower()


def _media(out_dir: Path, name: str, entry: dict) -> str:
    """The figure as a course page shows it (tracks inlined as data: URLs)."""
    fmt = _fmt(entry, name)
    alt = entry.get("alt") or ""
    size = ""
    if entry.get("width") and entry.get("height"):
        size = f' width="{int(entry["width"])}" height="{int(entry["height"])}"'
    if files.regular_file(out_dir, name) is None:
        return f'<p class="missing">{_a(name)} is missing: run the build again</p>'
    if fmt in BROWSER_VIDEO:
        poster = entry.get("poster")
        attrs = f' poster="{_a(_url(poster))}"' if poster else ""
        track = ""
        caps = entry.get("captions") or {}
        if caps.get("vtt"):
            src = _data_url(out_dir, caps.get("vtt"))
            if src:
                track = _track(_lang(entry), src)
        return (f'<video controls preload="metadata" playsinline{size}{attrs} '
                f'aria-label="{_a(alt)}"><source src="{_a(_url(name))}" '
                f'type="{BROWSER_VIDEO[fmt]}">{track}</video>')
    if fmt in ("gif", "png"):
        return f'<img src="{_a(_url(name))}" alt="{_a(alt)}"{size}>'
    if fmt == "interactive":
        return _iframe(name, entry)
    poster = entry.get("poster")
    img = (f'<img src="{_a(_url(poster))}" alt="{_a(alt)}"{size}>' if poster else "")
    return (f'{img}<p class="download"><a href="{_a(_url(name))}">{_a(name)}</a>: '
            f'an editing format browsers do not play</p>')


def _facts(entry: dict, name: str) -> str:
    fmt = _fmt(entry, name)
    bits = [fmt.upper(), str(entry.get("theme") or "")]
    if entry.get("width") and entry.get("height"):
        bits.append(f'{entry["width"]}×{entry["height"]}')
    if fmt not in ("png", "interactive") and entry.get("duration"):
        bits.append(f'{float(entry["duration"]):.1f} s')
    if fmt != "png" and entry.get("fps"):
        bits.append(f'{float(entry["fps"]):g} fps')
    bits.append(human_size(entry.get("bytes")))
    return " · ".join(_a(b) for b in bits if b)


Snippet = tuple[str, list[tuple[str, str]]]  # (label, [(language, code), ...])


def _snippets(items: list[tuple[str, dict]], base: str | None = None) -> list[Snippet]:
    """Copy-paste embeds for one figure, with paths relative to `base` (where the
    course site serves the files; None: to this folder): stills and GIFs switch theme with <picture>; a video cannot
    switch its poster and captions by media query, so each theme gets its own."""
    out: list[Snippet] = []
    by_fmt: dict[str, dict[str, tuple[str, dict]]] = {}
    primary = _primary(items)
    captions = {}  # (theme, language) -> the .vtt of that language's video
    for name, entry in items:
        vtt = (entry.get("captions") or {}).get("vtt")
        if vtt and _fmt(entry, name) in BROWSER_VIDEO:
            captions.setdefault((entry.get("theme") or "dark", _lang(entry)), vtt)
    items = [(n, e) for n, e in items if _lang(e) == primary]
    for name, entry in items:
        theme = entry.get("theme") or "dark"
        by_fmt.setdefault(_fmt(entry, name), {})[theme] = (name, entry)
    for fmt, kind in (("gif", "GIF"), ("png", "Still")):
        variants = by_fmt.get(fmt) or {}
        if "light" in variants and "dark" in variants:
            (light, le), (dark, _) = variants["light"], variants["dark"]
            code = (f'<picture>\n  <source srcset="{_a(_link(base, dark))}" '
                    f'media="(prefers-color-scheme: dark)">\n  '
                    f'<img src="{_a(_link(base, light))}" alt="{_a(le.get("alt") or "")}"'
                    f'{_dims(le)}>\n</picture>')
            out.append((f"{kind}: light page, dark when the reader prefers dark "
                        "(Markdown: light only)",
                        [("HTML", code), ("Markdown", _md_image(light, le, base))]))
            continue
        for theme, (n, e) in sorted(variants.items()):
            code = f'<img src="{_a(_link(base, n))}" alt="{_a(e.get("alt") or "")}"{_dims(e)}>'
            out.append((f"{kind}, {theme}", [("HTML", code),
                                             ("Markdown", _md_image(n, e, base))]))
    for theme, (n, e) in sorted((by_fmt.get("interactive") or {}).items(),
                                key=lambda it: _THEME_ORDER.get(it[0], 2)):
        out.append((f"Interactive, {theme}", [("HTML", _iframe(n, e, base))]))
    videos: dict[str, list[tuple[str, dict]]] = {}
    for name, entry in items:
        if _fmt(entry, name) in BROWSER_VIDEO:
            videos.setdefault(entry.get("theme") or "dark", []).append((name, entry))
    for theme in sorted(videos, key=lambda t: _THEME_ORDER.get(t, 2)):
        tracks = sorted(((lang, vtt) for (th, lang), vtt in captions.items()
                         if th == theme), key=lambda lv: lv[0] != primary)
        out.append((f"Video for a {theme} page", _video_snippet(videos[theme], tracks, base)))
    return out


def _video_snippet(vids: list[tuple[str, dict]],
                   tracks: list[tuple[str, str]] | None = None,
                   base: str | None = None) -> list[tuple[str, str]]:
    """One <video> with every browser format as a <source> (webm first: smaller)
    and one captions <track> per language (the figure's first is the default)."""
    order = list(BROWSER_VIDEO)
    vids = sorted(vids, key=lambda it: order.index(_fmt(it[1], it[0])))
    first = vids[0][1]
    alt = first.get("alt") or ""
    poster = next((e["poster"] for _, e in vids if e.get("poster")), None)
    if tracks is None:
        vtt = next((e["captions"]["vtt"] for _, e in vids
                    if (e.get("captions") or {}).get("vtt")), None)
        tracks = [(_lang(first), vtt)] if vtt else []
    lines = [f'<video controls preload="metadata" playsinline{_dims(first)}'
             + (f' poster="{_a(_link(base, poster))}"' if poster else "")
             + f' aria-label="{_a(alt)}">']
    lines += [f'  <source src="{_a(_link(base, n))}" type="{BROWSER_VIDEO[_fmt(e, n)]}">'
              for n, e in vids]
    lines += [f"  {_track(lang, _link(base, vtt), default=i == 0)}"
              for i, (lang, vtt) in enumerate(tracks)]
    lines.append("</video>")
    code = [("HTML", "\n".join(lines))]
    if poster:  # Markdown has no video: the poster, linking to the most playable file
        code.append(("Markdown", f"[![{_md_text(alt)}]({_link(base, poster)})]"
                                 f"({_link(base, vids[-1][0])})"))
    return code


def _iframe(name: str, entry: dict, base: str | None = None) -> str:
    """The widget page in a frame of its own, at the figure's aspect ratio."""
    w, h = int(entry.get("width") or 854), int(entry.get("height") or 480)
    title = entry.get("title") or entry.get("figure") or name
    return (f'<iframe src="{_a(_link(base, name))}" title="{_a(f"Interactive: {title}")}" '
            f'loading="lazy" style="width: 100%; aspect-ratio: {w} / {h}; border: 0">'
            "</iframe>")


def _dims(entry: dict) -> str:
    if entry.get("width") and entry.get("height"):
        return f' width="{int(entry["width"])}" height="{int(entry["height"])}"'
    return ""


def _md_text(text: str) -> str:
    return re.sub(r"([\[\]\\])", r"\\\1", text.replace("\n", " "))


def _md_image(name: str, entry: dict, base: str | None = None) -> str:
    return f"![{_md_text(entry.get('alt') or '')}]({_link(base, name)})"


def _tile(out_dir: Path, name: str, entry: dict) -> str:
    """One output on the background of its theme, with its facts and notes."""
    theme = entry.get("theme") or "dark"
    notes = "".join(f"<li>{_a(n)}</li>" for n in entry.get("notes") or [])
    bg = entry.get("background")
    if not (isinstance(bg, str) and re.fullmatch(r"#[0-9A-Fa-f]{6}", bg)):
        bg = _BACKGROUNDS.get(theme, "none")
    return (
        f'<figure class="output" data-output="{_a(name)}" lang="{_lang(entry)}" '
        f'data-format="{_a(_fmt(entry, name))}">'
        f'<div class="stage" style="background:{bg}">'
        f'{_media(out_dir, name, entry)}</div>'
        f'<figcaption><a class="file" href="{_a(_url(name))}">{_a(name)}</a>'
        f'<span class="facts">{_facts(entry, name)}</span>'
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "</figcaption></figure>")


def _embed(items: list[tuple[str, dict]], ids: Iterator[int],
           base: str | None = None) -> str:
    """The figure's snippets, each language in a code block with a copy button."""
    rows = []
    for label, codes in _snippets(items, base):
        blocks = []
        for lang, code in codes:
            sid = f"snippet-{next(ids)}"
            blocks.append(
                f'<div class="code"><div class="code-head"><span>{lang}</span>'
                f'<button type="button" class="copy" data-target="{sid}">Copy</button>'
                f'</div><pre><code id="{sid}">{_a(code)}</code></pre></div>')
        rows.append(f'<div class="snippet"><h3>{_a(label)}</h3>'
                    f'<div class="codes">{"".join(blocks)}</div></div>')
    if not rows:
        return ""
    return (f'<details class="embed" open><summary>Embed</summary>{"".join(rows)}'
            "</details>")


def _section(out_dir: Path, fig: str, items: list[tuple[str, dict]],
             ids: Iterator[int], base: str | None = None) -> tuple[str, str]:
    """(nav link, section) for one figure."""
    anchor = "fig-" + re.sub(r"[^A-Za-z0-9_-]+", "-", fig)
    first = items[0][1]
    title = first.get("title") or fig
    opts = ", ".join(
        f"{k} {' '.join(map(str, v)) if isinstance(v, list | tuple) else v}"
        for k, v in (first.get("options") or {}).items())
    scene = _a(first.get("scene") or "?")
    sub = f"<code>{_a(fig)}</code> · scene <code>{scene}</code>"
    sub += f" · {_a(opts)}" if opts else ""
    alt = first.get("alt") or ""
    link = first.get("link")
    nxt = ""
    if isinstance(link, dict) and files.link_href_ok(str(link.get("href", ""))):
        nxt = (f'<p class="next"><a href="{_a(link["href"])}">{_a(link["text"])}'
               " →</a></p>")
    section = (
        f'<section class="figure" id="{_a(anchor)}" lang="{_primary(items)}" '
        f'data-figure="{_a(fig)}">'
        f'<h2>{_a(title)}'
        + ('<span class="draft-mark">draft</span>' if first.get("draft") else "")
        + '</h2>'
        f'<p class="sub">{sub}</p>'
        + (f'<p class="alt"><strong>Alt text</strong> {_a(alt)}</p>' if alt else "")
        + nxt
        + '<div class="outputs">'
        + "".join(_tile(out_dir, n, e) for n, e in items) + "</div>"
        + _embed(items, ids, base) + "</section>")
    return f'<a href="#{_a(anchor)}">{_a(title)}</a>', section


def render_index(out_dir: Path, manifest: dict) -> str:
    """The preview page's HTML for `manifest` (outputs relative to `out_dir`)."""
    groups = _figures(manifest)
    outputs = manifest.get("outputs") or {}
    total = sum(int(e.get("bytes") or 0) for e in outputs.values())
    made = max((str(e.get("made") or "") for e in outputs.values()), default="")
    head = (f"{len(groups)} figure{'s' * (len(groups) != 1)} · {len(outputs)} "
            f"file{'s' * (len(outputs) != 1)} · {human_size(total)}")
    head += f" · manim {_a(manifest['manim'])}" if manifest.get("manim") else ""
    head += f" · last made {_a(made)}" if made else ""
    ids = itertools.count(1)
    base = manifest.get("base_url")
    base = base if isinstance(base, str) and files.base_url_ok(base) else None
    parts = [_section(Path(out_dir), fig, items, ids, base)
             for fig, items in groups.items()]
    body = "\n".join(sec for _, sec in parts) or (
        '<p class="empty">No figures yet: run <code>neuroanim build</code>.</p>')
    title = manifest.get("title") or "Lesson figures"
    lang = manifest.get("language")
    where = (f"Snippets point to <code>{_a(base)}</code> (the lesson's base URL)."
             if base else "Snippets use paths relative to this folder.")
    if manifest.get("draft") is True:
        where = ("<strong>Drafts</strong>: small and quick, for checking edits; "
                 "build without --draft for the files to publish. " + where)
    return _PAGE.format(
        lang=lang if isinstance(lang, str) and lang in LANGUAGES else "en",
        title=_a(f"{title} · preview"), h1=_a(title), head=head, where=where,
        nav=" ".join(link for link, _ in parts), body=body, css=_asset("page.css"),
        js=_asset("page.js"))


def write_index(out_dir: Path, manifest: dict) -> Path:
    """Write `out_dir/index.html` (atomically) for every output in `manifest`."""
    out_dir = Path(out_dir)
    path = out_dir / "index.html"
    files.atomic_write(path, render_index(out_dir, manifest).encode("utf-8"))
    return path


MANIFEST_MAX = 64_000_000  # bytes


def load_manifest(path: Path, warn: Callable[[str], None] | None = None) -> dict:
    """Read a manifest.json for the preview; UserError names the file.

    Records that a build would not have written (a poster or captions path
    outside the folder, fields of the wrong type) are left out, with a warning.
    """
    path = Path(path)
    try:
        doc = json.loads(files.read_bytes(path, MANIFEST_MAX).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable manifest ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("outputs", {}), dict):
        raise UserError(f"{path}: field 'outputs' must be an object of outputs")
    if warn is None:
        import sys

        def warn(msg: str) -> None:
            print(msg, file=sys.stderr)

    doc["outputs"] = files.trusted_outputs(doc.get("outputs") or {}, path, warn)
    for key in ("title", "manim"):
        if not isinstance(doc.get(key), str | None):
            doc[key] = None
    return doc


def has_display() -> bool:
    """Whether a browser could open here: macOS, Windows, or an X/Wayland session."""
    import sys

    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def preview(out_dir: Path, open_browser: bool = True) -> tuple[Path, bool]:
    """Rewrite `out_dir/index.html` from its manifest and open it: (path, opened).

    Without a manifest an existing page is opened as is. Opening needs a
    graphical session: on a headless machine (no DISPLAY on Linux) nothing is
    launched and the caller prints the path instead.
    """
    import webbrowser

    out_dir = Path(out_dir)
    manifest = out_dir / "manifest.json"
    page = out_dir / "index.html"
    if os.path.lexists(manifest):
        page = write_index(out_dir, load_manifest(manifest))
    elif not page.is_file():
        raise UserError(f"{out_dir}: no manifest.json or index.html; run "
                        f"`neuroanim build` first")
    page = page.resolve()
    if not (open_browser and has_display()):
        return page, False
    try:
        return page, bool(webbrowser.open(page.as_uri()))
    except webbrowser.Error:
        return page, False




@functools.cache
def _asset(name: str) -> str:
    """A file of page_assets/ (package data), read once per process."""
    return (package_files("neuroanim") / "page_assets" / name).read_text(
        encoding="utf-8")


_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
{css}</style>
</head>
<body>
<header>
<h1>{h1}</h1>
<p class="lead">{head}</p>
<p class="lead">Each figure as a course page shows it, light variants on white and
dark on dark. {where}</p>
<nav>{nav}</nav>
</header>
<main>
{body}
</main>
<script>
{js}</script>
</body>
</html>
"""
