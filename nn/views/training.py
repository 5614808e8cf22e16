"""A training run, recorded: :class:`TrainingView` keeps snapshots of a model as ``nn.train`` runs.

``view = TrainingView(model, X, y)`` is a callback: ``nn.train(model, X, y, callbacks=[view])``
drives it. It keeps about :data:`TARGET_SNAPSHOTS` snapshots of the run (every ``every`` steps and
the last one), each with the step's weights, gradient and update, its loss and accuracy and the
held-out figures; :meth:`TrainingView.neuron_stepper` opens one neuron of one snapshot as a
backprop :class:`~autograd.show.stepper.Stepper`; :meth:`TrainingView.payload` is everything the
training page shows (``nn.views.page``), and :meth:`TrainingView.save_html` writes that page.

Recording is cheap: a snapshot is three flat arrays of floats and five numbers. The pictures of a
snapshot (its neurons' heatmaps and its panel) are drawn the first time a payload needs them and
kept, never drawn twice.
"""

from __future__ import annotations

import base64
import functools
import gzip
import importlib
import math
import numbers
import os
import sys
import time
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from autograd import Value
from autograd.ops import REGISTRY
from autograd.show.stepper import Stepper
from nn.activations import ACTIVATION_TABLE
from nn.files import atomic_write
from nn.layers import MLP
from nn.losses import predict_class
from nn.text import describe
from nn.train import History, Run, threshold_of
from nn.views import network as _net

__all__ = ["MAX_SNAPSHOTS", "PAYLOAD_VERSION", "TARGET_SNAPSHOTS", "Snapshot", "TrainingView", "unpack_page"]

TARGET_SNAPSHOTS = 100
"""Without ``every=``, a view keeps about this many snapshots of a run (``every`` = steps / 100)."""
MAX_SNAPSHOTS = 200
"""A view never holds more: past it, ``every`` doubles and every other snapshot is dropped."""
PAYLOAD_VERSION = 1
LIVE_SECONDS = 0.2
"""A shown widget gets a new payload at most this often while training (and always at the end)."""
CELL = 12
"""Pixels per cell of the confusion-matrix panel (models with other than two inputs)."""
STILL_EDGES = 500
"""The still picture draws larger models' weights as heatmap matrices: a saved notebook keeps it."""


class Snapshot:
    """The model after one training step, as a :class:`TrainingView` recorded it.

    ``state``, ``grads`` and ``updates`` are dicts keyed like ``model.state_dict()`` (made on each
    access from flat float64 arrays, the form they are kept in).
    """

    __slots__ = ("_flat", "_keys", "_pictures", "accuracy", "loss", "step", "val_accuracy", "val_loss")

    def __init__(self, step: int, loss: float, accuracy: float, val_loss: float | None, val_accuracy: float | None,
                 keys: list[str], state: array[float], grads: array[float], updates: array[float]) -> None:
        self.step: int = step
        """The training step (counted from 1) after whose update the snapshot was taken."""
        self.loss: float = loss
        """That step's training loss (the L2 term included), as ``history.loss``."""
        self.accuracy: float = accuracy
        """That step's training accuracy on its batch, as ``history.accuracy``."""
        self.val_loss: float | None = val_loss
        """The loss without the L2 term on the view's held-out set with these weights; None without one."""
        self.val_accuracy: float | None = val_accuracy
        """The accuracy on the held-out set; None without one."""
        self._keys = keys
        self._flat = (state, grads, updates)
        self._pictures: tuple[dict[str, str], str | None] | None = None

    @property
    def state(self) -> dict[str, float]:
        """The model's ``state_dict()`` after the step's update."""
        return dict(zip(self._keys, self._flat[0]))

    @property
    def grads(self) -> dict[str, float]:
        """The gradient of the step's loss (L2 term included): each parameter's ``.grad``."""
        return dict(zip(self._keys, self._flat[1]))

    @property
    def updates(self) -> dict[str, float]:
        """What the step's optimizer update changed: ``state`` minus the weights before it."""
        return dict(zip(self._keys, self._flat[2]))

    def __repr__(self) -> str:
        held = f", val_loss {self.val_loss:.4g}" if self.val_loss is not None else ""
        return f"<Snapshot of step {self.step}: loss {self.loss:.4g}, accuracy {self.accuracy:.3g}{held}>"


def _floats(values: Any) -> array[float]:
    """Flat float64 storage for a list of floats or a NumPy array (no round trip through Python floats)."""
    if hasattr(values, "tobytes"):
        out = array("d")
        out.frombytes(values.astype("float64", copy=False).tobytes())
        return out
    return array("d", values)


def _rows(what: str, X: Any, width: int) -> list[list[float]]:
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence):
        raise TypeError(f"TrainingView() {what} must be a list of rows of {width} numbers, got {type(X).__name__}")
    rows: list[list[float]] = []
    for i, row in enumerate(X):
        if isinstance(row, (str, bytes, Mapping)) or not isinstance(row, Sequence) or len(row) != width:
            raise ValueError(f"TrainingView() {what}[{i}] must be a list of {width} numbers (the model's inputs), "
                             f"got {describe(row)}")
        out = []
        for v in row:
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(f"TrainingView() {what}[{i}] must hold numbers, got {describe(v)}")
            out.append(float(v))
        rows.append(out)
    return rows


