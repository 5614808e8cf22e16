"""The network, drawn: :func:`draw_network` turns an ``MLP`` into a picture, in pure Python.

One column per layer, left to right: the inputs, the hidden layers, the output. Every column but
the output has a **bias neuron** (the constant 1) whose edges carry the next layer's biases. Edges
are coloured by the sign and sized by the magnitude of the weights, their gradients or the last
optimizer update. Models with more than :data:`MAX_EDGES` parameters draw each layer's weights as
a heatmap matrix instead of one line per weight; layers wider than :data:`STRIP_WIDTH` neurons are
drawn as a dense strip. A model with two inputs also shows each neuron's output over the input
plane and the decision boundary.

The picture is computed once as a layout (positions, colours, numbers); two renderers read it: SVG
text (no Graphviz needed) and, for ``save("x.png")``, matplotlib.

The SVG carries stable hooks for tests and scripts: the root has ``data-valuegrad-network``;
neurons ``data-neuron="L:i"`` (``L`` the column, 0 = inputs; ``L:b`` the bias neuron of column
``L``) with ``data-activation`` when a sample is drawn; edges ``data-edge="L:j:i"`` (into neuron
``i`` of column ``L`` from neuron ``j`` or ``b`` of column ``L-1``) with ``data-weight``,
``data-grad`` and ``data-update`` (``repr`` of the float, ``""`` where unknown); matrices
``data-matrix="L"``.
"""

from __future__ import annotations

import base64
import io
import math
import numbers
import os
import random
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from autograd import Value, enable_grad, no_grad
from nn.files import atomic_write
from nn.layers import MLP
from nn.text import describe
from nn.train import record_replay, threshold_of

__all__ = ["MAX_EDGES", "MODES", "STRIP_WIDTH", "NetworkPicture", "draw_network"]

MODES = ("weights", "grads", "updates")
MAX_EDGES = 5000
"""Models with at most this many parameters are drawn one edge per parameter; larger ones as matrices."""
STRIP_WIDTH = 32
"""Columns with more neurons than this are drawn as a dense strip, every k-th neuron labelled."""
GRID = 16
"""Each neuron's heatmap (two-input models) is its output on a GRID x GRID grid."""
PANEL_GRID = 48

RGB = tuple[int, int, int]
POSITIVE: RGB = (33, 102, 172)
NEGATIVE: RGB = (214, 96, 77)
WHITE: RGB = (255, 255, 255)
BIAS_FILL: RGB = (238, 238, 238)
INK = "#333333"
CLASS_COLOURS: tuple[RGB, ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)
_QUANTITY = {"weights": ("weight", "w"), "grads": ("gradient", "dL/dw"), "updates": ("update", "Δw")}


# ---------------------------------------------------------------------------------------------
# The layout: everything both renderers need, in pixels (y grows downwards).


@dataclass
class Image:
    """An RGB picture held as raw bytes, to be written as a PNG (:func:`png_data_uri`)."""

    width: int
    height: int
    rgb: bytes  # rows top to bottom, 3 bytes a pixel


Pictures = tuple[list[list[Image]], Image]
"""A two-input model's pictures: every column's neuron heatmaps, and the decision panel's image."""


@dataclass
class _Node:
    key: str  # "L:i" or "L:b"
    x: float
    y: float
    shape: str  # "circle", "bias", "strip", "square"
    half_w: float
    half_h: float
    fill: RGB
    title: str
    activation: float | None = None
    text: str = ""  # shown inside
    heat: Image | None = None


@dataclass
class _Edge:
    key: str
    x1: float
    y1: float
    x2: float
    y2: float
    weight: float
    grad: float | None
    update: float | None
    colour: RGB
    width: float
    opacity: float


@dataclass
class _Matrix:
    column: int
    x: float
    y: float
    w: float
    h: float
    weights: Image
    bias: Image
    bias_x: float
    title: str


@dataclass
class _Text:
    x: float
    y: float
    text: str
    size: float = 11.0
    anchor: str = "middle"  # "start", "middle", "end"
    colour: str = INK
    bold: bool = False


@dataclass
class _Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: RGB
    width: float
    dashed: bool = False


@dataclass
class _Point:
    x: float
    y: float
    colour: RGB


@dataclass
class _Panel:
    x: float
    y: float
    size: float
    image: Image
    points: list[_Point]
    sample: tuple[float, float] | None


@dataclass
class _Layout:
    width: float
    height: float
    nodes: list[_Node] = field(default_factory=list)
    edges: list[_Edge] = field(default_factory=list)
    matrices: list[_Matrix] = field(default_factory=list)
    texts: list[_Text] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)
    panel: _Panel | None = None
    summary: str = ""


