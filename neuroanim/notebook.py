"""Jupyter: renders, finished outputs and lesson figures that display themselves.

`RenderResult`, `pipeline.Finished` and `lesson.Figure` call these from their
`_repr_html_`, so the last line of a cell shows the video (poster, controls,
captions) or the image (alt text) through `neuroanim.embed`, the HTML course
sites get. `neuroanim.show(scene, **options)` renders a quick draft and shows it.

Where the files come from: a notebook's HTML loads relative paths from the
notebook's folder (the kernel's working folder, where Jupyter starts it), but
a file elsewhere, or a notebook opened in an editor that serves no files, shows
nothing; a `data:` URL works anywhere but is stored in the notebook. So a file
up to `INLINE_MAX` bytes goes inline as a `data:` URL (drafts always do), and
a larger one is linked by its path relative to the working folder.
"""

from __future__ import annotations

import base64
import importlib
import json
import mimetypes
import os
from pathlib import Path
from urllib.parse import quote

from . import files
from .files import poster_name

INLINE_MAX = 3_000_000  # bytes: bigger files are linked by relative path
DRAFT = {"resolution": "428x240", "fps": 10}  # small and quick
DRAFT_DIR = Path("renders") / "draft"  # relative to the working folder
BUILT_DIR = Path("renders")  # where `neuroanim build` puts a lesson by default
MIME = {".mp4": "video/mp4", ".webm": "video/webm", ".gif": "image/gif",
        ".png": "image/png", ".vtt": "text/vtt", ".html": "text/html",
        ".mov": "video/quicktime"}


def _later(name: str):
    """`neuroanim.<name>`, imported when first used, by name.

    The display hooks of `RenderResult`, `Finished` and `Figure` import this
    module, so render, pipeline and lesson sit below it: a plain import of
    `pipeline` (for drafts) or `embed` (which builds sites) would point back
    down into a circle. And a build's import scan (`build.code_files`) puts this
    module in every output's key; through plain imports embed, build and lesson
    would join it, and an edit to a site's HTML would re-render every lesson.
    """
    return importlib.import_module(f"neuroanim.{name}")


def _embed():
    return _later("embed")


def src(path: Path) -> str:
    """`path` as a notebook can load it: inline when small, else relative."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        size = None
    if size is not None and size <= INLINE_MAX:
        mime = MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] \
            or "application/octet-stream"
        data = files.read_bytes(path, INLINE_MAX)
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive (Windows): no relative path exists
        return path.resolve().as_uri()
    return quote(rel.replace(os.sep, "/"))


def _entry(result, alt: str | None = None, poster: str | None = None,
           captions: dict | None = None, title: str | None = None) -> dict:
    """A manifest-shaped entry for one file, as `embed` reads them."""
    return {"figure": result.path.stem, "format": result.fmt, "theme": None,
            "width": result.width, "height": result.height, "alt": alt,
            "poster": poster, "captions": captions, "title": title}


def _html(path: Path, entry: dict) -> str:
    folder = Path(path).parent
    return _embed().figure_html([(Path(path).name, entry)],
                                url=lambda name: src(folder / name))


def result_html(result) -> str:
    """A `RenderResult`: its poster and .vtt are used when they are beside it."""
    path = Path(result.path)
    poster = poster_name(path.name)
    vtt = path.with_suffix(".vtt")
    entry = _entry(result, alt=path.name,
                   poster=poster if (path.parent / poster).is_file() else None,
                   captions={"vtt": vtt.name} if vtt.is_file() else None)
    return _html(path, entry)


def finished_html(fin, title: str | None = None) -> str:
    """A `pipeline.Finished`: the file with its poster, captions and alt text."""
    return _html(fin.path, _entry(fin.result, fin.alt, fin.poster, fin.captions,
                                  title))


def figure_html(figure) -> str:
    """A lesson `Figure`: as built in `renders/` when it is there, else a draft."""
    manifest = BUILT_DIR / "manifest.json"
    outputs = {}
    if manifest.is_file():
        try:  # anyone may have edited it: only records a build would write count
            outputs = json.loads(files.read_bytes(manifest, 64_000_000))["outputs"]
            wanted = {o.name for o in figure.outputs}
            outputs = {n: e for n, e in outputs.items() if n in wanted
                       and files.entry_problem(n, e) is None
                       and files.regular_file(BUILT_DIR, n) is not None}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            outputs = {}
    items = _embed().outputs_of({"outputs": outputs}, figure.name)
    if items:
        return _embed().figure_html(items, url=lambda name: src(BUILT_DIR / name))
    return finished_html(draft_figure(figure), figure.title)


def _draft_format(formats) -> str:
    return "mp4" if set(formats) & {"mp4", "webm", "mov", "gif"} else "png"


def draft(scene, options: dict | None = None, *, fmt: str = "mp4",
          theme: str = "dark", out=None):
    """Render a draft of `scene` (`DRAFT` size and rate) into `DRAFT_DIR`."""
    out_dir = DRAFT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {k.replace("-", "_"): v for k, v in (options or {}).items()}
    return _later("pipeline").make(scene, params, fmt=fmt, theme=theme, out=out,
                                   out_dir=out_dir, progress=False, **DRAFT)


def draft_figure(figure):
    """A draft of a lesson figure: its scene, options, first theme and language."""
    from . import registry
    from .wording import speaking

    spec = registry.get(figure.scene)
    fmt = _draft_format(figure.formats)
    lang = figure.languages[0]
    with speaking(lang, figure.words(lang), owner=spec.words):
        return draft(spec, figure.values, fmt=fmt, theme=figure.themes[0],
                     out=DRAFT_DIR / f"{figure.name}.{fmt}")


def _display(obj) -> bool:
    """Show `obj` in IPython; False outside it (a plain interpreter)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    display(obj)
    return True


def show(scene, **options) -> None:
    """Render a draft of `scene` with `options` and display it.

    A draft is 428x240 at 10 fps, an mp4 with its poster and captions, written
    to `renders/draft/` under the working folder (the notebook's), replaced by
    the next draft of the same scene and options. Outside IPython the file's
    path is printed instead. Example: ``neuroanim.show("gradient-descent",
    lr=[0.5])``.
    """
    fin = draft(scene, options)
    if not _display(fin):
        print(fin.path)
