"""The gradient-descent scene: exact ball positions, layout, timeline, real renders."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from manim.utils.testing.frames_comparison import frames_comparison
from neuroanim.scenes import gradient_descent_draw as gd
from neuroanim.scenes.gradient_descent_draw import GradientDescent

from neuroanim import blocks, core, registry
from neuroanim import trajectory as traj_io
from neuroanim.cli import main
from neuroanim.render import render
from tests.scene_checks import (  # noqa: F401  (dark, light: fixtures)
    TINY,
    box,
    check_plain_manim_render,
    constructed,
    dark,
    gif_frames,
    layout_problems,
    light,
    overlaps,
    shown_value,
)

__module_test__ = "test_scene_gradient_descent"
SPEC = registry.get("gradient-descent")


def built(params: dict | None = None, theme_name: str = "dark",
          size: tuple[int, int] = (160, 90)) -> GradientDescent:
    """The scene after construct(), one frame per play, nothing written."""
    return constructed(GradientDescent, params, theme_name, size)


def at_step(scene: GradientDescent, s: float) -> None:
    """Move the step tracker and run every lane's updater (lanes fully shown)."""
    scene.step.set_value(s)
    scene.presence.set_value(1.0)
    for lane in scene.lanes:
        lane.dynamic.update()


def planned(data: dict) -> float:
    return sum(sec for _, sec in gd.timeline(max(r.n_steps for r in data.runs)))


# ----------------------------------------------------------------- the plan
def test_thirty_steps_roll_in_8_to_12_seconds_slow_first():
    d = gd.step_seconds(30)
    assert 8.0 <= d.sum() <= 12.0, f"30 steps take {d.sum():.2f} s, want 8-12 s"
    assert np.all(np.diff(d) <= 0), "steps must never slow down"
    assert d[0] >= 4 * d[-1], f"first step {d[0]:.2f} s is not much slower than last"


def test_long_runs_stay_watchable():
    total = gd.step_seconds(500).sum()
    assert total < 30, f"500 steps roll for {total:.1f} s"


def test_ball_is_exactly_on_the_record_at_integer_tracker_values():
    for s in (0.0, 1.0, 7.0):
        assert gd.phase(s, 30) == (int(s), 0.0), f"tracker {s} is not a recorded step"
    assert gd.phase(30.7, 30) == (30, 0.0), "past the last step the ball must rest"
    assert gd.phase(3.0 + gd.HOLD * 0.99, 30) == (3, 0.0), "ball moved while slope shown"
    k, m = gd.phase(3.9999, 30)
    assert k == 3 and 0.99 < m < 1.0, f"end of step 3 not nearly done: {k}, {m}"


# ---------------------------------------------------------- exact positions
@pytest.mark.parametrize("params", [{}, {"lr": ["0.5"]}, {"landscape": "double-well"}])
def test_contact_point_and_ball_centre_are_exact_at_every_step(params):
    scene = built(params)
    assert scene.planned_seconds() == pytest.approx(planned(scene.data))
    for i, lane in enumerate(scene.lanes):
        run, ax, r = lane.run, lane.axes, lane.radius
        ls = core.get_landscape(run.landscape)
        ws = np.linspace(*ax.x_range[:2], 4001)
        curve = np.asarray(ax.c2p(ws, ls.loss(ws))).T  # (4001, 3)
        for k in range(run.n_steps + 1):
            at_step(scene, k)
            want = ax.c2p(run.w[k], run.loss[k])
            assert np.array_equal(scene.contact_point(i), want), (
                f"lane {i} step {k}: contact {scene.contact_point(i)} != c2p {want}")
            if lane.visibility(want) < 1.0:
                continue  # off the plot: the diverging case is tested below
            # Normal from the recorded slope, in screen units: the tangent direction
            # is where c2p sends one unit of w along the slope grad[k].
            t = ax.c2p(run.w[k] + 1, run.loss[k] + run.grad[k]) - want
            normal = np.array([-t[1], t[0], 0.0]) / np.hypot(t[0], t[1])
            centre = lane.ball.get_center()
            assert np.allclose(centre, want + r * normal, atol=1e-9), (
                f"lane {i} step {k}: ball centre {centre} not one radius along the "
                f"normal from {want}")
            # Resting on the curve: no sample of the drawn landscape is closer to the
            # centre than the radius (not sunk), and the contact is at the radius.
            gap = np.min(np.linalg.norm(curve - centre, axis=1))
            assert gap > r - 1e-3, f"lane {i} step {k}: ball sunk {r - gap:.4f} units"
            assert abs(np.linalg.norm(centre - want) - r) < 1e-9, "ball floats"


