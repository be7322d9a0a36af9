"""One render: (scene, options, format, size, theme) -> one video or still file.

Every caller (CLI, lesson build, tests) goes through `render`. manim is configured
per call inside one `tempconfig` block with caching off (manim's cache hashes
mobjects, not the trajectory a scene holds, and would serve a stale video), its
scratch files go to a cache folder, and the result is renamed into place only
once complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import files, registry
from . import theme as themes
from .errors import UserError

FORMATS = ("mp4", "webm", "gif", "png", "mov", "interactive")
UNDRAWN = ("interactive",)  # made from the data alone, without manim (no pass)
EXTENSIONS = {"interactive": "html"}  # a format's file extension, when not its name
ALPHA_FORMATS = ("webm", "mov", "png")
QUALITIES = {  # manim's letters and sizes
    "l": (854, 480, 15),
    "m": (1280, 720, 30),
    "h": (1920, 1080, 60),
    "k": (3840, 2160, 60),
}
GIF_FPS = 20  # exact 5 cs frame delays; browsers slow down anything above 50 fps
GIF_MAX_FPS = 50
MIN_FPS, MAX_FPS = 1, 120
MIN_SIDE = 16
MAX_PIXELS = 7680 * 4320
DEFAULT_OUT_DIR = Path("renders")
SCRATCH_PREFIX = "scratch-"


@dataclass(frozen=True)
class RenderResult:
    """A finished file, measured by reading it back with a real decoder.

    `fps`, `frames` and `duration` are what a player sees (PyAV for video, Pillow
    for GIF/PNG), not what was asked for; a still has fps 0 and duration 0.
    `seconds` is the wall-clock time the render took (0 for `describe`).
    """

    path: Path
    fmt: str
    bytes: int
    width: int
    height: int
    fps: float
    frames: int
    duration: float  # seconds; 0 for a still
    captions: Path | None = None  # the .srt beside a video, when the scene has captions
    seconds: float = 0.0

    def _repr_html_(self) -> str:  # Jupyter shows the file itself
        # by name: display code is in no output's key (`build.code_files`)
        return importlib.import_module("neuroanim.notebook").result_html(self)

    def to_json(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        d["captions"] = str(self.captions) if self.captions else None
        return d


def cache_dir() -> Path:
    """Where manim's scratch files go: $NEUROANIM_CACHE, else ~/.cache/neuroanim.

    UserError naming the variable when it points at something that is not a
    folder (a file, or a path through one).
    """
    env = os.environ.get("NEUROANIM_CACHE")
    if env:
        path, var = Path(env), "NEUROANIM_CACHE"
    else:
        base = os.environ.get("XDG_CACHE_HOME")
        var = "XDG_CACHE_HOME" if base else "the cache folder"
        path = Path(base or Path.home() / ".cache") / "neuroanim"
    problem = _folder_problem(path)
    if problem:
        raise UserError(f"{var}: {path} cannot be used as the cache folder "
                        f"({problem}); point it at a writable folder")
    return path


# ------------------------------------------------------------- checking options
def parse_resolution(text: Any) -> tuple[int, int]:
    """'854x480' (or a (w, h) pair) -> (854, 480); UserError for anything else.

    Sizes must be even: h264/vp9 store colour at half resolution (yuv420p) and
    reject odd sizes deep inside the encoder otherwise.
    """
    if isinstance(text, tuple | list):
        parts = [str(p) for p in text]
    else:
        parts = str(text).strip().lower().split("x")
    try:
        w, h = (int(p, 10) for p in parts)
    except ValueError:
        raise UserError(
            f"--resolution: {text!r} is not WIDTHxHEIGHT, e.g. 854x480"
        ) from None
    if w < MIN_SIDE or h < MIN_SIDE or w * h > MAX_PIXELS:
        raise UserError(
            f"--resolution: {text!r} must be at least {MIN_SIDE}x{MIN_SIDE} "
            "and at most 7680x4320"
        )
    if w % 2 or h % 2:
        raise UserError(
            f"--resolution: {text!r} must have an even width and height "
            "(video codecs need it)"
        )
    return w, h


def plan(fmt: str, quality: str, fps: Any, resolution: Any,
         transparent: bool) -> tuple[int, int, float]:
    """Check the output settings and return (width, height, fps) of the file.

    The quality preset gives size and rate; `resolution` and `fps` override them.
    GIFs default to 20 fps whatever the preset, and never exceed 50: browsers
    play GIF delays under 20 ms at 100 ms, so a faster GIF plays slower.
    """
    if fmt not in FORMATS:
        raise UserError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if quality not in QUALITIES:
        raise UserError(f"--quality: {quality!r} is not one of {', '.join(QUALITIES)}")
    if transparent and fmt not in ALPHA_FORMATS:
        raise UserError(
            f"--transparent: {fmt} cannot carry alpha (transparency); "
            f"use {', '.join(ALPHA_FORMATS)}"
        )
    w, h, q_fps = QUALITIES[quality]
    if resolution:
        w, h = parse_resolution(resolution)
    if fps is None:
        fps = GIF_FPS if fmt == "gif" else q_fps
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise UserError(f"--fps: {fps!r} is not a number") from None
    if not MIN_FPS <= fps <= MAX_FPS:  # also rejects NaN
        raise UserError(f"--fps: {fps:g} must be between {MIN_FPS} and {MAX_FPS}")
    if fmt == "gif" and fps > GIF_MAX_FPS:
        raise UserError(
            f"--fps: {fps:g} is too fast for a GIF; browsers play at most "
            f"{GIF_MAX_FPS} fps (use 10, 20 or 25)"
        )
    if fmt == "gif" and (100 / fps) % 1:
        # GIF delays are whole centiseconds: 15 fps would alternate 60/70 ms.
        raise UserError(
            f"--fps: a GIF at {fps:g} fps cannot have exact frame delays "
            "(whole hundredths of a second); use 10, 20 or 25"
        )
    return w, h, fps


def extension(fmt: str) -> str:
    """The file extension of format `fmt`: `html` for interactive, else its name."""
    return EXTENSIONS.get(fmt, fmt)


def infer_format(out: Any) -> str:
    """The format `-o` implies (its extension), else mp4."""
    if out is not None and not Path(out).is_dir():
        ext = Path(out).suffix.lower().lstrip(".")
        by_ext = {extension(f): f for f in FORMATS}
        if ext in by_ext:
            return by_ext[ext]
    return "mp4"


# ------------------------------------------------------------------ output names
def default_name(spec_name: str, variant: str, theme: str, fmt: str) -> str:
    """`<scene>[-<variant>][-<theme>].<ext>`; the theme is named when not dark."""
    parts = [spec_name] + ([variant] if variant else [])
    parts += [theme] if theme != "dark" else []
    name = "-".join(parts) + "." + extension(fmt)
    room = files.NAME_MAX - files.TEMP_EXTRA - len(".poster.png")
    if len(name.encode()) > room and variant:  # many options: keep a prefix + hash
        import hashlib

        tag = hashlib.sha256(variant.encode()).hexdigest()[:10]
        keep = room - (len(name) - len(variant)) - len(tag) - 1
        return default_name(spec_name, f"{variant[:max(0, keep)]}-{tag}", theme, fmt)
    return name


def output_path(spec, values: dict, fmt: str, theme: str, out: Any = None,
                out_dir: Any = DEFAULT_OUT_DIR) -> Path:
    """Where a render lands: `out` (a file, or a folder to put the default name in).

    `out` is a folder when it exists as one or ends in a slash (a folder to
    create); otherwise it is a file name that must end in `.<fmt>`.
    """
    name = default_name(spec.name, spec.variant(values), theme, fmt)
    if out is None:
        return Path(out_dir) / name
    raw = os.fspath(out)
    if not raw.strip():
        raise UserError("-o: the path is empty; give a file name or a folder")
    path = Path(raw)
    if path.is_dir() or raw.endswith(("/", os.sep)):
        return path / name
    if len(path.name.encode()) + files.TEMP_EXTRA + len(".poster.png") > files.NAME_MAX:
        raise UserError(f"-o: the file name {path.name[:40]}... is too long "
                        f"({len(path.name)} characters); shorten it")
    ext = path.suffix.lower().lstrip(".")
    if ext != extension(fmt):
        got = f"ends in .{ext}" if ext else "has no extension"
        raise UserError(
            f"-o: {raw} {got}, but the format is {fmt}; give a .{extension(fmt)} "
            "file name or a folder (end it with / to create one)"
        )
    return path


def _folder_problem(folder: Path) -> str | None:
    """Why `folder` cannot be created/written, judged without creating anything."""
    probe = folder.absolute()
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def check_writable(folder: Path, option: str = "output folder",
                   create: bool = True) -> None:
    """Create `folder` if needed and prove we can write into it, or UserError.

    `create=False` only judges (nearest existing parent is a writable folder),
    for checks that must run before slow work and must not write anything.
    """
    problem = _folder_problem(Path(folder))
    if problem is None and create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".neuroanim-probe-"):
                pass
        except OSError as exc:
            problem = str(exc.strerror or exc)
    if problem:
        raise UserError(f"{option}: {folder} cannot be written ({problem})")


# ---------------------------------------------------------------------- render
def render(
    scene,
    params: dict | None = None,
    *,
    fmt: str | None = None,
    quality: str = "l",
    theme: str = "dark",
    transparent: bool = False,
    out: Any = None,
    out_dir: Any = DEFAULT_OUT_DIR,
    fps: float | None = None,
    resolution: Any = None,
    verbose: bool = False,
    progress: bool | None = None,
    data: dict | None = None,
) -> RenderResult:
    """Render `scene` (a registered name or SceneSpec) with `params` to one file.

    `fmt=None` takes the format from `out`'s extension, else mp4. Every check
    (options, format, size, folder, trajectory files) runs before anything is
    written. The file is built in a scratch folder under `cache_dir()`, copied
    beside its final path under a temporary `.part` name and renamed into place,
    so a failed or interrupted render never leaves a partial file at the final
    path and never destroys the previous good one. `data` skips `spec.prepare`
    when the caller already holds the trajectories.
    """
    started = time.perf_counter()
    spec = registry.get(scene) if isinstance(scene, str) else scene
    values = spec.resolve(params)
    if theme not in themes.THEMES:
        raise UserError(f"--theme: {theme!r} is not one of {', '.join(themes.THEMES)}")
    fmt = infer_format(out) if fmt is None else str(fmt).lower()
    w, h, fps = plan(fmt, quality, fps, resolution, transparent)
    spec.check_size(w, h)
    if fmt in UNDRAWN:
        from . import interactive

        interactive.check(spec)
    target = output_path(spec, values, fmt, theme, out, out_dir)
    option = "-o" if out is not None else "output folder"
    check_writable(target.parent, option, create=False)  # before training
    if data is None:
        data = registry.prepare(spec, values)
    check_writable(target.parent, option)
    if fmt in UNDRAWN:  # the interactive page: from the data, no manim
        from . import interactive

        path, size = registry.guarded(spec, interactive.write, spec, values, data,
                                      theme, target)
        # width and height: the size an embed gives it; no frames
        return RenderResult(path, fmt, size, int(w), int(h), 0.0, 0, 0.0,
                            seconds=round(time.perf_counter() - started, 3))

    with scratch_dir() as scratch:
        produced = scratch / f"out.{fmt}"
        if fmt == "png":
            _still(spec, values, data, scratch, produced, w=w, h=h, theme=theme,
                   transparent=transparent, verbose=verbose)
        elif fmt == "gif":
            inter = scratch / "frames.bin"
            drawn = draw(spec, values, data, scratch, w=w, h=h, fps=fps, theme=theme,
                         transparent=False, gifs=[(1, inter)], verbose=verbose,
                         progress=progress)
            from .transcode import gif_with_palette

            gif_with_palette(inter, produced, drawn.palettes[inter], fps=fps)
            srt = drawn.srt
            if srt:
                os.replace(srt, produced.with_suffix(".srt"))
        else:
            srt = draw(spec, values, data, scratch, w=w, h=h, fps=fps, theme=theme,
                       transparent=transparent, videos=[(fmt, produced)],
                       verbose=verbose, progress=progress).srt
            if srt:
                os.replace(srt, produced.with_suffix(".srt"))
        srt = produced.with_suffix(".srt")
        placed = [(produced, target)]
        captions = None
        if fmt != "png" and srt.is_file() and srt.stat().st_size > 0:
            captions = target.with_suffix(".srt")
            placed.append((srt, captions))
        files.place(placed)
    seconds = round(time.perf_counter() - started, 3)
    return dataclasses.replace(describe(target, captions), seconds=seconds)


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A folder of our own under `cache_dir()` for one render's scratch files.

    Removed when the block ends; folders of processes that were killed
    (SIGKILL) are removed by the next render.
    """
    _clean_stale_scratch()
    path = cache_dir() / f"{SCRATCH_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def passes(outputs: list[tuple]) -> tuple[list, list[int]]:
    """Group outputs `(format, width, height, fps[, drawn_at])` into drawing passes.

    Videos of one size and rate share a pass; a GIF joins the pass of its size
    whose rate is a whole multiple k of its own (it keeps every k-th frame),
    else it gets a pass of its own. `drawn_at` pins a GIF's pass rate (a
    rebuild of the GIF alone draws as the full set did, so its bytes match its
    key). Stills (png) need no pass, nor do UNDRAWN formats (in neither
    list: the caller makes them from the data). Returns (passes, stills): each pass
    `((width, height, fps), [(index, k), ...])`, stills as indices. A pure
    function: the build keys GIFs by the rate they are drawn at.
    """
    outputs = [(*o, None)[:5] for o in outputs]
    groups: list[tuple[tuple[int, int, float], list[tuple[int, int]]]] = []
    stills: list[int] = []
    for i, (fmt, w, h, fps, _) in enumerate(outputs):
        if fmt == "png":
            stills.append(i)
        elif fmt not in ("gif", *UNDRAWN):
            for (gw, gh, gf), members in groups:
                if (gw, gh, gf) == (w, h, fps):
                    members.append((i, 1))
                    break
            else:
                groups.append(((w, h, fps), [(i, 1)]))
    for i, (fmt, w, h, fps, drawn_at) in enumerate(outputs):
        if fmt != "gif":
            continue
        for (gw, gh, gf), members in groups:
            k = gf / fps
            if (gw, gh) == (w, h) and abs(k - round(k)) < 1e-9 and round(k) >= 1 \
                    and (drawn_at is None or gf == drawn_at):
                members.append((i, round(k)))
                break
        else:
            rate = drawn_at or fps
            groups.append(((w, h, rate), [(i, round(rate / fps))]))
    return groups, stills