class NetworkPicture:
    """A drawn network, as returned by :func:`draw_network`.

    Shows itself in Jupyter (``_repr_svg_``); :meth:`to_svg` gives the SVG text and :meth:`save`
    writes ``.svg`` or ``.png`` files.
    """

    def __init__(self, layout: _Layout) -> None:
        self._layout = layout
        self._svg: str | None = None

    def to_svg(self) -> str:
        """The picture as SVG text (UTF-8, standalone, no external references).

        Returns:
            The SVG document, root element ``<svg data-valuegrad-network ...>``.
        """
        if self._svg is None:
            self._svg = _render_svg(self._layout)
        return self._svg

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the picture to ``path``, atomically (``nn.files.atomic_write``).

        Args:
            path: a file name ending in ``.svg`` (the SVG text) or ``.png`` (drawn by matplotlib
                from the same layout; needs the ``train`` extra).

        Raises:
            ValueError: the suffix is neither ``.svg`` nor ``.png``.
            ImportError: ``.png`` without matplotlib.
        """
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix == ".svg":
            atomic_write(path, self.to_svg())
        elif suffix == ".png":
            atomic_write(path, _render_png(self._layout))
        else:
            raise ValueError(f"save() writes .svg or .png files, got {os.fspath(path)!r}")

    def __repr__(self) -> str:
        return f"<NetworkPicture: {self._layout.summary}>"


# ---------------------------------------------------------------------------------------------
# Checking the arguments and gathering the numbers.


def _names(what: str, names: Any, expected: int) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"draw_network() {what} must be a list of {expected} strings, got {type(names).__name__}")
    out = list(names)
    if len(out) != expected or not all(isinstance(n, str) for n in out):
        raise ValueError(f"draw_network() {what} must be {expected} strings, got {describe(out)}")
    return out


def _floats(what: str, row: Any, width: int) -> list[float]:
    if isinstance(row, Value):
        row = [row]
    if isinstance(row, (str, bytes, Mapping)) or not isinstance(row, Sequence):
        raise TypeError(f"draw_network() {what} must be a list of {width} numbers, got {type(row).__name__}")
    if len(row) != width:
        raise ValueError(f"draw_network() {what} must have {width} numbers (the model's inputs), got {len(row)}")
    out: list[float] = []
    for v in row:
        x = v.data if isinstance(v, Value) else v
        if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)):
            raise ValueError(f"draw_network() {what} must hold finite numbers, got {describe(v)}")
        out.append(float(x))
    return out


def _snapshot_part(snapshot: Any, name: str, keys: set[str]) -> Mapping[str, Any] | None:
    if not hasattr(snapshot, name):
        raise TypeError(f"draw_network() snapshot must have attributes state, grads and updates (dicts keyed like "
                        f"model.state_dict()); {type(snapshot).__name__} has no {name!r}")
    part = getattr(snapshot, name)
    if part is None:
        return None
    if not isinstance(part, Mapping):
        raise TypeError(f"draw_network() snapshot.{name} must be a dict keyed like model.state_dict(), "
                        f"got {type(part).__name__}")
    unknown = [k for k in part if k not in keys]
    if unknown:
        raise ValueError(f"draw_network() snapshot.{name} has keys the model lacks: {describe(unknown)}")
    return part


def model_with_state(model: MLP, state: Mapping[str, Any]) -> MLP:
    """A new MLP with ``model``'s architecture and ``state``'s weights (the user's model is untouched)."""
    copy = MLP(**model.config, seed=random.Random(0))
    copy.load_state_dict(dict(state))
    return copy


def _per_layer(model: MLP, part: Mapping[str, Any] | None) -> list[list[list[float | None]]] | None:
    """``part``'s numbers as ``[layer][neuron][w_0, ..., w_{n-1}, b]`` (None where missing)."""
    if part is None:
        return None
    out: list[list[list[float | None]]] = []
    for li, layer in enumerate(model.layers):
        rows: list[list[float | None]] = []
        for ni, neuron in enumerate(layer.neurons):
            stem = f"layers.{li}.neurons.{ni}."
            names = [f"{stem}w.{j}" for j in range(len(neuron.w))] + [f"{stem}b"]
            rows.append([_number(part, k) for k in names])
        out.append(rows)
    return out


def _number(part: Mapping[str, Any], key: str) -> float | None:
    v = part.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"draw_network() snapshot entry {key!r} must be a number, got {describe(v)}")
    return float(v)


def layer_activations(model: MLP, x: Sequence[float]) -> list[list[float]]:
    """Every column's values for input ``x``: the inputs, then each layer's outputs (engine, no graph)."""
    out = [list(x)]
    h: list[Any] = list(x)
    with no_grad():
        for layer in model.layers:
            h = layer._forward(h)
            out.append([v.data for v in h])
    return out


# ---------------------------------------------------------------------------------------------
# Colours and images.


def mix(colour: RGB, t: float) -> RGB:
    """``colour`` faded towards white: t = 0 is white, t = 1 the colour."""
    t = min(1.0, max(0.0, t))
    return (round(255 + (colour[0] - 255) * t), round(255 + (colour[1] - 255) * t), round(255 + (colour[2] - 255) * t))


def _signed(v: float, scale: float, strength: float = 1.0) -> RGB:
    if scale <= 0 or v == 0:
        return WHITE
    return mix(POSITIVE if v > 0 else NEGATIVE, strength * abs(v) / scale)


def _hex(c: RGB) -> str:
    return f"#{c[0]:02x}{c[1]:02x}{c[2]:02x}"


COLOUR_LEVELS = 64
"""How many shades a heatmap's colour table has per sign (the training page draws with the same table)."""
_LUT_POS = [bytes(mix(POSITIVE, k / (COLOUR_LEVELS - 1))) for k in range(COLOUR_LEVELS)]
_LUT_NEG = [bytes(mix(NEGATIVE, k / (COLOUR_LEVELS - 1))) for k in range(COLOUR_LEVELS)]


def signed_image(rows: Sequence[Sequence[float]], scale: float) -> Image:
    """A diverging heatmap of ``rows`` (top row first); a lookup table keeps 200,000 cells fast."""
    top = COLOUR_LEVELS - 1
    k = top / scale if scale > 0 else 0.0
    pos, neg = _LUT_POS, _LUT_NEG
    parts: list[bytes] = []
    for row in rows:
        parts.extend(pos[min(top, int(v * k + 0.5))] if v >= 0 else neg[min(top, int(-v * k + 0.5))] for v in row)
    return Image(len(rows[0]), len(rows), b"".join(parts))


def _png_bytes(image: Image) -> bytes:
    """``image`` as a PNG file (8-bit RGB, no filter), written with zlib and struct."""
    stride = image.width * 3
    raw = b"".join(b"\x00" + image.rgb[r * stride:(r + 1) * stride] for r in range(image.height))
    return png_file(image.width, image.height, raw)


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


_PNG_END = _png_chunk(b"IEND", b"")