def _labels(what: str, y: Any, n: int) -> list[int]:
    if isinstance(y, (str, bytes)) or not isinstance(y, Sequence) or len(y) != n:
        raise ValueError(f"TrainingView() {what} must be a list of {n} class labels, one per row")
    for i, t in enumerate(y):
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
            raise ValueError(f"TrainingView() {what}[{i}] must be a class index (0, 1, ...), got {describe(t)}")
    return [int(t) for t in y]


class TrainingView:
    """Snapshots of a model while ``nn.train`` trains it, and the page that shows them.

    Pass it to ``nn.train(..., callbacks=[view])``. It records a snapshot after steps ``every``,
    ``2·every``, ... and after the last step (steps are counted from 1). Without ``every`` it is
    chosen from the run's length for about :data:`TARGET_SNAPSHOTS` snapshots; a view never holds
    more than :data:`MAX_SNAPSHOTS`: past that, ``every`` doubles and every other snapshot is
    dropped, so the snapshots stay evenly spaced and memory stays bounded. Each ``nn.train`` run
    it drives starts a new recording.

    Args:
        model: the ``nn.MLP`` being trained (the one passed to ``nn.train``).
        X: the training inputs (``neuron_stepper``'s samples and the pictures' points).
        y: their class labels.
        validation: a held-out set ``(X_val, y_val)`` evaluated at every snapshot (loss without
            the L2 term, accuracy); without it the run's ``validation=`` is used, if any.
        every: record every this many steps (a positive int; default: from the run's length).

    Attributes:
        snapshots: the :class:`Snapshot` list, oldest first; the last step of a run is always one.

    Example:
        >>> from nn import MLP, data, train
        >>> X, y = data.make_moons(20, seed=0)
        >>> model = MLP(2, [4, 1], seed=0)
        >>> view = TrainingView(model, X, y, every=5)
        >>> history = train(model, X, y, steps=12, callbacks=[view])
        >>> [s.step for s in view.snapshots]
        [5, 10, 12]
    """

    def __init__(self, model: MLP, X: Sequence[Sequence[float]], y: Sequence[int],
                 validation: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None,
                 every: int | None = None) -> None:
        if not isinstance(model, MLP):
            raise TypeError(f"TrainingView() needs an nn.MLP, got {type(model).__name__}")
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"TrainingView() every must be a positive int or None, got {describe(every)}")
        nin = model.config["nin"]
        self.model = model
        self.X = _rows("X", X, nin)
        if not self.X:
            raise ValueError("TrainingView() X must hold at least one row")
        self.y = _labels("y", y, len(self.X))
        self.validation: tuple[list[list[float]], list[int]] | None = None
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise TypeError(f"TrainingView() validation must be a pair (X_val, y_val), got {describe(validation)}")
            Xv = _rows("validation X_val", validation[0], nin)
            if not Xv:
                raise ValueError("TrainingView() validation X_val must hold at least one row")
            self.validation = (Xv, _labels("validation y_val", validation[1], len(Xv)))
        self.every = every
        self.snapshots: list[Snapshot] = []
        self.keys: list[str] = list(model.state_dict())
        self._every = every or 1
        self._run: Run | None = None
        self._history: History | None = None
        self._held_out: Any = None
        self._params: list[Value] = model.parameters()
        self._widgets: list[Any] = []
        self._displays: list[tuple[Any, Any]] = []
        self._pushed = 0.0
        self._steppers: tuple[int, dict[str, str]] | None = None

    def __repr__(self) -> str:
        last = f", last step {self.snapshots[-1].step}" if self.snapshots else ""
        return f"<TrainingView of {self._title()}: {len(self.snapshots)} snapshots{last}>"

    # --- the callback -----------------------------------------------------------------------

    def on_train_begin(self, run: Run) -> None:
        """Start a new recording for ``run`` (called by ``nn.train``)."""
        if run.model is not self.model:
            raise ValueError("TrainingView: nn.train() is training another model than the one this view was made "
                             "for; make a view of the model you train")
        self._run = run
        self._history = None
        self.snapshots = []
        self._steppers = None
        self._every = self.every or max(1, math.ceil(run.steps / TARGET_SNAPSHOTS))
        self._params = self.model.parameters()
        self.keys = list(run.keys)
        self._held_out = None
        if self.validation is not None:
            from nn.train import HeldOut

            self._held_out = HeldOut(self.model, run.loss, self.validation[0], self.validation[1], self._params)

    def wants_step(self, step: int) -> bool:
        """True for the steps this view records (``nn.train`` then hands it their details)."""
        return step % self._every == 0 or (self._run is not None and step == self._run.steps)

    def on_step(self, step: int, history: History, model: MLP) -> None:
        """Record a snapshot if ``step`` is one this view wants (called by ``nn.train``)."""
        self._history = history
        run = self._run
        if run is None or run.step != step:
            return
        self._take(run, history)
        if len(self.snapshots) > MAX_SNAPSHOTS:
            self._every *= 2
            self.snapshots = [s for s in self.snapshots if s.step % self._every == 0]
        if self._widgets and time.monotonic() - self._pushed >= LIVE_SECONDS:
            self._push(steppers=False)

    def on_train_end(self, history: History, model: MLP) -> None:
        """Make sure the last step is a snapshot and update any shown widget (called by ``nn.train``)."""
        self._history = history
        run = self._run
        if run is not None and run.step == history.steps and history.steps and (
                not self.snapshots or self.snapshots[-1].step != history.steps):
            self._take(run, history)
        if self._widgets:
            self._push(steppers=True)
        for handle, widget_view in self._displays:
            handle.update(self._bundle(widget_view), raw=True)

    def _take(self, run: Run, history: History) -> None:
        step = run.step
        assert step is not None
        val_loss: float | None = None
        val_acc: float | None = None
        if self._held_out is not None:
            val_loss, val_acc = self._held_out(run.state if hasattr(run.state, "tobytes") else None)
        elif history.val_steps and history.val_steps[-1] == step:
            val_loss, val_acc = history.val_loss[-1], history.val_accuracy[-1]
        self.snapshots.append(Snapshot(step, history.loss[step - 1], history.accuracy[step - 1], val_loss, val_acc,
                                       self.keys, _floats(run.state), _floats(run.grads), _floats(run.updates)))

    # --- one neuron as a graph ----------------------------------------------------------------

    def _snapshot(self, snapshot: int) -> Snapshot:
        if isinstance(snapshot, bool) or not isinstance(snapshot, int):
            raise TypeError(f"snapshot must be an int index into view.snapshots, got {describe(snapshot)}")
        if not self.snapshots:
            raise ValueError("this view has no snapshots yet: pass it to nn.train(..., callbacks=[view]) first")
        if not -len(self.snapshots) <= snapshot < len(self.snapshots):
            raise IndexError(f"snapshot {snapshot} is out of range: the view has {len(self.snapshots)} snapshots")
        return self.snapshots[snapshot]

    def neuron_stepper(self, layer: int, index: int, sample: int | Sequence[float], snapshot: int = -1,
                       layout: str = "python") -> Stepper:
        """One neuron of one snapshot as a backprop :class:`~autograd.show.stepper.Stepper`.

        The graph holds the neuron's inputs ``x0``, ``x1``, ... (the previous layer's activations for
        ``sample`` under the snapshot's weights), its weights ``w0``, ``w1``, ..., its bias ``b``,
        the weighted sum ``z`` and the activation (labelled by its name; a linear neuron's root is
        ``z``): about 2n + 3 Values. The root's value is the neuron's output for the sample.

        Args:
            layer: index into ``model.layers`` (0 = the first hidden layer, drawn in column 1).
            index: the neuron's index in that layer.
            sample: an index into the ``X`` the view was made with, or an input vector.
            snapshot: index into ``snapshots`` (default: the last).
            layout: the stepper's ``layout=``: ``'python'`` (default: the pure-Python layout, the
                one the training page's steppers use; a neuron is a plain fan-in, and no Graphviz
                process is started per neuron), ``'auto'`` or ``'dot'`` for Graphviz's.

        Returns:
            The stepper (shows itself in Jupyter; ``save_html(path)`` writes it as a page).

        Raises:
            TypeError: an argument of the wrong type.
            IndexError: ``layer``, ``index``, ``sample`` or ``snapshot`` out of range.
            ValueError: no snapshots yet, or an input vector of the wrong width.
        """
        snap = self._snapshot(snapshot)
        layers = self.model.layers
        for what, v in (("layer", layer), ("index", index)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"neuron_stepper() {what} must be an int, got {describe(v)}")
        if not 0 <= layer < len(layers):
            raise IndexError(f"neuron_stepper() layer {layer} is out of range: the model has {len(layers)} layers "
                             f"(0 = the first hidden layer)")
        if not 0 <= index < len(layers[layer].neurons):
            raise IndexError(f"neuron_stepper() index {index} is out of range: layer {layer} has "
                             f"{len(layers[layer].neurons)} neurons")
        x = self._sample(sample)
        return _neuron_stepper(self.model, snap.state, layer, index, x, layout)

    def _sample(self, sample: Any) -> list[float]:
        if isinstance(sample, bool):
            raise TypeError("neuron_stepper() sample must be an index into X or an input vector, got a bool")
        if isinstance(sample, numbers.Integral):
            if not -len(self.X) <= int(sample) < len(self.X):
                raise IndexError(f"neuron_stepper() sample {sample} is out of range: X has {len(self.X)} rows")
            return self.X[int(sample)]
        nin = self.model.config["nin"]
        if isinstance(sample, (str, bytes, Mapping)) or not isinstance(sample, Sequence):
            raise TypeError(f"neuron_stepper() sample must be an index into X or a list of {nin} numbers, "
                            f"got {type(sample).__name__}")
        return _rows("sample", [sample], nin)[0]

    # --- what the page shows ---------------------------------------------------------------

    def _title(self) -> str:
        widths = [self.model.config["nin"], *self.model.config["nouts"]]
        loss = f", {self._run.loss} loss" if self._run is not None else ""
        return f"MLP({' -> '.join(map(str, widths))}){loss}"

    def payload(self) -> dict[str, Any]:
        """Everything the training page shows, as a JSON-able dict (version 1).

        ``network`` is ``draw_network`` of the last snapshot with the per-key hooks; ``snapshots``
        the per-snapshot numbers, with ``state``, ``grads`` and ``updates`` as base64 of
        little-endian float64 (``n`` x parameters, snapshot by snapshot, in ``network.keys``
        order), each snapshot's neuron heatmaps (two-input models) and panel picture (the
        decision over the plane, or a confusion matrix); ``curves`` every step's loss and
        accuracy and the held-out curve; ``steppers`` each neuron's stepper page (the last
        snapshot, sample 0), for neurons of at most 300 Values.

        Returns:
            The dict ``nn.views.page.render_page`` takes.
        """
        return self._payload(steppers=True)

    def _payload(self, steppers: bool) -> dict[str, Any]:
        snaps = list(self.snapshots)
        last = snaps[-1] if snaps else None
        data = self.X if self.model.config["nin"] == 2 else None
        # the heatmaps and panel of the last snapshot as the snapshots' pictures draw them
        pictures = _last_pictures(self.model, last._flat[0], self.X) if last is not None and data else None
        picture = _net.NetworkPicture(_net._network_layout(
            self.model, snapshot=last, X=data, y=self.y if data is not None else None, pictures=pictures))
        return {
            "version": PAYLOAD_VERSION,
            "title": self._title(),
            "network": {"svg": picture.to_svg(), **self._hooks()},
            "snapshots": self._snapshots_part(snaps),
            "curves": self._curves(),
            "steppers": self._stepper_pages() if steppers and last is not None else {},
        }

    def _hooks(self) -> dict[str, Any]:
        where: list[tuple[int, int, int | None]] = [
            (li, ni, j) for li, layer in enumerate(self.model.layers) for ni, neuron in enumerate(layer.neurons)
            for j in [*range(len(neuron.w)), None]]
        if len(where) != len(self.keys):
            raise ValueError(f"the model has {len(self.keys)} state_dict keys but {len(where)} weights and biases")
        as_edges = self.model.num_parameters() <= _net.MAX_EDGES
        edges = [f"{li + 1}:{'b' if j is None else j}:{ni}" if as_edges else None for li, ni, j in where]
        matrix = [None if as_edges else [li + 1, ni, -1 if j is None else j] for li, ni, j in where]
        widths = [self.model.config["nin"], *self.model.config["nouts"]]
        neurons = [f"{c}:{i}" for c, w in enumerate(widths) for i in [*map(str, range(w)),
                                                                         *(["b"] if c < len(widths) - 1 else [])]]
        return {"keys": list(self.keys), "edge_of_key": edges, "matrix_of_key": matrix, "neurons": neurons}

    def _snapshots_part(self, snaps: list[Snapshot]) -> dict[str, Any]:
        pictures = self._pictures(snaps)
        return {
            "n": len(snaps),
            "step": [s.step for s in snaps],
            "loss": [s.loss for s in snaps],
            "accuracy": [s.accuracy for s in snaps],
            "val_loss": [s.val_loss for s in snaps],
            "val_accuracy": [s.val_accuracy for s in snaps],
            "state": _base64([s._flat[0] for s in snaps]),
            "grads": _base64([s._flat[1] for s in snaps]),
            "updates": _base64([s._flat[2] for s in snaps]),
            "neuron_images": [p[0] for p in pictures],
            "panel": [p[1] for p in pictures],
        }

    def _curves(self) -> dict[str, Any]:
        h = self._history
        loss = list(h.loss) if h is not None else []
        out: dict[str, Any] = {"step": list(range(1, len(loss) + 1)), "loss": loss,
                               "accuracy": list(h.accuracy) if h is not None else []}
        if self.validation is not None:
            held = [s for s in self.snapshots if s.val_loss is not None]
            out.update(val_step=[s.step for s in held], val_loss=[s.val_loss for s in held],
                       val_accuracy=[s.val_accuracy for s in held])
        else:
            out.update(val_step=list(h.val_steps) if h is not None else [],
                       val_loss=list(h.val_loss) if h is not None else [],
                       val_accuracy=list(h.val_accuracy) if h is not None else [])
        return out

    def _pictures(self, snaps: list[Snapshot]) -> list[_Shown]:
        """Each snapshot's pictures, drawn (all at once) for those that have none yet."""
        new = [s for s in snaps if s._pictures is None]
        if new:
            drawn = _draw_snapshots(self.model, [s._flat[0] for s in new], self.X, self.y,
                                    self.validation or self._run_validation())
            for snap, shown in zip(new, drawn):
                snap._pictures = shown
        return [s._pictures for s in snaps if s._pictures is not None]

    def _run_validation(self) -> tuple[list[list[float]], list[int]] | None:
        run = self._run
        if run is None or run.validation is None:
            return None
        return [[float(v) for v in x] for x in run.validation[0]], [int(t) for t in run.validation[1]]

    def _stepper_pages(self) -> dict[str, str]:
        last = self.snapshots[-1]
        if self._steppers is not None and self._steppers[0] == id(last):
            return self._steppers[1]
        pages: dict[str, str] = {}
        work = _net.model_with_state(self.model, last.state)
        acts = _net.layer_activations(work, self.X[0])
        for li, layer in enumerate(work.layers):
            for ni, neuron in enumerate(layer.neurons):
                if 2 * len(neuron.w) + 3 <= _STEPPER_NODES:
                    pages[f"{li + 1}:{ni}"] = _packed_page(_stepper_of(work, acts, li, ni).to_html())
        self._steppers = (id(last), pages)
        return pages

    def save_html(self, path: str | os.PathLike[str]) -> None:
        """Write the training page (``nn.views.page.render_page(self.payload())``): one
        self-contained HTML file that works offline, written atomically.

        Args:
            path: the file to write.
        """
        page = importlib.import_module("nn.views.page")
        atomic_write(path, page.render_page(self.payload()))

    # --- Jupyter ------------------------------------------------------------------------------

    def _push(self, steppers: bool) -> None:
        payload = self._payload(steppers=steppers)
        for widget in self._widgets:
            widget.payload = payload
        self._pushed = time.monotonic()

    def _still_html(self) -> str:
        last = self.snapshots[-1] if self.snapshots else None
        # an edge is a few hundred bytes of SVG: 64 -> 32 -> 10 drawn as edges would be 0.6 MB per output
        points = self.X if self.model.config["nin"] == 2 else None  # the decision panel, as on the page
        svg = _net.draw_network(self.model, snapshot=last, X=points, y=self.y if points is not None else None,
                                max_edges=STILL_EDGES).to_svg()
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
        what = f"step {last.step}, the last of {len(self.snapshots)} snapshots" if last else "no snapshots yet"
        return (f'<div class="vg-still"><img alt="the network ({what})" src="{uri}"><p style="font-family:sans-serif;'
                f'font-size:12px;color:#57606a;margin:4px 0">A still picture ({what}): run this in Jupyter with '
                "anywidget for the live view, or use .save_html(path) for a page that works in any browser.</p></div>")

    def _bundle(self, widget_view: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"text/plain": repr(self), "text/html": self._still_html()}
        if widget_view is not None:
            data[_WIDGET_MIME] = widget_view
        return data

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
        """The live widget (``nn.views.page.TrainingWidget``) where Jupyter widgets run, updated as
        snapshots are recorded; else a still picture of the last snapshot's network."""
        data = self._bundle(None)
        try:
            widget = importlib.import_module("nn.views.page").TrainingWidget(payload=self._payload(steppers=True))
            view = widget._repr_mimebundle_()
        except Exception:  # no anywidget, no page module, or no way to make a widget here: the picture it is
            return data
        self._widgets.append(widget)
        view_data, metadata = view if isinstance(view, tuple) else (view, {})
        if isinstance(view_data, dict) and _WIDGET_MIME in view_data:
            data[_WIDGET_MIME] = view_data[_WIDGET_MIME]
        return (data, metadata) if metadata else data

    def _ipython_display_(self) -> None:
        """Show the view (``display(view)``, or a cell ending in ``view``) with a display id.

        The bundle is :meth:`_repr_mimebundle_`'s. At the end of each run the view updates that
        display: the widget stays, and the still picture (what a frontend without widgets shows,
        and what a notebook executed without one keeps) becomes the run's last snapshot instead
        of the picture made when the view was shown, often before training started.
        """
        display = importlib.import_module("IPython.display").display
        bundle = self._repr_mimebundle_()
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        handle = display(data, metadata=metadata, raw=True, display_id=True)
        if handle is not None:
            self._displays.append((handle, data.get(_WIDGET_MIME)))


