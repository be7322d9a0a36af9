"""The loss-and-epochs scene: squared gaps, their mean, laps, captions, renders."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from manim import tempconfig
from manim.utils.testing.frames_comparison import frames_comparison
from PIL import Image

from neuroanim import theme
from neuroanim.render import render
from scenes import loss_and_epochs as le
from scenes.loss_and_epochs import LossAndEpochs
from tests.test_scene_training_loop import (
    decimal_text,
    layout_problems,
    parse_srt,
    shown_value,
)

__module_test__ = "test_scene_loss_and_epochs"
ROOT = Path(__file__).resolve().parents[1]
TINY = {"resolution": "160x90", "fps": 5}
OPENINGS = ("Loss for one example", "The gap, squared", "Each of the four",
            "Their average is the loss", "One epoch", "Many epochs")


class Checked(LossAndEpochs):
    """The scene, checking text layout after every play (each play's end state)."""

    def play(self, *args, **kwargs):
        super().play(*args, **kwargs)
        self.problems.extend(layout_problems(self, f"t={self.time:.1f}"))


def build(params: dict | None, media: Path, theme_name: str = "dark") -> Checked:
    before = theme._current
    theme.use(theme_name)
    cfg = {"pixel_width": 854, "pixel_height": 480, "frame_height": 8.0,
           "frame_width": 8.0 * 854 / 480, "frame_rate": 5, "dry_run": True,
           "disable_caching": True, "verbosity": "ERROR", "progress_bar": "none",
           "media_dir": str(media)}  # text SVGs per test: workers must not share
    try:
        with tempconfig(cfg):
            scene = Checked(params=params, skip_animations=True)
            scene.problems = []
            scene.render()
    finally:
        theme._current = before
    return scene


def predictions(run, k: int) -> np.ndarray:
    """The four outputs at epoch k, worked out from the recorded weights."""
    return 1.0 / (1.0 + np.exp(-(run.inputs @ run.w[k] + run.b[k])))


@pytest.fixture(scope="module")
def default_scene(tmp_path_factory) -> Checked:
    return build(None, tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="module")
def other_scene(tmp_path_factory) -> Checked:
    """Another gate, example and seed, one update per example, in the light theme."""
    return build({"gate": "NOR", "example": 0, "seed": 4, "lr": 1.0, "epochs": 150,
                  "mode": "per-example"}, tmp_path_factory.mktemp("media"), "light")


# ----------------------------------------------------------- numbers on screen
def close(text: str, value: float, tol: float = 5e-4 + 1e-12) -> bool:
    return abs(shown_value(text) - value) <= tol


@pytest.mark.parametrize("which", ["default_scene", "other_scene"])
def test_one_example_shows_its_real_prediction_gap_and_square(which, request):
    scene = request.getfixturevalue(which)
    run, ex = scene.data["run"], scene.params["example"]
    p = float(predictions(run, 0)[ex])
    y = float(run.targets[ex])
    one = {k: t.text for k, t in scene.shown["one"].items()}
    x = run.inputs[ex]
    assert one["input"] == f"({x[0]:g},{x[1]:g})", one["input"]
    assert close(one["prediction"], p), f"prediction {one['prediction']} != {p}"
    assert one["target"] == f"{y:g}", one["target"]
    assert close(one["gap"], abs(p - y)), f"gap {one['gap']} != {abs(p - y)}"
    assert close(one["loss"], (p - y) ** 2), f"loss {one['loss']} != {(p - y) ** 2}"


@pytest.mark.parametrize("which", ["default_scene", "other_scene"])
def test_the_mean_of_the_four_squares_is_the_recorded_loss(which, request):
    scene = request.getfixturevalue(which)
    run = scene.data["run"]
    p = predictions(run, 0)
    sq = (p - run.targets) ** 2
    mean = scene.shown["mean"]
    for i in range(4):
        assert close(mean[f"prediction{i}"].text, p[i]), f"example {i} prediction"
        assert close(mean[f"sq{i}"].text, sq[i]), f"example {i} squared gap"
    assert close(mean["loss"].text, sq.mean()), f"mean {mean['loss'].text} vs {sq}"
    assert sq.mean() == pytest.approx(run.loss[0], abs=1e-12), "run's loss is not MSE"


def test_squares_are_drawn_to_scale(default_scene):
    """Side = gap in scale units: areas compare as the squared errors do."""
    run = default_scene.data["run"]
    gaps = np.abs(predictions(run, 0) - run.targets)
    squares = default_scene.mean_group[0]
    sides = np.array([s.width for s in squares])
    assert np.allclose(sides / sides.max(), gaps / gaps.max(), rtol=1e-6), sides
    assert np.allclose([s.height for s in squares], sides, rtol=1e-6), "not square"


@pytest.mark.parametrize("which", ["default_scene", "other_scene"])
def test_the_first_lap_and_the_last_show_real_epochs(which, request):
    scene = request.getfixturevalue(which)
    run = scene.data["run"]
    # Epoch 1 worked out from epoch 0: full batch, or four single-example steps.
    w, b = run.w[0].copy(), float(run.b[0])
    order = range(4) if run.mode == "batch" else [int(i) for i in run.order[0]]
    if run.mode == "batch":
        p = predictions(run, 0)
        d = 2.0 / 4 * (p - run.targets) * p * (1 - p)
        w, b = w - run.lr * (run.inputs.T @ d), b - run.lr * d.sum()
    else:
        for i in order:
            x, y = run.inputs[i], run.targets[i]
            p = 1.0 / (1.0 + math.exp(-(x @ w + b)))
            d = 2.0 * (p - y) * p * (1 - p)
            w, b = w - run.lr * d * x, b - run.lr * d
    p1 = 1.0 / (1.0 + np.exp(-(run.inputs @ w + b)))
    loss1 = float(np.mean((p1 - run.targets) ** 2))
    before, after = scene.first_lap
    assert before == pytest.approx(float(np.mean((predictions(run, 0)
                                                 - run.targets) ** 2)), abs=1e-12)
    assert after == pytest.approx(loss1, abs=1e-9), f"after one lap {after} != {loss1}"
    final = float(np.mean((predictions(run, run.epochs) - run.targets) ** 2))
    assert decimal_text(scene.epoch) == str(run.epochs)
    assert decimal_text(scene.loss) == f"{final:.4f}", decimal_text(scene.loss)


def test_captions_one_per_stage_in_order(default_scene, other_scene):
    for scene in (default_scene, other_scene):
        caps = scene.captions
        assert len(caps) == len(le.STAGES), caps
        for cap, opening in zip(caps, OPENINGS, strict=True):
            assert cap.startswith(opening), f"{cap!r} should open with {opening!r}"
    run = default_scene.data["run"]
    assert f"{run.epochs} epochs" in default_scene.captions[-1]
    assert "once per lap" in default_scene.captions[4]
    assert "four times per lap" in other_scene.captions[4]


def test_no_text_overlaps_or_leaves_the_frame(default_scene, other_scene):
    for scene in (default_scene, other_scene):
        assert not scene.problems, "\n".join(scene.problems[:10])


# ------------------------------------------------------------------ the track
def test_the_track_is_walked_at_constant_speed_and_closes():
    center, a, r = np.array([1.0, -0.5, 0.0]), 2.2, 1.35
    s = np.linspace(0, 1, 4001)
    pts = np.array([le.stadium(v, center, a, r) for v in s])
    steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    perimeter = 2 * a + 2 * np.pi * r
    assert np.allclose(steps, perimeter / 4000, rtol=1e-4), "speed varies round the lap"
    assert np.allclose(pts[0], pts[-1]) and np.allclose(pts[0], [1.0, -0.5 - r, 0])
    assert np.allclose(le.stadium(0.5, center, a, r), [1.0, -0.5 + r, 0]), "halfway"
    off = np.abs(np.hypot(np.clip(np.abs(pts[:, 0] - 1.0) - a / 2, 0, None),
                          pts[:, 1] + 0.5) - r)
    assert off.max() < 1e-9, "a point is off the track"


# ---------------------------------------------------------------- real files
@pytest.mark.render
def test_mp4_with_captions_in_order(tmp_path, default_scene):
    res = render("loss-and-epochs", {}, fmt="mp4", out=tmp_path / "le.mp4", **TINY)
    with av.open(str(res.path)) as c:
        st = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(st)]
        assert (st.codec_context.width, st.codec_context.height) == (160, 90)
        duration = float(c.duration / 1e6)
    assert 20 <= duration <= 45, f"{duration:.1f} s, want 20-45 s"
    assert abs(len(frames) - duration * 5) <= 2
    assert frames[-1].std() > 10, "last frame is blank"
    cues = parse_srt(res.captions)
    assert [text for *_, text in cues] == default_scene.captions
    for (s0, e0, _), (s1, _, _) in zip(cues, cues[1:], strict=False):
        assert s0 < e0 <= s1 + 1e-6, f"cues overlap or run backwards: {cues}"
    assert cues[-1][1] <= duration + 0.1