def png_file(width: int, height: int, scanlines: bytes) -> bytes:
    """The PNG file (8-bit RGB) of ``height`` scanlines of ``width`` pixels, each scanline its
    filter byte (0, none) and then 3 bytes a pixel: the one PNG rule of the network pictures.

    Args:
        width: pixels a row.
        height: rows.
        scanlines: ``height * (1 + 3 * width)`` bytes.

    Returns:
        The file's bytes.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(scanlines, 9))
    return b"\x89PNG\r\n\x1a\n" + body + _PNG_END


def png_data_uri(image: Image) -> str:
    """``image`` as a ``data:image/png;base64,...`` URI (a PNG written here, no imaging library)."""
    return "data:image/png;base64," + base64.b64encode(_png_bytes(image)).decode("ascii")


def _fmt(v: float) -> str:
    return f"{v:.3g}"


# ---------------------------------------------------------------------------------------------
# The public function.


def draw_network(
    model: MLP,
    *,
    mode: str = "weights",
    sample: Sequence[float] | None = None,
    snapshot: Any = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    X: Sequence[Sequence[float]] | None = None,
    y: Sequence[Any] | None = None,
    max_edges: int = MAX_EDGES,
) -> NetworkPicture:
    """Draw ``model`` as columns of neurons joined by its weights.

    Column 0 holds the inputs, then come the hidden layers and the output layer. Every column but
    the output has a bias neuron (the constant 1) whose edges carry the next layer's biases. Edge
    colour is the sign of the drawn quantity (blue positive, orange negative), edge width its
    magnitude; a legend says which quantity. Models with more than ``max_edges`` parameters draw
    each layer's weights as a heatmap matrix (rows = neurons) between the columns.

    Args:
        model: the ``MLP`` (any activation, fused or not, any widths).
        mode: ``"weights"`` (w), ``"grads"`` (each parameter's ``.grad``) or ``"updates"`` (the
            change an optimizer step made; needs ``snapshot``).
        sample: one input (a list of ``nin`` numbers); every neuron then shows its activation for
            it (fill colour, value, ``data-activation``), computed with the engine under ``no_grad``.
        snapshot: an object with attributes ``state``, ``grads`` and ``updates`` (dicts keyed like
            ``model.state_dict()``, ``grads``/``updates`` may be ``None``), e.g. a training view's
            snapshot: its numbers are drawn instead of the model's. The model is never changed.
        feature_names: the inputs' names (``nin`` strings).
        class_names: the classes' names: one per output, or two for a single-output classifier.
        metadata: a saved model's metadata (``nn.io.load_metadata(path)``); its ``features`` and
            ``classes`` name the inputs and outputs unless ``feature_names``/``class_names`` are given.
        X: points of the input plane (two-input models): they set the heatmaps' extent and are
            drawn on the decision-boundary panel.
        y: the points' labels (classes, or ±1/0-1 for a single output), colouring the points.
        max_edges: the most parameters drawn one edge each (default 5,000).

    Returns:
        A :class:`NetworkPicture` (``to_svg()``, ``save(path)``, shown inline in Jupyter).

    Raises:
        TypeError: ``model`` is not an ``MLP``, or an argument has the wrong type.
        ValueError: an unknown ``mode``; ``"updates"`` without a snapshot (or one without updates);
            a ``sample`` or ``X`` row of the wrong width or with non-finite numbers; names of the
            wrong count; ``y`` without ``X`` or of another length.

    Example:
        >>> from nn import MLP
        >>> draw_network(MLP(2, [3, 1], seed=0))
        <NetworkPicture: MLP 2 -> 3 -> 1, 13 edges, weights>
    """
    return NetworkPicture(_network_layout(
        model, mode=mode, sample=sample, snapshot=snapshot, feature_names=feature_names, class_names=class_names,
        metadata=metadata, X=X, y=y, max_edges=max_edges))


def _network_layout(
    model: MLP,
    *,
    mode: str = "weights",
    sample: Sequence[float] | None = None,
    snapshot: Any = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    X: Sequence[Sequence[float]] | None = None,
    y: Sequence[Any] | None = None,
    max_edges: int = MAX_EDGES,
    pictures: Pictures | None = None,
) -> _Layout:
    """:func:`draw_network`'s layout; ``pictures``, when given, are the heatmaps and panel image
    to draw instead of computing them (the training page's, made for every snapshot at once)."""
    if not isinstance(model, MLP):
        raise TypeError(f"draw_network() needs an nn.MLP, got {type(model).__name__}")
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"draw_network() mode must be one of {', '.join(map(repr, MODES))}, got {describe(mode)}")
    if isinstance(max_edges, bool) or not isinstance(max_edges, int) or max_edges < 0:
        raise ValueError(f"draw_network() max_edges must be a non-negative int, got {describe(max_edges)}")
    config = model.config
    nin: int = config["nin"]
    widths: list[int] = [nin, *config["nouts"]]
    n_out = widths[-1]
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise TypeError(f"draw_network() metadata must be a dict, got {type(metadata).__name__}")
        if feature_names is None:
            feature_names = metadata.get("features")
        if class_names is None:
            class_names = metadata.get("classes")
    features = _names("feature_names", feature_names, nin)
    classes = _names("class_names", class_names, 2 if n_out == 1 else n_out)

    if snapshot is not None:
        keys = set(model.state_dict())
        state = _snapshot_part(snapshot, "state", keys)
        if state is None:
            raise ValueError("draw_network() snapshot.state is None; the snapshot must hold the model's weights")
        grads_part = _snapshot_part(snapshot, "grads", keys)
        updates_part = _snapshot_part(snapshot, "updates", keys)
        work = model_with_state(model, state)
        grads = _per_layer(model, grads_part)
        updates = _per_layer(model, updates_part)
        if mode == "updates" and updates_part is None:
            raise ValueError("draw_network(mode='updates') needs a snapshot with updates; this one's are None")
        if mode == "grads" and grads_part is None:
            raise ValueError("draw_network(mode='grads') with a snapshot needs its grads; this one's are None")
    else:
        if mode == "updates":
            raise ValueError("draw_network(mode='updates') needs snapshot= (an object with state, grads and "
                             "updates, such as a training view's snapshot): a model alone does not know its "
                             "last update")
        work = model
        grads = [[[*(w.grad for w in n.w), n.b.grad] for n in layer.neurons] for layer in model.layers]
        updates = None
    weights: list[list[list[float]]] = [[[*(w.data for w in n.w), n.b.data] for n in layer.neurons]
                                        for layer in work.layers]

    x_sample = _floats("sample", sample, nin) if sample is not None else None
    points: list[list[float]] | None = None
    if X is not None:
        if isinstance(X, (str, bytes)) or not isinstance(X, Sequence):
            raise TypeError(f"draw_network() X must be a list of points, got {type(X).__name__}")
        points = [_floats(f"X[{i}]", row, nin) for i, row in enumerate(X)]
    if y is not None:
        if points is None:
            raise ValueError("draw_network() y needs X (the points it labels)")
        if isinstance(y, (str, bytes)) or not isinstance(y, Sequence) or len(y) != len(points):
            raise ValueError(f"draw_network() y must be a list of {len(points)} labels, one per point of X")
    labels = [_class_of(v, n_out, i) for i, v in enumerate(y)] if y is not None else None

    acts = layer_activations(work, x_sample) if x_sample is not None else None
    chosen = {"weights": weights, "grads": grads, "updates": updates}[mode]
    assert chosen is not None  # checked above
    return _lay_out(
        model=work, widths=widths, mode=mode, weights=weights, grads=grads, updates=updates, chosen=chosen,
        acts=acts, features=features, classes=classes, points=points, labels=labels,
        snapshot=snapshot is not None, as_edges=model.num_parameters() <= max_edges, pictures=pictures,
    )


