"""The `neuroanim` command: thin click commands over the library.

manim is imported only inside commands that render, so `--help`, `list` and
`train` start fast.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from . import __version__, registry
from .errors import UserError
from .params import Param


class Context:
    debug = False


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
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


class OneLineErrors(click.Group):
    """Print usage errors as one `Error: ...` line (exit 2), without the usage block."""

    def main(self, args=None, prog_name=None, complete_var=None,
             standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neuroanim")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def main(debug: bool) -> None:
    """neuroanim: lesson animations from real neural-network training runs.

    \b
    Example:
      neuroanim list
      neuroanim render gradient-descent --lr 0.5 -f gif
      neuroanim train neuron --gate AND -o and.json
    """
    Context.debug = debug


# ------------------------------------------------------------------------ list
@main.command("list")
def list_cmd() -> None:
    """List every scene with its description and options.

    \b
    Example:
      neuroanim list
    """
    for spec in registry.SCENES.values():
        click.secho(spec.name, bold=True, nl=False)
        click.echo(f"  {spec.description}")
        for p in spec.params:
            default = "derived" if p.default in (None, ()) else p.default
            click.echo(f"    {p.flag:<14} {p.type_name():<28} default {default}  {p.help}")


# ---------------------------------------------------------------------- render
def _click_option(p: Param):
    kw = {"help": p.help, "default": None, "show_default": False}
    if p.multiple:
        kw["multiple"] = True
        kw["default"] = ()
    kw["type"] = str  # Param.parse converts and checks, with our own messages
    return click.option(p.flag, p.name, metavar=p.type_name().upper(), **kw)


def _render_command(spec: registry.SceneSpec) -> click.Command:
    @fail_cleanly
    def run(fmt, quality, theme, transparent, out, fps, resolution, verbose, **given):
        from .render import render

        given = {k: v for k, v in given.items() if v not in (None, ())}
        result = render(spec, given, fmt=fmt, quality=quality, theme=theme,
                        transparent=transparent, out=out, fps=fps,
                        resolution=resolution, verbose=verbose)
        click.echo(_summary(result))

    cmd = click.Command(
        spec.name,
        callback=run,
        help=f"{spec.description}\n\n\b\nExample:\n  neuroanim render {spec.name} -f gif",
        short_help=spec.description,
    )
    common = [
        click.Option(["-f", "--format", "fmt"], default="mp4", show_default=True,
                     help="mp4, webm, gif, png (the last frame) or mov."),
        click.Option(["-q", "--quality"], default="l", show_default=True,
                     help="l 854x480@15, m 1280x720@30, h 1920x1080@60, k 3840x2160@60."),
        click.Option(["--theme"], default="dark", show_default=True,
                     help="dark or light (a white page)."),
        click.Option(["--transparent"], is_flag=True,
                     help="Transparent background (webm, mov, png only)."),
        click.Option(["-o", "--output", "out"], type=click.Path(path_type=Path),
                     help="Output file or folder (default renders/<scene>[-variant][-theme].ext)."),
        click.Option(["--fps"], type=float, help="Frame rate (GIF default 20, at most 50)."),
        click.Option(["--resolution"], help="WIDTHxHEIGHT, e.g. 1280x720."),
        click.Option(["-v", "--verbose"], is_flag=True, help="Show manim's log."),
    ]
    cmd.params.extend(common)
    for p in spec.params:
        _click_option(p)(cmd)
    return cmd


class RenderGroup(click.Group):
    """`neuroanim render SCENE ...`: one subcommand per registered scene."""

    def list_commands(self, ctx):
        return list(registry.SCENES)

    def get_command(self, ctx, name):
        if name not in registry.SCENES:
            return None
        return _render_command(registry.SCENES[name])

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name and not name.startswith("-") and name not in registry.SCENES:
            raise click.UsageError(
                f"unknown scene {name!r}; choose from {', '.join(registry.SCENES)}"
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
    size = _human(result.bytes)
    if result.fmt == "png":
        return f"{result.path}  {size}  {result.width}x{result.height} still"
    return (f"{result.path}  {size}  {result.width}x{result.height}  "
            f"{result.duration:.1f} s  {result.frames} frames")


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


# ----------------------------------------------------------------------- train
@main.group()
def train() -> None:
    """Train a tiny model for real and save its trajectory (.json, .npz or .csv).

    \b
    Example:
      neuroanim train descent --preset bouncy -o ball.json
      neuroanim train neuron --gate AND --epochs 2000 -o and.npz
    """


def _write_trajectory(run, out: Path | None) -> None:
    from . import trajectory as tio

    if out is None:
        click.echo(tio.dumps(run), nl=False)
        return
    if out.suffix.lower() not in tio.FORMATS:
        raise UserError(f"-o: {out} must end in {', '.join(tio.FORMATS)}")
    if not out.parent.is_dir():
        raise UserError(f"-o: folder {out.parent} does not exist")
    try:
        tio.save(run, out)
    except OSError as exc:
        raise UserError(f"-o: cannot write {out}: {exc.strerror or exc}") from None


def _param_option(spec_name: str, name: str, **over):
    spec = registry.get(spec_name)
    p = next(p for p in spec.params if p.name == name)
    return click.option(p.flag, p.name, type=str, default=None,
                        help=over.get("help", p.help), metavar=p.type_name().upper())


def _parse(spec_name: str, name: str, raw):
    spec = registry.get(spec_name)
    p = next(p for p in spec.params if p.name == name)
    return p.default if raw is None else p.parse(raw)


@train.command("descent")
@_param_option("gradient-descent", "landscape")
@click.option("--lr", type=str, default=None, help="Learning rate (default: the good preset).")
@_param_option("gradient-descent", "preset", help="slow, good, bouncy or diverge")
@_param_option("gradient-descent", "w0")
@_param_option("gradient-descent", "steps")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path),
              help="File to write (.json, .npz, .csv); JSON to stdout without it.")
@fail_cleanly
def train_descent(landscape, lr, preset, w0, steps, out) -> None:
    """Run gradient descent on a 1-D loss landscape and record every step.

    \b
    Example:
      neuroanim train descent --lr 0.5 -o bounce.json
    """
    from . import core

    ls = _parse("gradient-descent", "landscape", landscape)
    if lr is not None and preset is not None:
        raise UserError("--lr and --preset: give one or the other")
    if lr is not None:
        rate = registry.get("gradient-descent").params[0].parse(lr)[0]
    else:
        p = _parse("gradient-descent", "preset", preset)
        rate = core.preset_lr(ls, p[0] if p else "good")
    run = core.descend(ls, _parse("gradient-descent", "w0", w0), rate,
                       int(_parse("gradient-descent", "steps", steps)))
    _write_trajectory(run, out)
    click.echo(f"descent on {run.landscape}: lr {run.lr:g}, {run.verdict()}, "
               f"final w {run.w[-1]:.4f}, loss {run.loss[-1]:.4g} ({run.status})", err=True)


@train.command("neuron")
@_param_option("and-gate", "gate")
@_param_option("and-gate", "lr")
@_param_option("and-gate", "epochs")
@_param_option("and-gate", "seed")
@_param_option("and-gate", "mode")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path),
              help="File to write (.json, .npz, .csv); JSON to stdout without it.")
@fail_cleanly
def train_neuron(gate, lr, epochs, seed, mode, out) -> None:
    """Train a sigmoid neuron on a logic gate with MSE and record every epoch.

    \b
    Example:
      neuroanim train neuron --gate AND -o and.json
    """
    values = {k: _parse("and-gate", k, v) for k, v in
              dict(gate=gate, lr=lr, epochs=epochs, seed=seed, mode=mode).items()}
    run = registry.neuron_run(values)
    _write_trajectory(run, out)
    w, b = run.w[-1], run.b[-1]
    click.echo(f"neuron on {run.gate}: loss {run.loss[0]:.4f} -> {run.loss[-1]:.4f} "
               f"after {run.epochs} epochs, w = ({w[0]:.3f}, {w[1]:.3f}), b = {b:.3f}, "
               f"accuracy {run.accuracy:.0%} ({run.status})", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
