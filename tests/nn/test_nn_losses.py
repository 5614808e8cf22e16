"""Losses and metrics: hand-computed values, finite differences, extreme logits, and PyTorch when installed."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Value
from nn import (
    accuracy,
    bce_with_logits,
    cross_entropy,
    hinge_loss,
    log_softmax,
    mse_loss,
    predict_class,
    softmax,
)
from tests.numeric import numeric_gradient


def _grads(f: Callable[[list[Value]], Value], xs: list[float]) -> tuple[float, list[float]]:
    vs = [Value(x) for x in xs]
    out = f(vs)
    out.backward()
    return out.data, [v.grad for v in vs]


def _check_fd(f: Callable[[list[Value]], Value], xs: list[float]) -> None:
    _, analytic = _grads(f, xs)
    numeric = numeric_gradient(lambda v: f([Value(x) for x in v]).data, xs)
    for a, n in zip(analytic, numeric):
        assert a == pytest.approx(n, rel=1e-5, abs=1e-7)


def test_mse_hand_values_and_gradient() -> None:
    value, grads = _grads(lambda v: mse_loss(v, [0.0, 1.0]), [1.0, 3.0])
    assert value == 2.5  # ((1-0)^2 + (3-1)^2) / 2
    assert grads == [1.0, 2.0]  # 2 (p - t) / n
    _check_fd(lambda v: mse_loss(v, [0.2, -0.4, 1.5]), [0.3, 0.9, -2.0])


def test_hinge_is_micrograds_max_margin_loss() -> None:
    value, grads = _grads(lambda v: hinge_loss(v, [1, -1, 1]), [0.5, 0.2, 2.0])
    # relu(1 - 0.5) + relu(1 + 0.2) + relu(1 - 2) = 0.5 + 1.2 + 0 -> mean 1.7/3
    assert value == pytest.approx(1.7 / 3, rel=1e-15)
    assert grads == pytest.approx([-1 / 3, 1 / 3, 0.0], rel=1e-15)
    with pytest.raises(ValueError, match="labels must be -1 or \\+1, got 0"):
        hinge_loss([Value(1.0)], [0])


def test_bce_with_logits_hand_values_and_gradient() -> None:
    value, grads = _grads(lambda v: bce_with_logits(v, [1.0, 0.0]), [0.0, 2.0])
    expected = (math.log(2) + (2 + math.log1p(math.exp(-2)))) / 2
    assert value == pytest.approx(expected, rel=1e-14)
    assert grads == pytest.approx([(0.5 - 1) / 2, (1 / (1 + math.exp(-2))) / 2], rel=1e-14)
    _check_fd(lambda v: bce_with_logits(v, [0.3, 1.0, 0.0]), [0.7, -1.3, 4.0])
    with pytest.raises(ValueError, match="targets must be in \\[0, 1\\]"):
        bce_with_logits([Value(0.0)], [2.0])


def test_cross_entropy_hand_values_and_gradient() -> None:
    value, grads = _grads(lambda v: cross_entropy([v], [2]), [1.0, 2.0, 3.0])
    lse = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    assert value == pytest.approx(lse - 3.0, rel=1e-14)
    p = [math.exp(z - lse) for z in (1.0, 2.0, 3.0)]
    assert grads == pytest.approx([p[0], p[1], p[2] - 1.0], rel=1e-13)
    _check_fd(lambda v: cross_entropy([v[:3], v[3:]], [0, 2]), [0.1, -0.4, 2.0, 1.0, 1.0, -3.0])


@pytest.mark.parametrize("big", [1000.0, -1000.0])
def test_extreme_logits_stay_finite(big: float) -> None:
    value, grads = _grads(lambda v: cross_entropy([v], [0]), [big, 0.0, -big])
    assert math.isfinite(value) and all(math.isfinite(g) for g in grads)
    assert value == pytest.approx(0.0 if big > 0 else 2000.0, abs=1e-9)
    value, grads = _grads(lambda v: bce_with_logits(v, [0.0]), [big])
    assert math.isfinite(value) and value == pytest.approx(max(big, 0.0), abs=1e-9)
    assert grads == [1.0 if big > 0 else 0.0]
    probs = softmax([Value(big), Value(0.0)])
    assert [p.data for p in probs] == pytest.approx([1.0, 0.0] if big > 0 else [0.0, 1.0])
    assert all(math.isfinite(p.data) for p in log_softmax([Value(big), Value(0.0)]))


def test_softmax_sums_to_one_and_has_the_softmax_jacobian() -> None:
    zs = [Value(0.2), Value(-1.0), Value(0.5)]
    ps = softmax(zs)
    assert sum(p.data for p in ps) == pytest.approx(1.0, rel=1e-15)
    ps[0].backward()
    p0 = ps[0].data
    assert [z.grad for z in zs] == pytest.approx([p0 * (1 - p0), -p0 * ps[1].data, -p0 * ps[2].data], rel=1e-12)


def test_accuracy_binary_and_multiclass() -> None:
    assert accuracy([Value(0.5), Value(-0.1), Value(2.0)], [1, 0, 0]) == pytest.approx(2 / 3)
    assert accuracy([0.5, -0.1], [1, -1]) == 1.0
    assert accuracy([[Value(0.1), Value(0.9)], [Value(2.0), Value(0.0)]], [1, 1]) == 0.5
    with pytest.raises(ValueError, match="differ in length"):
        accuracy([1.0], [1, 0])


def test_accuracy_threshold_is_the_score_above_which_one_output_is_class_1() -> None:
    probabilities = [0.3, 0.45, 0.55, 0.9]  # a sigmoid output's: every one above 0
    assert accuracy(probabilities, [0, 0, 1, 1]) == 0.5
    assert accuracy(probabilities, [0, 0, 1, 1], threshold=0.5) == 1.0
    assert accuracy([Value(p) for p in probabilities], [-1, -1, 1, 1], threshold=0.5) == 1.0
    # a list of one output is the same single score, not an argmax (which is always 0)
    assert accuracy([[p] for p in probabilities], [0, 0, 1, 1], threshold=0.5) == 1.0
    assert accuracy([[0.1, 0.9], [0.7, 0.2]], [1, 0], threshold=0.5) == 1.0  # several: argmax, threshold unused


def test_predict_class_is_one_rule_for_one_and_several_outputs() -> None:
    assert [predict_class(s) for s in (0.2, -0.2, 0.0, Value(1e-9))] == [1, 0, 0, 1]
    assert [predict_class(s, threshold=0.5) for s in (0.2, 0.5, 0.51, [Value(0.7)])] == [0, 0, 1, 1]
    assert predict_class([0.1, 2.0, 2.0, -1.0]) == 1  # the first largest
    assert predict_class([Value(-3.0), Value(-2.0)], threshold=5.0) == 1
    with pytest.raises(ValueError, match="at least one output"):
        predict_class([])
    text: Any = "0.7"
    with pytest.raises(TypeError, match="a score or a list of scores, got str"):
        predict_class(text)


@pytest.mark.parametrize(("threshold", "error", "message"), [
    ("0.5", TypeError, "threshold must be a number, got str"),
    (True, TypeError, "threshold must be a number, got bool"),
    (math.nan, ValueError, "threshold must be a finite number, got nan"),
])
def test_accuracy_refuses_a_threshold_that_is_not_a_finite_number(
    threshold: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        accuracy([0.7], [1], threshold=threshold)


def test_losses_reject_mismatched_and_empty_batches() -> None:
    with pytest.raises(ValueError, match="differ in length: 2 vs 1"):
        mse_loss([Value(1.0), Value(2.0)], [1.0])
    with pytest.raises(ValueError, match="empty"):
        mse_loss([], [])
    with pytest.raises(ValueError, match="class index in \\[0, 2\\), got 2"):
        cross_entropy([[Value(0.0), Value(1.0)]], [2])
    with pytest.raises(TypeError, match="must be a list"):
        mse_loss("ab", [1.0])  # type: ignore[arg-type]




@pytest.mark.parametrize("scale", [1.0, 50.0, 1000.0])
def test_losses_match_torch_functional_in_float64(scale: float) -> None:
    t = pytest.importorskip("torch")
    F = t.nn.functional
    logits = [[0.3 * scale, -1.1 * scale, 0.5 * scale], [2.0 * scale, 0.1 * scale, -0.7 * scale]]
    targets = [2, 0]

    def ours(fn: Callable[[list[list[Value]]], Value]) -> tuple[float, list[float]]:
        vs = [[Value(x) for x in row] for row in logits]
        out = fn(vs)
        out.backward()
        return out.data, [v.grad for row in vs for v in row]

    def theirs(fn: Callable[[Any], Any]) -> tuple[float, list[float]]:
        z = t.tensor(logits, dtype=t.float64, requires_grad=True)
        out = fn(z)
        out.backward()
        return float(out.item()), z.grad.flatten().tolist()

    cases: list[tuple[Callable[[list[list[Value]]], Value], Callable[[Any], Any]]] = [
        (lambda v: cross_entropy(v, targets), lambda z: F.cross_entropy(z, t.tensor(targets))),
        (lambda v: bce_with_logits([row[0] for row in v], [1.0, 0.0]),
         lambda z: F.binary_cross_entropy_with_logits(z[:, 0], t.tensor([1.0, 0.0], dtype=t.float64))),
        (lambda v: mse_loss([row[1] for row in v], [0.5, -0.5]),
         lambda z: F.mse_loss(z[:, 1], t.tensor([0.5, -0.5], dtype=t.float64))),
    ]
    for fo, ft in cases:
        (vo, go), (vt, gt) = ours(fo), theirs(ft)
        assert math.isfinite(vo)
        assert vo == pytest.approx(vt, rel=1e-9, abs=1e-9)
        assert go == pytest.approx(gt, rel=1e-9, abs=1e-9)
