"""The benchmark workloads (W1-W8), each a function returning what it measured.

W1 is one training step of micrograd's moons demo: MLP(2, [16, 16, 1]) on 100 points, hinge loss
plus 1e-4 L2, zero_grad, backward, SGD update. Every implementation runs the same arithmetic on
the same data and the same initial weights.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from nn.data import make_moons

Row = dict[str, Any]


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def moons_data() -> tuple[list[list[float]], list[int]]:
    X, y = make_moons(100, noise=0.1, seed=1337)
    return X, [2 * t - 1 for t in y]


# --- W1 with micrograd-style code (works for micrograd's Value and ours) ----------------------


class _MgNeuron:
    def __init__(self, value: Any, nin: int, nonlin: bool = True) -> None:
        self.w = [value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = value(0)
        self.nonlin = nonlin

    def __call__(self, x: list[Any]) -> Any:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Any]:
        return [*self.w, self.b]


class _MgMLP:
    """micrograd's MLP, written against any ``Value`` class (the code micrograd users have)."""

    def __init__(self, value: Any, nin: int, nouts: list[int]) -> None:
        sizes = [nin, *nouts]
        self.layers = [
            [_MgNeuron(value, sizes[i], nonlin=i != len(nouts) - 1) for _ in range(sizes[i + 1])]
            for i in range(len(nouts))
        ]

    def __call__(self, x: list[Any]) -> Any:
        for layer in self.layers:
            out = [n(x) for n in layer]
            x = out
        return x[0]

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for n in layer for p in n.parameters()]


