"""The training page and widget: one view of a training run, scrubbed snapshot by snapshot.

:func:`render_page` turns a training view's payload (``TrainingView.payload()``, version 1) into
one self-contained HTML document that works offline; :data:`TrainingWidget` is the Jupyter widget
(an ``anywidget.AnyWidget``, made on first use) whose ``payload`` trait Python re-sends as training
goes. Both run the same JavaScript (``nn/views/assets/training.js``): loss and accuracy curves, the
network drawn by :func:`~nn.views.network.draw_network` with its edges re-coloured for the shown
snapshot and mode, each snapshot's neuron heatmaps and panel, play / pause, previous / next, a
slider, and each neuron's backprop stepper on click.

Hooks (for tests and scripts): the root ``[data-valuegrad-network]`` with ``data-snapshot`` (index
shown, ``-1`` before the first) and ``data-snapshots`` (count); controls ``[data-action="play"]``,
``"prev"``, ``"next"``, ``"seek"`` (the slider), ``"mode"`` (the select); fields
``[data-field="step"|"loss"|"accuracy"|"val_loss"|"val_accuracy"]`` whose ``data-value`` is
Python's ``repr`` of the number (``""`` for none); edges keep draw_network's ``data-edge`` and get
``data-weight``, ``data-grad`` and ``data-update`` of the shown snapshot; a clicked neuron's stepper
appears in ``[data-valuegrad-stepper]``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from nn.views.network import COLOUR_LEVELS, NEGATIVE, POSITIVE, mix

__all__ = ["check_payload", "render_page"]

PAYLOAD_VERSION = 1
EDGE_ZERO = (170, 170, 170)
"""draw_network's colour for an edge whose quantity is zero or unknown."""
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; frame-src data:"
_SNAPSHOT_LISTS = ("step", "loss", "accuracy", "val_loss", "val_accuracy", "neuron_images", "panel")
_ARRAYS = ("state", "grads", "updates")


def _asset(name: str) -> str:
    return (resources.files("nn") / "views" / "assets" / name).read_text(encoding="utf-8")


def _palette() -> dict[str, Any]:
    """draw_network's colours, for the script: edge colours and the heatmap's 64-level tables."""
    top = COLOUR_LEVELS - 1
    return {
        "positive": list(POSITIVE),
        "negative": list(NEGATIVE),
        "zero": list(EDGE_ZERO),
        "levels": COLOUR_LEVELS,
        "lutPositive": [list(mix(POSITIVE, k / top)) for k in range(COLOUR_LEVELS)],
        "lutNegative": [list(mix(NEGATIVE, k / top)) for k in range(COLOUR_LEVELS)],
    }


def _jsonable(value: Any) -> Any:
    """``value`` with every non-finite float written as ``"nan"``, ``"inf"`` or ``"-inf"``.

    JSON has no NaN or infinity, and Jupyter refuses to send them; the script reads the strings
    back as numbers.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _script_json(value: object) -> str:
    """JSON that is safe inside ``<script>``: no ``<`` at all, so no ``</script>`` or ``<!--``."""
    return json.dumps(_jsonable(value), ensure_ascii=True, allow_nan=False).replace("<", "\\u003c")


def _part(payload: Mapping[str, Any], name: str, owner: str = "payload") -> Mapping[str, Any]:
    part = payload.get(name)
    if not isinstance(part, Mapping):
        raise ValueError(f"{owner}[{name!r}] must be a dict, got {type(part).__name__} "
                         "(see TrainingView.payload() for the layout)")
    return part


def check_payload(payload: Any) -> None:
    """Check that ``payload`` has the layout of ``TrainingView.payload()`` (version 1).

    Checks the parts the page reads: the version, the network's SVG and per-key lists, the
    snapshot lists (one entry per snapshot) and the three float64 arrays (``n`` x parameters).

    Args:
        payload: the dict to check.

    Raises:
        TypeError: ``payload`` is not a dict.
        ValueError: a part is missing or has the wrong type or length; the message names it.
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"a training payload must be a dict (TrainingView.payload()), got {type(payload).__name__}")
    version = payload.get("version")
    if version != PAYLOAD_VERSION:
        raise ValueError(f"payload['version'] must be {PAYLOAD_VERSION}, got {version!r}")
    network = _part(payload, "network")
    if not isinstance(network.get("svg"), str):
        raise ValueError("payload['network']['svg'] must be the SVG text of draw_network()")
    keys = network.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError("payload['network']['keys'] must be a list of state_dict keys (strings)")
    for name in ("edge_of_key", "matrix_of_key"):
        per_key = network.get(name)
        if not isinstance(per_key, list) or len(per_key) != len(keys):
            raise ValueError(f"payload['network'][{name!r}] must be a list with one entry per key ({len(keys)})")
    snapshots = _part(payload, "snapshots")
    n = snapshots.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"payload['snapshots']['n'] must be a non-negative int, got {n!r}")
    for name in _SNAPSHOT_LISTS:
        values = snapshots.get(name)
        if not isinstance(values, list) or len(values) != n:
            got = f"{len(values)} entries" if isinstance(values, list) else type(values).__name__
            raise ValueError(f"payload['snapshots'][{name!r}] must be a list of {n} entries (one per snapshot), "
                             f"got {got}")
    for name in _ARRAYS:
        text = snapshots.get(name)
        if not isinstance(text, str):
            raise ValueError(f"payload['snapshots'][{name!r}] must be base64 text of float64 values")
        try:
            size = len(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"payload['snapshots'][{name!r}] is not valid base64: {e}") from None
        if size != 8 * n * len(keys):
            raise ValueError(f"payload['snapshots'][{name!r}] holds {size} bytes, expected 8 x {n} snapshots x "
                             f"{len(keys)} keys = {8 * n * len(keys)}")
    curves = _part(payload, "curves")
    for name in ("step", "loss", "accuracy", "val_step", "val_loss", "val_accuracy"):
        if not isinstance(curves.get(name), list):
            raise ValueError(f"payload['curves'][{name!r}] must be a list")
    steppers = _part(payload, "steppers")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in steppers.items()):
        raise ValueError("payload['steppers'] must map neuron ids ('L:i') to HTML text")


