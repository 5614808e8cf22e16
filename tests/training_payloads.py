"""Training payloads for the page and widget tests, built without TrainingView.

:func:`build_payload` trains a small MLP with plain SGD for a few steps, records a snapshot (state,
gradients, update) every ``every`` steps, and lays the numbers out as ``TrainingView.payload()``
does (version 1, see the contract in nn/views/page.py's docstring): the network is drawn by
``nn.draw_network`` from the last snapshot, the arrays are float64 in base64, the per-snapshot
neuron heatmaps and panel are taken from draw_network's SVG of each snapshot, and the steppers
are ``autograd.Stepper`` pages of the last snapshot's neurons for the first sample.

:func:`decode` reads an array back; :data:`ODD_FLOATS` are the numbers ``odd=True`` writes into
the first snapshot so that the page's formatting meets NaN, infinities, -0.0, subnormals and both
of Python's exponent thresholds.
"""

from __future__ import annotations

import base64
import math
import random
import struct
import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any

from autograd import Stepper, Value
from nn import MLP, SGD, data, draw_network, mse_loss
from nn.views.network import MAX_EDGES

ODD_FLOATS = (5e-324, -0.0, 0.0, 1e16, 9999999999999998.0, 1.5e16, 1e-05, 0.0001, -2.5e-07, 1.0, -3.0,
              0.1, 1 / 3, 1.7976931348623157e308, 2.0**53, 123456.789, math.nan, math.inf, -math.inf)


def encode(values: list[float]) -> str:
    """Little-endian float64, base64: the payload's array format."""
    return base64.b64encode(struct.pack(f"<{len(values)}d", *values)).decode("ascii")


def decode(text: str) -> list[float]:
    """The inverse of :func:`encode`."""
    raw = base64.b64decode(text)
    return list(struct.unpack(f"<{len(raw) // 8}d", raw))


def _accuracy(model: MLP, X: list[list[float]], targets: list[float]) -> float:
    right = 0
    for x, t in zip(X, targets):
        out = model(x)
        assert isinstance(out, Value)
        right += (out.data > 0) == (t > 0)
    return right / len(X)


def _loss(model: MLP, X: list[list[float]], targets: list[float]) -> Value:
    preds = [model(x) for x in X]
    return mse_loss(preds, targets)  # type: ignore[arg-type]


def _pictures(svg: str) -> tuple[dict[str, str], str | None]:
    """The neuron heatmaps (id -> data URI) and the output panel's image in draw_network's SVG."""
    root = ET.fromstring(svg)
    images: dict[str, str] = {}
    panel = None
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        image = g.find("{http://www.w3.org/2000/svg}image")
        if image is None:
            continue
        if g.get("data-neuron"):
            images[g.get("data-neuron", "")] = image.get("href", "")
        elif g.get("data-panel") == "output":
            panel = image.get("href")
    return images, panel


