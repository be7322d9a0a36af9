"""Lesson builds on a Dask cluster: the jobs a build plans, rendered by its workers.

`neuroanim build --scheduler tcp://HOST:PORT` (or `local:N`, $NEUROANIM_SCHEDULER,
a lesson's `[build] scheduler`) hands `build.build` a `Dask` runner in place of
the local process pool. A job is plain values: the batch's task, the
trajectory files it replays as strict JSON, its outputs' keys, and the versions
that shape their bytes. A worker renders into a temporary folder of its own and
sends back the finished files' bytes and measurements: only the build's process
writes into the output folder (atomically), so no shared file system is needed.
The Dask task is named by its outputs' keys, so a job Dask reruns after a worker
died renders the same bytes. `distributed` is imported here only, and only by a
build that renders on a cluster.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import build, files, gif, registry, render
from . import trajectory as traj_io
from .errors import UserError
from .lesson import Lesson

ENV = "NEUROANIM_SCHEDULER"
INSTALL = "pip install 'neuroanim[dask]'"
LOCAL = re.compile(r"local(?::(\d+))?")
REMOTE = re.compile(r"(tcp|tls)://[^\s/]+:\d{1,5}")
CONNECT_TIMEOUT = 3  # seconds: an unreachable scheduler is an error, not a wait
FIRST_WORKER = 15  # seconds a scheduler may take to have a worker at the start
NO_WORKER = 120  # seconds with no worker at all mid-build: the cluster is lost
POLL = 0.5  # seconds between looks at the cluster while renders run


# ------------------------------------------------------------------ choosing
@dataclass(frozen=True)
class Where:
    """A Dask scheduler to build on, and where the build was told of it."""

    address: str  # "tcp://10.0.0.5:8786", or "local:N" for a LocalCluster
    source: str  # "--scheduler", "NEUROANIM_SCHEDULER" or the lesson's line

    @property
    def local(self) -> int | None:
        """Worker processes of a LocalCluster to start; None for a scheduler."""
        m = LOCAL.fullmatch(self.address)
        return int(m[1]) if m else None


def choose(given: str | None, lesson: Lesson) -> Where | None:
    """--scheduler, else $NEUROANIM_SCHEDULER, else the lesson's `[build] scheduler`.

    None (also for the value "none") is the local process pool. A value that is
    no scheduler address is a UserError naming where it came from.
    """
    env = os.environ.get(ENV, "").strip() or None
    told = [(v, where) for v, where in ((given, "--scheduler"), (env, ENV),
            (lesson.scheduler, f"{lesson.source}: [build] scheduler")) if v is not None]
    if not told:
        return None
    value, source = told[0][0].strip(), told[0][1]
    if value.lower() == "none":
        return None
    m = LOCAL.fullmatch(value)
    if m:
        n = int(m[1]) if m[1] else build.default_jobs()
        if not 1 <= n <= 256:
            raise UserError(f"{source}: local:{n} needs 1 to 256 worker processes")
        return Where(f"local:{n}", source)
    if REMOTE.fullmatch(value):
        return Where(value, source)
    raise UserError(f"{source}: {value!r} is not a Dask scheduler; give "
                    "tcp://HOST:PORT, local:N (a cluster of N processes here) or none")


def require(where: Where) -> None:
    """UserError in one line when `distributed` is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UserError(f"{where.source}: building on Dask needs the `distributed` "
                        f"package; install it with {INSTALL}") from None


# ------------------------------------------------------------- what decides
@cache
def encoders() -> dict[str, str]:
    """What shapes a worker's bytes besides the code: `build.versions()` plus the
    FFmpeg inside PyAV and the gifsicle on the PATH."""
    import av

    return {**build.versions(), "ffmpeg": str(av.ffmpeg_version_info),
            "gifsicle": gif.gifsicle_version()}


def facts(scene_dirs: list[str], imports: list[str],
          modules: list[list[str]]) -> dict:
    """Run on each worker before a build submits: its versions and the digest
    of the code of every module set the build's keys cover, or {"error": line}
    (a worker's exception would reach the client without its message)."""
    try:
        registry.use(scene_dirs)
        for name in imports:
            importlib.import_module(name)
        registry.scenes()  # makes the packages of scene folders importable by name
        return {"versions": encoders(),
                "code": {",".join(m): build.code_digest(m) for m in modules}}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {_brief(exc)}"}


