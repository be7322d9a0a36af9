"""Lesson builds: every figure of a lesson, rendering only what changed, in parallel.

Each output file is keyed by a sha256 of everything that determines its bytes:
the source of the scene module and of every project module it imports, the
options, the trajectories it replays, theme, quality, format, size, frame rate,
GIF budget and the versions of manim and its encoders. `renders/manifest.json`
records the key, size, mtime and hash of every finished output, so a build
compares keys and `stat`s files and imports no manim when nothing changed.

Renders run where a runner sends them, longest first: by default `Pool`, worker
processes of this machine started with "spawn" (never a fork of a process
holding manim's state); `neuroanim.cluster.Dask` sends the same jobs to a Dask
cluster. The main process alone writes the manifest, atomically, after every
finished output, and holds an flock on the output folder so two builds cannot
interleave.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import signal
import stat
import sys
import sysconfig
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path

from . import encode, files, gif, interactive, page, registry, render
from . import trajectory as traj_io
from .errors import SceneError, UserError
from .lesson import Figure, Lesson, LessonError, Output

KEY_SCHEMA = "neuroanim.key/1"
MANIFEST_SCHEMA = "neuroanim.manifest/1"
MANIFEST = "manifest.json"
MANIFEST_MAX = 64_000_000  # bytes; a lesson's manifest is a few KB per output
LOCK = ".neuroanim.lock"
PIPELINE = ("neuroanim.pipeline",)  # render, GIF, captions, poster: every output
GIF_PIPELINE = ("neuroanim.gif",)  # fit_gif decides a GIF's fps and size
VERSIONED = ("neuroanim", "manim", "av", "pillow", "numpy")  # their code shapes the bytes
PART_MAX_AGE = 600  # seconds; older `.part` files are leftovers of a killed build
TIMINGS = "build-timings.json"  # in render.cache_dir(): CPU seconds per output
TIMINGS_KEPT = 2000
# To guess a render's time from another output of the same figure: building the
# scene (construct, the only cost of a still) takes about CONSTRUCT of a quality-l
# mp4; the rest is frames, in proportion to pixels x fps, times the encoder's
# weight (relative to 854x480 at 15 fps).
CONSTRUCT = 0.2  # measured on the chapter's scenes: 0.06 to 0.27
FRAME_WEIGHT = {"png": 0.0, "mp4": 1.0, "mov": 1.0, "webm": 1.0, "gif": 1.3}
REFERENCE_RATE = 854 * 480 * 15
GUESS_SECONDS = 10.0  # a lesson video at quality l, when nothing better is known
CHECK_EVERY = 0.2  # seconds between a build's `check` calls (serve: a new edit?)


# ---------------------------------------------------------------------- keys
@cache
def _module_file(name: str) -> Path | None:
    """The source file of module `name`, found without importing it (or None)."""
    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        return Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
    for root in spec.submodule_search_locations or ():
        for cand in (Path(root, *rest[:-1], rest[-1] + ".py"),
                     Path(root, *rest, "__init__.py")):
            if cand.is_file():
                return cand
    return None


_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<mod>\.*[\w.]*)[ \t]+import[ \t]+"
    r"(?P<names>\([^)]*\)|(?:[^\n#;\\]|\\\n)*)|import[ \t]+(?P<plain>[^\n#;]+))",
    re.MULTILINE)


def _imports(path: Path, name: str) -> Iterator[str]:
    """Module names `path` imports: relative imports resolved, submodules guessed.

    A line scan, not `ast` (parsing every file cost 0.2 s of a 0.5 s no-op
    build): it may also pick up an import written in a docstring, which only
    adds a file to the key, never drops one. `from pkg import x` yields `pkg`
    and `pkg.x`: x may be a submodule; a name that is not finds no file.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for m in _IMPORT.finditer(text):
        if m["plain"]:
            for item in m["plain"].split(","):
                yield item.split(" as ")[0].strip()
            continue
        mod = m["mod"]
        level = len(mod) - len(mod.lstrip("."))
        if level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - level + 1])
            rest = mod[level:]
            mod = f"{base}.{rest}" if rest else base
        yield mod
        names = m["names"].replace("\\\n", " ").strip("()")
        for item in names.replace("\n", ",").split(","):
            item = item.split("#")[0].split(" as ")[0].strip()
            if item and item != "*":
                yield f"{mod}.{item}"


