"""Course sites: the Sphinx directive, the MkDocs plugin and both example sites,
built for real at 160x90, their HTML parsed, their files decoded, and the pages
opened in headless Chromium."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from neuroanim import embed
from neuroanim import lesson as lessons
from neuroanim.mkdocs import markers, parse
from tests.test_browser import driver  # noqa: F401  (the Chromium fixture)
from tests.test_web import read_vtt

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's sphinx-build and mkdocs
TINY = {"NEUROANIM_SITE_RESOLUTION": "160x90", "NEUROANIM_SITE_FPS": "5"}

# A scene beside the test lessons: a circle in two languages, with captions.
CARD = '''
from neuroanim.params import Param
from neuroanim.spec import SceneSpec
from neuroanim.wording import Strings, fmt

WORDS = Strings({"draw": "a circle", "done": "done",
                 "alt": "A circle is drawn in {seconds} seconds, then the word done."},
                de={"draw": "ein Kreis", "done": "fertig",
                    "alt": "Ein Kreis entsteht in {seconds} Sekunden, dann: fertig."})


def prepare(values):
    return {"seconds": values["seconds"]}


def alt(data):
    return WORDS("alt", seconds=fmt(data["seconds"], 1))


SCENE = SceneSpec(name="blip", description="A circle, drawn (site tests).",
                  params=(Param("seconds", "float", 0.6, "how long the circle takes",
                                low=0.2, high=5),),
                  prepare=prepare, draw="blip_draw:Blip", alt=alt, words=WORDS)
'''
DRAW = '''
from manim import Circle, Create, FadeIn

from neuroanim.draw import NeuroScene, tx

from .blip import WORDS


class Blip(NeuroScene):
    spec_name = "blip"

    def construct(self):
        self.play(Create(Circle(color=self.theme.accent)),
                  run_time=self.data["seconds"], subcaption=WORDS("draw"))
        self.play(FadeIn(tx(WORDS("done"))), run_time=0.4, subcaption=WORDS("done"))
'''
LESSON = '''
title = "Site test"

[defaults]
resolution = "160x90"
fps = 5
formats = ["mp4", "webm"]

[[figure]]
name = "blip-video"
scene = "blip"
title = "A circle, drawn"
languages = ["en", "de"]
'''
STILL = {"figure": "blip-still", "caption": "The circle, finished"}  # made in place

SPHINX_CONF = '''
project = "site test"
extensions = ["neuroanim.sphinx"]
neuroanim_lesson = "lesson.toml"
neuroanim_jobs = 1
numfig = True
'''
SPHINX_INDEX = '''
Site test
=========

.. toctree::

   sub/page

.. neuroanim:: blip-video
   :name: fig-blip

See :ref:`fig-blip` and :numref:`fig-blip`.

.. neuroanim:: blip-still
   :scene: blip
   :options: seconds = 0.4
   :formats: png
   :themes: dark, light
   :caption: The circle, finished
'''
SPHINX_SUB = '''
Sub page
========

.. neuroanim:: blip-video
   :caption: Again, from a folder below
'''
MKDOCS_YML = '''
site_name: site test
theme: { name: mkdocs, highlightjs: false }
plugins:
  - search
  - neuroanim: { lesson: lesson.toml, jobs: 1 }
'''
MKDOCS_INDEX = '''# Site test

```neuroanim blip-video
```

- In a list item:

    ```neuroanim
    figure = "blip-still"
    scene = "blip"
    options = { seconds = 0.5 }
    formats = ["png"]
    themes = ["dark", "light"]
    caption = "The circle, finished"
    ```

A block shown as code stays code:

````markdown
```neuroanim shown-only
```
````
'''
MKDOCS_SUB = '''# Sub page

```neuroanim
figure = "blip-video"
caption = "Again, from a folder below"
name = "again"
```
'''


# ---------------------------------------------------------------- helpers
def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def project(folder: Path, files: dict[str, str]) -> Path:
    """A site folder with the test scene and lesson, plus `files`."""
    write(folder / "scenes" / "blip.py", CARD)
    write(folder / "scenes" / "blip_draw.py", DRAW)
    write(folder / "lesson.toml", LESSON)
    for name, text in files.items():
        write(folder / name, text)
    return folder


def run(args: list, cache: Path, env: dict | None = None, cwd: Path = ROOT):
    full = {**os.environ, "NEUROANIM_CACHE": str(cache), **(env or {})}
    for key in TINY:
        if key not in (env or {}):
            full.pop(key, None)
    return subprocess.run([str(a) for a in args], cwd=cwd, env=full, text=True,
                          capture_output=True, timeout=600)


def mtimes(folder: Path) -> dict[str, int]:
    """mtimes of the manifest and every file it records (outputs, posters,
    captions); the preview page and the lock are written by every build."""
    doc = json.loads((folder / "manifest.json").read_text())
    names = {"manifest.json"}
    for name, e in doc["outputs"].items():
        names |= {name, *(e.get("captions") or {}).values(), e.get("poster")} - {None}
    return {n: (folder / n).stat().st_mtime_ns for n in sorted(names)}


@dataclass
class Built:
    """A site built twice, the second time with nothing changed."""

    name: str
    root: Path  # what a web server serves
    pages: dict[str, Path]  # page name -> HTML file
    media: Path  # the lesson build's folder (manifest, outputs)
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    before: dict[str, int]  # media mtimes after the first build
    after: dict[str, int]
    pages_before: dict[str, int]
    manifest: dict
    themed: str
    cache: Path | None = None

    @property
    def log(self) -> str:
        return self.first.stdout + self.first.stderr


def build_twice(name, cmd, cache, media, root, pages, themed, env=None) -> Built:
    first = run(cmd, cache, env)
    assert first.returncode == 0, f"{name}:\n{first.stdout}\n{first.stderr}"
    before = mtimes(media)
    manifest = json.loads((media / "manifest.json").read_text())
    pages_before = {k: p.stat().st_mtime_ns for k, p in pages.items()}
    second = run(cmd, cache, env)
    assert second.returncode == 0, f"{name} rebuild failed:\n{second.stderr}"
    return Built(name, root, pages, media, first, second, before, mtimes(media),
                 pages_before, manifest, themed, cache)


@pytest.fixture(scope="module")
def sphinx_site(tmp_path_factory) -> Built:
    tmp = tmp_path_factory.mktemp("sphinx-site")
    src = project(tmp / "src", {"conf.py": SPHINX_CONF, "index.rst": SPHINX_INDEX,
                                "sub/page.rst": SPHINX_SUB})
    out = tmp / "out"
    return build_twice("sphinx", [BIN / "sphinx-build", "-b", "html", src, out],
                       tmp / "cache", out / "_static" / "neuroanim", out,
                       {"index": out / "index.html", "sub": out / "sub" / "page.html"},
                       "picture")


@pytest.fixture(scope="module")
def mkdocs_site(tmp_path_factory, sphinx_site) -> Built:
    """The same lesson in MkDocs, its cache starting as the Sphinx site's build:
    the lesson's video is up to date, the still described in place here has
    other options (seconds 0.5), so only its two files render."""
    tmp = tmp_path_factory.mktemp("mkdocs-site")
    src = project(tmp / "src", {"mkdocs.yml": MKDOCS_YML, "docs/index.md": MKDOCS_INDEX,
                                "docs/sub/page.md": MKDOCS_SUB})
    cache = src / ".cache" / "plugin" / "neuroanim"
    shutil.copytree(sphinx_site.media, cache)
    out = tmp / "out"
    return build_twice("mkdocs", [BIN / "mkdocs", "build", "-f", src / "mkdocs.yml",
                                  "-d", out], tmp / "cache", cache, out,
                       {"index": out / "index.html",
                        "sub": out / "sub" / "page" / "index.html"}, "picture")


@pytest.fixture(scope="module")
def sphinx_example(tmp_path_factory) -> Built:
    """examples/sphinx-site with its documented command, every figure at 160x90."""
    tmp = tmp_path_factory.mktemp("sphinx-example")
    out = tmp / "out"
    return build_twice("sphinx example",
                       [BIN / "sphinx-build", "-b", "html", "examples/sphinx-site", out,
                        "-D", "neuroanim_jobs=1"],
                       tmp / "cache", out / "_static" / "neuroanim", out,
                       {"index": out / "index.html"}, "picture", env=TINY)


@pytest.fixture(scope="module")
def mkdocs_example(tmp_path_factory, sphinx_example) -> Built:
    """examples/mkdocs-site, copied so its cache stays out of the checkout.

    Its cache starts as the Sphinx example's build folder: the same lesson at
    the same size has the same keys, so the plugin renders nothing (and the
    suite renders the two figures once). The minimal MkDocs project renders.
    """
    tmp = tmp_path_factory.mktemp("mkdocs-example")
    src = tmp / "mkdocs-site"
    shutil.copytree(ROOT / "examples" / "mkdocs-site", src,
                    ignore=shutil.ignore_patterns(".cache"))
    cache = src / ".cache" / "plugin" / "neuroanim"
    shutil.copytree(sphinx_example.media, cache)
    out = tmp / "out"
    return build_twice("mkdocs example",
                       [BIN / "mkdocs", "build", "-f", src / "mkdocs.yml", "-d", out],
                       tmp / "cache", cache, out, {"index": out / "index.html"},
                       "material", env=TINY)


SITES = ("sphinx_site", "mkdocs_site", "sphinx_example", "mkdocs_example")


# ------------------------------------------------------------ HTML parsing
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent=None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def all(self, tag: str, cls: str | None = None) -> list[Node]:
        found = []
        for c in self.children:
            if isinstance(c, Node):
                classes = c.attrs.get("class", "").split()
                if c.tag == tag and (cls is None or cls in classes):
                    found.append(c)
                found += c.all(tag, cls)
        return found

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class Tree(HTMLParser):
    """A small DOM from the standard library's HTML parser."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = self.node = Node("#document", {})
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.node)
        self.node.children.append(node)
        if tag not in VOID:
            self.node = node

    def handle_startendtag(self, tag, attrs):
        self.node.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.node))

    def handle_endtag(self, tag):
        node = self.node
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.node = node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def local(page: Path, url: str, root: Path) -> Path:
    """The file a relative URL of `page` names, which must exist inside `root`."""
    assert url and not re.match(r"^[a-z]+:", url), f"{page.name}: {url} is absolute"
    path = (page.parent / unquote(url.split("#")[0])).resolve()
    assert path.is_relative_to(root.resolve()), f"{url} leaves the site"
    assert path.is_file(), f"{page.name}: {url} names no file"
    return path


