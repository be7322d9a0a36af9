"""Two layers of sigmoid neurons (2 inputs, H hidden, 1 output) trained with MSE.

Chapter 3's network: what one neuron cannot draw (XOR), a hidden layer can. The
backpropagation is written out in `forward_and_grad`, the one definition of the
gradient; `_descend` is the same update in plain floats for speed, tested
against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .datasets import INPUTS, gate_data
from .decision import verdicts
from .neuron import MODES, _check, sigmoid

DEFAULT_HIDDEN = 2
DEFAULT_SEED = 1  # seed 0 stalls (with two hidden neurons) in a local minimum
DEFAULT_LR = 2.0
DEFAULT_EPOCHS = 5000
MIN_HIDDEN, MAX_HIDDEN = 1, 8
INIT_SCALE = 1.0  # initial weights and biases ~ Normal(0, 1), drawn in one go
# The CLI's limit too. A file of 20,000 epochs at H = 8 (JSON 28.5 MB holding
# 1.84M values, .npz 11.8 MB) leaves `trajectory`'s caps, made for a 100,000-epoch
# neuron, over 4x room; at the neuron's limit such a file would be over the caps.
MAX_EPOCHS = 20_000


def forward(w1, b1, w2, b2, x):
    """Hidden outputs (..., N, H) and network outputs (..., N) for inputs x (N, 2).

    w1 (..., H, 2), b1 (..., H), w2 (..., H), b2 (...): leading axes broadcast,
    so one call covers every recorded state of a run.
    """
    w1, b1 = np.asarray(w1, float), np.asarray(b1, float)
    w2, b2 = np.asarray(w2, float), np.asarray(b2, float)
    x = np.asarray(x, float)
    h = sigmoid(np.einsum("nk,...hk->...nh", x, w1) + b1[..., None, :])  # (..., N, H)
    p = sigmoid(np.einsum("...nh,...h->...n", h, w2) + b2[..., None])  # (..., N)
    return h, p


def forward_and_grad(w1, b1, w2, b2, x, y):
    """Outputs and the MSE gradient by backpropagation, at one state.

    L = 1/N sum_n (p_n - y_n)^2 with p = sigmoid(z), z = h . w2 + b2 and
    h = sigmoid(a), a = W1 x + b1. Backwards:
      dL/dz_n   = 2/N (p_n - y_n) p_n (1 - p_n)
      dL/dw2    = sum_n dL/dz_n h_n          dL/db2 = sum_n dL/dz_n
      dL/da_nj  = dL/dz_n w2_j h_nj (1 - h_nj)
      dL/dW1_jk = sum_n dL/da_nj x_nk        dL/db1_j = sum_n dL/da_nj
    Returns (h (N, H), p (N,), loss, (gW1 (H, 2), gb1 (H,), gw2 (H,), gb2)).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    h, p = forward(w1, b1, w2, b2, x)
    dz = 2.0 / len(y) * (p - y) * p * (1.0 - p)  # (N,)
    gw2, gb2 = dz @ h, float(dz.sum())
    da = dz[:, None] * np.asarray(w2, float)[None, :] * h * (1.0 - h)  # (N, H)
    gw1, gb1 = da.T @ x, da.sum(axis=0)
    return h, p, float(np.mean((p - y) ** 2)), (gw1, gb1, gw2, gb2)


@dataclass(frozen=True)
class MLPRun:
    """A two-layer network's training on a gate; epoch 0 is the random start.

    Arrays, epoch axis first, T = epochs + 1, H = hidden_size:
      w1 (T, H, 2), b1 (T, H)    hidden layer weights and biases
      w2 (T, H), b2 (T,)         output neuron weights and bias
      loss (T,)                  MSE over the four examples at that state
      hidden (T, 4, H)           hidden outputs on the four inputs
      predictions (T, 4)         network outputs on the four inputs
      order (T-1, 4)             example order of each epoch (per-example mode)
    inputs (4, 2), targets (4,).
    """

    gate: str
    hidden_size: int
    lr: float
    epochs: int
    seed: int
    mode: str
    inputs: np.ndarray
    targets: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    loss: np.ndarray
    hidden: np.ndarray
    predictions: np.ndarray
    order: np.ndarray

    def __post_init__(self):
        t, h = self.epochs + 1, self.hidden_size
        shapes = {"inputs": (4, 2), "targets": (4,), "w1": (t, h, 2), "b1": (t, h),
                  "w2": (t, h), "b2": (t,), "loss": (t,), "hidden": (t, 4, h),
                  "predictions": (t, 4), "order": (t - 1, 4)}
        for name, shape in shapes.items():
            got = np.shape(getattr(self, name))
            if got != shape:
                raise ValueError(f"{name} has shape {got}, expected {shape}")

    @property
    def right(self) -> np.ndarray:
        """(4,) bool: each final output on the target's side of 0.5 (`verdicts`:
        an output of exactly 0.5 is undecided, so wrong whatever the target)."""
        return verdicts(self.predictions[-1], self.targets)

    @property
    def learned(self) -> bool:
        return bool(self.right.all())

    def state(self, epoch: int) -> tuple:
        return self.w1[epoch], self.b1[epoch], self.w2[epoch], float(self.b2[epoch])