def _clean_stale_scratch() -> None:
    """Remove scratch folders left by processes that were killed (SIGKILL)."""
    root = cache_dir()
    if not root.is_dir():
        return
    for d in root.glob(f"{SCRATCH_PREFIX}*"):
        pid = d.name[len(SCRATCH_PREFIX):].split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _manim_settings(fmt: str, w: int, h: int, fps: float, theme: str,
                    transparent: bool, scratch: Path, verbose: bool,
                    progress: bool) -> dict:
    """Every manim option that shapes the output, pinned.

    manim reads ./manim.cfg and the user's config at import, so anything left
    unset here (renderer, preview, sections, codec...) could come from a stray
    file in the author's folder. manim encodes nothing itself: a pass's frames
    go to `encode`'s sinks; `format` only tells it to make frames (a video) or
    one still (png).
    """
    return {
        "format": fmt,
        "pixel_width": w,
        "pixel_height": h,
        "frame_height": 8.0,
        "frame_width": 8.0 * w / h,
        "frame_rate": fps,
        "transparent": transparent,
        "background_color": themes.get(theme).background,
        "renderer": "cairo",
        "disable_caching": True,
        "media_dir": str(scratch),
        "video_dir": "{media_dir}/videos",
        "images_dir": "{media_dir}/images",
        "partial_movie_dir": "{media_dir}/partial",
        "sections_dir": "{media_dir}/sections",
        "text_dir": "{media_dir}/texts",
        "tex_dir": "{media_dir}/Tex",
        "log_dir": "{media_dir}/logs",
        "output_file": "out",
        "progress_bar": "display" if progress else "none",
        "verbosity": "INFO" if verbose else "WARNING",
        "preview": False,
        "show_in_file_browser": False,
        "save_sections": False,
        "write_all": False,
        "dry_run": False,
        "log_to_file": False,
        "from_animation_number": 0,
        "upto_animation_number": float("inf"),
        "video_codec": "auto",
        "pixel_format": "auto",
        "video_encoder_options": {},
        "scene_names": None,
        "input_file": "",
    }