def _class_of(v: Any, n_out: int, i: int) -> int:
    if isinstance(v, Value):
        v = v.data
    if not isinstance(v, (str, bytes)) and isinstance(v, Sequence) and len(v) == n_out and n_out > 1:
        return max(range(n_out), key=lambda k: float(v[k]))  # one-hot
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"draw_network() y[{i}] must be a class label, got {describe(v)}")
    f = float(v)
    if n_out == 1:
        return 1 if f > 0 else 0  # 0/1 and -1/+1 labels alike
    if not f.is_integer() or not 0 <= f < n_out:
        raise ValueError(f"draw_network() y[{i}] must be a class index 0..{n_out - 1}, got {describe(v)}")
    return int(f)


# ---------------------------------------------------------------------------------------------
# Placing things.

_TOP = 56.0
_SIDE = 120.0
_RADIUS = 14.0
_PITCH = 40.0
_SQUARE = 20.0  # half side of a heatmap neuron
_SQUARE_PITCH = 52.0
_STRIP_HALF_W = 8.0


def _strip_height(n: int) -> float:
    return min(600.0, max(160.0, 3.0 * n))


def _label_every(n: int) -> int:
    want = n / 12
    for k in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if k >= want:
            return k
    return math.ceil(want / 1000) * 1000


def _lay_out(
    *,
    model: MLP,
    widths: list[int],
    mode: str,
    weights: list[list[list[float]]],
    grads: list[list[list[float | None]]] | list[list[list[float]]] | None,
    updates: list[list[list[float | None]]] | None,
    chosen: Any,
    acts: list[list[float]] | None,
    features: list[str] | None,
    classes: list[str] | None,
    points: list[list[float]] | None,
    labels: list[int] | None,
    snapshot: bool,
    as_edges: bool,
    pictures: Pictures | None = None,
) -> _Layout:
    ncols = len(widths)
    config = model.config
    two_d = widths[0] == 2
    strip = [n > STRIP_WIDTH for n in widths]
    heat = [two_d and not s for s in strip]
    extent = plane_extent(points, acts)
    heats = (pictures[0] if pictures is not None else _neuron_heatmaps(model, widths, extent)) if two_d else None

    def pitch(c: int) -> float:
        if strip[c]:
            return _strip_height(widths[c]) / widths[c]
        return _SQUARE_PITCH if heat[c] else _PITCH

    spans = [pitch(c) * widths[c] for c in range(ncols)]
    bias_room = [pitch(c) if not strip[c] else 34.0 for c in range(ncols)]
    heights = [spans[c] + (bias_room[c] if c < ncols - 1 else 0.0) for c in range(ncols)]
    body = max(heights)
    gap = 170.0 if as_edges else 250.0
    xs = [_SIDE + c * gap for c in range(ncols)]
    out_labels_w = 16.0 + 7.0 * max((len(n) for n in _output_names(classes, widths[-1])), default=4)
    width = xs[-1] + out_labels_w + 40.0
    panel_size = 180.0
    if two_d:
        width += panel_size + 20.0
    legend_top = _TOP + body + 36.0
    layout = _Layout(width=max(width, 560.0), height=legend_top + 96.0)
    quantity, symbol = _QUANTITY[mode]
    n_params = sum(len(r) for layer in weights for r in layer)
    drawn_as = "edges" if as_edges else "weights in matrices"
    layout.summary = (f"MLP {' -> '.join(map(str, widths))}, {n_params} {drawn_as}, {mode}"
                      + (", sample" if acts is not None else "") + (", snapshot" if snapshot else ""))

    # every neuron's centre; the bias neuron sits below its column
    centres: list[list[tuple[float, float]]] = []
    bias_at: list[tuple[float, float]] = []
    for c in range(ncols):
        top = _TOP + (body - heights[c]) / 2
        p = pitch(c)
        centres.append([(xs[c], top + p * (i + 0.5)) for i in range(widths[c])])
        bias_at.append((xs[c], top + spans[c] + bias_room[c] / 2 + (6.0 if strip[c] else 0.0)))

    # edges or matrices first, so that neurons are drawn on top
    scale = max((abs(v) for layer in chosen for row in layer for v in row if v is not None), default=0.0)
    for li in range(ncols - 1):
        c = li + 1
        if as_edges:
            _add_edges(layout, li, centres, bias_at, weights, grads, updates, chosen, scale, strip, heat)
        else:
            _add_matrix(layout, c, centres, bias_at, chosen[li], scale, gap, pitch(c), symbol)

    # neurons
    names = {0: features, ncols - 1: _output_names(classes, widths[-1]) if classes is not None else None}
    for c in range(ncols):
        col_acts = acts[c] if acts is not None else None
        act_scale = max((abs(a) for a in col_acts), default=0.0) if col_acts is not None else 0.0
        k = _label_every(widths[c]) if strip[c] else 1
        half_h = pitch(c) / 2
        for i, (x, yc) in enumerate(centres[c]):
            a = col_acts[i] if col_acts is not None else None
            fill = _signed(a, act_scale, 0.85) if a is not None else (WHITE if not strip[c] else (
                (214, 214, 214) if i % 2 else (200, 200, 200)))
            name = names.get(c)
            label = name[i] if name is not None else (f"x{i}" if c == 0 else (f"y{i}" if c == ncols - 1 else ""))
            what = "input" if c == 0 else ("output" if c == ncols - 1 else f"hidden layer {c}")
            title = f"{what} neuron {i}" + (f" ({label})" if label else "")
            if a is not None:
                title += f": activation {_fmt(a)}"
            if strip[c]:
                node = _Node(f"{c}:{i}", x, yc, "strip", _STRIP_HALF_W, half_h, fill, title, a)
                if i % k == 0:
                    _strip_label(layout, c, ncols, x, yc, label or str(i))
            elif heat[c] and heats is not None:
                node = _Node(f"{c}:{i}", x, yc, "square", _SQUARE, _SQUARE, fill, title, a,
                             _fmt(a) if a is not None else "", heats[c][i])
                _side_label(layout, c, ncols, x, yc, label, _SQUARE)
            else:
                node = _Node(f"{c}:{i}", x, yc, "circle", _RADIUS, _RADIUS, fill, title, a,
                             _fmt(a) if a is not None else "")
                _side_label(layout, c, ncols, x, yc, label, _RADIUS)
            layout.nodes.append(node)
        if c < ncols - 1:
            bx, by = bias_at[c]
            layout.nodes.append(_Node(f"{c}:b", bx, by, "bias", 11.0, 11.0, BIAS_FILL,
                                      f"bias neuron of column {c}: the constant 1; its edges carry layer {c + 1}'s "
                                      "biases", 1.0 if acts is not None else None, "1"))
        head = "input" if c == 0 else ("output" if c == ncols - 1 else f"hidden {c}")
        kind = config["output_activation"] if c == ncols - 1 else config["activation"]
        act = f" ({kind})" if c > 0 else ""
        layout.texts.append(_Text(xs[c], _TOP - 30, f"{head}{act}", 12.0, bold=True))
        layout.texts.append(_Text(xs[c], _TOP - 15, f"{widths[c]} neuron{'s' if widths[c] != 1 else ''}", 10.0,
                                  colour="#777777"))

    if two_d:
        layout.panel = _output_panel(model, extent, points, labels, acts,
                                     xs[-1] + out_labels_w + 20.0, _TOP + (body - panel_size) / 2, panel_size,
                                     pictures[1] if pictures is not None else None)
        layout.texts.append(_Text(layout.panel.x + panel_size / 2, layout.panel.y - 8, "output over the input plane",
                                  10.0))
        names_out = classes if classes is not None else [str(k) for k in range(max(2, widths[-1]))]
        caption = (f"blue: {names_out[1]}, orange: {names_out[0]}" if widths[-1] == 1
                   else "colour: the predicted class")
        layout.texts.append(_Text(layout.panel.x + panel_size / 2, layout.panel.y + panel_size + 14, caption, 9.0,
                                  colour="#555555"))
    _legend(layout, legend_top, quantity, symbol, scale, as_edges, acts is not None, snapshot)
    return layout