_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_STEPPER_NODES = 300  # autograd.show.stepper.DEFAULT_MAX_NODES: wider neurons get no stepper in the payload


def _base64(parts: list[array[float]]) -> str:
    joined = array("d")
    for part in parts:
        joined.extend(part)
    if sys.byteorder == "big":
        joined.byteswap()
    return base64.b64encode(joined.tobytes()).decode("ascii")


def _packed_page(html: str) -> str:
    """``html`` as a small page that unpacks it: the stepper's page gzip-compressed and base64-encoded,
    with a script that decompresses it (``DecompressionStream``) and writes it over itself.

    A stepper page is mostly repeated SVG and JSON and shrinks about six times, which keeps a
    payload holding every neuron's stepper within a few megabytes; shown in an ``<iframe srcdoc>``,
    the unpacked page is the stepper's ``to_html()`` exactly."""
    # level 2: level 9 makes pages 15% smaller and takes four times as long, for 30-40 pages a run
    packed = base64.b64encode(gzip.compress(html.encode("utf-8"), 2, mtime=0)).decode("ascii")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>valuegrad stepper</title></head>'
        "<body><script>\n(async function () {\n"
        f'  const packed = "{packed}";\n'
        "  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));\n"
        '  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));\n'
        "  const html = await new Response(stream).text();\n"
        "  document.open();\n  document.write(html);\n  document.close();\n"
        "})();\n</script></body></html>\n"
    )


