"""Alt text: plain-language descriptions of a figure from its prepared data."""

from __future__ import annotations

import math
from collections.abc import Callable


def num(x: float, zeros: bool = False, tiny: bool = False) -> str:
    """A number as a reader would say it: 2 significant digits below 1, one
    decimal up to 100, whole (with thousands commas) beyond, powers of ten from
    10^7; `zeros` keeps trailing zeros (0.30) so losses read with their
    precision; `tiny` keeps a non-zero value under 0.0001 (a learning rate of
    1e-320 is not 0), which otherwise reads 0."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    if abs(x) < 1e-4 and not tiny:
        return "0"
    if abs(x) < 1e-4 or abs(x) >= 1e7:  # 1e141 needs no 142 digits
        mant, _, exp = f"{x:.2g}".partition("e")
        return f"{mant} × 10^{int(exp)}" if exp else mant
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        s = f"{x:.1f}"
        return s if zeros or not s.endswith(".0") else s[:-2]
    return f"{x:#.2g}" if zeros else f"{x:.2g}"


def _loss(x: float) -> str:
    return "below 0.0001" if 0 <= x < 1e-4 else num(x, zeros=True)


def _trend(first: float, last: float) -> str:
    if last < 0.9 * first:
        return f"falls from {_loss(first)} to {_loss(last)}"
    if last > 1.1 * first:
        return f"rises from {_loss(first)} to {_loss(last)}"
    return f"only moves from {_loss(first)} to {_loss(last)}"


def _point(x) -> str:
    return "(" + ", ".join(num(v) for v in x) + ")"


def _is(verdict: str) -> str:
    """"still crawling after 30 steps" reads "it is still crawling ..."."""
    return f"is {verdict}" if verdict.startswith("still") else verdict


def _alt_descent(data: dict) -> str:
    from .core import get_landscape

    ls = get_landscape(data["landscape"])
    runs = data["runs"]
    w0 = num(runs[0].w0)
    where = (f"{ls.formula}, {ls.description}, lowest at w = {num(ls.w_min)}")
    if len(runs) == 1:
        r = runs[0]
        return (f"A ball rolls down the loss curve {where}, starting at w = {w0} with "
                f"learning rate {num(r.lr, tiny=True)}: it {_is(r.verdict())}, final loss "
                f"{_loss(r.loss[-1])} at w = {num(r.w[-1])}.")
    parts = [f"{num(r.lr, tiny=True)}: {r.verdict()}, loss {_loss(r.loss[-1])}" for r in runs]
    return (f"Balls rolling down the loss curve {where}, from w = {w0} at "
            f"{len(runs)} learning rates side by side: " + "; ".join(parts) + ".")


def _outputs(run) -> str:
    pts = ", ".join(_point(x) for x in run.inputs)
    outs = ", ".join(f"{p:.2f}" for p in run.predictions[-1])
    tgt = ", ".join(num(t) for t in run.targets)
    return f"outputs {outs} for inputs {pts} (targets {tgt})"


def _setting(run) -> str:
    per = ", one update per example" if run.mode == "per-example" else ""
    return f"(learning rate {num(run.lr, tiny=True)}{per})"


def _alt_gate(data: dict) -> str:
    run = data["run"]
    right = int(round(run.accuracy * 4))
    if run.status == "learned":
        verdict = "it learned the gate"
    elif run.gate == "XOR":  # not linearly separable: no line splits its 1s from 0s
        verdict = "it cannot learn it, as no single line separates XOR's 1s from 0s"
    else:
        verdict = "it has not learned the gate yet"
    return (f"A neuron learning {run.gate} {_setting(run)}: "
            f"after {run.epochs} epochs the loss {_trend(run.loss[0], run.loss[-1])}; "
            f"weights {num(run.w[-1, 0])} and {num(run.w[-1, 1])}, bias "
            f"{num(run.b[-1])}; {_outputs(run)}: {verdict}, {right} of 4 right.")


def _alt_loop(data: dict) -> str:
    run, st = data["run"], data["step"]
    return (f"The training loop (forward, error, backward, adjust, repeat) on one real "
            f"step of a neuron learning {run.gate}: for inputs {_point(st.x)} with "
            f"target {num(st.target)} it predicts {num(st.prediction, True)} "
            f"(z = {num(st.z)}); error {num(st.error)}, squared error "
            f"{num(st.loss, True)}; gradients {num(st.grad_w[0])} and "
            f"{num(st.grad_w[1])} for the weights, {num(st.grad_b)} for the bias; "
            f"with learning rate {num(st.lr, tiny=True)} the weights go from {num(st.w[0])} and "
            f"{num(st.w[1])} to {num(st.w_new[0])} and {num(st.w_new[1])}, the bias "
            f"from {num(st.b)} to {num(st.b_new)}. Repeated for {run.epochs} epochs, "
            f"the loss {_trend(run.loss[0], run.loss[-1])}.")


def _alt_epochs(data: dict) -> str:
    run, st = data["run"], data["step"]
    marks = [e for e in (10, 100, 1000, 10_000) if e < run.epochs]
    along = ", ".join(f"{_loss(run.loss[e])} after {e}" for e in marks)
    return (f"Loss and epochs for a neuron learning {run.gate}: for inputs "
            f"{_point(st.x)} it predicts {num(st.prediction, True)} where the target "
            f"is {num(st.target)}, an error of {num(st.error)} and a squared error of "
            f"{num(st.loss, True)}. The loss, the mean of the squared errors over the "
            f"4 examples of one epoch, {_trend(run.loss[0], run.loss[-1])} over "
            f"{run.epochs} epochs" + (f" ({along})" if along else "") + ".")


ALT_WRITERS: dict[str, Callable[[dict], str]] = {
    "gradient-descent": _alt_descent,
    "and-gate": _alt_gate,
    "training-loop": _alt_loop,
    "loss-and-epochs": _alt_epochs,
}


def alt_text(scene: str, data: dict) -> str:
    """Plain-language alt text from a figure's prepared data (numpy only).

    Every number comes from the trajectory the figure replays, so the text
    stays true when options change. Scenes without a writer get their
    registered description.
    """
    writer = ALT_WRITERS.get(scene)
    if writer is not None:
        return writer(data)
    from . import registry

    spec = registry.SCENES.get(scene)
    return spec.description if spec else f"Animation: {scene}."
