"""The `neuroanim` command: thin click commands over the library.

manim is imported only inside commands that render, so `--help`, `list` and
`train` start fast.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
from pathlib import Path

import click

from . import __version__, options, registry
from .errors import SceneError, UserError
from .params import Param
from .spec import SceneSpec


class Context:
    debug = False
    scene_dirs: tuple[str, ...] = ()  # --scenes DIR, wherever it was given


def fail_cleanly(fn):
    """One line and exit status 2 for bad input; a traceback only with --debug."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            if Context.debug:
                raise
            raise click.UsageError(str(exc)) from None
        except KeyboardInterrupt:
            if Context.debug:
                raise
            _echo_err("interrupted")
            sys.exit(130)
        except SceneError as exc:  # an author's scene raised: their file and line
            if Context.debug:
                raise
            _echo_err(f"Error: {exc} (run with --debug for the traceback)")
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:  # disk full, permissions: a failed run, not bad input
            if Context.debug:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            _echo_err(f"Error: {where}cannot write ({exc.strerror or exc})")
            sys.exit(1)
        except Exception as exc:  # a bug, not bad input: one line, exit 1
            if Context.debug:
                raise
            click.echo(f"Error: {type(exc).__name__}: {exc} "
                       "(run `neuroanim --debug ...` for the traceback)", err=True)
            sys.exit(1)

    return wrapper


def _take_scenes(args: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """Pull every `--scenes DIR` out of `args`: it may follow any command (the
    scenes must be known before `render NAME` can be looked up)."""
    end = args.index("--") if "--" in args else len(args)
    rest, dirs, i = [], [], 0
    while i < len(args):
        a = args[i]
        if i < end and a == "--scenes" and i + 1 < end:
            dirs.append(args[i + 1])
            i += 2
            continue
        if i < end and a.startswith("--scenes="):
            dirs.append(a.split("=", 1)[1])
        else:
            rest.append(a)
        i += 1
    return rest, tuple(dirs)


def _echo_err(line: str) -> None:
    with contextlib.suppress(OSError):
        click.echo(line, err=True)


def say(line: str = "", err: bool = False, nl: bool = True) -> None:
    """`click.echo`, except that a reader who went away (`| head -1`) stops the
    printing, never the work: the rest of the output goes to /dev/null."""
    try:
        click.echo(line, err=err, nl=nl)
    except BrokenPipeError:
        stream = sys.stderr if err else sys.stdout
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)


class OneLineErrors(click.Group):
    """Print usage errors as one `Error: ...` line (exit 2), without the usage block."""

    def main(self, args=None, prog_name=None, complete_var=None,
             standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        end = args.index("--") if "--" in args else len(args)
        Context.debug = "--debug" in args[:end]  # accepted after the command too
        if Context.debug:
            args = ["--debug", *(a for i, a in enumerate(args)
                                 if i >= end or a != "--debug")]
        args, Context.scene_dirs = _take_scenes(args)
        try:
            registry.use(Context.scene_dirs, cwd=True)
        except UserError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `neuroanim render`
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except UserError as exc:  # finding the scenes of `render NAME` failed
            if Context.debug:
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=OneLineErrors,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neuroanim")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("--scenes", "scene_dirs", multiple=True, metavar="DIR",
              help="Also find scenes in this folder (repeatable; ./scenes is "
                   "searched anyway, and a lesson's own scenes/).")
def main(debug: bool, scene_dirs: tuple[str, ...]) -> None:
    """neuroanim: lesson animations from real neural-network training runs.

    \b
    Example:
      neuroanim list
      neuroanim render gradient-descent --lr 0.5 -f gif
      neuroanim train neuron --gate AND -o and.json
      neuroanim --scenes my-scenes render pendulum -f gif
    """
    Context.debug = debug


# ------------------------------------------------------------------------ list
@main.command("list")
@click.option("--words", "words_of", metavar="SCENE",
              help="Show SCENE's strings table instead: each key, its English "
                   "text and its placeholders (for `text = {...}` and --text).")
@click.option("--language", default="en", show_default=True, metavar="LANG",
              help="With --words: the strings in this language.")