def unpack_page(page: str) -> str:
    """The page a payload's stepper entry unpacks to in the browser (for tests and scripts).

    Args:
        page: an entry of ``payload()["steppers"]``.

    Returns:
        The stepper's ``to_html()`` text.
    """
    start = page.index('const packed = "') + len('const packed = "')
    return gzip.decompress(base64.b64decode(page[start:page.index('"', start)])).decode("utf-8")


def _neuron_stepper(model: MLP, state: dict[str, float], layer: int, index: int, x: list[float],
                    layout: str = "python") -> Stepper:
    """The stepper of neuron ``index`` of ``model.layers[layer]`` with ``state``'s weights, for input ``x``."""
    from nn.views.network import layer_activations, model_with_state

    work = model_with_state(model, state)
    return _stepper_of(work, layer_activations(work, x), layer, index, layout)


def _stepper_of(work: MLP, acts: list[list[float]], layer: int, index: int, layout: str = "python") -> Stepper:
    """The stepper of neuron ``index`` of ``work.layers[layer]`` given every column's values
    ``acts`` (``layer_activations``): one copy of the model serves all of a snapshot's neurons."""
    inputs = acts[layer]
    neuron = work.layers[layer].neurons[index]
    for j, w in enumerate(neuron.w):
        w.label = f"w{j}"
    neuron.b.label = "b"
    root = neuron._forward([Value(v, label=f"x{j}") for j, v in enumerate(inputs)])
    if neuron.activation == "linear":
        root.label = "z"
    else:
        root.parents[0].label = "z"
        root.label = neuron.activation
    return Stepper(root, max_nodes=max(_STEPPER_NODES, 4 * len(inputs) + 8), layout=layout)


