"""Ways of showing a graph: text, explanations, drawings, the stepper and SymPy formulas.

- ``text``: how nodes, numbers and ops read, shared by everything below;
- ``explain``: where a node's value and gradient came from, in words;
- ``dot``: ``draw_dot``, through Graphviz; ``fallback``: the same drawing in pure Python;
- ``stepper``: the backward pass, one edge at a time, in a notebook or a page;
- ``symbolic``: ``to_sympy``.

``import autograd`` loads none of this; ``autograd.draw_dot``, ``autograd.Stepper`` and
``autograd.to_sympy`` load it on first use.
"""
