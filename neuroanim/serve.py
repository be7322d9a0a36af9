"""`neuroanim serve`: build a lesson, serve its page, rebuild what each edit touched.

Four parts, each small:

- `Hub`: what the page knows (each figure building, done or failed, its
  version; the lesson's error) and the open pages it tells, as server-sent
  events.
- `Handler`: HTTP on loopback. `/` is the preview page, made fresh from the
  manifest on disk with the live script added; `/_neuroanim/events` is the
  event stream; anything else is a file of the output folder (regular files
  inside it only), never cached.
- `Builder`: a thread that runs `build.build` with worker processes kept warm
  between builds. An edit that arrives during a build cancels the renders it
  made stale (the workers look for a cancel file between frames) and starts
  nothing new; the next build begins with the figure just edited.
- `serve`: watches the lesson, its trajectory files, the scene folders and, in
  a development checkout, the package's own code with `watchfiles` (inotify);
  a code edit restarts the process in place (same port, same pid), since the
  workers and this process hold the old modules.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import html
import http.server
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import build as bld
from . import lesson as lsn
from . import page, registry
from .errors import SceneError, UserError

EVENTS = "/_neuroanim/events"
STATE = "/_neuroanim/state"
LIVE_JS = "/_neuroanim/live.js"
HEARTBEAT = 10.0  # seconds between SSE comments: a closed page is noticed
DEBOUNCE_MS = 1600  # watchfiles: the longest it groups changes
STEP_MS = 60  # watchfiles: quiet this long after a change ends the group
REEXEC = "NEUROANIM_SERVE_REEXEC"  # set in a restarted process: no second banner
CODE_SUFFIXES = (".py",)
ASSET_SUFFIXES = (".html", ".css", ".js")  # the widget's page assets


# ------------------------------------------------------------------------ hub
class Hub:
    """The state every open page mirrors, and the pages listening to it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.figures: dict[str, dict] = {}  # name -> {state, error, version}
        self.order: list[str] = []
        self.error: list[str] | None = None  # the lesson's problems, if any
        self.draft = False
        self.listeners: list[queue.Queue] = []
        self.closed = False

    def snapshot(self) -> dict:
        with self.lock:
            return {"type": "state", "figures": json.loads(json.dumps(self.figures)),
                    "order": list(self.order), "error": self.error,
                    "draft": self.draft}

    def publish(self) -> None:
        message = json.dumps(self.snapshot())
        with self.lock:
            for q in self.listeners:
                q.put(message)

    def set_figure(self, name: str, **fields) -> None:
        with self.lock:
            self.figures.setdefault(name, {"state": "done", "error": None,
                                           "version": ""}).update(fields)

    def listen(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        with self.lock:
            self.listeners.append(q)
        q.put(json.dumps(self.snapshot()))
        return q

    def leave(self, q: queue.Queue) -> None:
        with self.lock:
            with contextlib.suppress(ValueError):
                self.listeners.remove(q)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for q in self.listeners:
                q.put(None)


def versions(manifest: dict) -> dict[str, str]:
    """Figure -> a short digest of its outputs' bytes (the page's cache buster)."""
    by_fig: dict[str, list[str]] = {}
    for name, entry in sorted((manifest.get("outputs") or {}).items()):
        by_fig.setdefault(str(entry.get("figure") or name), []).append(
            f"{name}:{entry.get('sha256')}")
    return {fig: hashlib.sha256("\n".join(v).encode()).hexdigest()[:12]
            for fig, v in by_fig.items()}


# ----------------------------------------------------------------------- http
class Handler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD only; a file outside the output folder is never served."""

    server_version = "neuroanim"
    protocol_version = "HTTP/1.1"
    out_dir: Path
    hub: Hub

    def log_message(self, format, *args) -> None:  # quiet: the terminal is ours
        pass

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        path = unquote(urlsplit(self.path).path)
        try:
            if path in ("/", "/index.html"):
                return self._send(200, "text/html; charset=utf-8", self._page(), head)
            if path == LIVE_JS:
                return self._send(200, "text/javascript; charset=utf-8",
                                  page._asset("live.js").encode(), head)
            if path == STATE:
                return self._send(200, "application/json",
                                  json.dumps(self.hub.snapshot()).encode(), head)
            if path == EVENTS:
                return self._events()
            return self._file(path, head)
        except (BrokenPipeError, ConnectionResetError):
            return None

    def _page(self) -> bytes:
        manifest: dict = {"outputs": {}}
        path = self.out_dir / bld.MANIFEST
        if path.is_file():
            with contextlib.suppress(UserError):
                manifest = page.load_manifest(path, warn=lambda msg: None)
        text = page.render_index(self.out_dir, manifest)
        for fig, version in versions(manifest).items():  # what this page shows
            mark = f'data-figure="{html.escape(fig, quote=True)}">'
            text = text.replace(mark, mark[:-1] + f' data-version="{version}">', 1)
        live = f'<script src="{LIVE_JS}" defer></script>\n</body>'
        return text.replace("</body>", live, 1).encode("utf-8")

    def _file(self, path: str, head: bool) -> None:
        root = os.path.realpath(self.out_dir)
        rel = path.lstrip("/")
        target = os.path.realpath(os.path.join(root, rel))
        if not rel or not target.startswith(root + os.sep) or \
                os.path.islink(os.path.join(root, rel)) or not os.path.isfile(target):
            return self._send(404, "text/plain; charset=utf-8", b"not found\n", head)
        with open(target, "rb") as fh:
            body = fh.read()
        return self._send(200, _content_type(target), body, head)

    def _send(self, status: int, kind: str, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        q = self.hub.listen()
        try:
            self.wfile.write(b"retry: 500\n\n")
            while True:
                try:
                    message = q.get(timeout=HEARTBEAT)
                except queue.Empty:
                    self.wfile.write(b": alive\n\n")
                    self.wfile.flush()
                    continue
                if message is None:
                    return
                self.wfile.write(f"data: {message}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return
        finally:
            self.hub.leave(q)


_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".gif": "image/gif",
          ".png": "image/png", ".vtt": "text/vtt", ".srt": "text/plain",
          ".html": "text/html; charset=utf-8", ".json": "application/json",
          ".mov": "video/quicktime"}


def _content_type(path: str) -> str:
    return _TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # a restart in place binds the same port at once


def listen(host: str, port: int, out_dir: Path, hub: Hub) -> Server:
    """Bind now (a port in use is one line, exit 2, before anything is built)."""
    handler = type("BoundHandler", (Handler,), {"out_dir": Path(out_dir), "hub": hub})
    try:
        return Server((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserError(f"--port: {host}:{port} is in use (another server?); "
                            "choose another with --port, or --port 0 for a free one"
                            ) from None
        raise UserError(f"--host/--port: cannot listen on {host}:{port} "
                        f"({exc.strerror or exc})") from None


# -------------------------------------------------------------------- builder
@dataclasses.dataclass
class Source:
    """How to get the lesson each build: a file (or ./lesson.toml), adjusted."""

    path: Path | None
    scene_dirs: tuple = ()
    draft: bool = False
    base_url: str | None = None

    def load(self) -> lsn.Lesson:
        lesson, _ = lsn.find(self.path, self.scene_dirs)
        if self.base_url is not None:
            lesson = dataclasses.replace(lesson, base_url=self.base_url)
        return lsn.drafted(lesson) if self.draft else lesson


class Builder(threading.Thread):
    """Runs builds one after another, each as soon as the last edit asks."""

    def __init__(self, source: Source, out_dir: Path, hub: Hub, jobs: int | None,
                 say: Callable[[str], None]):
        super().__init__(name="neuroanim-builder", daemon=True)
        self.source, self.out_dir, self.hub, self.say = source, Path(out_dir), hub, say
        self.runner = WarmPool(jobs)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.idle = threading.Event()
        self.lock = threading.Lock()
        self.edits: dict[str, float] = {}  # figure -> when an edit last touched it
        self.changed: set[str] = set()  # files changed since the last build began
        self.generation = 0  # edits seen; `check` plans once per generation
        self.planned: tuple[int, set[str] | None] = (-1, None)
        self.previous: dict[str, lsn.Figure] = {}
        self.builds = 0  # finished builds (tests count them)
        self.restart = False  # a code edit: the process starts again

    def poke(self, paths: set[str] = frozenset(), code: bool = False) -> None:
        with self.lock:
            self.changed |= set(paths)
            self.generation += 1
            if code:
                self.restart = True
        self.wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait()
            self.wake.clear()
            if self.stopping.is_set() or self.restart:
                break
            self.idle.clear()
            try:
                self.build_once()
            except Exception as exc:  # a bug: say it, keep serving
                self.say(f"Error: {type(exc).__name__}: {exc}")
            finally:
                self.builds += 1
                self.idle.set()
        self.idle.set()

    # --- one build
    def build_once(self) -> None:
        with self.lock:
            changed, self.changed = self.changed, set()
        try:
            lesson = self.source.load()
            failed: dict[str, str] = {}
            data = bld.prepare(lesson, None, failed)
        except lsn.LessonError as exc:
            self.hub.error = exc.problems
            self.hub.publish()
            for line in exc.problems:
                self.say(f"Error: {line}")
            self.say("the last good outputs stay served; fix the file to go on")
            return
        except (UserError, SceneError) as exc:
            self.hub.error = [str(exc)]
            self.hub.publish()
            self.say(f"Error: {exc}")
            return
        self.hub.error = None
        for line in lesson.warnings:
            self.say(f"warning: {line}")
        self.note_edits(lesson, changed)
        plan = bld.make_plan(lesson, self.out_dir, data=data, failed=failed,
                             warn=lambda m: None)
        todo = {j.figure.name for j in plan.todo}
        with self.hub.lock:
            self.hub.order = [f.name for f in lesson.figures]
            self.hub.draft = lesson.draft
            self.hub.figures = {k: v for k, v in self.hub.figures.items()
                                if k in self.hub.order}
        for fig in lesson.figures:
            if fig.name in todo:
                self.hub.set_figure(fig.name, state="queued", error=None)
        self.hub.publish()
        first = sorted(todo, key=lambda n: -self.edits.get(n, 0.0))
        self.outputs_left = {n: {j.name for j in plan.todo if j.figure.name == n}
                             for n in todo}
        self.failures: dict[str, str] = {}
        report = bld.build(lesson, self.out_dir, runner=self.runner, first=first,
                           check=self.check, on_event=self.on_event,
                           on_start=self.say, warn=self.say, data=data,
                           failed=failed)
        for line in bld.summary(report):
            self.say(line)
        self.settle(report)

    def note_edits(self, lesson: lsn.Lesson, changed: set[str]) -> None:
        """Date the figures this round's edits touched: they build first."""
        now = time.monotonic()
        for fig in lesson.figures:
            before = self.previous.get(fig.name)
            paths = {str(Path(v).resolve()) for p in registry.get(fig.scene).params
                     if p.kind == "path" and fig.values.get(p.name)
                     for v in _as_tuple(fig.values[p.name])}
            if before != fig or paths & changed:
                self.edits[fig.name] = now
        self.previous = {f.name: f for f in lesson.figures}

    def on_event(self, ev: bld.Event) -> None:
        self.say(bld.progress_line(ev))
        fig = self._figure_of(ev.name)
        if fig is None:
            return
        if ev.status == "started":
            self.hub.set_figure(fig, state="building", error=None)
            self.hub.publish()
            return
        left = self.outputs_left.get(fig)
        if left is None:
            return
        left.discard(ev.name)
        if ev.status == "failed":
            self.failures[fig] = ev.error or "failed"
        if ev.status == "cancelled":
            self.hub.set_figure(fig, state="cancelled", error=None)
            self.hub.publish()
        if not left:
            self._finish(fig)

    def _figure_of(self, output: str) -> str | None:
        for fig, f in self.previous.items():
            if any(o.name == output for o in f.outputs):
                return fig
        return None

    def _finish(self, fig: str) -> None:
        manifest = bld.read_manifest(self.out_dir, warn=lambda m: None)
        version = versions(manifest).get(fig, "")
        if fig in self.failures:
            self.hub.set_figure(fig, state="failed", error=self.failures[fig],
                                version=version)
        elif self.hub.figures.get(fig, {}).get("state") != "cancelled":
            self.hub.set_figure(fig, state="done", error=None, version=version)
        self.hub.publish()

    def settle(self, report: bld.Report) -> None:
        """After a build: every figure's state and version as the files are."""
        manifest = bld.read_manifest(self.out_dir, warn=lambda m: None)
        vers = versions(manifest)
        for name in self.hub.order:
            state = self.hub.figures.get(name, {}).get("state")
            if name in self.failures:
                continue
            if state in ("queued", "building", "cancelled"):
                state = "queued" if self.wake.is_set() else "done"
            self.hub.set_figure(name, state=state or "done", version=vers.get(name, ""))
        self.hub.publish()

    def check(self) -> set[str] | None:
        """Polled by the build: None to go on; after an edit, the keys the new
        lesson wants (renders of other keys are cancelled)."""
        if self.stopping.is_set() or self.restart:
            return set()
        if not self.wake.is_set():
            return None
        with self.lock:
            gen = self.generation
        if self.planned[0] == gen:
            return self.planned[1]
        try:
            lesson = self.source.load()
            plan = bld.make_plan(lesson, self.out_dir, warn=lambda m: None)
            keys = {j.key for j in plan.jobs}
        except Exception:  # a broken edit: let the renders finish; it shows next
            keys = None
        self.planned = (gen, keys)
        return keys


class WarmPool(bld.Pool):
    """`build.Pool` whose worker processes outlive each build (manim stays
    imported): an edit's render starts in milliseconds, not seconds."""

    def start(self, plan, todo) -> list[str]:
        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.workers = self.slots
            ctx = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                            initializer=bld._worker_init)
        return []

    def outcome(self, fut, plan, batch) -> dict:
        res = super().outcome(fut, plan, batch)
        if not res.get("ok") and "worker process died" in str(res.get("error")):
            self.pool = None  # broken: a fresh pool for the next build
        return res

    def close(self) -> None:  # kept for the next build
        pass

    def shutdown(self) -> None:
        if self.pool is not None:
            bld._stop(self.pool)
            self.pool = None