def test_readouts_show_the_recorded_numbers():
    scene = built({})
    for lane in scene.lanes:
        run = lane.run
        for k in range(run.n_steps + 1):
            at_step(scene, k + 0.1)  # while the slope is shown, before moving
            shown = [glyphs.text for glyphs, _ in lane.readouts]
            assert int(shown[0]) == k, f"step readout {shown[0]} at step {k}"
            for text, value in zip(shown[1:], (run.w[k], run.loss[k]), strict=True):
                got = shown_value(text)
                # 3 decimals under 1,000; 1 decimal under 10,000; then 3 digits.
                a = abs(value)
                tol = 5e-4 if a < 1e3 else 0.05 if a < 1e4 else 0.005 * a
                assert abs(got - value) <= tol * (1 + 1e-9), f"{text!r} shown for {value}"


def test_the_slope_arrow_points_downhill_along_the_recorded_gradient():
    scene = built({"lr": ["0.1"]})
    lane = scene.lanes[0]
    run = lane.run
    for k in (0, 3):
        at_step(scene, k + 0.1)
        shaft = lane.arrow[0].points
        direction = shaft[-1] - shaft[0]
        assert np.sign(direction[0]) == -np.sign(run.grad[k]), (
            f"step {k}: arrow goes {direction[0]:+.3f} in x for slope {run.grad[k]}")
        a, b = lane.tangent.get_start_and_end()
        slope_on_screen = (b - a)[1] / (b - a)[0]
        assert slope_on_screen == pytest.approx(run.grad[k] * lane.sy / lane.sx), (
            "tangent segment does not have the recorded slope")


# ------------------------------------------------------------------ diverging
def test_a_diverging_ball_leaves_cleanly_with_a_badge():
    scene = built({"preset": ["diverge", "good"]})
    lane = next(ln for ln in scene.lanes if ln.run.status == "diverged")
    run = lane.run
    assert run.stopped, "the diverge preset should fly off the bowl"
    left, right, bottom, top = lane.box
    for s in np.arange(0, run.n_steps + 1.01, 0.25):
        at_step(scene, s)
        for mob in scene.mobjects + [ln.dynamic for ln in scene.lanes]:
            for m in mob.get_family():
                assert np.all(np.isfinite(m.points)), f"non-finite points at {s}"
        c = lane.ball.get_center()
        margin = 3 * lane.radius + 1e-9
        assert left - margin <= c[0] <= right + margin, f"ball x {c[0]} far off"
        assert bottom - margin <= c[1] <= top + margin, f"ball y {c[1]} far off"
    at_step(scene, run.n_steps)
    assert lane.ball.get_fill_opacity() == 0.0, "a flown-off ball is still drawn"
    assert lane.badge[1].get_fill_opacity() == 1.0, "no 'diverged' badge"
    assert lane.badge[1].text == "diverged"
    at_step(scene, 0)
    assert lane.badge[1].get_fill_opacity() == 0.0, "badge shown before leaving"


@pytest.mark.parametrize("landscape", sorted(core.LANDSCAPES))
def test_the_diverge_ball_bounces_wider_on_the_plot_before_it_leaves(landscape):
    """The four presets: the diverge panel shows its first three overshoots, each
    wider, with the ball fully drawn inside the plot (the window is the core's)."""
    scene = built({"landscape": landscape})
    ls = core.get_landscape(landscape)
    lane = scene.lanes[core.PRESETS.index("diverge")]
    run = lane.run
    assert tuple(lane.axes.x_range[:2]) == pytest.approx(
        core.descent.plot_window(ls, scene.runs)[:2]), "not the core's window"
    over = set(np.flatnonzero(core.descent.overshoots(ls, run.w)).tolist())
    swing = np.abs(np.diff(run.w))  # (T - 1,)
    first = next((j for j in sorted(over) if {j + 1, j + 2} <= over
                  and swing[j] < swing[j + 1] < swing[j + 2]), None)
    assert first is not None, f"{landscape}: no three wider bounces in {run.w[:10]}"
    for k in range(first + 4):
        at_step(scene, k)
        p = scene.contact_point(scene.lanes.index(lane))
        assert lane.visibility(p) == 1.0, f"{landscape}: step {k} off the plot"
        assert lane.ball.get_fill_opacity() == 1.0, f"{landscape}: ball {k} hidden"
        assert lane.badge[1].get_fill_opacity() == 0.0, f"{landscape}: early badge"