@fail_cleanly
def list_cmd(words_of: str | None, language: str) -> None:
    """List every scene with where it comes from, its description and options.

    Scenes come from neuroanim itself (built-in), from ./scenes and each
    --scenes folder, and from installed packages (entry points).

    \b
    Example:
      neuroanim list
      neuroanim list --scenes ~/course/scenes
      neuroanim list --words and-gate --language de
    """
    if words_of is not None:
        if words_of not in registry.scenes():
            raise UserError(f"--words: unknown scene {words_of!r}; choose from "
                            f"{', '.join(registry.scenes())}")
        words = registry.scenes()[words_of].words
        if language not in words.languages:
            raise UserError(f"--language: {words_of} speaks "
                            f"{', '.join(words.languages)}")
        table = words.translations[language]
        for key in words:
            say(f"{key} = {json.dumps(table[key], ensure_ascii=False)}")
        return
    for spec in registry.scenes().values():
        click.secho(spec.name, bold=True, nl=False)
        say(f"  {spec.description}  [{spec.source}]")
        for p in spec.params:
            if p.default in (None, ()):
                default = "none" if p.kind == "path" else "derived"
            else:
                default = p.default
            say(f"    {p.flag:<14} {p.type_name():<28} default {default}  {p.help}")


# ---------------------------------------------------------------------- render
def _click_option(p: Param):
    """A click option for one scene parameter, built from its spec alone.

    Values stay strings here: `Param.parse` converts and checks them, so the CLI,
    lesson files and the Python API share one set of rules and messages. The
    default stays None (not given) so `render` can tell a default from a choice.
    """
    shown = "" if p.default in (None, ()) else f"  [default: {p.default}]"
    metavar = p.type_name() if p.kind == "choice" else p.type_name().upper()
    return click.option(p.flag, p.name, type=str, metavar=metavar,
                        help=p.help + shown, multiple=p.multiple,
                        default=() if p.multiple else None, show_default=False)


def _render_command(spec: SceneSpec) -> click.Command:
    @fail_cleanly
    def run(fmt, quality, theme, transparent, out, fps, resolution, verbose,
            gif_budget, text, language, theme_file, draft, storyboard, **given):
        from . import gif, pipeline
        from . import lesson as lsn
        from .render import DEFAULT_OUT_DIR
        from .wording import LANGUAGES, speaking

        given = {k: v for k, v in given.items() if v not in (None, ())}
        overrides = _text_overrides(spec, text)
        if language not in LANGUAGES:
            raise UserError(f"--language: {language!r} is not one of "
                            f"{', '.join(LANGUAGES)}")
        if language not in spec.languages:
            raise UserError(f"--language: {spec.name} has no {language!r} words; it "
                            f"speaks {', '.join(spec.languages)}")
        if theme_file is not None:
            theme = _theme_file(theme_file, theme)
        theme = theme or "dark"
        out_dir = DEFAULT_OUT_DIR
        if draft or storyboard:
            out_dir = DEFAULT_OUT_DIR / lsn.DRAFT_DIR
            resolution = resolution or "{}x{}".format(*lsn.DRAFT_SIZE)
        if storyboard:
            with _sigterm_unwinds(), speaking(language, overrides, owner=spec.words):
                _storyboard(spec, given, out, theme, resolution, verbose)
            return
        if draft:
            fps = fps or lsn.DRAFT_FPS
            gif_budget = "0"
        with _sigterm_unwinds(), speaking(language, overrides, owner=spec.words):
            fin = pipeline.make(
                spec, given, budget=gif.parse_budget(gif_budget), fmt=fmt,
                quality=quality, theme=theme, transparent=transparent, out=out,
                out_dir=out_dir, fps=fps, resolution=resolution, verbose=verbose)
        result = fin.result
        say(_summary(result))
        for line in fin.notes:
            say(f"  {line}")
        if fin.poster:
            say(f"  poster {result.path.parent / fin.poster}")
        if fin.captions:
            say(f"  webvtt {result.path.parent / fin.captions['vtt']}")
        say(f"  alt text: {fin.alt}")

    cmd = click.Command(
        spec.name,
        callback=run,
        help=(f"{spec.description}\n\n\b\nExample:\n"
              f"  neuroanim render {spec.name} -f gif\n"
              f"  neuroanim render {spec.name} -f png --theme light -o figures/"),
        short_help=spec.description,
    )
    common = [
        click.Option(["-f", "--format", "fmt"], metavar="FORMAT",
                     help="mp4, webm, gif, png (the last frame), mov or interactive "
                          "(a self-contained HTML widget) [default: -o's extension, "
                          "else mp4]."),
        click.Option(["-q", "--quality"], default="l", show_default=True,
                     metavar="l|m|h|k",
                     help="l 854x480@15, m 1280x720@30, h 1920x1080@60, "
                          "k 3840x2160@60."),
        click.Option(["--theme"], default=None, metavar="dark|light|NAME",
                     help="dark (the default) or light (a white page), or a theme "
                          "of --theme-file."),
        click.Option(["--theme-file"], type=click.Path(path_type=Path),
                     metavar="FILE",
                     help="A TOML theme: base = \"light\" or \"dark\" and colours "
                          "(#RRGGBB) or the font to change, as in a lesson's "
                          "[themes.NAME]."),
        click.Option(["--text"], multiple=True, metavar="KEY=VALUE",
                     help="Override one of the scene's strings (repeatable); "
                          "`neuroanim list --words SCENE` shows the keys."),
        click.Option(["--language"], default="en", show_default=True, metavar="LANG",
                     help="The language of the words on screen, in captions and "
                          "alt text: en or de."),
        click.Option(["--transparent"], is_flag=True,
                     help="Transparent background (webm, mov, png only)."),
        click.Option(["-o", "--output", "out"], type=click.Path(), metavar="PATH",
                     help="Output file, or folder (existing, or ending in /) for the "
                          "default name renders/<scene>[-variant][-theme].ext."),
        click.Option(["--fps"], type=float,
                     help="Frame rate (GIF default 20, at most 50)."),
        click.Option(["--resolution"], metavar="WxH",
                     help="WIDTHxHEIGHT (even numbers), e.g. 1280x720."),
        click.Option(["-v", "--verbose"], is_flag=True, help="Show manim's log."),
        click.Option(["--gif-budget"], default="2MB", show_default=True,
                     help="Largest GIF; a bigger one steps down to 10 fps, then to "
                          "smaller sizes (0: no limit)."),
        click.Option(["--draft"], is_flag=True,
                     help="A quick draft into renders/draft/: 428x240 at 10 fps, no "
                          "GIF budget (--resolution and --fps still apply)."),
        click.Option(["--storyboard"], is_flag=True,
                     help="One PNG of labelled keyframes, one per section of the "
                          "scene (its captions), without encoding a video; -o "
                          "FILE.png names it [default: "
                          "renders/draft/<scene>-storyboard.png]."),
    ]
    cmd.params.extend(common)
    for p in spec.params:
        _click_option(p)(cmd)
    return cmd