def _as_tuple(v) -> tuple:
    return v if isinstance(v, tuple) else (v,)


# ---------------------------------------------------------------------- watch
def watch_roots(source: Source, lesson: lsn.Lesson | None) -> tuple[set[Path], set[Path]]:
    """(files, code folders) whose changes rebuild: the lesson and the
    trajectories it names; the scene folders and, in a development checkout,
    the package and its scenes."""
    import neuroanim

    wanted: set[Path] = set()
    path = source.path or Path(lsn.LESSON_FILE)
    wanted.add(path.resolve())
    if lesson is not None:
        for fig in lesson.figures:
            spec = registry.get(fig.scene)
            for p in spec.params:
                if p.kind == "path" and fig.values.get(p.name):
                    wanted |= {Path(v).resolve() for v in _as_tuple(fig.values[p.name])}
    code = {Path(d).resolve() for d in registry.dirs()}
    package = Path(neuroanim.__file__).resolve().parent
    if bld._is_project(package / "__init__.py"):  # an editable checkout
        code.add(package)
        builtin = registry._builtin_dir()
        if builtin is not None:
            code.add(builtin.resolve())
    return wanted, code


def classify(changes, wanted: set[Path], code: set[Path]) -> tuple[set[str], bool]:
    """(changed files that matter, whether code changed) of a watchfiles batch."""
    hits, code_changed = set(), False
    for _, raw in changes:
        p = Path(raw).resolve()
        if p in wanted:
            hits.add(str(p))
        elif any(p.is_relative_to(root) for root in code) and (
                p.suffix in CODE_SUFFIXES or (p.suffix in ASSET_SUFFIXES
                                              and "interactive" in p.parts)):
            if "__pycache__" not in p.parts:
                hits.add(str(p))
                code_changed = True
    return hits, code_changed