# ---------------------------------------------------------------------------------------------
# The snapshots' pictures. With NumPy, every snapshot that needs them is drawn at once: one
# forward pass per layer over (snapshots x points), coloured a whole array at a time, and each
# image written by the one PNG rule (``_net.png_file``). Without NumPy, snapshot by snapshot with
# the engine and the one-pixel rules (``_net.signed_image``, ``_net.decision_colour``,
# ``predict_class``), which the NumPy code is tested against.

_Shown = tuple[dict[str, str], str | None]
"""A snapshot's pictures: each neuron's heatmap (two-input models) by id, and the panel."""


@functools.lru_cache(maxsize=8)
def _grid(extent: tuple[float, float, float, float], n: int) -> list[list[float]]:
    """``_net.plane_grid``, made once per extent: every snapshot of a view draws the same grid."""
    return _net.plane_grid(extent, n)


def _draw_snapshots(model: MLP, states: list[array[float]], X: list[list[float]], y: list[int],
                    held: tuple[list[list[float]], list[int]] | None) -> list[_Shown]:
    """The pictures of the snapshots whose weights are ``states``: for a two-input model every
    hidden and output neuron's heatmap (layers drawn as strips have none) and the decision over
    the plane; otherwise a confusion matrix on ``held`` (or the training rows).

    Raises:
        ValueError: a neuron's output at a point of the plane is not a finite number.
    """
    try:
        import numpy as np
    except ImportError:
        return [_draw_snapshot(model, list(state), X, y, held) for state in states]
    # a few snapshots at a time: the arrays stay in the processor's cache, and small enough to
    # be reused from the heap instead of fresh memory (a 100-snapshot batch took twice as long)
    return [shown for at in range(0, len(states), _CHUNK)
            for shown in _draw_chunk(np, model, states[at:at + _CHUNK], X, y, held)]


