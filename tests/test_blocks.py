"""The public building blocks: every docstring example renders, and each block
draws exactly the recorded numbers and the core's maths."""

from __future__ import annotations

import inspect
import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from manim import Scene, config, tempconfig
from PIL import Image

from neuroanim import blocks, core, draw, theme
from neuroanim.wording import fmt
from tests.test_latex_free import no_latex  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def media(tmp_path):
    """Text's SVG files go to this test's folder, in the dark theme."""
    theme.use("dark")
    with tempconfig({"media_dir": str(tmp_path), "text_dir": str(tmp_path / "texts"),
                     "verbosity": "ERROR"}):
        yield


# -------------------------------------------------------------- the examples
def examples() -> list[tuple[str, str]]:
    """(owner, code) of every `Example::` block in blocks' docstrings."""
    docs = [("module", blocks.__doc__ or "")]
    for name in blocks.__all__:
        obj = getattr(blocks, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__doc__:
            if obj.__module__ == blocks.__name__:
                docs.append((name, obj.__doc__))
    found = []
    for owner, doc in docs:
        doc = inspect.cleandoc(doc)
        for m in re.finditer(r"Example::\n\n((?:(?: {4}.*)?\n)+)", doc + "\n"):
            found.append((owner, textwrap.dedent(m.group(1))))
    return found


EXAMPLES = examples()


def test_every_block_has_an_example():
    owners = {owner for owner, _ in EXAMPLES}
    for name in ("TextLine", "Readout", "LossChart", "BallOnCurve", "OutputHeatmap",
                 "StageLoop"):
        assert name in owners, f"{name} has no Example:: block"


def settings(tmp: Path) -> dict:
    """The options `neuroanim.render` pins, at 320x180 and png (the last frame)."""
    w, h = 320, 180
    out = {
        "format": "png", "pixel_width": w, "pixel_height": h, "frame_height": 8.0,
        "frame_width": 8.0 * w / h, "frame_rate": 5, "transparent": False,
        "background_color": theme.current().background, "renderer": "cairo",
        "disable_caching": True, "media_dir": str(tmp),
        "video_dir": "{media_dir}/videos", "images_dir": "{media_dir}/images",
        "partial_movie_dir": "{media_dir}/partial", "sections_dir": "{media_dir}/sections",
        "text_dir": "{media_dir}/texts", "tex_dir": "{media_dir}/Tex",
        "log_dir": "{media_dir}/logs", "output_file": "out", "progress_bar": "none",
        "verbosity": "ERROR", "preview": False, "show_in_file_browser": False,
        "save_sections": False, "write_all": False, "dry_run": False,
        "log_to_file": False, "from_animation_number": 0,
        "upto_animation_number": float("inf"),
    }
    unknown = [k for k in out if k not in config]
    assert not unknown, f"manim has no option {unknown}: tempconfig would drop it"
    return out


@pytest.mark.parametrize(("owner", "code"), EXAMPLES, ids=[o for o, _ in EXAMPLES])
def test_docstring_example_renders_a_picture(owner, code, tmp_path,
                                            no_latex):  # noqa: F811
    """Rendered as an author would, with LaTeX made unusable."""
    namespace: dict = {}
    exec(compile(code, f"<blocks.{owner} example>", "exec"), namespace)  # our own docs
    scenes = [v for v in namespace.values()
              if isinstance(v, type) and issubclass(v, Scene) and v is not Scene]
    assert len(scenes) == 1, f"{owner}: the example should define one Scene"
    with tempconfig(settings(tmp_path)):
        scene = scenes[0]()
        scene.render()
        path = Path(scene.renderer.file_writer.image_file_path)
    with Image.open(path) as im:
        assert im.size == (320, 180), im.size
        px = np.asarray(im.convert("RGB")).astype(int)
    bg = np.array([int(theme.current().background[i:i + 2], 16) for i in (1, 3, 5)])
    inked = int((np.abs(px - bg).max(axis=2) > 40).sum())
    assert inked >= 150, f"{owner}: only {inked} pixels are drawn"
    assert not no_latex.exists(), f"{owner}: a LaTeX tool was called"


# ---------------------------------------------------------------- loss chart
def loss_run(epochs: int = 300) -> np.ndarray:
    return core.train_neuron("AND", epochs=epochs).loss


def to_data(chart: blocks.LossChart, points: np.ndarray) -> np.ndarray:
    """Scene points back to (axis x, loss) through the chart's own axes."""
    return np.array([chart.axes.p2c(p)[:2] for p in points])


@pytest.mark.parametrize("log_x", [False, True], ids=["linear", "log"])
def test_loss_chart_vertices_are_recorded_losses(log_x):
    loss = loss_run()
    chart = blocks.LossChart(loss, 6, 3, log_x=log_x).shift([1.3, -0.4, 0])
    corners = chart.curve.get_anchors()
    xy = to_data(chart, corners)
    steps = 10 ** xy[:, 0] - 1 if log_x else xy[:, 0]
    k = np.rint(steps).astype(int)
    assert np.allclose(steps, k, atol=1e-6), "a vertex sits between recorded epochs"
    assert np.allclose(xy[:, 1], loss[k], atol=1e-9), "a vertex is not the recorded loss"
    assert k[0] == 0 and k[-1] == len(loss) - 1, "the curve must span the record"
    top = chart.axes.y_range[1]
    assert loss.max() <= top < loss.max() * 2, f"loss axis top {top} for {loss.max()}"


@pytest.mark.parametrize("t", [0, 1, 7, 42.5, 150, 300])
def test_show_upto_puts_the_dot_at_the_data_point(t):
    loss = loss_run()
    chart = blocks.LossChart(loss, 6, 3, log_x=True)
    chart.move_origin_to([-2, -1, 0]).show_upto(t)
    k = math.floor(t)
    want_loss = loss[k] + (loss[min(k + 1, 300)] - loss[k]) * (t - k)
    want = chart.axes.c2p(math.log10(1 + t), want_loss)
    assert np.allclose(chart.dot.get_center(), want, atol=1e-9), f"dot at {t}"
    assert np.allclose(chart.point(t), want, atol=1e-9)
    assert np.allclose(chart.curve.points[-1], want, atol=1e-9), "curve ends at the dot"
    xs = chart.curve.points[:, 0]
    assert xs.max() <= want[0] + 1e-9, "the curve runs ahead of t"


def test_a_line_over_the_top_is_cut_with_a_mark_where_it_leaves():
    low = np.linspace(1.0, 0.1, 31)
    chart = blocks.LossChart(low, x_max=30)
    high = np.array([0.5, 0.9, 3.0, 20.0])  # a diverging run, stopped early
    line = chart.add_line(high, "#FF7A45")
    top = chart.axes.y_range[1]
    ys = to_data(chart, line.path.points)[:, 1]
    assert ys.max() <= top + 1e-9, "a line is drawn above the plot"
    assert len(line.marks) == 1, "one mark where the line leaves the plot"
    assert len(chart.lines) == 2 and chart.axes.x_range[1] == 30


# -------------------------------------------------------------------- heatmap
def test_heatmap_pixels_are_the_core_output_through_the_palette():
    w, b, r, lo, hi = np.array([4.0, -3.0]), 0.7, 12, -0.25, 1.25
    heat = blocks.OutputHeatmap(w, b, 4.0, r, lo=lo, hi=hi)
    c = (hi - lo) / r
    grid = core.output_grid(w[None], np.array([b]), r, lo + c / 2, hi - c / 2)[0]
    lut = blocks.heat_lut(theme.current().heat)
    want = lut[np.rint(grid[::-1] * 255).astype(int)]  # x2 = hi in the top row
    assert np.array_equal(heat.image.pixel_array, want)
    heat.show(-w, 2.0)
    grid = core.output_grid(-w[None], np.array([2.0]), r, lo + c / 2, hi - c / 2)[0]
    want = lut[np.rint(grid[::-1] * 255).astype(int)]
    assert np.array_equal(heat.image.pixel_array, want), "not updated in place"


def test_heatmap_boundary_ends_are_the_core_segment():
    heat = blocks.OutputHeatmap(side=3.0, lo=-0.25, hi=1.25, flat=0.02)
    heat.move_to([1.5, -0.5, 0])
    for w, b in (([5.0, 5.0], -7.5), ([1.0, -2.0], 0.3), ([0.0, 3.0], -1.5)):
        heat.show(w, b)
        seg = core.boundary_segment(w, b, -0.25, 1.25, flat=0.02)
        assert seg is not None and heat.boundary.get_stroke_opacity() == 1
        got = [heat.boundary.get_start(), heat.boundary.get_end()]
        want = [heat.to_screen(*p) for p in seg]
        assert np.allclose(got, want, atol=1e-12), f"boundary of {w}, {b}"
        corner = heat.image.get_corner([-1, -1, 0])  # input (lo, lo)
        for p, q in zip(got, seg, strict=True):
            back = (p - corner)[:2] / 3.0 * 1.5 - 0.25
            assert np.allclose(back, q, atol=1e-12), "to_screen is not the square"
    heat.show([0.001, 0.0], 0.0)
    assert heat.segment is None and heat.boundary.get_stroke_opacity() == 0


# -------------------------------------------------------------------- readout
@pytest.mark.parametrize(("value", "places", "sign"),
                         [(0.5, 4, False), (-0.0004, 3, False), (-12.345, 2, True),
                          (3.0, 0, False), (0.25, 2, True)])
def test_readout_shows_the_value_formatted_like_fmt(value, places, sign):
    r = blocks.Readout("loss", 1.0, places, sign=sign)
    assert r.set_value(value) is r
    assert r.value.text == fmt(value, places, sign), r.value.text
    assert r.get_value() == value and r[0].text == "loss"
    assert r.value.get_left()[0] > r[0].get_right()[0], "the number hits its name"


def test_a_readout_sits_on_its_names_baseline_and_grows_rightwards():
    r = blocks.Readout("loss", 0.5, 4)
    name, value = r
    left = value.points[0][0]
    assert abs(value.points[0][1] - draw.baseline(name)) < 1e-9, "off the baseline"
    assert left > name.get_right()[0], "the value overlaps its name"
    r.move_to([2.0, -1.0, 0]).set_value(123456.789)
    left = value.points[0][0]
    r.set_value(0.5)
    assert value.points[0][0] == left and value.text == "0.5000", value.text


# --------------------------------------------------------------- ball, loop, text
def test_ball_touches_the_curve_one_radius_along_the_normal():
    run = core.descend("asymmetric", None, 0.1, 10)
    ball = blocks.BallOnCurve("asymmetric", None, 7, 4, radius=0.2)
    ax = ball.axes
    for k in range(run.n_steps + 1):
        ball.set_state(run.w[k], run.loss[k], run.grad[k])
        p = ax.c2p(run.w[k], run.loss[k])
        t = ax.c2p(run.w[k] + 1, run.loss[k] + run.grad[k]) - p
        normal = np.array([-t[1], t[0], 0.0]) / np.hypot(t[0], t[1])
        assert np.allclose(ball.ball.get_center(), p + 0.2 * normal, atol=1e-9), k
        a, b = ball.tangent.get_start_and_end()
        assert (b - a)[1] / (b - a)[0] == pytest.approx(run.grad[k] * ball.sy / ball.sx)
        shaft = ball.arrow[0].points
        if ball.arrow[0].get_stroke_opacity() > 0:
            assert np.sign(shaft[-1][0] - shaft[0][0]) == -np.sign(run.grad[k]), k


def test_stage_loop_lights_one_box_at_a_time():
    loop = blocks.StageLoop()
    assert len(loop.boxes) == 5 and len(loop.arrows) == 5
    accent = theme.current().accent.lower()
    for i in (0, 3, None):
        loop.light(i, animate=False)
        lit = [b.frame.get_stroke_color().to_hex().lower() == accent for b in loop.boxes]
        assert lit == [j == i for j in range(5)], f"light({i}): {lit}"
    assert loop.light(None) and loop.boxes[0].head.text.startswith("1")


def test_text_line_uses_the_theme_font_and_colour():
    theme.use("light")
    t = blocks.TextLine("lower is better")
    assert t.font == theme.LIGHT.font
    assert t.get_fill_color().to_hex().lower() == theme.LIGHT.text.lower()