@contextlib.contextmanager
def _manim_session(settings: dict, theme: str) -> Iterator[Any]:
    """manim configured for one scene: config, theme, logging, clean state after."""
    import manim  # deferred: ~1 s and ~135 MB

    unknown = [k for k in settings if k not in manim.config]
    if unknown:  # tempconfig drops unknown keys silently
        raise RuntimeError(f"manim config has no {unknown}")
    previous = themes._current  # raw: None means "follow $NEUROANIM_THEME"
    themes.use(theme)
    _reset_manim_state()
    manim.logger.addFilter(_drop_format_notice)
    try:
        with manim.tempconfig(settings), _log_to_stderr(manim.logger):
            yield manim
    except Exception as exc:
        # manim wraps whatever interrupts it (Ctrl-C included) in a RuntimeError;
        # an interrupt must stay an interrupt for the caller.
        if _caused_by_interrupt(exc):
            raise KeyboardInterrupt from exc
        raise
    finally:
        manim.logger.removeFilter(_drop_format_notice)
        themes._current = previous
        _reset_manim_state()


def draw(spec, values, data, scratch: Path, *, w: int, h: int, fps: float,
         theme: str, transparent: bool = False,
         videos: list[tuple[str, Path]] = (), gifs: list[tuple[int, Path]] = (),
         verbose: bool = False, progress: bool | None = None,
         keep_last: bool = False, on_frame=None, poster: bool = False,
         defer_videos: bool = False) -> Drawn:
    """Draw the scene once, feeding every frame to every output of the pass.

    `videos` are (format, path) files encoded as the frames come; `gifs` are
    (k, path) frame files (`transcode.read_frames`) keeping every k-th frame,
    for a GIF at fps / k, each with its palette gathered as it is drawn. The scene's
    `construct` runs once however many files it makes. `keep_last` keeps the
    last frame's pixels (`Drawn.last`: a draft's still without a second
    drawing); `on_frame(frames_so_far)` hears every frame (a progress bar);
    `poster` picks the videos' poster from the frames (`Drawn.poster`).
    `progress` shows manim's own bars (per animation). `defer_videos`: the
    videos' encoders may still be finishing when this returns (the GIF post
    pass overlaps their last frames); `Drawn.close_videos` waits for them,
    `Drawn.abort_videos` drops them.
    """
    from . import encode

    if progress is None:
        progress = sys.stderr.isatty()
    settings = _manim_settings("mov" if transparent else "mp4", w, h, fps, theme,
                               transparent, scratch, verbose, progress)
    sinks: list[encode.Sink] = []
    later: list[encode.Sink] = []
    try:
        for fmt, path in videos:
            sinks.append(encode.VideoSink(path, fmt, w, h, fps, transparent))
        if defer_videos:
            later = list(sinks)
        for every, path in gifs:
            sinks.append(encode.GifFramesSink(path, w, h, fps, every=every))
        picker = encode.PosterSink(w, h) if poster else None
        if picker is not None:
            sinks.append(picker)
        with _manim_session(settings, theme), \
                encode.on_frame(_chain(encode._frame_hook, on_frame)):
            scene_obj = spec.scene_class()(params=values, data=data)
            # the writer manim made, replaced before anything is drawn
            scene_obj.renderer.file_writer = encode.feed_class(sinks, tuple(later))(
                scene_obj.file_writer_settings)
            scene_obj.render()
            writer = scene_obj.renderer.file_writer
            if not writer.frames:
                raise RuntimeError(f"scene {spec.name!r} played no animation, so "
                                   "there is no video to make; use png for a still")
            subs = list(writer.subcaptions)
            last = writer.last.copy() if keep_last and writer.last is not None else None
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    try:  # the videos in `later` may still be finishing: dropped on any error
        palettes = {Path(s.path): s.palette for s in sinks
                    if isinstance(s, encode.GifFramesSink)}
        best = picker.picker.best if picker is not None else None
        path = None
        if subs:
            import srt

            path = scratch / "captions.srt"
            path.write_text(srt.compose(subs), encoding="utf-8")
        return Drawn(path, palettes, last, best, tuple(later))
    except BaseException:
        for sink in later:
            sink.abort()
        raise