def differences(worker: str, theirs: dict, ours: dict) -> str | None:
    """One line naming the first version or code that differs, or None."""
    for name, mine in ours["versions"].items():
        other = theirs["versions"].get(name, "missing")
        if other != mine:
            return (f"Dask worker {worker} has {name} {other} but this build has "
                    f"{name} {mine}: install the same versions on every worker, or "
                    "stop that worker")
    for mods, mine in ours["code"].items():
        if theirs["code"].get(mods) != mine:
            return (f"Dask worker {worker} runs other code for {mods.split(',')[0]} "
                    f"(digest {str(theirs['code'].get(mods))[:12]} but this build's "
                    f"is {mine[:12]}): give every worker the same neuroanim and scenes")
    return None


# ------------------------------------------------------------------- the job
def job(plan: build.Plan, batch: build.Batch) -> dict:
    """A batch as plain values a worker anywhere can render.

    Trajectory files travel as strict JSON (the worker has no access to ours);
    the digests of the data the plan keyed let the worker check it prepared
    the same runs.
    """
    task = build._task(plan, batch)
    fig = batch.figure
    spec = registry.get(fig.scene)
    replays: dict[str, str] = {}
    for p in spec.params:
        given = fig.values.get(p.name)
        if p.kind == "path" and given:
            for path in given if isinstance(given, tuple) else (given,):
                replays[str(path)] = traj_io.dumps(traj_io.load(path))
    task["outputs"] = [{**o, "path": Path(o["path"]).name} for o in task["outputs"]]
    task["digests"] = build.data_digests(plan.data[fig.name])
    return {"task": task, "trajectories": replays,
            "keys": [j.key for j in batch.jobs], "versions": encoders()}


def task_key(job: dict) -> str:
    """The Dask task's name: equal keys, equal bytes, so a rerun is harmless.

    The file names count too: two figures alike in all but name have equal keys.
    """
    names = [o["path"] for o in job["task"]["outputs"]]
    doc = json.dumps([names, job["keys"]]).encode()
    return "neuroanim-" + hashlib.sha256(doc).hexdigest()[:32]


_one_at_a_time = threading.Lock()  # manim's config is process-wide: one render


def render_job(job: dict) -> dict:
    """Render a job on a Dask worker; the finished files come back as bytes.

    Nothing is written outside a temporary folder of the worker's own, which
    is removed afterwards. A worker whose versions are not the build's renders
    nothing (it may have joined after the build checked the cluster).
    """
    from distributed import get_worker

    worker = get_worker().address
    ours = encoders()
    if ours != job["versions"]:
        line = differences(worker, {"versions": ours, "code": {}},
                           {"versions": job["versions"], "code": {}})
        return {"ok": False, "seconds": 0.0, "trace": None, "worker": worker,
                "error": line}
    with _one_at_a_time, tempfile.TemporaryDirectory(prefix="neuroanim-job-") as tmp:
        folder = Path(tmp)
        local = {}
        for i, (path, text) in enumerate(job["trajectories"].items()):
            local[path] = str(folder / f"trajectory-{i}.json")
            Path(local[path]).write_text(text, encoding="utf-8")
        task = dict(job["task"])
        task["values"] = {k: _swap(v, local) for k, v in task["values"].items()}
        task["outputs"] = [{**o, "path": str(folder / o["path"])}
                           for o in task["outputs"]]
        res = build.render_batch(task)
        if not res["ok"]:
            return {**res, "worker": worker}
        results = []
        for one in res["results"]:
            r = one["result"]
            extra = one["extra"] or {}
            names = [*(extra.get("captions") or {}).values(), extra.get("poster"),
                     Path(r.path).name]  # the output itself last
            results.append({
                "measure": {"fmt": r.fmt, "width": r.width, "height": r.height,
                            "fps": r.fps, "frames": r.frames, "duration": r.duration,
                            "seconds": r.seconds,
                            "captions": Path(r.captions).name if r.captions else None},
                "notes": one["notes"], "extra": extra,
                "files": {n: (folder / n).read_bytes() for n in names if n}})
    return {"ok": True, "seconds": res["seconds"], "cpu": res["cpu"],
            "worker": worker, "results": results}


def _swap(value, local: dict[str, str]):
    if isinstance(value, tuple | list):
        return type(value)(local.get(str(v), v) for v in value)
    return local.get(value, value) if isinstance(value, str) else value