def micrograd_style_step(value: Any, model: Any, X: list[list[float]], y: list[int], k: int) -> float:
    inputs = [list(map(value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    for p in model.parameters():
        p.grad = 0
    total.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= lr * p.grad
    return float(total.data)


def w1_micrograd_style(value: Any, repeats: int, relaxed_gc: bool = False) -> float:
    from autograd import gc_relaxed

    X, y = moons_data()
    random.seed(1337)
    model = _MgMLP(value, 2, [16, 16, 1])
    if relaxed_gc:
        with gc_relaxed():
            return median_time(lambda: micrograd_style_step(value, model, X, y, 0), repeats)
    return median_time(lambda: micrograd_style_step(value, model, X, y, 0), repeats)


def w1_nn_mlp(repeats: int, relaxed_gc: bool) -> float:
    """W1 through ``nn.MLP`` (fused neurons) and ``nn.hinge_loss``."""
    from autograd import Value, gc_relaxed
    from nn import MLP, hinge_loss

    X, y = moons_data()
    model = MLP(2, [16, 16, 1], seed=1337)
    params = model.parameters()

    def step() -> None:
        scores = [model(x) for x in X]
        loss = hinge_loss(scores, y) + 1e-4 * sum((p * p for p in params), Value(0.0))  # type: ignore[arg-type]
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= 1.0 * p.grad

    if relaxed_gc:
        with gc_relaxed():
            return median_time(step, repeats)
    return median_time(step, repeats)


def w1_compiled(repeats: int, codegen: bool = True) -> tuple[float, float]:
    """W1 through a recorded ``autograd.Tape`` of the nn.MLP step: replayed by generated code
    (``codegen=True``) or by the tape interpreter. Returns (median seconds per step, seconds to
    record and compile the tape once)."""
    from autograd import Tape, Value, gc_relaxed
    from nn import MLP, hinge_loss

    X, y = moons_data()
    model = MLP(2, [16, 16, 1], seed=1337)
    params = model.parameters()

    def loss() -> Value:
        scores = [model(x) for x in X]
        return hinge_loss(scores, y) + 1e-4 * sum((p * p for p in params), Value(0.0))  # type: ignore[arg-type]

    t0 = time.perf_counter()
    tape = Tape(loss, params, codegen=codegen)
    setup = time.perf_counter() - t0

    def step() -> None:
        model.zero_grad()
        tape.run()
        for p in params:
            p.data -= 1.0 * p.grad

    with gc_relaxed():
        return median_time(step, repeats), setup


def w1_vectorized(repeats: int, backend: str = "numpy") -> float:
    """W1 through ``autograd.replay.batch.BatchTape``: one per-sample tape replayed over the batch
    with NumPy (or PyTorch tensors on the CPU: ``backend='torch'``; a layer's neurons as one matrix
    product), plus the L2 term as its regularizer."""
    from autograd import Value
    from autograd.replay.batch import BatchTape
    from nn import MLP

    X, y = moons_data()
    model = MLP(2, [16, 16, 1], seed=1337)
    params = model.parameters()

    def per_sample(v: list[Value]) -> Value:
        return (1 + -v[2] * model(v[:2])).relu()  # type: ignore[operator]

    def l2() -> Value:
        return 1e-4 * sum((p * p for p in params), Value(0.0))

    tape = BatchTape(per_sample, params, example=[0.0, 0.0, 1.0], regularizer=l2, backend=backend)
    batch = [[a, b, float(t)] for (a, b), t in zip(X, y)]

    def step() -> None:
        model.zero_grad()
        tape.run(batch)
        for p in params:
            p.data -= 1.0 * p.grad

    return median_time(step, repeats)


def w1_hand_written(repeats: int) -> float:
    """The pure-Python floor: the same step as plain float loops, no graph objects."""
    X, y = moons_data()
    rng = random.Random(1337)
    sizes = [2, 16, 16, 1]
    W = [[[rng.uniform(-1, 1) for _ in range(sizes[i])] for _ in range(sizes[i + 1])] for i in range(3)]
    B = [[0.0] * sizes[i + 1] for i in range(3)]

    def step() -> None:
        gW = [[[0.0] * len(row) for row in layer] for layer in W]
        gB = [[0.0] * len(b) for b in B]
        n = len(X)
        for x, t in zip(X, y):
            acts = [x]
            pre = []
            h = x
            for li in range(3):
                z = [sum((w * v for w, v in zip(row, h)), b) for row, b in zip(W[li], B[li])]
                pre.append(z)
                h = [max(v, 0.0) for v in z] if li < 2 else z
                acts.append(h)
            s = h[0]
            if 1 - t * s <= 0:
                continue
            delta = [-t / n]
            for li in (2, 1, 0):
                if li < 2:
                    delta = [d if z > 0 else 0.0 for d, z in zip(delta, pre[li])]
                a_in = acts[li]
                for j, d in enumerate(delta):
                    row = gW[li][j]
                    for i, v in enumerate(a_in):
                        row[i] += d * v
                    gB[li][j] += d
                if li:
                    delta = [sum(W[li][j][i] * delta[j] for j in range(len(delta))) for i in range(len(a_in))]
        for li in range(3):
            for j, row in enumerate(W[li]):
                for i in range(len(row)):
                    row[i] -= 1.0 * (gW[li][j][i] + 2e-4 * row[i])
                B[li][j] -= 1.0 * (gB[li][j] + 2e-4 * B[li][j])

    return median_time(step, repeats)


def w1_torch_scalar(repeats: int) -> float:
    torch: Any = importlib.import_module("torch")  # Any: type-checks the same with or without torch

    class T:
        """micrograd's Value interface on a 0-d float64 tensor: one tensor per scalar op."""

        def __init__(self, data: Any) -> None:
            self.t = data if isinstance(data, torch.Tensor) else torch.tensor(float(data), dtype=torch.float64,
                                                                              requires_grad=True)

        def __add__(self, o: Any) -> T:
            return T(self.t + (o.t if isinstance(o, T) else o))

        __radd__ = __add__

        def __mul__(self, o: Any) -> T:
            return T(self.t * (o.t if isinstance(o, T) else o))

        __rmul__ = __mul__

        def __neg__(self) -> T:
            return T(-self.t)

        def relu(self) -> T:
            return T(torch.relu(self.t))

        def backward(self) -> None:
            self.t.backward()

        @property
        def data(self) -> float:
            return float(self.t.item())

        @data.setter
        def data(self, v: float) -> None:
            with torch.no_grad():
                self.t.fill_(v)

        @property
        def grad(self) -> float:
            return 0.0 if self.t.grad is None else float(self.t.grad.item())

        @grad.setter
        def grad(self, v: float) -> None:
            self.t.grad = None

    return w1_micrograd_style(T, repeats)


def w1_torch_batched(repeats: int) -> float:
    torch: Any = importlib.import_module("torch")

    X, y = moons_data()
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    g = torch.Generator().manual_seed(1337)
    layers = [torch.nn.Linear(a, b, dtype=torch.float64) for a, b in ((2, 16), (16, 16), (16, 1))]
    for lin in layers:
        with torch.no_grad():
            lin.weight.uniform_(-1, 1, generator=g)
            lin.bias.zero_()
    params = [p for lin in layers for p in lin.parameters()]

    def step() -> None:
        h = torch.relu(layers[0](Xt))
        h = torch.relu(layers[1](h))
        s = layers[2](h).squeeze(1)
        loss = torch.relu(1 - yt * s).mean() + 1e-4 * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 1.0 * p.grad

    return median_time(step, repeats)


# --- W2-W5 ------------------------------------------------------------------------------------


def w2_chain(value: Any, n: int, relaxed_gc: bool = False) -> float:
    """A chain of ``n`` multiply-add steps, build + backward: seconds (no tracing overhead)."""
    from autograd import gc_relaxed

    gc.collect()

    def run() -> float:
        t0 = time.perf_counter()
        x = value(1.0)
        y = x
        for _ in range(n):
            y = y * 1.0000001 + 0.5
        y.backward()
        return time.perf_counter() - t0

    if relaxed_gc:
        with gc_relaxed():
            return run()
    return run()


def w2_chain_fresh_process(n: int, relaxed_gc: bool = False) -> float:
    """``w2_chain`` in a new interpreter that has imported only valuegrad.

    How long CPython's full garbage collections take during the build depends on every object
    alive in the process, not only the graph: in the benchmark's own process, after PyTorch's
    import (about 140,000 more tracked objects), the same chain takes about 1 s longer. A fresh
    process measures the engine alone, reproducibly; the in-process row is reported as well."""
    code = (
        "from autograd import Value; from benchmarks.workloads import w2_chain; "
        f"print(w2_chain(Value, {n}, {relaxed_gc}))"
    )
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # so `benchmarks` imports
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=repo)
    return float(result.stdout.strip().splitlines()[-1])


def w2_peak_mib(value: Any, n: int) -> float:
    """Peak traced memory (MiB) of the same chain, measured in a separate run under tracemalloc."""
    gc.collect()
    tracemalloc.start()
    x = value(1.0)
    y = x
    for _ in range(n):
        y = y * 1.0000001 + 0.5
    y.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def w3_wide(value: Any, n_nodes: int) -> float:
    """Build and backward a wide random expression of about ``n_nodes`` nodes: nodes per second."""
    rng = random.Random(0)
    t0 = time.perf_counter()
    pool = [value(rng.uniform(-1, 1)) for _ in range(1000)]
    made = 0
    acc = []
    while made < n_nodes:
        a, b = pool[rng.randrange(len(pool))], pool[rng.randrange(len(pool))]
        c = (a * b + a).tanh() if made % 3 else a * b - b
        acc.append(c)
        made += 4 if made % 3 else 2
        if len(acc) == 1000:
            pool = acc
            acc = []
    root = sum(pool[1:], pool[0])
    root.backward()
    return n_nodes / (time.perf_counter() - t0)


def w4_bytes_per_node(value: Any, n: int = 100_000) -> float:
    """tracemalloc bytes per node of a multiply-add chain (2 nodes per step)."""
    x = value(1.0)
    gc.collect()
    tracemalloc.start()
    y = x
    for _ in range(n):
        y = y * 1.0000001 + 0.5
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del y
    return current / (2 * n)


def w5_train_cli() -> float:
    """Wall-clock seconds of the default ``valuegrad train`` run (a fresh process)."""
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nn", "train", "--out", d], check=True, capture_output=True)
        return time.perf_counter() - t0


# --- W8: what the training view costs a CLI run --------------------------------------------------


def w8_training_view(args: list[str], rounds: int) -> dict[str, float]:
    """``valuegrad train ARGS`` with its training view (the default) against ``--no-html``, in
    fresh processes taking turns, ``rounds`` each: the medians of the training time the run
    reports (``summary.json``'s ``seconds``: the steps with the view's recording, without the
    pictures and files), of the wall-clock time of the whole run, and the page's size.

    Returns:
        ``recording`` (training time with the view / without), ``whole`` (wall time with /
        without), ``train_s`` and ``wall_s`` (the medians without the view) and ``page_mb``.
    """
    import json

    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    page = 0
    with tempfile.TemporaryDirectory() as d:
        for _ in range(rounds):
            for html in (True, False):
                out = os.path.join(d, "html" if html else "plain")
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "nn", "train", *args, "--out", out, "--overwrite",
                                *([] if html else ["--no-html"])], check=True, capture_output=True)
                wall = time.perf_counter() - t0
                with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
                    times[html].append((json.load(f)["seconds"], wall))
                if html:
                    page = os.path.getsize(os.path.join(out, "training.html"))
    train_on, wall_on = (statistics.median(t[i] for t in times[True]) for i in (0, 1))
    train_off, wall_off = (statistics.median(t[i] for t in times[False]) for i in (0, 1))
    return {"recording": train_on / train_off, "whole": wall_on / wall_off, "train_s": train_off,
            "wall_s": wall_off, "page_mb": page / 1e6}