def code_files(modules: Iterable[str]) -> dict[str, Path]:
    """`modules` and every project module they import, transitively, by name.

    Project code is any Python file outside the standard library and
    site-packages (neuroanim installed with `pip -e`, scenes/, an author's own
    helpers); installed libraries are covered by the versions in the key.
    Parent packages count: importing `a.b` runs `a/__init__.py` first.
    """
    found: dict[str, Path] = {}
    todo = list(modules)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if not name or name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None or not _is_project(path):
            continue
        found[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        st = path.stat()
        todo += _file_imports(path, name, st.st_mtime_ns, st.st_size)
    return dict(sorted(found.items()))


@cache
def _file_imports(path: Path, name: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """`_imports`, remembered per file version (a lesson checks a module many times)."""
    return tuple(_imports(path, name))


@cache
def _library_roots() -> tuple[Path, ...]:
    keys = ("stdlib", "platstdlib", "purelib", "platlib")
    return tuple({Path(sysconfig.get_path(k)).resolve() for k in keys})


@cache
def _is_project(path: Path) -> bool:
    path = path.resolve()
    return not any(path.is_relative_to(root) for root in _library_roots())


def code_digest(modules: Iterable[str]) -> str:
    """sha256 over the source of `code_files(modules)`, by module name.

    Names, not absolute paths, so moving the checkout keeps every key.
    """
    h = hashlib.sha256()
    for name, path in code_files(modules).items():
        if name.startswith(registry.LOCAL_PREFIX):  # an author's folder, wherever it is
            name = "scenes" + name[name.find("."):] if "." in name else "scenes"
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Installed versions, read from package metadata: no `import manim`."""
    out = {}
    for dist in VERSIONED:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


def data_digests(data: dict) -> list[str]:
    """sha256 of each trajectory the scene replays (`trajectory.digest`)."""
    return [traj_io.digest(t) for t in registry.trajectories(data)]


def drawn_at(fig: Figure) -> dict[str, float]:
    """Output name -> the rate its pass draws at (`render.passes`), per theme."""
    rates = {}
    for theme in fig.themes:
        outs = [o for o in fig.outputs if o.theme == theme]
        groups, _ = render.passes([(o.fmt, o.width, o.height, o.fps) for o in outs])
        for (_, _, rate), members in groups:
            rates |= {outs[i].name: rate for i, _ in members}
    return rates


# What `build -n` names when a key changed: the key's fields in groups.
PARTS = {
    "scene code": ("scene", "code"),
    "options": ("options",),
    "trajectory": ("trajectories",),
    "theme": ("theme", "theme_def"),
    "text": ("language", "text"),
    "size or format": ("quality", "format", "width", "height", "fps", "gif_budget",
                       "drawn_at"),
    "versions": ("schema", "encoder", "gifsicle", "versions"),
}


def output_key(fig: Figure, out: Output, trajectories: list[str], code: str,
               rate: float | None = None) -> str:
    """The sha256 of everything that determines the bytes of one output file.

    `trajectories` are the figure's `data_digests`, `code` its `code_digest`,
    `rate` the rate of the pass that draws it (a GIF keeps every k-th frame).
    The encoder settings count (thread count, container flags), and for a GIF
    the gifsicle that compresses it.
    """
    return key_and_parts(fig, out, trajectories, code, rate)[0]


def _digest(doc) -> str:
    text = json.dumps(doc, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def key_and_parts(fig: Figure, out: Output, trajectories: list[str], code: str,
                  rate: float | None = None) -> tuple[str, dict[str, str]]:
    """`output_key`, and a short digest of each group of `PARTS`: what the
    manifest keeps so a later build can say which inputs changed."""
    doc = {
        "schema": KEY_SCHEMA,
        "scene": fig.scene,
        "code": code,
        "options": fig.options,
        "trajectories": trajectories,
        "theme": out.theme,
        "theme_def": fig.theme_defs.get(out.theme),  # an author's theme: its colours
        "language": out.language,
        "text": fig.words(out.language),
        "quality": fig.quality,
        "format": out.fmt,
        "width": out.width,
        "height": out.height,
        "fps": out.fps,
        "gif_budget": fig.gif_budget if out.fmt == "gif" else None,
        "encoder": interactive.digest() if out.fmt in render.UNDRAWN
        else encode.settings(out.fmt),
        "drawn_at": rate if out.fmt == "gif" else None,
        "gifsicle": gif.gifsicle_version() if out.fmt == "gif" else None,
        "versions": versions(),
    }
    parts = {group: _digest([doc[k] for k in keys])[:16]
             for group, keys in PARTS.items()}
    return _digest(doc), parts


def what_changed(entry: dict, parts: dict[str, str]) -> str:
    """`changed: options, trajectory`: the groups whose digest moved."""
    old = entry.get("parts")
    if not isinstance(old, dict):
        return "changed"
    moved = [g for g in PARTS if old.get(g) != parts.get(g)]
    return f"changed: {', '.join(moved)}" if moved else "changed"


# ------------------------------------------------------------------ manifest
def empty_manifest() -> dict:
    return {"schema": MANIFEST_SCHEMA, "manim": versions()["manim"], "outputs": {}}


def read_manifest(out_dir: Path, warn: Callable[[str], None]) -> dict:
    """The manifest in `out_dir`; an unreadable one counts as empty, with a warning."""
    path = Path(out_dir) / MANIFEST
    if not os.path.lexists(path):
        return empty_manifest()
    try:
        doc = json.loads(files.read_bytes(path, MANIFEST_MAX).decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("schema") != MANIFEST_SCHEMA:
            raise ValueError(f"schema is not {MANIFEST_SCHEMA}")
        outputs = doc.get("outputs")
        if not isinstance(outputs, dict):
            raise ValueError("no 'outputs' object")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        warn(f"warning: {path} is unreadable ({exc}); treating it as empty, "
             "so every output is checked and rebuilt")
        return empty_manifest()
    good = files.trusted_outputs(
        {k: v for k, v in outputs.items()
         if isinstance(v, dict) and isinstance(v.get("key"), str)}, path, warn)
    return {**empty_manifest(), **{k: v for k, v in doc.items() if k != "outputs"},
            "outputs": good}


def write_manifest(out_dir: Path, manifest: dict) -> None:
    """Atomically replace the manifest: readers see the old or the new, never half."""
    doc = {**manifest, "outputs": dict(sorted(manifest["outputs"].items()))}
    text = json.dumps(doc, indent=2, allow_nan=False) + "\n"
    files.atomic_write(Path(out_dir) / MANIFEST, text.encode())  # mode 0644


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stale_reason(out_dir: Path, name: str, entry: dict | None, key: str,
                 parts: dict[str, str] | None = None) -> str | None:
    """Why output `name` must be rendered, or None when its file is up to date.

    Size and mtime as recorded mean untouched (git's index does the same); an
    mtime that moved with the size unchanged is settled by the file's sha256,
    so `touch` or a copy that keeps the bytes costs no render.
    """
    if entry is None:
        return "new"
    if entry.get("key") != key:
        return what_changed(entry, parts or {})
    path = out_dir / name
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "file missing"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_size != entry.get("bytes"):
        return "file edited"
    if st.st_mtime_ns != entry.get("mtime_ns") and file_sha256(path) != entry.get("sha256"):
        return "file edited"
    extras = [*(entry.get("captions") or {}).values(), entry.get("poster")]
    if any(x and files.regular_file(out_dir, x) is None for x in extras):
        return "poster or captions missing"
    return None


# --------------------------------------------------------------------- plan
@dataclass
class Job:
    """One output of the lesson and what the build decided for it."""

    figure: Figure
    output: Output
    key: str
    reason: str | None  # why it renders; None: up to date, skipped
    error: str | None = None  # the figure cannot render: its scene's code raised
    rate: float | None = None  # the rate of the pass that draws it
    parts: dict = field(default_factory=dict)  # `key_and_parts`: for -n next time

    @property
    def name(self) -> str:
        return self.output.name


@dataclass
class Batch:
    """The outputs of one figure in one theme that render: one worker task.

    They share the scene's data and its drawings (`render.passes`), so they
    run together; events and manifest entries stay per output.
    """

    jobs: list[Job]
    estimate: float = 0.0  # CPU seconds, for ordering longest first
    measured: bool = False

    @property
    def figure(self) -> Figure:
        return self.jobs[0].figure

    @property
    def signature(self) -> str:
        return signature(self.figure, *(j.output for j in self.jobs))


def batches(todo: list[Job], timings: dict[str, float]) -> list[Batch]:
    """Group `todo` by figure and theme, each priced from the past or guessed."""
    groups: dict[tuple[str, str, str], list[Job]] = {}
    for job in todo:
        groups.setdefault((job.figure.name, job.output.theme, job.output.language),
                          []).append(job)
    out = []
    for jobs in groups.values():
        b = Batch(jobs)
        past = timings.get(b.signature)
        b.measured = past is not None
        b.estimate = past if b.measured else GUESS_SECONDS * batch_weight(b)
        out.append(b)
    return out


@dataclass
class Plan:
    lesson: Lesson
    out_dir: Path
    jobs: list[Job]  # the selected figures' outputs, in lesson order
    data: dict[str, dict]  # figure name -> prepared data
    manifest: dict

    @property
    def todo(self) -> list[Job]:
        return [j for j in self.jobs if j.reason is not None and j.error is None]

    @property
    def broken(self) -> list[Job]:
        return [j for j in self.jobs if j.error is not None]


def prepare(lesson: Lesson, names: Iterable[str] | None = None,
            failed: dict[str, str] | None = None) -> dict[str, object]:
    """Train or load each figure's data once; bad options as lesson lines.

    A scene whose own `prepare` raises fails only its figure: the message goes
    into `failed` (figure -> one line) and the other figures still build.
    """
    data, problems = {}, []
    for fig in lesson.figures:
        if names is not None and fig.name not in names:
            continue
        try:
            data[fig.name] = registry.prepare(registry.get(fig.scene), fig.values)
        except UserError as exc:
            problems.append(f"{lesson.source}: figure {fig.name!r}: options: {exc}")
        except SceneError as exc:
            if failed is None:
                raise
            failed[fig.name] = str(exc)
    if problems:
        raise LessonError(problems)
    return data


def select(lesson: Lesson, only: Iterable[str] = ()) -> list[Figure]:
    only = list(only)
    names = [f.name for f in lesson.figures]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise UserError(f"--only: no figure named {unknown[0]!r} in {lesson.source}; "
                        f"figures: {', '.join(names)}")
    return [f for f in lesson.figures if not only or f.name in only]


def make_plan(lesson: Lesson, out_dir, *, force: bool = False, only: Iterable[str] = (),
              manifest: dict | None = None, data: dict | None = None,
              failed: dict[str, str] | None = None,
              warn: Callable[[str], None] = print) -> Plan:
    """Decide, for every selected output, whether it renders and why. No manim."""
    out_dir = Path(out_dir)
    figures = select(lesson, only)
    failed = {} if failed is None else failed
    if data is None:
        data = prepare(lesson, {f.name for f in figures}, failed)
    if manifest is None:
        manifest = read_manifest(out_dir, warn)
    entries = manifest["outputs"]
    codes: dict[tuple, str] = {}
    jobs = []
    for fig in figures:
        if fig.name not in data:  # its scene's prepare raised: it fails alone
            jobs += [Job(fig, out, "", "scene error", error=failed.get(fig.name))
                     for out in fig.outputs]
            continue
        spec = registry.get(fig.scene)
        digests = data_digests(data[fig.name])
        rates = drawn_at(fig)
        for out in fig.outputs:
            mods = (spec.module, spec.draw_module, *PIPELINE,
                    *(GIF_PIPELINE if out.fmt == "gif" else ()))
            if mods not in codes:
                codes[mods] = code_digest(mods)
            key, parts = key_and_parts(fig, out, digests, codes[mods],
                                       rates.get(out.name))
            entry = entries.get(out.name)
            reason = "forced" if force else stale_reason(out_dir, out.name, entry, key,
                                                         parts)
            jobs.append(Job(fig, out, key, reason, rate=rates.get(out.name),
                            parts=parts))
    return Plan(lesson, out_dir, jobs, data, manifest)


# ---------------------------------------------------------------- scheduling
def weight(out: Output) -> float:
    """An output's cost relative to a quality-l mp4 of the same figure."""
    rate = out.width * out.height * out.fps / REFERENCE_RATE
    return CONSTRUCT + (1 - CONSTRUCT) * FRAME_WEIGHT.get(out.fmt, 1.0) * rate


def batch_weight(batch: Batch) -> float:
    """A batch's cost relative to a quality-l mp4: each pass costs its dearest
    output, and a quarter of each other output it also encodes."""
    outs = [j.output for j in batch.jobs]
    groups, stills = render.passes([(o.fmt, o.width, o.height, o.fps, j.rate)
                                    for o, j in zip(outs, batch.jobs, strict=True)])
    total = sum(weight(outs[i]) for i in stills)
    for _, members in groups:
        ws = sorted((weight(outs[i]) for i, _ in members), reverse=True)
        total += ws[0] + 0.25 * sum(ws[1:])
    return total


def signature(fig: Figure, *outs: Output) -> str:
    """What a render's time depends on (not the code: timings survive edits)."""
    doc = [fig.scene, fig.options,
           *([o.fmt, o.theme, o.width, o.height, o.fps] for o in outs)]
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


def load_timings() -> dict[str, float]:
    """CPU seconds of past renders by signature (like ninja's log); {} if unreadable.

    The scene, not the format, decides most of a render's cost (one lesson
    video renders in 3 s, another in 60), so past renders are the only good
    guide for running the longest first; a lost or broken file costs nothing
    but a less balanced schedule.
    """
    try:
        doc = json.loads((render.cache_dir() / TIMINGS).read_text())
        return {k: float(v) for k, v in doc.items() if isinstance(v, int | float)}
    except (OSError, ValueError, AttributeError):
        return {}


def save_timings(new: dict[str, float]) -> None:
    if not new:
        return
    with contextlib.suppress(OSError):
        merged = {k: v for k, v in load_timings().items() if k not in new} | new
        keep = dict(list(merged.items())[-TIMINGS_KEPT:])
        render.cache_dir().mkdir(parents=True, exist_ok=True)
        files.atomic_write(render.cache_dir() / TIMINGS, json.dumps(keep).encode())


def learn(pending: list[Batch], done: Batch, cpu: float) -> None:
    """Re-guess the unmeasured batches of `done`'s figure from its real cost."""
    for b in pending:
        if b.figure is done.figure and not b.measured:
            b.estimate = cpu * batch_weight(b) / batch_weight(done)
    pending.sort(key=lambda b: b.estimate, reverse=True)


# -------------------------------------------------------------------- worker
def _worker_init() -> None:
    """Die with the build: a killed build must not leave renders running (Linux).

    Encoders use one thread each whatever the worker count (`encode`): the
    bytes must not depend on -j.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides on Ctrl-C
    signal.signal(signal.SIGTERM, _worker_term)
    with contextlib.suppress(ImportError):  # manim's progress bars use tqdm, whose
        from tqdm.std import TqdmDefaultWriteLock  # default lock is a process-wide

        TqdmDefaultWriteLock.mp_lock = None  # semaphore a killed worker would leak
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_busy = False  # a worker is inside render_output


def _worker_term(signum, frame) -> None:
    """SIGTERM in a worker: unwind a render (its `finally` blocks remove scratch
    and temporary files), or leave at once when idle."""
    if _busy:
        raise KeyboardInterrupt
    os._exit(128 + signum)


def render_batch(task: dict) -> dict:
    """Render one batch in a worker process; errors come back as text, not raised.

    The worker finds the scene as the build did (the same scene folders; a
    scene registered from Python by importing its module) and prepares its
    data again from the options: a task is plain values, not live objects.
    """
    global _busy
    started = time.perf_counter()
    _busy = True
    try:
        registry.use(task["scene_dirs"])
        if task.get("import"):
            importlib.import_module(task["import"])
        cpu0 = time.process_time()  # after the one-off imports
        from . import pipeline  # the worker renders: now it needs all of it

        spec = registry.get(task["scene"])
        values = spec.resolve(task["values"])
        data = registry.prepare(spec, values)
        if task.get("digests") is not None and data_digests(data) != task["digests"]:
            raise UserError("this worker prepared other data than the build planned "
                            "(its trajectories differ): check numpy and neuroanim "
                            "versions and the trajectory files")
        wants = [pipeline.Want(o["fmt"], Path(o["path"]), o["width"], o["height"],
                               o["fps"], o["drawn_at"]) for o in task["outputs"]]
        if task.get("theme_def"):  # an author's theme travels by value
            from . import theme as themes

            themes.register(themes.from_dict(task["theme_def"]))
        from . import encode
        from .wording import speaking

        cancel = task.get("cancel")

        def look(frames: int) -> None:  # a stat every 8 frames: microseconds
            if frames % 8 == 0 and os.path.exists(cancel):
                raise Cancelled("cancelled: a newer edit made it stale")

        with speaking(task.get("language") or "en", task.get("text") or {},
                      owner=spec.words), encode.on_frame(look if cancel else None):
            if cancel and os.path.exists(cancel):
                raise Cancelled("cancelled before it started")
            done = pipeline.make_outputs(spec, values, wants, theme=task["theme"],
                                         budget=task["budget"], progress=False,
                                         data=data, draft=bool(task.get("draft")))
        return {"ok": True, "seconds": time.perf_counter() - started,
                "cpu": time.process_time() - cpu0,
                "results": [{"result": f.result, "notes": f.notes,
                             "extra": f.manifest_fields()} for f in done]}
    except Exception as exc:  # reported per figure; the build goes on
        if task.get("cancel") and os.path.exists(task["cancel"]):  # however wrapped
            return {"ok": False, "cancelled": True, "trace": None,
                    "error": "cancelled: a newer edit made it stale",
                    "seconds": time.perf_counter() - started}
        brief = str(exc) if isinstance(exc, UserError | SceneError) else \
            f"{type(exc).__name__}: {exc}"
        return {"ok": False, "error": brief.splitlines()[0] if brief else repr(exc),
                "trace": traceback.format_exc(),
                "seconds": time.perf_counter() - started}
    except KeyboardInterrupt:  # SIGTERM from the build: cleaned up, now go quietly
        os._exit(128 + signal.SIGTERM)
    finally:
        _busy = False


def _task(plan: Plan, batch: Batch) -> dict:
    fig = batch.figure
    spec = registry.get(fig.scene)
    return {
        "scene": fig.scene, "scene_dirs": [str(d) for d in registry.dirs()],
        "import": spec.module if spec.source.startswith("Python") else None,
        "values": fig.values, "theme": batch.jobs[0].output.theme,
        "theme_def": fig.theme_defs.get(batch.jobs[0].output.theme),
        "language": batch.jobs[0].output.language,
        "text": fig.words(batch.jobs[0].output.language),
        "budget": fig.gif_budget,
        "draft": fig.quality == "draft",
        "outputs": [{"fmt": j.output.fmt, "width": j.output.width,
                     "height": j.output.height, "fps": j.output.fps,
                     "drawn_at": j.rate, "path": str(plan.out_dir / j.name)}
                    for j in batch.jobs],
    }


# --------------------------------------------------------------------- build
@dataclass
class Event:
    """One finished output: what the progress line shows."""

    index: int  # 1-based, in order of finishing
    total: int
    name: str
    status: str  # "done", "skipped" or "failed"
    reason: str | None = None  # why it rendered / was skipped
    seconds: float = 0.0
    bytes: int = 0
    error: str | None = None
    trace: str | None = None
    notes: list[str] = field(default_factory=list)
    worker: str | None = None  # the cluster worker that rendered it (Dask only)
    eta: float | None = None  # seconds the build guesses it has left


@dataclass
class Report:
    events: list[Event]
    seconds: float
    jobs: int
    out_dir: Path
    index: Path | None = None
    lesson_source: str = ""
    where: str | None = None  # the Dask scheduler it ran on; None: -j on this machine
    left: int = 0  # outputs a lost cluster left unbuilt

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.events)

    @property
    def failed(self) -> list[Event]:
        return [e for e in self.events if e.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed


@contextlib.contextmanager
def locked(out_dir: Path) -> Iterator[Path]:
    """Hold an exclusive flock on `out_dir/.neuroanim.lock` or fail at once.

    flock, not a pid file: the kernel drops it when the holder dies, so a killed
    build never leaves a stale lock behind.
    """
    path = Path(out_dir) / LOCK
    fd = _open_lock(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise UserError(
                f"{out_dir}: another neuroanim build (pid {holder}) is writing here; "
                "wait for it to finish, or build into another folder with -o"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock


def _open_lock(path: Path) -> int:
    """Open the lock file without following a link; a planted link is replaced.

    The lock lives in the output folder, which others may write to: a link
    there must never make the build write its pid into the link's target.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise UserError(f"{path}: cannot open the build lock "
                            f"({exc.strerror or exc})") from None
        os.unlink(path)  # the link itself, never its target
        fd = os.open(path, flags | os.O_EXCL, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UserError(f"{path}: the build lock is not a regular file; remove it")
    return fd


def _sweep_parts(out_dir: Path, max_age: float = PART_MAX_AGE) -> None:
    """Remove temporary files a killed build left (never a fresh one in use)."""
    now = time.time()
    for p in [*out_dir.glob(".*.part"), *out_dir.glob(".*.fit.gif"),
              *out_dir.glob(".*.fit.srt")]:
        with contextlib.suppress(OSError):
            if now - p.lstat().st_mtime >= max_age:
                p.unlink()


def _entry(job: Job, result: dict, out_dir: Path) -> dict:
    """The manifest record of a finished output (the shared contract's fields)."""
    res = result["result"]
    path = out_dir / job.name
    st = os.lstat(path)
    extra = result.get("extra") or {}
    fig = job.figure
    return {
        "figure": fig.name,
        "scene": fig.scene,
        "options": fig.options,
        "format": job.output.fmt,
        "theme": job.output.theme,
        "quality": fig.quality,
        "key": job.key,
        "bytes": st.st_size,
        "width": res.width,
        "height": res.height,
        "fps": res.fps,
        "frames": res.frames,
        "duration": res.duration,
        "made": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "alt": extra.get("alt"),
        "captions": extra.get("captions"),
        "poster": extra.get("poster"),
        "notes": list(result.get("notes") or []),
        "title": fig.title,
        "link": fig.link,
        "draft": fig.quality == "draft",
        "parts": job.parts,
        "language": job.output.language,
        "languages": list(fig.languages),
        "background": (fig.theme_defs.get(job.output.theme) or {}).get("background"),
        # beyond the contract: change detection and scheduling
        "mtime_ns": st.st_mtime_ns,
        "sha256": file_sha256(path),
        "seconds": round(result["seconds"], 2),  # wall clock
        "cpu": round(result["cpu"], 2),  # the worker's CPU seconds: the real cost
    }


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def build(lesson: Lesson, out_dir=render.DEFAULT_OUT_DIR, *, jobs: int | None = None,
          force: bool = False, only: Iterable[str] = (),
          on_event: Callable[[Event], None] = lambda e: None,
          on_start: Callable[[str], None] = lambda line: None,
          warn: Callable[[str], None] = print, runner: Runner | None = None,
          first: Iterable[str] = (), check: Callable[[], set[str] | None] | None = None,
          data: dict | None = None, failed: dict[str, str] | None = None,
          preview: bool = True) -> Report:
    """Render what changed in `lesson` into `out_dir`; a failure does not stop others.

    `runner` says where the renders run (default: `Pool(jobs)`, this machine);
    it is started only when something is left to render. Raises
    LessonError/UserError (bad lesson, folder, lock, an unreachable cluster)
    before rendering anything. The manifest is rewritten after every finished
    output, so an interrupted build leaves it true to the files on disk.

    `on_event` also hears each output start (status "started", not in the
    report). `first` names figures to render before the rest (`serve`: the one
    just edited). `check`, polled while renders run, returns None to go on or
    the keys still wanted: renders of other keys are cancelled, nothing more
    starts, and the build returns when the rest has landed (`serve`: an edit
    arrived). `data` is the lesson's prepared data when the caller holds it
    (`failed`: the figures whose scene's prepare raised, as `prepare` fills).
    `preview=False` writes no index.html (a course site publishes the folder).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    runner = runner or Pool(jobs)
    jobs = runner.slots
    figures = select(lesson, only)  # bad input fails before the folder is touched
    failed = {} if failed is None else failed
    if data is None:
        data = prepare(lesson, {f.name for f in figures}, failed)
    if not str(out_dir).strip():
        raise UserError("-o: the folder name is empty")
    render.cache_dir()  # a bad $NEUROANIM_CACHE is one line now, not N failures
    render.check_writable(out_dir, "-o")
    with locked(out_dir):
        _sweep_parts(out_dir)
        plan = make_plan(lesson, out_dir, force=force, only=only, data=data,
                         failed=failed, warn=warn)
        manifest = plan.manifest
        entries = manifest["outputs"]
        wanted = {o.name for f in lesson.figures for o in f.outputs}
        dirty = [k for k in entries if k not in wanted]  # figures gone from the lesson
        for k in dirty:
            del entries[k]
        about = {"manim": versions()["manim"], "title": lesson.title,
                 "language": lesson.language, "base_url": lesson.base_url,
                 "draft": lesson.draft, "figures": [f.name for f in lesson.figures]}
        if any(manifest.get(k) != v for k, v in about.items()):
            manifest.update(about)  # the page lists figures in lesson order
            dirty.append("-")
        events: list[Event] = []
        total = len(plan.jobs)
        todo = plan.todo
        extra: list[str] = []
        if todo:
            extra = runner.start(plan, todo)
            jobs = runner.slots
        on_start(f"{lesson.source} -> {out_dir}: {total} outputs, {len(todo)} to render"
                 + (runner.describe() if todo else ""))
        for line in extra:  # the Dask dashboard, once
            on_start(line)

        def emit(ev: Event) -> None:
            events.append(ev)
            on_event(ev)

        for job in plan.jobs:
            if job.reason is None:
                entry = entries[job.name]
                if (entry.get("title"), entry.get("link")) != (job.figure.title,
                                                               job.figure.link):
                    entry.update(title=job.figure.title, link=job.figure.link)
                    dirty.append(job.name)
                st = os.lstat(out_dir / job.name)
                if entry.get("mtime_ns") != st.st_mtime_ns:  # same bytes, touched
                    entry["mtime_ns"] = st.st_mtime_ns
                    dirty.append(job.name)
                emit(Event(len(events) + 1, total, job.name, "skipped", "unchanged",
                           bytes=st.st_size))
        for job in plan.broken:  # its scene's own code raised: this figure only
            emit(Event(len(events) + 1, total, job.name, "failed", job.reason,
                       error=job.error))
        if dirty:
            write_manifest(out_dir, manifest)

        left = _run(plan, todo, runner, emit, total, events, on_event=on_event,
                    first=tuple(first), check=check) if todo else 0
        # the preview page, every build (a course site's copy goes without it)
        index = page.write_index(out_dir, manifest) if preview else None
    return Report(events, time.perf_counter() - started, jobs, out_dir, index,
                  lesson.source, where=runner.where, left=left)


class Lost(Exception):
    """Where the jobs run is gone (a Dask scheduler): the rest stays to build."""


class Runner:
    """Where a build's batches render: the local `Pool`, or a cluster.

    A runner is started once, when a build has something to render; then the
    build submits `slots` batches at a time (`submit`), waits for any to finish
    (`wait`) and takes each outcome as `render_batch`'s result (`outcome`), the
    files already in the output folder. `Lost` from `wait` or `outcome` ends
    the build with what finished recorded.
    """

    where: str | None = None  # what `summary` names instead of -j
    slots: int = 1

    def start(self, plan: Plan, todo: list[Job]) -> list[str]:
        """Get ready to render `todo`; lines to print once (UserError: cannot)."""
        return []

    def describe(self) -> str:
        return ""

    def submit(self, plan: Plan, batch: Batch):
        raise NotImplementedError

    def wait(self, running: dict, timeout: float | None = None) -> Iterable:
        """The futures of `running` that finished (none yet after `timeout`)."""
        raise NotImplementedError

    def cancel(self, fut, plan: Plan, batch: Batch) -> None:
        """Stop one batch early if the runner can; its outcome says cancelled."""

    def outcome(self, fut, plan: Plan, batch: Batch) -> dict:
        raise NotImplementedError

    def stop(self) -> None:
        """Interrupted: stop what is rendering now."""

    def close(self) -> None:
        """Finished: release the workers."""


class Pool(Runner):
    """The default: `jobs` worker processes of this machine (no server)."""

    def __init__(self, jobs: int | None = None):
        self.slots = max(1, jobs or default_jobs())
        self.pool = None

    def start(self, plan: Plan, todo: list[Job]) -> list[str]:
        import multiprocessing  # only a build that renders starts workers
        from concurrent.futures import ProcessPoolExecutor

        self.workers = min(self.slots, len({(j.figure.name, j.output.theme)
                                            for j in todo}))
        ctx = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                        initializer=_worker_init)
        return []

    def describe(self) -> str:
        n = self.workers
        return f" in {n} worker process{'es' if n > 1 else ''}"

    def submit(self, plan: Plan, batch: Batch):
        task = _task(plan, batch)
        task["cancel"] = str(render.cache_dir() / f"cancel-{os.getpid()}-{id(batch)}")
        with contextlib.suppress(OSError):
            os.unlink(task["cancel"])
        fut = self.pool.submit(render_batch, task)
        fut.add_done_callback(lambda _: _forget(task["cancel"]))
        return fut

    def wait(self, running: dict, timeout: float | None = None) -> Iterable:
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(running, timeout=timeout, return_when=FIRST_COMPLETED)[0]

    def cancel(self, fut, plan: Plan, batch: Batch) -> None:
        """The worker looks for this file between frames (`render_batch`)."""
        path = render.cache_dir() / f"cancel-{os.getpid()}-{id(batch)}"
        with contextlib.suppress(OSError):
            path.touch()

    def outcome(self, fut, plan: Plan, batch: Batch) -> dict:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return fut.result()
        except BrokenProcessPool as exc:
            return {"ok": False, "seconds": 0.0, "trace": None,
                    "error": f"a worker process died ({exc})"}

    def stop(self) -> None:
        _stop(self.pool)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _run(plan: Plan, todo: list[Job], runner: Runner, emit, total: int,
         events: list, on_event=lambda ev: None, first: tuple[str, ...] = (),
         check: Callable[[], set[str] | None] | None = None) -> int:
    """Render `todo` with `runner`, recording each as it lands; how many are left.

    A figure's outputs in one theme go to one worker together (a `Batch`,
    drawn once). Only `runner.slots` batches are in flight at once, so each
    free worker takes the longest left as estimated *now*: the first finished
    batch of a figure re-prices that figure's others (`learn`). Balance at the
    end is what makes -j 2 twice as fast; a long video started last would
    leave a core idle. Left over are the outputs a lost cluster never finished.
    """
    out_dir, manifest = plan.out_dir, plan.manifest
    old_term = signal.getsignal(signal.SIGTERM)
    with contextlib.suppress(ValueError):  # not the main thread: keep the default
        signal.signal(signal.SIGTERM, _raise_interrupt)
    timings: dict[str, float] = {}
    queue = order(batches(todo, load_timings()), first)
    running: dict = {}  # future -> Batch
    since: dict[int, float] = {}  # id(batch) -> when it started
    left = 0

    def eta() -> float:
        now = time.perf_counter()
        ahead = sum(b.estimate for b in queue) + sum(
            max(0.0, b.estimate - (now - since.get(id(b), now)))
            for b in running.values())
        return ahead / max(1, runner.slots)

    try:
        try:
            while queue or running:
                while queue and len(running) < max(1, runner.slots):
                    batch = queue.pop(0)
                    running[runner.submit(plan, batch)] = batch
                    since[id(batch)] = time.perf_counter()
                    for job in batch.jobs:
                        on_event(Event(0, total, job.name, "started", job.reason,
                                       eta=eta()))
                finished = runner.wait(running, CHECK_EVERY) if check else \
                    runner.wait(running)
                if check is not None and not finished:
                    wanted = check()
                    if wanted is not None:  # an edit: the rest waits for its plan
                        left += sum(len(b.jobs) for b in queue)
                        queue.clear()
                        for fut, batch in running.items():
                            if any(j.key not in wanted for j in batch.jobs):
                                runner.cancel(fut, plan, batch)
                for fut in finished:
                    batch = running.pop(fut)
                    res = runner.outcome(fut, plan, batch)
                    if res["ok"]:
                        timings[batch.signature] = round(res["cpu"], 2)
                        learn(queue, batch, res["cpu"])
                    for i, job in enumerate(batch.jobs):
                        _land(job, res, i, len(batch.jobs), out_dir, manifest, emit,
                              len(events) + 1, total, res.get("worker"), eta())
        except Lost as exc:
            lost = {"ok": False, "seconds": 0.0, "trace": None, "error": str(exc)}
            for batch in [*running.values(), *queue]:
                for job in batch.jobs:
                    left += 1
                    _land(job, lost, 0, 1, out_dir, manifest, emit,
                          len(events) + 1, total)
    except BaseException:
        runner.stop()
        _sweep_parts(out_dir, max_age=0)  # we hold the lock: every temp file is ours
        raise
    finally:
        save_timings(timings)
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGTERM, old_term)
    runner.close()
    return left


def order(pending: list[Batch], first: tuple[str, ...] = ()) -> list[Batch]:
    """Longest first, except that figures named in `first` go first, in order."""
    rank = {name: i for i, name in enumerate(first)}
    return sorted(pending, key=lambda b: (rank.get(b.figure.name, len(rank)),
                                          -b.estimate))


def _land(job: Job, res: dict, i: int, n: int, out_dir: Path, manifest: dict,
          emit, index: int, total: int, worker: str | None = None,
          eta: float | None = None) -> None:
    """Record output `i` of a finished batch: manifest entry and event."""
    if res["ok"]:
        one = {**res["results"][i], "seconds": res["results"][i]["result"].seconds,
               "cpu": res["cpu"] / n}
        try:
            entry = _entry(job, one, out_dir)
        except OSError as exc:  # the file vanished under us
            res = {**res, "ok": False, "trace": None,
                   "error": f"finished but unreadable: {exc}"}
    if res["ok"]:
        manifest["outputs"][job.name] = entry
        write_manifest(out_dir, manifest)
        emit(Event(index, total, job.name, "done", job.reason, one["seconds"],
                   entry["bytes"], notes=entry["notes"], worker=worker, eta=eta))
    else:
        emit(Event(index, total, job.name,
                   "cancelled" if res.get("cancelled") else "failed", job.reason,
                   res["seconds"], error=res["error"], trace=res["trace"],
                   worker=worker, eta=eta))


def _forget(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class Cancelled(Exception):
    """A render a newer edit made stale, stopped between two frames."""


def _stop(pool) -> None:
    """Stop our workers mid-render and wait until they have cleaned up.

    Each worker turns SIGTERM into KeyboardInterrupt, so its `finally` blocks
    remove its scratch and temporary files; joining them, then shutting the
    pool down with waiting, lets the executor release its queues and
    semaphores (no "leaked semaphore" warning, no thread traceback at exit).
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        with contextlib.suppress(OSError, ValueError):
            proc.terminate()
    for proc in procs:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
    with contextlib.suppress(Exception):
        pool.shutdown(wait=True, cancel_futures=True)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


# ----------------------------------------------------------------- reporting
def clock(seconds: float) -> str:
    """`0:42`, `12:05`: an ETA as people read one."""
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def progress_line(ev: Event, width: int = 28) -> str:
    """`[ 3/12] done     and-gate.mp4   12.3 s   1.2 MB  (changed)  ETA 0:42`."""
    digits = len(str(ev.total))
    left = f"  ETA {clock(ev.eta)}" if ev.eta and ev.index < ev.total else ""
    if ev.status == "started":  # no [i/n]: nothing has finished yet
        pad = " " * (2 * digits + 3)
        return f"{pad} started  {ev.name:<{width}}          ({ev.reason}){left}"
    head = f"[{ev.index:>{digits}}/{ev.total}] {ev.status:<8} {ev.name:<{width}}"
    if ev.status == "skipped":
        return f"{head}       -  {page.human_size(ev.bytes):>8}  ({ev.reason})"
    on = f"  on {ev.worker}" if ev.worker else ""
    if ev.status in ("failed", "cancelled"):
        return f"{head} {ev.seconds:5.1f} s  {ev.error}{on}{left}"
    notes = f"; {'; '.join(ev.notes)}" if ev.notes else ""
    return (f"{head} {ev.seconds:5.1f} s  {page.human_size(ev.bytes):>8}  "
            f"({ev.reason}{notes}){on}{left}")


def summary(report: Report) -> list[str]:
    ran = f"-j {report.jobs}"
    if report.where:  # no count when nothing rendered: the cluster was not asked
        ran = f"Dask {report.where}" + (f", {report.jobs} worker thread"
                                        f"{'s' if report.jobs != 1 else ''}"
                                        if report.jobs else "")
    cancelled = report.count("cancelled")
    lines = [f"{len(report.events)} outputs in {report.seconds:.1f} s: "
             f"{report.count('done')} rendered, {report.count('skipped')} unchanged, "
             f"{report.count('failed')} failed"
             + (f", {cancelled} cancelled" if cancelled else "")
             + f" ({ran}) -> {report.out_dir}"]
    if report.left:
        lines.append(f"{report.left} output{'s' if report.left != 1 else ''} left "
                     f"unbuilt: the Dask scheduler {report.where} was lost; what "
                     "finished is in the manifest, build again to finish the rest")
    if report.index:
        lines.append(f"preview: {report.index}")
    if report.failed:
        lines.append("failed:")
        lines += [f"  {e.name}: {e.error}" for e in report.failed]
    return lines


# ------------------------------------------------------------- no-op record
def watched_files(lesson: Lesson, report: Report) -> list[Path]:
    """Every file whose change could make the next build of `lesson` differ.

    What `nochange` stats before a build imports anything: the lesson, its
    trajectory files, the source of all project code (the package, the scenes
    and every module a key covers), the scene folders, the folders packages
    install into, and every file the build wrote.
    """
    import neuroanim

    from . import lesson as lsn

    paths: list[Path] = []
    if lesson.source == lsn.BUILT_IN:  # until a ./lesson.toml appears
        paths += [lsn.BUILT_IN_FILE, Path(lsn.LESSON_FILE).absolute()]
    else:
        paths.append(Path(lesson.source))
    mods: set[str] = {*PIPELINE, *GIF_PIPELINE}
    for fig in lesson.figures:
        spec = registry.get(fig.scene)
        mods |= {spec.module, spec.draw_module}
        for p in spec.params:
            if p.kind == "path" and fig.values.get(p.name):
                v = fig.values[p.name]
                paths += [Path(x) for x in (v if isinstance(v, tuple) else (v,))]
    paths += code_files(mods).values()
    for root in (Path(neuroanim.__file__).parent, *registry.dirs(),
                 registry._builtin_dir()):
        if root is not None:
            paths.append(root)
            paths += root.rglob("*.py")
    paths += [Path(d) for d in sys.path if d and os.path.isdir(d)]
    widget = Path(neuroanim.__file__).parent / "interactive"  # the twins' page assets
    paths += [f for f in widget.iterdir() if f.suffix in (".html", ".css", ".js")]
    out = report.out_dir
    paths += [out, out / MANIFEST, out / "index.html"]
    for ev in report.events:
        paths.append(out / ev.name)
        paths += [out / f for f in files.sidecars(ev.name, Path(ev.name).suffix[1:])]
    return paths


def noop_lines(report: Report) -> list[str]:
    """What a build of the same lesson prints when nothing is left to render."""
    total = len(report.events)
    evs = [Event(i, total, e.name, "skipped", "unchanged", bytes=e.bytes)
           for i, e in enumerate(report.events, 1)]
    start = (f"{report.lesson_source} -> {report.out_dir}: {total} outputs, "
             "0 to render")
    summary_lines = summary(Report(evs, 0.0, report.jobs, report.out_dir,
                                   report.index, where=report.where))
    summary_lines[0] = summary_lines[0].replace(" in 0.0 s:", " in {seconds} s:", 1)
    return [start, *(progress_line(e) for e in evs), *summary_lines]
