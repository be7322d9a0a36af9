"""Lesson files: the built-in lesson, `neuroanim init`, and every kind of problem."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from neuroanim import core, lesson, registry, render
from neuroanim import trajectory as tio
from neuroanim.cli import main

HEAD = '[defaults]\nresolution = "160x90"\nfps = 5\n'


def problems(text: str, source: str = "course.toml") -> list[str]:
    """The problem lines for `text`; fails the test if the text is accepted."""
    with pytest.raises(lesson.LessonError) as info:
        lesson.loads(text, source)
    lines = info.value.problems
    assert lines, "a LessonError must carry at least one problem line"
    assert str(info.value) == "\n".join(lines), "the message is the problem lines"
    return lines


# ------------------------------------------------------------- the built-in lesson
def test_default_lesson_covers_the_chapter():
    ls = lesson.default()
    by_scene = {}
    for f in ls.figures:
        by_scene.setdefault(f.scene, []).append(f)
    chapter = {"training-loop", "loss-and-epochs", "gradient-descent", "and-gate"}
    assert set(by_scene) == chapter, (
        f"the chapter's lesson should use its four scenes, got {sorted(by_scene)}")
    ball = [f for f in by_scene["gradient-descent"] if f.options == {"lr": [0.5]}]
    assert len(ball) == 1 and ball[0].formats == ("gif", "interactive"), (
        "the lesson's 'crank it up to 0.5' clip must be one GIF figure with lr 0.5, "
        "and its interactive twin")
    assert any(f.options == {} for f in by_scene["gradient-descent"]), (
        "the ball at several learning rates (the default presets) must be a figure")
    gate = [f for f in by_scene["and-gate"] if f.values["gate"] == "AND"]
    assert gate and set(gate[0].formats) == {"mp4", "gif", "png", "interactive"}, (
        "the AND gate must come as mp4, gif, a png still and its interactive twin")
    rates = [f for f in by_scene["gradient-descent"] if f.options == {}]
    assert "interactive" in rates[0].formats, "Drop the Ball's twin: the four rates"
    assert any(f.values["gate"] == "XOR" for f in by_scene["and-gate"]), "XOR teaser"
    for f in ls.figures:
        assert f.quality == "l" and f.gif_budget == 2_000_000, f.name  # every GIF
        if "mp4" in f.formats:
            assert "webm" in f.formats or "gif" in f.formats, (
                f"{f.name}: a video for the web should come with a second format")
    names = [o.name for f in ls.figures for o in f.outputs]
    assert len(names) == len(set(names)), "output names must be unique"


def test_init_writes_the_built_in_lesson(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["init"])
    assert res.exit_code == 0, res.output
    written = tmp_path / "lesson.toml"
    text = written.read_text()
    assert text == lesson.DEFAULT_TOML, "init writes exactly the built-in lesson"
    assert text.count("\n#") >= 5, "the starting lesson explains itself in comments"
    assert lesson.load(written).figures == lesson.default().figures, (
        "building the written file must build the same figures as the built-in")
    again = runner.invoke(main, ["init"])
    assert again.exit_code == 2 and "already exists" in again.output, again.output
    written.write_text("# mine\n")
    assert runner.invoke(main, ["init", "--force"]).exit_code == 0
    assert written.read_text() == lesson.DEFAULT_TOML, "--force overwrites"
    sub = tmp_path / "course"
    sub.mkdir()
    assert runner.invoke(main, ["init", str(sub)]).exit_code == 0
    assert (sub / "lesson.toml").is_file(), "a folder gets lesson.toml inside it"
    bad = runner.invoke(main, ["init", str(tmp_path / "nope" / "x.toml")])
    assert bad.exit_code == 2 and "does not exist" in bad.output, bad.output


def test_defaults_apply_and_figures_override():
    ls = lesson.loads(HEAD + '''
[[figure]]
name = "ball"
scene = "gradient-descent"
formats = ["gif", "png"]
themes = ["dark", "light"]
gif_budget = "800 KB"
options = { lr = 0.5, steps = 12 }

[[figure]]
name = "gate"
scene = "and-gate"
quality = "m"
fps = 10
''')
    ball, gate = ls.figures
    assert [o.name for o in ball.outputs] == [
        "ball.gif", "ball-light.gif", "ball.png", "ball-light.png"]
    assert ball.gif_budget == 800_000, "decimal units, as size budgets are quoted"
    assert ball.values["lr"] == (0.5,) and ball.values["steps"] == 12
    assert ball.options == {"lr": [0.5], "steps": 12}, (
        "options lists the values that differ from the scene's defaults, as JSON")
    assert {(o.width, o.height, o.fps) for o in ball.outputs} == {(160, 90, 5.0)}
    assert gate.outputs[0].name == "gate.720p.mp4", (
        "formats default to mp4 (dark); quality m is in the name")
    assert (gate.outputs[0].width, gate.outputs[0].fps) == (160, 10.0), (
        "the lesson's resolution wins over quality m's 1280x720")


def test_trajectory_paths_resolve_against_the_lesson_folder(tmp_path):
    (tmp_path / "runs").mkdir()
    run = core.train_neuron("OR", epochs=50)
    tio.save(run, tmp_path / "runs" / "or.json")
    (tmp_path / "lesson.toml").write_text(
        '[[figure]]\nname = "or"\nscene = "and-gate"\n'
        'options = { trajectory = "runs/or.json" }\n')
    other = tmp_path / "elsewhere"
    other.mkdir()
    ls = lesson.load(tmp_path / "lesson.toml")
    fig = ls.figures[0]
    assert Path(fig.values["trajectory"]) == tmp_path / "runs" / "or.json"
    assert fig.options == {"trajectory": "runs/or.json"}, (
        "the manifest shows the path as written, so moving the folder changes nothing")
    data = registry.get("and-gate").prepare(fig.values)
    assert data.run.gate == "OR" and data.run.epochs == 50


# ------------------------------------------------------------------- problems
BAD = [
    ("toml", 'name = "x\n', ["course.toml: not valid TOML"]),
    ("top key", 'figures = 1\n' + HEAD + '[[figure]]\nname="a"\nscene="and-gate"\n',
     ["course.toml: figures: unknown key"]),
    ("no figures", HEAD, ["course.toml: figure: the lesson has no figures"]),
    ("scene", '[[figure]]\nname = "a"\nscene = "and-gates"\n',
     ["course.toml: figure 'a': scene: unknown scene 'and-gates'"]),
    ("missing scene", '[[figure]]\nname = "a"\n',
     ["course.toml: figure 'a': scene: is missing"]),
    ("missing name", '[[figure]]\nscene = "and-gate"\n',
     ["course.toml: figure #1: has no name"]),
    ("option", '[[figure]]\nname = "a"\nscene = "and-gate"\noptions = { speed = 2 }\n',
     ["course.toml: figure 'a': options.speed: unknown option for and-gate"]),
    ("value", '[[figure]]\nname = "a"\nscene = "and-gate"\noptions = { lr = "fast" }\n',
     ["course.toml: figure 'a': options.lr: 'fast' is not a number"]),
    ("range", '[[figure]]\nname = "a"\nscene = "and-gate"\noptions = { epochs = 0 }\n',
     ["course.toml: figure 'a': options.epochs: 0 is out of range"]),
    ("choice", '[[figure]]\nname = "a"\nscene = "and-gate"\noptions = { gate = "XNOR" }\n',
     ["course.toml: figure 'a': options.gate: 'XNOR' is not one of"]),
    ("format", '[[figure]]\nname = "a"\nscene = "and-gate"\nformats = ["mp4", "avi"]\n',
     ["course.toml: figure 'a': formats: 'avi' is not one of mp4"]),
    ("theme", '[[figure]]\nname = "a"\nscene = "and-gate"\nthemes = ["sepia"]\n',
     ["course.toml: figure 'a': themes: 'sepia' is not one of dark, light"]),
    ("quality", '[defaults]\nquality = "x"\n[[figure]]\nname = "a"\nscene = "and-gate"\n',
     ["course.toml: defaults: quality: 'x' is not one of l, m, h, k"]),
    ("gif fps", '[[figure]]\nname = "a"\nscene = "and-gate"\nformats = ["gif"]\n'
     'fps = 60\n', ["course.toml: figure 'a': fps: 60 is too fast for a GIF"]),
    ("resolution", '[[figure]]\nname = "a"\nscene = "and-gate"\nresolution = "853x480"\n',
     ["course.toml: figure 'a': resolution: '853x480' must have an even width"]),
    ("budget", '[[figure]]\nname = "a"\nscene = "and-gate"\ngif_budget = "lots"\n',
     ["course.toml: figure 'a': gif_budget: 'lots' is not a size"]),
    ("figure key", '[[figure]]\nname = "a"\nscene = "and-gate"\nformat = "gif"\n',
     ["course.toml: figure 'a': format: unknown key"]),
    ("duplicate", '[[figure]]\nname = "a"\nscene = "and-gate"\n'
     '[[figure]]\nname = "a"\nscene = "gradient-descent"\n',
     ["course.toml: figure 'a': name: duplicate name (also figure #1)"]),
    ("parent", '[[figure]]\nname = "../site/a"\nscene = "and-gate"\n',
     ["course.toml: figure '../site/a': name: '../site/a' would write outside"]),
    ("absolute", '[[figure]]\nname = "/tmp/a"\nscene = "and-gate"\n',
     ["course.toml: figure '/tmp/a': name: '/tmp/a' would write outside"]),
    ("subfolder", '[[figure]]\nname = "a/b"\nscene = "and-gate"\n',
     ["course.toml: figure 'a/b': name: 'a/b' must be a plain file name"]),
    ("hidden", '[[figure]]\nname = ".a"\nscene = "and-gate"\n',
     ["course.toml: figure '.a': name: '.a' must start with a letter or digit"]),
    ("same file", '[[figure]]\nname = "a"\nscene = "and-gate"\nthemes = ["light"]\n'
     '[[figure]]\nname = "a-light"\nscene = "and-gate"\n',
     ["course.toml: figure 'a-light': name: writes a-light.mp4, which figure 'a'"]),
]


@pytest.mark.parametrize("text,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_each_kind_of_problem_is_one_line_naming_file_figure_and_field(text, expected):
    lines = problems(text)
    assert len(lines) == len(expected), f"expected one line per problem, got {lines}"
    for line, want in zip(lines, expected, strict=True):
        assert line.startswith(want), f"{line!r} should start with {want!r}"
        assert "\n" not in line


def test_every_problem_is_reported_at_once():
    lines = problems('''
[defaults]
formats = ["mp4", "flv"]
[[figure]]
name = "a"
scene = "gradient-descent"
options = { lr = ["x", 0.5], steps = -1, colour = "red" }
[[figure]]
name = "a"
scene = "nope"
''')
    wanted = ["defaults: formats", "figure 'a': options.lr", "figure 'a': options.steps",
              "figure 'a': options.colour", "figure 'a': name: duplicate",
              "figure 'a': scene: unknown scene"]
    for w in wanted:
        assert any(w in line for line in lines), f"no line about {w!r} in {lines}"
    assert len(lines) == len(wanted), f"one line per problem: {lines}"


def test_bad_lesson_file_exits_2_and_renders_nothing(tmp_path):
    bad = tmp_path / "course.toml"
    bad.write_text('[[figure]]\nname = "../a"\nscene = "and-gate"\n'
                   '[[figure]]\nname = "b"\nscene = "and-gate"\noptions = { lr = -1 }\n')
    out = tmp_path / "renders"
    res = CliRunner().invoke(main, ["build", str(bad), "-o", str(out)])
    assert res.exit_code == 2, res.output
    errors = [x for x in res.output.splitlines() if x.startswith("Error: ")]
    assert len(errors) == 2, f"one Error line per problem: {res.output!r}"
    assert all(str(bad) in e for e in errors), "each line names the file"
    assert "Traceback" not in res.output
    assert not out.exists(), "nothing is created for an invalid lesson"


def test_missing_file_and_bad_trajectory_are_lesson_errors(tmp_path):
    res = CliRunner().invoke(main, ["build", str(tmp_path / "none.toml"),
                                    "-o", str(tmp_path / "r")])
    assert res.exit_code == 2 and "no such lesson file" in res.output, res.output
    f = tmp_path / "l.toml"
    f.write_text('[[figure]]\nname = "g"\nscene = "and-gate"\n'
                 'options = { trajectory = "missing.json" }\n')
    res = CliRunner().invoke(main, ["build", str(f), "-o", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    assert f"{f}: figure 'g': options:" in res.output and "missing.json" in res.output
    assert not (tmp_path / "r").exists()


def test_init_text_is_the_toml_the_docs_describe():
    doc = tomllib.loads(lesson.DEFAULT_TOML)
    assert set(doc) <= set(lesson.TOP_KEYS)
    for fig in doc["figure"]:
        assert set(fig) <= set(lesson.FIGURE_KEYS), fig
        for fmt in fig.get("formats", doc["defaults"]["formats"]):
            assert fmt in render.FORMATS