def test_a_diverging_trajectory_file_renders(tmp_path):
    run = core.descend("bowl", None, core.preset_lr("bowl", "diverge"), 30)
    path = traj_io.save(run, tmp_path / "fly.json")
    res = render("gradient-descent", {"trajectory": [str(path)]}, fmt="mp4",
                 out=tmp_path / "fly.mp4", **TINY)
    assert res.frames > 0 and res.duration > 0, f"empty video: {res}"
    data = SPEC.prepare(SPEC.resolve({"trajectory": [str(path)]}))
    assert abs(res.duration - planned(data)) <= 0.1 * planned(data)


# --------------------------------------------------------------------- layout
LAYOUTS = [
    ({}, "dark"), ({"landscape": "asymmetric"}, "light"),
    ({"landscape": "double-well"}, "dark"), ({"lr": ["0.5"]}, "light"),
    ({"preset": ["diverge"]}, "dark"), ({"lr": ["0.1", "0.5"]}, "dark"),
    ({"lr": ["0.05", "0.3", "0.9"], "landscape": "double-well"}, "light"),
    ({"preset": ["slow"], "steps": 500}, "dark"), ({"w0": 40, "lr": ["0.01"]}, "dark"),
    ({"lr": ["1000", "0.1"]}, "light"),
]


