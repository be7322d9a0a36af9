"""A scene's timeline without its video: storyboards and the frame count of a pass.

manim can run a scene's `construct` with every animation skipped: each `play`
jumps to its end state and the renderer's clock still advances by its run
time, and captions still land at their times. That pass costs about what a
still does. `timeline` runs it once, optionally painting the frame at the end
of each play; `storyboard` lays the keyframe of each section (each caption of
the scene, and for a scene with few captions the middles of its longest stretches)
out on one labelled PNG.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import files
from . import render as rd

MIN_PANELS = 6
MAX_PANELS = 12
PANEL_TEXT = 13  # px: the smallest size the figures themselves use
BOARD_BG = (246, 246, 248)
BOARD_INK = (24, 26, 32)
BOARD_MUTED = (92, 96, 108)


@dataclass(frozen=True)
class Timeline:
    duration: float  # seconds, as the video would run
    captions: list[tuple[float, float, str]]  # (start, end, text)
    shots: list[tuple[float, Any]]  # (time, RGB frame), in time order

    def frames(self, fps: float) -> int:
        """About how many frames a pass at `fps` writes (a progress bar's total)."""
        return max(1, round(self.duration * fps))


EPS = 1e-6


def timeline(spec, values, data, *, w: int, h: int, theme: str,
             shots=None, verbose: bool = False) -> Timeline:
    """Run `construct` with animations skipped, painting frames as `shots` says:
    None, "captions" (the state at the end of each caption: a few paints), or
    a list of times in seconds (painted inside plays where they fall). The
    scene's own errors propagate as from a render.

    Plays with no frame taken inside them skip manim's copies of the starting
    and target mobjects, which only frames inside an animation need (at its
    end every animation stands at its target): that halves the pass.
    """
    with rd.scratch_dir() as scratch:
        settings = rd._manim_settings("png", w, h, 15, theme, False, scratch, verbose,
                                      False)
        with rd._manim_session(settings, theme):
            scene = spec.scene_class()(params=values, data=data)
            renderer = scene.renderer
            paint = renderer.update_frame
            rd._only_last_frame(renderer)
            taken: list[tuple[float, Any]] = []
            state = {"cheap": True}

            def shoot(at: float) -> None:
                if any(abs(t - at) < 1e-3 for t, _ in taken):
                    return
                paint(scene)
                taken.append((at, renderer.get_frame()[..., :3].copy()))

            if shots == "captions":
                _shoot_at_caption_ends(scene, renderer, shoot)
            elif shots is not None:
                _shoot_at_times(scene, renderer, shoot, state, list(shots))
            with _no_needless_copies(state):
                scene.render()
            if shots and (not taken or taken[-1][0] < renderer.time - EPS):
                shoot(float(renderer.time))  # the last frame: how it ends
            subs = [(s.start.total_seconds(), s.end.total_seconds(), str(s.content))
                    for s in renderer.file_writer.subcaptions]
            return Timeline(float(renderer.time), subs, taken)


@contextlib.contextmanager
def _no_needless_copies(state: dict):
    """While `state["cheap"]`, a transform (fades included) starts from its
    mobject itself and aligns to its target itself, not to copies of them.
    Exact at the animation's end, which is all a skipped play shows: there it
    stands at its target (or, for an indication that returns, as it began).
    Other animations (Create, Write...) draw from their starting copy: kept."""
    from manim.animation.fading import _Fade
    from manim.animation.transform import Transform

    faded = _Fade._create_faded_mobject
    begin = Transform.begin

    def create_faded_mobject(self, fadeIn):
        return self.mobject if state["cheap"] else faded(self, fadeIn)

    def transform_begin(self):
        if not state["cheap"]:
            return begin(self)
        self.target_mobject = self.create_target()
        self.target_copy = self.target_mobject
        self.mobject.align_data(self.target_copy)
        self.starting_mobject = self.mobject  # Animation.begin, without the copy
        if self.suspend_mobject_updating:
            self.mobject.suspend_updating()
        self.interpolate(0)

    _Fade._create_faded_mobject = create_faded_mobject
    Transform.begin = transform_begin
    try:
        yield
    finally:
        _Fade._create_faded_mobject = faded
        Transform.begin = begin


class _Times(list):
    def close(self) -> None:  # what manim calls on its progress bar
        pass


def _shoot_at_caption_ends(scene, renderer, shoot) -> None:
    """A frame at each caption's end: when a play ends at or after it."""
    pending: list[float] = []
    add = scene.add_subcaption

    def add_subcaption(content, duration=1, offset=0):
        add(content, duration=duration, offset=offset)
        end = renderer.time + offset + duration
        if end <= renderer.time + EPS:  # play(subcaption=...): it ends now
            shoot(float(renderer.time))
        else:
            pending.append(end)

    play = renderer.play

    def play_and_shoot(scene_obj, *args, **kwargs):
        play(scene_obj, *args, **kwargs)
        if any(t <= renderer.time + EPS for t in pending):
            pending[:] = [t for t in pending if t > renderer.time + EPS]
            shoot(float(renderer.time))

    scene.add_subcaption = add_subcaption
    renderer.play = play_and_shoot


def _shoot_at_times(scene, renderer, shoot, state: dict, targets: list[float]) -> None:
    """A frame at each of `targets` (seconds), inside a play if need be: that
    play alone draws from real copies (`_no_needless_copies`)."""
    targets = sorted(targets)
    span = {"start": 0.0}
    progression = scene.get_time_progression

    def inside(start: float, run_time: float) -> list[float]:
        return [t - start for t in targets if start + EPS < t < start + run_time - EPS]

    def times(run_time, *args, **kwargs):
        if not renderer.skip_animations:
            return progression(run_time, *args, **kwargs)
        return _Times([*inside(span["start"], run_time), run_time])

    compile_data = scene.compile_animation_data

    def compile_animation_data(*args, **kwargs):
        out = compile_data(*args, **kwargs)
        span["start"] = float(renderer.time)  # before manim adds the run time
        state["cheap"] = not inside(span["start"], scene.duration or 0.0)
        return out

    render = renderer.render

    def render_and_shoot(scene_obj, t, moving, *args, **kwargs):
        render(scene_obj, t, moving, *args, **kwargs)
        at = span["start"] + t
        if any(abs(at - x) < EPS for x in targets) or \
                t < (scene_obj.duration or 0.0) - EPS:
            shoot(at)

    play = renderer.play

    def play_and_shoot(scene_obj, *args, **kwargs):
        play(scene_obj, *args, **kwargs)
        end = float(renderer.time)
        for x in targets:  # at this play's end, or inside a wait (a still frame)
            if span["start"] + EPS < x <= end + EPS:
                shoot(x)
        state["cheap"] = True

    scene.get_time_progression = times
    scene.compile_animation_data = compile_animation_data
    renderer.render = render_and_shoot
    renderer.play = play_and_shoot


def keyframe_times(duration: float, captions: list[tuple[float, float]]) -> list[float]:
    """When the keyframes fall: each caption's end (an even spread of MAX_PANELS
    of them when there are more); a scene with fewer than MIN_PANELS captions
    also gets, until it has MIN_PANELS, the middle of its longest stretch
    between two keyframes, or its ending when the time after the last caption
    is the longest. Caption ends are play ends: a pass paints them without
    copying anything (`_no_needless_copies`)."""
    ends = sorted({round(e, 6) for _, e in captions if 0 < e <= duration + EPS})
    if len(ends) >= MIN_PANELS:
        if len(ends) > MAX_PANELS:
            step = (len(ends) - 1) / (MAX_PANELS - 1)
            ends = [ends[round(i * step)] for i in range(MAX_PANELS)]
        return ends
    if len(ends) <= 1 and duration > EPS:  # no sections to go by: equal stretches
        return [duration * i / MIN_PANELS for i in range(1, MIN_PANELS + 1)]
    while 0 < len(ends) < MIN_PANELS:
        edges = [0.0, *ends]
        i = max(range(len(ends)), key=lambda k: edges[k + 1] - edges[k])
        if duration - ends[-1] > EPS and duration - ends[-1] >= edges[i + 1] - edges[i]:
            ends.append(duration)  # the longest stretch is the ending: show it
        else:
            ends.insert(i, (edges[i] + edges[i + 1]) / 2)  # the middle of it
    return ends


SEEN = "storyboards.json"  # in render.cache_dir(): duration and captions per scene


def _seen_key(spec, values) -> str:
    doc = json.dumps([spec.name, {k: repr(v) for k, v in values.items()}])
    return hashlib.sha256(doc.encode()).hexdigest()[:24]


def _recall(spec, values) -> tuple[float, list[tuple[float, float]]] | None:
    """The duration and caption times of this scene's last storyboard (a hint:
    a pass that finds otherwise is done again)."""
    try:
        doc = json.loads((rd.cache_dir() / SEEN).read_text())
        d, caps = doc[_seen_key(spec, values)]
        return float(d), [(float(a), float(b)) for a, b in caps]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _remember(spec, values, tl: Timeline) -> None:
    with contextlib.suppress(OSError, ValueError):
        path = rd.cache_dir() / SEEN
        try:
            doc = json.loads(path.read_text())
            doc = doc if isinstance(doc, dict) else {}
        except (OSError, ValueError):
            doc = {}
        doc.pop(_seen_key(spec, values), None)
        doc[_seen_key(spec, values)] = [tl.duration, _times(tl)]
        files.atomic_write(path, json.dumps(dict(list(doc.items())[-500:])).encode())


def _times(tl: Timeline) -> list[tuple[float, float]]:
    return [(a, b) for a, b, text in tl.captions if text.strip()]


def sections(tl: Timeline) -> list[tuple[float, str]]:
    """(time, label) of each keyframe (`keyframe_times`): the caption ending
    there, else the one running then."""
    if not tl.shots:
        return []
    out = []
    for t in keyframe_times(tl.duration, _times(tl)):
        ending = [c[2] for c in tl.captions if abs(c[1] - t) < 1e-3 and c[2].strip()]
        running = [c[2] for c in tl.captions if c[0] <= t - 1e-6 <= c[1] and c[2].strip()]
        out.append((t, (ending or running or [""])[0]))
    return out


def _shot_at(tl: Timeline, t: float):
    """The frame of the last play that ended by `t` (the first one if none)."""
    best = tl.shots[0]
    for shot in tl.shots:
        if shot[0] <= t + 1e-6:
            best = shot
    return best


def clock(seconds: float) -> str:
    m, s = divmod(int(math.floor(seconds + 1e-6)), 60)
    return f"{m}:{s:02d}"


def _lines(draw, text: str, font, widths: list[int]) -> list[str]:
    """`text` wrapped at spaces into lines of `widths`; an ellipsis ends the
    last line when the text does not fit."""
    words, out = text.split(), []
    for i, width in enumerate(widths):
        line = ""
        while words and (not line or draw.textlength(f"{line} {words[0]}", font=font)
                         <= width):
            line = f"{line} {words.pop(0)}".strip()
        if words and i == len(widths) - 1:
            while line and draw.textlength(line + "…", font=font) > width:
                line = line[:-1]
            line += "…"
        out.append(line)
        if not words:
            break
    return out


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in ("/usr/share/fonts/truetype/dejavu", ""):
        try:
            return ImageFont.truetype(str(Path(folder) / name) if folder else name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def compose(tl: Timeline, title: str, *, columns: int | None = None):
    """The storyboard image: a title, then one numbered, timed, captioned panel
    per section."""
    from PIL import Image, ImageDraw

    keys = sections(tl)
    if not keys:
        raise ValueError("the scene played nothing: no storyboard")
    fh, fw = tl.shots[0][1].shape[:2]
    cols = columns or (3 if len(keys) <= 9 else 4)
    rows = math.ceil(len(keys) / cols)
    pad, label_h, head = 12, 3 * (PANEL_TEXT + 4) + 8, 40
    board = Image.new("RGB", (pad + cols * (fw + pad), head + rows * (fh + label_h + pad)),
                      BOARD_BG)
    draw = ImageDraw.Draw(board)
    draw.text((pad, 11), title, font=_font(17, bold=True), fill=BOARD_INK)
    small, bold = _font(PANEL_TEXT), _font(PANEL_TEXT, bold=True)
    for i, (t, text) in enumerate(keys):
        r, c = divmod(i, cols)
        x, y = pad + c * (fw + pad), head + r * (fh + label_h + pad)
        board.paste(Image.fromarray(_shot_at(tl, t)[1]), (x, y))
        tag = f"{i + 1} · {clock(t)}"
        draw.text((x, y + fh + 5), tag, font=bold, fill=BOARD_INK)
        indent = int(draw.textlength(tag + "  ", font=bold))
        for j, line in enumerate(_lines(draw, text, small, [fw - indent, fw, fw])):
            draw.text((x + (indent if j == 0 else 0), y + fh + 5 + j * (PANEL_TEXT + 4)),
                      line, font=small, fill=BOARD_MUTED)
    return board, len(keys)


def make(spec, values, data, target: Path, *, w: int, h: int, theme: str,
         verbose: bool = False) -> tuple[rd.RenderResult, int]:
    """Write `target` (PNG) atomically: the storyboard; (result, panels)."""
    started = time.perf_counter()
    known = _recall(spec, values)  # the timeline of the last storyboard, if any
    shots = keyframe_times(*known) if known else "captions"
    tl = timeline(spec, values, data, w=w, h=h, theme=theme, shots=shots,
                  verbose=verbose)
    wanted = keyframe_times(tl.duration, _times(tl))
    have = [t for t, _ in tl.shots]
    if not all(any(abs(t - x) < 1e-3 for x in have) for t in wanted):
        tl = timeline(spec, values, data, w=w, h=h, theme=theme, shots=wanted,
                      verbose=verbose)  # the middles of long stretches, too
    _remember(spec, values, tl)
    variant = spec.variant(values)
    title = f"{spec.name}" + (f" ({variant})" if variant else "") + \
        f" · {clock(tl.duration)} · storyboard"
    board, panels = compose(tl, title)
    with rd.scratch_dir() as scratch:
        tmp = scratch / "storyboard.png"
        board.save(tmp, optimize=False, compress_level=6)
        files.place([(tmp, target)])
    res = rd.describe(target)
    return dataclasses.replace(res, seconds=round(time.perf_counter() - started, 3)), \
        panels
