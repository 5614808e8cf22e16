"""What a training run will cost, estimated before it starts: seconds and bytes of memory.

The rates are measured on this project's reference machine (2 shared CPU cores); they are meant
to tell a run of seconds from one of hours, not to predict to the second. ``valuegrad train``
refuses a run over its limits with the estimate (``--force`` runs it anyway); a Python user can
ask the same question first.

    >>> seconds, memory = estimate(n_parameters([2, 16, 16, 1]), rows_per_step=100, steps=100,
    ...                            n_rows=100, n_features=2, vectorized=False)
    >>> seconds < 10, memory < 100e6
    (True, True)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

__all__ = ["estimate", "n_parameters"]


def n_parameters(widths: Sequence[int]) -> int:
    """The number of weights and biases of an MLP whose layer widths are ``widths`` (inputs first).

    Example:
        >>> n_parameters([2, 16, 16, 1])
        337
    """
    return sum((a + 1) * b for a, b in itertools.pairwise(widths))


def estimate(n_parameters: int, rows_per_step: int, steps: int, n_rows: int, n_features: int,
             vectorized: bool) -> tuple[float, float]:
    """Rough ``(seconds, bytes)`` of a training run and the scoring of every row after it.

    Rates of this machine's kind: recording and compiling one sample's step costs about 0.25 ms
    and 18 kB per parameter; each step 0.3 µs per parameter and row (compiled), or 1 µs per
    parameter plus 0.03 µs per parameter and row (vectorised); scoring replays every row once.

    Args:
        n_parameters: the model's size (:func:`n_parameters`).
        rows_per_step: the batch size (all rows for full-batch training).
        steps: how many optimizer steps.
        n_rows: every row that is loaded and scored.
        n_features: the width of a row.
        vectorized: the NumPy replay (``nn.train(vectorized=True)``) rather than generated code.

    Returns:
        The estimated seconds and bytes of memory.
    """
    p = float(n_parameters)
    setup = 2.5e-4 * p
    per_step = (1e-6 * p + 3e-8 * p * rows_per_step) if vectorized else 3e-7 * p * rows_per_step
    scoring = setup + 3e-7 * p * (n_rows + 6400)
    memory = 18_000 * p + 64.0 * n_rows * (n_features + 2) + 60e6
    return setup + steps * per_step + scoring, memory