def _storyboard(spec: SceneSpec, given: dict, out, theme: str, resolution,
                verbose: bool) -> None:
    """`render SCENE --storyboard`: the keyframes of each section on one PNG."""
    from . import registry, storyboard
    from . import render as rd
    from .lesson import DRAFT_DIR

    values = spec.resolve(given)
    w, h = rd.parse_resolution(resolution)
    spec.check_size(w, h)
    if theme not in rd.themes.THEMES:
        raise UserError(f"--theme: {theme!r} is not one of "
                        f"{', '.join(rd.themes.THEMES)}")
    target = rd.output_path(spec, values, "png", theme, out, rd.DEFAULT_OUT_DIR / DRAFT_DIR)
    if out is None or Path(out).is_dir() or str(out).endswith(("/", os.sep)):
        target = target.with_name(target.stem + "-storyboard.png")
    rd.check_writable(target.parent, "-o" if out is not None else "output folder",
                      create=False)
    data = registry.prepare(spec, values)
    rd.check_writable(target.parent, "-o" if out is not None else "output folder")
    res, panels = registry.guarded(spec, storyboard.make, spec, values, data, target,
                                   w=w, h=h, theme=theme, verbose=verbose)
    from .page import human_size

    say(f"{res.path}  {human_size(res.bytes)}  {res.width}x{res.height}  storyboard: "
        f"{panels} keyframes of {w}x{h} in {res.seconds:.1f} s")


def _text_overrides(spec: SceneSpec, pairs: tuple[str, ...]) -> dict[str, str]:
    """`--text KEY=VALUE` pairs, checked against the scene's strings table."""
    out = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise UserError(f"--text: {pair!r} must be KEY=VALUE, e.g. "
                            f"--text title=\"What loss means\"")
        out[key.strip()] = value
    problems = spec.text_problems(out)
    if problems:
        raise UserError(f"--text: {problems[0]}")
    return out


