"""Course-site embeds: a lesson figure's finished files as the HTML a course page shows.

The one place that turns manifest entries into site HTML, for the Sphinx
directive (`neuroanim.sphinx`), the MkDocs plugin (`neuroanim.mkdocs`) and
notebooks (`neuroanim.notebook`): a `<figure>` holding a `<video>` (poster,
webm then mp4 sources, one captions `<track>` per language) or the still or
GIF (light and dark through `<picture>`, or Material for MkDocs' `#only-light`
and `#only-dark` images), the alt text, a `<figcaption>` and an id to link to.

`Site` is what both site tools share: the lesson (a file or the built-in one),
figures described in place on a page, size overrides for drafts and tests,
and one incremental build into one folder. No manim is imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from . import build as builder
from . import files, page
from . import lesson as lessons
from .errors import UserError

KINDS = ("video", "gif", "still", "interactive")  # what a figure shows, best first
KIND_OF = {"webm": "video", "mp4": "video", "gif": "gif", "png": "still",
           "interactive": "interactive"}  # mov is an editing format: never shown
THEMED = ("picture", "material")  # how light and dark variants switch
CSS_NAME = "neuroanim.css"
# Site builds at another size for every figure (tests, quick drafts of a site):
# the variables win over the tool's own setting.
RESOLUTION_VAR, FPS_VAR = "NEUROANIM_SITE_RESOLUTION", "NEUROANIM_SITE_FPS"
USE_KEYS = ("figure", "scene", "options", "formats", "themes", "caption", "name",
            "show", "autoplay")

CSS = """\
/* neuroanim figures (neuroanim.embed) */
figure.neuroanim { margin: 1.5em auto; max-width: 100%; text-align: center; }
figure.neuroanim video, figure.neuroanim img, figure.neuroanim iframe {
  display: block; margin: 0 auto; max-width: 100%; height: auto; }
figure.neuroanim picture { display: block; }
figure.neuroanim figcaption { margin-top: .5em; font-size: .9em; line-height: 1.4; }
figure.neuroanim .neuroanim-missing { padding: 1em; border: 1px dashed currentColor; }
/* two themed videos: the page's colour scheme shows one */
@media (prefers-color-scheme: dark) {
  figure.neuroanim-picture .neuroanim-only-light { display: none; } }
@media not all and (prefers-color-scheme: dark) {
  figure.neuroanim-picture .neuroanim-only-dark { display: none; } }
[data-md-color-scheme="slate"] figure.neuroanim-material .neuroanim-only-light,
[data-md-color-scheme="default"] figure.neuroanim-material .neuroanim-only-dark {
  display: none; }