# --- W6: one epoch of the digits data set -------------------------------------------------------


def digits_data() -> tuple[list[list[float]], list[int]]:
    """The UCI digits (1,797 8x8 images, 10 classes), pixels scaled from 0-16 to 0-1."""
    from nn.data import load_digits

    X, y, _ = load_digits()
    return [[v / 16.0 for v in row] for row in X], y


W6_BATCH = 64


def _stamper(stamps: list[float]) -> Callable[[int, float, float, float], None]:
    """An ``on_step`` callback that records when each step ended."""

    def stamp(k: int, loss: float, acc: float, lr: float) -> None:
        stamps.append(time.perf_counter())

    return stamp


def w6_digits_epoch(path: str, repeats: int, backend: str = "numpy") -> float:
    """Seconds for one epoch of digits with ``MLP(64, [32, 10])``, Adam (lr 0.01), minibatches of
    64 and cross-entropy, through ``nn.train`` on ``path`` ('graph', 'compiled' or 'vectorized'):
    the second epoch of a two-epoch run, timed from the end of the first epoch's last step to the
    end of the second's, so recording and compiling (once per run) are not counted; see
    :func:`w6_setup` for them."""
    from nn import MLP, Adam, train

    X, y = digits_data()
    per_epoch = -(-len(X) // W6_BATCH)

    def second_epoch() -> float:
        model = MLP(64, [32, 10], seed=0)
        stamps: list[float] = []
        train(model, X, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.01), batch_size=W6_BATCH,
              epochs=2, l2=0.0, seed=0, compiled=path != "graph", vectorized=path == "vectorized",
              backend=backend if path == "vectorized" else "numpy",
              on_step=_stamper(stamps))
        return stamps[2 * per_epoch - 1] - stamps[per_epoch - 1]

    return statistics.median(second_epoch() for _ in range(repeats))


