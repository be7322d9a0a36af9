"""Lesson files: the TOML list of figures a lesson needs, validated before any render.

A lesson names each figure once (scene, options, formats, themes, quality, GIF
budget); `neuroanim build` turns it into files. Every problem in a file is found
up front and reported as one line naming the file, the figure and the field, so
an author fixes them all in one pass and nothing is rendered from a bad file.
The built-in lesson is TOML text too: `neuroanim init` writes exactly what
`neuroanim build` uses when no file is given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import files, interactive, registry, render
from . import theme as themes
from .errors import UserError
from .gif import parse_budget
from .wording import LANGUAGES

BUILT_IN = "<built-in lesson>"
DEFAULT_GIF_BUDGET = 2_000_000  # bytes; course pages load GIFs eagerly
TOP_KEYS = ("title", "base_url", "scenes", "defaults", "themes", "build", "figure")
BUILD_KEYS = ("scheduler",)  # [build]: where the jobs run (see `build --scheduler`)
DEFAULT_KEYS = ("formats", "themes", "quality", "fps", "resolution", "gif_budget",
                "language", "languages")
FIGURE_KEYS = ("name", "scene", "title", "link", "options", "text", *DEFAULT_KEYS)
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MIN_GIF_BUDGET = 10_000  # bytes; no lesson GIF fits in less
RESERVED = {"manifest.json", "index.html", ".neuroanim.lock"}
# Outputs of another quality than l carry it in their name, so building the same
# figure at quality h never overwrites its quality-l files (and back).
QUALITY_TAGS = {"m": "720p", "h": "1080p", "k": "2160p"}
# `--draft`: every figure small and quick, into its own folder (`DRAFT_DIR`)
DRAFT_DIR = "draft"
DRAFT_SIZE = (428, 240)  # half of quality l's 854x480, even numbers
DRAFT_FPS = 10.0
LESSON_FILE = "lesson.toml"  # what `build` and `serve` use when given no file

# The built-in lesson is a lesson file like any author's, shipped as package data.
BUILT_IN_FILE = Path(str(resources.files("neuroanim") / "lessons" / "chapter-2.toml"))
# The built-in lessons `neuroanim init --lesson NAME` writes; chapter-2 is the default.
LESSONS = {name: BUILT_IN_FILE.with_name(f"{name}.toml")
           for name in ("chapter-2", "chapter-2-de", "chapter-3")}
DEFAULT_TOML = BUILT_IN_FILE.read_text(encoding="utf-8")


class LessonError(UserError):
    """A lesson file with problems; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Output:
    """One file of a figure: a theme and a format at a size and frame rate."""

    name: str  # file name inside the output folder, e.g. "and-gate-light.gif"
    theme: str
    fmt: str
    width: int
    height: int
    fps: float  # for GIFs the starting rate; the budget may step it down
    language: str = "en"  # the words on screen, in captions and alt text


@dataclass(frozen=True)
class Figure:
    """A validated figure: `values` are the scene's resolved options.

    `options` are the ones that differ from the scene's defaults, as JSON values
    (tuples become lists, paths stay as written): what the manifest shows and
    what the key hashes, so moving the lesson folder does not re-render.
    """

    name: str
    scene: str
    title: str | None
    values: dict
    options: dict
    formats: tuple[str, ...]
    themes: tuple[str, ...]
    quality: str
    fps: float | None
    resolution: tuple[int, int] | None
    gif_budget: int
    outputs: tuple[Output, ...] = field(default=())
    link: dict | None = None  # {"text", "href"}: where the page points from it
    languages: tuple[str, ...] = ("en",)  # one output set each; the first unsuffixed
    text: dict = field(default_factory=dict)  # string overrides: all languages' and
    #                                          per language, {"title": .., "de": {..}}
    theme_defs: dict = field(default_factory=dict)  # an author's themes it uses, as dicts

    def words(self, language: str) -> dict[str, str]:
        """The string overrides one language's outputs speak with."""
        common = {k: v for k, v in self.text.items() if isinstance(v, str)}
        return {**common, **self.text.get(language, {})}

    def _repr_html_(self) -> str:  # Jupyter: the figure, drafted if not yet built
        import importlib  # by name: display code is in no output's key

        return importlib.import_module("neuroanim.notebook").figure_html(self)


