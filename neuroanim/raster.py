"""What does not move is not redrawn: static layers painted once per animation.

manim's Cairo renderer paints the mobjects before the first moving one once per
`play` (its static prefix) and redraws everything after it on every frame: a
title added before a moving dot is cached, the panel, axes and labels added
after it are drawn again 15 times a second. `Layers` splits the frame's draw
list into runs of moving and still mobjects; each still run of vector shapes is
painted once into a transparent raster at the start of the play and
composited by Cairo in its place on every frame, so z-order is kept.

Paths are kept too: Cairo is handed each shape's outline once and replays it
(`PathCache`) for as long as its points stay the same, so a fading panel or a
still label in a moving run costs one `append_path` per frame instead of a
Python call per curve.

Scene updates are trimmed the same way: only families with an updater are
visited each frame.

What counts as moving: the mobjects of the play's animations (families,
through animation groups), every family with an updater, foreground mobjects.
Because an updater may change any mobject, each still mobject's fingerprint
(its points and colours) is checked before every frame; if one changed, the
play goes back to manim's own drawing from that frame on. A scene updater
(`Scene.add_updater`) turns layering off for the play.
"""

from __future__ import annotations

import itertools

import numpy as np
from manim import AnimationGroup, FadeIn, FadeOut, Succession, VMobject

MIN_RUN = 4  # still mobjects in a row worth a raster of their own
MIN_FRAMES = 3  # a play shorter than this is drawn the usual way


class _VState:
    """Everything Cairo reads of some VMobjects (points, colours, widths),
    held as a few concatenated arrays: `same()` tells whether any of it
    changed, in place or not, at the cost of one copy and compare."""

    def __init__(self, mobs: list) -> None:
        self.mobs = mobs
        self.state = self._now() if mobs else ()

    def _now(self) -> tuple:
        mobs = self.mobs
        # reshaped: manim leaves an emptied mobject's points as shape (0,)
        points = [m.points.reshape(-1, 3) for m in mobs]
        colours = [a.reshape(-1, 4) for m in mobs for a in
                   (m.fill_rgbas, m.stroke_rgbas, m.background_stroke_rgbas)]
        shapes = tuple(len(a) for a in points) + tuple(len(a) for a in colours)
        widths = tuple((m.stroke_width, m.background_stroke_width, m.sheen_factor)
                       for m in mobs)
        return shapes, widths, np.concatenate(points), np.concatenate(colours)

    def same(self) -> bool:
        if not self.mobs:
            return True
        shapes, widths, points, colours = self._now()
        return shapes == self.state[0] and widths == self.state[1] and \
            np.array_equal(points, self.state[2]) and \
            np.array_equal(colours, self.state[3])


def _invisible(m) -> bool:
    """A vector shape that paints nothing: no fill, no stroke to see (a faded
    trail dot, a hidden label). Skipping it leaves every pixel as it was."""
    if not isinstance(m, VMobject):
        return False
    fill = m.fill_rgbas
    if len(fill) and fill[:, 3].any():
        return False
    for width, rgbas in ((m.stroke_width, m.stroke_rgbas),
                         (m.background_stroke_width, m.background_stroke_rgbas)):
        if width and len(rgbas) and rgbas[:, 3].any():
            return False
    return True


def _animated(animations, skip=frozenset()) -> set[int]:
    """Ids of every mobject the animations move (`skip`: animations left out)."""
    out: set[int] = set()
    for anim in animations:
        if id(anim) in skip:
            continue
        out.update(id(m) for m in anim.mobject.get_family())
        if isinstance(anim, AnimationGroup):
            out |= _animated(anim.animations, skip)
    return out


class Fader:
    """A plain fade (FadeIn/FadeOut in place, all at once) drawn as one raster.

    Its mobjects change nothing but opacity: every member is drawn at
    factor x its own alpha, the factor being what manim's rate function gives
    for the frame (recorded as the animation interpolates). The raster of the
    members at full opacity, composited at that factor, is the same picture
    where members do not overlap and a close one where they do (one
    translucent layer instead of several).
    """

    def __init__(self, anim) -> None:
        self.anim, self.fade_in = anim, isinstance(anim, FadeIn)
        self.factor = 0.0 if self.fade_in else 1.0
        full = anim.target_copy if self.fade_in else anim.starting_mobject
        self.full = dict(zip(map(id, anim.mobject.get_family()), full.get_family(),
                             strict=True))
        inner = anim.interpolate_mobject

        def interpolate_mobject(alpha: float) -> None:
            sub = float(anim.get_sub_alpha(alpha, 0, 1))  # lag 0: every family's
            self.factor = sub if self.fade_in else 1.0 - sub
            inner(alpha)

        anim.interpolate_mobject = interpolate_mobject

    @staticmethod
    def plain(anim) -> bool:
        """A fade this class draws: no shift, no scale, no lag, no arc, shapes only."""
        if type(anim) not in (FadeIn, FadeOut) or anim.lag_ratio or anim.path_arc:
            return False
        if np.any(anim.shift_vector) or anim.scale_factor != 1 or anim.point_target:
            return False
        full = anim.target_copy if isinstance(anim, FadeIn) else anim.starting_mobject
        family = anim.mobject.get_family()
        return len(family) == len(full.get_family()) and all(
            isinstance(m, VMobject) and not m.updaters for m in family)