def render_page(payload: Mapping[str, Any]) -> str:
    """One self-contained HTML document showing a training run (no network access needed).

    Args:
        payload: a training view's payload (``TrainingView.payload()``, version 1).

    Returns:
        The page's text: the script, the style and the payload are all inline, and a Content
        Security Policy forbids loading anything else.

    Raises:
        TypeError: ``payload`` is not a dict.
        ValueError: ``payload`` does not have the version 1 layout (the message names the part).
    """
    check_payload(payload)
    title = payload.get("title")
    heading = escape(f"valuegrad training: {title}" if isinstance(title, str) and title else "valuegrad training")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{heading}</title>\n"
        f"<style>\nbody {{ margin: 16px; background: #ffffff; }}\n{_asset('training.css')}</style>\n"
        "</head>\n<body>\n"
        '<div id="valuegrad-training"></div>\n'
        f'<script type="application/json" id="valuegrad-training-data">{_script_json(payload)}</script>\n'
        f'<script type="application/json" id="valuegrad-training-palette">{_script_json(_palette())}</script>\n'
        "<script>\n(function () {\n"
        f"{_asset('training.js')}\n"
        'const read = (id) => JSON.parse(document.getElementById(id).textContent);\n'
        'const host = document.getElementById("valuegrad-training");\n'
        "window.valuegradTrainingPage = { pyRepr, decodeFloats, host };\n"
        'valuegradTraining(host, read("valuegrad-training-data"), null, read("valuegrad-training-palette"));\n'
        "})();\n</script>\n"
        "</body>\n</html>\n"
    )


_widget_cls: Any = None


def _widget_class() -> Any:
    """``TrainingWidget``, an ``anywidget.AnyWidget`` made on first use (anywidget is imported only then)."""
    global _widget_cls
    if _widget_cls is None:
        try:
            import anywidget
            import traitlets
        except ImportError as exc:
            raise ImportError(
                "the live training view needs anywidget: pip install anywidget ipywidgets "
                "(or valuegrad[notebooks]); render_page(payload) works without it"
            ) from exc

        def checked(self: Any, proposal: Any) -> dict[str, Any]:
            value = proposal["value"]
            if value:  # {} is the widget before its first snapshot
                check_payload(value)
            result: dict[str, Any] = _jsonable(value)
            return result

        esm = (
            _asset("training.js")
            + f"\nconst VALUEGRAD_PALETTE = {_script_json(_palette())};\n"
            + "export default {\n  render({ model, el }) {\n"
            + '    return valuegradTraining(el, model.get("payload"), model, VALUEGRAD_PALETTE);\n  },\n};\n'
        )
        _widget_cls = type(
            "TrainingWidget",
            (anywidget.AnyWidget,),
            {
                "__module__": __name__,
                "__doc__": "The Jupyter widget of a training view: ``payload`` (``TrainingView.payload()``) is "
                           "what it shows; setting a newer one updates the view in place.",
                "_esm": esm,
                "_css": _asset("training.css"),
                "payload": traitlets.Dict().tag(sync=True),
                "_check_payload": traitlets.validate("payload")(checked),
            },
        )
    return _widget_cls


def __getattr__(name: str) -> Any:
    # TrainingWidget is made on first use, so importing this module never imports anywidget
    if name == "TrainingWidget":
        return _widget_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