def figures(page: Path) -> list[Node]:
    return Tree(page.read_text(encoding="utf-8")).root.all("figure", "neuroanim")


def decoded_video(path: Path) -> tuple[int, int, float]:
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        frames = sum(1 for _ in box.decode(video=0))
        return stream.codec_context.width, stream.codec_context.height, frames


def check_figure(fig: Node, page: Path, site: Built) -> dict:
    """Every file the figure names exists and decodes; alt, caption, id, tracks
    and sources agree with the build's manifest. What was found, for more checks."""
    name = fig.attrs["data-figure"]
    entries = {n: e for n, e in site.manifest["outputs"].items() if e["figure"] == name}
    assert entries, f"{name}: not in the manifest"
    alts = {e["alt"] for e in entries.values()}
    assert fig.attrs.get("id"), f"{name}: no id to link to"
    caption = fig.all("figcaption")
    assert len(caption) == 1 and caption[0].all("span", "caption-text"), name
    number = "".join(n.text() for n in caption[0].all("span", "caption-number"))
    found = {"name": name, "id": fig.attrs["id"],
             "caption": caption[0].all("span", "caption-text")[0].text(),
             "number": number.strip(), "videos": [], "images": []}
    assert found["caption"], f"{name}: empty caption"
    for video in fig.all("video"):
        attrs = video.attrs
        assert {"controls", "playsinline"} <= set(attrs)
        assert attrs["preload"] == "metadata"
        assert attrs["aria-label"] in alts, f"{name}: alt {attrs['aria-label']!r}"
        poster = local(page, attrs["poster"], site.root)
        with Image.open(poster) as im:
            assert im.size == (int(attrs["width"]), int(attrs["height"]))
        sources = video.all("source")
        types = [s.attrs["type"] for s in sources]
        assert types == sorted(types, key=lambda t: t != "video/webm"), types  # webm:
        cls = attrs.get("class", "")
        theme = ("light" if "only-light" in cls else "dark" if "only-dark" in cls
                 else entries[Path(sources[0].attrs["src"]).name]["theme"])
        videos = sorted(n for n, e in entries.items() if e["format"] in ("mp4", "webm")
                        and e["language"] == e["languages"][0] and e["theme"] == theme)
        assert sorted(Path(s.attrs["src"]).name for s in sources) == videos, name
        for s in sources:
            path = local(page, s.attrs["src"], site.root)
            w, h, frames = decoded_video(path)
            entry = entries[path.name]
            assert (w, h) == (entry["width"], entry["height"]) == (int(attrs["width"]),
                                                                 int(attrs["height"]))
            assert frames == entry["frames"] > 0
            assert s.attrs["type"] == f"video/{entry['format']}"
        tracks = video.all("track")
        langs = next(iter(entries.values()))["languages"]
        assert [t.attrs["srclang"] for t in tracks] == langs, f"{name}: per language"
        defaults = ["default" in t.attrs for t in tracks]
        assert defaults == [True] + [False] * (len(langs) - 1), defaults
        for t in tracks:
            assert t.attrs["kind"] == "captions" and t.attrs["label"]
            cues = read_vtt(local(page, t.attrs["src"], site.root).read_text())
            assert cues, f"{name}: {t.attrs['src']} has no cues"
        found["videos"].append(attrs)
    for img in fig.all("img"):
        path = local(page, img.attrs["src"], site.root)
        with Image.open(path) as im:
            im.load()
            assert im.size == (int(img.attrs["width"]), int(img.attrs["height"]))
        assert img.attrs["alt"] in alts, f"{name}: alt {img.attrs['alt']!r}"
        found["images"].append(img.attrs)
    for source in fig.all("source"):
        if "srcset" in source.attrs:
            assert source.attrs["media"] == "(prefers-color-scheme: dark)"
            dark = local(page, source.attrs["srcset"], site.root)
            assert entries[dark.name]["theme"] == "dark"
            found["dark"] = dark.name
    assert found["videos"] or found["images"], f"{name}: shows nothing"
    return found


