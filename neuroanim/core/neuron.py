"""A single sigmoid neuron trained with MSE by gradient descent, recorded per epoch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from .datasets import gate_data
from .decision import separable, verdicts

MODES = ("batch", "per-example")
DEFAULT_LR = 2.0
DEFAULT_EPOCHS = 2000
MAX_EPOCHS = 100_000  # the CLI's limit too: a 100k-epoch JSON file is ~30 MB
INIT_SCALE = 0.5  # initial w1, w2, b ~ Normal(0, 0.5**2), drawn in that order


def sigmoid(z):
    """1 / (1 + e^-z), written as (1 + tanh(z/2)) / 2: equal, and never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def predict(w, b, x):
    """Neuron output sigmoid(x . w + b): w (2,), b scalar, x (N, 2) -> (N,)."""
    return sigmoid(np.asarray(x) @ np.asarray(w) + b)


def mse(p, y) -> float:
    """Mean over examples of (prediction - target)^2, as the lesson defines loss."""
    return float(np.mean((np.asarray(p) - np.asarray(y)) ** 2))


def predict_and_grad(w, b, x, y):
    """Outputs and MSE gradient of a sigmoid neuron: the one definition of its gradient.

    L = 1/N sum_i (p_i - y_i)^2, p = sigmoid(z), z = x.w + b, so
    dL/dz_i = 2/N (p_i - y_i) p_i (1 - p_i); dL/dw = sum_i dL/dz_i x_i;
    dL/db = sum_i dL/dz_i.

    Shapes: w (..., 2), b (...), x (..., N, 2), y (..., N) -> p (..., N),
    dL/dw (..., 2), dL/db (...); leading axes broadcast. So one call covers every
    recorded state of a run (w (T, 2), b (T,) with the four rows x (4, 2),
    y (4,)), or each state with its own example (x (E, 1, 2), y (E, 1)); one
    example alone is N = 1, the gradient of its squared error. `loss_and_grad`,
    `train_neuron`'s records, `dissect_step` and the per-example replay that
    checks a trajectory file on load call this; `_descend`'s fast loop is tested
    against it.
    """
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    # Both sums over x are matrix products when every state shares the rows x
    # (N, 2): BLAS, 1.5-2x faster than einsum over a whole run's states.
    shared = x.ndim == 2
    z = w @ x.T if shared else np.einsum("...nk,...k->...n", x, w)  # (..., N)
    p = sigmoid(z + b[..., None])  # (..., N)
    dz = 2.0 / p.shape[-1] * (p - y) * p * (1.0 - p)  # (..., N): dL/dz
    grad_w = dz @ x if shared else np.einsum("...n,...nk->...k", dz, x)  # (..., 2)
    return p, grad_w, dz.sum(axis=-1)


def loss_and_grad(w, b, x, y):
    """MSE loss and its gradient (dL/dw (2,), dL/db) at one state; x (N, 2), y (N,).

    The gradient is `predict_and_grad`'s.
    """
    p, grad_w, grad_b = predict_and_grad(w, b, x, y)  # (N,), (2,), ()
    return mse(p, y), grad_w, float(grad_b)


