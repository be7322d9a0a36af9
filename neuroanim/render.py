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

FORMATS = ("mp4", "webm", "gif", "png", "mov")
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
# libvpx-vp9 at its defaults spends more CPU than all the rest of a render and
# spreads over ~1.4 cores, which starves parallel builds. Its realtime mode at
# speed 8 costs next to nothing for ~8% more bytes on flat lesson frames
# (measured on gradient-descent at 854x480: 17.2 -> 7.2 s CPU, 512 -> 554 KB).
ENCODER_OPTIONS: dict[str, dict[str, str]] = {
    "webm": {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8",
             "row-mt": "1"},
}
# Encoder threads per render: None lets the codec choose (all cores, best for one
# render at a time); a build running N renders on N cores sets 1 in its workers.
ENCODER_THREADS: int | None = None
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


def infer_format(out: Any) -> str:
    """The format `-o` implies (its extension), else mp4."""
    if out is not None and not Path(out).is_dir():
        ext = Path(out).suffix.lower().lstrip(".")
        if ext in FORMATS:
            return ext
    return "mp4"


# ------------------------------------------------------------------ output names
def default_name(spec_name: str, variant: str, theme: str, fmt: str) -> str:
    """`<scene>[-<variant>][-<theme>].<ext>`; the theme is named when not dark."""
    parts = [spec_name] + ([variant] if variant else [])
    parts += [theme] if theme != "dark" else []
    name = "-".join(parts) + "." + fmt
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
    if ext != fmt:
        got = f"ends in .{ext}" if ext else "has no extension"
        raise UserError(
            f"-o: {raw} {got}, but the format is {fmt}; give a .{fmt} file name "
            "or a folder (end it with / to create one)"
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
    target = output_path(spec, values, fmt, theme, out, out_dir)
    option = "-o" if out is not None else "output folder"
    check_writable(target.parent, option, create=False)  # before training
    if data is None:
        data = registry.prepare(spec, values)
    check_writable(target.parent, option)

    _clean_stale_scratch()
    scratch = cache_dir() / f"{SCRATCH_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        produced = _run_manim(spec, values, data, scratch, fmt=fmt, w=w, h=h, fps=fps,
                              theme=theme, transparent=transparent, verbose=verbose,
                              progress=progress)
        srt = produced.with_suffix(".srt")
        placed = [(produced, target)]
        captions = None
        if fmt != "png" and srt.is_file() and srt.stat().st_size > 0:
            captions = target.with_suffix(".srt")
            placed.append((srt, captions))
        files.place(placed)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = round(time.perf_counter() - started, 3)
    return dataclasses.replace(describe(target, captions), seconds=seconds)


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
    file in the author's folder.
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
        "video_encoder_options": _encoder_options(fmt),
        "scene_names": None,
        "input_file": "",
    }


def _encoder_options(fmt: str) -> dict[str, str]:
    opts = dict(ENCODER_OPTIONS.get(fmt, {}))
    if ENCODER_THREADS and fmt != "png":
        opts["threads"] = str(ENCODER_THREADS)
    return opts


def _run_manim(spec, values, data, scratch: Path, *, fmt, w, h, fps, theme,
               transparent, verbose, progress) -> Path:
    import manim  # deferred: ~1 s and ~135 MB

    if progress is None:
        progress = sys.stderr.isatty()
    # manim 0.22's own GIFs use a fixed 3-3-2 palette (shifted colours, dithered
    # backgrounds, ~30x the bytes): render an mp4 and transcode it with a real
    # palette and exact frame delays instead.
    manim_fmt = "mp4" if fmt == "gif" else fmt
    settings = _manim_settings(manim_fmt, w, h, fps, theme, transparent, scratch,
                               verbose, progress)
    unknown = [k for k in settings if k not in manim.config]
    if unknown:  # tempconfig drops unknown keys silently
        raise RuntimeError(f"manim config has no {unknown}")
    previous = themes._current  # raw: None means "follow $NEUROANIM_THEME"
    themes.use(theme)
    _reset_manim_state()
    manim.logger.addFilter(_drop_format_notice)
    try:
        with manim.tempconfig(settings), _log_to_stderr(manim.logger):
            scene_obj = spec.scene_class()(params=values, data=data)
            scene_obj.render()
            produced = Path(scene_obj.renderer.file_writer.final_file_path)
    except Exception as exc:
        # manim wraps whatever interrupts a segment encoder (Ctrl-C included) in
        # a RuntimeError; an interrupt must stay an interrupt for the caller.
        if _caused_by_interrupt(exc):
            raise KeyboardInterrupt from exc
        raise
    finally:
        manim.logger.removeFilter(_drop_format_notice)
        themes._current = previous
        _reset_manim_state()
    if not produced.is_file():
        raise RuntimeError(f"manim reported {produced} but wrote no file")
    if fmt == "gif":
        from .transcode import gif_from_video

        produced = gif_from_video(produced, produced.with_suffix(".gif"), fps=fps)
    return produced


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

        with Image.open(path) as im:
            w, h = im.size
            frames = getattr(im, "n_frames", 1)
            total_ms = 0
            if fmt == "gif":
                for i in range(frames):
                    im.seek(i)
                    total_ms += im.info.get("duration", 0)
        duration = total_ms / 1000.0
        fps = frames / duration if duration else 0.0
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