def _chain(hook, more):
    """A frame hook that calls `more` and then the hook already set (if any)."""
    if more is None:
        return hook

    def both(frames: int) -> None:
        more(frames)
        if hook is not None:
            hook(frames)

    return both


@dataclass(frozen=True)
class Drawn:
    """What a pass leaves besides its files: the captions and the GIF palettes."""

    srt: Path | None  # the scene's captions, in the scratch folder
    palettes: dict  # GIF frame file path -> its palettegen frame
    last: Any = None  # the last frame (RGBA array) when asked for
    poster: Any = None  # the videos' telling frame (RGBA array) when asked for
    pending: tuple = ()  # video sinks still finishing (`draw(defer_videos=True)`)

    def close_videos(self) -> None:
        """Wait for the videos' files; an encoder's error is raised here (and
        the other videos are dropped)."""
        for i, sink in enumerate(self.pending):
            try:
                sink.close()
            except BaseException:  # its error, or an interrupt while it drained
                for other in self.pending[i:]:
                    other.abort()
                raise

    def abort_videos(self) -> None:
        for sink in self.pending:
            sink.abort()


def _still(spec, values, data, scratch: Path, target: Path, *, w: int, h: int,
           theme: str, transparent: bool, verbose: bool) -> None:
    """The scene's last frame as a PNG (manim skips the animations)."""
    settings = _manim_settings("png", w, h, 15, theme, transparent, scratch,
                               verbose, False)
    with _manim_session(settings, theme):
        scene_obj = spec.scene_class()(params=values, data=data)
        _only_last_frame(scene_obj.renderer)
        scene_obj.render()
        produced = Path(scene_obj.renderer.file_writer.final_file_path)
    if not produced.is_file():
        raise RuntimeError(f"manim reported {produced} but wrote no file")
    os.replace(produced, target)