@dataclass(frozen=True)
class NeuronRun:
    """One neuron's training on a gate; epoch 0 is the random start.

    Arrays, epoch axis first, T = epochs + 1:
      w            (T, 2)  weights after each epoch
      b            (T,)    bias after each epoch
      loss         (T,)    MSE over the four examples at that state
      predictions  (T, 4)  outputs on the four examples at that state
      grad_w       (T, 2)  full-batch dL/dw at that state: in batch mode the
                           gradient of the update to the next epoch; in
                           per-example mode the mean of the four examples'
                           gradients there (each step's own: `dissect_step`)
      grad_b       (T,)    full-batch dL/db at that state, likewise
      order        (T-1, 4) example order of each epoch (per-example mode;
                           0..3 in batch mode, where all four act at once)
    inputs (4, 2), targets (4,).
    """

    gate: str
    lr: float
    epochs: int
    seed: int
    mode: str
    inputs: np.ndarray
    targets: np.ndarray
    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    predictions: np.ndarray
    grad_w: np.ndarray
    grad_b: np.ndarray
    order: np.ndarray

    def __post_init__(self):
        t = self.epochs + 1
        shapes = {
            "inputs": (4, 2),
            "targets": (4,),
            "w": (t, 2),
            "b": (t,),
            "loss": (t,),
            "predictions": (t, 4),
            "grad_w": (t, 2),
            "grad_b": (t,),
            "order": (t - 1, 4),
        }
        for name, shape in shapes.items():
            arr = getattr(self, name)
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} holds a non-finite value")
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} not in {MODES}")

    @property
    def accuracy(self) -> float:
        """Share of the four examples the final neuron gets right, by `verdicts`.

        An example is right when its output is on the target's side of 0.5; an
        output of exactly 0.5 is undecided, so wrong (XOR's stalled neuron
        outputs 0.50 everywhere and gets none right).
        """
        return float(np.mean(verdicts(self.predictions[-1], self.targets)))

    @property
    def status(self) -> str:
        """`learned` when every final prediction is on its target's side of 0.5."""
        return "learned" if self.accuracy == 1.0 else "failed"

    @property
    def separable(self) -> bool:
        """Could one neuron learn these targets at all (`decision.separable`)?

        False for XOR: no line splits its 1s from its 0s, so training cannot
        succeed however long it runs.
        """
        return separable(self.targets)

    @property
    def update_sizes(self) -> np.ndarray:
        """(T-1,) length of each epoch's update: |(w, b)[t+1] - (w, b)[t]|.

        The Euclidean distance the parameters (w1, w2, b) moved from epoch t to
        t + 1 (in per-example mode, the net move of the epoch's four steps).
        """
        theta = np.column_stack([self.w, self.b])  # (T, 3)
        return np.linalg.norm(np.diff(theta, axis=0), axis=1)  # (T-1,)


def _check(lr: float, epochs: int, seed: int, mode: str) -> None:
    """ValueError naming the argument, before any work is done."""
    if isinstance(lr, bool) or not (
        isinstance(lr, Real) and math.isfinite(lr) and lr > 0
    ):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer):
        raise ValueError(f"epochs must be a whole number, got {epochs!r}")
    if not 1 <= epochs <= MAX_EPOCHS:
        raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS}, got {epochs}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def train_neuron(
    gate: str = "AND",
    lr: float = DEFAULT_LR,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    mode: str = "batch",
) -> NeuronRun:
    """Train sigmoid(w.x + b) on `gate`'s truth table by gradient descent on MSE.

    batch: one update per epoch with the full-batch gradient.
    per-example: four updates per epoch, one per example in an order shuffled by
    the seeded generator, each with the gradient of that example's squared error.
    Initial w1, w2, b are drawn (in that order) from Normal(0, 0.5^2) by
    `np.random.default_rng(seed)`; per-example orders come next from the same
    generator (`permuted`, one row per epoch), so a seed fixes the whole run.
    """
    _check(lr, epochs, seed, mode)
    epochs, seed = int(epochs), int(seed)
    x, y = gate_data(gate)
    rng = np.random.default_rng(seed)
    init = rng.normal(0.0, INIT_SCALE, size=3)
    w, b = init[:2].copy(), float(init[2])

    order = np.tile(np.arange(4), (epochs, 1))  # (E, 4)
    if mode == "per-example":
        order = rng.permuted(order, axis=1)  # each row shuffled independently
    params = _descend(w, b, x, y, lr, order, batch=(mode == "batch"))  # (T, 3)
    ws, bs = params[:, :2], params[:, 2]

    pred, grad_w, grad_b = predict_and_grad(ws, bs, x, y)  # (T, 4), (T, 2), (T,)
    loss = np.mean((pred - y) ** 2, axis=1)  # (T,)
    return NeuronRun(
        gate=gate.upper(),
        lr=float(lr),
        epochs=int(epochs),
        seed=int(seed),
        mode=mode,
        inputs=x,
        targets=y,
        w=ws,
        b=bs,
        loss=loss,
        predictions=pred,
        grad_w=grad_w,
        grad_b=grad_b,
        order=order,
    )