@dataclass(frozen=True)
class Lesson:
    source: str  # the file path, or BUILT_IN
    title: str | None
    figures: tuple[Figure, ...]
    scheduler: str | None = None  # [build] scheduler: a Dask address or "local:N"
    language: str = "en"  # the defaults' (first) language: the page's lang
    warnings: tuple[str, ...] = ()  # e.g. an author's theme below 4.5:1 contrast
    base_url: str | None = None  # where the course site serves the files
    draft: bool = False  # made by `drafted`: small, quick, its own folder

    def figure(self, name: str) -> Figure:
        for f in self.figures:
            if f.name == name:
                return f
        raise KeyError(name)


def output_name(figure: str, theme: str, fmt: str, language: str | None = None,
                quality: str = "l") -> str:
    """`<figure>.<ext>` in the dark theme, `<figure>-<theme>.<ext>` otherwise;
    `<figure>.<lang>.<ext>` for a figure's second and later languages;
    `<figure>.1080p.<ext>` at quality h (`QUALITY_TAGS`: any quality but l)."""
    lang = f".{language}" if language else ""
    tag = f".{QUALITY_TAGS[quality]}" if quality in QUALITY_TAGS else ""
    ext = render.extension(fmt)
    return f"{figure}{'' if theme == 'dark' else '-' + theme}{lang}{tag}.{ext}"


def find(path=None, scene_dirs=()) -> tuple[Lesson, str | None]:
    """The lesson a command reads: `path`, else ./lesson.toml when there is one,
    else the built-in lesson; and a note saying which when none was given."""
    if path is not None:
        return load(path, scene_dirs), None
    here = Path(LESSON_FILE)
    if here.is_file():
        return load(here, scene_dirs), f"no lesson file given: using ./{LESSON_FILE}"
    return default(), (f"no lesson file given and no ./{LESSON_FILE} here: using the "
                       "built-in lesson (chapter 2; `neuroanim init` writes it out)")


def drafted(lesson: Lesson) -> Lesson:
    """The lesson as a draft: each figure at 428x240 and 10 fps, mp4 (for any
    moving format) and png only, in its first theme and language, no GIF budget.

    What an author needs to see an edit move, in a fraction of the time; the
    outputs keep their names and go to their own folder (`DRAFT_DIR`).
    """
    figures = []
    for fig in lesson.figures:
        spec = registry.get(fig.scene)
        fmts = tuple(dict.fromkeys("png" if f == "png" else "mp4"
                                   for f in fig.formats if f not in render.UNDRAWN))
        fmts = fmts or ("mp4",)
        w, h = DRAFT_SIZE
        try:
            spec.check_size(w, h)
        except UserError:  # a scene that needs more room drafts at quality l's size
            w, h, _ = render.QUALITIES["l"]
        theme, lang = fig.themes[0], fig.languages[0]
        outputs = tuple(Output(output_name(fig.name, theme, f), theme, f, w, h,
                               DRAFT_FPS, lang) for f in fmts)
        figures.append(dataclasses.replace(
            fig, formats=fmts, themes=(theme,), languages=(lang,), quality="draft",
            fps=DRAFT_FPS, resolution=(w, h), gif_budget=0, outputs=outputs))
    return dataclasses.replace(lesson, figures=tuple(figures), draft=True)


def default() -> Lesson:
    """The built-in lesson (chapter 2), from the same text `neuroanim init` writes."""
    return loads(DEFAULT_TOML, BUILT_IN)


def builtin_text(name: str) -> str:
    """The text of built-in lesson `name` (UserError naming the choices)."""
    if name not in LESSONS:
        raise UserError(f"--lesson: {name!r} is not a built-in lesson; choose from "
                        f"{', '.join(LESSONS)}")
    return LESSONS[name].read_text(encoding="utf-8")


def load(path, scene_dirs=()) -> Lesson:
    """Read and validate a lesson file; LessonError lists every problem.

    Scenes are looked for in a `scenes/` folder beside the file, in the
    folders its `scenes = [...]` names (relative to the file) and in
    `scene_dirs` (`--scenes`), besides the built-ins and plug-ins.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LessonError([f"{path}: no such lesson file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError([f"{path}: cannot be read ({exc})"]) from None
    return loads(text, str(path), base=path.parent, scene_dirs=scene_dirs)


def loads(text: str, source: str = "lesson.toml", base=None, scene_dirs=()) -> Lesson:
    """Validate lesson TOML text; relative paths (trajectories, scene folders)
    resolve against `base`, whose `scenes/` folder is searched when there."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LessonError([f"{source}: not valid TOML: {exc}"]) from None
    checker = _Checker(source, Path(base) if base is not None else Path.cwd())
    checker.find_scenes(doc, scene_dirs, beside=base is not None)
    return checker.lesson(doc)