_CHUNK = 16
"""Snapshots drawn per batch of arrays (with 16 x 16 and 48 x 48 grids: about 2 MB an array)."""


def _draw_chunk(np: Any, model: MLP, states: list[array[float]], X: list[list[float]], y: list[int],
                held: tuple[list[list[float]], list[int]] | None) -> list[_Shown]:
    flat = np.frombuffer(b"".join(state.tobytes() for state in states), dtype=np.float64).reshape(len(states), -1)
    widths = [model.config["nin"], *model.config["nouts"]]
    if widths[0] != 2:
        Xs, ys = held if held is not None else (X, y)
        out = _forward_all(model, flat, np.asarray(Xs, dtype=np.float64))[-1]
        return [({}, _confusion_uri(classes, ys, widths[-1])) for classes in _classes(out, threshold_of(model))]
    g, pg = _net.GRID, _net.PANEL_GRID
    columns, decision = _over_the_plane(np, model, flat, X)
    for values in [*columns[1:], decision]:
        if not np.isfinite(values).all():
            bad = values[~np.isfinite(values)][0]
            raise ValueError(f"a neuron's output over the input plane is {bad!r}, not a finite number: "
                             "the snapshot's pictures cannot be drawn")
    shown: list[_Shown] = [({}, None) for _ in states]
    for c in range(1, len(widths)):
        if widths[c] > _net.STRIP_WIDTH:
            continue  # drawn as a strip, without heatmaps
        uris = _png_uris(_signed_rgb(columns[c]), g)  # (snapshots, neurons)
        for k, row in enumerate(uris):
            shown[k][0].update((f"{c}:{i}", uri) for i, uri in enumerate(row))
    panels = _png_uris(_decision_of(model, decision), pg)
    return [(images, panel[0]) for (images, _), panel in zip(shown, panels)]