def _theme_file(path: Path, name: str | None) -> str:
    """Register the theme(s) of `path`; the one to use (named, or the only one)."""
    import tomllib

    from . import theme as themes

    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"--theme-file: {path}: no such file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"--theme-file: {path}: {exc}") from None
    tables = doc["themes"] if isinstance(doc.get("themes"), dict) else {path.stem: doc}
    made = {}
    for key, table in tables.items():
        t, problems = themes.from_table(key, table, f"{path}: themes.{key}")
        if problems:
            raise UserError(f"--theme-file: {problems[0]}")
        if key in themes.BUILT_IN:
            raise UserError(f"--theme-file: {path}: {key!r} is a built-in theme's "
                            "name; give yours another")
        made[key] = themes.register(t)
        for line in themes.legibility(t):
            say(f"warning: {line}", err=True)
    if name is None:
        if len(made) > 1:
            raise UserError(f"--theme: {path} holds {', '.join(made)}; pick one")
        return next(iter(made))
    if name not in made and name not in themes.BUILT_IN:
        raise UserError(f"--theme: {name!r} is not in {path} ({', '.join(made)})")
    return name


class RenderGroup(click.Group):
    """`neuroanim render SCENE ...`: one subcommand per registered scene."""

    def list_commands(self, ctx):
        return list(registry.scenes())

    def get_command(self, ctx, name):
        if name not in registry.scenes():
            return None
        return _render_command(registry.scenes()[name])

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name and not name.startswith("-") and name not in registry.scenes():
            raise click.UsageError(
                f"unknown scene {name!r}; choose from {', '.join(registry.scenes())}"
            )
        return super().resolve_command(ctx, args)


@main.group(cls=RenderGroup)
def render() -> None:
    """Render one scene to mp4, webm, gif, png or mov.

    \b
    Example:
      neuroanim render and-gate -f gif --theme light
      neuroanim render gradient-descent --lr 0.5 -f gif
      neuroanim render and-gate --gate XOR -f png -o xor.png
    """


def _summary(result) -> str:
    from .page import human_size  # decimal units, as GIF budgets are

    size = human_size(result.bytes)
    if result.fmt == "png":
        return f"{result.path}  {size}  {result.width}x{result.height}  still"
    if result.fmt == "interactive":
        return f"{result.path}  {size}  interactive page (open it in a browser)"
    caps = f"  captions {result.captions}" if result.captions else ""
    return (f"{result.path}  {size}  {result.width}x{result.height}  "
            f"{result.duration:.2f} s  {result.frames} frames @ {result.fps:g} fps"
            f"{caps}")


@contextlib.contextmanager
def _sigterm_unwinds():
    """Let SIGTERM (`timeout`, a closed terminal) unwind like Ctrl-C meanwhile.

    Python's default SIGTERM exits without running `finally` blocks, which would
    leave the scratch folder and a `.part` file behind.
    """

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------- preview
def _not_empty(ctx, param, value):
    """`-o ""` would quietly mean the working folder: refuse it."""
    if value is not None and not str(value).strip():
        raise click.BadParameter("the path is empty; give a folder name",
                                 param_hint="-o")
    return Path(value) if value is not None else value


@main.command("preview")
@click.option("-o", "--out-dir", type=click.Path(), default="renders", callback=_not_empty,
              show_default=True, help="Build folder holding manifest.json.")
@click.option("--no-open", is_flag=True, help="Rewrite the page and print its path only.")
@fail_cleanly
def preview(out_dir: Path, no_open: bool) -> None:
    """Open the preview page of built figures (renders/index.html).

    The page is rewritten from manifest.json first; where no browser is
    available its path is printed to open by hand (it works from disk).

    \b
    Example:
      neuroanim preview
      neuroanim preview -o site/figures --no-open
    """
    from .page import preview as open_preview

    page, opened = open_preview(out_dir, open_browser=not no_open)
    say(page)
    if not opened and not no_open:
        say(f"no browser to open here: open {page.as_uri()}", err=True)


# ----------------------------------------------------------------------- build
@main.command("build")
@click.argument("lesson_file", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--out-dir", type=click.Path(), default="renders", callback=_not_empty,
              show_default=True, help="Folder for the figures, manifest.json, index.html.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
              help="Worker processes rendering at once [default: the number of cores].")
