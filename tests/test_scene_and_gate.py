"""The AND-gate scene: its numbers against the trajectory, its renders decoded."""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from manim import Camera, tempconfig
from manim.utils.testing.frames_comparison import frames_comparison
from neuroanim.scenes import and_gate_draw as ag
from neuroanim.scenes.and_gate_draw import AndGate
from PIL import Image

from neuroanim import core, registry
from neuroanim import theme as themes
from neuroanim import trajectory as tio
from neuroanim.cli import main
from neuroanim.render import render
from tests.scene_checks import gif_frames

__module_test__ = "test_scene_and_gate"
W, H, FPS = 160, 90, 5
# The storyboard in seconds: plays (task, grid, training, result) and the still
# waits between them (after the task, after the grid, the final hold).
PLAYS = (1.0, 0.8, ag.TRAIN_SECONDS, 1.0)
WAITS = (1.0, 0.7, 2.5)


def storyboard_frames(fps: float) -> int:
    """manim draws ceil(t fps) frames for a play and repeats int(t fps) for a
    still wait (`freeze_current_frame`)."""
    return (sum(math.ceil(t * fps - 1e-9) for t in PLAYS)
            + sum(int(t * fps + 1e-9) for t in WAITS))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, float)))


def hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def minus(text: str) -> str:
    return text.replace("-", "−")


def shown(value: float, places: int, sign: bool = False) -> str:
    """How a readout should print `value`: Python's rounding, a true minus, no −0."""
    s = f"{value:+.{places}f}" if sign else f"{value:.{places}f}"
    if float(s) == 0:
        s = ("+" if sign else "") + s.lstrip("+-")
    return minus(s)


@contextmanager
def manim_config(tmp_path: Path, fmt: str = "png", w: int = W, h: int = H,
                 fps: float = FPS):
    """The settings `render` uses, for scenes a test builds or renders itself."""
    with tempconfig({
        "format": fmt, "pixel_width": w, "pixel_height": h, "frame_height": 8.0,
        "frame_width": 8.0 * w / h, "frame_rate": fps, "disable_caching": True,
        "media_dir": str(tmp_path / "media"), "output_file": "out",
        "verbosity": "ERROR", "progress_bar": "none",
    }):
        yield


def built(tmp_path: Path, params: dict | None = None) -> AndGate:
    """A scene with every mobject made and nothing played."""
    with manim_config(tmp_path):
        scene = AndGate(params=params or {})
        scene.build()
    return scene


def show(scene: AndGate, epoch: int) -> None:
    scene.epoch.set_value(epoch)
    scene.update_live()


# ------------------------------------------------------------- the numbers
def test_heat_frames_are_the_neuron_output_at_each_cell_centre():
    lut = ag.heat_lut(themes.DARK.heat)
    rng = np.random.default_rng(1)
    w, b = rng.normal(0, 4, (3, 2)), rng.normal(0, 3, 3)
    r = 9
    frames = ag.heat_frames(w, b, r, lut)
    centres = ag.LO + (ag.HI - ag.LO) * (np.arange(r) + 0.5) / r
    for k in range(3):
        for row in range(r):
            x2 = centres[r - 1 - row]  # top row is x2 = HI
            for col in range(r):
                p = sigmoid(w[k, 0] * centres[col] + w[k, 1] * x2 + b[k])
                want = lut[int(np.rint(p * 255))]
                assert np.array_equal(frames[k, row, col], want), (
                    f"state {k} cell ({row}, {col}): {frames[k, row, col]} != {want}")


@pytest.mark.parametrize("th", [themes.DARK, themes.LIGHT], ids=["dark", "light"])
def test_palette_runs_through_the_theme_colours(th):
    lut = ag.heat_lut(th.heat)
    assert np.array_equal(lut[0, :3], hex_rgb(th.heat[0])), "output 0 is not heat[0]"
    assert np.array_equal(lut[255, :3], hex_rgb(th.heat[2])), "output 1 is not heat[2]"
    mid = (lut[127, :3].astype(int) + lut[128, :3]) / 2
    assert np.abs(mid - hex_rgb(th.heat[1])).max() <= 1, "output 0.5 is not heat[1]"
    assert (lut[:, 3] == 255).all(), "the heatmap must be opaque"


