"""Lesson builds on Dask: a LocalCluster, a real scheduler and workers, their faults."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from neuroanim import build, cluster, core, lesson
from neuroanim import trajectory as tio
from neuroanim.cli import main
from tests import test_build

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
TINY = test_build.TINY  # the tiny lesson the local builds are tested on
GATE = '''
[[figure]]
name = "gate"
scene = "and-gate"
formats = ["png"]
options = { trajectory = "run.npz", grid = 16 }
'''
# For a `neuroanim build` process: a built-in scene, so no manim loads to say no.
BUILT_IN = '''
[[figure]]
name = "gate"
scene = "and-gate"
formats = ["png"]
resolution = "160x90"
options = { epochs = 50, grid = 16 }
'''


def neuroanim(tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    """Exit status and every line (stdout and stderr) of a `neuroanim` process."""
    exe = Path(sys.executable).parent / "neuroanim"
    res = subprocess.run([str(exe), *args], cwd=tmp_path, env=env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    return res.returncode, (res.stdout + res.stderr).strip().splitlines()


def three(seconds: float = 1.0) -> str:
    """Three one-video figures: three jobs, so a cluster has more than one to do."""
    return TINY.split("[[figure]]")[0] + "".join(
        f'\n[[figure]]\nname = "f{i}"\nscene = "tiny"\nformats = ["mp4"]\n'
        f'options = {{ seconds = {seconds + i / 10} }}\n' for i in range(3))


def write(folder: Path, text: str) -> Path:
    path = folder / "tiny.toml"
    path.write_text(text)
    return path


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def manifest(out: Path) -> dict:
    return json.loads((out / build.MANIFEST).read_text())["outputs"]


def leftovers(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.startswith(".")
            and p.name != build.LOCK]


def env(tmp_path: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT),
            "NEUROANIM_CACHE": str(tmp_path / "cache")}


@contextlib.contextmanager
def dask_cluster(tmp_path: Path, workers: int = 2, preload: Path | None = None):
    """A `dask scheduler` and `workers` `dask worker` processes on 127.0.0.1 at
    random ports: (address, {worker name: process}); all killed at the end."""
    exe = str(Path(sys.executable).parent / "dask")
    file = tmp_path / "scheduler.json"
    run = dict(cwd=ROOT, env=env(tmp_path), start_new_session=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen([exe, "scheduler", "--host", "127.0.0.1",
                                       "--port", "0", "--no-dashboard",
                                       "--scheduler-file", str(file)], **run))
        deadline = time.monotonic() + 60
        address = None
        while address is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, KeyError):
                address = json.loads(file.read_text())["address"]
            time.sleep(0.05)
        assert address, "the scheduler did not start"
        more = ["--preload", str(preload)] if preload else []
        named = {}
        for i in range(workers):
            named[f"w{i}"] = subprocess.Popen(
                [exe, "worker", address, "--name", f"w{i}", "--nworkers", "1",
                 "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                 "--no-dashboard", *more], **run)
            procs.append(named[f"w{i}"])
        with distributed.Client(address, timeout=10, set_as_default=False) as c:
            c.wait_for_workers(workers, timeout=60)
        yield address, named, procs[0]
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def on(address: str, source: str = "test") -> cluster.Dask:
    return cluster.Dask(cluster.Where(address, source))


# ------------------------------------------------------------ LocalCluster
@pytest.mark.render
def test_a_local_cluster_build_gives_the_bytes_and_keys_of_j1(tmp_path):
    run = core.train_neuron("AND", epochs=120, seed=3)
    tio.save(run, tmp_path / "run.npz")  # replayed: the worker gets it as JSON
    src = write(tmp_path, TINY + GATE)
    j1 = build.build(lesson.load(src), tmp_path / "j1", jobs=1)
    lines: list[str] = []
    dask = build.build(lesson.load(src), tmp_path / "dask", runner=on("local:2"),
                       on_start=lines.append)
    assert j1.ok and dask.ok, [e.error for e in (*j1.failed, *dask.failed)]
    assert lines[0].endswith("(2 workers, 2 at once)") and " on Dask tcp://127.0.0.1:" \
        in lines[0], lines
    assert lines[1].startswith("dashboard: "), "the dashboard's address, once"
    workers = {e.worker for e in dask.events}
    assert all(w.startswith("tcp://127.0.0.1:") for w in workers), workers
    assert "on tcp://127.0.0.1:" in build.progress_line(dask.events[0])
    assert "(Dask local:2, 2 worker threads)" in build.summary(dask)[0]
    a, b = manifest(tmp_path / "j1"), manifest(tmp_path / "dask")
    assert {k: v["key"] for k, v in a.items()} == {k: v["key"] for k, v in b.items()}
    names = {p.name for p in (tmp_path / "j1").iterdir()} - {build.LOCK}
    assert names == {p.name for p in (tmp_path / "dask").iterdir()} - {build.LOCK}
    for name in sorted(names - {"index.html", build.MANIFEST}):
        x, y = tmp_path / "j1" / name, tmp_path / "dask" / name
        if name.endswith(".webm"):  # webm may hold a random track id: the frames
            assert all(np.array_equal(p, q) for p, q in
                       zip(frames(x), frames(y), strict=True)), name
        else:
            assert x.read_bytes() == y.read_bytes(), f"{name} differs from -j 1"
    assert not leftovers(tmp_path / "dask"), "workers wrote nothing here"


# ------------------------------------------------------- a real scheduler
@pytest.mark.render
def test_a_worker_killed_mid_job_is_replaced_and_the_build_completes(tmp_path):
    src = write(tmp_path, three())
    with dask_cluster(tmp_path) as (address, workers, _):
        killed: list[str] = []

        def kill_the_first_busy_worker() -> None:
            with distributed.Client(address, timeout=10, set_as_default=False) as c:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    busy = [w for w, keys in c.processing().items() if keys]
                    # a worker can leave the scheduler between the two calls
                    info = c.scheduler_info()["workers"].get(busy[0]) if busy else None
                    if info is not None and info["name"] in workers:
                        os.killpg(workers[info["name"]].pid, signal.SIGKILL)  # mid-render
                        killed.append(busy[0])
                        return
                    time.sleep(0.02)

        killer = threading.Thread(target=kill_the_first_busy_worker)
        killer.start()
        try:
            report = build.build(lesson.load(src), tmp_path / "out", runner=on(address))
        finally:
            killer.join(timeout=70)
    assert killed, "no worker was killed mid-job"
    assert report.ok, [e.error for e in report.failed]
    assert {e.status for e in report.events} == {"done"}
    assert killed[0] not in {e.worker for e in report.events}, \
        "its job was rerun on the other worker"
    entries = manifest(tmp_path / "out")
    assert set(entries) == {"f0.mp4", "f1.mp4", "f2.mp4"}
    assert all(build.file_sha256(tmp_path / "out" / n) == e["sha256"]
               for n, e in entries.items())
    assert not leftovers(tmp_path / "out")


@pytest.mark.render
def test_a_lost_scheduler_keeps_what_finished_and_the_next_build_picks_up(tmp_path):
    src = write(tmp_path, three())
    out = tmp_path / "out"
    with dask_cluster(tmp_path, workers=1) as (address, _, scheduler):
        def kill_the_scheduler(ev: build.Event) -> None:
            if ev.status == "done" and scheduler.poll() is None:
                os.killpg(scheduler.pid, signal.SIGKILL)
                scheduler.wait()

        report = build.build(lesson.load(src), out, runner=on(address),
                             on_event=kill_the_scheduler)
    done = [e.name for e in report.events if e.status == "done"]
    assert done and report.left == 3 - len(done) > 0 and not report.ok
    assert set(manifest(out)) == set(done), "what finished stays in the manifest"
    lines = build.summary(report)
    assert any(x.startswith(f"{report.left} output") and "left unbuilt" in x
               for x in lines), lines
    again = build.build(lesson.load(src), out, jobs=1)
    assert again.ok and {e.name for e in again.events if e.status == "skipped"} \
        == set(done), "the next build renders only what was left"


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = write(tmp_path, BUILT_IN)
    t = time.monotonic()
    status, said = neuroanim(tmp_path, "build", str(src), "-o", str(tmp_path / "out"),
                             "--scheduler", f"tcp://127.0.0.1:{port}")
    assert status == 2 and len(said) == 1, said
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in said[0]
    assert time.monotonic() - t < cluster.CONNECT_TIMEOUT + 20
    assert not (tmp_path / "out" / build.MANIFEST).exists()


def test_a_worker_with_other_versions_is_refused_before_anything_runs(tmp_path):
    other = tmp_path / "other_manim.py"  # a worker with another manim installed
    other.write_text(  # (dask may load a preload twice: patch once)
        "from neuroanim import build\n"
        "real = build.__dict__.setdefault('real_versions', build.versions)\n"
        "build.versions = lambda: {**real(), 'manim': '0.18.0'}\n")
    src = write(tmp_path, BUILT_IN)
    with dask_cluster(tmp_path, workers=1, preload=other) as (address, _, _):
        status, said = neuroanim(tmp_path, "build", str(src), "-o",
                                 str(tmp_path / "out"), "--scheduler", address)
    mine = build.versions()["manim"]
    assert status == 2 and len(said) == 1, said
    assert "has manim 0.18.0 but this build has manim " + mine in said[0], said
    assert "tcp://127.0.0.1:" in said[0], "the worker is named"
    assert not (tmp_path / "out" / build.MANIFEST).exists()


# --------------------------------------------------------------- choosing
def test_the_scheduler_comes_from_the_flag_then_the_environment_then_the_lesson(
        monkeypatch):
    ls = lesson.loads(TINY + '\n[build]\nscheduler = "tcp://10.0.0.5:8786"\n', "l.toml")
    monkeypatch.delenv(cluster.ENV, raising=False)
    assert cluster.choose(None, ls) == cluster.Where("tcp://10.0.0.5:8786",
                                                     "l.toml: [build] scheduler")
    monkeypatch.setenv(cluster.ENV, "local:3")
    assert cluster.choose(None, ls) == cluster.Where("local:3", cluster.ENV)
    assert cluster.choose("none", ls) is None, "--scheduler none: the local pool"
    assert cluster.choose("local:2", ls).local == 2
    monkeypatch.delenv(cluster.ENV)
    assert cluster.choose(None, lesson.loads(TINY, "t.toml")) is None


def test_bad_scheduler_input_is_one_line_and_exit_2(tmp_path, monkeypatch):
    src = write(tmp_path, TINY)
    args = ["build", str(src), "-o", str(tmp_path / "out")]
    monkeypatch.setitem(sys.modules, "distributed", None)  # not installed
    cases = ((["--scheduler", "local:2"], "pip install 'neuroanim[dask]'"),
             (["--scheduler", "10.0.0.5"], "is not a Dask scheduler"),
             (["--scheduler", "local:0"], "1 to 256"),
             (["--scheduler", "local:2", "-j", "2"], "drop -j"))
    for extra, msg in cases:
        res = CliRunner().invoke(main, [*args, *extra])
        assert res.exit_code == 2 and msg in res.output, res.output
        assert res.output.count("\n") == 1, res.output
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")
