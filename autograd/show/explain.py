"""``explain(node)``: a short text of how a node was computed and where its gradient came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograd.backward import require_value, topological_order
from autograd.show.text import name_of, number, op_text

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["explain", "explain_with_uses"]


def explain(node: Value, root: Value | None = None) -> str:
    """Describe ``node``: its op, parents and local gradients, and (given the ``root`` a backward
    pass started from) which children its gradient came from.

    Example:
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> e = a * b; e.label = "e"; e.backward()
        >>> print(explain(a, root=e).splitlines()[0])
        a = 2.0 is a leaf (an input or parameter)
    """
    require_value(node, "explain()")
    if root is not None:
        require_value(root, "explain() root")
    uses = None if root is None or node is root else [
        (child, local) for child in topological_order(root)
        for p, local in zip(child.parents, child.local_grads) if p is node]
    return explain_with_uses(node, root, uses)


def explain_with_uses(node: Value, root: Value | None, uses: list[tuple[Value, float]] | None) -> str:
    """:func:`explain`, given every use of ``node`` in ``root``'s graph: each ``(child, local
    gradient)`` pair in ``topological_order(root)`` order (``None`` when ``root`` is None or
    ``node`` itself). A caller explaining every node of a graph finds all uses in one walk.

    Args:
        node: the Value to describe.
        root: the output a backward pass started from, or None.
        uses: the uses, as above.

    Returns:
        ``explain(node, root)``.
    """
    name = name_of(node)
    lines: list[str] = []
    if not node.parents:
        lines.append(f"{name} = {node.data!r} is a leaf (an input or parameter)")
    else:
        args = ", ".join(f"{name_of(p)}={number(p.data)}" for p in node.parents)
        lines.append(f"{name} = {node.data!r}, computed by op '{op_text(node)}' from {args}")
        for p, local in zip(node.parents, node.local_grads):
            lines.append(f"  local gradient d{name}/d{name_of(p)} = {local!r}")
    if node.origin:
        lines.append(f"  created at {node.origin}")
    if root is None:
        lines.append(f"  grad = {node.grad!r} (pass root= to see which children it came from)")
        return "\n".join(lines)
    if node is root:
        lines.append(f"  grad = {node.grad!r}: this is the root, seeded by backward()")
        return "\n".join(lines)
    terms = [f"    from {name_of(child)} (op '{op_text(child)}'): d{name_of(child)}/d{name} {local!r} "
             f"x {name_of(child)}.grad {child.grad!r} = {local * child.grad!r}" for child, local in uses or ()]
    if not terms:
        lines.append(f"  {name_of(root)} does not depend on {name}")
    else:
        lines.append(f"  grad = {node.grad!r}, the sum over its {len(terms)} use(s):")
        lines += terms
    return "\n".join(lines)