def checked(site: Built, page: str) -> dict[str, dict]:
    path = site.pages[page]
    found = [check_figure(f, path, site) for f in figures(path)]
    ids = [f["id"] for f in found]
    assert len(set(ids)) == len(ids), f"ids repeat: {ids}"
    return {f["name"]: f for f in found}


def themed_pair(found: dict, site: Built) -> tuple[str, str]:
    """(light, dark) file names of a still shown in both themes."""
    if site.themed == "material":
        srcs = {img["src"].rpartition("#")[2]: Path(img["src"].split("#")[0]).name
                for img in found["images"]}
        assert set(srcs) == {"only-light", "only-dark"}, srcs
        return srcs["only-light"], srcs["only-dark"]
    assert len(found["images"]) == 1, "a <picture> holds one <img>"
    return Path(found["images"][0]["src"]).name, found["dark"]


# ------------------------------------------------------------------ tests
@pytest.mark.render
@pytest.mark.parametrize("which", ("sphinx_site", "mkdocs_site"))
def test_a_minimal_site_shows_lesson_and_in_place_figures(which, request):
    site = request.getfixturevalue(which)
    index, sub = checked(site, "index"), checked(site, "sub")
    assert set(index) == {"blip-video", STILL["figure"]}
    video = index["blip-video"]
    assert video["caption"] == "A circle, drawn", "the title is the default caption"
    assert len(video["videos"]) == 1 and not video["images"]
    still = index[STILL["figure"]]
    assert still["caption"] == STILL["caption"] and not still["videos"]
    light, dark = themed_pair(still, site)
    assert (light, dark) == ("blip-still-light.png", "blip-still.png")
    assert sub["blip-video"]["caption"] == "Again, from a folder below"  # and its
    # files were found from a folder below: check_figure resolved every URL
    # the German outputs give the second track, not a second video
    assert any(n.endswith(".de.mp4") for n in site.manifest["outputs"])
    done = sorted(re.findall(r"\] done +(\S+)", site.log))
    assert "failed" not in site.log
    if which == "mkdocs_site":  # only what differs from the Sphinx site's build
        assert done == ["blip-still-light.png", "blip-still.png"], site.log
    else:
        assert len(done) == len(site.manifest["outputs"]) == 6, site.log


