"""The training-loop scene: real numbers at each stage, captions, layout, renders."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from manim.utils.testing.frames_comparison import frames_comparison
from neuroanim.scenes import training_loop_draw as tl
from neuroanim.scenes.training_loop_draw import TrainingLoop

from neuroanim import core
from neuroanim import trajectory as traj_io
from neuroanim.errors import UserError
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

__module_test__ = "test_scene_training_loop"
STAGE_NAMES = ("Forward pass", "Measure the error", "Trace backwards", "Adjust",
               "Repeat")


# ------------------------------------------------------------------- helpers
def build(params: dict | None, theme_name: str = "dark"):
    """The scene at 854x480, its text layout checked after every play."""
    return constructed(checked(TrainingLoop), params, theme_name)


def shown_pair(text: str) -> tuple[float, float]:
    a, b = text.strip("()").split(",")
    return shown_value(a), shown_value(b)


def reference(run: core.NeuronRun, example: int) -> dict:
    """One example's step worked out here from the recorded epoch-0 state alone."""
    x1, x2 = (float(v) for v in run.inputs[example])
    y = float(run.targets[example])
    w1, w2, b = float(run.w[0, 0]), float(run.w[0, 1]), float(run.b[0])
    z = w1 * x1 + w2 * x2 + b
    p = 1.0 / (1.0 + math.exp(-z))
    err = p - y
    dz = 2.0 * err * p * (1.0 - p)  # d(err^2)/dz
    return {"x": (x1, x2), "target": y, "w": (w1, w2), "b": b, "z": z,
            "prediction": p, "error": err, "loss": err**2,
            "grad_w": (dz * x1, dz * x2), "grad_b": dz, "lr": run.lr,
            "w_new": (w1 - run.lr * dz * x1, w2 - run.lr * dz * x2),
            "b_new": b - run.lr * dz}


def mse(run: core.NeuronRun, k: int) -> float:
    p = 1.0 / (1.0 + np.exp(-(run.inputs @ run.w[k] + run.b[k])))
    return float(np.mean((p - run.targets) ** 2))


@pytest.fixture(scope="module")
def default_scene() -> TrainingLoop:
    return build(None)


@pytest.fixture(scope="module")
def xor_file(tmp_path_factory) -> Path:
    """An XOR run trained one example at a time, replayed from a JSON file."""
    run = core.train_neuron("XOR", lr=0.5, epochs=300, seed=3, mode="per-example")
    return traj_io.save(run, tmp_path_factory.mktemp("xor") / "xor.json")


@pytest.fixture(scope="module")
def xor_scene(xor_file) -> TrainingLoop:
    return build({"trajectory": str(xor_file), "example": 1}, "light")


# ----------------------------------------------------------- numbers on screen
def check_numbers(scene: TrainingLoop, example: int) -> None:
    run = scene.data.run
    ref = reference(run, example)
    pairs = {"x", "w", "grad_w", "w_new"}
    exact = {"x", "target", "lr"}  # written in full: 1, 0, 2, 0.5
    for stage, names in {"forward": ("x", "target", "w", "b", "z", "prediction"),
                         "error": ("error", "loss"),
                         "backward": ("grad_w", "grad_b"),
                         "adjust": ("lr", "w_new", "b_new")}.items():
        assert set(scene.shown[stage]) == set(names), (
            f"stage {stage} shows {sorted(scene.shown[stage])}, want {sorted(names)}")
        for name in names:
            text = scene.shown[stage][name].text
            got = shown_pair(text) if name in pairs else (shown_value(text),)
            want = ref[name] if name in pairs else (ref[name],)
            tol = 0.0 if name in exact else 5e-4 + 1e-12  # three decimals, rounded
            for g, v in zip(got, want, strict=True):
                assert abs(g - v) <= tol, f"{stage}/{name}: shows {text!r}, value {v}"
            if name not in exact:
                assert all(re.fullmatch(r"−?\d+\.\d{3}", part) for part in
                           text.strip("()").split(",")), f"{name}: {text!r} not 3 dp"
    assert scene.reveals == list(tl.STAGE_KEYS), f"stages revealed {scene.reveals}"


def test_every_number_of_the_real_step_is_the_recorded_state_worked_out(default_scene):
    assert default_scene.data.step.example == 3, "default example is (1, 1)"
    check_numbers(default_scene, 3)


def test_numbers_follow_the_options_and_a_replayed_file(xor_scene, xor_file):
    run = xor_scene.data.run
    saved = traj_io.load(xor_file, expect="neuron")
    assert np.array_equal(run.w, saved.w) and run.mode == "per-example"
    check_numbers(xor_scene, 1)


def test_readouts_end_on_the_trained_neurons_loss(default_scene, xor_scene):
    for scene in (default_scene, xor_scene):
        run = scene.data.run
        final = mse(run, run.epochs)
        assert scene.epoch.text == str(run.epochs), scene.epoch.text
        assert scene.loss.text == f"{final:.4f}", (
            f"loss readout {scene.loss.text} != final MSE {final:.6f}")


def test_the_peg_turns_by_the_size_of_each_recorded_update(default_scene):
    run = default_scene.data.run
    steps = [math.dist((*run.w[k], run.b[k]), (*run.w[k + 1], run.b[k + 1]))
             for k in range(3)]
    turned = default_scene.turned
    assert turned[0] == 0.0
    for k in range(3):
        assert turned[k + 1] - turned[k] == pytest.approx(steps[k], rel=1e-12), k
    first = default_scene.turn_scale * steps[0]
    assert first == pytest.approx(tl.FIRST_TURN), "first turn is not the set angle"


