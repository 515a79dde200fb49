#!/usr/bin/env python3
"""Benchmarks of the grader. Not part of the test suite: timings in tests are flaky.

    python benchmarks/run.py                 # every benchmark, a table, and JSON
    python benchmarks/run.py --only watch    # one of them
    python benchmarks/run.py --quick         # fewer repetitions (a smoke run)

watch: the latency of watch mode's re-grade, from the moment an exercise file is saved
to the moment its result and the progress line are printed (median over repetitions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_watch(repetitions: int) -> dict:
    """Start `grader.py watch` on a copy of the solutions; rewrite one file; time the report."""
    from grading.catalog import load_catalog

    catalog = load_catalog()
    exercise = catalog["ex03_sgd_step"]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "exercises"
        shutil.copytree(ROOT / "solutions", target)
        env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "grader.py", "watch", "--target", str(target)], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            _wait_for(proc, "exercises,")
            latencies = []
            source = (target / exercise.filename).read_text()
            for i in range(repetitions):
                time.sleep(0.3)  # let the watcher settle into its polling loop
                started = time.perf_counter()
                (target / exercise.filename).write_text(source + f"\n# save {i}\n")
                _wait_for(proc, "exercises,")
                latencies.append(time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {
        "median_s": statistics.median(latencies),
        "min_s": min(latencies),
        "max_s": max(latencies),
        "repetitions": repetitions,
        "exercise": exercise.id,
    }


def _wait_for(proc, fragment: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the watcher stopped")
        if fragment in line:
            return
    raise TimeoutError(fragment)


BENCHMARKS = {"watch": bench_watch}


def machine() -> dict:
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these")
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke run")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results.json"), help="where to write JSON")
    args = parser.parse_args(argv)
    repetitions = 3 if args.quick else 15
    results = {"machine": machine(), "benchmarks": {}}
    for name in args.only or BENCHMARKS:
        results["benchmarks"][name] = BENCHMARKS[name](repetitions)
    print(f"{'benchmark':<12} {'median':>10} {'min':>10} {'max':>10}")
    for name, r in results["benchmarks"].items():
        print(f"{name:<12} {r['median_s'] * 1000:>8.0f}ms {r['min_s'] * 1000:>8.0f}ms {r['max_s'] * 1000:>8.0f}ms")
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"(JSON: {args.json}; {results['machine']['cpus']} CPUs, torch {results['machine']['torch']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