def _output_names(classes: list[str] | None, n_out: int) -> list[str]:
    if classes is None:
        return [f"y{i}" for i in range(n_out)]
    if n_out == 1:
        return [f"{classes[1]} vs {classes[0]}"]
    return classes


def _side_label(layout: _Layout, c: int, ncols: int, x: float, y: float, label: str, half: float) -> None:
    if c == 0:
        layout.texts.append(_Text(x - half - 6, y + 4, label, 11.0, "end"))
    elif c == ncols - 1:
        layout.texts.append(_Text(x + half + 6, y + 4, label, 11.0, "start"))


def _strip_label(layout: _Layout, c: int, ncols: int, x: float, y: float, label: str) -> None:
    if c == 0:
        layout.texts.append(_Text(x - _STRIP_HALF_W - 4, y + 3, label, 8.0, "end"))
    else:
        layout.texts.append(_Text(x + _STRIP_HALF_W + 4, y + 3, label, 8.0, "start"))


def _edge_style(q: float | None, scale: float) -> tuple[RGB, float, float]:
    if q is None or scale <= 0 or q == 0:
        return (170, 170, 170), 0.4, 0.35
    t = abs(q) / scale
    return (POSITIVE if q > 0 else NEGATIVE), 0.4 + 3.6 * t, 0.3 + 0.65 * t


def _add_edges(
    layout: _Layout, li: int, centres: list[list[tuple[float, float]]], bias_at: list[tuple[float, float]],
    weights: list[list[list[float]]], grads: Any, updates: Any, chosen: Any, scale: float,
    strip: list[bool], heat: list[bool],
) -> None:
    c = li + 1

    def reach(col: int) -> float:
        return _STRIP_HALF_W if strip[col] else (_SQUARE if heat[col] else _RADIUS)

    out_dx, in_dx = reach(li), reach(c)
    for i, (x2, y2) in enumerate(centres[c]):
        row = weights[li][i]
        n_in = len(row) - 1
        for j in range(n_in + 1):
            src = "b" if j == n_in else str(j)
            x1, y1 = bias_at[li] if j == n_in else centres[li][j]
            dx = 11.0 if j == n_in else out_dx
            colour, w, o = _edge_style(chosen[li][i][j], scale)
            layout.edges.append(_Edge(
                f"{c}:{src}:{i}", x1 + dx, y1, x2 - in_dx, y2, row[j],
                grads[li][i][j] if grads is not None else None,
                updates[li][i][j] if updates is not None else None, colour, w, o))


def _add_matrix(
    layout: _Layout, c: int, centres: list[list[tuple[float, float]]], bias_at: list[tuple[float, float]],
    rows: list[list[float | None]], scale: float, gap: float, pitch: float, symbol: str,
) -> None:
    x_left = centres[c - 1][0][0] + 40.0
    x_right = centres[c][0][0] - 40.0
    top = centres[c][0][1] - pitch / 2
    h = pitch * len(rows)
    bias_w = 8.0
    w = x_right - x_left - bias_w - 6.0
    filled = [[0.0 if v is None else v for v in row] for row in rows]
    weights = signed_image([r[:-1] for r in filled], scale)
    bias = signed_image([r[-1:] for r in filled], scale)
    bias_x = x_right - bias_w
    n_in = len(rows[0]) - 1
    layout.matrices.append(_Matrix(c, x_left, top, w, h, weights, bias, bias_x,
                                   f"layer {c}: {len(rows)} neurons (rows) x {n_in} inputs (columns) + bias; "
                                   f"colour = sign, intensity = |{symbol}|"))
    bx, by = bias_at[c - 1]
    layout.lines.append(_Line(bx + 11.0, by, bias_x + bias_w / 2, top + h, (150, 150, 150), 1.0, dashed=True))
    layout.texts.append(_Text(x_left + w / 2, top - 6, f"{len(rows)} x {n_in} {symbol}", 9.0, colour="#777777"))
    layout.texts.append(_Text(bias_x + bias_w / 2, top - 6, "b", 9.0, colour="#777777"))


