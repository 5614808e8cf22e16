"""The op registry: every registered op, built-in or user-defined, through every back-end.

Each op is one record in ``autograd.ops``; the graph builder, higher-order gradients, the tape
interpreter, the generated code, the batch replay, drawings, ``explain`` and step records all
read it. These tests walk the registry, so an op that is added but missing from any back-end (or
from the random-program strategies) fails here.
"""

from __future__ import annotations

import ast
import math
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd import Tape, Value, define_op, dot, draw_dot, logsumexp, select
from autograd.backward import topological_order
from autograd.ops import REGISTRY, Primitive, node_partials
from autograd.replay.batch import BatchTape
from autograd.show.explain import explain
from autograd.show.text import op_text
from tests.strategies import OPS, user_affine, user_sin

# How a user calls each built-in op, with inputs in the op's domain; an op's inputs are
# ``xs`` (Values), its constant (if it folds one) is chosen here.
CALLS: dict[str, Callable[[list[Value]], Value]] = {
    "add": lambda xs: xs[0] + xs[1],
    "sub": lambda xs: xs[0] - xs[1],
    "mul": lambda xs: xs[0] * xs[1],
    "div": lambda xs: xs[0] / xs[1],
    "pow": lambda xs: xs[0] ** xs[1],
    "add_const": lambda xs: xs[0] + 1.5,
    "sub_const": lambda xs: xs[0] - 1.5,
    "rsub_const": lambda xs: 1.5 - xs[0],
    "mul_const": lambda xs: xs[0] * -2.5,
    "div_const": lambda xs: xs[0] / 4.0,
    "rdiv_const": lambda xs: 3.0 / xs[0],
    "pow_const": lambda xs: xs[0] ** 3.0,
    "rpow_const": lambda xs: 2.0 ** xs[0],
    "neg": lambda xs: -xs[0],
    "abs": lambda xs: abs(xs[0]),
    "exp": lambda xs: xs[0].exp(),
    "log": lambda xs: xs[0].log(),
    "sqrt": lambda xs: xs[0].sqrt(),
    "tanh": lambda xs: xs[0].tanh(),
    "sigmoid": lambda xs: xs[0].sigmoid(),
    "relu": lambda xs: xs[0].relu(),
    "softplus": lambda xs: xs[0].softplus(),
    "leaky_relu": lambda xs: xs[0].leaky_relu(0.2),
    "heaviside": lambda xs: xs[0].heaviside(),
    "dot": lambda xs: dot([xs[0], xs[1]], [xs[2], xs[3]], xs[4]),
    "logsumexp": lambda xs: logsumexp([xs[0], xs[1], xs[2]]),
    "select": lambda xs: select(Value(1.0), [xs[0], xs[1], xs[2]]),
    # user-defined ops: with array forms, and without
    "strategies_sin": lambda xs: user_sin(xs[0]),
    "strategies_affine": lambda xs: user_affine(xs[0], xs[1]),
}
INPUTS = [0.7, 1.3, -0.4, 2.1, 0.25]  # positive first inputs: in the domain of log, sqrt, pow


def _all_ops() -> list[Primitive]:
    return [REGISTRY[name] for name in CALLS] + [p for p in REGISTRY.values() if p.builtin and p.name not in CALLS]


def test_every_builtin_op_has_a_call_here_and_a_place_in_the_random_programs() -> None:
    builtins = {p.name for p in REGISTRY.values() if p.builtin}
    assert builtins <= set(CALLS), f"add a call for {sorted(builtins - set(CALLS))} to CALLS"
    made: set[str] = set()
    for build in OPS.values():  # the random-program strategies' ops
        out = build(Value(0.7), Value(-1.3), 0.5)
        made |= {n.primitive.name for n in topological_order(out) if n.primitive is not None}
    assert builtins <= made, f"tests/strategies.OPS never makes {sorted(builtins - made)}"
    assert {"strategies_sin", "strategies_affine"} <= made


def _arity(prim: Primitive) -> int:
    return prim.arity if prim.arity is not None else 5


@pytest.mark.parametrize("prim", _all_ops(), ids=lambda p: p.name)
def test_the_graph_builder_records_exactly_the_records_forward_and_rule(prim: Primitive) -> None:
    xs = [Value(x) for x in INPUTS[: _arity(prim)]]
    node = CALLS[prim.name](xs)
    assert node.primitive is prim
    args = [*(p.data for p in node.parents), *([node.const] if prim.folds_constant else [])]
    out, local = prim.evaluate(args)
    assert repr(node.data) == repr(out)
    assert [repr(g) for g in node.local_grads] == [repr(g) for g in local]
    assert len(node.local_grads) == len(node.parents)
    assert (node.const is not None) == prim.folds_constant


