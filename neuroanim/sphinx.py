"""Sphinx: `.. neuroanim:: FIGURE` shows a lesson figure, built inside sphinx-build.

In conf.py::

    extensions = ["neuroanim.sphinx"]
    neuroanim_lesson = "lesson.toml"   # relative to conf.py; unset: the built-in lesson

In a page::

    .. neuroanim:: and-gate
       :caption: A neuron learns AND       (default: the figure's title)
       :name: fig-and-gate                 (a target for :ref: and :numref:)
       :show: video                        (video, gif, still or interactive)
       :autoplay:                          (muted, looping)

    .. neuroanim:: slow-ball               (a figure described in place)
       :scene: gradient-descent
       :options: lr = [0.05], steps = 40
       :formats: mp4, webm
       :themes: dark, light

Settings: `neuroanim_resolution` and `neuroanim_fps` build every figure at that
size and rate (a quick draft of the site; `NEUROANIM_SITE_RESOLUTION` and
`NEUROANIM_SITE_FPS` win over them), `neuroanim_jobs` caps the worker
processes, `neuroanim_base_url` points the pages at another copy of the files.

Directives only record which figures a page shows (in the environment, so
parallel reading works and unchanged pages are not read again); the lesson is
built once, in the main process, when reading is done (`env-updated`),
rendering only what changed, into `_static/neuroanim/` of the HTML output.
The HTML is filled in when a page is written (`doctree-resolved`); pages whose
figures changed are written again. Other builders get the caption and the alt
text as a paragraph.
"""

from __future__ import annotations

import re
import weakref
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

from . import __version__, embed, files
from .errors import UserError
from .lesson import LessonError

logger = logging.getLogger(__name__)
STATIC = "_static/neuroanim"  # where the outputs land in the HTML build
ENV_VERSION = 1
# the app's Config -> its Site (a directive sees the config, not the app)
_sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class neuroanim_figure(nodes.General, nodes.Element):  # noqa: N801 (docutils' style)
    """A figure to fill in when the page is written: its `use` and caption."""


def _title(node: neuroanim_figure) -> str:
    return node.get("caption") or ""