@pytest.mark.render
def test_gif_loops(tmp_path):
    res = render("loss-and-epochs", {"gate": "OR", "epochs": 3}, fmt="gif",
                 out=tmp_path / "le.gif", resolution="160x90", fps=5)
    with Image.open(res.path) as im:
        assert im.size == (160, 90) and im.info.get("loop") == 0
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(im.info["duration"])
    assert set(delays) == {200}, set(delays)
    assert 15 <= sum(delays) / 1000 <= 45, f"{sum(delays) / 1000:.1f} s"


@pytest.mark.render
def test_plain_manim_command_renders_the_defaults(tmp_path):
    cmd = [sys.executable, "-m", "manim", "render", "-s", "-ql", "--disable_caching",
           "--media_dir", str(tmp_path), "scenes/loss_and_epochs.py", "LossAndEpochs"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    pngs = list(tmp_path.rglob("*.png"))
    assert pngs, f"manim wrote no PNG: {done.stdout[-500:]}"
    with Image.open(pngs[0]) as im:
        assert im.size == (854, 480)


# ------------------------------------------------------ last-frame regression
@pytest.fixture
def dark():
    theme.use("dark")


@pytest.fixture
def light():
    theme.use("light")


@pytest.mark.usefixtures("dark")
@frames_comparison(base_scene=LossAndEpochs)
def test_last_frame(scene):
    LossAndEpochs.construct(scene)


@pytest.mark.usefixtures("light")
@frames_comparison(base_scene=LossAndEpochs)
def test_last_frame_light(scene):
    LossAndEpochs.construct(scene)
