"""The loss-and-epochs scene: squared gaps, their mean, laps, captions, renders."""

from __future__ import annotations

import math

import numpy as np
import pytest
from manim.utils.testing.frames_comparison import frames_comparison
from neuroanim.scenes import loss_and_epochs_draw as le
from neuroanim.scenes.loss_and_epochs_draw import LossAndEpochs

from neuroanim.render import render
from tests.scene_checks import (  # noqa: F401  (dark, light: fixtures)
    TINY,
    check_captioned_video,
    check_plain_manim_render,
    checked,
    constructed,
    dark,
    gif_frames,
    light,
    shown_value,
)

__module_test__ = "test_scene_loss_and_epochs"
OPENINGS = ("Loss for one example", "The gap, squared", "Each of the four",
            "Their average is the loss", "One epoch", "Many epochs")


def build(params: dict | None, theme_name: str = "dark"):
    """The scene at 854x480, its text layout checked after every play."""
    return constructed(checked(LossAndEpochs), params, theme_name)


def predictions(run, k: int) -> np.ndarray:
    """The four outputs at epoch k, worked out from the recorded weights."""
    return 1.0 / (1.0 + np.exp(-(run.inputs @ run.w[k] + run.b[k])))


@pytest.fixture(scope="module")
def default_scene() -> LossAndEpochs:
    return build(None)


@pytest.fixture(scope="module")
def other_scene() -> LossAndEpochs:
    """Another gate, example and seed, one update per example, in the light theme."""
    return build({"gate": "NOR", "example": 0, "seed": 4, "lr": 1.0, "epochs": 150,
                  "mode": "per-example"}, "light")


# ----------------------------------------------------------- numbers on screen
def close(text: str, value: float, tol: float = 5e-4 + 1e-12) -> bool:
    return abs(shown_value(text) - value) <= tol


@pytest.mark.parametrize("which", ["default_scene", "other_scene"])
def test_one_example_shows_its_real_prediction_gap_and_square(which, request):
    scene = request.getfixturevalue(which)
    run, ex = scene.data.run, scene.params["example"]
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
    run = scene.data.run
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
    run = default_scene.data.run
    gaps = np.abs(predictions(run, 0) - run.targets)
    squares = default_scene.mean_group[0]
    sides = np.array([s.width for s in squares])
    assert np.allclose(sides / sides.max(), gaps / gaps.max(), rtol=1e-6), sides
    assert np.allclose([s.height for s in squares], sides, rtol=1e-6), "not square"


@pytest.mark.parametrize("which", ["default_scene", "other_scene"])
def test_the_first_lap_and_the_last_show_real_epochs(which, request):
    scene = request.getfixturevalue(which)
    run = scene.data.run
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
    assert scene.epoch.text == str(run.epochs), scene.epoch.text
    assert scene.loss.text == f"{final:.4f}", scene.loss.text


@pytest.mark.parametrize("which", ["default_scene", "other_scene"])
def test_the_loss_curve_ends_drawn_through_the_recorded_losses(which, request):
    scene = request.getfixturevalue(which)
    run, chart = scene.data.run, scene.chart
    corners = chart.curve.get_anchors()
    xy = np.array([chart.axes.p2c(p)[:2] for p in corners])
    epochs = np.rint(xy[:, 0]).astype(int)
    assert np.allclose(xy[:, 0], epochs, atol=1e-6), "a vertex between epochs"
    assert np.allclose(xy[:, 1], run.loss[epochs], atol=1e-9), "not the recorded loss"
    assert epochs[0] == 0 and epochs[-1] == run.epochs, "the curve stops short"
    assert chart.axes.x_range[1] == run.epochs


def test_captions_one_per_stage_in_order(default_scene, other_scene):
    for scene in (default_scene, other_scene):
        caps = scene.captions
        assert len(caps) == len(le.STAGES), caps
        for cap, opening in zip(caps, OPENINGS, strict=True):
            assert cap.startswith(opening), f"{cap!r} should open with {opening!r}"
    run = default_scene.data.run
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
    check_captioned_video(res, default_scene.captions, (20, 45))


@pytest.mark.render
def test_gif_loops(tmp_path):
    res = render("loss-and-epochs", {"gate": "OR", "epochs": 3}, fmt="gif",
                 out=tmp_path / "le.gif", resolution="160x90", fps=5)
    size, loop, delays = gif_frames(res.path)
    assert size == (160, 90) and loop == 0, f"{size}, loop {loop}: want 160x90, forever"
    assert set(delays) == {200}, set(delays)
    assert 15 <= sum(delays) / 1000 <= 45, f"{sum(delays) / 1000:.1f} s"


@pytest.mark.render
def test_plain_manim_command_renders_the_defaults(tmp_path):
    check_plain_manim_render("loss_and_epochs_draw.py", "LossAndEpochs", tmp_path)


# ------------------------------------------------------ last-frame regression
@pytest.mark.usefixtures("dark")
@frames_comparison(base_scene=LossAndEpochs)
def test_last_frame(scene):
    LossAndEpochs.construct(scene)


@pytest.mark.usefixtures("light")
@frames_comparison(base_scene=LossAndEpochs)
def test_last_frame_light(scene):
    LossAndEpochs.construct(scene)
