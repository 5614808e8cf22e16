"""``python -m benchmarks.soak [--steps N]``: long runs on every training path stay flat in memory.

Each path (graph, compiled, vectorised) trains a small model for ``--steps`` steps in rounds of
1,000, a fresh ``nn.train`` call (and so a freshly recorded and compiled tape) per round, with
the cyclic garbage collector off: whatever is not freed by reference counting alone would pile
up. After each round it samples the resident memory (``/proc/self/statm``), Python's traced
memory and the number of generated sources registered for tracebacks (``linecache``), and
prints the growth from the first round to the last.
"""

from __future__ import annotations

import argparse
import gc
import linecache
import os
import resource
import sys
import tracemalloc
from typing import Any


def resident_mib() -> float:
    """This process's resident memory in MiB (Linux ``/proc``; the peak on other systems)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tapes_in_linecache() -> int:
    """Generated kernels whose source is registered for tracebacks."""
    return sum(1 for name in linecache.cache if name.startswith("<valuegrad tape"))


def soak(path: str, steps: int, round_steps: int = 1000) -> dict[str, Any]:
    """Train ``steps`` steps on ``path`` in rounds; return the samples and their growth."""
    from nn import MLP, train
    from nn.data import make_moons

    X, y = make_moons(32, noise=0.1, seed=0)
    model = MLP(2, [8, 1], seed=0)
    samples: list[tuple[float, float, int]] = []
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(max(steps // round_steps, 1)):
            train(model, X, y, steps=round_steps, batch_size=16, seed=1, compiled=path != "graph",
                  vectorized=path == "vectorized")
            samples.append((resident_mib(), tracemalloc.get_traced_memory()[0] / 2**20, tapes_in_linecache()))
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    first, last = samples[0], samples[-1]
    return {
        "path": path,
        "steps": steps,
        "rounds": len(samples),
        "resident_growth_mib": last[0] - first[0],
        "traced_growth_mib": last[1] - first[1],
        "tapes_registered": last[2],
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--steps", type=int, default=20_000, help="steps per path (default 20,000)")
    args = parser.parse_args(argv)
    for path in ("graph", "compiled", "vectorized"):
        r = soak(path, args.steps)
        print(f"{path:10} {r['steps']:,} steps in {r['rounds']} rounds: resident memory "
              f"{r['samples'][0][0]:.1f} -> {r['samples'][-1][0]:.1f} MiB ({r['resident_growth_mib']:+.2f}), "
              f"traced {r['traced_growth_mib']:+.3f} MiB, generated sources registered {r['tapes_registered']}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
