"""Toy data sets: shapes, labels, seeding, and micrograd's moons recipe reaching full accuracy."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from autograd import Value
from nn import MLP, hinge_loss
from nn.data import DATASETS, make_blobs, make_circles, make_moons, make_spirals, make_xor


@pytest.mark.parametrize("name", sorted(n for n, source in DATASETS.items() if source.generated))
def test_every_dataset_returns_2d_float_points_and_int_labels_from_zero(name: str) -> None:
    X, y = DATASETS[name](60, seed=1)
    assert len(X) == len(y) == 60
    assert all(len(p) == 2 and all(type(c) is float and math.isfinite(c) for c in p) for p in X)
    assert all(type(t) is int for t in y)
    assert min(y) == 0 and sorted(set(y)) == list(range(max(y) + 1))
    assert DATASETS[name](60, seed=1) == (X, y)
    assert DATASETS[name](60, seed=2) != (X, y)


def test_class_counts() -> None:
    assert sorted(make_moons(101, seed=0)[1]).count(0) == 50
    assert set(make_spirals(90, 3, seed=0)[1]) == {0, 1, 2}
    assert sorted(make_blobs(90, 3, seed=0)[1]).count(2) == 30
    assert set(make_circles(50, seed=0)[1]) == {0, 1}


def test_noise_free_geometry() -> None:
    X, y = make_moons(40, noise=0.0, seed=0)
    for (a, b), t in zip(X, y):
        if t == 0:
            assert math.hypot(a, b) == pytest.approx(1.0)
        else:
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0)
    X, y = make_circles(40, noise=0.0, factor=0.3, seed=0)
    for (a, b), t in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if t == 0 else 0.3)
    X, y = make_xor(40, noise=0.0, seed=0)
    assert all((a * b < 0) == bool(t) for (a, b), t in zip(X, y))


@pytest.mark.parametrize("bad", [0, 1, -5, 2.5, "100", True])
def test_bad_sample_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="n_samples must be an integer"):
        make_moons(bad)  # type: ignore[arg-type]


def test_bad_noise_and_classes_are_refused() -> None:
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        make_moons(10, noise=-1.0)
    with pytest.raises(ValueError, match="n_classes"):
        make_spirals(10, n_classes=1)
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, factor=1.5)


def micrograd_recipe(seed: int) -> float:
    """micrograd's demo: MLP(2, [16, 16, 1]), hinge + 1e-4 L2, SGD lr 1.0 - 0.9 k/100, 100 steps."""
    X, y = make_moons(100, noise=0.1, seed=seed)
    labels = [2 * t - 1 for t in y]
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    for k in range(100):
        scores = [model(x) for x in X]
        reg = 1e-4 * sum((p * p for p in model.parameters()), Value(0.0))
        loss = hinge_loss(scores, labels) + reg  # type: ignore[arg-type]
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
    final = [model(x) for x in X]
    return sum((s.data > 0) == (t > 0) for s, t in zip(final, labels)) / len(labels)  # type: ignore[union-attr]


@pytest.mark.slow
def test_moons_recipe_reaches_100_percent_for_the_readme_seed() -> None:
    assert micrograd_recipe(1337) == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_moons_recipe_reaches_97_percent_for_other_seeds(seed: int) -> None:
    assert micrograd_recipe(seed) >= 0.97


# --- one table of named data sets, and load_dataset ------------------------------------------


def test_the_table_holds_generated_and_shipped_sets_and_load_dataset_reads_each() -> None:
    from nn.data import load_dataset, load_iris

    assert [n for n, s in DATASETS.items() if not s.generated] == ["iris", "digits"]
    moons = load_dataset("moons", n_samples=40, seed=3)
    assert (moons.X, moons.y) == make_moons(40, seed=3)
    assert (moons.classes, moons.feature_names, moons.target, moons.real) == (["0", "1"], ["x1", "x2"], None, False)
    iris = load_dataset("iris")
    assert (iris.X, iris.y, iris.classes) == tuple(load_iris())
    assert (iris.name, iris.target, iris.real, iris.feature_names[0]) == ("iris", "species", True, "sepal_length")
    assert load_dataset().name == "moons"


def test_load_dataset_reads_a_file_by_path(tmp_path: Path) -> None:
    from nn.data import load_csv, load_dataset

    path = tmp_path / "flowers.csv"
    path.write_text("a,b,kind\n1,2,x\n3,4,y\n5,6,x\n")
    data = load_dataset(path=path, target="kind")
    assert (data.name, data.feature_names, data.classes, data.target) == ("flowers", ["a", "b"], ["x", "y"], "kind")
    assert (data.X, data.y) == tuple(load_csv(path, target="kind"))[:2]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "nope"}, r"unknown data set 'nope'; expected one of moons, circles, .*iris, digits"),
    ({"name": "iris", "n_samples": 10}, "n_samples applies to the generated sets only, not to iris"),
    ({"name": "digits", "noise": 0.1}, "noise applies to the generated sets only, not to digits"),
    ({"name": "moons", "target": "y"}, "target names the label column of a file"),
    ({"name": "moons", "noise": 1e308}, r"noise 1e\+308 puts \d+ of 100 points at infinity"),
    ({"name": "moons", "path": "x.csv"}, "give a data set's name or a file's path, not both"),
    ({"path": "x.csv", "n_samples": 3}, "n_samples applies to the generated sets only, not to a file"),
])
def test_load_dataset_refuses_what_does_not_apply(kwargs: dict[str, Any], message: str) -> None:
    from nn.data import load_dataset

    with pytest.raises(ValueError, match=message):
        load_dataset(**kwargs)


def test_sample_file_sizes_a_large_file_from_its_start(tmp_path: Path) -> None:
    from nn.data import sample_file

    path = tmp_path / "big.csv"
    path.write_text("a,b,label\n" + "".join(f"{i % 10},{i % 7},{i % 2}\n" for i in range(20_000)))
    assert sample_file(path, sample_bytes=10 * path.stat().st_size) is None  # small: just load it
    sample = sample_file(path, sample_bytes=4096)
    assert sample is not None and 0 < len(sample.rows.X) < 20_000
    assert 18_000 <= sample.estimated_rows <= 22_000
    assert sample.rows.feature_names == ["a", "b"]
