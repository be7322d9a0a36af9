"""The layers scene (chapter 3 preview): its numbers against the run, its renders.

Readouts, edges and pictures are checked against the recorded MLPRun at the
shown epoch (forward pass recomputed here), the bent boundary against the
network's own 0.5 level, the ending against the final numbers; renders are
decoded; the last frame is compared with control data in both themes.
"""

from __future__ import annotations

import numpy as np
import pytest
from manim import tempconfig
from manim.utils.testing.frames_comparison import frames_comparison
from neuroanim.scenes import layers as card
from neuroanim.scenes import layers_draw as ld
from neuroanim.scenes.layers_draw import Layers

from neuroanim import lesson, registry
from neuroanim import render as rd
from neuroanim.core import mlp
from tests.scene_checks import (  # noqa: F401  (dark, light: fixtures)
    constructed,
    dark,
    layout_problems,
    light,
    shown_value,
    text_blocks,
)

__module_test__ = "test_scene_layers"


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, float)))


def built(tmp_path, params=None, size=(854, 480)) -> Layers:
    w, h = size
    with tempconfig({"pixel_width": w, "pixel_height": h, "frame_height": 8.0,
                     "frame_width": 8.0 * w / h, "frame_rate": 5,
                     "disable_caching": True, "media_dir": str(tmp_path / "m"),
                     "verbosity": "ERROR", "progress_bar": "none"}):
        scene = Layers(params=params or {})
        scene.build()
    return scene


def show(scene: Layers, epoch: int) -> None:
    scene.epoch.set_value(epoch)
    scene.update_live()


# ---------------------------------------------------------------- the numbers
def test_contour_follows_the_networks_own_half_level():
    run = mlp.train_mlp()
    for e in (0, 300, run.epochs):
        grid = card.output_grid(run, e, 40)
        segs = card.contour_segments(grid)
        if not ((grid > 0.5).any() and (grid < 0.5).any()):
            assert segs == []
            continue
        assert segs, f"no boundary at epoch {e}"
        ends = np.array([p for s in segs for p in s])
        _, p = mlp.forward(*run.state(e), ends)
        # linear interpolation between cell centres: close to the true level
        assert np.abs(p - 0.5).max() < 0.06, (e, np.abs(p - 0.5).max())
        assert ends.min() >= card.LO - 1e-9 and ends.max() <= card.HI + 1e-9


def test_learned_xor_bends_its_boundary_into_two_pieces():
    run = mlp.train_mlp()
    assert run.learned
    grid = card.output_grid(run, run.epochs, 48)
    # XOR's yes-region touches (0, 1) and (1, 0) but not the diagonal corners
    c = (card.HI - card.LO) / 48
    idx = lambda v: int((v - card.LO) / c)  # noqa: E731
    for (x1, x2), t in zip(run.inputs, run.targets, strict=True):
        assert (grid[47 - idx(x2), idx(x1)] > 0.5) == bool(t), (x1, x2)


def test_explanation_comes_from_the_final_numbers():
    run = mlp.train_mlp()
    head, lines = card.explain(run)
    assert head == "XOR learned: 4 of 4 right"
    fires = run.hidden[-1].T > 0.5
    for j in range(run.hidden_size):
        named = [card.INPUT_NAMES[n] for n in range(4) if fires[j, n]]
        assert all(n in lines[j] for n in named), (lines[j], named)
        assert lines[j].startswith(f"h{j + 1}")
    assert "output says yes" in lines[-1]
    stuck = mlp.train_mlp(seed=0)
    assert not stuck.learned
    head, lines = card.explain(stuck)
    assert head.startswith("XOR not learned") and "of 4 right" in head
    assert "Stuck" in lines[-1] and "0.125" in lines[-1], lines