@pytest.mark.render
def test_sphinx_numbers_figures_and_resolves_references(sphinx_site):
    index = checked(sphinx_site, "index")
    video = index["blip-video"]
    assert video["id"] == "fig-blip" and re.fullmatch(r"Fig\. \d+", video["number"])
    texts = [a.text() for a in Tree(sphinx_site.pages["index"].read_text()).root.all(
        "a", "reference") if a.attrs["href"] == "#fig-blip"]
    assert texts == ["A circle, drawn", video["number"]], texts  # :ref:, :numref:
    css = sphinx_site.root / "_static" / embed.CSS_NAME
    assert css.read_text() == embed.CSS
    assert embed.CSS_NAME in sphinx_site.pages["index"].read_text()


@pytest.mark.render
def test_sphinx_reads_in_parallel_and_a_fresh_environment_renders_nothing(
        sphinx_site, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(sphinx_site.root, out)  # keeps mtimes: the outputs are as built
    src = sphinx_site.root.parent / "src"
    res = run([BIN / "sphinx-build", "-E", "-j", "2", "-b", "html", src, out],
              sphinx_site.cache)
    assert res.returncode == 0 and "WARNING" not in res.stderr, res.stderr
    assert "0 to render" in res.stdout and "] done" not in res.stdout, res.stdout
    again = dataclasses.replace(sphinx_site, root=out, pages={
        k: out / p.relative_to(sphinx_site.root) for k, p in sphinx_site.pages.items()})
    assert checked(again, "index") == checked(sphinx_site, "index")
    assert checked(again, "sub") == checked(sphinx_site, "sub")


@pytest.mark.render
def test_mkdocs_leaves_a_block_shown_as_code_alone(mkdocs_site):
    html = mkdocs_site.pages["index"].read_text()
    code = "".join(c.text() for c in Tree(html).root.all("code"))
    assert "```neuroanim shown-only" in code
    assert "XNEUROANIM" not in html, "a token was left in the page"
    assert checked(mkdocs_site, "sub")["blip-video"]["id"] == "again"
    assert (mkdocs_site.root / "assets" / "neuroanim" / embed.CSS_NAME).is_file()


@pytest.mark.render
@pytest.mark.parametrize("which", SITES)
def test_an_unchanged_rebuild_renders_nothing(which, request):
    site = request.getfixturevalue(which)
    log = site.second.stdout + site.second.stderr
    assert re.search(r"\d+ outputs, 0 to render", log), log
    assert "] done" not in log
    assert site.after == site.before, "a rebuild touched the lesson's files"
    if which.startswith("sphinx"):  # and wrote no page again
        assert {k: p.stat().st_mtime_ns for k, p in site.pages.items()} == \
            site.pages_before


@pytest.mark.render
@pytest.mark.parametrize("which", ("sphinx_example", "mkdocs_example"))
def test_the_example_sites_show_two_figures_of_the_built_in_lesson(which, request):
    site = request.getfixturevalue(which)
    found = checked(site, "index")
    builtin = lessons.default()
    assert set(found) == {"and-gate", "xor-teaser"}
    for name, fig in found.items():
        assert fig["caption"] == builtin.figure(name).title
    assert found["and-gate"]["videos"] and found["and-gate"]["id"] == "fig-and-gate"
    light, dark = themed_pair(found["xor-teaser"], site)
    assert (light, dark) == ("xor-teaser-light.png", "xor-teaser.png")
    sizes = {(e["width"], e["height"]) for e in site.manifest["outputs"].values()
             if e["format"] != "interactive"}
    assert sizes == {(160, 90)}, "the suite builds the examples small"
    if which == "mkdocs_example":
        assert "0 to render" in site.log  # the Sphinx example's build, reused


def test_the_examples_render_at_full_size_for_an_author():
    conf = (ROOT / "examples" / "sphinx-site" / "conf.py").read_text()
    yml = (ROOT / "examples" / "mkdocs-site" / "mkdocs.yml").read_text()
    assert "neuroanim_resolution" not in conf and "resolution" not in yml
    assert "sphinx-build -b html examples/sphinx-site OUT" in conf
    assert "mkdocs build -f examples/mkdocs-site/mkdocs.yml -d OUT" in yml


# ------------------------------------------------------------- bad input
BAD_RST = '''
Bad
===

.. neuroanim:: nope

.. neuroanim:: thing
   :scene: no-such-scene

.. neuroanim:: too-slow
   :scene: blip
   :options: seconds = 99

.. neuroanim:: garbled
   :scene: blip
   :options: seconds = = 2

.. neuroanim:: blip-video
   :formats: png
'''


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.lstrip("\n").splitlines(), 1)
                if needle in line)