def _descend(w, b, x, y, lr, order, batch):
    """The update loop in plain floats: ~0.15 us an example, ~20x faster than numpy.

    Each step is w <- w - lr dL/dw with the MSE gradient of `predict_and_grad`,
    written out here because this loop is the whole cost of a long run: over all
    four examples at once (batch, row by row) or one example at a time in
    `order` (N = 1). A fast path, not a second definition: tests replay every
    epoch of both modes with `predict_and_grad` and must land on the same state.
    Returns (epochs + 1, 3) rows of (w1, w2, b).
    """
    tanh = math.tanh
    w1, w2, b = float(w[0]), float(w[1]), float(b)
    out = [w1, w2, b]
    keep = out.extend
    if batch:
        (a1, a2), (b1, b2), (c1, c2), (d1, d2) = x.tolist()  # the four rows
        ta, tb, tc, td = y.tolist()
        k = lr * 2.0 / 4  # lr times the 2/N of d(mean squared error)/dz
        for _ in range(len(order)):
            p = 0.5 + 0.5 * tanh(0.5 * (w1 * a1 + w2 * a2 + b))
            da = (p - ta) * p * (1.0 - p)
            p = 0.5 + 0.5 * tanh(0.5 * (w1 * b1 + w2 * b2 + b))
            db = (p - tb) * p * (1.0 - p)
            p = 0.5 + 0.5 * tanh(0.5 * (w1 * c1 + w2 * c2 + b))
            dc = (p - tc) * p * (1.0 - p)
            p = 0.5 + 0.5 * tanh(0.5 * (w1 * d1 + w2 * d2 + b))
            dd = (p - td) * p * (1.0 - p)
            w1 -= k * (da * a1 + db * b1 + dc * c1 + dd * d1)
            w2 -= k * (da * a2 + db * b2 + dc * c2 + dd * d2)
            b -= k * (da + db + dc + dd)
            keep((w1, w2, b))
    else:
        rows = [(float(x[i, 0]), float(x[i, 1]), float(y[i])) for i in range(len(y))]
        for epoch_order in order.tolist():
            for i in epoch_order:
                x1, x2, t = rows[i]
                p = 0.5 + 0.5 * tanh(0.5 * (w1 * x1 + w2 * x2 + b))
                d = 2.0 * (p - t) * p * (1.0 - p)
                w1 -= lr * d * x1
                w2 -= lr * d * x2
                b -= lr * d
            keep((w1, w2, b))
    return np.array(out, dtype=float).reshape(-1, 3)


def output_grid(w, b, resolution: int = 64, lo: float = 0.0, hi: float = 1.0):
    """The neuron's output over the input square for every given state at once.

    w (E, 2), b (E,) -> (E, R, R) with [e, i, j] = sigmoid(w1 x1_j + w2 x2_i + b),
    x1 and x2 both `np.linspace(lo, hi, R)` ascending (row i is x2, so flip rows
    to draw with x2 = 1 at the top). One broadcast sum of two (E, R) tables, then
    the sigmoid in place: no loop over cells, and ~3x faster than broadcasting
    the products (300 states at 64x64 take ~1.5 ms).
    """
    w = np.atleast_2d(np.asarray(w, dtype=float))  # (E, 2)
    b = np.atleast_1d(np.asarray(b, dtype=float))  # (E,)
    if w.ndim != 2 or w.shape[1] != 2 or b.shape != (w.shape[0],):
        raise ValueError(f"w must be (E, 2) and b (E,), got {w.shape} and {b.shape}")
    s = np.linspace(lo, hi, int(resolution))  # (R,)
    # sigmoid(z) = (1 + tanh(z / 2)) / 2, with the halving folded into the tables.
    across = 0.5 * (w[:, 0, None] * s + b[:, None])  # (E, R) over x1 (columns)
    down = 0.5 * (w[:, 1, None] * s)  # (E, R) over x2 (rows)
    z = down[:, :, None] + across[:, None, :]  # (E, R, R)
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