@pytest.mark.parametrize("prim", _all_ops(), ids=lambda p: p.name)
def test_the_rule_on_values_gives_the_recorded_partials(prim: Primitive) -> None:
    """Higher order: the same rule evaluated on Values (create_graph) equals the float partials."""
    node = CALLS[prim.name]([Value(x) for x in INPUTS[: _arity(prim)]])
    partials = node_partials(node)
    floats = [p.data if isinstance(p, Value) else p for p in partials]
    assert floats == pytest.approx(list(node.local_grads), rel=1e-14)


@pytest.mark.parametrize("codegen", [False, True])
@pytest.mark.parametrize("prim", _all_ops(), ids=lambda p: p.name)
def test_both_tape_replays_equal_the_graph_bit_for_bit(prim: Primitive, codegen: bool) -> None:
    xs = [Value(x) for x in INPUTS[: _arity(prim)]]
    tape = Tape(lambda: CALLS[prim.name](xs).tanh(), xs, codegen=codegen)
    for x in xs:  # replay somewhere else
        x.data *= 1.1
    loss = tape.run()
    fresh = [Value(x.data) for x in xs]
    out = CALLS[prim.name](fresh).tanh()
    out.backward()
    assert repr(loss) == repr(out.data)
    assert [repr(x.grad) for x in xs] == [repr(f.grad) for f in fresh]


@pytest.mark.parametrize("prim", _all_ops(), ids=lambda p: p.name)
def test_the_batch_replay_equals_the_graph(prim: Primitive) -> None:
    """Inputs vary per sample and are scaled by parameters, so the op runs on arrays both alone and,
    for one-input ops, grouped over rows."""
    n = _arity(prim)
    ws = [Value(1.0 + 0.1 * i) for i in range(n)]

    def per_sample(v: list[Value]) -> Value:
        outs = [CALLS[prim.name]([v[j] * ws[j] for j in range(n)]) for _ in range(2)]  # two rows: a group
        return outs[0] + outs[1]

    rng = np.random.default_rng(0)
    batch = [[x * (1.0 + 0.2 * r) for x in INPUTS[:n]] for r in rng.random(7)]
    tape = BatchTape(per_sample, ws, example=batch[0])
    loss = tape.run(batch)
    batched = [w.grad for w in ws]
    for w in ws:
        w.grad = 0.0
    total = sum((per_sample([Value(x) for x in row]) for row in batch), Value(0.0)) * (1.0 / len(batch))
    total.backward()
    assert loss == pytest.approx(total.data, rel=1e-12)
    assert batched == pytest.approx([w.grad for w in ws], rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("prim", [p for p in _all_ops() if p.array_forward is not None], ids=lambda p: p.name)
def test_array_forms_equal_the_float_forms_entry_by_entry(prim: Primitive) -> None:
    from autograd.replay.batch import apply

    n = _arity(prim)
    grid = np.array([[x * s for s in (0.5, 1.0, 1.7, -0.0 if x < 0 else 0.9)] for x in INPUTS[:n]])
    const = [CALLS[prim.name]([Value(x) for x in INPUTS[:n]]).const] if prim.folds_constant else []
    xp = __import__("autograd.replay.arrays", fromlist=["numpy_namespace"]).numpy_namespace()
    with np.errstate(all="ignore"):
        out, local = apply(xp, prim, [*grid, *const])
    for k in range(grid.shape[1]):
        f_out, f_local = prim.evaluate([*(float(v) for v in grid[:, k]), *const])
        assert float(np.broadcast_to(out, grid.shape[1:])[k]) == pytest.approx(f_out, rel=1e-13, nan_ok=True)
        for a, b in zip(local, f_local):
            assert float(np.broadcast_to(a, grid.shape[1:])[k]) == pytest.approx(b, rel=1e-13, nan_ok=True)


@pytest.mark.parametrize("prim", _all_ops(), ids=lambda p: p.name)
def test_drawings_explanations_and_steps_name_the_op(prim: Primitive) -> None:
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(INPUTS[: _arity(prim)])]
    node = CALLS[prim.name](xs)
    text = op_text(node)
    assert text
    if prim.folds_constant:
        assert str(node.op) in repr(node) and "const=" in repr(node)
    assert text in draw_dot(node).source.replace("\\", "")
    assert f"op '{text}'" in explain(node)
    steps = list(node.backward_steps())
    assert [s.parent for s in steps] == list(node.parents)
    assert [s.local_grad for s in steps] == list(node.local_grads)


def test_a_graph_built_before_the_tape_replays_with_its_constant() -> None:
    """The folded constant lives on the node: nothing is lost when part of the graph was built
    outside the tape's function."""
    x = Value(3.0)
    y = x + 5.0
    t = Tape(lambda: y * x, [x])
    assert t.run() == 24.0 and x.grad == 11.0
    assert t.verify()
    x.grad = 0.0
    t.run()  # compiled now
    assert x.grad == 11.0


