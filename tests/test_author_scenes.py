"""Authors' own scenes: the starter from `new-scene`, scene folders beside a
lesson, plug-ins through entry points, one-line errors from an author's code,
and the wheel rendering from an empty folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import av
import pytest
from click.testing import CliRunner
from PIL import Image

from neuroanim import registry
from neuroanim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--resolution", "320x180", "--fps", "5"]
TINY_DEFAULTS = '[defaults]\nresolution = "320x180"\nfps = 5\nformats = ["png"]\n'
GATE = '''
[[figure]]
name = "gate"
scene = "and-gate"
options = { epochs = 30, grid = 8 }
'''


@pytest.fixture(autouse=True)
def _forget_scene_folders():
    """Each CLI run points the registry at its own folders: forget them after."""
    yield
    registry.use(())


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


def env_with(*paths: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), env.get("PYTHONPATH", "")])
    return env


def neuroanim(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120):
    return subprocess.run([sys.executable, "-m", "neuroanim.cli", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def card(name: str, module: str, prepare_body: str = "return {}") -> str:
    """A minimal card; `prepare_body` is line 9 of the file (errors point there)."""
    return (
        "from neuroanim.spec import SceneSpec\n"
        "\n"
        "\n"
        "def alt(data):\n"
        "    return 'a dot'\n"
        "\n"
        "\n"
        "def prepare(values):\n"
        f"    {prepare_body}\n"
        "\n"
        "\n"
        f"SCENE = SceneSpec(name={name!r}, description='A dot.', params=(),\n"
        f"                  prepare=prepare, draw='{module}_draw:Dot', alt=alt)\n"
    )


def drawing(name: str, construct_body: str = "self.add(Circle())") -> str:
    """A minimal drawing; `construct_body` is line 8 of the file."""
    return (
        "from manim import Circle\n"
        "from neuroanim.draw import NeuroScene\n"
        "\n"
        "\n"
        "class Dot(NeuroScene):\n"
        f"    spec_name = {name!r}\n"
        "    def construct(self):\n"
        f"        {construct_body}\n"
    )


def frame_count(path: Path) -> int:
    with av.open(str(path)) as box:
        return sum(1 for _ in box.decode(video=0))


# ------------------------------------------------------------------ new-scene
def test_new_scene_writes_two_files_and_says_how_to_use_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = cli("new-scene", "my-scene")
    assert res.exit_code == 0, res.output
    assert {p.name for p in (tmp_path / "scenes").iterdir()} == {
        "my_scene.py", "my_scene_draw.py"}
    assert "neuroanim render my-scene" in res.output
    assert 'scene = "my-scene"' in res.output, "the lesson snippet"
    card_text = (tmp_path / "scenes" / "my_scene.py").read_text()
    assert "manim" not in card_text.replace("No manim", ""), "the card stays manim-free"
    assert 'draw="my_scene_draw:MyScene"' in card_text
    assert "class MyScene(NeuroScene)" in (tmp_path / "scenes" / "my_scene_draw.py"
                                           ).read_text()
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():  # the starter is clean code to copy from, by our own rules
        res = subprocess.run([ruff, "check", "--isolated", "--line-length", "88",
                              "--select", "E,F,W,I,B,UP", "scenes"],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stdout


@pytest.mark.parametrize("name", ["My Scene", "3d", "my--scene", "class", "x_draw",
                                  "é"])
def test_new_scene_refuses_a_bad_name_in_one_line(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    res = cli("new-scene", name)
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and res.output.startswith("Error: NAME:"), \
        res.output
    assert not (tmp_path / "scenes").exists()


def test_new_scene_refuses_an_existing_file_or_scene_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    theirs = write(tmp_path / "scenes" / "taken_draw.py", "# someone's drawing\n")
    res = cli("new-scene", "taken")
    assert res.exit_code == 2 and "taken_draw.py already exists" in res.output
    assert theirs.read_text() == "# someone's drawing\n"
    assert not (tmp_path / "scenes" / "taken.py").exists(), "nothing half-written"
    res = cli("new-scene", "and-gate")
    assert res.exit_code == 2 and "exists already (built-in)" in res.output
    assert res.output.count("\n") == 1


@pytest.mark.render
def test_the_starter_scene_renders_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("new-scene", "my-scene").exit_code == 0
    res = cli("list")
    assert res.exit_code == 0
    assert "my-scene  A neuron learns AND" in res.output
    assert str(tmp_path / "scenes" / "my_scene.py") in res.output, "where it comes from"
    res = cli("render", "my-scene", "-f", "png", *TINY, "-o", "still.png")
    assert res.exit_code == 0, res.output
    with Image.open(tmp_path / "still.png") as im:
        assert im.size == (320, 180)
        assert im.convert("L").getextrema()[1] > 100, "something is drawn"
    res = cli("render", "my-scene", "--lr", "5", "-f", "mp4", *TINY, "-o", "clip.mp4")
    assert res.exit_code == 0, res.output
    assert "learning rate 5" in res.output, "the alt text reads the option's run"
    assert frame_count(tmp_path / "clip.mp4") >= 5 * 4, "the 4 s of training at 5 fps"
    srt = (tmp_path / "clip.srt").read_text()
    assert "the loss falls" in srt and "After 300 epochs the loss is" in srt


# --------------------------------------------------------------- the tutorial
@pytest.mark.render
def test_the_tutorial_lesson_builds_with_its_own_scene(tmp_path):
    text = (ROOT / "examples" / "lesson.toml").read_text()
    assert 'resolution = "854x480"' in text
    src = tmp_path / "lesson.toml"
    src.write_text(text.replace('resolution = "854x480"',
                                'resolution = "320x180"\nfps = 5'))
    shutil.copytree(ROOT / "examples" / "scenes", tmp_path / "scenes")
    res = neuroanim("build", "lesson.toml", "-o", "out", "-j", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(doc["outputs"]) == {"lr-race.mp4", "lr-race.png", "lr-race-slow.png",
                                   "ball-lr-0.5.png"}
    race = doc["outputs"]["lr-race.mp4"]
    assert "learning rates 0.5, 2 and 8" in race["alt"]
    assert "rates 0.1 and 0.5" in doc["outputs"]["lr-race-slow.png"]["alt"]
    assert frame_count(tmp_path / "out" / "lr-race.mp4") >= 5 * 5


# ------------------------------------------------------------ lesson folders
def build_twice_until_quiet(src: Path, out: Path) -> dict:
    """Build, then build again until nothing re-renders (someone editing the
    package meanwhile changes every key: go again); the last run's lines."""
    for _ in range(3):
        res = neuroanim("build", src.name, "-o", str(out), cwd=src.parent)
        assert res.returncode == 0, res.stdout + res.stderr
        lines = outcome(res.stdout)
        if set(lines.values()) == {"skipped"}:
            return lines
    raise AssertionError(f"rebuilds kept rendering: {res.stdout}")


