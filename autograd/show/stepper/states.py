"""The steps of a stepper as data: what each step does, and what the viewer shows after it.

:class:`Plan` turns the records of ``root.backward_steps(grad)`` (and, with ``forward=True``, a
forward pass of one node per step and a seeding step first) into :class:`Move`\\ s, and answers
everything about step ``k`` without drawing anything: the :class:`StepperState` (every node's data
and grad, which gradients are complete), the line of text the viewer shows, and what clicking a
node shows. The layout (:mod:`autograd.show.stepper.layout`) and the pictures and pages
(:mod:`autograd.show.stepper.render`) read a plan; nothing here knows about either.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from autograd.backward import Step, require_value
from autograd.show.explain import explain, explain_with_uses
from autograd.show.text import name_of, number, op_text

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["QUIZ_MODES", "Move", "Plan", "StepperState", "answer_range", "quiz_mode"]

_BINARY = frozenset({"+", "-", "*", "/", "**"})

QUIZ_MODES = (False, True, "grad", "both")
"""What ``Stepper(quiz=...)`` accepts: no quiz, the parent's new grad (``True`` = ``'grad'``), or that
and the local gradient (``'both'``)."""

QUIZ_RTOL = 1e-3
"""How far a typed answer may be from a non-integer recorded value, relative to it."""


def quiz_mode(quiz: object) -> str | None:
    """The quiz a stepper asks: ``None`` (no quiz), ``'grad'`` or ``'both'``.

    Args:
        quiz: ``False``, ``True``, ``'grad'`` or ``'both'``.

    Returns:
        ``None`` for ``False``, ``'grad'`` for ``True`` or ``'grad'``, ``'both'`` for ``'both'``.

    Raises:
        ValueError: any other value (``1`` and ``'Grad'`` included).
    """
    if quiz is False:
        return None
    if quiz is True or (isinstance(quiz, str) and quiz == "grad"):
        return "grad"
    if isinstance(quiz, str) and quiz == "both":
        return "both"
    raise ValueError(f"Stepper quiz must be one of False, True, 'grad' or 'both', got {quiz!r}")


def answer_range(x: float) -> tuple[float, float]:
    """The typed numbers a quiz accepts for the recorded value ``x``, as an interval.

    An integer (``-6.0``) must be typed exactly; any other finite value may be off by
    ``QUIZ_RTOL`` of itself; ``inf``, ``-inf`` and ``nan`` only match themselves (``(nan, nan)``
    means "type nan"). The page only compares the typed number with these two bounds, so what counts
    as right is decided here, next to the record, not in the browser.

    Args:
        x: the recorded value.

    Returns:
        ``(low, high)``, both included.
    """
    if math.isnan(x) or math.isinf(x) or x.is_integer():
        return x, x
    slack = abs(x) * QUIZ_RTOL
    return x - slack, x + slack


class StepperState(NamedTuple):
    """What the viewer shows after ``k`` steps (see :meth:`Stepper.states`).

    Tuples are indexed like ``topological_order(root)``, the root last.
    """

    k: int
    """The number of steps taken, 0 to ``len(stepper)``."""
    kind: str
    """What step ``k`` did: ``'start'`` (k = 0), ``'forward'`` (computed a node), ``'seed'`` (set the
    root's gradient) or ``'backward'`` (applied ``record``)."""
    record: Step | None
    """The ``backward_steps()`` record step ``k`` applied, for a ``'backward'`` step."""
    node: Value | None
    """The node step ``k`` acted on: computed, seeded, or passing its gradient on (``record.node``)."""
    data: tuple[float | None, ...]
    """Every node's ``data``; ``None`` while a ``forward=True`` pass has not computed it yet."""
    grads: tuple[float, ...]
    """Every node's ``grad`` after ``k`` steps."""
    complete: tuple[bool, ...]
    """Whether every node's gradient is complete: all of its uses applied (the root: seeded)."""
    line: str
    """The line the viewer shows for this step, e.g. the chain rule of ``record``."""


class Move(NamedTuple):
    """One step of the viewer, by node index: ``parent``/``slot`` are -1 unless it is a backward step."""

    kind: str
    """``'forward'``, ``'seed'`` or ``'backward'``."""
    node: int
    """The node computed, seeded, or passing its gradient on."""
    parent: int
    """For a backward step, the parent that receives a gradient."""
    slot: int
    """For a backward step, which of ``node``'s parents that is (its position among them)."""
    record: Step | None
    """For a backward step, the ``backward_steps()`` record."""
    value: float
    """Forward: the node's data; seed: the root's grad; backward: the parent's new grad."""


class Plan:
    """Every step of a stepper and what the viewer shows after each, as data.

    Made while the graph holds the gradients of a complete fresh pass (each node's final
    ``explain()`` text is taken then); the plan itself never touches a ``.grad`` afterwards.

    Args:
        root: the output Value.
        nodes: ``topological_order(root)``.
        steps: the records of ``root.backward_steps(grad)`` on a fresh pass, in order.
        grad: the seed of the pass.
        forward: whether the forward pass is walked first, one node per step, then seeded.
        quiz: the quiz the viewer asks at each backward step (see :func:`quiz_mode`): ``None``,
            ``'grad'`` or ``'both'``.
    """

    def __init__(self, root: Value, nodes: list[Value], steps: list[Step], grad: float, forward: bool,
                 quiz: str | None = None) -> None:
        self.root = root
        self.quiz = quiz
        self.nodes = nodes
        self.steps = steps
        self.grad = grad
        self.forward = forward
        self.index = {id(n): i for i, n in enumerate(nodes)}
        """Node index by ``id()``."""
        uses: dict[int, list[tuple[Value, float]]] = {id(n): [] for n in nodes}
        for child in nodes:  # every use of every node, in one walk of the graph
            for p, local in zip(child.parents, child.local_grads):
                uses[id(p)].append((child, local))
        # every gradient complete
        self.finals = [explain_with_uses(n, root, None if n is root else uses[id(n)]) for n in nodes]
        """Every node's ``explain()`` text once its gradient is complete."""
        self.headers = [_header(n) for n in nodes]
        """How every node was computed (``explain()`` without its gradient)."""
        self.moves = self._moves()
        """Every step, in order: step ``k`` is ``moves[k - 1]``."""
        self.uses = [0] * len(nodes)
        """How many backward steps send a gradient to each node."""
        for move in self.moves:
            if move.kind == "backward":
                self.uses[move.parent] += 1

    def _moves(self) -> list[Move]:
        moves: list[Move] = []
        if self.forward:
            moves += [Move("forward", i, -1, -1, None, n.data) for i, n in enumerate(self.nodes)]
            moves.append(Move("seed", len(self.nodes) - 1, -1, -1, None, self.grad))
        slot, previous = 0, None
        for record in self.steps:
            slot = slot + 1 if record.node is previous else 0
            previous = record.node
            node, parent = self.index[id(record.node)], self.index[id(record.parent)]
            moves.append(Move("backward", node, parent, slot, record, record.parent_grad))
        return moves

    def __len__(self) -> int:
        """The number of steps."""
        return len(self.moves)

    def start_grads(self) -> list[float]:
        """Every node's gradient before the first step: the root's is the seed unless the forward
        pass comes first.

        Returns:
            One gradient per node.
        """
        grads = [0.0] * len(self.nodes)
        if not self.forward:
            grads[-1] = self.grad
        return grads

    def states(self) -> list[StepperState]:
        """The view after each step ``k = 0 .. len(self)``.

        Returns:
            ``len(self) + 1`` states; their grads are those of ``backward_steps()`` bit for bit.
        """
        grads = self.start_grads()
        shown = [not self.forward] * len(self.nodes)
        applied = [0] * len(self.nodes)
        seeded = not self.forward
        out = [self._state(0, "start", None, None, shown, grads, applied, seeded)]
        for k, move in enumerate(self.moves, 1):
            seeded = self._apply(move, shown, grads, applied) or seeded
            out.append(self._state(k, move.kind, move.record, self.nodes[move.node], shown, grads, applied, seeded))
        return out

    def state(self, k: int) -> StepperState:
        """``states()[k]``, without making the others.

        Args:
            k: a step number, already checked.

        Returns:
            The view after step ``k``.
        """
        grads = self.start_grads()
        shown = [not self.forward] * len(self.nodes)
        applied = [0] * len(self.nodes)
        seeded = not self.forward
        for move in self.moves[:k]:
            seeded = self._apply(move, shown, grads, applied) or seeded
        if k == 0:
            return self._state(0, "start", None, None, shown, grads, applied, seeded)
        move = self.moves[k - 1]
        return self._state(k, move.kind, move.record, self.nodes[move.node], shown, grads, applied, seeded)

    @staticmethod
    def _apply(move: Move, shown: list[bool], grads: list[float], applied: list[int]) -> bool:
        """Carry ``move`` out on the view's lists; whether it was the seed."""
        if move.kind == "forward":
            shown[move.node] = True
        elif move.kind == "seed":
            grads[move.node] = move.value
            return True
        else:
            grads[move.parent] = move.value
            applied[move.parent] += 1
        return False

    def _state(self, k: int, kind: str, record: Step | None, node: Value | None, shown: list[bool],
               grads: list[float], applied: list[int], seeded: bool) -> StepperState:
        data = tuple(n.data if s else None for n, s in zip(self.nodes, shown))
        complete = tuple(seeded and a == u for a, u in zip(applied, self.uses))
        return StepperState(k, kind, record, node, data, tuple(grads), complete, self.lines(k)[0])

    def check_step(self, k: int) -> int:
        """``k`` if it is a step number of this plan.

        Args:
            k: a step number, 0 to ``len(self)``.

        Returns:
            ``k``.

        Raises:
            TypeError: ``k`` is not an int.
            ValueError: ``k`` is out of range.
        """
        if not isinstance(k, int) or isinstance(k, bool):
            raise TypeError(f"a step number must be an int, got {type(k).__name__}")
        if not 0 <= k <= len(self):
            raise ValueError(f"step {k} is out of range: this stepper has steps 0 to {len(self)}")
        return k

    def lines(self, k: int) -> tuple[str, str]:
        """The line for step ``k``, rounded for reading and with exact values (the hover text).

        Args:
            k: a step number, already checked.

        Returns:
            The line as shown, and the same line with every number exact.
        """
        root = name_of(self.root)
        if k == 0:
            if self.forward:
                text = "nothing is computed yet: step through the forward pass with → or next"
                return text, text
            tail = ": the backward pass starts at the root; step through the chain rule with → or next"
            return f"{root}.grad = {number(self.grad)}{tail}", f"{root}.grad = {self.grad!r}{tail}"
        move = self.moves[k - 1]
        node = self.nodes[move.node]
        name = name_of(node)
        if move.kind == "forward":
            if not node.parents:
                return (f"{name} = {number(node.data)}  (a leaf: an input or parameter)",
                        f"{name} = {node.data!r}  (a leaf: an input or parameter)")
            text = _expression(node)
            return f"{name} = {text} = {number(node.data)}", f"{name} = {text} = {node.data!r}"
        if move.kind == "seed":
            tail = ": the seed; the backward pass starts at the root"
            return f"{root}.grad = {number(self.grad)}{tail}", f"{root}.grad = {self.grad!r}{tail}"
        r = move.record
        assert r is not None
        parent, op = name_of(r.parent), op_text(r.node)

        def chain(f: Callable[[float], str]) -> str:
            return (f"{parent}.grad += ∂({op})/∂{parent} ({f(r.local_grad)}) × upstream ({f(r.upstream)}) "
                    f"= {f(r.contribution)} → {parent}.grad = {f(r.parent_grad)}")

        return chain(number), chain(repr)

    def questions(self) -> list[str | None]:
        """The quiz's question before each step: ``questions()[k - 1]`` is asked while the viewer
        shows step ``k - 1``, about what step ``k`` will produce; ``None`` for a step that is not a
        backward one (the forward walk and the seed ask nothing).

        Returns:
            One entry per step.
        """
        grads = self.start_grads()
        out: list[str | None] = []
        for k, move in enumerate(self.moves, 1):
            if move.kind != "backward":
                out.append(None)
                if move.kind == "seed":
                    grads[move.node] = move.value
                continue
            r = move.record
            assert r is not None
            child, parent = name_of(r.node), name_of(r.parent)
            ask = (f"the local gradient ∂({op_text(r.node)})/∂{parent} and {parent}.grad after this step"
                   if self.quiz == "both" else f"{parent}.grad after this step")
            out.append(f"step {k}: {child} (grad {number(r.upstream)}) passes its gradient back to {parent} "
                       f"(grad {number(grads[move.parent])} now). What is {ask}?")
            grads[move.parent] = move.value
        return out

    def worksheet(self, answers: bool) -> str:
        """The backward pass as a Markdown table (see :meth:`Stepper.worksheet`).

        Args:
            answers: fill the answer columns (local gradient, upstream, product, running grad).

        Returns:
            A line saying what the table holds, a blank line, and the table; one row per backward
            step, numbered as the viewer numbers it.
        """
        root = name_of(self.root)
        lines = [
            f"Backward pass of {_cell(root)}, seeded with {_cell(root)}.grad = {_number6(self.grad)}. Each step: "
            "parent.grad += local gradient × upstream (the node's grad); running grad is the parent's grad "
            "after the step.",
            "",
            "| step | node | parent | local gradient | upstream | product | running grad |",
            "|---:|---|---|---:|---:|---:|---:|",
        ]
        for k, move in enumerate(self.moves, 1):
            if move.kind != "backward":
                continue
            r = move.record
            assert r is not None
            node = f"{name_of(r.node)} = {_expression(r.node)} = {_number6(r.node.data)}"
            parent = f"{name_of(r.parent)} = {_number6(r.parent.data)}"
            numbers = (r.local_grad, r.upstream, r.contribution, r.parent_grad)
            filled = [_number6(x) if answers else "" for x in numbers]
            lines.append("| " + " | ".join([str(k), _cell(node), _cell(parent), *filled]) + " |")
        return "\n".join(lines) + "\n"

    def explain(self, node: Value | int, k: int) -> str:
        """What clicking ``node`` shows after ``k`` steps (see :meth:`Stepper.explain`).

        Args:
            node: a Value of the graph or its index.
            k: a step number, 0 to ``len(self)``.

        Returns:
            Its ``explain()`` text once its gradient is complete; before that, how it was computed
            and the uses applied so far with their running sum.
        """
        i = self.node_index(node)
        k = self.check_step(k)
        moves = self.moves[:k]
        name = name_of(self.nodes[i])
        if self.forward and not any(m.kind == "forward" and m.node == i for m in moves):
            return f"{name} is not computed yet: the forward pass reaches it at step {i + 1}."
        if self.forward and not any(m.kind == "seed" for m in moves):
            return self.headers[i] + "\n  grad: the backward pass has not started yet"
        done = [self.use_line(m) for m in moves if m.kind == "backward" and m.parent == i]
        if len(done) == self.uses[i]:
            return self.finals[i]
        waiting = [name_of(self.nodes[m.node]) for m in self.moves[k:] if m.kind == "backward" and m.parent == i]
        grad = next((m.value for m in reversed(moves) if m.kind == "backward" and m.parent == i), 0.0)
        text = f"{self.headers[i]}\n  grad so far = {grad!r}, from {len(done)} of its {self.uses[i]} use(s):"
        if done:
            text += "\n" + "\n".join(done)
        return text + "\n  still to come from: " + ", ".join(waiting)

    def node_index(self, node: Value | int) -> int:
        """The index of ``node`` in ``nodes``.

        Args:
            node: a Value of the graph or its index.

        Returns:
            Its index.

        Raises:
            ValueError: the index is out of range, or the Value is not part of the graph.
        """
        if isinstance(node, int) and not isinstance(node, bool):
            if not 0 <= node < len(self.nodes):
                raise ValueError(f"node index {node} is out of range: the graph has {len(self.nodes)} Values")
            return node
        require_value(node, "Stepper.explain()")
        i = self.index.get(id(node))
        if i is None:
            raise ValueError(f"{name_of(node)} is not part of the graph of {name_of(self.root)}")
        return i

    def use_line(self, move: Move) -> str:
        """One use of a node, as its explanation lists it: the chain rule of a backward step, exact.

        Args:
            move: a backward step.

        Returns:
            The line, indented.
        """
        r = move.record
        assert r is not None
        child, name = name_of(r.node), name_of(r.parent)
        return (f"    from {child} (op '{op_text(r.node)}'): d{child}/d{name} {r.local_grad!r} "
                f"x {child}.grad {r.upstream!r} = {r.contribution!r}")


def _header(node: Value) -> str:
    """``explain(node)`` without its gradient line: how the node was computed.

    Args:
        node: a Value.

    Returns:
        The text.
    """
    return "\n".join(line for line in explain(node).splitlines() if not line.startswith("  grad = "))


def _expression(node: Value) -> str:
    """How a computed node reads in the forward pass: ``a * b``, ``a * 2``, ``5 - a``, ``tanh(x)``.

    Args:
        node: a Value with parents.

    Returns:
        The expression, its parents by name.
    """
    names = [name_of(p) for p in node.parents]
    op = op_text(node)
    if len(names) == 2 and op in _BINARY:
        return f"{names[0]} {op} {names[1]}"
    if len(names) == 1 and node.const is not None:
        if op[:1] in "+-*/":
            return f"{names[0]} {op}"
        if op[-1:] in "+-*/":
            return f"{op} {names[0]}"
    return f"{op}({', '.join(names)})"


def _number6(x: float) -> str:
    """A worksheet's number: six significant digits, as a ``Step`` prints (``-6``, ``0.786448``, ``inf``)."""
    return f"{x:.6g}"


def _cell(text: str) -> str:
    """``text`` as one cell of a Markdown table: its ``|`` escaped, on one line."""
    return " ".join(text.replace("|", "\\|").split())
