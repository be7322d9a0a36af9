"""Layers: a 2-H-1 network learns XOR; each hidden neuron draws a line, the output
combines them. Written with the public scene API and blocks only."""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UL,
    UP,
    Circle,
    FadeIn,
    Group,
    Line,
    ValueTracker,
    VGroup,
    VMobject,
)
from neuroanim.scenes.layers import (
    HI,
    LO,
    contour_segments,
    explain,
    input_names,
    output_grid,
)

from neuroanim.blocks import (
    SMALL,
    TINY,
    GridCamera,
    LossChart,
    OutputHeatmap,
    Readout,
    TextLine,
    heat_lut,
    number,
)
from neuroanim.draw import MIN_SIZE, NeuroScene, fit_text, shrink_to

TRAIN_SECONDS = 10.0  # the training section lasts this long whatever the epochs
FRAME_W = 14.2  # the layout's width in scene units (16:9 at frame height 8)
OUT_RES = 48  # cells per side of the output's heatmap (its boundary follows them)
HID_RES = 32
X_IN, X_HID, X_MAP, X_OUT = -6.55, -5.05, -3.85, -2.3  # diagram columns
OUT_SIDE = 3.0
OUT_CENTRE = np.array([0.35, 0.35, 0.0])
RIGHT_X = 2.45  # left edge of the chart and the table


def epoch_at(t, epochs: int):
    """Epoch shown at fraction t of training: dense early, sparse late (log-like)."""
    k = max(1.0, epochs / 400)
    return k * ((1.0 + epochs / k) ** np.asarray(t, dtype=float) - 1.0)


ENDING_LEFT, ENDING_TOP = -1.15, -1.75
ENDING_BOTTOM = -3.9  # the ending's lines wrap, then get smaller, to stay above
TITLE_MIN = 24  # a longer title shrinks to this size, then wraps onto two lines
MAP_SIDE = 1.25  # the largest hidden picture (fewer neurons give it more room)


def wrap(text: str, width: float, size: float = TINY) -> list[str]:
    """`text` in lines no wider than `width` scene units at `size` (by words).

    The text is laid out once, one glyph per letter (no ligatures), and a
    line's width read off its first and last glyph: what laying out each
    trial line would measure, without a Text per word.
    """
    words = text.split()
    if not words:
        return []
    joined = " ".join(words)
    glyphs = TextLine(joined, size, disable_ligatures=True).submobjects
    gap = 1 if len(glyphs) == len(joined) else 0  # spaces have a glyph of their own
    if len(glyphs) != sum(map(len, words)) + gap * (len(words) - 1):
        return _wrap_by_trials(words, width, size)  # a letter without its glyph
    spans, i = [], 0
    for word in words:
        spans.append((glyphs[i].get_left()[0], glyphs[i + len(word) - 1].get_right()[0]))
        i += len(word) + gap
    lines, start = [], 0
    for k in range(1, len(words)):
        if spans[k][1] - spans[start][0] > width:
            lines.append(" ".join(words[start:k]))
            start = k
    return [*lines, " ".join(words[start:])]