def _only_last_frame(renderer) -> None:
    """Skip the frames manim paints for nothing while it skips animations.

    Rendering a still, manim still paints each play's static background and
    each wait's frozen frame (about half the cost of a still); only the final
    frame, painted with no mobject list, is kept.
    """
    paint = renderer.update_frame

    def update_frame(scene, mobjects=None, *args, **kwargs):
        if mobjects is None and not args:
            paint(scene, *args, **kwargs)

    renderer.save_static_frame_data = lambda scene, static: None
    renderer.update_frame = update_frame


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def _log_to_stderr(logger) -> Iterator[None]:
    """Send manim's log (a rich console on stdout) to stderr meanwhile.

    stdout carries the result (the CLI's summary line) for scripts to read; a
    log is a diagnostic and belongs on stderr.
    """
    consoles = [h.console for h in logger.handlers if hasattr(h, "console")]
    previous = [c._file for c in consoles]
    for c in consoles:
        c.file = sys.stderr
    try:
        yield
    finally:
        for c, f in zip(consoles, previous, strict=True):
            c._file = f


def _drop_format_notice(record) -> bool:
    """Hide manim's "webm/gif can be slower" notice: the format was asked for."""
    return "this can be slower than other formats" not in record.getMessage()


def _reset_manim_state() -> None:
    """Undo what one render could leave behind in manim's module-level state.

    `DecimalNumber` caches one glyph per character in a module dict, built by
    whichever scene asked first (its font and colour included), and a scene may
    call `Cls.set_default(...)`; either would leak into the next render.
    """
    from manim.animation.animation import Animation
    from manim.mobject.mobject import Mobject
    from manim.mobject.text import numbers

    numbers.string_to_mob_map.clear()
    for base in (Mobject, Animation):
        stack = [base]
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            own = vars(cls)
            if "__init__" in own and own["__init__"] is not own.get(
                "_original__init__", own["__init__"]
            ):
                cls.set_default()