@dataclass(frozen=True)
class TrainingStep:
    """One example's trip through the five stages, starting from a real state.

    Forward: z = x.w + b, p = sigmoid(z). Error: error = p - target, the squared
    error (p - target)^2 is this example's loss. Backward: dL/dp = 2 error,
    dp/dz = p (1 - p), dL/dw = dL/dp dp/dz x, dL/db = dL/dp dp/dz.
    Adjust: w_new = w - lr dL/dw, b_new = b - lr dL/db (this example's own step).

    What the run itself did with these numbers depends on its mode: a batch run
    stepped with the mean of the four examples' dL/dw (`run.grad_w[epoch]`), so
    w_new is what this example alone would do; a per-example run took exactly
    this step when dissected with `replay=True` (see `dissect_step`).
    """

    epoch: int
    example: int
    x: np.ndarray  # (2,)
    target: float
    w: np.ndarray  # (2,)
    b: float
    z: float
    prediction: float
    error: float
    loss: float
    dloss_dp: float
    dp_dz: float
    grad_w: np.ndarray  # (2,)
    grad_b: float
    lr: float
    w_new: np.ndarray  # (2,)
    b_new: float


def _example_step(w: np.ndarray, b: float, x: np.ndarray, y: float):
    """The five stages for one example: (z, p, error, dL/dp, dp/dz, dL/dw, dL/db).

    The gradient is `predict_and_grad`'s with N = 1; dL/dp and dp/dz are its two
    chain-rule factors, shown on screen.
    """
    p, grad_w, grad_b = predict_and_grad(w, b, x[None, :], [y])  # (1,), (2,), ()
    p = float(p[0])
    err = p - y
    return float(x @ w + b), p, err, 2.0 * err, p * (1.0 - p), grad_w, float(grad_b)


def dissect_step(
    run: NeuronRun, epoch: int = 0, example: int = 3, *, replay: bool = False
) -> TrainingStep:
    """The numbers of every stage for one example, from the recorded state of `epoch`.

    By default every example starts from `run.w[epoch]`, `run.b[epoch]`: the four
    examples' squared errors then average to `run.loss[epoch]` and their dL/dw to
    `run.grad_w[epoch]`, in either mode. With `replay=True` a per-example run
    first replays that epoch's order up to the example, so the state and w_new are
    the ones the run really went through (the last example's w_new is
    `run.w[epoch + 1]`); after the last epoch, whose order was never drawn, and in
    batch mode, replay changes nothing.
    """
    if not 0 <= epoch <= run.epochs:
        raise ValueError(f"epoch must be between 0 and {run.epochs}, got {epoch}")
    if not 0 <= example < 4:
        raise ValueError(f"example must be 0..3, got {example}")
    w, b = run.w[epoch].copy(), float(run.b[epoch])
    if replay and run.mode == "per-example" and epoch < run.epochs:
        for i in run.order[epoch]:
            if i == example:
                break
            *_, gw, gb = _example_step(w, b, run.inputs[i], float(run.targets[i]))
            w, b = w - run.lr * gw, b - run.lr * gb
    x = run.inputs[example]
    y = float(run.targets[example])
    z, p, err, dldp, dpdz, gw, gb = _example_step(w, b, x, y)
    return TrainingStep(
        epoch=epoch,
        example=example,
        x=x.copy(),
        target=y,
        w=w,
        b=b,
        z=z,
        prediction=p,
        error=err,
        loss=err**2,
        dloss_dp=dldp,
        dp_dz=dpdz,
        grad_w=gw,
        grad_b=gb,
        lr=run.lr,
        w_new=w - run.lr * gw,
        b_new=b - run.lr * gb,
    )