class _Checker:
    """Collects every problem of one document instead of stopping at the first."""

    def __init__(self, source: str, base: Path):
        self.source, self.base = source, base
        self.problems: list[str] = []

    def bad(self, where: str, problem: str) -> None:
        self.problems.append(f"{self.source}: {where}: {problem}")

    def find_scenes(self, doc: dict, extra, beside: bool) -> None:
        """Point the registry at the lesson's scene folders before any check."""
        raw = doc.get("scenes", [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
            self.bad("scenes", "must be a list of folders, e.g. scenes = [\"figs\"]")
            raw = []
        dirs = []
        for d in raw:
            p = self.base / Path(d).expanduser()
            if p.is_dir():
                dirs.append(p)
            else:
                self.bad("scenes", f"{d!r} is not a folder (relative to {self.base})")
        if beside and (self.base / "scenes").is_dir():
            dirs.insert(0, self.base / "scenes")
        try:
            registry.use([*dirs, *extra])
            registry.scenes()
        except UserError as exc:
            self.bad("scenes", str(exc))
            raise LessonError(self.problems) from None

    def lesson(self, doc: dict) -> Lesson:
        for key in doc:
            if key not in TOP_KEYS:
                self.bad(key, f"unknown key; a lesson has {', '.join(TOP_KEYS)}")
        title = doc.get("title")
        if title is not None and not isinstance(title, str):
            self.bad("title", "must be text")
            title = None
        defaults = doc.get("defaults", {})
        if not isinstance(defaults, dict):
            self.bad("defaults", "must be a table ([defaults])")
            defaults = {}
        for key in defaults:
            if key not in DEFAULT_KEYS:
                self.bad(f"defaults: {key}",
                         f"unknown key; defaults take {', '.join(DEFAULT_KEYS)}")
        self.theme_defs = self.themes_table(doc.get("themes", {}))
        base = self.settings("defaults", defaults, {
            "formats": ("mp4",), "themes": ("dark",), "quality": "l", "fps": None,
            "resolution": None, "gif_budget": DEFAULT_GIF_BUDGET, "languages": ("en",),
        })
        scheduler = self.build_table(doc.get("build", {}))
        base_url = doc.get("base_url")
        if base_url is not None and not (isinstance(base_url, str)
                                         and files.base_url_ok(base_url)):
            self.bad("base_url", f"{base_url!r} must be an http(s) address or a "
                     'path, e.g. "https://course.example/figures/" or "/static/"')
            base_url = None
        raw_figs = doc.get("figure", [])
        if not isinstance(raw_figs, list) or not all(isinstance(f, dict) for f in raw_figs):
            self.bad("figure", "must be a list of tables ([[figure]])")
            raw_figs = []
        if not raw_figs and not self.problems:
            self.bad("figure", "the lesson has no figures; add a [[figure]] table")
        figures: list[Figure] = []
        names: dict[str, str] = {}
        written: dict[str, tuple[str, str]] = {}  # casefolded file -> (figure, file)
        for i, raw in enumerate(raw_figs, 1):
            fig = self.figure(i, raw, base, names)
            if fig is None:
                continue
            self.check_files(fig, written)
            figures.append(fig)
        if self.problems:
            raise LessonError(self.problems)
        for t in self.theme_defs.values():
            themes.register(t)
        return Lesson(self.source, title, tuple(figures), scheduler=scheduler,
                      language=base["languages"][0], base_url=base_url,
                      warnings=tuple(f"{self.source}: {line}" for t in
                                     self.theme_defs.values()
                                     for line in themes.legibility(t)))

    def themes_table(self, raw) -> dict[str, themes.Theme]:
        """`[themes.NAME]` tables: an author's themes, checked and registered."""
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            self.bad("themes", 'must be tables, e.g. [themes.brand] with base = "light"')
            return {}
        out = {}
        for name, table in raw.items():
            t, problems = themes.from_table(name, table)
            for line in problems:
                self.problems.append(f"{self.source}: {line}")
            if t is not None and name in themes.BUILT_IN:
                self.bad(f"themes.{name}", "is a built-in theme's name; give yours "
                         "another")
            elif t is not None:
                out[name] = t
        return out

    def build_table(self, raw) -> str | None:
        """`[build]`: how the lesson is built; `scheduler = "tcp://HOST:PORT"`."""
        if not isinstance(raw, dict):
            self.bad("build", "must be a table ([build])")
            return None
        for key in raw:
            if key not in BUILD_KEYS:
                self.bad(f"build: {key}",
                         f"unknown key; [build] takes {', '.join(BUILD_KEYS)}")
        scheduler = raw.get("scheduler")
        if scheduler is not None and (not isinstance(scheduler, str)
                                      or not scheduler.strip()):
            self.bad("build: scheduler", 'must be text, e.g. "tcp://10.0.0.5:8786"')
            return None
        return scheduler

    def figure(self, i: int, raw: dict, base: dict, names: dict) -> Figure | None:
        name = raw.get("name")
        where = f"figure #{i}"
        before = len(self.problems)
        if name is None:
            self.bad(where, "has no name")
        elif not isinstance(name, str):
            self.bad(f"{where}: name", "must be text")
        else:
            where = f"figure {name!r}"
            self.check_name(where, name)
            if name in names:
                self.bad(f"{where}: name", f"duplicate name (also figure {names[name]})")
            names.setdefault(name, f"#{i}")
        for key in raw:
            if key not in FIGURE_KEYS:
                self.bad(f"{where}: {key}",
                         f"unknown key; a figure takes {', '.join(FIGURE_KEYS)}")
        scene = raw.get("scene")
        spec = None
        if scene is None:
            self.bad(f"{where}: scene",
                     f"is missing; choose from {', '.join(registry.scenes())}")
        elif not isinstance(scene, str) or scene not in registry.scenes():
            self.bad(f"{where}: scene", f"unknown scene {scene!r}; choose from "
                     f"{', '.join(registry.scenes())}")
        else:
            spec = registry.scenes()[scene]
        title = raw.get("title")
        if title is not None and not isinstance(title, str):
            self.bad(f"{where}: title", "must be text")
        link = self.link(where, raw.get("link"))
        s = self.settings(where, raw, base)
        langs = s.pop("languages")
        text = self.text(where, spec, raw.get("text", {}), langs)
        if spec is not None:
            missing = [x for x in langs if x not in spec.languages]
            if missing:
                self.bad(f"{where}: language", f"{spec.name} has no {missing[0]!r} "
                         f"words; it speaks {', '.join(spec.languages)}")
        values, options = self.options(where, spec, raw.get("options", {}))
        if spec is None or values is None or not isinstance(name, str):
            return None
        outputs = []
        for fmt in s["formats"]:  # the frame rate and size each format would get
            try:
                w, h, fps = render.plan(fmt, s["quality"], s["fps"], s["resolution"],
                                        False)
                spec.check_size(w, h)
                if fmt in render.UNDRAWN:
                    interactive.check(spec)
            except UserError as exc:
                self.bad(f"{where}: {_field_of(str(exc))}", _problem_of(str(exc)))
                return None
            outputs += [Output(output_name(name, th, fmt, lang if i else None,
                                           s["quality"]), th, fmt, w, h, fps, lang)
                        for i, lang in enumerate(langs) for th in s["themes"]]
        if len(self.problems) > before:
            return None
        defs = {t: themes.as_dict(self.theme_defs[t]) for t in s["themes"]
                if t in self.theme_defs}
        return Figure(name=name, scene=scene, title=title, values=values,
                      options=options, outputs=tuple(outputs), link=link,
                      languages=langs, text=text, theme_defs=defs, **s)

    def text(self, where: str, spec, raw, langs: tuple[str, ...]) -> dict:
        """`text = { title = "...", de = { title = "..." } }`: checked against the
        scene's strings table (keys, placeholders) before anything renders."""
        if not isinstance(raw, dict):
            self.bad(f"{where}: text", 'must be a table, e.g. text = { title = "..." }')
            return {}
        if spec is None:
            return {}
        common = {k: v for k, v in raw.items() if k not in LANGUAGES}
        for problem in spec.text_problems(common):
            self.bad(f"{where}: text", problem)
        for lang in (k for k in raw if k in LANGUAGES):
            table = raw[lang]
            if not isinstance(table, dict):
                self.bad(f"{where}: text.{lang}", "must be a table of strings")
                continue
            if lang not in langs:
                self.bad(f"{where}: text.{lang}", f"the figure does not speak {lang!r}; "
                         f"it speaks {', '.join(langs)}")
            for problem in spec.text_problems(table):
                self.bad(f"{where}: text.{lang}", problem)
        return dict(raw)

    def link(self, where: str, raw) -> dict | None:
        """`link = { text = "...", href = "..." }`: a relative URL or http(s)."""
        if raw is None:
            return None
        if not isinstance(raw, dict) or set(raw) != {"text", "href"} or not all(
                isinstance(v, str) and v.strip() for v in raw.values()):
            self.bad(f"{where}: link", 'must be { text = "...", href = "..." }')
            return None
        if not files.link_href_ok(raw["href"]):
            self.bad(f"{where}: link", f"href {raw['href']!r} must be a relative URL "
                     "or an http(s) address")
            return None
        return {"text": raw["text"], "href": raw["href"]}

    def check_files(self, fig: Figure, written: dict) -> None:
        """Every file the figure writes (outputs, posters, captions) is its own.

        Names are compared case-folded: on macOS and Windows `X.mp4` and
        `x.mp4` are one file. A figure's own outputs may share a sidecar (its
        mp4 and webm have one poster); another figure's may not.
        """
        mine: set[str] = set()
        clashed: set[str] = set()
        longest = max((f for o in fig.outputs
                       for f in (o.name, *files.sidecars(o.name, o.fmt))),
                      key=lambda f: len(f.encode()), default="")
        over = len(longest.encode()) + files.TEMP_EXTRA - files.NAME_MAX
        if over > 0:
            self.bad(f"figure {fig.name!r}: name", f"is too long: it would write "
                     f"{longest[:24]}...{longest[-16:]} ({len(longest)} characters, "
                     f"{files.NAME_MAX - files.TEMP_EXTRA} fit); use at most "
                     f"{len(fig.name) - over} characters")
            return
        for out in fig.outputs:
            for file in (out.name, *files.sidecars(out.name, out.fmt)):
                key = file.casefold()
                if key in mine:
                    continue
                mine.add(key)
                if key in RESERVED:
                    self.bad(f"figure {fig.name!r}: name", f"writes {file}, which "
                             "the build writes for itself; rename the figure")
                elif key in written:
                    other, theirs = written[key]
                    if other in clashed:
                        continue  # one line per pair of figures is enough
                    clashed.add(other)
                    self.bad(f"figure {fig.name!r}: name",
                             f"writes {file}, which figure {other!r} writes too"
                             + (f" (as {theirs})" if theirs != file else "")
                             + "; rename one of them")
                else:
                    written[key] = (fig.name, file)

    def check_name(self, where: str, name: str) -> None:
        """A figure name becomes a file name: no paths, nothing hidden."""
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", name) or \
                ".." in parts:
            self.bad(f"{where}: name", f"{name!r} would write outside the output "
                     "folder; use a plain file name like 'and-gate'")
        elif len(parts) > 1:
            self.bad(f"{where}: name", f"{name!r} must be a plain file name, "
                     "without '/' or '\\'")
        elif not NAME_RE.fullmatch(name):
            self.bad(f"{where}: name", f"{name!r} must start with a letter or digit "
                     "and use only letters, digits, '-', '_' and '.'")


    def settings(self, where: str, raw: dict, base: dict) -> dict:
        """formats, themes, quality, fps, resolution and gif_budget, checked."""
        out = dict(base)
        if "formats" in raw:
            out["formats"] = self.choices(where, "formats", raw["formats"],
                                          render.FORMATS)
        if "themes" in raw:
            out["themes"] = self.choices(where, "themes", raw["themes"],
                                         (*themes.BUILT_IN, *self.theme_defs))
        if "language" in raw and "languages" in raw:
            self.bad(f"{where}: language", "give language or languages, not both")
        elif "language" in raw or "languages" in raw:
            key = "language" if "language" in raw else "languages"
            value = raw[key]
            if key == "language" and not isinstance(value, str):
                self.bad(f"{where}: language", 'must be text, e.g. "de"')
            else:
                out["languages"] = self.choices(where, key, value, tuple(LANGUAGES))
        if "quality" in raw:
            q = raw["quality"]
            if q not in render.QUALITIES:
                self.bad(f"{where}: quality",
                         f"{q!r} is not one of {', '.join(render.QUALITIES)}")
            else:
                out["quality"] = q
        if "fps" in raw:
            fps = raw["fps"]
            if isinstance(fps, bool) or not isinstance(fps, int | float) or \
                    not math.isfinite(fps) or not 1 <= fps <= 120:
                self.bad(f"{where}: fps", f"{fps!r} must be a number from 1 to 120")
            else:
                out["fps"] = float(fps)
        if "resolution" in raw:
            try:
                out["resolution"] = render.parse_resolution(str(raw["resolution"]))
            except UserError as exc:
                self.bad(f"{where}: resolution", _problem_of(str(exc)))
        if "gif_budget" in raw:
            budget = None
            if not isinstance(raw["gif_budget"], bool):
                with contextlib.suppress(UserError):
                    budget = parse_budget(raw["gif_budget"])
            if budget is None:
                self.bad(f"{where}: gif_budget", f"{raw['gif_budget']!r} is not a "
                         "size; give bytes (2000000) or text like \"2 MB\" or \"800 KB\"")
            elif budget < MIN_GIF_BUDGET:
                self.bad(f"{where}: gif_budget", f"{raw['gif_budget']!r} is too small; "
                         f"give at least {MIN_GIF_BUDGET // 1000} KB")
            else:
                out["gif_budget"] = int(budget)
        return out

    def choices(self, where: str, key: str, raw: Any, allowed: tuple) -> tuple:
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items:
            self.bad(f"{where}: {key}", f"must be a list, e.g. [{allowed[0]!r}]")
            return allowed[:1]
        unknown = [x for x in items if x not in allowed]
        if unknown:
            self.bad(f"{where}: {key}",
                     f"{unknown[0]!r} is not one of {', '.join(allowed)}")
        dupes = sorted({x for x in items if isinstance(x, str) and items.count(x) > 1})
        if dupes:
            self.bad(f"{where}: {key}", f"{dupes[0]!r} is listed twice")
        return tuple(dict.fromkeys(x for x in items if x in allowed))

    def options(self, where: str, spec, raw: Any) -> tuple[dict | None, dict]:
        """Each option checked on its own (all problems reported), then resolved."""
        if not isinstance(raw, dict):
            self.bad(f"{where}: options", "must be a table, e.g. options = { lr = 0.5 }")
            return None, {}
        if spec is None:
            return None, {}
        by_name = {p.name: p for p in spec.params}
        given, ok = {}, True
        for key, val in raw.items():
            p = by_name.get(key.replace("-", "_"))
            if p is None:
                names = ", ".join(by_name) or "none"
                self.bad(f"{where}: options.{key}",
                         f"unknown option for {spec.name}; options are: {names}")
                ok = False
                continue
            typo = _type_problem(p, val)
            if typo:
                self.bad(f"{where}: options.{key}", typo)
                ok = False
                continue
            try:
                parsed = p.parse(val)
            except UserError as exc:
                self.bad(f"{where}: options.{key}", _problem_of(str(exc)))
                ok = False
                continue
            if p.kind == "path" and parsed not in (None, ()):
                given[p.name] = tuple(self.path(x) for x in parsed) if p.multiple \
                    else self.path(parsed)
            else:
                given[p.name] = parsed
        if not ok:
            return None, {}
        try:
            values = spec.resolve(given)
        except UserError as exc:
            self.bad(f"{where}: options", str(exc))
            return None, {}
        shown = {}
        for p in spec.params:
            v = values[p.name]
            if v != p.default and v is not None:
                if p.kind == "path":  # as written: moving the lesson folder is no change
                    v = raw.get(p.name, raw.get(p.name.replace("_", "-")))
                shown[p.name] = list(v) if isinstance(v, tuple | list) else v
        return values, shown

    def path(self, value: str) -> str:
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else self.base / p)


def _field_of(message: str) -> str:
    """'--fps: ...' -> 'fps' (render/params messages name a CLI flag first)."""
    head = message.split(":", 1)[0].strip()
    return head.lstrip("-").replace("-", "_") if head.startswith("--") else "options"


def _problem_of(message: str) -> str:
    """The message without its leading '--flag: ' (the lesson line names the field)."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.startswith("--") else message


def _type_problem(p, val: Any) -> str | None:
    """TOML has types: a number written as text ("200") is a mistake, as for fps."""
    items = val if p.multiple and isinstance(val, list) else [val]
    for v in items:
        if p.kind in ("int", "float"):
            if isinstance(v, str):
                try:
                    float(v)
                except ValueError:
                    continue  # not a number at all: Param.parse says so
                return (f"{v!r} is text, not a number; write {p.name} = {v} "
                        "without quotes")
            if isinstance(v, bool) or not isinstance(v, int | float):
                return f"{v!r} must be a number, not {_toml_type(v)}"
        elif not isinstance(v, str):
            return f"{v!r} must be text, not {_toml_type(v)}"
    return None


def _toml_type(v: Any) -> str:
    names = {bool: "true/false", str: "text", list: "a list", dict: "a table",
             int: "a number", float: "a number"}
    return names.get(type(v), type(v).__name__)
