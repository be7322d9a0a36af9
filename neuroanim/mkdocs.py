"""MkDocs: the `neuroanim` plugin turns a fenced block naming a figure into the figure.

In mkdocs.yml::

    plugins:
      - neuroanim:
          lesson: lesson.toml      # relative to mkdocs.yml; unset: the built-in lesson

In a page, a fenced block whose info string is `neuroanim`, with the figure's
name after it or in the block (TOML: figure, caption, name, show, autoplay;
scene, options, formats, themes describe a figure in place)::

    ```neuroanim and-gate
    ```

    ```neuroanim
    figure = "slow-ball"
    scene = "gradient-descent"
    options = { lr = [0.05] }
    caption = "A small learning rate crawls"
    ```

Every page is scanned when the files are known (`on_files`), the figures they
show are built once into `cache_dir` (rendering only what changed, on `mkdocs
build` and on each of `mkdocs serve`'s rebuilds), and their files join the
site under `assets_dir`. A block becomes a token in the Markdown and the
figure's HTML in the page's content, so it works inside admonitions, tabs
and lists. With Material for MkDocs, themed images carry `#only-light` and
`#only-dark` and follow its palette toggle.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.utils import get_relative_url

from . import embed
from .errors import UserError
from .files import base_url_ok as files_ok
from .lesson import LessonError

log = logging.getLogger("mkdocs.plugins.neuroanim")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class NeuroanimConfig(base.Config):
    lesson = c.Optional(c.Type(str))  # relative to mkdocs.yml; unset: built-in lesson
    cache_dir = c.Type(str, default=".cache/plugin/neuroanim")  # where builds live
    assets_dir = c.Type(str, default="assets/neuroanim")  # where the site serves them
    base_url = c.Optional(c.Type(str))  # files served from elsewhere (a CDN)
    themed = c.Choice(("auto", "material", "picture"), default="auto")
    resolution = c.Optional(c.Type(str))  # every figure at this size (drafts)
    fps = c.Optional(c.Type((int, float)))
    jobs = c.Optional(c.Type(int))  # worker processes (default: every core)


@dataclass(frozen=True)
class Marker:
    """A `neuroanim` fenced block: lines [start, end] of the page, 1-based `line`."""

    start: int
    end: int
    indent: str
    info: str  # what follows `neuroanim` on the opening line
    body: str
    line: int


def markers(text: str) -> list[Marker]:
    """The top-level `neuroanim` fences of a Markdown text (not those shown
    inside another fence); ValueError for one that is never closed."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        ch, n = m["fence"][0], len(m["fence"])
        close = re.compile(rf"^[ \t]*{re.escape(ch)}{{{n},}}[ \t]*$")
        j = next((k for k in range(i + 1, len(lines)) if close.match(lines[k])), None)
        words = m["info"].split()
        if words and words[0] == "neuroanim":
            if j is None:
                raise ValueError(f"{i + 1}: the neuroanim block is never closed "
                                 f"(end it with {m['fence']})")
            indent = m["indent"]
            body = "\n".join(x[len(indent):] if x.startswith(indent) else x.lstrip()
                             for x in lines[i + 1:j])
            out.append(Marker(i, j, indent, " ".join(words[1:]), body, i + 1))
        i = len(lines) if j is None else j + 1
    return out


def parse(marker: Marker) -> embed.Use:
    """A marker's `Use`; ValueError names what is wrong."""
    body = marker.body.strip()
    fields: dict = {}
    if body and "=" not in body and len(body.split()) == 1 and not marker.info:
        fields["figure"] = body
    elif body:
        try:
            fields = tomllib.loads(marker.body)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"the block is not TOML like figure = \"and-gate\" "
                             f"({exc})") from None
    if marker.info:
        if "figure" in fields and fields["figure"] != marker.info:
            raise ValueError(f"figure is given twice ({marker.info!r} and "
                             f"{fields['figure']!r})")
        fields["figure"] = marker.info
    unknown = [k for k in fields if k not in embed.USE_KEYS]
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown key; a neuroanim block takes "
                         f"{', '.join(embed.USE_KEYS)}")
    if "figure" not in fields:
        raise ValueError("name the figure: ```neuroanim FIGURE, or figure = \"...\"")
    return embed.use_from(fields.pop("figure"), **fields)