def test_sphinx_names_page_line_and_problem_for_bad_figures(tmp_path):
    src = project(tmp_path / "src", {"conf.py": SPHINX_CONF, "index.rst": BAD_RST})
    res = run([BIN / "sphinx-build", "-b", "html", src, tmp_path / "out"],
              tmp_path / "cache")
    err = res.stderr
    assert res.returncode == 0 and "Traceback" not in err + res.stdout, err
    expect = {".. neuroanim:: nope": "figure 'nope' is not in",
              ".. neuroanim:: thing": "unknown scene 'no-such-scene'",
              ".. neuroanim:: too-slow": "options.seconds: 99 is out of range",
              ".. neuroanim:: garbled": "options: 'seconds = = 2' is not a TOML",
              ":formats: png": "only a figure described in place takes formats"}
    for needle, problem in expect.items():
        line = line_of(BAD_RST, needle) - (1 if needle.startswith(":") else 0)
        want = f"index.rst:{line}: WARNING: neuroanim: "
        assert any(want in w and problem in w for w in err.splitlines()), \
            f"no warning {want}...{problem} in:\n{err}"
    assert "0 to render" not in res.stdout, "nothing valid: nothing to build"
    # A missing lesson file: a warning at its line of conf.py, then per figure.
    res = run([BIN / "sphinx-build", "-b", "html", src, tmp_path / "out2",
               "-D", "neuroanim_lesson=missing.toml"], tmp_path / "cache")
    conf_line = line_of(SPHINX_CONF, "neuroanim_lesson")
    assert f"conf.py:{conf_line}: WARNING: neuroanim_lesson: " in res.stderr
    assert "missing.toml: no such lesson file" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