def test_epochs_are_dense_early_and_the_section_lasts_the_same_for_any_run():
    for epochs in (1, 50, 2000, 100_000):
        e = ag.epoch_at(np.linspace(0, 1, 1001), epochs)
        assert e[0] == 0 and math.isclose(e[-1], epochs), f"{epochs}: ends {e[0]}, {e[-1]}"
        assert np.all(np.diff(e) > 0), f"{epochs}: the epoch must only move forward"
        shown_epochs = ag.sample_epochs(epochs, ag.TRAIN_SECONDS, 15)
        assert shown_epochs[0] == 0 and shown_epochs[-1] == epochs
    e = ag.epoch_at(np.array([0.1, 0.9]), 2000)
    assert e[0] < 0.02 * 2000, f"first tenth of the time reaches epoch {e[0]:.0f}"
    assert 2000 - e[1] > 0.3 * 2000, f"last tenth covers only {2000 - e[1]:.0f} epochs"


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND", "NOR"])
def test_explanation_follows_the_signs_and_the_truth_table(gate):
    run = core.train_neuron(gate)
    head, lines = ag.explain(run)
    (w1, w2), b = run.w[-1], run.b[-1]
    assert head == f"{gate} learned: 4 of 4 right", head
    word = "positive" if w1 > 0 else "negative"
    assert lines[0].startswith(f"w1, w2 {word}"), lines[0]
    assert lines[1].startswith("b " + ("positive" if b > 0 else "negative")), lines[1]
    answer = {1.0: "yes", 0.0: "no"}
    one, both = lines[2], lines[3]
    assert one.endswith(answer[run.targets[2]]), f"one input (1, 0): {one}"
    assert both.endswith(answer[run.targets[3]]), f"both inputs (1, 1): {both}"
    assert minus(f"{w1:.2f}") in one and minus(f"{abs(b):.2f}") in one, one
    z = w1 + w2 + b
    shown = round(round(w1, 2) + round(w2, 2) + round(b, 2), 2)  # adds up on screen
    assert minus(f"= {shown:+.2f}") in both, f"{both} should give z = {shown:+.2f}"
    assert abs(shown - z) <= 0.015, f"shown total {shown} is not z = {z}"


def test_xor_explanation_says_it_failed_and_why():
    run = core.train_neuron("XOR")
    head, lines = ag.explain(run)
    assert run.status == "failed"
    assert head.startswith("XOR not learned"), head
    text = " ".join(lines)
    assert "No single straight line" in text, text
    assert f"stalls near {run.loss[-1]:.2f}" in text, text
    flat = core.boundary_flat(run.w[-1], run.b[-1], ag.LO, ag.HI, flat=ag.FLAT)
    assert flat and lines[-1] == "Its output is 0.50 everywhere.", lines
    slow = core.train_neuron("AND", lr=0.1, epochs=50)
    head, lines = ag.explain(slow)
    assert head.startswith("AND not learned") and "Still wrong after 50 epochs" in lines[0]


# ------------------------------------------------ the scene's live objects
def test_readouts_equal_the_trajectory_at_the_shown_epoch(tmp_path):
    scene = built(tmp_path)
    run = scene.run
    lut = ag.heat_lut(themes.current().heat)
    r = scene.res
    centres = ag.LO + (ag.HI - ag.LO) * (np.arange(r) + 0.5) / r
    for e in (0, 1, 2, 17, 150, 999, run.epochs):
        show(scene, e)
        assert scene.counter.text == str(e), f"counter {scene.counter.text} at {e}"
        ro = scene.readouts
        assert ro["loss"].get_value() == run.loss[e], "loss value"
        assert ro["loss"].text == shown(run.loss[e], 4), ro["loss"].text
        for key, v in (("w1", run.w[e, 0]), ("w2", run.w[e, 1]), ("b", run.b[e])):
            assert ro[key].get_value() == v, f"{key} value at epoch {e}"
            assert ro[key].text == shown(v, 2, sign=True), f"{key}: {ro[key].text}"
        for i, num in enumerate(scene.outputs):
            assert num.text == shown(run.predictions[e, i], 2), (
                f"output {i} at epoch {e}: {num.text}")
        # The heatmap: sigmoid of the recorded state at each cell centre.
        z = run.w[e, 0] * centres[None, :] + run.w[e, 1] * centres[::-1, None] + run.b[e]
        want = lut[np.rint(sigmoid(z) * 255).astype(int)]
        assert np.array_equal(scene.heat.pixel_array, want), f"heatmap at epoch {e}"
        # The loss dot sits at (log10(1 + e), loss[e]) on the chart's axes.
        dot = scene.ax.c2p(math.log10(1 + e), run.loss[e])
        assert np.allclose(scene.dot.get_center(), dot, atol=1e-6), f"dot at {e}"
        assert np.allclose(scene.curve.points[-1], dot, atol=1e-6), "curve ends at the dot"
        # The boundary, mapped back to inputs, has z = 0 at both ends.
        visible = scene.boundary.get_stroke_opacity() > 0
        seg = core.boundary_segment(run.w[e], run.b[e], ag.LO, ag.HI, flat=ag.FLAT)
        assert visible == (seg is not None), f"boundary shown {visible} at {e}"
        if visible:  # the core's segment, drawn on the screen square
            want = [scene.to_screen(*pt) for pt in seg]
            got = [scene.boundary.get_start(), scene.boundary.get_end()]
            assert np.allclose(got, want, atol=1e-9), f"boundary ends at {e}"
            for p in got:
                x = (p[:2] - scene.heat_centre[:2]) / scene.heat_side + 0.5
                x = ag.LO + x * (ag.HI - ag.LO)
                zz = run.w[e] @ x + run.b[e]
                assert abs(zz) < 1e-6 * (1 + np.abs(run.w[e]).sum()), f"z = {zz} at {e}"