def land(out_dir: Path, batch: build.Batch, res: dict) -> dict:
    """Write a finished job's files into `out_dir` (atomically, each output with
    its poster and captions together); `res` as `render_batch` gives it."""
    results = []
    for j, one in zip(batch.jobs, res["results"], strict=True):
        allowed = {j.name, *files.sidecars(j.name, j.output.fmt)}
        got = one["files"]
        if j.name not in got or not set(got) <= allowed or \
                one["measure"]["fmt"] != j.output.fmt:
            raise ValueError(f"a worker sent back {sorted(got)} for {j.name}")
        with tempfile.TemporaryDirectory(prefix="neuroanim-landing-") as tmp:
            pairs = []
            for name, data in got.items():
                src = Path(tmp) / name
                src.write_bytes(data)
                pairs.append((src, out_dir / name))
            files.place(pairs)
        m = one["measure"]
        result = render.RenderResult(
            out_dir / j.name, m["fmt"], len(got[j.name]), m["width"], m["height"],
            m["fps"], m["frames"], m["duration"],
            out_dir / m["captions"] if m["captions"] else None, m["seconds"])
        results.append({**one, "result": result, "files": None})
    return {**res, "results": results}


# ----------------------------------------------------------------- runner
# Dask's defaults for a LocalCluster's processes (and this build's client). Its
# event loops tick every 20 ms, monitor the system every 0.5 s and memory every
# 0.1 s, and workers sample their stacks every 10 ms: idle, two workers cost 15%
# of a core (3 CPU seconds in 20), 2% with these. Stealing has nothing to do
# when only as many jobs run as there are threads. The nanny's
# MALLOC_TRIM_THRESHOLD_ turns off glibc's adaptive mmap threshold: every frame
# buffer would be mapped and unmapped again (4x the page faults, ~10% of a
# render's time), so it is left unset.
QUIET = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.work-stealing": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


def local_cluster(distributed, n: int):
    """N worker processes here, one thread each, on loopback only (and `QUIET`).

    The nanny writes its variables into this process's environment too, which
    is put back as it was.
    """
    import dask

    before = dict(os.environ)
    try:
        with dask.config.set(QUIET):
            return distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)
    finally:
        os.environ.clear()
        os.environ.update(before)