class NeuroanimDirective(SphinxDirective):
    """`.. neuroanim:: FIGURE`: a figure of the lesson, or one described in place."""

    required_arguments = 1
    has_content = False
    option_spec = {
        "scene": directives.unchanged_required,
        "options": directives.unchanged,
        "formats": directives.unchanged_required,
        "themes": directives.unchanged_required,
        "caption": directives.unchanged,
        "name": directives.unchanged_required,
        "show": lambda arg: directives.choice(arg, embed.KINDS),
        "autoplay": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        o = self.options
        try:
            use = embed.use_from(self.arguments[0], scene=o.get("scene"),
                                 options=o.get("options"), formats=o.get("formats"),
                                 themes=o.get("themes"), caption=o.get("caption"),
                                 show=o.get("show"), autoplay="autoplay" in o)
        except ValueError as exc:
            return self._problems([f"neuroanim: {exc}"])
        site = _sites.get(self.config)
        if site is None:
            return self._problems(["neuroanim: the extension was not set up"])
        figure, problems = site.resolve(use)
        if problems:
            return self._problems(problems)
        if site.lesson_file is not None:  # its edits re-read this page
            self.env.note_dependency(str(site.lesson_file))
        node = neuroanim_figure()
        self.set_source_info(node)
        node["figure"] = use.figure
        node["caption"] = use.caption or figure.title or ""
        if "name" in o:
            self.add_name(node)  # a :ref: target; note_explicit_target gives the id
        if not node["ids"]:  # an id anyway: numfig numbers and links need one
            uid = self._fresh_id(use.figure)
            node["ids"].append(uid)
            self.state.document.ids[uid] = node
        doc_uses = _uses(self.env).setdefault(self.env.docname, [])
        doc_uses.append({"figure": use.figure, "table": use.table, "line": self.lineno,
                         "caption": use.caption, "show": use.show,
                         "autoplay": use.autoplay})
        node["use"] = len(doc_uses) - 1
        return [node]

    def _fresh_id(self, figure: str) -> str:
        document = self.state.document
        base = nodes.make_id(f"neuroanim-{figure}") or "neuroanim"
        new, n = base, 1
        while new in document.ids:
            n += 1
            new = f"{base}-{n}"
        return new

    def _problems(self, lines: list[str]) -> list[nodes.Node]:
        for line in lines:
            text = line if line.startswith("neuroanim") else f"neuroanim: {line}"
            logger.warning(text, location=self.get_location(), type="neuroanim")
        return []


def _uses(env) -> dict[str, list[dict]]:
    """docname -> the figures it shows, in order (kept in the environment)."""
    if not hasattr(env, "neuroanim_uses"):
        env.neuroanim_uses = {}
    return env.neuroanim_uses


def _html(app) -> bool:
    return getattr(app.builder, "format", "") == "html"


def _conf_location(app, key: str) -> str:
    """conf.py:LINE of `key = ...`, for warnings about a setting."""
    conf = Path(app.confdir) / "conf.py"
    try:
        for i, line in enumerate(conf.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(rf"\s*{key}\s*=", line):
                return f"{conf}:{i}"
    except OSError:
        pass
    return str(conf)


def builder_inited(app) -> None:
    """Load the lesson (every problem a warning at conf.py), set up the CSS."""
    cfg = app.config
    out_dir = Path(app.outdir) / STATIC
    hint = "neuroanim_lesson in conf.py"
    try:
        settings = embed.overrides(cfg.neuroanim_resolution, cfg.neuroanim_fps)
    except UserError as exc:
        logger.warning(f"neuroanim: {exc}", type="neuroanim",
                       location=_conf_location(app, "neuroanim_fps"))
        settings = {}
    lesson_file = (Path(app.confdir) / cfg.neuroanim_lesson
                   if cfg.neuroanim_lesson else None)
    try:
        site = embed.Site(Path(app.confdir), out_dir, lesson_file, settings, hint)
    except LessonError as exc:
        where = _conf_location(app, "neuroanim_lesson")
        for line in exc.problems:
            logger.warning(f"neuroanim_lesson: {line}", location=where,
                           type="neuroanim")
        site = embed.Site(Path(app.confdir), out_dir, None, settings, hint,
                          without_lesson=True)
    _sites[app.config] = site
    base_url = cfg.neuroanim_base_url
    if base_url and not files.base_url_ok(base_url):
        logger.warning(f"neuroanim: neuroanim_base_url {base_url!r} must be an http(s) "
                       "address or a path, without quotes, spaces, ? or #; the pages "
                       "link to _static/neuroanim/ instead", type="neuroanim",
                       location=_conf_location(app, "neuroanim_base_url"))
    if _html(app):
        static = Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        css = static / embed.CSS_NAME
        if not css.is_file() or css.read_text(encoding="utf-8") != embed.CSS:
            files.atomic_write(css, embed.CSS.encode("utf-8"))
        app.add_css_file(embed.CSS_NAME)


def purge_doc(app, env, docname: str) -> None:
    _uses(env).pop(docname, None)


def merge_info(app, env, docnames, other) -> None:
    """Parallel reading: take what the other process's pages recorded."""
    theirs = _uses(other)
    for doc in docnames:
        if doc in theirs:
            _uses(env)[doc] = theirs[doc]


def _jobs(app) -> int | None:
    """`neuroanim_jobs`, which `-D neuroanim_jobs=2` gives as text."""
    value = app.config.neuroanim_jobs
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        logger.warning(f"neuroanim: neuroanim_jobs {value!r} is not a number; using "
                       "every core", location=_conf_location(app, "neuroanim_jobs"),
                       type="neuroanim")
        return None


def env_updated(app, env) -> list[str]:
    """Build every figure the pages show, once; return the pages to write again
    because a figure's HTML changed (other files, sizes, alt text, title)."""
    site = _sites.get(app.config)
    if site is None or not _html(app):
        return []
    uses = _uses(env)
    tables: dict[str, tuple[dict, str]] = {}
    for doc in sorted(uses):
        for u in uses[doc]:
            if u["table"] is None:
                continue
            first = tables.setdefault(u["figure"], (u["table"], doc))
            if first[0] != u["table"]:
                logger.warning(f"neuroanim: figure {u['figure']!r} is described "
                               f"differently in {first[1]}; that one is shown",
                               location=(doc, u["line"]), type="neuroanim")
    names = {u["figure"] for us in uses.values() for u in us}
    users = {name: sorted(d for d, us in uses.items() if any(u["figure"] == name
                                                             for u in us))
             for name in names}

    def log(line: str) -> None:
        logger.info(f"neuroanim: {line}")

    try:
        report = site.build(names, [t for t, _ in tables.values()],
                            jobs=_jobs(app), log=log)
    except UserError as exc:  # LessonError too: bad options found while preparing
        for line in str(exc).splitlines():
            logger.warning(f"neuroanim: {line}", type="neuroanim")
        return []
    for ev in report.failed if report else []:
        fig = site.outputs.get(ev.name)
        doc = (users.get(fig) or [None])[0]
        line = next((u["line"] for u in uses.get(doc, []) if u["figure"] == fig), None)
        logger.warning(f"neuroanim: {ev.name} failed: {ev.error}", type="neuroanim",
                       location=(doc, line) if doc else None)
    old = getattr(env, "neuroanim_digests", {})
    new = {name: site.digest(name) for name in names}
    env.neuroanim_digests = new
    return sorted({d for name in names if old.get(name) != new[name]
                   for d in users[name]})


def doctree_resolved(app, doctree, docname: str) -> None:
    """Put each figure's HTML in place (or its caption and alt, off HTML)."""
    site = _sites.get(app.config)
    recorded = _uses(app.env).get(docname, [])
    numbers = app.env.toc_fignumbers.get(docname, {}).get("figure", {})
    for node in list(doctree.findall(neuroanim_figure)):
        i = node.get("use", -1)
        if site is None or not 0 <= i < len(recorded):
            node.replace_self([])
            continue
        u = recorded[i]
        use = embed.Use(u["figure"], u["table"], u["caption"] or node["caption"],
                        node["ids"][0] if node["ids"] else None, u["show"],
                        u["autoplay"])
        if not _html(app):
            alt = next((e.get("alt") for _, e in site.items(use.figure)
                        if e.get("alt")), "")
            para = nodes.paragraph()
            para += nodes.emphasis(text=use.caption or use.figure)
            if alt:
                para += nodes.Text(f" ({alt})")
            node.replace_self(para)
            continue
        if not site.items(use.figure):
            logger.warning(f"neuroanim: figure {use.figure!r} has no built files to "
                           "show", location=node, type="neuroanim")
        number = None
        if app.config.numfig and use.id in numbers:
            fmt = app.config.numfig_format.get("figure", "Fig. %s")
            number = fmt % ".".join(map(str, numbers[use.id]))
            number = number.strip()
        base_url = app.config.neuroanim_base_url
        base = base_url if base_url and files.base_url_ok(base_url) else relative_uri(
            app.builder.get_target_uri(docname), STATIC + "/")
        html = site.html(use, base, themed="picture", number=number,
                         permalink=bool(getattr(app.config, "html_permalinks", True)))
        node.replace_self(nodes.raw("", html, format="html"))


def setup(app) -> dict:
    app.add_config_value("neuroanim_lesson", None, "env", types=(str, type(None)))
    app.add_config_value("neuroanim_resolution", None, "env", types=(str, type(None)))
    app.add_config_value("neuroanim_fps", None, "env",
                         types=(int, float, str, type(None)))
    app.add_config_value("neuroanim_jobs", None, "", types=(int, str, type(None)))
    app.add_config_value("neuroanim_base_url", None, "html", types=(str, type(None)))
    app.add_enumerable_node(neuroanim_figure, "figure", _title)
    app.add_directive("neuroanim", NeuroanimDirective)
    app.connect("builder-inited", builder_inited)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    app.connect("env-updated", env_updated)
    app.connect("doctree-resolved", doctree_resolved)
    return {"version": __version__, "env_version": ENV_VERSION,
            "parallel_read_safe": True, "parallel_write_safe": True}