def build_payload(
    model: MLP | None = None,
    *,
    n: int = 5,
    every: int = 3,
    seed: int = 0,
    max_edges: int = MAX_EDGES,
    odd: bool = False,
    steppers: bool = True,
) -> dict[str, Any]:
    """A version 1 training payload of ``n`` snapshots of ``model`` (an MLP(2, [3, 1]) by default).

    Args:
        model: the model to train (changed in place); two inputs and one output.
        n: how many snapshots.
        every: SGD steps between snapshots (every step goes into the curves).
        seed: the data's seed.
        max_edges: passed to draw_network (0 draws the weights as matrices).
        odd: write :data:`ODD_FLOATS` into the first snapshot's grads and updates and a few of
            them into the snapshot fields, to exercise the formatting.
        steppers: add a stepper page for every neuron of the layers.

    Returns:
        The payload dict.
    """
    model = model if model is not None else MLP(2, [3, 1], activation="tanh", seed=0)
    X, y = data.make_moons(16, noise=0.1, seed=seed)
    X_val, y_val = data.make_moons(8, noise=0.1, seed=seed + 1)
    targets = [1.0 if c else -1.0 for c in y]
    val_targets = [1.0 if c else -1.0 for c in y_val]
    keys = list(model.state_dict())
    optimizer = SGD(model.parameters(), lr=0.2)
    curves: dict[str, list[Any]] = {k: [] for k in ("step", "loss", "accuracy", "val_step", "val_loss",
                                                    "val_accuracy")}
    snaps: dict[str, list[Any]] = {k: [] for k in ("step", "loss", "accuracy", "val_loss", "val_accuracy",
                                                   "neuron_images", "panel")}
    state: list[float] = []
    grads: list[float] = []
    updates: list[float] = []
    last: SimpleNamespace | None = None
    step = 0
    for s in range(n):
        for _ in range(every):
            before = model.state_dict()
            model.zero_grad()
            loss = _loss(model, X, targets)
            loss.backward()
            g = {name: p.grad for name, p in model.named_parameters()}
            optimizer.step()
            step += 1
            curves["step"].append(step)
            curves["loss"].append(loss.data)
            curves["accuracy"].append(_accuracy(model, X, targets))
        after = model.state_dict()
        last = SimpleNamespace(state=after, grads=g, updates={k: after[k] - before[k] for k in keys})
        snaps["step"].append(step)
        snaps["loss"].append(curves["loss"][-1])
        snaps["accuracy"].append(curves["accuracy"][-1])
        if s % 2 == 0:
            val_loss = _loss(model, X_val, val_targets).data
            val_acc = _accuracy(model, X_val, val_targets)
            curves["val_step"].append(step)
            curves["val_loss"].append(val_loss)
            curves["val_accuracy"].append(val_acc)
            snaps["val_loss"].append(val_loss)
            snaps["val_accuracy"].append(val_acc)
        else:
            snaps["val_loss"].append(None)
            snaps["val_accuracy"].append(None)
        picture = draw_network(model, snapshot=last, X=X, y=y, max_edges=max_edges).to_svg()
        images, panel = _pictures(picture)
        snaps["neuron_images"].append(images)
        snaps["panel"].append(panel)
        state.extend(after[k] for k in keys)
        grads.extend(g[k] for k in keys)
        updates.extend(last.updates[k] for k in keys)
    assert last is not None
    if odd:
        for i, v in enumerate(ODD_FLOATS[: len(keys)]):
            grads[i] = v
            updates[len(keys) - 1 - i] = v
        snaps["loss"][0] = 1e-05
        snaps["accuracy"][0] = 1.0
        snaps["val_loss"][0] = math.nan
        snaps["val_accuracy"][0] = 0.0
    network = draw_network(model, snapshot=last, X=X, y=y, max_edges=max_edges)
    svg = network.to_svg()
    as_edges = model.num_parameters() <= max_edges
    edge_of_key: list[str | None] = []
    matrix_of_key: list[list[int] | None] = []
    for key in keys:
        _, li, _, ni, kind, *rest = key.split(".")
        column, row = int(li) + 1, int(ni)
        col = int(rest[0]) if kind == "w" else -1
        edge_of_key.append(f"{column}:{'b' if col < 0 else col}:{row}" if as_edges else None)
        matrix_of_key.append(None if as_edges else [column, row, col])
    root = ET.fromstring(svg)
    neurons = [el.get("data-neuron", "") for el in root.iter() if el.get("data-neuron")]
    pages: dict[str, str] = {}
    if steppers:
        work = MLP(**model.config, seed=random.Random(0))
        work.load_state_dict(last.state)
        h: list[Any] = list(X[0])
        for column, layer in enumerate(work.layers, 1):
            h = layer._forward(h)
            for i, out in enumerate(h):
                pages[f"{column}:{i}"] = Stepper(out, layout="python").to_html()
    widths = [model.config["nin"], *model.config["nouts"]]
    return {
        "version": 1,
        "title": f"MLP({' -> '.join(map(str, widths))}), mse loss",
        "network": {"svg": svg, "keys": keys, "edge_of_key": edge_of_key, "matrix_of_key": matrix_of_key,
                    "neurons": neurons},
        "snapshots": {"n": n, **snaps, "state": encode(state), "grads": encode(grads), "updates": encode(updates)},
        "curves": curves,
        "steppers": pages,
    }


def prefix(payload: dict[str, Any], m: int) -> dict[str, Any]:
    """The payload as it was when only its first ``m`` snapshots were recorded (for live updates).

    The network picture and the steppers stay the last snapshot's; the curves stop at the
    ``m``-th snapshot's step.
    """
    snaps = payload["snapshots"]
    n_params = len(payload["network"]["keys"])
    out = {**snaps, "n": m}
    for name in ("step", "loss", "accuracy", "val_loss", "val_accuracy", "neuron_images", "panel"):
        out[name] = snaps[name][:m]
    for name in ("state", "grads", "updates"):
        out[name] = encode(decode(snaps[name])[: m * n_params])
    last_step = snaps["step"][m - 1] if m else 0
    curves = payload["curves"]
    keep = sum(1 for s in curves["step"] if s <= last_step)
    keep_val = sum(1 for s in curves["val_step"] if s <= last_step)
    cut = {name: curves[name][:keep] for name in ("step", "loss", "accuracy")}
    cut.update({name: curves[name][:keep_val] for name in ("val_step", "val_loss", "val_accuracy")})
    return {**payload, "snapshots": out, "curves": cut}