def test_readouts_edges_and_pictures_equal_the_run_at_the_shown_epoch(tmp_path):
    scene = built(tmp_path)
    run = scene.run
    lut = ld.heat_lut(scene.theme.heat)
    for e in (0, 1, 37, 640, run.epochs):
        show(scene, e)
        assert scene.epoch_shown == e and scene.values["epoch"] == e
        assert shown_value(scene.counter.value.text) == e
        _, p = mlp.forward(*run.state(e), run.inputs)
        for n in range(4):
            assert scene.pred_values[n].get_value() == run.predictions[e, n]
            assert abs(shown_value(scene.pred_values[n].text) - p[n]) <= 0.005 + 1e-9
            right = (p[n] > 0.5) == (run.targets[n] > 0.5)
            assert scene.yes[n].get_fill_opacity() == (1.0 if right else 0.0)
        for (layer, j, k), line in scene.edges.items():
            w = run.w1[e, j, k] if layer == 1 else run.w2[e, j]
            want = scene.pos if w > 0 else scene.neg
            assert line.get_stroke_color().to_hex().lower() == want.lower()
            assert line.get_stroke_width() == pytest.approx(ld.edge_width(w))
        # each hidden picture: that neuron's own sigmoid over the screen square
        r = ld.HID_RES
        cen = card.LO + (card.HI - card.LO) * (np.arange(r) + 0.5) / r
        for j, m in enumerate(scene.hid_maps):
            z = run.w1[e, j, 0] * cen[None, :] + run.w1[e, j, 1] * cen[::-1, None] \
                + run.b1[e, j]
            want = lut[np.rint(sigmoid(z) * 255).astype(int)]
            assert np.abs(m.image.pixel_array.astype(int) - want).max() <= 1, (e, j)
        # the output's picture: the whole network's forward pass at each cell
        r = ld.OUT_RES
        cen = card.LO + (card.HI - card.LO) * (np.arange(r) + 0.5) / r
        x1, x2 = np.meshgrid(cen, cen[::-1])
        _, out = mlp.forward(*run.state(e), np.column_stack([x1.ravel(), x2.ravel()]))
        want = lut[np.rint(out.reshape(r, r) * 255).astype(int)]
        assert np.array_equal(scene.out_map.image.pixel_array, want), e


def test_layout_fits_the_frame_for_every_hidden_size_and_gate():
    for params in ({}, {"hidden": 1}, {"hidden": 4}, {"hidden": 8, "epochs": 300},
                   {"gate": "AND", "epochs": 500}, {"seed": 0}):
        scene = constructed(Layers, params)
        blocks = text_blocks(scene.title, scene.ending, scene.counter,
                             *scene.diagram, scene.panel[0], scene.panel[1],
                             scene.chart.axes, scene.panel[3], scene.panel[4],
                             *scene.pred_values, *scene.marks)
        problems = layout_problems(blocks, scene.half_w, scene.half_h, str(params))
        assert not problems, problems[:5]


# -------------------------------------------------------------------- renders
@pytest.mark.render
def test_renders_decode_with_captions_and_alt(tmp_path):
    from neuroanim import pipeline

    done = pipeline.make_all("layers", {"epochs": 400}, formats=("mp4", "gif", "png"),
                             fps=10, resolution=(320, 180), out_dir=tmp_path)
    mp4, gif, png = (f.result for f in done)
    assert mp4.width == 320 and mp4.frames > 100 and mp4.captions is not None
    assert gif.frames == mp4.frames and gif.fps == pytest.approx(10)
    assert png.frames == 1
    alt = done[0].alt
    run = mlp.train_mlp(epochs=400)
    assert f"after {run.epochs} epochs" in alt and "2 hidden neurons" in alt


@pytest.mark.render
def test_the_chapter_3_lesson_builds_and_links(tmp_path):
    ls = lesson.loads(lesson.builtin_text("chapter-3"), "chapter-3.toml")
    fig = ls.figure("layers-xor")
    assert {o.fmt for o in fig.outputs} == {"mp4", "webm", "gif", "png", "interactive"}
    one = ls.figure("xor-one-neuron")
    assert one.scene == "and-gate" and one.values["gate"] == "XOR"
    ch2 = lesson.default()
    teaser = next(f for f in ch2.figures if f.values.get("gate") == "XOR")
    assert teaser.link and teaser.link["href"] == "chapter-3/index.html"


# -------------------------------------------------------------- last frames
@pytest.mark.usefixtures("dark")
@frames_comparison(base_scene=Layers)
def test_layers_last_frame(scene):
    Layers.construct(scene)


@pytest.mark.usefixtures("light")
@frames_comparison(base_scene=Layers)
def test_layers_last_frame_light(scene):
    Layers.construct(scene)


def test_registry_points_at_this_scene():
    assert registry.get("layers").scene_class() is Layers
    assert rd.passes([("mp4", 854, 480, 20.0), ("gif", 854, 480, 20.0)])[0][0][1] == \
        [(0, 1), (1, 1)]


def test_the_teaser_links_to_chapter_3_and_a_tampered_link_is_dropped(tmp_path):
    from neuroanim.page import render_index

    entry = {"figure": "xor-teaser", "scene": "and-gate", "format": "png",
             "theme": "dark", "title": "One neuron cannot learn XOR", "alt": "x",
             "link": {"text": "Chapter 3 <preview>", "href": "chapter-3/index.html"}}
    (tmp_path / "xor-teaser.png").write_bytes(b"\x89PNG")
    page = render_index(tmp_path, {"outputs": {"xor-teaser.png": entry}})
    assert '<a href="chapter-3/index.html">Chapter 3 &lt;preview&gt; →</a>' in page
    for bad in ("javascript:alert(1)", "//evil.example/x", "data:text/html,x"):
        entry["link"] = {"text": "next", "href": bad}
        page = render_index(tmp_path, {"outputs": {"xor-teaser.png": entry}})
        assert bad not in page and 'class="next"' not in page, bad