def _fades(animations) -> list:
    """Every plain fade among `animations` (through groups, not successions:
    their parts begin later)."""
    out = []
    for anim in animations:
        if isinstance(anim, Succession):
            continue
        if isinstance(anim, AnimationGroup):
            out += _fades(anim.animations)
        elif Fader.plain(anim):
            out.append(anim)
    return out


class Layers:
    """The draw plan of one play: ("still", raster) | ("fade", raster, Fader) |
    ("draw", mobs) steps, in the frame's z-order."""

    def __init__(self, scene, display: list) -> None:
        self.camera = scene.renderer.camera
        fades = _fades(scene.animations)
        movers = _animated(scene.animations, skip={id(a) for a in fades})
        for top in [*scene.mobjects, *scene.foreground_mobjects]:
            for m in top.get_family():
                if m.updaters:
                    movers.update(id(x) for x in m.get_family())
        movers.update(id(x) for top in scene.foreground_mobjects
                      for x in top.get_family())
        fading: dict[int, tuple] = {}  # member id -> (Fader, its full-opacity copy)
        claimed: set[int] = set()
        for anim in fades:
            family = [id(m) for m in anim.mobject.get_family()]
            if claimed.intersection(family) or movers.intersection(family):
                movers.update(family)  # moved by something else too: drawn as usual
                continue
            claimed.update(family)
            fader = Fader(anim)
            fading.update((i, (fader, fader.full[i])) for i in family)
        self.plan: list[tuple] = []
        self.watch: list = []  # every still mobject (all VMobjects)
        self.fading: list[tuple] = []  # (member, full copy) of every faded one
        self.faders: list[Fader] = []
        self._full_points = None
        run: list = []
        fade_run: list = []
        run_fader: list = [None]

        def flush() -> None:
            if len(run) >= MIN_RUN:
                self.plan.append(("still", self._paint(run), None))
                self.watch.extend(run)
            elif run:
                self._draw_step(list(run))
            run.clear()

        def flush_fade() -> None:
            if fade_run:
                copies = [fading[id(m)][1] for m in fade_run]
                self.plan.append(("fade", self._paint(copies), run_fader[0]))
                self.fading.extend(zip(fade_run, copies, strict=True))
                if run_fader[0] not in self.faders:
                    self.faders.append(run_fader[0])
            fade_run.clear()

        for m in display:
            if id(m) in fading and id(m) not in movers:
                flush()
                if run_fader[0] is not fading[id(m)][0]:
                    flush_fade()
                    run_fader[0] = fading[id(m)][0]
                fade_run.append(m)
            elif id(m) not in movers and isinstance(m, VMobject):
                flush_fade()
                run.append(m)
            else:
                flush()
                flush_fade()
                self._draw_step([m])
        flush()
        flush_fade()
        self._watched = _VState(self.watch)
        self.stills = sum(1 for step in self.plan if step[0] in ("still", "fade"))

    def _draw_step(self, mobs: list) -> None:
        if self.plan and self.plan[-1][0] == "draw":
            self.plan[-1][1].extend(mobs)
        else:
            self.plan.append(("draw", mobs))

    def _paint(self, run: list):
        """The run painted once on a transparent canvas, and where it has ink."""
        import cairo

        cam = self.camera
        layer = np.zeros_like(cam.pixel_array)
        cam.display_multiple_vectorized_mobjects(run, layer)
        cam.pixel_array_to_cairo_context.pop(id(layer), None)  # no leak per play
        alpha = layer[..., 3]
        rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
        if not len(rows):
            return None
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        surface = cairo.ImageSurface.create_for_data(
            layer.data, cairo.FORMAT_ARGB32, layer.shape[1], layer.shape[0])
        return surface, layer, (int(x0), int(y0), int(x1 - x0), int(y1 - y0))

    def still_valid(self) -> bool:
        """No still mobject changed, no faded one changed shape, and every fade's
        factor is one a raster can show (a rate function may overshoot)."""
        return all(0.0 <= f.factor <= 1.0 for f in self.faders) and \
            self._watched.same() and self._same_shapes()

    def _same_shapes(self) -> bool:
        """Faded members still have their copies' points, up to the rounding of
        manim interpolating between two equal outlines."""
        if not self.fading:
            return True
        if self._full_points is None:
            self._full_points = np.concatenate([f.points for _, f in self.fading])
        now = [m.points for m, _ in self.fading]
        if sum(map(len, now)) != len(self._full_points):
            return False
        return bool(np.abs(np.concatenate(now) - self._full_points).max() <= 1e-7)

    def draw(self, pixel_array) -> None:
        cam = self.camera
        ctx = cam.get_cairo_context(pixel_array)
        for step in self.plan:
            if step[0] == "draw":
                shown = [m for m in step[1] if not _invisible(m)]
                for kind, group in itertools.groupby(shown, cam.type_or_raise):
                    cam.display_funcs[kind](list(group), pixel_array)
            elif step[1] is not None:
                factor = step[2].factor if step[0] == "fade" else 1.0
                if factor <= 0.0:
                    continue
                surface, _, (x, y, w, h) = step[1]
                ctx.save()
                ctx.identity_matrix()
                ctx.set_source_surface(surface, 0, 0)
                ctx.rectangle(x, y, w, h)
                if factor >= 1.0:
                    ctx.fill()
                else:
                    ctx.clip()
                    ctx.paint_with_alpha(factor)
                ctx.restore()