@pytest.mark.parametrize("page, lesson, problem", [
    ("# x\n\n```neuroanim nope\n```\n", True,
     "index.md:3: neuroanim: figure 'nope' is not in"),
    ("# x\n\n```neuroanim\nfigure = 'blip-video'\nsize = 3\n```\n", True,
     "index.md:3: neuroanim: size: unknown key"),
    ("# x\n\n```neuroanim blip-video\n```\n", False,
     "missing.toml: no such lesson file"),
], ids=["unknown figure", "unknown key", "missing lesson"])
def test_mkdocs_stops_with_one_line_naming_the_problem(tmp_path, page, lesson, problem):
    yml = MKDOCS_YML if lesson else MKDOCS_YML.replace("lesson.toml", "missing.toml")
    src = project(tmp_path, {"mkdocs.yml": yml, "docs/index.md": page})
    res = run([BIN / "mkdocs", "build", "-f", src / "mkdocs.yml", "-d", tmp_path / "o"],
              tmp_path / "cache")
    assert res.returncode == 1, res.stderr
    lines = [x for x in res.stderr.splitlines() if problem in x]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr


# ------------------------------------------------------------ the browser
MEDIA_READY = """
return [...document.images].every(i => i.complete)
    && [...document.querySelectorAll('video')].every(v => v.readyState >= 1 || v.error);
"""
MEDIA = """
for (const i of document.images) i.loading = 'eager';
return null;
"""
STATE = """
return {
  videos: [...document.querySelectorAll('figure.neuroanim video')].map(v => ({
    src: v.currentSrc, ready: v.readyState, duration: v.duration,
    error: v.error && v.error.code})),
  images: [...document.querySelectorAll('figure.neuroanim img')].map(i => ({
    src: i.getAttribute('src'), current: i.currentSrc, width: i.naturalWidth,
    shown: getComputedStyle(i).display !== 'none'})),
  tracks: [...document.querySelectorAll('figure.neuroanim track')].map(t => ({
    src: t.getAttribute('src'), state: t.readyState,
    cues: t.track.cues ? t.track.cues.length : null})),
};
"""
TRACKS_ON = """
for (const t of document.querySelectorAll('video track')) t.track.mode = 'hidden';
"""