def _wrap_by_trials(words: list[str], width: float, size: float) -> list[str]:
    lines, line = [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if line and TextLine(trial, size).width > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def ending_sizes() -> list[float]:
    """TINY, then half a point smaller each time, down to MIN_SIZE."""
    return [TINY, *(TINY - 0.5 * k for k in range(1, int(2 * (TINY - MIN_SIZE)) + 1))]


def edge_width(w: float) -> float:
    return float(np.clip(1.0 + 1.4 * abs(w), 1.0, 9.0))


class Layers(NeuroScene):
    """Inputs, hidden neurons (each with its heatmap), output with its bent
    boundary, the loss on a log-epoch axis and the four predictions, from a run.

    For tests: `epoch_shown` is the epoch the readouts show, `values` the
    numbers on screen (predictions by input, the epoch), after construct the
    final ones; `edges[(layer, j, k)]` the edge lines.
    """

    spec_name = "layers"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("camera_class", GridCamera)
        super().__init__(*args, **kwargs)

    def construct(self):
        self.build()
        run = self.run
        self.play(FadeIn(self.title), FadeIn(self.diagram), run_time=1.0,
                  subcaption=self.words("caption.network", hidden=run.hidden_size,
                                        gate=run.gate))
        self.play(FadeIn(self.maps), FadeIn(self.panel), FadeIn(self.live),
                  run_time=1.0,
                  subcaption=self.words("caption.lines"))
        self.wait(0.5)
        self.live.add_updater(lambda _m: self.update_live())
        self.play(self.epoch.animate.set_value(run.epochs), rate_func=self.schedule,
                  run_time=TRAIN_SECONDS,
                  subcaption=self.words("caption.training"))
        self.live.clear_updaters()
        head, _ = explain(run)
        self.play(FadeIn(self.ending), run_time=1.0, subcaption=head)
        self.wait(3.0)

    # ------------------------------------------------------------------ building
    def build(self) -> None:
        run = self.run = self.data.run
        th = self.theme
        if self.camera.frame_width < FRAME_W:  # narrower than 16:9: fit the width
            self.camera.frame_width = FRAME_W
            self.camera.frame_height = FRAME_W * self.camera.pixel_height / (
                self.camera.pixel_width)
        self.epoch = ValueTracker(0)
        self.schedule = lambda t: float(epoch_at(t, run.epochs)) / run.epochs
        self.lut = heat_lut(th.heat)
        self.pos, self.neg = th.heat[2], th.heat[0]
        self._build_diagram()
        self._build_panel()
        # The title runs from the left edge to the epoch counter in its band.
        key = "title.learn" if run.learned else "title.try"
        room = self.counter.get_left()[0] - 0.3 - (-FRAME_W / 2 + 0.35)
        self.title = VGroup(
            fit_text(self.words(key, gate=run.gate), 30, room, min_size=TITLE_MIN,
                     max_lines=2).to_corner(UL, buff=0.35),
        )
        self.title[0].set_x(-FRAME_W / 2 + 0.35, LEFT)
        self.ending = self._build_ending()
        self.live = Group(*self.edges.values(), *self.hid_maps, self.out_map,
                           self.bent, self.chart.lines, self.chart.dot,
                           self.counter, *self.pred_values, *self.marks)
        self.epoch_shown = -1
        self.update_live()

    def _build_diagram(self) -> None:
        run, th = self.run, self.theme
        h = run.hidden_size
        top, bottom = 2.6, -1.85
        step = min(1.75, (top - bottom) / h)
        mid = (top + bottom) / 2
        hy = [mid + step * ((h - 1) / 2 - j) for j in range(h)]
        iy = [mid + 0.95, mid - 0.95]
        radius = 0.27
        side = min(MAP_SIDE, step * 0.8)

        def node(x, y, name):
            c = Circle(radius=radius, stroke_color=th.text, stroke_width=2,
                       fill_color=th.panel, fill_opacity=1).move_to([x, y, 0])
            t = TextLine(name, TINY)
            shrink_to(t, 2 * radius - 0.1, size=TINY)  # a longer name stays inside
            return VGroup(c, t.move_to(c))

        self.inputs = [node(X_IN, y, f"x{k + 1}") for k, y in enumerate(iy)]
        self.hidden_nodes = [node(X_HID, y, f"h{j + 1}") for j, y in enumerate(hy)]
        self.out_node = node(X_OUT, mid, self.words("node.output"))
        self.edges = {}
        for j, y in enumerate(hy):
            for k in range(2):
                a = self.inputs[k][0].get_right()
                b = self.hidden_nodes[j][0].get_left()
                self.edges[(1, j, k)] = Line(a, b, stroke_width=2)
            a = np.array([X_MAP + side / 2, y, 0.0])
            b = self.out_node[0].get_left()
            self.edges[(2, j, 0)] = Line(a, b, stroke_width=2)
        self.hid_maps = []
        for j, y in enumerate(hy):
            m = OutputHeatmap(run.w1[0, j], run.b1[0, j], side=side,
                              resolution=HID_RES, lo=LO, hi=HI, boundary_width=2.5)
            m.move_to([X_MAP, y, 0])
            self.hid_maps.append(m)
        self.map_frames = VGroup(*(
            VMobject().set_points_as_corners([
                m.image.get_corner(UL), m.image.get_corner(UL) + RIGHT * side,
                m.image.get_corner(UL) + RIGHT * side + DOWN * side,
                m.image.get_corner(UL) + DOWN * side, m.image.get_corner(UL)])
            .set_stroke(th.axis, 1.5) for m in self.hid_maps))
        self.links = VGroup(*(Line(n[0].get_right(), m.image.get_left(),
                                   stroke_color=th.axis, stroke_width=1.5)
                              for n, m in zip(self.hidden_nodes, self.hid_maps,
                                              strict=True)))
        # The layers' names over their columns: the hidden one stops short of the
        # largest hidden picture, the inputs' one short of it (and inside the
        # frame), the output's short of the output's panel. Longer names shrink,
        # then wrap upwards.
        hid_room = 2 * (X_MAP - MAP_SIDE / 2 - 0.05 - X_HID)
        left_edge = -FRAME_W / 2 + 0.1
        rooms = {"layer.inputs": X_HID - hid_room / 2 - 0.1 - left_edge,
                 "layer.hidden": hid_room, "layer.output": 1.35}
        over = {"layer.inputs": self.inputs[0], "layer.hidden": self.hidden_nodes[0],
                "layer.output": self.out_node}
        names = VGroup(*(
            fit_text(self.words(key), TINY, rooms[key], th.muted, max_lines=2)
            .next_to(over[key], UP, buff=0.2) for key in rooms))
        if names[0].get_left()[0] < left_edge:
            names[0].shift(RIGHT * (left_edge - names[0].get_left()[0]))
        # what colour and width of an edge mean, left of the ending's text
        key_y = bottom - 0.35
        room = ENDING_LEFT - 0.2 - (X_IN + 0.4)
        legend = VGroup()
        for i, (color, key) in enumerate(((self.pos, "key.positive"),
                                          (self.neg, "key.negative"))):
            y = key_y - 0.34 * i
            legend.add(Line([X_IN - 0.3, y, 0], [X_IN + 0.25, y, 0], stroke_width=4,
                            stroke_color=color))
            text = TextLine(self.words(key), TINY, th.muted)
            shrink_to(text, room, size=TINY)
            legend.add(text.next_to(legend[-1], RIGHT, buff=0.15))
        width = TextLine(self.words("key.width"), TINY, th.muted)
        shrink_to(width, room + 0.7, size=TINY)
        legend.add(width.move_to([0, key_y - 0.68, 0]).set_x(X_IN - 0.3, LEFT))
        self.diagram = VGroup(names, *self.inputs, *self.hidden_nodes, self.out_node,
                              self.links, legend)
        self.maps = VGroup(self.map_frames)

    def _build_panel(self) -> None:
        run, th = self.run, self.theme
        # the output's picture over the input square, with its bent boundary
        self.out_map = OutputHeatmap((0.0, 0.0), 0.0, side=OUT_SIDE, resolution=OUT_RES,
                                     lo=LO, hi=HI)
        self.out_map.move_to(OUT_CENTRE)
        self.out_map.boundary.set_stroke(opacity=0)
        self.bent = VMobject(stroke_color=th.text, stroke_width=4)
        corners = VGroup()
        for n, (x1, x2) in enumerate(run.inputs):
            dot = Circle(radius=0.13, stroke_color=th.text, stroke_width=2,
                         fill_opacity=1,
                         fill_color=th.target_one if run.targets[n] else th.target_zero)
            corners.add(dot.move_to(self.out_map.to_screen(x1, x2)))
        self.corners = corners
        img = self.out_map.image
        axis_names = VGroup(
            TextLine("x1", TINY, th.muted).next_to(img, DOWN, buff=0.12),
            TextLine("x2", TINY, th.muted).next_to(img, LEFT, buff=0.12),
        )
        # the loss, epoch counter and the four predictions
        self.chart = LossChart(run.loss, 3.7, 1.6, log_x=True,
                               x_label=self.words("chart.epoch"),
                               y_label=self.words("chart.loss"))
        self.chart.move_to([RIGHT_X + 2.05, 2.3, 0])
        x_name, y_name = self.chart.axes.texts[-2:]
        shrink_to(x_name, 4.6, size=SMALL)  # under the plot, inside the frame
        shrink_to(y_name, 2 * (y_name.get_x() - 1.6), size=SMALL)  # right of the counter
        # The panel's title spans from the hidden pictures to the chart's ticks;
        # a longer one wraps upwards, under the epoch counter.
        room = 2 * min(OUT_CENTRE[0] - (X_MAP + MAP_SIDE / 2) - 0.1,
                       self.chart.axes.get_left()[0] - 0.1 - OUT_CENTRE[0])
        self.out_title = fit_text(self.words("panel.title"), TINY, room, th.muted,
                                  max_lines=2)
        self.out_title.next_to(img, UP, buff=0.15)
        self.counter = Readout(self.words("readout.epoch"), 0, places=0, size=SMALL)
        self.counter.move_to([0.35, 3.55, 0])
        self.corners.set_z_index(3)
        self.bent.set_z_index(2)
        rows_top = 0.0
        # column heads over 1.2-1.3 wide columns, under the chart's epoch name:
        # longer ones shrink
        heads = VGroup()
        for key, x, room in (("table.input", RIGHT_X + 0.45, 1.1),
                             ("table.target", RIGHT_X + 1.75, 1.1),
                             ("table.output", RIGHT_X + 2.95, 1.0)):
            head = TextLine(self.words(key), TINY, th.muted)
            shrink_to(head, room, size=TINY)
            heads.add(head.move_to([x, rows_top + 0.45, 0]))
        self.pred_values, self.marks, self.yes, self.no = [], [], [], []
        cells = VGroup()
        names = input_names()
        for n in range(4):
            y = rows_top - 0.42 * n
            cells.add(TextLine(names[n], SMALL).move_to([RIGHT_X + 0.45, y, 0]))
            cells.add(TextLine(f"{run.targets[n]:g}", SMALL).move_to(
                [RIGHT_X + 1.75, y, 0]))
            v = number(run.predictions[0, n], 2, SMALL)
            v.move_to([RIGHT_X + 2.95, y, 0])
            self.pred_values.append(v)
            yes = TextLine("✓", SMALL, th.good).move_to([RIGHT_X + 3.75, y, 0])
            no = TextLine("✗", SMALL, th.bad).move_to([RIGHT_X + 3.75, y, 0])
            self.yes.append(yes)
            self.no.append(no)
            self.marks += [yes, no]
        self.panel = VGroup(self.out_title, axis_names, self.chart.axes, heads, cells,
                            self.corners)

    def _build_ending(self) -> VGroup:
        """Headline and lines under the output's picture and the table, wrapped
        to the space left (never shrunk below the smallest size used)."""
        head, lines = explain(self.run)
        th = self.theme
        color = th.good if self.run.learned else th.bad
        left, top = ENDING_LEFT, ENDING_TOP
        room = FRAME_W / 2 - 0.25 - left
        # Longer words wrap into more lines; past the bottom, all of it gets
        # smaller (the headline in proportion), never below MIN_SIZE.
        for size in ending_sizes():
            big = SMALL if size == TINY else size * SMALL / TINY
            rows = [TextLine(part, big, color) for part in wrap(head, room, big)]
            for line in lines:
                rows += [TextLine(part, size) for part in wrap(line, room, size)]
            block = VGroup(*rows).arrange(DOWN, aligned_edge=LEFT, buff=0.1)
            if block.height <= top - ENDING_BOTTOM:
                break
        return block.move_to([left, top, 0], aligned_edge=UL)

    # ------------------------------------------------------------------- frames
    def update_live(self) -> None:
        run = self.run
        e = int(round(float(self.epoch.get_value())))
        e = min(max(e, 0), run.epochs)
        if e == self.epoch_shown:
            return
        self.epoch_shown = e
        w1, b1, w2, b2 = run.state(e)
        for (layer, j, k), line in self.edges.items():
            w = float(w1[j, k] if layer == 1 else w2[j])
            line.set_stroke(self.pos if w > 0 else self.neg, edge_width(w), opacity=1)
        for j, m in enumerate(self.hid_maps):
            m.show(w1[j], b1[j])
        grid = output_grid(run, e, OUT_RES)
        np.copyto(self.out_map.image.pixel_array,
                  self.lut[np.rint(grid * 255).astype(np.intp)])
        self._bend(contour_segments(grid))
        self.chart.show_upto(e)
        self.counter.set_value(e)
        for n in range(4):
            p = float(run.predictions[e, n])
            self.pred_values[n].set_value(p)
            right = (p > 0.5) == (run.targets[n] > 0.5)
            self.yes[n].set_opacity(1.0 if right else 0.0)
            self.no[n].set_opacity(0.0 if right else 1.0)
        self.values = {"epoch": e, "predictions": [
            float(v.get_value()) for v in self.pred_values]}

    def _bend(self, segments) -> None:
        if not segments:
            self.bent.set_points(np.zeros((4, 3)) + OUT_CENTRE)
            self.bent.set_stroke(opacity=0)
            return
        ends = self.out_map.many_to_screen(np.asarray(segments, float)).reshape(-1, 2, 3)
        a, b = ends[:, 0], ends[:, 1]
        pts = np.stack([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b], axis=1)
        self.bent.set_points(pts.reshape(-1, 3))
        self.bent.set_stroke(opacity=1)