def test_heatmap_over_the_memory_budget_is_computed_per_epoch(tmp_path, monkeypatch):
    monkeypatch.setattr(ag, "HEAT_BUDGET", 0)
    scene = built(tmp_path, {"grid": 16})
    assert scene.frames is None, "frames were precomputed over the budget"
    lut = ag.heat_lut(themes.current().heat)
    for e in (0, 3, scene.run.epochs):
        show(scene, e)
        want = ag.heat_frames(scene.run.w[[e]], scene.run.b[[e]], 16, lut)[0]
        assert np.array_equal(scene.heat.pixel_array, want), f"epoch {e}"


def test_curve_is_drawn_only_up_to_the_shown_epoch(tmp_path):
    scene = built(tmp_path)
    show(scene, 40)
    xs = scene.curve.points[:, 0]
    assert xs.max() <= scene.ax.c2p(math.log10(41), 0)[0] + 1e-9, "curve runs ahead"
    assert xs.min() >= scene.ax.c2p(0, 0)[0] - 1e-9


def test_a_neuron_file_is_replayed_as_recorded(tmp_path):
    run = core.train_neuron("NAND", lr=1.5, epochs=300, seed=4)
    path = tio.save(run, tmp_path / "nand.json")
    scene = built(tmp_path, {"trajectory": str(path)})
    show(scene, 300)
    assert scene.run.gate == "NAND" and scene.readouts["b"].get_value() == run.b[-1]
    assert scene.ending_head.startswith("NAND"), scene.ending_head


def test_nothing_leaves_the_frame_for_any_gate(tmp_path):
    for gate in core.GATES:
        for name in themes.THEMES:
            themes.use(name)
            scene = built(tmp_path, {"gate": gate})
            show(scene, scene.run.epochs)
            hw, hh = scene.camera.frame_width / 2, scene.camera.frame_height / 2
            for part in (scene.task, scene.grid_static, scene.chart, scene.live,
                         scene.ending):
                left, right = part.get_left()[0], part.get_right()[0]
                bottom, top = part.get_bottom()[1], part.get_top()[1]
                assert -hw < left and right < hw and -hh < bottom and top < hh, (
                    f"{gate}/{name}: a part spans x {left:.2f}..{right:.2f}, "
                    f"y {bottom:.2f}..{top:.2f}")
            text, chart = scene.ending_text, scene.chart
            assert text.get_top()[1] < chart.get_bottom()[1], f"{gate}: text hits chart"
            row = [scene.readouts[k] for k in ("w1", "w2", "b")]
            assert text.get_top()[1] < min(m.get_bottom()[1] for m in row), (
                f"{gate}: the ending overlaps the w1, w2, b readouts")
            assert text.get_left()[0] > scene.square.get_right()[0], f"{gate}: text on grid"
            plot_top = scene.ax.y_axis.get_top()[1]
            assert scene.readouts["loss"].get_bottom()[1] > plot_top, (
                f"{gate}: the loss readout sits inside the plot")


def test_grid_camera_draws_the_heatmap_as_manim_does(tmp_path):
    """The fast image path against manim's own PIL warp, on the same last frame."""
    frames = {}
    for name, kw in (("fast", {}), ("manim", {"camera_class": Camera})):
        with manim_config(tmp_path / name, w=428, h=240):
            scene = AndGate(params={"grid": 16}, **kw)
            scene.render()
            frames[name] = scene.renderer.get_frame().astype(int)
            heat = scene.camera.points_to_pixel_coords(scene.heat, scene.heat.points)
    diff = np.abs(frames["fast"] - frames["manim"]).max(axis=2)
    (x0, y0), (x1, y1) = heat[0], heat[3]
    inner = diff[y0 + 2:y1 - 2, x0 + 2:x1 - 2]
    assert inner.max() == 0, "the heatmap's inside differs from manim's drawing"
    assert (diff > 0).mean() < 0.002, f"{(diff > 0).sum()} pixels differ"


