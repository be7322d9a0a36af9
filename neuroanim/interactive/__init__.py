"""Interactive twins: a figure's recorded runs as one self-contained HTML widget.

The `interactive` output format: `<figure>.html` holding the page's CSS and JS
and the runs the core recorded at build time (strict JSON, every number shown
already formatted in Python by `twins.READOUTS`), so the widget and the video
replay the same numbers. No network, no framework; works from file://.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
from functools import cache
from importlib.resources import files as package_files
from pathlib import Path
from string import Template
from typing import Any

from .. import files
from .. import theme as themes
from ..errors import UserError

SCHEMA = "neuroanim.interactive/1"
FORMAT = "interactive"
EXTENSION = "html"
MAX_BYTES = 300_000  # one widget page, everything inlined
ASSETS = ("widget.html", "widget.css", "widget.js")
TITLES = {"descent": "Drop the Ball", "neuron": "Train a neuron",
          "mlp": "Two layers of neurons"}


@cache
def _asset(name: str) -> str:
    return (package_files(__package__) / name).read_text(encoding="utf-8")


def digest() -> str:
    """sha256 of the page's template, CSS and JS: what a build key needs besides
    the Python code (which the key's code digest covers)."""
    h = hashlib.sha256()
    for name in ASSETS:
        h.update(name.encode() + b"\0" + _asset(name).encode() + b"\0")
    return h.hexdigest()


def twin_scenes() -> list[str]:
    """Names of the registered scenes that have an interactive twin."""
    from .. import registry

    return sorted(n for n, s in registry.scenes().items()
                  if getattr(s, "twin", None) is not None)


def check(spec) -> None:
    """UserError (one line) when `spec` has no interactive twin to write."""
    if getattr(spec, "twin", None) is None:
        raise UserError(f"--format: {spec.name} has no interactive twin; scenes "
                        f"with one: {', '.join(twin_scenes()) or 'none'}")


def css_vars(theme: themes.Theme) -> str:
    """The theme as CSS custom properties: --background, --lr-0, --heat-2..."""
    out = []
    for f in dataclasses.fields(theme):
        v = getattr(theme, f.name)
        name = {"lr_colors": "lr"}.get(f.name, f.name).replace("_", "-")
        if isinstance(v, tuple):
            out += [f"--{name}-{i}: {c};" for i, c in enumerate(v)]
        elif f.name == "font":
            out.append(f'--font: "{v}", "DejaVu Sans", Verdana, sans-serif;')
        elif f.name != "name":
            out.append(f"--{name}: {v};")
    return " ".join(out)


def model_json(doc: dict) -> str:
    """Strict JSON (no NaN), stable, safe inside <script>: '<' is escaped."""
    text = json.dumps(doc, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c")


def page(spec, values: dict, data: Any, theme: str = "dark",
         title: str | None = None) -> str:
    """The widget page of `spec` replaying `data` (and the runs its twin adds).

    The twin's model shrinks (fewer shown epochs or learning rates) until the
    page fits MAX_BYTES.
    """
    check(spec)
    twin = spec.twin
    th = themes.get(theme)
    heading = title or TITLES.get(twin.kind, spec.description)
    scale = 1.0
    for _ in range(8):
        doc = {"schema": SCHEMA, "kind": twin.kind, "scene": spec.name,
               "theme": th.name, "title": heading, **twin.model(values, data, scale)}
        text = Template(_asset("widget.html")).substitute(
            title=html.escape(heading), kind=twin.kind, theme=th.name,
            vars=css_vars(th), css=_asset("widget.css"), model=model_json(doc),
            js=_asset("widget.js"), alt=html.escape(spec.alt_text(data)))
        if len(text.encode()) <= MAX_BYTES:
            return text
        scale *= 0.7
    raise RuntimeError(f"{spec.name}: the interactive page stays over "
                       f"{MAX_BYTES} bytes")


def write(spec, values: dict, data: Any, theme: str, path: Path) -> tuple[Path, int]:
    """Write the widget page to `path` atomically; (its path, its bytes). The
    caller (`render.render`) makes it a RenderResult."""
    body = page(spec, values, data, theme).encode("utf-8")
    return files.atomic_write(Path(path), body), len(body)