@click.option("--force", is_flag=True, help="Re-render the selected figures even if unchanged.")
@click.option("--only", multiple=True, metavar="NAME",
              help="Build only this figure (repeatable); the others are left as they are.")
@click.option("-n", "--dry-run", is_flag=True,
              help="Print what would be rendered and why; render nothing.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Render on a Dask cluster: tcp://HOST:PORT of a `dask scheduler`, "
                   "local:N for N worker processes here, or none for -j "
                   "[default: $NEUROANIM_SCHEDULER, else the lesson's [build] "
                   "scheduler, else none]. Needs pip install 'neuroanim[dask]'.")
@click.option("--draft", is_flag=True,
              help="Quick drafts into OUT_DIR/draft/: 428x240 at 10 fps, mp4 and png "
                   "only, each figure's first theme and language.")
@click.option("--base-url", metavar="URL",
              help="Where the course site serves these files (e.g. "
                   "https://course.example/figures/): the page's snippets point "
                   "there [default: the lesson's base_url, else relative].")
@fail_cleanly
def build_cmd(lesson_file, out_dir, jobs, force, only, dry_run, scheduler, draft,
              base_url) -> None:
    """Render every figure of a lesson: only what changed, in parallel.

    Without LESSON_FILE, ./lesson.toml when there is one, else the built-in
    lesson (chapter 2; `neuroanim init` writes it out to edit). Outputs of
    quality m, h or k carry it in their names (and-gate.1080p.mp4), so
    qualities never overwrite each other. Exit status: 0 all built, 1 a figure
    failed or a cluster was lost midway, 2 a bad lesson file or option, an
    unreachable or mismatched cluster, or another build is writing to the same
    folder.

    \b
    Example:
      neuroanim build
      neuroanim build lesson.toml -j 2
      neuroanim build lesson.toml --draft
      neuroanim build lesson.toml --only and-gate --force
      neuroanim build lesson.toml --scheduler tcp://10.0.0.5:8786
    """
    from . import build as bld
    from . import cluster, nochange
    from . import lesson as lsn

    def warn(msg: str) -> None:
        say(msg, err=True)

    fast = nochange.fast_argv(sys.argv[1:])  # this very command line, if plain
    if fast:
        nochange.forget(fast)  # until this build has finished
    try:
        lesson, note = lsn.find(lesson_file, Context.scene_dirs)
        if note:
            say(note)
        lesson = _adjust(lesson, draft, base_url)
        if draft:
            out_dir = out_dir / lsn.DRAFT_DIR
        if dry_run:
            plan = bld.make_plan(lesson, out_dir, force=force, only=only, warn=warn)
            say(f"{lesson.source} -> {out_dir}: dry run, "
                f"{len(plan.todo)} of {len(plan.jobs)} outputs would render")
            for job in plan.jobs:
                verb = "fail" if job.error else "render" if job.reason else "skip"
                say(f"{verb:<7}{job.name}  ({job.error or job.reason or 'unchanged'})")
            say(f"{len(plan.todo)} of {len(plan.jobs)} outputs would render")
            return
        where = cluster.choose(scheduler, lesson)
        if where is not None:
            if jobs is not None:
                raise UserError(f"-j: {where.source} sends the renders to Dask "
                                f"{where.address}, whose workers decide how many run "
                                "at once; drop -j, or pass --scheduler none")
            cluster.require(where)
        report = bld.build(
            lesson, out_dir, jobs=jobs, force=force, only=only, warn=warn,
            on_start=lambda line: say(line),
            on_event=lambda ev: say(bld.progress_line(ev)),
            runner=cluster.Dask(where) if where else None)
    except lsn.LessonError as exc:
        if Context.debug:
            raise
        for line in exc.problems:
            say(f"Error: {line}", err=True)
        sys.exit(2)
    for line in bld.summary(report):
        say(line)
    if Context.debug:
        for ev in report.failed:
            say(f"--- {ev.name}\n{ev.trace}", err=True)
    if not report.ok:
        sys.exit(1)
    if fast and not only and not force:
        nochange.record(fast, bld.watched_files(lesson, report),
                        ([note] if note else []) + bld.noop_lines(report))


def _adjust(lesson, draft: bool, base_url: str | None):
    """The lesson as `--draft` and `--base-url` ask."""
    import dataclasses

    from . import lesson as lsn

    if base_url is not None:
        lesson = dataclasses.replace(lesson, base_url=_base_url(base_url))
    return lsn.drafted(lesson) if draft else lesson


