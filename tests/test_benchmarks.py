"""The benchmark workloads still run (smoke, tiny sizes); the memory target holds exactly.

Benchmarks are not tests: nothing here asserts a time. Bytes per node are counted by tracemalloc,
which is deterministic, so the issue's memory target (at most 180 bytes per node, no node for a
constant operand) is checked here.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from autograd import Value
from benchmarks import __main__ as bench_main
from benchmarks import workloads as w


def test_a_chain_node_costs_at_most_180_bytes() -> None:
    assert w.w4_bytes_per_node(Value, 20_000) <= 180


def test_constants_make_no_nodes() -> None:
    x = Value(1.0)
    y = (x * 1.0000001 + 0.5) * 2 - 3 / (x + 1)
    from autograd import topological_order

    assert sum(1 for n in topological_order(y) if not n.parents) == 1  # only x is a leaf


def test_the_w1_workloads_run_and_train() -> None:
    for seconds in (w.w1_hand_written(1), w.w1_nn_mlp(1, relaxed_gc=True)):
        assert seconds > 0 and math.isfinite(seconds)
    step, setup = w.w1_compiled(1)
    assert step > 0 and setup > 0
    step, setup = w.w1_compiled(1, codegen=False)
    assert step > 0 and setup > 0


def test_the_vectorised_workloads_run_on_both_backends() -> None:
    assert w.w1_vectorized(1) > 0
    assert w.w1_vectorized(1, "torch") > 0


def test_the_w6_workloads_run_and_pin_threads() -> None:
    import torch

    settings = w.pin_threads()
    assert settings["OMP_NUM_THREADS"] == "1" and torch.get_num_threads() == 1
    for path in ("compiled", "vectorized"):
        assert w.w6_digits_epoch(path, 1) > 0
    assert w.w6_torch_epoch(1) > 0


def test_w2_and_w3_run_in_and_out_of_process() -> None:
    assert w.w2_chain(Value, 1000) > 0
    assert w.w2_chain_fresh_process(1000, relaxed_gc=True) > 0
    assert w.w3_wide(Value, 2000) > 0
    assert w.w2_peak_mib(Value, 1000) > 0


def test_w7_measures_the_import_in_fresh_processes() -> None:
    ms = w.w7_import_ms(1)
    assert math.isfinite(ms)  # a difference of two timings: no sign asserted, nothing timed
    with pytest.raises(ValueError, match="runs must be at least 1, got 0"):
        w.w7_import_ms(0)


def test_w8_runs_the_cli_with_and_without_the_page() -> None:
    view = w.w8_training_view(["--steps", "4", "--samples", "20"], 1)
    assert set(view) == {"recording", "whole", "train_s", "wall_s", "page_mb"}
    assert view["page_mb"] > 0.01  # the page was written by the run with the view
    assert all(math.isfinite(v) and v > 0 for v in view.values())  # ratios of timings: no size asserted


def _committed() -> dict[str, bytes]:
    here = Path(bench_main.HERE)
    return {name: (here / name).read_bytes() for name in ("results.md", "results.json")}


def test_a_run_writes_its_results_outside_what_the_docs_show(tmp_path: Path) -> None:
    """``python -m benchmarks`` as the docs invite: the committed results (which the performance
    page includes and tests/test_docs.py checks) stay as they are."""
    before = _committed()
    default = bench_main.parse_args([])
    assert os.path.realpath(default.out) != os.path.realpath(bench_main.HERE)
    assert os.path.realpath(bench_main.parse_args(["--quick"]).out) == os.path.realpath(bench_main.DEFAULT_OUT)
    out = bench_main.parse_args(["--out", str(tmp_path / "run")]).out
    table = bench_main.write_results(out, META, ROWS)
    assert (tmp_path / "run" / "results.md").read_text() == table
    assert json.loads((tmp_path / "run" / "results.json").read_text())["rows"] == ROWS
    assert "| W7 | valuegrad import autograd, nn | 9.5 ms |  |  |" in table
    assert _committed() == before


def test_only_update_docs_targets_the_committed_results(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main.parse_args(["--update-docs"]).out == bench_main.HERE
    for argv, message in ((["--update-docs", "--quick"], "--update-docs needs a full run"),
                          (["--update-docs", "--out", "x"], "not allowed with argument")):
        with pytest.raises(SystemExit):
            bench_main.parse_args(argv)
        assert message in capsys.readouterr().err


META: dict[str, Any] = {"date": "2026-12-06T00:00:00", "python": "3.11.7", "cpu": "test CPU", "cores": 2,
                        "quick": True, "threads": {"OMP_NUM_THREADS": "1"}}
ROWS: list[dict[str, Any]] = [{"workload": "W7", "implementation": "valuegrad import autograd, nn", "value": 9.5,
                               "unit": "ms", "note": "", "vs_micrograd": None}]