class Dask(build.Runner):
    """A build's batches on a Dask cluster: a scheduler's, or a LocalCluster."""

    def __init__(self, where: Where):
        self.spot = where
        self.where = where.address
        self.client = None
        self.cluster = None
        self.slots = 0  # not started: the summary names no worker count
        self.quiet: dict[str, int] = {}
        self.no_worker_since: float | None = None
        self.finished = threading.Event()  # set by every future that finishes

    # --- starting
    def start(self, plan: build.Plan, todo: list[build.Job]) -> list[str]:
        require(self.spot)
        import dask
        import distributed

        self._hush()
        try:
            if self.spot.local is not None:
                self.cluster = local_cluster(distributed, self.spot.local)
            with dask.config.set(QUIET):
                self.client = self._connect(distributed, self.cluster)
            self._check(plan, todo)
        except BaseException:
            self.close()
            raise
        return [self._dashboard()]

    def _connect(self, distributed, cluster=None):
        """A client of `cluster` (a LocalCluster), else of the scheduler named."""
        where = self.spot
        try:
            client = distributed.Client(where.address if cluster is None else cluster,
                                        timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise UserError(f"{where.source}: cannot reach the Dask scheduler at "
                            f"{where.address} ({_brief(exc)}); start one with "
                            "`dask scheduler`, or check the address") from None
        try:
            client.wait_for_workers(1, timeout=FIRST_WORKER)
        except (OSError, TimeoutError):
            client.close()
            raise UserError(f"{where.source}: the Dask scheduler at {where.address} "
                            f"has no workers after {FIRST_WORKER} s; start some with "
                            f"`dask worker {where.address}`") from None
        return client

    def _check(self, plan: build.Plan, todo: list[build.Job]) -> None:
        """Refuse the cluster when a worker's versions or code are not ours."""
        imports, modules = set(), set()
        for j in todo:
            spec = registry.get(j.figure.scene)
            if spec.source.startswith("Python"):
                imports.add(spec.module)
            modules.add((spec.module, spec.draw_module, *build.PIPELINE,
                         *(build.GIF_PIPELINE if j.output.fmt == "gif" else ())))
        args = ([str(d) for d in registry.dirs()], sorted(imports),
                [list(m) for m in sorted(modules)])
        try:
            theirs = self.client.run(facts, *args)
        except Exception as exc:
            raise UserError(f"{self.spot.source}: cannot ask the Dask workers for "
                            f"their versions ({_brief(exc)})") from None
        ours = facts(*args)
        if "error" in ours:
            raise UserError(f"this build cannot load its own scenes ({ours['error']})")
        for worker, found in sorted(theirs.items()):
            if "error" in found:
                raise UserError(f"{self.spot.source}: Dask worker {worker} cannot load "
                                f"this lesson's scenes ({found['error']}); give every "
                                "worker the same neuroanim and scenes")
            line = differences(worker, found, ours)
            if line:
                raise UserError(f"{self.spot.source}: {line}")
        self.slots = max(1, sum(self.client.nthreads().values()))

    def _dashboard(self) -> str:
        info = self.client.scheduler_info()
        port = (info.get("services") or {}).get("dashboard")
        if not port:
            return "dashboard: none (the scheduler runs without one; pip install bokeh)"
        host = info["address"].split("://", 1)[-1].rsplit(":", 1)[0]
        return f"dashboard: http://{host}:{port}/status"

    def describe(self) -> str:
        workers = len(self.client.nthreads())
        address = self.cluster.scheduler_address if self.cluster else self.where
        return (f" on Dask {address} ({workers} worker{'s' if workers != 1 else ''}, "
                f"{self.slots} at once)")

    # --- running
    def submit(self, plan: build.Plan, batch: build.Batch):
        work = job(plan, batch)
        fut = self.client.submit(render_job, work, key=task_key(work), pure=False)
        fut.add_done_callback(lambda _: self.finished.set())
        return fut

    def wait(self, running: dict, timeout: float | None = None):
        """The finished futures, looking at the cluster every POLL seconds
        (none after `timeout` seconds)."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            self.finished.clear()
            done = {f for f in running if f.done()}  # cancelled too: see `outcome`
            if done or (end is not None and time.monotonic() >= end):
                return done
            self.finished.wait(POLL if end is None else
                               max(0.0, min(POLL, end - time.monotonic())))
            self._watch()

    def _watch(self) -> None:
        """Keep `slots` to the cluster's size; no worker for long means lost."""
        if self.client.status not in ("running", "newly-created"):
            raise build.Lost(self._lost())
        try:
            threads = sum(self.client.nthreads().values())
        except (OSError, TimeoutError):
            raise build.Lost(self._lost()) from None
        now = time.monotonic()
        if threads:
            self.slots, self.no_worker_since = threads, None
        elif self.no_worker_since is None:
            self.no_worker_since = now
        elif now - self.no_worker_since > NO_WORKER:
            raise build.Lost(f"left: the Dask scheduler at {self.where} had no "
                             f"workers for {NO_WORKER} s")

    def _lost(self) -> str:
        return f"left: lost the Dask scheduler at {self.where}"

    def outcome(self, fut, plan: build.Plan, batch: build.Batch) -> dict:
        from distributed import KilledWorker

        try:
            res = fut.result()
        except KilledWorker as exc:
            return {"ok": False, "seconds": 0.0, "trace": None,
                    "error": f"Dask workers died rendering it ({_brief(exc)})"}
        except Exception as exc:
            if fut.status == "cancelled" or self.client.status != "running":
                raise build.Lost(self._lost()) from None
            return {"ok": False, "seconds": 0.0, "trace": None,
                    "error": f"{type(exc).__name__}: {_brief(exc)}"}
        finally:
            fut.release()
        if not res["ok"]:
            return res
        try:
            return land(plan.out_dir, batch, res)
        except ValueError as exc:
            return {"ok": False, "seconds": res["seconds"], "trace": None,
                    "worker": res.get("worker"), "error": str(exc)}

    # --- ending
    def stop(self) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.close(timeout=CONNECT_TIMEOUT)
        with contextlib.suppress(Exception):
            if self.cluster is not None:
                self.cluster.close(timeout=CONNECT_TIMEOUT)
        self.client = self.cluster = None
        self._unhush()

    def _hush(self) -> None:
        """distributed logs each reconnection attempt with a traceback; the build
        says what happened in its own lines instead."""
        for name in ("distributed", "distributed.client", "distributed.worker",
                     "distributed.nanny", "distributed.scheduler", "tornado"):
            logger = logging.getLogger(name)
            self.quiet.setdefault(name, logger.level)
            logger.setLevel(logging.CRITICAL)

    def _unhush(self) -> None:
        for name, level in self.quiet.items():
            logging.getLogger(name).setLevel(level)
        self.quiet.clear()


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
