"""The public scene API: what a scene declares so neuroanim can list, check,
prepare, describe and render it. Nothing here imports manim.

A scene is two files side by side, found by the scene's name:

    scenes/pendulum.py       the card: options, data class, prepare, alt text,
                             words (no manim: `neuroanim list`, lesson checks and
                             no-op builds read it in milliseconds)
    scenes/pendulum_draw.py  the manim Scene that draws the data with
                             `neuroanim.blocks`

The card defines `SCENE = SceneSpec(...)`; the drawing's class names its card
with `spec_name = "pendulum"`. Built-in scenes are written the same way.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
from .params import Param, resolve, variant
from .wording import Strings


@dataclass(frozen=True)
class SceneSpec:
    """One scene: its options and how to turn them into what it draws.

    name         CLI and lesson name, e.g. "and-gate"
    description  one line for `neuroanim list`
    params       its options: CLI flags, lesson fields and checks come from these
    prepare      resolved options -> the scene's data: a frozen dataclass holding
                 the trajectories it replays (trained with `neuroanim.core`, or
                 loaded from a file); numpy only
    draw         "module:Class" of the manim scene, the module beside this card
                 (e.g. "pendulum_draw:Pendulum")
    alt          data -> plain-language alt text from the data's own numbers
    words        the scene's strings table (`wording.Strings`): every word it
                 shows, captions or says in alt text, by key, English defaults
                 and translations; a lesson's `text = {...}` overrides by key
    file_decides options a `trajectory` file decides: giving them is an error
    min_size     the smallest frame the scene draws (Pango drops glyphs below)
    aspect       width/height ratios its layout fits
    twin         its interactive widget (`neuroanim.interactive.twins`, e.g.
                 `NeuronTwin(explain)`): the `interactive` format, or None
    """

    name: str
    description: str
    params: tuple[Param, ...]
    prepare: Callable[[dict], Any]
    draw: str
    alt: Callable[[Any], str] | None = None
    words: Strings = field(default_factory=lambda: Strings({}))
    file_decides: tuple[str, ...] = ()
    min_size: tuple[int, int] = (64, 36)
    aspect: tuple[float, float] = (1.77, 2.4)
    twin: Any = None
    # Filled in by the registry when it finds the scene:
    module: str = ""  # the card's module name
    source: str = ""  # where it came from: "built-in", a file, or "entry point ..."

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ValueError(f"scene name {self.name!r}: use letters, digits, '-', '_'")
        if ":" not in self.draw:
            raise ValueError(f"scene {self.name!r}: draw must be 'module:Class', "
                             f"got {self.draw!r}")
        object.__setattr__(self, "params", tuple(self.params))
        if not isinstance(self.words, Strings):  # a plain {key: English} mapping
            object.__setattr__(self, "words", Strings(self.words))
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"scene {self.name!r}: an option is declared twice")

    # ------------------------------------------------------------- options
    def resolve(self, given: dict | None = None) -> dict:
        """Defaults plus checked values; UserError for unknown or bad options."""
        values = resolve(self.params, given, self.name)
        if values.get("trajectory") and self.file_decides:
            given = {k.replace("-", "_"): v for k, v in (given or {}).items()
                     if v is not None and v != ()}
            clash = [p.flag for p in self.params  # a default is no choice
                     if p.name in self.file_decides and p.name in given
                     and p.parse(given[p.name]) != p.default]
            if clash:
                raise UserError(
                    f"{', '.join(clash)}: the --trajectory file decides "
                    f"{'this' if len(clash) == 1 else 'these'} (it holds its own "
                    "run); drop them, or drop --trajectory to train a new run")
        return values

    def text_problems(self, text: Mapping[str, object]) -> list[str]:
        """What is wrong with a figure's `text = {...}` overrides, one line each."""
        return self.words.problems(text)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages its words are written in (English first)."""
        return self.words.languages

    def variant(self, values: dict) -> str:
        return variant(self.params, values)

    def check_size(self, width: int, height: int, option: str = "--resolution"):
        """UserError naming the scene's real limits for a frame it cannot draw."""
        mw, mh = self.min_size
        lo, hi = self.aspect
        if width < mw or height < mh:
            raise UserError(f"{option}: {width}x{height} is too small for {self.name}; "
                            f"it needs at least {mw}x{mh}")
        if not lo <= width / height <= hi:
            raise UserError(
                f"{option}: {width}x{height} has aspect ratio {width / height:.2f}, "
                f"but {self.name} is laid out for {lo:.2f} to {hi:.2f} (16:9 is "
                "1.78), e.g. 854x480 or 1280x720")

    # --------------------------------------------------------------- parts
    @property
    def draw_module(self) -> str:
        """The drawing's module name: beside the card, in the same package (in
        the package itself when the card is a package's `__init__`)."""
        import sys

        mod = self.draw.partition(":")[0]
        card = sys.modules.get(self.module)
        package = self.module if hasattr(card, "__path__") else \
            self.module.rpartition(".")[0]
        return f"{package}.{mod}" if package else mod

    def scene_class(self):
        """Import the drawing (and so manim) and return its Scene class."""
        mod, _, cls = self.draw.partition(":")
        return getattr(importlib.import_module(self.draw_module), cls)

    def alt_text(self, data: Any) -> str:
        return self.alt(data) if self.alt is not None else self.description

    @property
    def file(self) -> Path | None:
        """The card's source file (for messages and keys), when it has one."""
        import sys

        mod = sys.modules.get(self.module)
        f = getattr(mod, "__file__", None)
        return Path(f) if f else None


def trajectories(data: Any) -> list[Any]:
    """Every trajectory inside a scene's data, in field order (for keys)."""
    from .core import Descent, NeuronRun
    from .core.mlp import MLPRun

    out: list[Any] = []

    def walk(v: Any) -> None:
        if isinstance(v, Descent | NeuronRun | MLPRun):
            out.append(v)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)

    for v in _values(data):
        walk(v)
    return out


def _values(data: Any) -> Iterator[Any]:
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        for f in dataclasses.fields(data):
            yield getattr(data, f.name)
    elif isinstance(data, dict):
        yield from data.values()