def outcome(stdout: str) -> dict[str, str]:
    """{output name: done|skipped|failed} from a build's progress lines."""
    return {line.split()[2]: line.split()[1] for line in stdout.splitlines()
            if line.startswith("[")}


@pytest.mark.render
def test_a_scene_beside_the_lesson_builds_and_an_edit_rerenders_only_it(tmp_path):
    write(tmp_path / "scenes" / "dot.py", card("dot", "dot"))
    write(tmp_path / "scenes" / "dot_draw.py", drawing("dot"))
    src = write(tmp_path / "lesson.toml", TINY_DEFAULTS + '''
        [[figure]]
        name = "mine"
        scene = "dot"
    ''' + GATE)
    res = neuroanim("build", "lesson.toml", "-o", "out", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert outcome(res.stdout) == {"mine.png": "done", "gate.png": "done"}
    build_twice_until_quiet(src, tmp_path / "out")
    draw = tmp_path / "scenes" / "dot_draw.py"
    draw.write_text(draw.read_text().replace("Circle()", "Circle(radius=2)"))
    res = neuroanim("build", "lesson.toml", "-o", "out", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert outcome(res.stdout) == {"mine.png": "done", "gate.png": "skipped"}, \
        res.stdout
    assert "mine.png" in res.stdout and "(changed: scene code)" in res.stdout


@pytest.mark.render
def test_a_noop_build_of_a_lesson_with_an_author_scene_imports_no_manim(tmp_path):
    write(tmp_path / "scenes" / "dot.py", card("dot", "dot"))
    write(tmp_path / "scenes" / "dot_draw.py", drawing("dot"))
    src = write(tmp_path / "lesson.toml", TINY_DEFAULTS + '''
        [[figure]]
        name = "mine"
        scene = "dot"
    ''')
    build_twice_until_quiet(src, tmp_path / "out")
    probe = textwrap.dedent("""
        import json, sys
        from neuroanim.cli import main
        try:
            main(["build", "lesson.toml", "-o", "out"])
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({"code": code, "manim": sorted(
            m for m in sys.modules if m.split(".")[0] == "manim")}))
    """)
    res = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    got = json.loads(res.stdout.splitlines()[-1])
    assert got["code"] == 0, res.stdout + res.stderr
    assert outcome(res.stdout) == {"mine.png": "skipped"}, res.stdout
    assert got["manim"] == [], f"a no-op build imported {got['manim'][:3]}"


# ------------------------------------------------------------- entry points
PLUGIN_CARD = '''
from neuroanim.spec import SceneSpec

SCENE = SceneSpec(name="plug-dot", description="A dot from a plug-in.", params=(),
                  prepare=lambda values: {}, draw="plug_draw:Dot",
                  alt=lambda data: "a plug-in dot")
AS_OBJECT = SceneSpec(name="plug-object", description="A spec object.", params=(),
                      prepare=lambda values: {}, draw="plug_draw:Dot")
'''


def make_plugin(site: Path) -> None:
    """Installed packages whose entry points name a module with SCENE, a
    SceneSpec object and a package with SCENE in its `__init__` (what pip
    leaves in site-packages)."""
    write(site / "plugdots" / "__init__.py", "")
    write(site / "plugdots" / "cards.py", PLUGIN_CARD)
    write(site / "plugdots" / "plug_draw.py", drawing("plug-dot"))
    write(site / "plugpkg" / "__init__.py", card("plug-pkg", "plug"))
    write(site / "plugpkg" / "plug_draw.py", drawing("plug-pkg"))
    info = site / "plugdots-0.1.dist-info"
    write(info / "METADATA", "Metadata-Version: 2.1\nName: plugdots\nVersion: 0.1\n")
    write(info / "entry_points.txt", """
        [neuroanim.scenes]
        plug-dot = plugdots.cards
        plug-object = plugdots.cards:AS_OBJECT
        plug-pkg = plugpkg
    """)


@pytest.mark.render
def test_an_entry_point_scene_is_listed_with_its_origin_and_renders(tmp_path):
    make_plugin(tmp_path / "site")
    env = env_with(tmp_path / "site")
    work = tmp_path / "work"
    work.mkdir()
    res = neuroanim("list", cwd=work, env=env)
    assert res.returncode == 0, res.stderr
    assert "plug-dot  A dot from a plug-in.  [entry point plug-dot (plugdots.cards)]" \
        in res.stdout
    assert "plug-object  A spec object.  [entry point plug-object " \
           "(plugdots.cards:AS_OBJECT)]" in res.stdout
    assert "plug-pkg  A dot.  [entry point plug-pkg (plugpkg)]" in res.stdout
    for scene, alt in (("plug-dot", "a plug-in dot"), ("plug-pkg", "a dot")):
        res = neuroanim("render", scene, "-f", "png", *TINY, "-o", f"{scene}.png",
                        cwd=work, env=env)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"alt text: {alt}" in res.stdout
        with Image.open(work / f"{scene}.png") as im:
            assert im.size == (320, 180)


def test_a_name_defined_twice_is_one_error_naming_both_places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = write(tmp_path / "a" / "twin.py", card("twin", "twin"))
    b = write(tmp_path / "b" / "other.py", card("twin", "other"))
    res = cli("list", "--scenes", "a", "--scenes", "b")
    assert res.exit_code == 2
    assert res.output.count("\n") == 1, res.output
    assert f"in {a} and in {b}" in res.output
    write(tmp_path / "scenes" / "gate.py", card("and-gate", "gate"))
    res = cli("render", "and-gate", "--help")
    assert res.exit_code == 2
    assert "'and-gate' is defined twice: in built-in and in " \
           f"{tmp_path / 'scenes' / 'gate.py'}" in res.output


# ------------------------------------------------------------------ errors
def failing_scenes(folder: Path) -> None:
    """`bad-prep` raises in prepare (card line 9), `bad-construct` in construct
    (drawing line 8)."""
    write(folder / "bad_prep.py",
          card("bad-prep", "bad_prep", "raise ValueError('no data here')"))
    write(folder / "bad_prep_draw.py", drawing("bad-prep"))
    write(folder / "bad_construct.py", card("bad-construct", "bad_construct"))
    write(folder / "bad_construct_draw.py",
          drawing("bad-construct", "raise KeyError('missing word')"))


@pytest.mark.render
@pytest.mark.parametrize(("scene", "where", "what"), [
    ("bad-prep", "bad_prep.py:9", "ValueError: no data here"),
    ("bad-construct", "bad_construct_draw.py:8", "KeyError: 'missing word'"),
])
def test_an_author_scene_that_raises_is_one_line_naming_file_and_line(
        tmp_path, monkeypatch, scene, where, what):
    monkeypatch.chdir(tmp_path)
    failing_scenes(tmp_path / "scenes")
    res = cli("render", scene, "-f", "png", *TINY, "-o", "x.png")
    assert res.exit_code == 1, res.output
    assert res.output.count("\n") == 1, res.output
    assert f"{tmp_path / 'scenes' / where}: {what}" in res.output
    assert not (tmp_path / "x.png").exists()


@pytest.mark.render
def test_in_a_build_author_errors_fail_their_figures_and_the_others_build(tmp_path):
    failing_scenes(tmp_path / "scenes")
    write(tmp_path / "lesson.toml", TINY_DEFAULTS + '''
        [[figure]]
        name = "prep"
        scene = "bad-prep"

        [[figure]]
        name = "draw"
        scene = "bad-construct"
    ''' + GATE)
    res = neuroanim("build", "lesson.toml", "-o", "out", cwd=tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert outcome(res.stdout) == {"prep.png": "failed", "draw.png": "failed",
                                   "gate.png": "done"}, res.stdout
    assert "bad_prep.py:9: ValueError: no data here" in res.stdout
    assert "bad_construct_draw.py:8: KeyError: 'missing word'" in res.stdout
    assert (tmp_path / "out" / "gate.png").is_file()


# ------------------------------------------------------------------ the wheel
@pytest.mark.render
def test_the_wheel_in_a_fresh_venv_renders_from_an_empty_folder(tmp_path):
    src = tmp_path / "src"  # a copy: building leaves build/ beside the sources
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for part in ("neuroanim", "scenes"):
        shutil.copytree(ROOT / part, src / part, ignore=skip)
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, src / part)
    dist = tmp_path / "dist"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                          "--no-build-isolation", "-w", str(dist), str(src)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    wheel, = dist.glob("neuroanim-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.check_output([py, "-c", purelib], text=True).strip())
    ours = Path(subprocess.check_output([sys.executable, "-c", purelib],
                                        text=True).strip())
    (site / "_deps.pth").write_text(f"{ours}\n")  # manim & co. without downloads
    res = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert not (site / "scenes").exists(), "no top-level `scenes` package"
    assert (site / "neuroanim" / "scenes" / "and_gate.py").is_file()
    assert (site / "neuroanim" / "page_assets" / "page.css").is_file()
    assert {p.name for p in (site / "neuroanim" / "templates").iterdir()} >= {
        "card.py.txt", "draw.py.txt"}

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    exe = str(env_dir / "bin" / "neuroanim")
    res = subprocess.run([exe, "render", "and-gate", "-f", "png", *TINY, "-o",
                          "x.png"], cwd=empty, env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    with Image.open(empty / "x.png") as im:
        assert im.size == (320, 180)
    where = subprocess.check_output(
        [py, "-c", "import neuroanim; print(neuroanim.__file__)"], cwd=empty,
        env=env, text=True).strip()
    assert Path(where).is_relative_to(site), f"imported {where}, not the wheel"
    # The wheel's own starter scene renders too (its templates are package data).
    res = subprocess.run([exe, "new-scene", "mine"], cwd=empty, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run([exe, "render", "mine", "-f", "png", *TINY, "-o", "m.png"],
                         cwd=empty, env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (empty / "m.png").is_file()