def test_drawings_show_the_real_constant() -> None:
    assert op_text(Value(1e20) + 1.0) == "+ 1"
    assert op_text(Value(1.0).leaky_relu(0.2)) == "leaky relu 0.2"
    assert (Value(2.0) ** 3).op == "**3" and (3 / Value(2.0)).op == "3/" and (2 ** Value(1.0)).op == "2**"


def test_user_op_names_of_builtins_are_refused_and_user_ops_can_be_redefined() -> None:
    for name in ("add", "+", "tanh", "dot", "**"):
        with pytest.raises(ValueError, match="clashes with a built-in op"):
            define_op(name, math.sin, lambda x: (math.cos(x),))
    first = define_op("registry_twice", math.sin, lambda x: (math.cos(x),))
    second = define_op("registry_twice", math.cos, lambda x: (-math.sin(x),))
    assert first(Value(0.0)).data == 0.0 and second(Value(0.0)).data == 1.0
    assert REGISTRY["registry_twice"].forward(0.0) == 1.0


def test_a_user_op_with_and_without_array_forms_matches_the_graph_through_batch_tape() -> None:
    calls: list[str] = []

    def sin_array(x: Any) -> Any:
        calls.append("array")
        return np.sin(x)

    with_forms = define_op("registry_sin_fast", math.sin, lambda x: (math.cos(x),),
                           array_forward=sin_array, array_local_grads=lambda x: (np.cos(x),))
    without = define_op("registry_sin_slow", math.sin, lambda x: (math.cos(x),))
    for op in (with_forms, without):
        w = Value(0.8)
        tape = BatchTape(lambda v: op(v[0] * w) * v[1], [w], example=[0.1, 1.0])  # noqa: B023
        rows = [[0.1 * k, 1.0 - 0.05 * k] for k in range(9)]
        loss = tape.run(rows)
        w_graph = Value(w.data)
        graph = sum((op(Value(a) * w_graph) * b for a, b in rows), Value(0.0)) * (1.0 / len(rows))
        graph.backward()
        assert loss == pytest.approx(graph.data, rel=1e-12)
        assert w.grad == pytest.approx(w_graph.grad, rel=1e-12)
    assert calls, "the array form was used"


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def test_no_import_cycles_in_the_packages() -> None:
    """Every import between modules of autograd and nn, at the top or inside a function, forms
    a DAG (imports for type annotations only do not count); and no module imports another's
    private names."""
    root = pathlib.Path(__file__).resolve().parents[2]
    edges: dict[str, set[str]] = {}
    for package in ("autograd", "nn"):
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            deps = edges.setdefault(module, set())
            for node in _runtime_nodes(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("autograd", "nn"):
                    target = node.module
                    for alias in node.names:
                        assert not alias.name.startswith("_") or target == module, (
                            f"{module} imports the private name {alias.name} from {target}"
                        )
                        full = f"{target}.{alias.name}"
                        as_path = root / full.replace(".", "/")
                        is_module = as_path.with_suffix(".py").exists() or (as_path / "__init__.py").exists()
                        deps.add(full if is_module else target)
                elif isinstance(node, ast.Import):
                    deps.update(a.name for a in node.names if a.name.split(".")[0] in ("autograd", "nn"))
    for deps in edges.values():
        deps.discard("autograd")  # the package itself (its __init__ re-exports): not a cycle
        deps.discard("nn")
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        if state.get(module) == 2:
            return
        assert state.get(module) != 1, "import cycle: " + " -> ".join([*path, module])
        state[module] = 1
        for dep in sorted(edges.get(module, ())):
            if dep != module:
                visit(dep, [*path, module])
        state[module] = 2

    for module in sorted(edges):
        visit(module, [])


CORE = ("autograd/__init__.py", "autograd/value.py", "autograd/ops.py", "autograd/backward.py",
        "autograd/modes.py", "autograd/functional.py", "autograd/custom.py", "autograd/_extras.py")


def test_the_core_imports_nothing_from_replay_or_show_at_import_time() -> None:
    """The layers: the core a learner reads first (value, ops, backward, modes, functional,
    custom) stands alone; replays and displays build on it and load on first use."""
    root = pathlib.Path(__file__).resolve().parents[2]
    core_files = {str(p.relative_to(root)) for p in (root / "autograd").glob("*.py")}
    assert core_files == set(CORE), "a new module at the top of autograd/ is core: add it to CORE, or move it"
    for name in CORE:
        tree = ast.parse((root / name).read_text())
        for node in tree.body:  # module level only: imports inside functions load on first use
            targets = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                       else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for target in targets:
                assert not target.startswith(("autograd.replay", "autograd.show")), f"{name} imports {target}"