@pytest.mark.parametrize(("params", "theme_name"), LAYOUTS)
def test_no_text_overlaps_or_leaves_the_frame(params, theme_name):
    """Every block, shown or not yet (a verdict, a badge), at any step."""
    scene = built(params, theme_name, size=(854, 480))
    n = scene.max_steps
    for s in sorted({0, 1, n // 2, n, n + 1}):
        at_step(scene, s)
        blocks = [m for m in scene.text_blocks()
                  if any(x.has_points() for x in m.get_family())]
        problems = layout_problems(blocks, scene.half_w, scene.half_h, f"step {s}", 0)
        assert not problems, "\n".join(problems[:10])
    ax = scene.chart["axes"]
    problems = layout_problems(scene.chart["texts"], scene.half_w, scene.half_h,
                               "chart", 0)
    assert not problems, "\n".join(problems[:10])
    lo, hi = ax.c2p(ax.x_range[0], ax.y_range[0]), ax.c2p(ax.x_range[1], ax.y_range[1])
    for m in scene.chart["texts"]:
        assert not overlaps(box(m), (lo[0], hi[0], lo[1], hi[1])) or m in ax.texts, (
            f"chart text {m} sits on the plot")


def test_the_closing_chart_draws_each_lanes_recorded_loss():
    scene = built({"preset": ["good", "diverge"]}, size=(854, 480))
    chart = scene.chart["chart"]
    top = chart.axes.y_range[1]
    assert len(chart.lines) == len(scene.lanes)
    for lane, line in zip(scene.lanes, chart.lines, strict=True):
        loss = lane.run.loss
        xy = np.array([chart.axes.p2c(p)[:2] for p in line.path.get_anchors()])
        on_step = np.isclose(xy[:, 0], np.rint(xy[:, 0]), atol=1e-6)
        k = np.rint(xy[on_step, 0]).astype(int)
        assert np.allclose(xy[on_step, 1], loss[k], atol=1e-9), lane.name
        assert np.all(xy[:, 1] <= top + 1e-9), f"{lane.name} drawn over the top"
        assert set(k) == set(np.flatnonzero(loss <= top)), f"{lane.name}: steps lost"
        assert len(line.marks) == int(lane.run.stopped), f"{lane.name}: exit marks"


def test_lane_colours_are_distinct_and_presets_keep_theirs():
    bowl = [core.descend("bowl", None, lr, 30) for lr in (0.1, 0.15, 0.5, 0.9)]
    slots = gd.lane_slots(bowl, [None] * 4)
    assert len(set(slots)) == 4, f"colours repeat: {slots}"
    assert slots == sorted(slots), "clashing statuses must spread cool to hot by lr"
    runs = [core.descend("bowl", None, core.preset_lr("bowl", p), 30)
            for p in core.PRESETS]
    assert gd.lane_slots(runs, list(core.PRESETS)) == [0, 1, 2, 3]


def test_coinciding_loss_lines_are_cased():
    a = core.get_landscape("bowl").curvature
    # Distance factors (1 - 2 a lr) = +0.5 and -0.5 on the symmetric bowl: the same
    # distances to the minimum on opposite sides, so the same losses.
    good, bouncy = (core.descend("bowl", None, f / a, 30) for f in (0.25, 0.75))
    assert np.allclose(good.loss, bouncy.loss), "premise: identical loss sequences"
    w_good, w_bouncy = gd.casing_widths([good.loss, bouncy.loss], tol=1e-6)
    assert w_good > w_bouncy, "the covered line must be drawn wider"
    slow = core.descend("bowl", None, 0.025 / a, 30)
    assert gd.casing_widths([slow.loss, good.loss], 1e-6)[0] == gd.casing_widths(
        [good.loss], 1e-6)[0], "lines that only share a start need no casing"


def test_clip_below_keeps_what_is_under_the_top():
    xs = np.arange(6.0)
    ys = np.array([1.0, 3.0, 9.0, 20.0, 4.0, 2.0])
    pieces, exits = blocks.clip_below(xs, ys, 10.0)
    assert exits == [(2 + 1 / 11, 10.0)], f"exit {exits}"
    for piece in pieces:
        for x, y in piece:
            assert y <= 10.0 + 1e-12, f"({x}, {y}) is above the top"
    assert pieces[0][:3] == [(0.0, 1.0), (1.0, 3.0), (2.0, 9.0)]
    assert pieces[1][0][1] == pytest.approx(10.0) and pieces[1][-1] == (5.0, 2.0)


# --------------------------------------------------------- end-to-end renders
def _video(path: Path) -> tuple[int, float, float]:
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        frames = sum(1 for _ in c.decode(st))
        return frames, float(st.average_rate), c.duration / 1e6


@pytest.mark.render
@pytest.mark.parametrize("params", [{}, {"lr": ["0.5"]}], ids=["presets", "lr0.5"])
def test_mp4_and_gif_last_as_planned(params, tmp_path):
    data = SPEC.prepare(SPEC.resolve(params))
    want = planned(data)
    mp4 = render("gradient-descent", params, fmt="mp4", out=tmp_path / "a.mp4",
                 data=data, **TINY)
    frames, rate, seconds = _video(mp4.path)
    assert (mp4.width, mp4.height) == (160, 90)
    assert abs(seconds - want) <= 0.1 * want, f"mp4 {seconds:.2f} s, plan {want:.2f}"
    assert abs(frames - rate * seconds) <= 2, f"{frames} frames at {rate} fps"

    gif = render("gradient-descent", params, fmt="gif", out=tmp_path / "a.gif",
                 data=data, resolution="160x90", fps=10)
    _, loop, delays = gif_frames(gif.path)
    assert loop == 0, "the GIF must loop forever"
    n, ms = len(delays), sum(delays)
    assert abs(ms / 1000 - want) <= 0.1 * want, f"gif {ms / 1000:.2f} s, plan {want}"
    assert abs(n - 10 * ms / 1000) <= 2, f"{n} GIF frames for {ms} ms at 10 fps"


@pytest.mark.render
def test_plain_manim_command_renders_the_defaults(tmp_path):
    check_plain_manim_render("gradient_descent_draw.py", "GradientDescent", tmp_path)


# ----------------------------------------------------------------- bad input
def test_malformed_trajectory_file_is_one_line_and_exit_2(tmp_path):
    run = core.descend("bowl", None, 0.1, 5)
    doc = traj_io.to_dict(run)
    doc["loss"] = doc["loss"][:-1]  # one loss short of the weights
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(
        main, ["render", "gradient-descent", "--trajectory", str(bad), "-f", "png",
               "-o", str(out / "x.png")])
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert "loss" in lines[0] and "bad.json" in lines[0], lines[0]
    assert list(out.iterdir()) == [], "a failed render wrote something"


# ------------------------------------------------------ last-frame regression
@pytest.mark.usefixtures("dark")
@frames_comparison(base_scene=GradientDescent)
def test_last_frame_presets(scene):
    GradientDescent.construct(scene)


class Crank(GradientDescent):
    """The lesson's 'crank it up to 0.5' variant, for a frame test."""

    def __init__(self, **kwargs):
        super().__init__(params={"lr": ["0.5"]}, **kwargs)


@pytest.mark.usefixtures("light")
@frames_comparison(base_scene=Crank)
def test_last_frame_lr_half_light(scene):
    Crank.construct(scene)