# ---------------------------------------------------------------------- serve
def serve(source: Source, out_dir: Path, *, host: str = "127.0.0.1", port: int = 8000,
          jobs: int | None = None, open_browser: bool = True,
          say: Callable[[str], None] = print,
          announce: Callable[[str], None] = print) -> int:
    """Serve until Ctrl-C (or SIGTERM); 0 when stopped. A code edit restarts the
    process in place (`os.execv`), which never returns here."""
    import signal

    import watchfiles

    out_dir = Path(out_dir)
    try:
        first_lesson: lsn.Lesson | None = source.load()
    except lsn.LessonError:
        first_lesson = None  # served anyway: the page shows the problems
    if first_lesson is not None:
        say(f"serving {first_lesson.source} from {out_dir}"
            + (" (drafts)" if source.draft else ""))
    out_dir.mkdir(parents=True, exist_ok=True)
    hub = Hub()
    server = listen(host, port, out_dir, hub)
    real_port = server.server_address[1]
    url = f"http://{_url_host(host)}:{real_port}/"
    http_thread = threading.Thread(target=server.serve_forever, name="neuroanim-http",
                                   kwargs={"poll_interval": 0.2}, daemon=True)
    http_thread.start()
    builder = Builder(source, out_dir, hub, jobs, say)
    builder.start()
    builder.poke()
    if not os.environ.get(REEXEC):
        announce(f"serving {url}")
        if open_browser:
            _open(url)
    stop = threading.Event()

    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    wanted, code = watch_roots(source, first_lesson)
    roots = _existing_parents(wanted) | {c for c in code if c.is_dir()}
    restart = False
    try:
        for changes in watchfiles.watch(*sorted(roots), stop_event=stop,
                                        debounce=DEBOUNCE_MS, step=STEP_MS,
                                        rust_timeout=500, yield_on_timeout=True,
                                        raise_interrupt=True):
            if not changes:
                continue
            hits, code_changed = classify(changes, wanted, code)
            if not hits:
                continue
            names = ", ".join(sorted(Path(h).name for h in hits))
            if code_changed:
                say(f"changed: {names}; restarting with the new code")
                restart = True
                builder.poke(hits, code=True)
                break
            say(f"changed: {names}")
            builder.poke(hits)
            try:  # the lesson may name new trajectory files now
                wanted, code = watch_roots(source, source.load())
            except (UserError, SceneError):
                pass
            new_roots = _existing_parents(wanted) | {c for c in code if c.is_dir()}
            if not new_roots <= roots:
                roots |= new_roots
                break  # watch again with the new folders (below)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        builder.stop()
        builder.join(timeout=60)
        builder.runner.shutdown()
        hub.close()
        server.shutdown()
        server.server_close()
    if restart:
        _reexec(real_port)
    return 0


def _existing_parents(paths: set[Path]) -> set[Path]:
    out = set()
    for p in paths:
        d = p.parent
        while not d.is_dir() and d != d.parent:
            d = d.parent
        out.add(d)
    return out


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _open(url: str) -> None:
    import webbrowser

    if page.has_display():
        threading.Thread(target=lambda: webbrowser.open(url), daemon=True).start()


def _reexec(port: int) -> None:
    """Start this command again in this process, on the same port."""
    argv = list(sys.argv)
    args = argv[1:]
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--port":
            skip = True
            continue
        if a.startswith("--port="):
            continue
        out.append(a)
    os.environ[REEXEC] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    exe = sys.executable
    os.execv(exe, [exe, "-m", "neuroanim.cli", *out, "--port", str(port), "--no-open"])