def _legend(layout: _Layout, top: float, quantity: str, symbol: str, scale: float, as_edges: bool,
            has_sample: bool, snapshot: bool) -> None:
    x = 20.0
    source = "the snapshot's" if snapshot else "the model's"
    what = "edges" if as_edges else "matrix cells"
    layout.texts.append(_Text(x, top, f"{what}: {source} {quantity} {symbol}; blue = positive, orange = negative, "
                                      f"{'width' if as_edges else 'intensity'} = |{symbol}|"
                                      + (f" (largest {_fmt(scale)})" if scale > 0 else " (all zero)"),
                              11.0, "start"))
    y = top + 16
    layout.lines.append(_Line(x, y, x + 30, y, POSITIVE, 3.0))
    layout.texts.append(_Text(x + 36, y + 4, f"{symbol} > 0", 10.0, "start"))
    layout.lines.append(_Line(x + 90, y, x + 120, y, NEGATIVE, 3.0))
    layout.texts.append(_Text(x + 126, y + 4, f"{symbol} < 0", 10.0, "start"))
    layout.lines.append(_Line(x + 180, y, x + 210, y, (120, 120, 120), 0.4))
    layout.texts.append(_Text(x + 216, y + 4, "small", 10.0, "start"))
    layout.lines.append(_Line(x + 260, y, x + 290, y, (120, 120, 120), 4.0))
    layout.texts.append(_Text(x + 296, y + 4, f"|{symbol}| = {_fmt(scale)}", 10.0, "start"))
    lines = ["grey square with 1: a bias neuron, the constant 1; its edges carry the next layer's biases"]
    if has_sample:
        lines.append("neuron fill: its activation for the sample (blue positive, orange negative, scaled per column)")
    for k, line in enumerate(lines):
        layout.texts.append(_Text(x, y + 22 + 15 * k, line, 10.0, "start", "#555555"))


# ---------------------------------------------------------------------------------------------
# Two-input models: each neuron's output over the plane, and the decision boundary.


def plane_extent(points: list[list[float]] | None, acts: list[list[float]] | None) -> tuple[float, float, float, float]:
    """The part of the input plane a 2-input model's heatmaps show: around the points (and the
    sample's inputs), ``[-1, 1]`` on each axis without them."""
    xs: list[float] = []
    ys: list[float] = []
    for p in points or []:
        xs.append(p[0])
        ys.append(p[1])
    if acts is not None and len(acts[0]) == 2:
        xs.append(acts[0][0])
        ys.append(acts[0][1])
    if not xs:
        return (-1.0, 1.0, -1.0, 1.0)

    def pad(lo: float, hi: float) -> tuple[float, float]:
        margin = 0.1 * (hi - lo) if hi > lo else 1.0
        return lo - margin, hi + margin

    x0, x1 = pad(min(xs), max(xs))
    y0, y1 = pad(min(ys), max(ys))
    return (x0, x1, y0, y1)


def plane_grid(extent: tuple[float, float, float, float], n: int) -> list[list[float]]:
    """The centres of an n x n grid, row by row from the top (largest second coordinate)."""
    x0, x1, y0, y1 = extent
    return [[x0 + (x1 - x0) * (j + 0.5) / n, y1 - (y1 - y0) * (r + 0.5) / n] for r in range(n) for j in range(n)]


def grid_activations(model: MLP, points: list[list[float]]) -> list[list[list[float]]]:
    """:func:`layer_activations` of every point, from one recorded forward pass replayed over them.

    One sample's graph is recorded (``nn.train.record_replay``, generated code) with every
    neuron's output watched and replayed over ``points``: the engine's own arithmetic, so each
    number is the one ``layer_activations`` gives, without building a graph per point. A model
    that cannot be replayed is evaluated point by point with the engine.

    Args:
        model: the MLP.
        points: its inputs, one list of ``nin`` floats each.

    Returns:
        For each point, the columns' values: the inputs, then each layer's outputs.
    """
    widths = [len(layer.neurons) for layer in model.layers]
    if len(points) > 1:
        def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
            h: list[Any] = v
            watched: list[Value] = []
            for layer in model.layers:
                h = layer._forward(h)
                watched.extend(h)
            return sum(watched[1:], watched[0]), watched

        with enable_grad():  # the recording is a graph, also where the caller turned graphs off
            tape, _ = record_replay(per_sample, model.parameters(), points[0], points)
        if tape is not None:
            grads = [p.grad for p in tape.params]
            tape.run(points, grad=0.0)
            for p, g in zip(tape.params, grads):  # the replay adds its (zero) gradients: keep the model's
                p.grad = g
            columns = tape.watched
            out: list[list[list[float]]] = []
            for r, point in enumerate(points):
                acts = [list(point)]
                at = 0
                for w in widths:
                    acts.append([columns[at + i][r] for i in range(w)])
                    at += w
                out.append(acts)
            return out
    return [layer_activations(model, p) for p in points]


def _neuron_heatmaps(model: MLP, widths: list[int], extent: tuple[float, float, float, float]) -> list[list[Image]]:
    """For every neuron, its output at each point of a GRID x GRID grid, as a small image."""
    per: list[list[list[float]]] = [[[] for _ in range(w)] for w in widths]
    for acts in grid_activations(model, plane_grid(extent, GRID)):
        for c, values in enumerate(acts):
            for i, v in enumerate(values):
                per[c][i].append(v)
    out: list[list[Image]] = []
    for column in per:
        images = []
        for values in column:
            scale = max(abs(v) for v in values)
            images.append(signed_image([values[r * GRID:(r + 1) * GRID] for r in range(GRID)], scale))
        out.append(images)
    return out