def _last_pictures(model: MLP, state: array[float], X: list[list[float]]) -> _net.Pictures | None:
    """A two-input model's heatmaps and panel under ``state`` as ``draw_network``'s images (the
    training page's network, drawn by the same code as the snapshots); None without NumPy."""
    try:
        import numpy as np
    except ImportError:
        return None
    g, pg = _net.GRID, _net.PANEL_GRID
    columns, decision = _over_the_plane(np, model, np.frombuffer(state.tobytes(), dtype=np.float64)[None], X)
    if not all(np.isfinite(v).all() for v in [*columns, decision]):
        return None
    heats = []
    for values in columns:  # the inputs' column is (points, 2): the same for every snapshot
        rgb = _signed_rgb(values if values.ndim == 3 else values[None])[0]
        heats.append([_net.Image(g, g, image.tobytes()) for image in rgb])
    return heats, _net.Image(pg, pg, _decision_of(model, decision)[0, 0].tobytes())


def _over_the_plane(np: Any, model: MLP, flat: Any, X: list[list[float]]) -> tuple[list[Any], Any]:
    """A two-input model's values over the plane around ``X`` under each row of ``flat``: every
    column at the heatmaps' GRID x GRID points (``_forward_all``), and the outputs at the
    panel's PANEL_GRID x PANEL_GRID points."""
    extent = _net.plane_extent(X, None)
    columns = _forward_all(model, flat, np.asarray(_grid(extent, _net.GRID), dtype=np.float64))
    decision = _forward_all(model, flat, np.asarray(_grid(extent, _net.PANEL_GRID), dtype=np.float64))[-1]
    return columns, decision


def _decision_of(model: MLP, decision: Any) -> Any:
    """``_decision_rgb`` of ``model``'s outputs, with its threshold and output activation."""
    return _decision_rgb(decision, threshold_of(model), model.config["output_activation"] == "sigmoid")


def _forward_all(model: MLP, flat: Any, points: Any) -> list[Any]:
    """Every column's values at ``points`` (n x nin) under each row of ``flat`` (snapshots x
    parameters, ``state_dict`` order): the inputs (n x nin), then each layer's outputs as arrays
    of shape (snapshots, n, width)."""
    import numpy as np

    h = points
    columns = [points]
    at = 0
    for layer in model.layers:
        n_out, n_in = len(layer.neurons), len(layer.neurons[0].w)
        block = flat[:, at:at + n_out * (n_in + 1)].reshape(len(flat), n_out, n_in + 1)
        at += n_out * (n_in + 1)
        with np.errstate(all="ignore"):  # inf and nan are the caller's to refuse, not warnings
            z = np.matmul(h, block[:, :, :-1].transpose(0, 2, 1)) + block[:, None, :, -1]
            h = _activation_of_arrays(layer.neurons[0].activation, z)
        columns.append(h)
    return columns


def _activation_of_arrays(kind: str, z: Any) -> Any:
    """The activation ``kind`` on an array, by its op's record (``array_forward``): the one the
    batch replay runs, with the constant the activation folds in (a leaky ReLU's slope)."""
    node = ACTIVATION_TABLE[kind].apply(Value(0.5))
    if not node.parents:
        return z  # linear: the weighted sum itself
    prim = REGISTRY[node.op]
    if prim.array_forward is None:
        raise ValueError(f"the {kind!r} activation's op {node.op!r} has no array form to draw it with")
    return prim.array_forward(z, *(() if node.const is None else (node.const,)))


def _signed_rgb(values: Any) -> Any:
    """``_net.signed_image``'s colours for every neuron of every snapshot: ``values`` of shape
    (snapshots, points, neurons), each neuron scaled by its own largest magnitude; returns uint8
    of shape (snapshots, neurons, points, 3)."""
    import numpy as np

    top = _net.COLOUR_LEVELS - 1
    pos = np.frombuffer(b"".join(_net._LUT_POS), dtype=np.uint8).reshape(-1, 3)
    neg = np.frombuffer(b"".join(_net._LUT_NEG), dtype=np.uint8).reshape(-1, 3)
    v = np.moveaxis(values, -1, 1)  # (snapshots, neurons, points)
    scale = np.abs(v).max(axis=2, keepdims=True)
    k = np.divide(top, scale, out=np.zeros_like(scale), where=scale > 0)
    up = np.minimum(top, np.floor(v * k + 0.5)).astype(np.intp)  # int() of a non-negative float
    down = np.minimum(top, np.floor(-v * k + 0.5)).astype(np.intp)
    return np.where((v >= 0)[..., None], pos[np.maximum(up, 0)], neg[np.maximum(down, 0)])