def test_string_and_peg_follow_their_trackers_as_manim_would_draw_them(default_scene):
    """The string is the smooth curve through its standing wave at the
    tracker's amplitude (manim's `set_points_smoothly`), the peg its resting
    outline turned by manim's `rotate`, for any tracker values."""
    from manim import VMobject

    scene = default_scene
    xs, shape = scene.string_anchors
    knob = scene.knob
    was = scene.pluck.get_value(), scene.peg.get_value()
    scene.peg.set_value(0.0)
    knob.update(0)
    rest = knob.copy()
    for pluck, peg in ((0.0, 0.0), (0.13, 0.7), (0.61, 2.9), (1.0, 5.5)):
        scene.pluck.set_value(pluck)
        scene.peg.set_value(peg)
        scene.string.update(0)
        knob.update(0)
        amp = 0.28 * (1 - pluck) ** 2 * math.cos(2 * math.pi * 6 * pluck)
        assert scene.string_amplitude() == pytest.approx(amp, abs=1e-15)
        want = VMobject().set_points_smoothly(np.column_stack(
            [xs, scene.string_y + amp * shape, np.zeros_like(xs)])).points
        np.testing.assert_allclose(scene.string.points, want, atol=1e-12)
        turned = rest.copy().rotate(-peg * scene.turn_scale,
                                    about_point=scene.peg_center)
        for got, ref in zip(knob.family_members_with_points(),
                            turned.family_members_with_points(), strict=True):
            np.testing.assert_allclose(got.points, ref.points, atol=1e-12)
    scene.pluck.set_value(was[0])
    scene.peg.set_value(was[1])
    scene.string.update(0)
    knob.update(0)


# ------------------------------------------------------------------ captions
def stage_sequence(captions: list[str]) -> list[str]:
    return [next((s for s in STAGE_NAMES if c.startswith(s)), "-") for c in captions]


def test_captions_walk_the_five_stages_twice_in_order(default_scene):
    caps = default_scene.captions
    seq = stage_sequence(caps)
    assert seq[1:6] == list(STAGE_NAMES), f"guitar round: {seq}"
    real = [i for i, c in enumerate(caps) if c.startswith("One real step")]
    assert len(real) == 1, caps
    assert stage_sequence(caps[real[0] + 1: real[0] + 5]) == list(STAGE_NAMES[1:]), seq
    assert "Forward pass" in caps[real[0]], caps[real[0]]
    run = default_scene.data.run
    want = ", ".join(f"{mse(run, k):.3f}" for k in range(4))
    assert want in caps[6], f"rounds caption {caps[6]!r} lacks the losses {want}"
    assert caps[-1].startswith("Many steps") and "has learned AND" in caps[-1]


def test_a_failed_run_is_not_called_learned(xor_scene):
    run = xor_scene.data.run
    p = 1.0 / (1.0 + np.exp(-(run.inputs @ run.w[-1] + run.b[-1])))
    assert np.any(np.round(p) != run.targets), "XOR should not be learned"
    assert "still gets some answers wrong" in xor_scene.captions[-1]
    assert "learned" not in xor_scene.captions[-1]


def test_no_text_overlaps_or_leaves_the_frame(default_scene, xor_scene):
    for scene in (default_scene, xor_scene):
        assert not scene.problems, "\n".join(scene.problems[:10])


# ---------------------------------------------------------------- real files
@pytest.mark.render
def test_mp4_with_one_caption_per_stage_in_order(tmp_path, default_scene):
    res = render("training-loop", {}, fmt="mp4", out=tmp_path / "loop.mp4", **TINY)
    check_captioned_video(res, default_scene.captions, (20, 45))


@pytest.mark.render
def test_gif_loops_at_the_asked_size_and_rate(tmp_path):
    res = render("training-loop", {"gate": "NAND", "epochs": 40, "example": 0},
                 fmt="gif", out=tmp_path / "loop.gif", resolution="160x90", fps=5)
    size, loop, delays = gif_frames(res.path)
    assert size == (160, 90) and loop == 0, f"{size}, loop {loop}: want 160x90, forever"
    assert 20 <= sum(delays) / 1000 <= 45, f"{sum(delays) / 1000:.1f} s"
    assert set(delays) == {200}, f"frame delays {set(delays)} ms, want 200 at 5 fps"


def test_bad_options_are_one_line_user_errors(tmp_path):
    with pytest.raises(UserError, match="--example"):
        render("training-loop", {"example": 4}, fmt="png", out_dir=tmp_path)
    with pytest.raises(UserError, match="missing.json"):
        render("training-loop", {"trajectory": str(tmp_path / "missing.json")},
               fmt="png", out_dir=tmp_path)


@pytest.mark.render
def test_plain_manim_command_renders_the_defaults(tmp_path):
    check_plain_manim_render("training_loop_draw.py", "TrainingLoop", tmp_path)


# ------------------------------------------------------ last-frame regression
@pytest.mark.usefixtures("dark")
@frames_comparison(base_scene=TrainingLoop)
def test_last_frame(scene):
    TrainingLoop.construct(scene)


@pytest.mark.usefixtures("light")
@frames_comparison(base_scene=TrainingLoop)
def test_last_frame_light(scene):
    TrainingLoop.construct(scene)

