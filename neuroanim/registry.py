"""The index of scenes: built-ins, the author's `scenes/` folders, installed plug-ins.

Nothing here knows a scene by name. Scenes are found, not listed:

- built-ins: every card module of the package `neuroanim.scenes` (the
  repository's top-level `scenes/`, mapped into the package by pyproject);
- folders: every `*.py` card in a `scenes/` folder (beside the lesson for
  `build`, the working folder for `list` and `render`, and each `--scenes DIR`);
- plug-ins: the entry-point group `neuroanim.scenes` of installed packages;
- `register(spec)` from Python.

A card is a module defining `SCENE = SceneSpec(...)`; files ending in `_draw.py`
are drawings (they import manim) and are never imported here. The same name in
two places is one error naming both. No manim is imported by discovery.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import sys
import traceback
import types
from collections.abc import Iterable
from pathlib import Path

from .errors import SceneError, UserError
from .spec import SceneSpec, trajectories  # noqa: F401  (re-exported)

BUILTIN_PACKAGE = "neuroanim.scenes"
ENTRY_POINT_GROUP = "neuroanim.scenes"
DRAW_SUFFIX = "_draw"
LOCAL_PREFIX = "_neuroanim_local_"  # synthetic package per scenes folder

_dirs: tuple[Path, ...] = ()
_registered: dict[str, SceneSpec] = {}
_index: dict[str, SceneSpec] | None = None


# ------------------------------------------------------------------ folders
def use(dirs: Iterable[os.PathLike | str] = (), *, cwd: bool = False) -> None:
    """Search these scene folders (and `./scenes` when `cwd`) from now on.

    A folder given explicitly must exist; `./scenes` and a lesson's own
    `scenes/` are searched only if they are there.
    """
    global _dirs, _index
    found: list[Path] = []
    for d in dirs:
        p = Path(d).expanduser().resolve()
        if not p.is_dir():
            raise UserError(f"--scenes: {d} is not a folder of scenes")
        found.append(p)
    if cwd and Path("scenes").is_dir():
        found.append(Path("scenes").resolve())
    builtin = _builtin_dir()
    dedup = tuple(dict.fromkeys(p for p in found if p != builtin))
    if dedup != _dirs:
        _dirs, _index = dedup, None


def dirs() -> tuple[Path, ...]:
    """The scene folders searched now (what a build hands its workers)."""
    return _dirs


def _builtin_dir() -> Path | None:
    spec = importlib.util.find_spec(BUILTIN_PACKAGE)
    locs = list(spec.submodule_search_locations or ()) if spec else []
    return Path(locs[0]).resolve() if locs else None


def local_package(folder: Path) -> str:
    """The synthetic package a scenes folder is imported as (stable per folder),
    so its card and drawing import each other as `from .x import y`."""
    folder = Path(folder).resolve()
    name = LOCAL_PREFIX + hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    if name not in sys.modules:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        mod = importlib.util.module_from_spec(spec)
        mod.__path__ = [str(folder)]
        sys.modules[name] = mod
    return name


# -------------------------------------------------------------------- index
def scenes() -> dict[str, SceneSpec]:
    """Every scene found, by name: built-ins first, then folders, plug-ins."""
    global _index
    if _index is None:
        found: dict[str, SceneSpec] = {}
        for spec in (*_builtins(), *_folder_scenes(), *_plugins(),
                     *_registered.values()):
            other = found.get(spec.name)
            if other is not None and other is not spec:
                raise UserError(f"scene {spec.name!r} is defined twice: in "
                                f"{other.source} and in {spec.source}; rename one")
            found[spec.name] = spec
        _index = found
    return _index


def get(name: str) -> SceneSpec:
    index = scenes()
    if name not in index:
        raise UserError(f"unknown scene {name!r}; choose from {', '.join(index)}")
    return index[name]


def register(spec: SceneSpec, module: str | None = None) -> SceneSpec:
    """Add a scene from Python (tests, notebooks); its name must be new.

    `module` is the module defining it (default: the caller's), which a build's
    worker processes import to find it again.
    """
    global _index
    module = module or spec.module or sys._getframe(1).f_globals.get("__name__", "")
    spec = dataclasses.replace(spec, module=module,
                               source=spec.source or f"Python module {module}")
    old = _registered.get(spec.name)
    if old is not None and old.module != spec.module:
        raise ValueError(f"scene {spec.name!r} is already registered")
    _registered[spec.name] = spec
    _index = None
    return spec


# ---------------------------------------------------------------- finding
def _card(module: types.ModuleType, source: str) -> SceneSpec | None:
    spec = getattr(module, "SCENE", None)
    if spec is None:
        return None
    if not isinstance(spec, SceneSpec):
        raise UserError(f"{source}: SCENE must be a neuroanim SceneSpec")
    return dataclasses.replace(spec, module=module.__name__, source=source)


def _builtins() -> list[SceneSpec]:
    import pkgutil

    pkg = importlib.import_module(BUILTIN_PACKAGE)
    out = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name.endswith(DRAW_SUFFIX):
            continue
        card = _card(importlib.import_module(f"{BUILTIN_PACKAGE}.{info.name}"),
                     "built-in")
        if card is not None:
            out.append(card)
    return sorted(out, key=lambda s: s.name)


def _folder_scenes() -> list[SceneSpec]:
    out = []
    for folder in _dirs:
        package = local_package(folder)
        for path in sorted(folder.glob("*.py")):
            if path.stem.startswith("_") or path.stem.endswith(DRAW_SUFFIX):
                continue
            module = import_author(f"{package}.{path.stem}", path)
            card = _card(module, str(path))
            if card is not None:
                out.append(card)
    return out


def import_author(name: str, path: Path) -> types.ModuleType:
    """Import an author's module; an exception in it is one line naming file:line."""
    try:
        return importlib.import_module(name)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(author_error(exc, (path,))) from exc


def author_error(exc: BaseException, files: Iterable[Path | str]) -> str:
    """`scenes/x.py:12: ValueError: ...` at the deepest frame in `files`.

    An author's scene that raises gets a message pointing at their own line,
    not at neuroanim's or manim's internals (--debug shows the whole trace).
    """
    wanted = {os.path.realpath(f) for f in files if f}
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.realpath(frame.filename) in wanted:
            where = frame
    if isinstance(exc, SyntaxError) and exc.filename and \
            os.path.realpath(exc.filename) in wanted:
        return f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}"
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return f"{where.filename}:{where.lineno}: {text}" if where else text