def _decision_rgb(out: Any, threshold: float, sigmoid: bool) -> Any:
    """``_net.decision_colour`` for every point of every snapshot: ``out`` of shape (snapshots,
    points, outputs); returns uint8 of shape (snapshots, 1, points, 3). NumPy's tanh may differ
    from ``math.tanh`` in the last bit, which moves a pixel only where that bit crosses the
    rounding of its 8-bit colour."""
    import numpy as np

    if out.shape[-1] == 1:
        d = out[..., 0] - threshold
        t = 2 * d if sigmoid else np.tanh(d)
        strength = 0.15 + 0.45 * np.abs(t)
        rgb = np.where((t > 0)[..., None], _mixed(_net.CLASS_COLOURS[0], strength),
                       _mixed(_net.CLASS_COLOURS[1], strength))
    else:
        table = np.array([_net.mix(c, 0.45) for c in _net.CLASS_COLOURS], dtype=np.uint8)
        rgb = table[np.argmax(out, axis=-1) % len(_net.CLASS_COLOURS)]  # the first largest, as max() takes
    return rgb[:, None]


def _mixed(colour: Any, t: Any) -> Any:
    """``_net.mix(colour, t)`` for an array of ``t``: rows of 3 bytes."""
    import numpy as np

    t = np.minimum(1.0, np.maximum(0.0, t))[..., None]
    c = np.asarray(colour, dtype=np.float64)
    return np.rint(255 + (c - 255) * t).astype(np.uint8)  # round() and rint both round half to even


def _classes(out: Any, threshold: float) -> Any:
    """``predict_class`` of every row of every snapshot: ``out`` of shape (snapshots, rows,
    outputs); returns (snapshots, rows) ints. Non-finite scores compare as ``predict_class``
    compares them (nan is never above the threshold; argmax would pick it)."""
    import numpy as np

    if out.shape[-1] == 1:
        return (out[..., 0] > threshold).astype(np.intp)
    if np.isnan(out).any():
        return np.array([[predict_class([float(v) for v in row]) for row in snap] for snap in out], dtype=np.intp)
    return np.argmax(out, axis=-1)


def _png_uris(rgb: Any, width: int) -> list[list[str]]:
    """``rgb`` (a, b, pixels, 3) uint8 as a x b PNG data URIs of ``width``-pixel rows."""
    import numpy as np

    a, b, n, _ = rgb.shape
    rows = rgb.reshape(a, b, n // width, width * 3)
    lines = np.concatenate([np.zeros((a, b, n // width, 1), dtype=np.uint8), rows], axis=3)
    size = lines.shape[2] * lines.shape[3]
    raw = lines.tobytes()
    out = []
    for i in range(a):
        row = []
        for j in range(b):
            at = (i * b + j) * size
            png = _net.png_file(width, n // width, raw[at:at + size])
            row.append("data:image/png;base64," + base64.b64encode(png).decode("ascii"))
        out.append(row)
    return out


def _confusion_uri(predicted: Any, y: list[int], n_out: int) -> str:
    """The confusion matrix of ``predicted`` against ``y`` as a picture: row = true class,
    column = predicted; each cell's intensity is its share of the row (blue on the diagonal,
    orange off it)."""
    k = max(2, n_out)
    counts = [[0] * k for _ in range(k)]
    for t, p in zip(y, predicted):
        if 0 <= t < k:
            counts[t][int(p)] += 1
    pixels = bytearray()
    for r in range(k):
        total = sum(counts[r]) or 1
        line = b"".join(bytes(_net.mix(_net.POSITIVE if r == c else _net.NEGATIVE, counts[r][c] / total)) * CELL
                        for c in range(k))
        pixels += line * CELL
    return _net.png_data_uri(_net.Image(k * CELL, k * CELL, bytes(pixels)))


def _draw_snapshot(model: MLP, state: list[float], X: list[list[float]], y: list[int],
                   held: tuple[list[list[float]], list[int]] | None) -> _Shown:
    """One snapshot's pictures with the engine, point by point (without NumPy)."""
    work = _net.model_with_state(model, dict(zip(model.state_dict(), state)))
    widths = [model.config["nin"], *model.config["nouts"]]
    threshold = threshold_of(model)
    if widths[0] != 2:
        Xs, ys = held if held is not None else (X, y)
        return {}, _confusion_uri([predict_class(_net.layer_activations(work, x)[-1], threshold) for x in Xs], ys,
                                  widths[-1])
    extent = _net.plane_extent(X, None)
    g, pg = _net.GRID, _net.PANEL_GRID
    per_point = [_net.layer_activations(work, p) for p in _grid(extent, g)]
    images: dict[str, str] = {}
    for c in range(1, len(widths)):
        if widths[c] > _net.STRIP_WIDTH:
            continue
        for i in range(widths[c]):
            values = [acts[c][i] for acts in per_point]
            scale = max(abs(v) for v in values)
            images[f"{c}:{i}"] = _net.png_data_uri(_net.signed_image([values[r * g:(r + 1) * g] for r in range(g)],
                                                                     scale))
    sigmoid = model.config["output_activation"] == "sigmoid"
    panel = b"".join(bytes(_net.decision_colour(_net.layer_activations(work, p)[-1], threshold, sigmoid))
                     for p in _grid(extent, pg))
    return images, _net.png_data_uri(_net.Image(pg, pg, panel))
