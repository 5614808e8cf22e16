"""``python -m benchmarks [--quick] [--out DIR] [--update-docs]``: every workload for valuegrad and
each installed peer, one run.

Prints a table of medians with ratios against micrograd and writes results.md and results.json
to benchmarks/latest/ (or --out DIR). Only --update-docs writes the committed
benchmarks/results.md and benchmarks/results.json that the performance page shows (and that
tests/test_docs.py checks the page against), so running the benchmarks never breaks the tests.
Peers that are not installed are reported as skipped.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import sys
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before anything imports NumPy: its BLAS pool reads these once

from benchmarks import workloads as w  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "latest")  # ignored by git; the docs never read it
W6_TORCH = "PyTorch batched tensors"  # the row W6's ratios are taken against


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked; ``args.out`` is the folder the results go to.

    Args:
        argv: the arguments after ``python -m benchmarks`` (``None``: ``sys.argv[1:]``).

    Returns:
        The parsed arguments, with ``out`` set to ``benchmarks/`` under ``--update-docs``.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller W2/W3 (a smoke run)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default=None,
                       help=f"folder for results.md and results.json (default: {os.path.relpath(DEFAULT_OUT)})")
    where.add_argument("--update-docs", action="store_true",
                       help="write the committed benchmarks/results.md and .json that docs/performance.md shows")
    args = parser.parse_args(argv)
    if args.update_docs and args.quick:
        parser.error("--update-docs needs a full run: the performance page does not show --quick numbers")
    args.out = HERE if args.update_docs else (args.out or DEFAULT_OUT)
    return args


def write_results(out: str, meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """Write ``results.json`` and ``results.md`` into the folder ``out`` (made if missing).

    Args:
        out: the folder; ``benchmarks/`` itself only for ``--update-docs``.
        meta: when, where and how the run was made (date, python, cpu, cores, quick, threads).
        rows: one dict per measurement (workload, implementation, value, unit, note, vs_micrograd).

    Returns:
        The Markdown table, as written.
    """
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = [
        f"# Benchmark results ({meta['date']}, Python {meta['python']}, {meta['cpu']}, {meta['cores']} cores"
        f"{', quick run' if meta['quick'] else ''})",
        "",
        "Threads: " + ", ".join(f"{k}={v}" for k, v in meta["threads"].items()) + ".",
        "",
        "| workload | implementation | median | vs micrograd | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        shown = "skipped" if r["value"] is None else f"{r['value']:.4g} {r['unit']}"
        ratio = f"{r['vs_micrograd']:.1f}x" if r["vs_micrograd"] else ""
        lines.append(f"| {r['workload']} | {r['implementation']} | {shown} | {ratio} | {r['note']} |")
    table = "\n".join(lines) + "\n"
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(table)
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repeats = 3 if args.quick else 7
    chain = 100_000 if args.quick else 1_000_000
    wide = 100_000 if args.quick else 1_000_000
    from autograd import Value

    threads = w.pin_threads()
    rows: list[dict[str, Any]] = []

    def add(workload: str, impl: str, value: float | None, unit: str, note: str = "") -> None:
        rows.append({"workload": workload, "implementation": impl, "value": value, "unit": unit, "note": note})
        shown = "skipped" if value is None else f"{value:.4g} {unit}"
        print(f"{workload:4} {impl:48} {shown:>16}  {note}", flush=True)

    mg = _have("micrograd")
    th = _have("torch")
    if mg:
        from micrograd.engine import Value as MgValue

        add("W1", "micrograd 0.1.0", w.w1_micrograd_style(MgValue, max(repeats // 2, 2)), "s/step")
    else:
        add("W1", "micrograd 0.1.0", None, "s/step", "not installed (pip install micrograd==0.1.0)")
    add("W1", "valuegrad Value API, micrograd-style code", w.w1_micrograd_style(Value, repeats), "s/step")
    add("W1", "valuegrad Value API, micrograd-style code + gc_relaxed",
        w.w1_micrograd_style(Value, repeats, relaxed_gc=True), "s/step")
    add("W1", "valuegrad nn.MLP (fused neurons)", w.w1_nn_mlp(repeats, relaxed_gc=False), "s/step")
    add("W1", "valuegrad nn.MLP, fused + gc_relaxed (as in train)", w.w1_nn_mlp(repeats, relaxed_gc=True), "s/step")
    step, setup = w.w1_compiled(repeats, codegen=False)
    add("W1", "valuegrad compiled replay, tape interpreter (Tape codegen=False)", step, "s/step",
        f"recorded once in {setup:.2f} s")
    step, setup = w.w1_compiled(repeats)
    add("W1", "valuegrad compiled replay, generated code (autograd.Tape)", step, "s/step",
        f"recorded and compiled once in {setup:.2f} s")
    if _have("numpy"):
        add("W1", "valuegrad vectorised replay (BatchTape, NumPy)", w.w1_vectorized(repeats * 5), "s/step")
        if th:
            add("W1", "valuegrad vectorised replay (BatchTape, PyTorch CPU)", w.w1_vectorized(repeats * 5, "torch"),
                "s/step")
    else:
        add("W1", "valuegrad vectorised replay (BatchTape, NumPy)", None, "s/step", 'needs "valuegrad[fast]"')
    add("W1", "hand-written pure-Python floats (the floor)", w.w1_hand_written(repeats), "s/step")
    if th:
        add("W1", "PyTorch 0-d tensor per scalar op", w.w1_torch_scalar(max(repeats // 2, 2)), "s/step")
        add("W1", "PyTorch batched tensors", w.w1_torch_batched(repeats * 20), "s/step")
    else:
        add("W1", "PyTorch", None, "s/step", "not installed (pip install torch==2.13.0)")
    mem = w.w2_peak_mib(Value, chain)
    add("W2", f"valuegrad chain of {chain:,} mul-add steps", w.w2_chain_fresh_process(chain), "s",
        f"fresh process; peak {mem:.0f} MiB")
    add("W2", f"valuegrad chain of {chain:,} mul-add steps + gc_relaxed", w.w2_chain_fresh_process(chain, True), "s",
        "fresh process")
    add("W2", f"valuegrad chain of {chain:,} mul-add steps, in this process", w.w2_chain(Value, chain), "s",
        "after W1" + (", torch imported" if th else ""))
    if mg:
        try:
            add("W2", "micrograd chain of 1,000 mul-add steps", w.w2_chain(MgValue, 1000), "s")
        except RecursionError:
            add("W2", "micrograd chain of 1,000 mul-add steps", None, "s", "failed: RecursionError (measured)")
    add("W3", f"valuegrad wide expression, {wide:,} nodes", w.w3_wide(Value, wide), "nodes/s")
    add("W4", "valuegrad bytes per node (tracemalloc)", w.w4_bytes_per_node(Value), "B/node")
    if mg:
        add("W4", "micrograd bytes per node (tracemalloc)", w.w4_bytes_per_node(MgValue, 20_000), "B/node",
            "includes a Value per constant")
    add("W5", "valuegrad train (default run, wall-clock)", w.w5_train_cli(), "s")
    few = 1 if args.quick else 3
    add("W6", "valuegrad graph path (nn.train compiled=False)", w.w6_digits_epoch("graph", 1), "s/epoch")
    add("W6", "valuegrad compiled scalar path (SampleTape, no NumPy)", w.w6_digits_epoch("compiled", few), "s/epoch",
        f"set-up once per run {w.w6_setup('compiled'):.2f} s")
    if _have("numpy"):
        add("W6", "valuegrad vectorised replay (BatchTape, NumPy)", w.w6_digits_epoch("vectorized", few), "s/epoch",
            f"set-up once per run {w.w6_setup('vectorized'):.2f} s")
        if th:
            add("W6", "valuegrad vectorised replay (BatchTape, PyTorch CPU)",
                w.w6_digits_epoch("vectorized", few, "torch"), "s/epoch",
                f"set-up once per run {w.w6_setup('vectorized', 'torch'):.2f} s")
    if th:
        add("W6", W6_TORCH, w.w6_torch_epoch(few), "s/epoch")
    add("W7", "valuegrad import autograd, nn (fresh process, bytecode cached)", w.w7_import_ms(5 if args.quick else 15),
        "ms", "median of fresh processes, less a bare interpreter's start")

    rounds = 1 if args.quick else 5
    for name, run_args in (("moons", []), ("digits", ["--dataset", "digits"]),
                           ("digits --vectorized", ["--dataset", "digits", "--vectorized"])):
        if "--vectorized" in run_args and not _have("numpy"):
            continue
        view = w.w8_training_view(run_args, rounds)
        add("W8", f"valuegrad train {name}: recording snapshots (training time)", view["recording"], "x",
            f"with the view / --no-html; {view['train_s']:.2f} s without")
        add("W8", f"valuegrad train {name}: the whole run, training.html written", view["whole"], "x",
            f"with / --no-html; {view['wall_s']:.2f} s without; training.html {view['page_mb']:.1f} MB")

    base = next((r["value"] for r in rows if r["implementation"] == "micrograd 0.1.0" and r["value"]), None)
    torch6 = next((r["value"] for r in rows if r["workload"] == "W6" and r["implementation"] == W6_TORCH), None)
    for r in rows:
        r["vs_micrograd"] = (base / r["value"]) if (base and r["workload"] == "W1" and r["value"]) else None
        if r["workload"] == "W6" and torch6 and r["value"] and r["implementation"] != W6_TORCH:
            r["note"] = (r["note"] + "; " if r["note"] else "") + f"{r['value'] / torch6:.2f}x batched PyTorch's time"
    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "quick": args.quick,
        "threads": threads,
    }
    print(write_results(args.out, meta, rows), end="")
    print(f"written to {os.path.join(os.path.relpath(args.out), 'results.md')} and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