def w6_setup(path: str, backend: str = "numpy") -> float:
    """Seconds ``nn.train`` spends before its first step on W6 (data rows, recording the
    per-sample program, checking it on a second sample, compiling, planning)."""
    from nn import MLP, Adam, train

    X, y = digits_data()
    model = MLP(64, [32, 10], seed=0)
    stamps: list[float] = []
    t0 = time.perf_counter()
    train(model, X, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.01), batch_size=W6_BATCH,
          steps=1, l2=0.0, seed=0, compiled=path != "graph", vectorized=path == "vectorized",
          backend=backend if path == "vectorized" else "numpy",
          on_step=_stamper(stamps))
    return stamps[0] - t0


def w6_torch_epoch(repeats: int) -> float:
    """The same epoch as batched PyTorch (float64, the thread count the benchmark set), also the
    second of two, with the training accuracy of each batch computed as ``nn.train`` does."""
    torch: Any = importlib.import_module("torch")

    X, y = digits_data()
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y)

    def second_epoch() -> float:
        model = torch.nn.Sequential(torch.nn.Linear(64, 32, dtype=torch.float64), torch.nn.ReLU(),
                                    torch.nn.Linear(32, 10, dtype=torch.float64))
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        generator = torch.Generator().manual_seed(0)
        for epoch in range(2):
            if epoch == 1:
                t0 = time.perf_counter()
            order = torch.randperm(len(X), generator=generator)
            for start in range(0, len(X), W6_BATCH):
                idx = order[start:start + W6_BATCH]
                scores = model(Xt[idx])
                loss = torch.nn.functional.cross_entropy(scores, yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss.item()  # the loss and accuracy of every step, as nn.train records them
                (scores.argmax(1) == yt[idx]).double().mean().item()
        return time.perf_counter() - t0

    return statistics.median(second_epoch() for _ in range(repeats))


def pin_threads() -> dict[str, str]:
    """One thread for every peer, as valuegrad is single-threaded: BLAS pools (set before NumPy is
    imported) and PyTorch's intra- and inter-op pools. On a busy 2-core machine an unpinned pool
    makes the batched rows swing by 100x. Returns the settings, for the results file."""
    settings = {}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        os.environ.setdefault(var, "1")
        settings[var] = os.environ[var]
    try:
        torch: Any = importlib.import_module("torch")
    except ImportError:
        return settings
    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):  # only possible before torch's first parallel work
        torch.set_num_interop_threads(1)
    settings["torch.get_num_threads()"] = str(torch.get_num_threads())
    settings["torch.get_num_interop_threads()"] = str(torch.get_num_interop_threads())
    return settings


# --- W7: import time ------------------------------------------------------------------------------


def w7_import_ms(runs: int = 15) -> float:
    """Milliseconds that ``import autograd, nn`` adds to a fresh interpreter: the median over
    ``runs`` new processes of ``python -c "import autograd, nn"``, less the median of
    ``python -c "pass"``, with bytecode cached.

    The caches are written by one warm-up run first (``PYTHONDONTWRITEBYTECODE`` is dropped from
    the children's environment for it): a first import compiles every module and measures the
    compiler, not the import."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # `-c` puts the cwd first on sys.path
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def median_ms(code: str) -> float:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, cwd=repo, env=env)
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e3

    subprocess.run([sys.executable, "-c", "import autograd, nn"], check=True, cwd=repo, env=env)
    bare = median_ms("pass")
    return median_ms("import autograd, nn") - bare
