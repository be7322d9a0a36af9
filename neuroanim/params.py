"""Scene parameters declared once: CLI options, lesson-file checks and file names."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UserError

KINDS = ("float", "int", "choice", "path")


@dataclass(frozen=True)
class Param:
    """One scene option: `--name` on the CLI, `name = ...` in a lesson file.

    `low`/`high` bound numbers (inclusive unless `low_open`); `multiple` makes the
    option repeatable and its value a tuple. A default of None means "derived".
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    multiple: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def __post_init__(self) -> None:
        """Catch a malformed spec when the scene module loads, not mid-render."""
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name!r}: kind {self.kind!r} not in {KINDS}")
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"Param {self.name!r}: choices go with kind 'choice' only")
        if self.default not in (None, ()):
            try:
                ok = self.parse(self.default) == self.default
            except UserError as exc:
                raise ValueError(f"Param {self.name!r}: bad default ({exc})") from None
            if not ok:
                raise ValueError(f"Param {self.name!r}: default {self.default!r} "
                                 "is not in its own canonical form")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def type_name(self) -> str:
        base = "|".join(self.choices) if self.kind == "choice" else self.kind
        return f"{base}..." if self.multiple else base

    def parse(self, raw: Any) -> Any:
        """Convert and check one value (or a list when `multiple`); UserError if bad."""
        if self.multiple:
            items = raw if isinstance(raw, list | tuple) else [raw]
            return tuple(self._one(v) for v in items)
        return self._one(raw)

    def _one(self, raw: Any) -> Any:
        if raw is None:
            return None
        bad = f"{self.flag}: {raw!r} is not "
        if self.kind in ("float", "int"):
            if isinstance(raw, bool):
                raise UserError(bad + f"a number ({self.type_name()})")
            try:
                val = float(raw) if self.kind == "float" else _to_int(raw)
            except (TypeError, ValueError):
                kind = "a whole number" if self.kind == "int" else "a number"
                raise UserError(bad + kind) from None
            if not math.isfinite(val):
                raise UserError(bad + "a finite number")
            if self.low is not None and (
                val < self.low or (self.low_open and val == self.low)
            ):
                op = ">" if self.low_open else ">="
                raise UserError(f"{self.flag}: {raw!r} is out of range; "
                                f"it must be {op} {self.low:g}")
            if self.high is not None and val > self.high:
                raise UserError(f"{self.flag}: {raw!r} is out of range; "
                                f"it must be <= {self.high:g}")
            return val
        if self.kind == "choice":
            for c in self.choices:
                if str(raw).lower() == c.lower():
                    return c
            raise UserError(bad + f"one of {', '.join(self.choices)}")
        if self.kind == "path":
            if not isinstance(raw, str | Path) or not str(raw):
                raise UserError(bad + "a file path")
            return str(raw)
        raise AssertionError(self.kind)


def _to_int(raw: Any) -> int:
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError(raw)
        return int(raw)
    return int(str(raw), 10)


def resolve(params: tuple[Param, ...], given: dict | None, scene: str) -> dict:
    """Defaults plus checked values for every declared parameter; unknown names fail."""
    given = dict(given or {})
    by_name = {p.name: p for p in params}
    unknown = [k for k in given if k.replace("-", "_") not in by_name]
    if unknown:
        names = ", ".join(p.name for p in params) or "none"
        raise UserError(f"{scene}: unknown option {unknown[0]!r}; options are: {names}")
    out = {}
    for p in params:
        key = p.name if p.name in given else p.name.replace("_", "-")
        if key in given and given[key] is not None and given[key] != ():
            out[p.name] = p.parse(given[key])
        else:
            out[p.name] = p.default
    return out


def variant(params: tuple[Param, ...], values: dict) -> str:
    """A file-name slug of the values that differ from the defaults, e.g. `lr0.5`."""
    parts = []
    for p in params:
        v = values.get(p.name, p.default)
        if v == p.default or v is None:
            continue
        if p.kind == "path":
            v = Path(str(v)).stem
        elif isinstance(v, tuple):
            v = "_".join(_fmt(x) for x in v)
        else:
            v = _fmt(v)
        parts.append(f"{p.name.replace('_', '')}{v}".lower())
    slug = "-".join(parts)
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in slug)


def _fmt(v: Any) -> str:
    """Shortest text that round-trips, so different values never share a name."""
    if isinstance(v, float):
        s = repr(v)
        return s[:-2] if s.endswith(".0") else s
    return str(v)
