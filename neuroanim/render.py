"""The one render pipeline: (scene, options, format, quality, theme) -> a finished file.

Every caller (CLI, lesson build, tests) goes through `render`. manim is configured
per call inside one `tempconfig` block with caching off (manim's cache hashes
mobjects, not the trajectory a scene holds, and would serve a stale video), its
scratch files go to a cache folder, and the result is renamed into place only
once complete.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from . import registry
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
MAX_PIXELS = 7680 * 4320
DEFAULT_OUT_DIR = Path("renders")


@dataclass(frozen=True)
class RenderResult:
    path: Path
    fmt: str
    bytes: int
    width: int
    height: int
    fps: float
    frames: int
    duration: float  # seconds; 0 for a still
    captions: Path | None = None  # the .srt beside a video, when the scene has captions

    def to_json(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        d["captions"] = str(self.captions) if self.captions else None
        return d


def cache_dir() -> Path:
    """Where manim's scratch files go: $NEUROANIM_CACHE, else ~/.cache/neuroanim."""
    env = os.environ.get("NEUROANIM_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "neuroanim"


def parse_resolution(text: str) -> tuple[int, int]:
    """'854x480' -> (854, 480); UserError for anything else."""
    parts = str(text).lower().split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise UserError(f"--resolution: {text!r} is not WIDTHxHEIGHT, e.g. 854x480") from None
    if w < 16 or h < 16 or w * h > MAX_PIXELS:
        raise UserError(f"--resolution: {text!r} must be at least 16x16 and at most 7680x4320")
    if w % 2 or h % 2:
        raise UserError(f"--resolution: {text!r} must have even width and height (video codecs need it)")
    return w, h


def plan(fmt: str, quality: str, fps: float | None, resolution, transparent: bool):
    """Check the output settings; return (width, height, fps)."""
    if fmt not in FORMATS:
        raise UserError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if quality not in QUALITIES:
        raise UserError(f"--quality: {quality!r} is not one of {', '.join(QUALITIES)}")
    if transparent and fmt not in ALPHA_FORMATS:
        raise UserError(
            f"--transparent: {fmt} cannot carry transparency; use webm, mov or png"
        )
    w, h, q_fps = QUALITIES[quality]
    if resolution:
        w, h = resolution if isinstance(resolution, tuple) else parse_resolution(resolution)
    if fps is None:
        fps = GIF_FPS if fmt == "gif" else q_fps
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise UserError(f"--fps: {fps!r} is not a number") from None
    if not (1 <= fps <= 120):
        raise UserError(f"--fps: {fps:g} must be between 1 and 120")
    if fmt == "gif" and fps > GIF_MAX_FPS:
        raise UserError(f"--fps: GIFs play at most {GIF_MAX_FPS} fps in browsers; use 10, 20 or 25")
    return w, h, fps


def default_name(spec_name: str, variant: str, theme: str, fmt: str) -> str:
    """`<scene>[-<variant>][-<theme>].<ext>`; the theme is named when not dark."""
    parts = [spec_name] + ([variant] if variant else []) + ([theme] if theme != "dark" else [])
    return "-".join(parts) + "." + fmt


def output_path(spec, values: dict, fmt: str, theme: str, out=None,
                out_dir=DEFAULT_OUT_DIR) -> Path:
    """Where a render lands: `out` (a file, or a folder to put the default name in)."""
    name = default_name(spec.name, spec.variant(values), theme, fmt)
    if out is None:
        return Path(out_dir) / name
    out = Path(out)
    if out.is_dir() or str(out).endswith(os.sep):
        return out / name
    if out.suffix.lower().lstrip(".") != fmt:
        raise UserError(f"-o: {out} does not end in .{fmt}")
    return out


def check_writable(folder: Path) -> None:
    """Create `folder` if needed and prove we can write into it, or UserError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".neuroanim-probe-"):
            pass
    except OSError as exc:
        raise UserError(f"output folder {folder} cannot be written: {exc.strerror or exc}") from None


def render(
    scene,
    params: dict | None = None,
    *,
    fmt: str = "mp4",
    quality: str = "l",
    theme: str = "dark",
    transparent: bool = False,
    out=None,
    out_dir=DEFAULT_OUT_DIR,
    fps: float | None = None,
    resolution=None,
    verbose: bool = False,
    progress: bool | None = None,
    data: dict | None = None,
) -> RenderResult:
    """Render `scene` (a registered name or SceneSpec) with `params` to one file.

    Raises UserError for bad input before anything is written. The file is built in
    a scratch folder, copied beside its final path under a temporary name and
    renamed into place, so a failure never leaves a partial file at `out` and never
    destroys the previous good one.
    """
    spec = registry.get(scene) if isinstance(scene, str) else scene
    values = spec.resolve(params)
    if theme not in themes.THEMES:
        raise UserError(f"--theme: {theme!r} is not one of {', '.join(themes.THEMES)}")
    w, h, fps = plan(fmt, quality, fps, resolution, transparent)
    target = output_path(spec, values, fmt, theme, out, out_dir)
    check_writable(target.parent)
    if data is None:
        data = spec.prepare(values)

    scratch = cache_dir() / f"scratch-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        produced = _run_manim(spec, values, data, scratch, fmt=fmt, w=w, h=h, fps=fps,
                              theme=theme, transparent=transparent, verbose=verbose,
                              progress=progress)
        srt = produced.with_suffix(".srt")
        captions = None
        if fmt != "png" and srt.is_file() and srt.stat().st_size > 0:
            captions = target.with_suffix(".srt")
            _place(srt, captions)
        _place(produced, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return describe(target, captions)


def _place(src: Path, dest: Path) -> None:
    """Copy `src` next to `dest` under a temporary name, then rename atomically."""
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _run_manim(spec, values, data, scratch: Path, *, fmt, w, h, fps, theme,
               transparent, verbose, progress) -> Path:
    import manim  # deferred: ~1 s and ~135 MB

    if progress is None:
        progress = sys.stderr.isatty()
    settings = {
        "format": fmt,
        "pixel_width": w,
        "pixel_height": h,
        "frame_height": 8.0,
        "frame_width": 8.0 * w / h,
        "frame_rate": fps,
        "transparent": transparent,
        "background_color": themes.get(theme).background,
        "disable_caching": True,
        "media_dir": str(scratch),
        "output_file": "out",
        "progress_bar": "display" if progress else "none",
        "verbosity": "INFO" if verbose else "ERROR",
    }
    unknown = [k for k in settings if k not in manim.config]
    if unknown:  # tempconfig drops unknown keys silently
        raise RuntimeError(f"manim config has no {unknown}")
    previous = themes.current()
    themes.use(theme)
    try:
        with manim.tempconfig(settings):
            scene_obj = spec.scene_class()(params=values, data=data)
            scene_obj.render()
            produced = Path(scene_obj.renderer.file_writer.final_file_path)
    finally:
        themes.use(previous.name)
    if not produced.is_file():
        raise RuntimeError(f"manim reported {produced} but wrote no file")
    return produced


def describe(path: Path, captions: Path | None = None) -> RenderResult:
    """Measure a finished file with real decoders (PyAV for video, Pillow for images)."""
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
        frames = st.frames or sum(1 for _ in c.demux(st) if _.size)
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