def serve(root: Path):
    from tests.test_browser import QuietHandler

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.render
@pytest.mark.browser
@pytest.mark.parametrize("which", SITES)
def test_built_pages_play_in_chromium(which, request, driver):  # noqa: F811
    from tests.test_browser import fresh, severe, wait_for

    site = request.getfixturevalue(which)
    chromium = driver
    server = serve(site.root)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        for page in site.pages.values():
            fresh(chromium)
            chromium.get(f"{base}/{page.relative_to(site.root).as_posix()}")
            chromium.execute_script(MEDIA)
            assert wait_for(chromium, MEDIA_READY), f"{page}: media did not load"
            chromium.execute_script(TRACKS_ON)
            assert wait_for(chromium, "return [...document.querySelectorAll('track')]"
                                      ".every(t => t.readyState >= 2);"), "tracks"
            state = chromium.execute_script(STATE)
            assert state["videos"], f"{page}: no video"
            for v in state["videos"]:
                entry = site.manifest["outputs"][Path(v["src"]).name]
                assert v["error"] is None and v["ready"] >= 1, v
                assert math.isclose(v["duration"], entry["duration"], rel_tol=0.1), v
            assert all(i["width"] > 0 for i in state["images"]), state["images"]
            assert state["tracks"] and all(t["state"] == 2 and t["cues"]
                                           for t in state["tracks"]), state["tracks"]
            errors = [e for e in severe(chromium) if "/favicon.ico" not in e]  # no icon
            assert errors == [], f"{page}: console errors {errors}"
        still = "xor-teaser" if "example" in which else STILL["figure"]
        variant = {"light": f"{still}-light.png", "dark": f"{still}.png"}
        for scheme in ("light", "dark"):
            shown = themed_shown(chromium, site, base, scheme, still)
            assert shown == {variant[scheme]}, f"{scheme}: showed {shown}"
            if site.themed == "material":  # the palette toggle flips the figure too
                chromium.find_element("css selector", "label.md-header__button"
                                      "[for^='__palette']:not([hidden])").click()
                other = "dark" if scheme == "light" else "light"
                scheme_now = "slate" if other == "dark" else "default"
                assert wait_for(chromium, "return document.body.dataset.mdColorScheme"
                                f" === '{scheme_now}';", 5), "the toggle did nothing"
                shown = set(chromium.execute_script(SHOWN, still))
                assert shown == {variant[other]}, f"toggled to {other}: {shown}"
    finally:
        fresh(chromium)
        chromium.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        server.shutdown()
        server.server_close()


def themed_shown(drv, site: Built, base: str, scheme: str, figure: str) -> set[str]:
    """The still images a reader sees in `scheme` (Material: its palette toggle;
    otherwise the system's preference)."""
    from tests.test_browser import wait_for

    drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": scheme}]})
    drv.get(f"{base}/{site.pages['index'].relative_to(site.root).as_posix()}")
    if site.themed == "material":  # its palette follows the preference at first
        want = "slate" if scheme == "dark" else "default"
        assert drv.execute_script("return document.body.dataset.mdColorScheme") == want
    drv.execute_script(MEDIA)
    wait_for(drv, MEDIA_READY)
    return set(drv.execute_script(SHOWN, figure))


SHOWN = ("return [...document.querySelectorAll(`figure[data-figure='${arguments[0]}'] "
         "img`)].filter(i => getComputedStyle(i).display !== 'none')"
         ".map(i => i.currentSrc.split('#')[0].split('/').pop());")


# --------------------------------------------------- HTML without builds
def entry(figure, fmt, theme="dark", lang="en", langs=("en",), **kw):
    name = lessons.output_name(figure, theme, fmt, None if lang == langs[0] else lang)
    stem = Path(name).stem
    video = fmt in ("mp4", "webm")
    return name, {"figure": figure, "format": fmt, "theme": theme, "width": 320,
                  "height": 180, "alt": f"alt {lang}", "title": "A title",
                  "language": lang, "languages": list(langs),
                  "poster": f"{stem}.poster.png" if video else None,
                  "captions": {"srt": f"{stem}.srt", "vtt": f"{stem}.vtt"}
                  if video else None, **kw}


def test_embed_puts_every_language_on_one_video_under_a_base_url():
    langs = ("de", "en")
    items = [entry("f", f, lang=lang, langs=langs) for lang in langs
             for f in ("mp4", "webm")]
    html = embed.figure_html(items, "https://cdn.example/course/", id="x",
                             caption="Mine", number="Fig. 3")
    fig = Tree(html).root.all("figure")[0]
    assert fig.attrs["lang"] == "de" and fig.attrs["id"] == "x"
    (video,) = fig.all("video")
    assert [s.attrs["src"] for s in video.all("source")] == [
        "https://cdn.example/course/f.webm", "https://cdn.example/course/f.mp4"]
    tracks = video.all("track")
    assert [(t.attrs["srclang"], t.attrs["src"], "default" in t.attrs)
            for t in tracks] == [("de", "https://cdn.example/course/f.vtt", True),
                                 ("en", "https://cdn.example/course/f.en.vtt", False)]
    assert [t.attrs["label"] for t in tracks] == ["Deutsch", "English"]
    assert video.attrs["poster"] == "https://cdn.example/course/f.poster.png"
    assert video.attrs["aria-label"] == "alt de"
    assert fig.all("figcaption")[0].text() == "Fig. 3 Mine"
    assert embed.referenced(items) == ["f.poster.png", "f.webm", "f.mp4", "f.vtt",
                                       "f.en.vtt"]