"""


# ------------------------------------------------------------------ the HTML
def outputs_of(manifest: dict, figure: str) -> list[tuple[str, dict]]:
    """The manifest's outputs of `figure`, in the preview page's order
    (the figure's first language first, then format and theme)."""
    return page._figures({"outputs": {
        n: e for n, e in (manifest.get("outputs") or {}).items()
        if e.get("figure") == figure}}).get(figure, [])


def kinds(formats: Iterable[str]) -> list[str]:
    """What outputs of `formats` can show, in order of preference."""
    have = {KIND_OF.get(f) for f in formats}
    return [k for k in KINDS if k in have]


def figure_html(items: list[tuple[str, dict]], base: str = "", *,
                url: Callable[[str], str] | None = None, themed: str = "picture",
                caption: str | None = None, id: str | None = None,
                show: str | None = None, autoplay: bool = False,
                number: str | None = None, permalink: bool = False) -> str:
    """One figure as course-site HTML, from its manifest entries.

    `items` are (file name, manifest entry) of one figure (`outputs_of`).
    File URLs are `base` + name (`files.base_join`), or `url(name)` when given
    (a notebook's data: URLs). `themed` "picture" switches light and dark by
    the reader's `prefers-color-scheme`; "material" uses Material for MkDocs'
    `#only-light`/`#only-dark` images, which follow its palette toggle.
    `show` picks a kind of `KINDS` (default: the first the figure has);
    `caption` replaces the figure's title; `number` ("Fig. 2") goes before it.
    """
    if themed not in THEMED:
        raise ValueError(f"themed must be one of {', '.join(THEMED)}, not {themed!r}")
    href = url or (lambda name: files.base_join(base, quote(name)))
    built = bool(items)
    items = [(n, e) for n, e in items if page._fmt(e, n) in KIND_OF]
    have = kinds(page._fmt(e, n) for n, e in items)
    kind = show if show in have else (have[0] if have else None)
    figure = items[0][1].get("figure") if items else None
    title = caption if caption is not None else (
        items[0][1].get("title") if items else None)
    attrs = f' class="neuroanim neuroanim-{themed}"'
    attrs += f' id="{_a(id)}"' if id else ""
    if kind is None:
        body = ('<p class="neuroanim-missing">' + (
            "This figure has only formats browsers do not play (mov)." if built
            else "This figure is not built yet: see the site build's messages.")
            + "</p>")
    else:
        primary = page._primary(items)
        attrs += f' lang="{primary}" data-figure="{_a(figure)}" data-show="{kind}"'
        mine = [(n, e) for n, e in items if page._lang(e) == primary] or items
        if kind == "video":
            body = _videos(items, mine, primary, href, autoplay)
        elif kind == "interactive":
            body = _iframe(next((n, e) for n, e in mine
                                if page._fmt(e, n) == "interactive"), href)
        else:
            fmt = "gif" if kind == "gif" else "png"
            body = _images([(n, e) for n, e in mine if page._fmt(e, n) == fmt],
                           href, themed)
    cap = ""
    if title or number:
        num = f'<span class="caption-number">{_a(number)} </span>' if number else ""
        link = (f'<a class="headerlink" href="#{_a(id)}" title="Link to this figure">'
                "¶</a>" if permalink and id else "")
        cap = (f'<figcaption>{num}<span class="caption-text">{_a(title or "")}'
               f"</span>{link}</figcaption>")
    return f"<figure{attrs}>{body}{cap}</figure>"


def referenced(items: list[tuple[str, dict]], **options) -> list[str]:
    """The file names `figure_html(items, **options)` links to (what a site copies)."""
    names: list[str] = []
    figure_html(items, url=lambda n: names.append(n) or n, **options)
    return list(dict.fromkeys(names))


def _a(value) -> str:
    return page._a(value)


def _dims(entry: dict) -> str:
    return page._dims(entry)


def _theme_order(themes: Iterable[str]) -> list[str]:
    return sorted(themes, key=lambda t: page._THEME_ORDER.get(t, 2))


def _videos(items, mine, primary: str, href, autoplay: bool) -> str:
    """One <video> per theme (two: the page's colour scheme shows one)."""
    by_theme: dict[str, list[tuple[str, dict]]] = {}
    for n, e in mine:
        if page._fmt(e, n) in page.BROWSER_VIDEO:
            by_theme.setdefault(e.get("theme") or "dark", []).append((n, e))
    captions: dict[tuple[str, str], str] = {}  # (theme, language) -> .vtt
    for n, e in items:
        vtt = (e.get("captions") or {}).get("vtt")
        if vtt and page._fmt(e, n) in page.BROWSER_VIDEO:
            captions.setdefault((e.get("theme") or "dark", page._lang(e)), vtt)
    themes = _only(by_theme)
    out = []
    for theme in themes:
        vids = sorted(by_theme[theme],
                      key=lambda it: list(page.BROWSER_VIDEO).index(page._fmt(it[1],
                                                                              it[0])))
        first = vids[0][1]
        alt = first.get("alt") or ""
        poster = next((e["poster"] for _, e in vids if e.get("poster")), None)
        cls = f' class="neuroanim-only-{theme}"' if len(themes) > 1 else ""
        play = " autoplay muted loop" if autoplay else ""
        head = (f'<video{cls} controls preload="metadata" playsinline{play}'
                f'{_dims(first)}' + (f' poster="{_a(href(poster))}"' if poster else "")
                + f' aria-label="{_a(alt)}">')
        sources = "".join(f'<source src="{_a(href(n))}" '
                          f'type="{page.BROWSER_VIDEO[page._fmt(e, n)]}">'
                          for n, e in vids)
        tracks = sorted(((lang, vtt) for (th, lang), vtt in captions.items()
                         if th == theme), key=lambda lv: (lv[0] != primary, lv[0]))
        tags = "".join(page._track(lang, href(vtt), default=i == 0)
                       for i, (lang, vtt) in enumerate(tracks))
        fallback = _a(alt)  # what a browser without <video> shows instead
        out.append(f"{head}{sources}{tags}{fallback}</video>")
    return "".join(out)


def _only(by_theme: dict) -> list[str]:
    """The themes to show: light and dark when both are there, else the first."""
    if "light" in by_theme and "dark" in by_theme:
        return ["light", "dark"]
    return _theme_order(by_theme)[:1]


def _images(variants: list[tuple[str, dict]], href, themed: str) -> str:
    by_theme = {e.get("theme") or "dark": (n, e) for n, e in reversed(variants)}
    themes = _only(by_theme)

    def img(name: str, entry: dict, suffix: str = "") -> str:
        alt = entry.get("alt") or ""
        return (f'<img src="{_a(href(name) + suffix)}" alt="{_a(alt)}"{_dims(entry)} '
                'loading="lazy" decoding="async">')

    if len(themes) == 1:
        return img(*by_theme[themes[0]])
    (light, le), (dark, de) = by_theme["light"], by_theme["dark"]
    if themed == "material":
        return img(light, le, "#only-light") + img(dark, de, "#only-dark")
    return (f'<picture><source srcset="{_a(href(dark))}" '
            f'media="(prefers-color-scheme: dark)">{img(light, le)}</picture>')


def _iframe(item: tuple[str, dict], href) -> str:
    name, entry = item
    w, h = int(entry.get("width") or 854), int(entry.get("height") or 480)
    title = entry.get("title") or entry.get("figure") or name
    return (f'<iframe src="{_a(href(name))}" title="{_a(f"Interactive: {title}")}" '
            f'loading="lazy" style="width: 100%; aspect-ratio: {w} / {h}; border: 0">'
            "</iframe>")


# --------------------------------------------------------- uses on a page
@dataclass(frozen=True)
class Use:
    """One figure a page shows, as a directive or a Markdown marker wrote it.

    `table` is a figure described in place (scene, options, formats, themes),
    as a lesson's `[[figure]]` table; None names a figure of the lesson.
    """

    figure: str
    table: dict | None = None
    caption: str | None = None
    id: str | None = None
    show: str | None = None
    autoplay: bool = False


def use_from(figure: object, *, scene: object = None, options: object = None,
             formats: object = None, themes: object = None, caption: object = None,
             name: object = None, show: object = None, autoplay: object = False) -> Use:
    """A `Use` from a directive's or marker's fields; ValueError names the field.

    `options` is a table or the inside of a TOML inline table (`lr = [0.5],
    epochs = 20`); `formats` and `themes` a list or words separated by commas
    or spaces. Only a figure described in place (`scene`) takes options,
    formats and themes: a lesson figure's are the lesson's.
    """
    if not isinstance(figure, str) or not figure.strip():
        raise ValueError("figure: give the figure's name")
    figure = figure.strip()
    if show is not None and show not in KINDS:
        raise ValueError(f"show: {show!r} is not one of {', '.join(KINDS)}")
    for key, value in (("caption", caption), ("name", name)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key}: must be text")
    if not isinstance(autoplay, bool):
        raise ValueError("autoplay: must be true or false")
    table = None
    if scene is None:
        given = [k for k, v in (("options", options), ("formats", formats),
                                ("themes", themes)) if v is not None]
        if given:
            raise ValueError(f"{given[0]}: only a figure described in place takes "
                             f"{given[0]}; add a scene, or change figure {figure!r} "
                             "in the lesson")
    else:
        if not isinstance(scene, str) or not scene.strip():
            raise ValueError("scene: give a scene's name")
        table = {"name": figure, "scene": scene.strip()}
        if options is not None:
            table["options"] = _options(options)
        for key, value in (("formats", formats), ("themes", themes)):
            if value is not None:
                table[key] = _words(key, value)
        if caption:
            table["title"] = caption
    return Use(figure, table, caption or None, name or None, show, autoplay)


def _options(raw: object) -> dict:
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise ValueError("options: must be a table, e.g. lr = [0.5], epochs = 20")
    text = raw.strip().removeprefix("{").removesuffix("}").strip()
    try:
        doc = tomllib.loads(f"options = {{ {text} }}")
    except tomllib.TOMLDecodeError as exc:
        why = re.sub(r" \(at line \d+, column \d+\)", "", str(exc))
        raise ValueError(f"options: {raw.strip()!r} is not a TOML table body like "
                         f"'lr = [0.5], epochs = 20' ({why})") from None
    return doc["options"]


def _words(key: str, raw: object) -> list[str]:
    items = re.split(r"[\s,]+", raw.strip()) if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(
            isinstance(x, str) and x for x in items):
        raise ValueError(f"{key}: must be a list of names, e.g. mp4, webm")
    return items


# -------------------------------------------------------------- TOML text
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def toml_text(doc: dict) -> str:
    """A lesson document as TOML (what `tomllib` read, written back).

    Tables become inline tables, figures `[[figure]]` tables: enough for any
    lesson, whose values are text, numbers, booleans, lists and tables.
    """
    lines = [f"{_key(k)} = {_value(v)}" for k, v in doc.items() if k != "figure"]
    for fig in doc.get("figure") or []:
        lines += ["", "[[figure]]",
                  *(f"{_key(k)} = {_value(v)}" for k, v in fig.items())]
    return "\n".join(lines) + "\n"


def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else _string(k)


def _string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    if hasattr(v, "isoformat"):  # TOML dates and times
        return v.isoformat()
    raise ValueError(f"cannot write {type(v).__name__} as TOML")


# ------------------------------------------------------------------- sites
def overrides(resolution: object = None, fps: object = None) -> dict:
    """Settings every figure of a site builds with: the tool's, or the variables'."""
    out = {}
    resolution = os.environ.get(RESOLUTION_VAR) or resolution
    fps = os.environ.get(FPS_VAR) or fps
    if resolution:
        out["resolution"] = str(resolution)
    if fps:
        try:
            out["fps"] = float(fps)
        except (TypeError, ValueError):
            raise UserError(f"fps: {fps!r} is not a number (from "
                            f"{FPS_VAR if os.environ.get(FPS_VAR) else 'the site'})"
                            ) from None
    return out


HTML_FIELDS = ("format", "theme", "width", "height", "alt", "captions", "poster",
               "title", "language", "languages")  # what a figure's HTML depends on


@dataclass
class Site:
    """A course site's lesson, built into one folder.

    `lesson_file` None is the built-in lesson (chapter 2); `root` is the site's
    folder, whose `scenes/` holds scenes figures described in place may use.
    `settings` ({"resolution", "fps"}, see `overrides`) apply to every figure.
    Raises LessonError when the lesson file is missing or has problems; a site
    made with `without_lesson=True` (its lesson is broken) shows only figures
    described in place.
    """

    root: Path
    out_dir: Path
    lesson_file: Path | None = None
    settings: dict = field(default_factory=dict)
    hint: str = ""  # where this tool's lesson is set, for messages
    without_lesson: bool = False
    lesson: lessons.Lesson | None = field(init=False, default=None)
    manifest: dict = field(init=False, default_factory=dict)
    outputs: dict = field(init=False, default_factory=dict)  # file -> figure, built

    def __post_init__(self):
        self.root, self.out_dir = Path(self.root), Path(self.out_dir)
        self.base = self.root
        if self.without_lesson:
            self.source, self.text, self.doc, self.names = "<no lesson>", "", {}, []
            return
        if self.lesson_file is None:
            self.source, text = lessons.BUILT_IN, lessons.DEFAULT_TOML
        else:
            self.lesson_file = Path(self.lesson_file)
            self.source, self.base = str(self.lesson_file), self.lesson_file.parent
            try:
                text = self.lesson_file.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise lessons.LessonError(
                    [f"{self.lesson_file}: no such lesson file"]) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise lessons.LessonError(
                    [f"{self.lesson_file}: cannot be read ({exc})"]) from None
        try:
            self.doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise lessons.LessonError(
                [f"{self.source}: not valid TOML: {exc}"]) from None
        self.text = text
        self.lesson = self._load([])
        self.names = [f.name for f in self.lesson.figures]

    def _text(self, tables: list[dict]) -> str:
        """The lesson's TOML with `tables` added and `settings` on every figure
        (the lesson was checked already: its figures are a list of tables)."""
        if not tables and not self.settings:
            return self.text
        figs = [*(dict(f) for f in self.doc.get("figure", [])),
                *(dict(t) for t in tables)]
        for f in figs:
            f.update(self.settings)
        return toml_text({**self.doc, "figure": figs})

    def _load(self, tables: list[dict]) -> lessons.Lesson:
        return lessons.loads(self._text(tables), self.source, base=self.base)

    def resolve(self, use: Use) -> tuple[lessons.Figure | None, list[str]]:
        """The figure `use` shows, or the problems to report where it was written."""
        if use.table is None:
            if self.lesson is None:
                return None, [f"figure {use.figure!r}: there is no lesson to take it "
                              f"from: {self.hint or 'the lesson'} has problems (see "
                              "its warnings)"]
            if use.figure not in self.names:
                return None, [f"figure {use.figure!r} is not in {self.source}; its "
                              f"figures are {', '.join(self.names)} (or describe one "
                              "in place with a scene)"]
            figure = self.lesson.figure(use.figure)
        else:
            if use.figure in self.names:
                return None, [f"figure {use.figure!r} is in {self.source} already; "
                              "drop the scene to show it, or name this one otherwise"]
            try:
                figure = self._load([use.table]).figure(use.figure)
            except lessons.LessonError as exc:
                prefix = f"{self.source}: "
                return None, [p.removeprefix(prefix) for p in exc.problems]
        if use.show is not None and use.show not in kinds(figure.formats):
            has = ", ".join(kinds(figure.formats)) or "nothing a page shows"
            return None, [f"figure {use.figure!r} has no {use.show} to show; it has "
                          f"{has} (formats {', '.join(figure.formats)})"]
        return figure, []

    def build(self, names: Iterable[str], tables: Iterable[dict] = (), *,
              jobs: int | None = None, log: Callable[[str], None] = print,
              on_event: Callable | None = None) -> builder.Report | None:
        """Build the figures `names` (lesson figures and `tables` described in
        place), rendering only what changed; read the manifest back.

        Raises LessonError/UserError as `neuroanim build` does (bad options
        found while preparing, the folder locked by another build).
        """
        names = sorted(set(names))
        report = None
        if names:
            lesson = self._load(list(tables))
            self.out_dir.mkdir(parents=True, exist_ok=True)

            def event(ev) -> None:
                if ev.status in ("done", "failed"):
                    log(builder.progress_line(ev))
                if on_event is not None:
                    on_event(ev)

            report = builder.build(lesson, self.out_dir, jobs=jobs, only=names,
                                   on_event=event, on_start=log, warn=log,
                                   preview=False)
            self.outputs = {o.name: f.name for f in lesson.figures for o in f.outputs}
        manifest = self.out_dir / builder.MANIFEST
        self.manifest = (page.load_manifest(manifest, warn=log)
                         if os.path.lexists(manifest) else {"outputs": {}})
        return report

    def items(self, figure: str) -> list[tuple[str, dict]]:
        """The figure's built outputs whose files are there."""
        return [(n, e) for n, e in outputs_of(self.manifest, figure)
                if files.regular_file(self.out_dir, n) is not None]

    def html(self, use: Use, base: str = "", **options) -> str:
        return figure_html(self.items(use.figure), base, caption=use.caption,
                           id=use.id, show=use.show, autoplay=use.autoplay, **options)

    def referenced(self, use: Use, **options) -> list[str]:
        """The files of the output folder the figure's HTML links to."""
        return referenced(self.items(use.figure), show=use.show, **options)

    def digest(self, figure: str) -> str:
        """Changes when the figure's HTML would: which files, sizes, alt, title."""
        doc = [[n, {k: e.get(k) for k in HTML_FIELDS}] for n, e in self.items(figure)]
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