def check_hidden(hidden) -> int:
    if isinstance(hidden, bool) or not isinstance(hidden, int | np.integer) or \
            not MIN_HIDDEN <= hidden <= MAX_HIDDEN:
        raise ValueError(f"hidden must be a whole number from {MIN_HIDDEN} to "
                         f"{MAX_HIDDEN}, got {hidden!r}")
    return int(hidden)


def initial(hidden: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The random start: W1 row by row, then b1, w2, b2, from Normal(0, 1)."""
    rng = np.random.default_rng(seed)
    v = rng.normal(0.0, INIT_SCALE, size=4 * hidden + 1)
    return (v[: 2 * hidden].reshape(hidden, 2), v[2 * hidden: 3 * hidden],
            v[3 * hidden: 4 * hidden], float(v[4 * hidden]))


def train_mlp(gate: str = "XOR", hidden: int = DEFAULT_HIDDEN, lr: float = DEFAULT_LR,
              epochs: int = DEFAULT_EPOCHS, seed: int = DEFAULT_SEED,
              mode: str = "batch") -> MLPRun:
    """Train a 2-H-1 sigmoid network on `gate`'s truth table by gradient descent on MSE.

    batch: one update per epoch with the full-batch gradient; per-example: four
    updates per epoch in an order shuffled by the seeded generator, each with
    its example's squared-error gradient. The start comes from `initial(hidden,
    seed)`; per-example orders are drawn next from a generator seeded the same
    way, so a seed fixes the whole run.
    """
    if isinstance(epochs, int | np.integer) and not isinstance(epochs, bool) and \
            not 1 <= epochs <= MAX_EPOCHS:
        raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS}, got {epochs}")
    _check(lr, epochs, seed, mode)
    hidden = check_hidden(hidden)
    epochs, seed = int(epochs), int(seed)
    x, y = gate_data(gate)
    w1, b1, w2, b2 = initial(hidden, seed)
    order = np.tile(np.arange(4), (epochs, 1))
    if mode == "per-example":
        rng = np.random.default_rng([seed, 1])
        order = rng.permuted(order, axis=1)
    if mode == "batch" and np.array_equal(x, INPUTS):
        flat = _batch_kernel(hidden)(w1.ravel().tolist(), b1.tolist(), w2.tolist(),
                                     b2, y.tolist(), float(lr), epochs)
        flat = 2.0 * np.asarray(flat, dtype=float).reshape(epochs + 1, 4 * hidden + 1)
    else:
        flat = _descend(w1, b1, w2, b2, x, y, float(lr), order, mode == "batch")
    w1s = flat[:, : 2 * hidden].reshape(-1, hidden, 2)
    b1s = flat[:, 2 * hidden: 3 * hidden]
    w2s = flat[:, 3 * hidden: 4 * hidden]
    b2s = flat[:, 4 * hidden]
    hs, ps = forward(w1s, b1s, w2s, b2s, x)
    return MLPRun(gate=gate.upper(), hidden_size=hidden, lr=float(lr), epochs=epochs,
                  seed=seed, mode=mode, inputs=x, targets=y, w1=w1s, b1=b1s, w2=w2s,
                  b2=b2s, loss=np.mean((ps - y) ** 2, axis=1), hidden=hs,
                  predictions=ps, order=order)


def _descend(w1, b1, w2, b2, x, y, lr, order, batch) -> np.ndarray:
    """The update loop in plain floats (numpy's per-call cost would be ~30x).

    Each update is theta <- theta - lr dL/dtheta with `forward_and_grad`'s
    gradient, over all four examples (batch) or one at a time in `order`.
    Returns (epochs + 1, 4H + 1) rows of (W1 row by row, b1, w2, b2).
    """
    tanh = math.tanh
    H = len(b1)
    W = [[float(w1[j, 0]), float(w1[j, 1])] for j in range(H)]
    B = [float(v) for v in b1]
    V = [float(v) for v in w2]
    c = float(b2)
    rows = [(float(x[n, 0]), float(x[n, 1]), float(y[n])) for n in range(len(y))]
    hs = range(H)
    out = np.empty((len(order) + 1, 4 * H + 1))
    k = 0

    def record():
        out[k, : 2 * H] = [v for pair in W for v in pair]
        out[k, 2 * H: 3 * H] = B
        out[k, 3 * H: 4 * H] = V
        out[k, 4 * H] = c

    record()
    scale = 2.0 / len(rows) if batch else 2.0
    for epoch_order in order.tolist():
        groups = [rows] if batch else [[rows[i]] for i in epoch_order]
        for group in groups:
            gW = [[0.0, 0.0] for _ in hs]
            gB = [0.0] * H
            gV = [0.0] * H
            gc = 0.0
            for x1, x2, t in group:
                h = [0.5 + 0.5 * tanh(0.5 * (W[j][0] * x1 + W[j][1] * x2 + B[j]))
                     for j in hs]
                p = 0.5 + 0.5 * tanh(0.5 * (sum(V[j] * h[j] for j in hs) + c))
                dz = scale * (p - t) * p * (1.0 - p)
                gc += dz
                for j in hs:
                    hj = h[j]
                    gV[j] += dz * hj
                    da = dz * V[j] * hj * (1.0 - hj)
                    gB[j] += da
                    gW[j][0] += da * x1
                    gW[j][1] += da * x2
            for j in hs:
                W[j][0] -= lr * gW[j][0]
                W[j][1] -= lr * gW[j][1]
                B[j] -= lr * gB[j]
                V[j] -= lr * gV[j]
            c -= lr * gc
        k += 1
        record()
    return out


@lru_cache(maxsize=MAX_HIDDEN)
def _batch_kernel(hidden: int):
    """`_descend`'s batch update for the truth table's four 0/1 inputs, unrolled;
    it returns the states halved (the caller doubles them).

    Generated for `hidden` neurons with every weight a local float: with inputs
    (0,0), (0,1), (1,0), (1,1) each pre-activation is a sum of at most three
    terms and each W1 gradient a sum of two, so an epoch is ~20 tanh and ~150
    float operations (10,000 epochs at H = 4 in ~35 ms here, with
    every weight kept halved so tanh needs no scaling). The same update as
    `forward_and_grad`'s (tests replay it).
    """
    H = range(hidden)
    # Every parameter is kept halved (u = w/2 ...): sigmoid(z) = (1 + tanh(z/2))/2
    # then needs no multiplication inside tanh; the caller doubles the record.
    names = ", ".join(f"u{j}, v{j}" for j in H) + ", " + ", ".join(
        f"b{j}" for j in H) + ", " + ", ".join(f"c{j}" for j in H) + ", d"
    lines = ["def kernel(W1_, B1_, W2_, B2_, Y_, lr, epochs):",
             "    tanh = math.tanh",
             "    " + ", ".join(f"u{j}, v{j}" for j in H) + ", = [v / 2 for v in W1_]",
             "    " + ", ".join(f"b{j}" for j in H) + ", = [v / 2 for v in B1_]",
             "    " + ", ".join(f"c{j}" for j in H) + ", = [v / 2 for v in W2_]",
             "    d = B2_ / 2",
             "    t0, t1, t2, t3 = Y_",
             "    k = lr * 0.5",  # lr times the 2/N of d(MSE)/dz, N = 4
             "    kh = k * 0.5",
             f"    out = [{names}]",
             "    keep = out.extend",
             "    for _ in range(epochs):"]
    for j in H:  # hidden outputs on the four inputs
        lines += [f"        h{j}0 = 0.5 + 0.5 * tanh(b{j})",
                  f"        h{j}1 = 0.5 + 0.5 * tanh(v{j} + b{j})",
                  f"        h{j}2 = 0.5 + 0.5 * tanh(u{j} + b{j})",
                  f"        h{j}3 = 0.5 + 0.5 * tanh(u{j} + v{j} + b{j})"]
    for n in range(4):
        z = " + ".join(f"c{j} * h{j}{n}" for j in H)
        lines += [f"        p = 0.5 + 0.5 * tanh({z} + d)",
                  f"        e{n} = (p - t{n}) * p * (1.0 - p)"]
    for j in H:  # dL/da_nj = e_n w2_j h(1 - h): lr w2_j / 2 = k c_j factored out
        lines += [f"        r0 = e0 * h{j}0 * (1.0 - h{j}0)",
                  f"        r1 = e1 * h{j}1 * (1.0 - h{j}1)",
                  f"        r2 = e2 * h{j}2 * (1.0 - h{j}2)",
                  f"        r3 = e3 * h{j}3 * (1.0 - h{j}3)",
                  f"        kc = k * c{j}",
                  f"        c{j} -= kh * (e0 * h{j}0 + e1 * h{j}1 + e2 * h{j}2"
                  f" + e3 * h{j}3)",
                  f"        u{j} -= kc * (r2 + r3)",
                  f"        v{j} -= kc * (r1 + r3)",
                  f"        b{j} -= kc * (r0 + r1 + r2 + r3)"]
    lines += ["        d -= kh * (e0 + e1 + e2 + e3)",
              f"        keep(({names}))",
              "    return out"]
    scope = {"math": math}
    exec(compile("\n".join(lines), f"<mlp kernel H={hidden}>", "exec"), scope)
    return scope["kernel"]


__all__ = ["DEFAULT_EPOCHS", "DEFAULT_HIDDEN", "DEFAULT_SEED", "DEFAULT_LR", "MAX_EPOCHS", "MAX_HIDDEN",
           "MIN_HIDDEN", "MLPRun", "MODES", "forward", "forward_and_grad", "initial",
           "train_mlp"]
