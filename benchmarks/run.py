#!/usr/bin/env python3
"""The grader's benchmarks, side by side in one run. Not part of the test suite.

    python benchmarks/run.py            # everything: a table with ratios, and JSON
    python benchmarks/run.py --quick    # one repetition, one submission, three exercises under bare pytest:
                                        # a smoke run, whose figures mean nothing
    python benchmarks/run.py --only watch --only batch

floor    a fresh process that imports torch, numpy and pytest and builds one optimizer:
         the cost no grader can avoid
cold     `python grader.py --target solutions`, from a fresh process, each run right after a
         run of the floor (its ratio is to those floor runs: both met the same machine)
pytest   bare `python -m pytest checks --target solutions`
watch    watch mode: from saving an exercise file to its result being printed (median of several
         saves, a second apart, each a rename over the file as many editors save)
batch    `python grader.py batch` over N (and N/2) copies of the solutions, in both isolation
         modes (per submission is batch's default): seconds per submission, and the marginal
         cost of one more
cluster  `python grader.py batch --scheduler local --jobs 2` (a LocalCluster of two Dask worker
         processes) against the lanes (`--jobs 2`), N and N/2 submissions each, in turn: the
         marginal cost of one more submission on each, and their ratio (not in --quick: it
         starts a cluster for every run; `--only cluster` runs it)
memory   peak resident memory of floor, cold and batch (the largest process of each run)

Medians over the repetitions; ratios are to the floor (cold, memory) or to bare pytest.
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
PY = sys.executable
FLOOR = ("import torch, numpy, pytest; "
         "torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.1)")
# runs a command, then prints the peak RSS (kB) of its largest process and the CPU time (user and
# system) of all its processes
MEASURE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
           "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
           "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
           "print(time.perf_counter() - t, u.ru_maxrss, r.returncode, u.ru_utime + u.ru_stime)")


def timed(cmd: list[str], env=None) -> tuple[float, int, int, float]:
    """(seconds, peak RSS in MB, exit code, CPU seconds) of a command, measured from a clean wrapper."""
    out = subprocess.run([PY, "-c", MEASURE, *cmd], cwd=ROOT, capture_output=True, text=True, env=env)
    seconds, rss_kb, code, cpu = out.stdout.split()
    return float(seconds), int(rss_kb) // 1024, int(code), float(cpu)


def repeat(cmd, n, env=None) -> dict:
    return summarize([timed(cmd, env) for _ in range(n)])


def summarize(runs: list) -> dict:
    n = len(runs)
    return {"median_s": statistics.median(r[0] for r in runs), "min_s": min(r[0] for r in runs),
            "cpu_s": statistics.median(r[3] for r in runs),
            "peak_mb": max(r[1] for r in runs), "exit_codes": sorted({r[2] for r in runs}), "repetitions": n}


def bench_floor(n, _):
    return repeat([PY, "-c", FLOOR], n)


def bench_cold(n, _):
    """The cold grade, each run right after a run of the floor: its ratio to the floor compares
    runs that met the same machine (run apart, both drift with whatever else the machine does)."""
    cold, floor = [], []
    for _ in range(n):
        floor.append(timed([PY, "-c", FLOOR]))
        cold.append(timed([PY, "grader.py", "--target", "solutions", "--no-color"]))
    result = summarize(cold)
    result["floor_median_s"] = statistics.median(r[0] for r in floor)
    result["ratio"] = result["median_s"] / result["floor_median_s"]
    return result


def bench_pytest(n, _, quick: bool = False):
    env = dict(os.environ, PYTEST_ADDOPTS="-q")
    checks = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "checks").glob("test_ex0[1-3]_*.py")) if quick else ["checks"]
    return repeat([PY, "-m", "pytest", *checks, "--target", "solutions", "-q", "-p", "no:cacheprovider"], n, env)


def bench_watch(n, _):
    from grading.core.catalog import load_catalog

    exercise = load_catalog()["ex03_sgd_step"]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "exercises"
        shutil.copytree(ROOT / "solutions", target)
        env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([PY, "grader.py", "watch", "--target", str(target)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            _wait_for(proc, "exercises,")
            latencies = []
            source = (target / exercise.filename).read_text()
            for i in range(max(n * 3, 5) if n > 1 else 2):
                time.sleep(1.0)  # saves a second apart, as a learner makes them: the next grading process is ready
                saved = target / f".{exercise.filename}.tmp"
                saved.write_text(source + f"\n# save {i}\n")
                started = time.perf_counter()
                os.replace(saved, target / exercise.filename)  # the moment the new version is there
                _wait_for(proc, "exercises,")
                latencies.append(time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {"median_s": statistics.median(latencies), "min_s": min(latencies), "max_s": max(latencies),
            "repetitions": len(latencies), "exercise": exercise.id}


def _wait_for(proc, fragment: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the watcher stopped")
        if fragment in line:
            return
    raise TimeoutError(fragment)


def bench_batch(n, submissions):
    """Batch grading in both isolation modes, of N and of N/2 submissions: the seconds per
    submission of the whole command (start-up included), and the marginal cost of one more
    submission (the slope between the two sizes), which is what a large class costs."""
    half = max(1, submissions // 2)
    results = {"submissions": submissions}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for size in sorted({half, submissions}):
            folders[size] = Path(tmp) / f"subs{size}"
            for i in range(size):
                shutil.copytree(ROOT / "solutions", folders[size] / f"student{i:03d}")
        for isolation in ("exercise", "submission"):
            runs = {}
            for size, folder in folders.items():
                cmd = [PY, "grader.py", "batch", str(folder), "--out", str(Path(tmp) / "grades.csv"), "--seed", "1",
                       "--isolation", isolation]
                runs[size] = repeat(cmd, max(1, n // 2))
            whole = runs[submissions]
            result = dict(whole, per_submission_s=whole["median_s"] / submissions)
            if half < submissions:
                result["marginal_s"] = (whole["median_s"] - runs[half]["median_s"]) / (submissions - half)
                # the CPU time of one more submission, all processes together: steadier than the
                # wall-clock slope where other work shares the machine
                result["marginal_cpu_s"] = (whole["cpu_s"] - runs[half]["cpu_s"]) / (submissions - half)
            results[isolation] = result
    return results


def bench_cluster(n, submissions):
    """Batch grading on a LocalCluster of 2 workers and on 2 lanes, each over N and N/2 copies of
    the solutions, the runs of the two taking turns so that both meet the same machine: the
    marginal cost of one more submission on each (the slope between the two sizes; the cluster's
    start, its workers importing torch, falls out of it) and the cluster's over the lanes'."""
    submissions = max(2, submissions)
    half = submissions // 2
    modes = {"lanes": [], "cluster": ["--scheduler", "local"]}
    times = {(mode, size): [] for mode in modes for size in (half, submissions)}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for size in (half, submissions):
            folders[size] = Path(tmp) / f"subs{size}"
            for i in range(size):
                shutil.copytree(ROOT / "solutions", folders[size] / f"student{i:03d}")
        for _ in range(max(1, n // 2)):
            for size, folder in folders.items():
                for mode, extra in modes.items():
                    cmd = [PY, "grader.py", "batch", str(folder), "--out", str(Path(tmp) / "grades.csv"),
                           "--seed", "1", "--jobs", "2", *extra]
                    times[mode, size].append(timed(cmd))
    results = {"submissions": submissions, "workers": 2}
    for mode in modes:
        whole = [t[0] for t in times[mode, submissions]]
        part = [t[0] for t in times[mode, half]]
        results[mode] = {"median_s": statistics.median(whole), "half_median_s": statistics.median(part),
                         "marginal_s": (statistics.median(whole) - statistics.median(part)) / (submissions - half),
                         "peak_mb": max(t[1] for t in times[mode, submissions]),
                         "exit_codes": sorted({t[2] for t in times[mode, submissions] + times[mode, half]}),
                         "repetitions": len(whole)}
    results["ratio"] = results["cluster"]["marginal_s"] / results["lanes"]["marginal_s"]
    return results


BENCHMARKS = {"floor": bench_floor, "cold": bench_cold, "pytest": bench_pytest, "watch": bench_watch,
              "batch": bench_batch, "cluster": bench_cluster}
QUICK_SKIPS = {"cluster"}  # --quick leaves it out unless named with --only


def machine() -> dict:
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpus": os.cpu_count()}


def table(results: dict) -> str:
    b = results["benchmarks"]
    rows = [("benchmark", "median", "ratio", "target", "peak MB")]
    floor = b.get("floor", {}).get("median_s")
    floor_mb = b.get("floor", {}).get("peak_mb")

    def ratio(value, base):
        return f"{value / base:.2f}x" if value and base else "-"

    if "floor" in b:
        rows.append(("floor (import torch + optimizer)", f"{floor:.2f} s", "1.00x", "", str(floor_mb)))
    if "cold" in b:
        c = b["cold"]
        rows.append(("cold full grade", f"{c['median_s']:.2f} s", ratio(c["median_s"], c.get("floor_median_s", floor)),
                     "<= 1.15x floor",
                     f"{c['peak_mb']} ({ratio(c['peak_mb'], floor_mb)})"))
    if "pytest" in b:
        p = b["pytest"]
        rows.append(("bare pytest over the checks", f"{p['median_s']:.2f} s", "", "", str(p["peak_mb"])))
        if "cold" in b:
            rows.append(("  grader / bare pytest", "", ratio(b["cold"]["median_s"], p["median_s"]), "<= 1.05x", ""))
    if "watch" in b:
        rows.append(("watch re-grade after a save", f"{b['watch']['median_s'] * 1000:.0f} ms", "", "<= 100 ms", ""))
    if "batch" in b:
        for isolation in ("exercise", "submission"):
            bb = b["batch"][isolation]
            default = " (the default)" if isolation == "submission" else ""
            rows.append((f"batch, {b['batch']['submissions']} submissions, --isolation {isolation}{default}",
                         f"{bb['per_submission_s']:.2f} s each", "", "<= 0.5 s each",
                         f"{bb['peak_mb']} ({ratio(bb['peak_mb'], floor_mb)})"))
            if "marginal_s" in bb:
                rows.append(("  one more submission", f"{bb['marginal_s']:.2f} s", "", "", ""))
                rows.append(("  one more submission, CPU time of all its processes", f"{bb['marginal_cpu_s']:.2f} s",
                             "", "", ""))
    if "cluster" in b:
        c = b["cluster"]
        rows.append((f"batch on 2 lanes, one more submission ({c['submissions']} and {c['submissions'] // 2})",
                     f"{c['lanes']['marginal_s']:.2f} s", "1.00x", "", str(c["lanes"]["peak_mb"])))
        rows.append(("batch --scheduler local, 2 workers, one more submission", f"{c['cluster']['marginal_s']:.2f} s",
                     f"{c['ratio']:.2f}x", "<= 1.5x the lanes'", str(c["cluster"]["peak_mb"])))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these")
    parser.add_argument("--quick", action="store_true", help="one repetition and few submissions: a smoke run")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results.json"), help="where to write JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    n = 1 if args.quick else args.repetitions
    submissions = 1 if args.quick else args.submissions
    results = {"machine": machine(), "quick": args.quick, "benchmarks": {}}
    for name in args.only or [b for b in BENCHMARKS if not (args.quick and b in QUICK_SKIPS)]:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        if name == "pytest":  # a smoke run checks three exercises' checks under bare pytest, not all
            results["benchmarks"][name] = bench_pytest(n, submissions, quick=args.quick)
        else:
            results["benchmarks"][name] = BENCHMARKS[name](n, submissions)
    print(table(results))
    m = results["machine"]
    print(f"\n{m['cpus']} CPUs, Python {m['python']}, torch {m['torch']}, {m['platform']}")
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