# -------------------------------------------------------------- renders
@pytest.mark.render
def test_mp4_gif_and_png_decode_with_the_storyboard_length(tmp_path):
    want = storyboard_frames(FPS)
    res = render("and-gate", {}, fmt="mp4", resolution=f"{W}x{H}", fps=FPS,
                 out_dir=tmp_path)
    with av.open(str(res.path)) as c:
        frames = list(c.decode(video=0))
        assert c.streams.video[0].codec_context.name == "h264"
    assert len(frames) == want, f"mp4 has {len(frames)} frames, storyboard {want}"
    assert (frames[0].width, frames[0].height) == (W, H)
    gif = render("and-gate", {"gate": "OR"}, fmt="gif", resolution=f"{W}x{H}", fps=10,
                 out_dir=tmp_path)
    _, loop, durations = gif_frames(gif.path)
    assert loop == 0, "a lesson GIF loops forever"
    total = storyboard_frames(10) * 100
    assert abs(sum(durations) - total) <= 100, f"GIF lasts {sum(durations)} ms, not {total}"
    png = render("and-gate", {}, fmt="png", resolution=f"{W}x{H}", out_dir=tmp_path)
    with Image.open(png.path) as im:
        assert im.size == (W, H) and im.format == "PNG"


@pytest.mark.render
def test_last_png_frame_shows_the_final_output_grid(tmp_path):
    """Pixels of the still, decoded, equal the palette colour of the final output."""
    grid = 8
    res = render("and-gate", {"grid": grid}, fmt="png", resolution="640x360",
                 out_dir=tmp_path)
    img = np.asarray(Image.open(res.path).convert("RGB")).astype(int)
    scene = built(tmp_path, {"grid": grid})
    run, lut = scene.run, ag.heat_lut(themes.current().heat)
    unit = 360 / 8  # pixels per scene unit
    centres = ag.LO + (ag.HI - ag.LO) * (np.arange(grid) + 0.5) / grid
    checked = 0
    for x1 in centres:
        for x2 in centres:
            z = run.w[-1] @ (x1, x2) + run.b[-1]
            near_marker = min(math.dist((x1, x2), c) for c in run.inputs) < 0.2
            if abs(z) < 2.5 or near_marker:  # under the boundary line or a marker
                continue
            p = scene.to_screen(x1, x2)
            px, py = int(320 + p[0] * unit), int(180 - p[1] * unit)
            want = lut[int(np.rint(sigmoid(z) * 255)), :3]
            assert np.abs(img[py, px] - want).max() <= 1, (
                f"pixel at input {(x1, x2)}: {img[py, px]} != {want}")
            checked += 1
    assert checked >= 20, f"only {checked} cells checked"


@pytest.mark.render
def test_xor_renders_its_honest_ending(tmp_path):
    with manim_config(tmp_path):
        scene = AndGate(params={"gate": "XOR"})
        scene.render()
    run = scene.run
    assert run.status == "failed"
    assert scene.ending in scene.mobjects, "the ending is on screen at the end"
    head = scene.ending_text[0].text
    assert head == f"XOR not learned: {int(core.verdicts(run.predictions[-1], run.targets).sum())} of 4 right", head
    lines = [m.text for m in scene.ending_text[1:]]
    assert any("straight line" in t for t in lines), lines
    assert any(f"stalls near {run.loss[-1]:.2f}" in t for t in lines), lines
    kinds = [m.kind for m in scene.marks]
    want = ["tick" if ok else "cross"
            for ok in np.abs(run.predictions[-1] - run.targets) < 0.5]
    assert kinds == want, f"marks {kinds}, outputs {run.predictions[-1]}"
    assert scene.boundary.get_stroke_opacity() == 0, "no line when the output is flat"
    assert scene.note == "flat", scene.note


def test_a_descent_file_gets_one_line_and_exit_2(tmp_path):
    d = core.descend(core.get_landscape(core.DEFAULT_LANDSCAPE), None, 0.1, 10)
    path = tio.save(d, tmp_path / "ball.json")
    result = CliRunner().invoke(main, ["render", "and-gate", "--trajectory", str(path),
                                       "-f", "png", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert str(path) in lines[0] and "neuron" in lines[0], lines[0]
    assert not (tmp_path / "x.png").exists()


# -------------------------------------------------------- last frame
@frames_comparison(base_scene=AndGate)
def test_and_gate_last_frame(scene):
    AndGate.construct(scene)


def test_registry_points_at_this_scene():
    assert registry.get("and-gate").scene_class() is AndGate