class NeuroanimPlugin(BasePlugin[NeuroanimConfig]):
    """Lesson figures on MkDocs pages, built with the site."""

    def on_config(self, config):
        root = Path(config.config_file_path or ".").resolve().parent
        cfg = self.config
        self.assets = cfg.assets_dir.strip("/")
        self.token = "XNEUROANIM" + secrets.token_hex(6).upper()
        self.uses: dict[str, list[embed.Use]] = {}
        try:
            settings = embed.overrides(cfg.resolution, cfg.fps)
            lesson_file = root / cfg.lesson if cfg.lesson else None
            self.site = embed.Site(root, root / cfg.cache_dir, lesson_file, settings,
                                   "plugins: neuroanim: lesson in mkdocs.yml")
        except LessonError as exc:
            raise PluginError("neuroanim: lesson: " + "; ".join(exc.problems)) from None
        except UserError as exc:
            raise PluginError(f"neuroanim: {exc}") from None
        if cfg.base_url and not files_ok(cfg.base_url):
            raise PluginError(f"neuroanim: base_url {cfg.base_url!r} must be an "
                              "http(s) address or a path, without quotes, spaces, "
                              "? or #")
        self.themed = cfg.themed if cfg.themed != "auto" else (
            "material" if config.theme.name == "material" else "picture")
        config.extra_css.append(f"{self.assets}/{embed.CSS_NAME}")
        return config

    def on_files(self, files: Files, *, config) -> Files:
        """Find every figure the pages show, build them, add their files."""
        tables: dict[str, tuple[dict, str]] = {}
        for file in files.documentation_pages(inclusion=InclusionLevel.all):
            uses = self.uses[file.src_uri] = []
            for where, use in self._scan(file.src_uri, file.content_string):
                _, problems = self.site.resolve(use)
                if problems:
                    raise PluginError(f"{where}: neuroanim: {'; '.join(problems)}")
                if use.table is not None:
                    first = tables.setdefault(use.figure, (use.table, where))
                    if first[0] != use.table:
                        raise PluginError(f"{where}: neuroanim: figure {use.figure!r} "
                                          f"is described differently at {first[1]}; "
                                          "give one another name")
                uses.append(use)
        names = {u.figure for us in self.uses.values() for u in us}
        try:
            report = self.site.build(names, [t for t, _ in tables.values()],
                                     jobs=self.config.jobs,
                                     log=lambda line: log.info(f"neuroanim: {line}"))
        except UserError as exc:
            raise PluginError("neuroanim: " + "; ".join(str(exc).splitlines())
                              ) from None
        for ev in report.failed if report else []:
            log.warning(f"neuroanim: {ev.name} failed: {ev.error}")
        out = self.site.out_dir
        shown = {(u.figure, u.show) for us in self.uses.values() for u in us}
        wanted = sorted({n for fig, show in shown for n in self.site.referenced(
            embed.Use(fig, show=show), themed=self.themed)})
        for name in wanted:
            files.append(File.generated(config, f"{self.assets}/{name}",
                                        abs_src_path=str(out / name)))
        files.append(File.generated(config, f"{self.assets}/{embed.CSS_NAME}",
                                    content=embed.CSS))
        return files

    def _scan(self, src: str, text: str):
        try:
            found = markers(text)
        except ValueError as exc:
            raise PluginError(f"{src}:{exc}") from None
        for m in found:
            where = f"{src}:{m.line}"
            try:
                yield where, parse(m)
            except ValueError as exc:
                raise PluginError(f"{where}: neuroanim: {exc}") from None

    def on_page_markdown(self, markdown: str, *, page, config, files) -> str:
        """Each block becomes a token (a paragraph of its own) to fill in later."""
        lines = markdown.splitlines()
        uses, ids = [], set()
        for _, use in self._scan(page.file.src_uri, markdown):
            wanted = use.id or "neuroanim-" + re.sub(r"[^A-Za-z0-9_-]+", "-",
                                                     use.figure)
            uid, n = wanted, 1
            while uid in ids:  # one id per figure of the page, for links to it
                n += 1
                uid = f"{wanted}-{n}"
            ids.add(uid)
            uses.append(dataclasses.replace(use, id=uid))
        self.uses[page.file.src_uri] = uses
        for i, m in reversed(list(enumerate(markers(markdown)))):
            lines[m.start:m.end + 1] = [f"{m.indent}{self.token}N{i}X"]
        return "\n".join(lines) + "\n"

    def on_page_content(self, html: str, *, page, config, files) -> str:
        uses = self.uses.get(page.file.src_uri, [])
        base = self.config.base_url or get_relative_url(f"{self.assets}/", page.url)

        def fill(m: re.Match) -> str:
            i = int(m["i"])
            if i >= len(uses):
                return ""
            use = uses[i]
            if page.present_anchor_ids is not None:  # links to the figure are good
                page.present_anchor_ids.add(use.id)
            if not self.site.items(use.figure):
                log.warning(f"neuroanim: {page.file.src_uri}: figure {use.figure!r} "
                            "has no built files to show")
            return self.site.html(use, base, themed=self.themed)

        token = re.escape(self.token) + r"N(?P<i>\d+)X"
        html = re.sub(rf"<p>\s*{token}\s*</p>", fill, html)
        return re.sub(token, fill, html)

    def on_serve(self, server, *, config, builder):
        """Rebuild when the lesson or a scene folder changes."""
        watched = [self.site.lesson_file, self.site.base / "scenes",
                   self.site.root / "scenes"]
        for path in dict.fromkeys(p for p in watched if p is not None and p.exists()):
            server.watch(str(path))
        return server
