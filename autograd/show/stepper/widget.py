"""A stepper in Jupyter: the ``anywidget`` class, made on first use, and the notebook display.

``StepperWidget`` (an ``anywidget.AnyWidget``) runs the saved page's script
(``autograd/show/stepper/assets/stepper.js``) on the viewer's markup and spec from
:mod:`autograd.show.stepper.render`; ``anywidget`` and ``traitlets`` are imported only when the
class is first needed. :func:`mimebundle` is what a notebook displays: the widget where widgets run,
with a still picture and a one-line hint as the fallback, or just the fallback without anywidget.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from autograd._extras import install_hint
from autograd.show.stepper.layout import Layout
from autograd.show.stepper.render import asset, markup, spec, to_svg
from autograd.show.stepper.states import Plan

__all__ = ["WIDGET_MIME", "fallback_html", "make_widget", "mimebundle", "widget_class"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_widget_cls: Any = None


def widget_class() -> Any:
    """``StepperWidget``, an ``anywidget.AnyWidget`` made on first use (anywidget is imported only then).

    Returns:
        The class: its ``spec`` trait is what it draws, its ``step`` trait the step shown.

    Raises:
        ImportError: ``anywidget`` is not installed.
    """
    global _widget_cls
    if _widget_cls is None:
        try:
            import anywidget
            import traitlets
        except ImportError as exc:
            raise ImportError(
                f"the interactive stepper needs anywidget: {install_hint('anywidget')}; "
                "Stepper.save_html(path) works without it"
            ) from exc
        esm = (
            asset("stepper.js")
            + "\nexport default {\n  render({ model, el }) {\n"
            + '    const spec = JSON.parse(model.get("spec"));\n'
            + "    el.innerHTML = spec.markup;\n"
            + "    return valuegradStepper(el.firstElementChild, spec, model, false);\n  },\n};\n"
        )
        _widget_cls = type(
            "StepperWidget",
            (anywidget.AnyWidget,),
            {
                "__module__": __name__,
                "__doc__": "The Jupyter widget of a Stepper: ``spec`` is what it draws, ``step`` the step shown.",
                "_esm": esm,
                "_css": asset("viewer.css"),
                "spec": traitlets.Unicode("").tag(sync=True),
                "step": traitlets.Int(0).tag(sync=True),
            },
        )
    return _widget_cls


def make_widget(plan: Plan, layout: Layout) -> Any:
    """A new widget showing step 0 of a stepper.

    Args:
        plan: the stepper's steps.
        layout: where its nodes and edges go.

    Returns:
        A ``StepperWidget``.

    Raises:
        ImportError: ``anywidget`` is not installed.
    """
    cls = widget_class()
    data = spec(plan)
    data["markup"] = markup(plan, layout, 0)
    return cls(spec=json.dumps(data), step=0)


def fallback_html(plan: Plan, layout: Layout) -> str:
    """The still picture after the last step, with a hint, for where widgets cannot run.

    Args:
        plan: the stepper's steps.
        layout: where its nodes and edges go.

    Returns:
        One ``<div>``.
    """
    n = len(plan)
    return (f'<div class="vg-still">{to_svg(plan, layout, highlight=False)}<p style="font-family:sans-serif;'
            'font-size:12px;color:#57606a;margin:4px 0">'
            f"A still picture after all {n} steps: run this in Jupyter with anywidget to step through the "
            "backward pass, or use .save_html(path) for a page that works in any browser.</p></div>")


def mimebundle(text: str, plan: Plan, layout: Layout,
               widget: Callable[[], Any]) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
    """What a notebook displays for a stepper (its ``_repr_mimebundle_``).

    Args:
        text: the plain-text form.
        plan: the stepper's steps.
        layout: where its nodes and edges go.
        widget: returns the stepper's widget (made once, then the same one).

    Returns:
        The widget where Jupyter widgets run, with a still picture (SVG) and a hint as the fallback
        for renderers without widgets; just the fallback if the widget cannot be made.
    """
    data: dict[str, Any] = {
        "text/plain": text,
        "image/svg+xml": to_svg(plan, layout, highlight=False),
        "text/html": fallback_html(plan, layout),
    }
    try:
        view = widget()._repr_mimebundle_()
    except Exception:  # no anywidget, or no way to make a widget here: the still picture it is
        return data
    view_data, metadata = view if isinstance(view, tuple) else (view, {})
    if isinstance(view_data, dict) and WIDGET_MIME in view_data:
        data[WIDGET_MIME] = view_data[WIDGET_MIME]
    return (data, metadata) if metadata else data