def test_embed_themes_stills_as_picture_or_material_and_shows_what_is_asked():
    items = [entry("s", "png", theme) for theme in ("dark", "light")] + \
        [entry("s", "gif", "dark"), entry("s", "mp4", "dark")]
    still = Tree(embed.figure_html(items, show="still")).root
    (pic,) = still.all("picture")
    assert pic.all("source")[0].attrs["srcset"] == "s.png"
    assert pic.all("img")[0].attrs["src"] == "s-light.png"
    mat = Tree(embed.figure_html(items, show="still", themed="material")).root
    assert [i.attrs["src"] for i in mat.all("img")] == ["s-light.png#only-light",
                                                         "s.png#only-dark"]
    gif = Tree(embed.figure_html(items, show="gif")).root
    assert [i.attrs["src"] for i in gif.all("img")] == ["s.gif"]
    assert not gif.all("video")
    assert Tree(embed.figure_html(items)).root.all("video"), "a video comes first"
    missing = Tree(embed.figure_html([], caption="Later")).root
    assert missing.all("p", "neuroanim-missing") and "Later" in missing.text()
    with pytest.raises(ValueError, match="themed"):
        embed.figure_html(items, themed="auto")


def test_two_themed_videos_are_both_there_for_the_page_to_choose():
    items = [entry("v", "mp4", theme) for theme in ("light", "dark")]
    videos = Tree(embed.figure_html(items, themed="material")).root.all("video")
    assert [v.attrs["class"] for v in videos] == ["neuroanim-only-light",
                                                 "neuroanim-only-dark"]
    for cls in ("neuroanim-only-light", "neuroanim-only-dark"):
        assert cls in embed.CSS


toml_values = st.recursive(
    st.booleans() | st.integers(-2**62, 2**62)
    | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(min_size=1), inner, max_size=3), max_leaves=8)


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(min_size=1).filter(lambda k: k != "figure"),
                       toml_values, max_size=4),
       st.lists(st.dictionaries(st.text(min_size=1), toml_values, max_size=3),
                max_size=2))
def test_toml_text_reads_back_as_the_same_document(doc, figs):
    if figs:
        doc = {**doc, "figure": figs}
    assert tomllib.loads(embed.toml_text(doc)) == doc


def test_the_built_in_lesson_survives_toml_text():
    doc = tomllib.loads(lessons.DEFAULT_TOML)
    assert tomllib.loads(embed.toml_text(doc)) == doc


def test_markers_skip_fences_shown_as_code_and_keep_indentation():
    text = ("```neuroanim a\n```\n"
            "````md\n```neuroanim hidden\n```\n````\n"
            "- item\n\n    ```neuroanim\n    figure = \"b\"\n"
            "    caption = \"B\"\n    ```\n"
            "~~~neuroanim\nc\n~~~\n")
    found = markers(text)
    assert [(m.line, m.indent) for m in found] == [(1, ""), (9, "    "), (13, "")]
    assert [parse(m).figure for m in found] == ["a", "b", "c"]
    assert parse(found[1]).caption == "B"
    with pytest.raises(ValueError, match="never closed"):
        markers("```neuroanim a\n")
    with pytest.raises(ValueError, match="figure is given twice"):
        parse(markers("```neuroanim a\nfigure = \"b\"\n```\n")[0])


def test_use_from_says_which_field_is_wrong():
    for kwargs, field in [({"show": "movie"}, "show"), ({"options": "x = "}, "options"),
                          ({"formats": "mp4"}, "formats"),
                          ({"scene": "s", "formats": []}, "formats"),
                          ({"autoplay": "yes"}, "autoplay")]:
        with pytest.raises(ValueError, match=f"^{field}: "):
            embed.use_from("f", **kwargs)
    use = embed.use_from("f", scene="s", options="lr = [0.5], steps = 3",
                         formats="mp4, webm", themes="dark light", caption="C")
    assert use.table == {"name": "f", "scene": "s",
                         "options": {"lr": [0.5], "steps": 3},
                         "formats": ["mp4", "webm"], "themes": ["dark", "light"],
                         "title": "C"}


def test_site_overrides_come_from_the_variables_first(monkeypatch, tmp_path):
    monkeypatch.setenv(embed.RESOLUTION_VAR, "160x90")
    monkeypatch.delenv(embed.FPS_VAR, raising=False)
    assert embed.overrides("854x480", 15) == {"resolution": "160x90", "fps": 15.0}
    site = embed.Site(tmp_path, tmp_path / "never-built", None, embed.overrides())
    assert {(o.width, o.height) for f in site.lesson.figures for o in f.outputs} == \
        {(160, 90)}