def _plugins() -> list[SceneSpec]:
    out = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {ep.name} ({ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:
            raise UserError(f"{source}: cannot be loaded: "
                            f"{type(exc).__name__}: {exc}") from None
        if isinstance(obj, types.ModuleType):
            card = _card(obj, source)
        elif isinstance(obj, SceneSpec):
            card = dataclasses.replace(obj, module=ep.module, source=source)
        else:
            raise UserError(f"{source}: is not a SceneSpec or a module with SCENE")
        if card is not None:
            out.append(card)
    return out


# ------------------------------------------------------------ running cards
def scene_files(spec: SceneSpec) -> list[Path]:
    """The card's and the drawing's source files (where an author's error points)."""
    out = [spec.file] if spec.file else []
    try:
        found = importlib.util.find_spec(spec.draw_module)
    except (ImportError, ValueError):
        found = None
    if found is not None and found.origin:
        out.append(Path(found.origin))
    return out


def guarded(spec: SceneSpec, fn, *args, **kwargs):
    """Run a scene's own code; its exceptions become one-line SceneErrors."""
    try:
        return fn(*args, **kwargs)
    except (UserError, KeyboardInterrupt, SceneError, OSError):
        raise
    except Exception as exc:
        raise SceneError(author_error(exc, scene_files(spec))) from exc


def prepare(spec: SceneSpec, values: dict):
    """`spec.prepare` guarded, with a bad trajectory file named by its option."""
    from .trajectory import TrajectoryError

    try:
        return guarded(spec, spec.prepare, values)
    except TrajectoryError as exc:
        for p in spec.params:
            given = values.get(p.name)
            items = given if isinstance(given, tuple) else (given,)
            if p.kind == "path" and any(
                v is not None and exc.path is not None and Path(v) == Path(exc.path)
                for v in items
            ):
                raise UserError(f"{p.flag}: {exc}") from None
        raise