# --------------------------------------------------------------------- measure
def describe(path: Path, captions: Path | None = None) -> RenderResult:
    """Measure a file with real decoders: PyAV for video, Pillow for images."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    size = path.stat().st_size
    if fmt in ("png", "gif"):
        from PIL import Image

        delays = []
        if fmt == "gif":  # timed from its blocks: decoding every frame costs more
            from .transcode import gif_timing

            w, h, delays = gif_timing(path)
            frames = len(delays)
        else:
            with Image.open(path) as im:
                w, h = im.size
                frames = getattr(im, "n_frames", 1)
        duration = sum(delays) / 1000.0
        fps = frames / duration if duration else 0.0
        if delays and all(delays):
            # gifsicle merges a frame that does not change into its predecessor's
            # delay: the rate is the common step of the delays, and the frames
            # are what a player shows at that rate
            step = math.gcd(*delays)
            fps, frames = 1000.0 / step, sum(delays) // step
        return RenderResult(path, fmt, size, w, h, round(fps, 3), frames,
                            round(duration, 3), captions)
    import av

    with av.open(str(path)) as c:
        st = c.streams.video[0]
        frames = st.frames or sum(1 for pkt in c.demux(st) if pkt.size)
        rate = float(st.average_rate or st.guessed_rate or 0)
        if c.duration:
            duration = c.duration / 1_000_000
        elif st.duration and st.time_base:
            duration = float(st.duration * st.time_base)
        else:
            duration = frames / rate if rate else 0.0
        w, h = st.codec_context.width, st.codec_context.height
    return RenderResult(path, fmt, size, w, h, round(rate, 3), int(frames),
                        round(duration, 3), captions)