def decision_colour(scores: Sequence[float], threshold: float, sigmoid: bool) -> RGB:
    """The colour of one point of a decision panel: one output is shaded by its distance from
    ``threshold`` (blue above, orange below), several by their class's colour (the first largest).

    Args:
        scores: the model's outputs at the point.
        threshold: ``nn.threshold_of(model)``.
        sigmoid: whether the output is a sigmoid (a probability).

    Returns:
        The RGB colour.
    """
    if len(scores) == 1:
        s = scores[0]
        t = 2 * (s - threshold) if sigmoid else math.tanh(s - threshold)
        return mix(CLASS_COLOURS[0] if t > 0 else CLASS_COLOURS[1], 0.15 + 0.45 * abs(t))
    k = max(range(len(scores)), key=scores.__getitem__)
    return mix(CLASS_COLOURS[k % len(CLASS_COLOURS)], 0.45)


def _output_panel(model: MLP, extent: tuple[float, float, float, float], points: list[list[float]] | None,
                  labels: list[int] | None, acts: list[list[float]] | None,
                  x: float, y: float, size: float, image: Image | None = None) -> _Panel:
    n_out = model.config["nouts"][-1]
    if image is None:
        threshold = threshold_of(model)
        sigmoid = model.config["output_activation"] == "sigmoid"
        image = Image(PANEL_GRID, PANEL_GRID, b"".join(
            bytes(decision_colour(columns[-1], threshold, sigmoid))
            for columns in grid_activations(model, plane_grid(extent, PANEL_GRID))))
    x0, x1, y0, y1 = extent

    def at(p: Sequence[float]) -> tuple[float, float]:
        return x + (p[0] - x0) / (x1 - x0) * size, y + (y1 - p[1]) / (y1 - y0) * size

    drawn: list[_Point] = []
    for i, p in enumerate(points or []):
        k = labels[i] if labels is not None else -1
        if k < 0:
            colour: RGB = (90, 90, 90)
        elif n_out == 1:
            colour = CLASS_COLOURS[0] if k == 1 else CLASS_COLOURS[1]
        else:
            colour = CLASS_COLOURS[k % len(CLASS_COLOURS)]
        drawn.append(_Point(*at(p), colour))
    sample = at(acts[0]) if acts is not None else None
    return _Panel(x, y, size, image, drawn, sample)


# ---------------------------------------------------------------------------------------------
# Renderer 1: SVG text.


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _repr(v: float | None) -> str:
    return "" if v is None else repr(float(v))


