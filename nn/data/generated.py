"""The toy 2-D data sets, written here (no scikit-learn) and seeded.

Each ``make_*`` function returns ``(X, y)``: ``X`` a list of ``[x1, x2]`` float lists, ``y`` a
list of integer class labels starting at 0. The same ``seed`` gives the same data on every run;
with ``seed=None`` the points come from fresh randomness.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

__all__ = ["Dataset", "make_blobs", "make_circles", "make_moons", "make_spirals", "make_xor"]

Dataset = tuple[list[list[float]], list[int]]


def _check(n_samples: object, noise: object, min_samples: int = 2, n_classes: object = 2) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < min_samples:
        raise ValueError(f"n_samples must be an integer >= {min_samples}, got {n_samples!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not (0.0 <= noise < math.inf):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or not 2 <= n_classes <= n_samples:
        raise ValueError(f"n_classes must be an integer in [2, n_samples], got {n_classes!r}")


def _shuffled(rng: random.Random, X: list[list[float]], y: list[int]) -> Dataset:
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Two interleaving half circles: class 0 the upper moon, class 1 the lower one.

    Example:
        >>> X, y = make_moons(4, noise=0.0, seed=0)
        >>> len(X), sorted(y)
        (4, [0, 0, 1, 1])
    """
    _check(n_samples, noise)
    rng = random.Random(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n_upper):
        t = math.pi * i / max(n_upper - 1, 1)
        X.append([math.cos(t) + rng.gauss(0.0, noise), math.sin(t) + rng.gauss(0.0, noise)])
        y.append(0)
    for i in range(n_lower):
        t = math.pi * i / max(n_lower - 1, 1)
        X.append([1.0 - math.cos(t) + rng.gauss(0.0, noise), 0.5 - math.sin(t) + rng.gauss(0.0, noise)])
        y.append(1)
    return _shuffled(rng, X, y)


def make_circles(n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = None) -> Dataset:
    """A small circle (class 1) inside a large one (class 0); ``factor`` is the radius ratio."""
    _check(n_samples, noise)
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be between 0 and 1, got {factor!r}")
    rng = random.Random(seed)
    n_outer = n_samples // 2
    X: list[list[float]] = []
    y: list[int] = []
    for label, count, radius in ((0, n_outer, 1.0), (1, n_samples - n_outer, float(factor))):
        for i in range(count):
            t = 2.0 * math.pi * i / count
            X.append([radius * math.cos(t) + rng.gauss(0.0, noise), radius * math.sin(t) + rng.gauss(0.0, noise)])
            y.append(label)
    return _shuffled(rng, X, y)


def make_blobs(n_samples: int = 150, n_classes: int = 3, noise: float = 0.6, seed: int | None = None) -> Dataset:
    """Gaussian blobs (standard deviation ``noise``) around ``n_classes`` centres on a circle of radius 3."""
    _check(n_samples, noise, n_classes=n_classes)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n_samples):
        k = i % n_classes
        angle = 2.0 * math.pi * k / n_classes
        X.append([3.0 * math.cos(angle) + rng.gauss(0.0, noise), 3.0 * math.sin(angle) + rng.gauss(0.0, noise)])
        y.append(k)
    return _shuffled(rng, X, y)


def make_spirals(n_samples: int = 150, n_classes: int = 3, noise: float = 0.2, seed: int | None = None) -> Dataset:
    """``n_classes`` interleaved spiral arms (CS231n's classic), radius 0 to 1."""
    _check(n_samples, noise, n_classes=n_classes)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for k in range(n_classes):
        count = n_samples // n_classes + (1 if k < n_samples % n_classes else 0)
        for i in range(count):
            r = i / max(count - 1, 1)
            t = 4.0 * r + 2.0 * math.pi * k / n_classes + rng.gauss(0.0, noise)
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(k)
    return _shuffled(rng, X, y)


def make_xor(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Points in the four quadrants of [-1, 1]²; class 1 where the signs of x1 and x2 differ."""
    _check(n_samples, noise)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n_samples):
        sx = 1.0 if i % 2 else -1.0
        sy = 1.0 if (i // 2) % 2 else -1.0
        x1 = sx * rng.uniform(0.1, 1.0) + rng.gauss(0.0, noise)
        x2 = sy * rng.uniform(0.1, 1.0) + rng.gauss(0.0, noise)
        X.append([x1, x2])
        y.append(int(sx != sy))
    return _shuffled(rng, X, y)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": make_moons,
    "circles": make_circles,
    "blobs": make_blobs,
    "spirals": make_spirals,
    "xor": make_xor,
}
"""Every data set by the name the CLI uses."""