def _base_url(url: str) -> str:
    """`--base-url` checked: an http(s) address or a path, nothing to break HTML."""
    from . import files

    if not files.base_url_ok(url):
        raise UserError(f"--base-url: {url!r} must be an http(s) address or "
                        'a path, e.g. "https://course.example/figures/"')
    return url


@main.command("serve")
@click.argument("lesson_file", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--out-dir", type=click.Path(), default="renders", callback=_not_empty,
              show_default=True, help="Folder for the figures (drafts: OUT_DIR/draft).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
@click.option("--draft", is_flag=True,
              help="Build drafts (428x240 at 10 fps, mp4 and png) into OUT_DIR/draft.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
              help="Worker processes rendering at once [default: the number of cores].")
@click.option("--base-url", metavar="URL",
              help="Where the course site serves the files (the snippets' paths).")
@fail_cleanly
def serve_cmd(lesson_file, out_dir, host, port, no_open, draft, jobs, base_url) -> None:
    """Build a lesson, serve its preview page and rebuild on every save.

    Watches the lesson file, the trajectory files it names and the scene
    folders (in a development checkout the package's code too). Each save
    rebuilds only the outputs whose key changed, the figure just edited first,
    and the open page updates those figures by itself. A broken edit shows on
    the page and here; the last good files stay served. Prints one line on
    stdout, `serving http://HOST:PORT/`, when the page can be opened; the rest
    goes to stderr. Ctrl-C stops it.

    \b
    Example:
      neuroanim serve lesson.toml --draft
      neuroanim serve --port 0 --no-open
    """
    from . import lesson as lsn
    from . import serve as srv

    if base_url is not None:
        _base_url(base_url)
    if lesson_file is not None and not lesson_file.is_file():
        raise UserError(f"LESSON_FILE: {lesson_file}: no such lesson file")
    if lesson_file is None and Path(lsn.LESSON_FILE).is_file():
        say(f"no lesson file given: using ./{lsn.LESSON_FILE}", err=True)
    elif lesson_file is None:
        say(f"no lesson file given and no ./{lsn.LESSON_FILE} here: serving the "
            "built-in lesson (chapter 2)", err=True)
    source = srv.Source(lesson_file, Context.scene_dirs, draft, base_url)
    if draft:
        out_dir = out_dir / lsn.DRAFT_DIR
    srv.serve(source, out_dir, host=host, port=port, jobs=jobs,
              open_browser=not no_open, say=lambda line: say(line, err=True),
              announce=lambda line: say(line))


@main.command("init")
@click.argument("path", required=False, type=click.Path(path_type=Path),
                default=Path("lesson.toml"))
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@click.option("--lesson", "which", default="chapter-2", show_default=True,
              metavar="NAME", help="Which built-in lesson: chapter-2 or chapter-3 "
                                   "(the preview of layers learning XOR).")
@click.option("--language", default="en", show_default=True, metavar="LANG",
              help="The lesson's language: en or de (German words, captions, alt "
                   "text and decimal commas).")
@fail_cleanly
def init_cmd(path: Path, force: bool, which: str, language: str) -> None:
    """Write a built-in lesson to a commented lesson.toml, to edit and build.

    \b
    Example:
      neuroanim init
      neuroanim init course/chapter-2.toml && neuroanim build course/chapter-2.toml
      neuroanim init --lesson chapter-3 chapter-3.toml
      neuroanim init --language de kapitel-2.toml
    """
    from .lesson import LESSONS, builtin_text, loads
    from .wording import LANGUAGES

    if language not in LANGUAGES:
        raise UserError(f"--language: {language!r} is not one of {', '.join(LANGUAGES)}")
    if language != "en":
        translated = f"{which}-{language}"
        if translated not in LESSONS:
            have = [n for n in LESSONS if n.startswith(which + "-")] or ["none"]
            raise UserError(f"--language: {which} has no {language!r} version yet "
                            f"(built-in translations: {', '.join(have)}); write one "
                            f"with language = {language!r} in its [defaults]")
        which = translated
    text = builtin_text(which)

    if path.is_dir():
        path = path / "lesson.toml"
    if not path.parent.is_dir():
        raise UserError(f"PATH: folder {path.parent} does not exist")
    try:
        with open(path, "w" if force else "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise UserError(f"PATH: {path} already exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise UserError(f"PATH: cannot write {path}: {exc.strerror or exc}") from None
    say(f"wrote {path} ({len(loads(text, which).figures)} figures); "
        f"build it with: neuroanim build {path}")


@main.command("new-scene")
@click.argument("name")
@fail_cleanly
def new_scene_cmd(name: str) -> None:
    """Write a starter scene NAME into ./scenes/ that renders as written.

    Two files: scenes/NAME.py, the card (its option, a prepare that trains a
    neuron with neuroanim.core, alt text and words; no manim), and
    scenes/NAME_draw.py, the drawing (a loss chart, a readout and a caption).
    docs/writing-scenes.md walks from here to a figure in a lesson.

    \b
    Example:
      neuroanim new-scene lr-race
      neuroanim render lr-race -f gif
    """
    import keyword
    import re
    from importlib.resources import files as package_files
    from string import Template

    module = name.replace("-", "_")
    if not re.fullmatch(r"[a-z][a-z0-9]*([-_][a-z0-9]+)*", name) or \
            keyword.iskeyword(module) or module.endswith(registry.DRAW_SUFFIX):
        raise UserError(f"NAME: {name!r} is not a scene name; use lowercase letters, "
                        "digits and '-', starting with a letter, e.g. my-scene")
    if name in registry.scenes():
        raise UserError(f"NAME: scene {name!r} exists already "
                        f"({registry.scenes()[name].source}); choose another name")
    folder = Path("scenes")
    paths = [folder / f"{module}.py", folder / f"{module}{registry.DRAW_SUFFIX}.py"]
    for path in paths:
        if path.exists():
            raise UserError(f"NAME: {path} already exists; choose another name")
    folder.mkdir(exist_ok=True)
    words = dict(name=name, module=module,
                 cls="".join(w.capitalize() for w in re.split("[-_]", name)))
    templates = package_files("neuroanim") / "templates"
    for path, kind in zip(paths, ("card", "draw"), strict=True):
        text = (templates / f"{kind}.py.txt").read_text("utf-8")
        path.write_text(Template(text).substitute(words), encoding="utf-8")
        say(f"wrote {path}")
    say(f"render it:  neuroanim render {name} -f mp4   (or -f png for a still)")
    say(f'add it to a lesson beside scenes/:\n  [[figure]]\n  name = "{name}"\n'
        f'  scene = "{name}"\n  formats = ["mp4", "png"]')


# ----------------------------------------------------------------------- train
@main.group()
def train() -> None:
    """Train a tiny model for real and save its trajectory (.json or .npz to
    replay; .csv for spreadsheets).

    \b
    Example:
      neuroanim train descent --preset bouncy -o ball.json
      neuroanim train neuron --gate AND --epochs 2000 -o and.npz
      neuroanim train mlp --gate XOR --hidden 2 -o xor.json
    """


def _write_trajectory(run, out: Path | None) -> None:
    from . import trajectory as tio

    if out is None:
        say(tio.dumps(run), nl=False)
        return
    if not str(out).strip() or out.name in ("", ".", ".."):
        raise UserError("-o: the path is empty; give a file name such as run.json")
    if out.suffix.lower() not in tio.FORMATS:
        raise UserError(f"-o: {out} must end in {', '.join(tio.FORMATS)}")
    from .render import _folder_problem

    problem = _folder_problem(out.parent)
    if problem or not out.parent.is_dir():
        raise UserError(f"-o: cannot write {out}: "
                        f"{problem or f'folder {out.parent} does not exist'}")
    try:
        tio.save(run, out)
    except OSError as exc:
        raise UserError(f"-o: cannot write {out}: {exc.strerror or exc}") from None


def _train_option(p: Param):
    return _click_option(p)


_DESCENT = {p.name: p for p in options.descent_params(multiple=False)}
_NEURON = {p.name: p for p in options.neuron_params(trajectory=False)}
_MLP = {p.name: p for p in options.mlp_params(trajectory=False)}
_OUT = click.option("-o", "--output", "out", type=click.Path(path_type=Path),
                    metavar="PATH",
                    help="File to write: .json or .npz (replayable with "
                         "--trajectory) or .csv (a spreadsheet export); JSON to "
                         "stdout without it.")


def _values(params: dict[str, Param], given: dict) -> dict:
    return {k: params[k].default if v is None else params[k].parse(v)
            for k, v in given.items()}


@train.command("descent")
@_train_option(_DESCENT["landscape"])
@_train_option(_DESCENT["lr"])
@_train_option(_DESCENT["preset"])
@_train_option(_DESCENT["w0"])
@_train_option(_DESCENT["steps"])
@_OUT
@fail_cleanly
def train_descent(landscape, lr, preset, w0, steps, out) -> None:
    """Run gradient descent on a 1-D loss landscape and record every step.

    \b
    Example:
      neuroanim train descent --lr 0.5 -o bounce.json
      neuroanim train descent --preset diverge --landscape asymmetric -o off.npz
    """
    from . import core

    v = _values(_DESCENT, dict(landscape=landscape, lr=lr, preset=preset, w0=w0,
                               steps=steps))
    ls = core.get_landscape(v["landscape"])
    if v["lr"] is not None and v["preset"] is not None:
        raise UserError("--lr and --preset: give one or the other")
    rate = v["lr"] if v["lr"] is not None else core.preset_lr(ls, v["preset"] or "good")
    options.check_start(ls, v["w0"])
    try:
        run = core.descend(ls, v["w0"], rate, int(v["steps"]))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    _write_trajectory(run, out)
    say(f"descent on {run.landscape}: lr {run.lr:g}, {run.verdict()}, "
        f"final w {run.w[-1]:.4f}, loss {run.loss[-1]:.4g} ({run.status})", err=True)


@train.command("neuron")
@_train_option(_NEURON["gate"])
@_train_option(_NEURON["lr"])
@_train_option(_NEURON["epochs"])
@_train_option(_NEURON["seed"])
@_train_option(_NEURON["mode"])
@_OUT
@fail_cleanly
def train_neuron(gate, lr, epochs, seed, mode, out) -> None:
    """Train a sigmoid neuron on a logic gate with MSE and record every epoch.

    \b
    Example:
      neuroanim train neuron --gate AND -o and.json
      neuroanim train neuron --gate XOR --mode per-example -o xor.npz
    """
    values = _values(_NEURON, dict(gate=gate, lr=lr, epochs=epochs, seed=seed,
                                   mode=mode))
    run = options.neuron_run(values)
    _write_trajectory(run, out)
    w, b = run.w[-1], run.b[-1]
    say(f"neuron on {run.gate}: loss {run.loss[0]:.4f} -> {run.loss[-1]:.4f} "
        f"after {run.epochs} epochs, w = ({w[0]:.3f}, {w[1]:.3f}), b = {b:.3f}, "
        f"accuracy {run.accuracy:.0%} ({run.status})", err=True)


@train.command("mlp")
@_train_option(_MLP["gate"])
@_train_option(_MLP["hidden"])
@_train_option(_MLP["lr"])
@_train_option(_MLP["epochs"])
@_train_option(_MLP["seed"])
@_train_option(_MLP["mode"])
@_OUT
@fail_cleanly
def train_mlp(gate, hidden, lr, epochs, seed, mode, out) -> None:
    """Train a 2-H-1 sigmoid network on a logic gate with MSE and record every epoch.

    \b
    Example:
      neuroanim train mlp --gate XOR -o xor.json
      neuroanim train mlp --gate XOR --hidden 3 --mode per-example -o xor.npz
    """
    values = _values(_MLP, dict(gate=gate, hidden=hidden, lr=lr, epochs=epochs,
                                seed=seed, mode=mode))
    run = options.mlp_run(values)
    _write_trajectory(run, out)
    say(_mlp_summary(run, out), err=True)


def _mlp_summary(run, out: Path | None = None) -> str:
    """One line: the loss before and after, the settings, and whether it learned."""
    right = int(run.right.sum())
    verdict = "learned" if run.learned else "did not learn"
    where = f" -> {out}" if out is not None else ""
    return (f"mlp 2-{run.hidden_size}-1 on {run.gate}: loss {run.loss[0]:.4f} -> "
            f"{run.loss[-1]:.4f} after {run.epochs} epochs ({run.mode}, lr "
            f"{run.lr:g}, seed {run.seed}): {verdict} {run.gate}, {right} of 4 "
            f"right{where}")


if __name__ == "__main__":  # pragma: no cover
    main()