class PathCache:
    """manim's `Camera.set_cairo_context_path`, remembered per outline.

    Keyed by the points' bytes and the context's matrix (frame units to
    pixels), so a hit gives Cairo exactly the path manim would have built;
    a shape whose points change is a miss and is built the usual way.
    """

    KEPT = 4096

    def __init__(self, camera) -> None:
        self.build = camera.set_cairo_context_path
        self.paths: dict = {}
        self.hits = self.misses = 0

    def __call__(self, ctx, vmobject):
        points = vmobject.points
        if len(points) == 0:
            return self.build(ctx, vmobject)
        key = (points.tobytes(), tuple(ctx.get_matrix()),
               vmobject.tolerance_for_point_equality)
        path = self.paths.get(key)
        if path is None:
            self.misses += 1
            result = self.build(ctx, vmobject)
            if len(self.paths) >= self.KEPT:
                del self.paths[next(iter(self.paths))]
            self.paths[key] = ctx.copy_path()
            return result
        self.hits += 1
        ctx.new_path()
        ctx.append_path(path)
        return None


def install(scene) -> None:
    """Make `scene` (Cairo) draw its frames through `Layers` where it pays."""
    camera = scene.renderer.camera
    camera.set_cairo_context_path = PathCache(camera)
    capture = camera.capture_mobjects
    state: dict = {"layers": None, "moving": None}

    def begin_animations() -> None:
        type(scene).begin_animations(scene)
        state["layers"] = None
        state["moving"] = scene.moving_mobjects
        if scene.updaters or scene.renderer.skip_animations:
            return
        if scene.is_current_animation_frozen_frame():
            return
        if scene.duration * camera.frame_rate < MIN_FRAMES:
            return
        layers = Layers(scene, camera.get_mobjects_to_display(scene.moving_mobjects))
        if layers.stills:
            state["layers"] = layers

    def capture_mobjects(mobjects, **kwargs) -> None:
        layers = state["layers"]
        plain = kwargs.get("include_submobjects", True) and set(kwargs) <= {
            "include_submobjects"}
        if layers is None or mobjects is not state["moving"] or not plain:
            return capture(mobjects, **kwargs)
        if not layers.still_valid():  # an updater changed a "still" mobject
            state["layers"] = None
            return capture(mobjects, **kwargs)
        layers.draw(camera.pixel_array)
        return None

    def update_mobjects(dt: float) -> None:
        # manim calls `update` on every member of every family each frame; a
        # family with no updater does nothing, so only those with one are
        # visited (found again whenever the scene's mobjects change).
        key = tuple(map(id, scene.mobjects))
        if state.get("key") != key or state.get("stale", True):
            state["key"] = key
            state["live"] = [m for m in scene.mobjects
                             if any(x.updaters for x in m.get_family())]
            state["stale"] = False
        for mob in state["live"]:
            mob.update(dt)

    original_begin = begin_animations

    def begin_animations_fresh() -> None:
        state["stale"] = True  # updaters may have been added between plays
        original_begin()

    scene.begin_animations = begin_animations_fresh
    scene.update_mobjects = update_mobjects
    camera.capture_mobjects = capture_mobjects