def _render_svg(layout: _Layout) -> str:
    w, h = layout.width, layout.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'data-valuegrad-network="1" width="{_num(w)}" height="{_num(h)}" viewBox="0 0 {_num(w)} {_num(h)}" '
        'font-family="Helvetica, Arial, sans-serif">',
        f"<title>{escape(layout.summary)}</title>",
        f'<rect x="0" y="0" width="{_num(w)}" height="{_num(h)}" fill="#ffffff"/>',
        '<g data-layer="edges">',
    ]
    for e in layout.edges:
        out.append(
            f'<line data-edge="{e.key}" data-weight="{_repr(e.weight)}" data-grad="{_repr(e.grad)}" '
            f'data-update="{_repr(e.update)}" x1="{_num(e.x1)}" y1="{_num(e.y1)}" x2="{_num(e.x2)}" y2="{_num(e.y2)}" '
            f'stroke="{_hex(e.colour)}" stroke-width="{_num(e.width)}" stroke-opacity="{_num(e.opacity)}">'
            f"<title>{e.key}: w {_fmt(e.weight)}"
            + (f", grad {_fmt(e.grad)}" if e.grad is not None else "")
            + (f", update {_fmt(e.update)}" if e.update is not None else "")
            + "</title></line>")
    out.append("</g>")
    for m in layout.matrices:
        out.append(f'<g data-matrix="{m.column}"><title>{escape(m.title)}</title>'
                   f'<image x="{_num(m.x)}" y="{_num(m.y)}" width="{_num(m.w)}" height="{_num(m.h)}" '
                   f'preserveAspectRatio="none" style="image-rendering:pixelated" href="{png_data_uri(m.weights)}"/>'
                   f'<image x="{_num(m.bias_x)}" y="{_num(m.y)}" width="8" height="{_num(m.h)}" '
                   f'preserveAspectRatio="none" style="image-rendering:pixelated" href="{png_data_uri(m.bias)}"/>'
                   f'<rect x="{_num(m.x)}" y="{_num(m.y)}" width="{_num(m.w)}" height="{_num(m.h)}" fill="none" '
                   'stroke="#999999" stroke-width="0.5"/></g>')
    for ln in layout.lines:
        dash = ' stroke-dasharray="3 3"' if ln.dashed else ""
        out.append(f'<line x1="{_num(ln.x1)}" y1="{_num(ln.y1)}" x2="{_num(ln.x2)}" y2="{_num(ln.y2)}" '
                   f'stroke="{_hex(ln.colour)}" stroke-width="{_num(ln.width)}"{dash}/>')
    for n in layout.nodes:
        act = f' data-activation="{_repr(n.activation)}"' if n.activation is not None else ""
        out.append(f'<g data-neuron="{n.key}"{act}><title>{escape(n.title)}</title>')
        fill = _hex(n.fill)
        if n.shape == "circle":
            out.append(f'<circle cx="{_num(n.x)}" cy="{_num(n.y)}" r="{_num(n.half_w)}" fill="{fill}" '
                       f'stroke="{INK}" stroke-width="1"/>')
        elif n.shape == "strip":
            out.append(f'<rect x="{_num(n.x - n.half_w)}" y="{_num(n.y - n.half_h)}" width="{_num(2 * n.half_w)}" '
                       f'height="{_num(2 * n.half_h)}" fill="{fill}"/>')
        elif n.shape == "square" and n.heat is not None:
            side = _num(2 * n.half_w)
            out.append(f'<image x="{_num(n.x - n.half_w)}" y="{_num(n.y - n.half_h)}" width="{side}" height="{side}" '
                       f'preserveAspectRatio="none" style="image-rendering:pixelated" href="{png_data_uri(n.heat)}"/>'
                       f'<rect x="{_num(n.x - n.half_w)}" y="{_num(n.y - n.half_h)}" width="{side}" height="{side}" '
                       f'fill="none" stroke="{fill if n.activation is not None else INK}" '
                       f'stroke-width="{3 if n.activation is not None else 1}"/>')
        else:  # the bias neuron
            out.append(f'<rect x="{_num(n.x - n.half_w)}" y="{_num(n.y - n.half_h)}" width="{_num(2 * n.half_w)}" '
                       f'height="{_num(2 * n.half_h)}" rx="3" fill="{fill}" stroke="{INK}" stroke-width="1" '
                       'stroke-dasharray="2 2"/>')
        if n.text:
            ty = n.y + n.half_h + 11 if n.shape == "square" else n.y + 3.5
            out.append(f'<text x="{_num(n.x)}" y="{_num(ty)}" text-anchor="middle" font-size="9" '
                       f'fill="{INK}">{escape(n.text)}</text>')
        out.append("</g>")
    if layout.panel is not None:
        p = layout.panel
        out.append(f'<g data-panel="output"><image x="{_num(p.x)}" y="{_num(p.y)}" width="{_num(p.size)}" '
                   f'height="{_num(p.size)}" preserveAspectRatio="none" href="{png_data_uri(p.image)}"/>'
                   f'<rect x="{_num(p.x)}" y="{_num(p.y)}" width="{_num(p.size)}" height="{_num(p.size)}" '
                   'fill="none" stroke="#999999"/>')
        for i, pt in enumerate(p.points):
            out.append(f'<circle data-point="{i}" cx="{_num(pt.x)}" cy="{_num(pt.y)}" r="2.5" fill="{_hex(pt.colour)}" '
                       'stroke="#ffffff" stroke-width="0.6"/>')
        if p.sample is not None:
            out.append(f'<circle data-sample="1" cx="{_num(p.sample[0])}" cy="{_num(p.sample[1])}" r="4.5" '
                       f'fill="none" stroke="#000000" stroke-width="1.5"/>')
        out.append("</g>")
    for t in layout.texts:
        if not t.text:
            continue
        weight = ' font-weight="bold"' if t.bold else ""
        out.append(f'<text x="{_num(t.x)}" y="{_num(t.y)}" text-anchor="{t.anchor}" font-size="{_num(t.size)}" '
                   f'fill={quoteattr(t.colour)}{weight}>{escape(t.text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Renderer 2: matplotlib, for PNG files (matplotlib cannot read SVG; it redraws the same layout).


def _render_png(layout: _Layout) -> bytes:
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("saving a network picture as .png needs matplotlib (pip install 'valuegrad[train]'); "
                          ".svg needs nothing") from e
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, Rectangle

    del matplotlib  # imported only to give a clear error when it is missing
    dpi = 100.0
    fig = Figure(figsize=(layout.width / dpi, layout.height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, layout.width)
    ax.set_ylim(layout.height, 0)
    ax.set_axis_off()
    pt = 72.0 / dpi  # one SVG pixel in points

    def rgb(c: RGB, alpha: float = 1.0) -> tuple[float, float, float, float]:
        return (c[0] / 255, c[1] / 255, c[2] / 255, alpha)

    def array(image: Image) -> Any:
        return np.frombuffer(image.rgb, dtype=np.uint8).reshape(image.height, image.width, 3)

    if layout.edges:
        ax.add_collection(LineCollection(
            [((e.x1, e.y1), (e.x2, e.y2)) for e in layout.edges],
            colors=[rgb(e.colour, e.opacity) for e in layout.edges],
            linewidths=[e.width * pt for e in layout.edges], zorder=1))
    for m in layout.matrices:
        ax.imshow(array(m.weights), extent=(m.x, m.x + m.w, m.y + m.h, m.y), interpolation="nearest",
                  aspect="auto", zorder=1)
        ax.imshow(array(m.bias), extent=(m.bias_x, m.bias_x + 8, m.y + m.h, m.y), interpolation="nearest",
                  aspect="auto", zorder=1)
    for ln in layout.lines:
        ax.plot([ln.x1, ln.x2], [ln.y1, ln.y2], color=rgb(ln.colour), linewidth=ln.width * pt,
                linestyle="--" if ln.dashed else "-", zorder=2)
    for n in layout.nodes:
        if n.shape == "circle":
            ax.add_patch(Circle((n.x, n.y), n.half_w, facecolor=rgb(n.fill), edgecolor=INK, linewidth=pt, zorder=3))
        elif n.shape == "square" and n.heat is not None:
            ax.imshow(array(n.heat), extent=(n.x - n.half_w, n.x + n.half_w, n.y + n.half_h, n.y - n.half_h),
                      interpolation="nearest", zorder=3)
            ax.add_patch(Rectangle((n.x - n.half_w, n.y - n.half_h), 2 * n.half_w, 2 * n.half_h, fill=False,
                                   edgecolor=rgb(n.fill) if n.activation is not None else INK,
                                   linewidth=(3 if n.activation is not None else 1) * pt, zorder=4))
        else:
            ax.add_patch(Rectangle((n.x - n.half_w, n.y - n.half_h), 2 * n.half_w, 2 * n.half_h,
                                   facecolor=rgb(n.fill), edgecolor=INK if n.shape == "bias" else "none",
                                   linewidth=pt, linestyle="--" if n.shape == "bias" else "-", zorder=3))
        if n.text:
            ty = n.y + n.half_h + 11 if n.shape == "square" else n.y + 3.5
            ax.text(n.x, ty, n.text, ha="center", va="baseline", fontsize=9 * pt, color=INK, zorder=5)
    if layout.panel is not None:
        p = layout.panel
        ax.imshow(array(p.image), extent=(p.x, p.x + p.size, p.y + p.size, p.y), interpolation="bilinear",
                  zorder=1)
        if p.points:
            ax.scatter([q.x for q in p.points], [q.y for q in p.points], s=(2.5 * 2 * pt) ** 2,
                       c=[rgb(q.colour) for q in p.points], edgecolors="white", linewidths=0.6 * pt, zorder=3)
        if p.sample is not None:
            ax.add_patch(Circle(p.sample, 4.5, fill=False, edgecolor="black", linewidth=1.5 * pt, zorder=4))
    align = {"start": "left", "middle": "center", "end": "right"}
    for t in layout.texts:
        if t.text:
            ax.text(t.x, t.y, t.text, ha=align[t.anchor], va="baseline", fontsize=t.size * pt, color=t.colour,
                    fontweight="bold" if t.bold else "normal", zorder=6)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()
