"""Classroom grading: output formats against golden files, integrity, limits, batch."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from grading import ROOT, SOLUTIONS_DIR
from grading.classroom.batch import run_batch
from grading.cli import main
from grading.core.config import ConfigError, setting
from grading.reports.formats import render, to_gradescope
from grading.core.integrity import Integrity
from grading.core.results import CheckResult, ExerciseResult, RunResult
from grading.core.stubs import stub_for

from .conftest import CATALOG

GOLDEN = Path(__file__).parent / "golden"
EX = CATALOG["ex03_sgd_step"]


def sample_run() -> RunResult:
    """Every kind of outcome once, with fixed numbers: the formats are pure functions of it."""
    def ex(id_, title, points, checks, error="", flags=()):
        return ExerciseResult(id_, title, points, checks=checks, error=error, flags=list(flags))

    ok = lambda name: CheckResult(name, "passed", duration=0.01)  # noqa: E731
    return RunResult(
        target="/submissions/alice", seed=1234, duration=12.4, sandbox="landlock ABI 7",
        integrity={"checked": True, "ok": False, "modified": ["checks/test_ex05_to_numpy.py"], "missing": []},
        integrity_affected={"ex05_to_numpy"},
        exercises=[
            ex("ex03_sgd_step", "A manual SGD step", 2, [ok("test_values[a]"), ok("test_values[b]")]),
            ex("ex05_to_numpy", "A safe numpy conversion", 2, [ok("test_shares_memory")]),
            ex("ex09_freeze_by_prefix", "Freezing parameters by name", 2, [
                ok("test_matches_prefix"),
                CheckResult("test_dot_boundary[seq12]", "failed", duration=0.02,
                            message="prefix '1' also froze 10.weight: match `name == p or name.startswith(p + '.')`."),
            ]),
            ex("ex13_make_optimizer", "An optimizer over what trains", 2, [ok("test_is_adam")],
               flags=["the code of this exercise read the reference solution solutions/ex13_make_optimizer.py."]),
            ex("ex17_decoder_loss", "A frozen encoder's boundary", 2, [
                CheckResult("test_decoder_gets_grads", "error", not_implemented=True,
                            message="not started: the function still raises NotImplementedError."),
            ]),
            ex("ex20_saliency", "Input saliency, even under no_grad", 3, [
                CheckResult("test_shape", "crashed", message="the Python process running this check was killed by SIGSEGV"),
            ]),
            ex("ex21_truncated_bptt", "Truncated backpropagation through time", 3, [
                CheckResult("test_losses[k2]", "timeout", duration=10.0, message="the check did not finish in time"),
            ]),
        ],
    )


@pytest.mark.parametrize("fmt,suffix", [("json", "json"), ("gradescope", "json"), ("junit", "xml")])
def test_formats_match_golden_files(fmt, suffix):
    text = render(sample_run(), fmt)
    golden = GOLDEN / f"sample.{fmt}.{suffix}"
    if os.environ.get("KATA_UPDATE_GOLDEN"):
        golden.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs; if the change is intended, rerun with KATA_UPDATE_GOLDEN=1 and review the diff"
    )


def test_gradescope_scores_zero_for_integrity_problems_and_follows_the_schema():
    data = to_gradescope(sample_run())
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    by_number = {t["number"]: t for t in data["tests"]}
    assert by_number["3"]["score"] == 2 and by_number["3"]["status"] == "passed"
    assert by_number["5"]["score"] == 0 and "INTEGRITY" in by_number["5"]["output"]  # modified checks
    assert by_number["13"]["score"] == 0 and "read the reference solution" in by_number["13"]["output"]
    assert data["score"] == 2
    for t in data["tests"]:
        assert set(t) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] in ("passed", "failed")


def test_junit_is_valid_xml_with_failures_and_errors():
    root = ET.fromstring(render(sample_run(), "junit"))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["ex09_freeze_by_prefix"].get("failures") == "1"
    assert suites["ex20_saliency"].get("errors") == "1"
    assert suites["ex13_make_optimizer"].find("testcase/error").get("type") == "integrity"


def test_classroom_report_is_written_from_the_start_and_completed(tmp_path):
    """A grader killed half-way still leaves a report: zeros for what never finished."""
    target = tmp_path / "t"
    target.mkdir()
    (target / EX.filename).write_text((SOLUTIONS_DIR / EX.filename).read_text())
    out = tmp_path / "results.json"
    partial = []
    from grading.engine.lane import Lane

    original = Lane.start

    def spy(*args, **kwargs):  # the report as it is when the first grading child starts
        partial.append(json.loads(out.read_text()))
        return original(*args, **kwargs)

    Lane.start = spy
    try:
        assert main(["--target", str(target), "--format", "gradescope", "--output", str(out), EX.short,
                     "--seed", "7"]) == 0
    finally:
        Lane.start = original
    assert partial and "Grading did not finish" in partial[0]["output"] and partial[0]["score"] == 0
    final = json.loads(out.read_text())
    assert final["tests"][0]["status"] == "passed" and "seed 7" in final["output"]
    assert "did not finish" not in final["output"]


# ------------------------------------------------------------------ integrity


def test_integrity_manifest_is_current():
    from grading.core.integrity import verify

    result = verify()
    assert result.ok, f"modified: {result.modified}, missing: {result.missing}: run `python -m grading.core.integrity`"


def test_the_manifest_and_the_frozen_copy_cover_the_checks_subfolders():
    """The checks' modules in subfolders (the shared instruments are a package) are hashed in the
    manifest, read into the frozen copy and imported from it, as the top-level ones are."""
    from grading.engine.frozen import _Finder
    from grading.core.integrity import MANIFEST, guarded_files
    from grading.engine.runner import current_sources

    nested = {p.relative_to(ROOT).as_posix() for p in (ROOT / "checks").rglob("*.py") if p.parent != ROOT / "checks"}
    assert "checks/instruments/advice.py" in nested
    assert nested <= {p.relative_to(ROOT).as_posix() for p in guarded_files()}
    assert nested <= set(json.loads(MANIFEST.read_text(encoding="utf-8"))["files"])
    sources = current_sources()
    assert nested <= set(sources.texts)
    spec = _Finder(sources).find_spec("checks.instruments.advice")
    assert spec is not None and spec.origin == str(ROOT / "checks" / "instruments" / "advice.py")


def test_integrity_affects_one_exercise_or_all():
    assert Integrity(modified=["checks/test_ex03_sgd_step.py"]).affected(CATALOG) == {"ex03_sgd_step"}
    assert Integrity(modified=["checks/instruments/advice.py"]).affected(CATALOG) == {ex.id for ex in CATALOG}
    assert Integrity(modified=["checks/support_ex09_freeze_by_prefix.py"]).affected(CATALOG) == {"ex09_freeze_by_prefix"}
    assert Integrity(missing=["exercises/catalog.toml"]).affected(CATALOG) == {ex.id for ex in CATALOG}


def kata_copy(tmp_path) -> Path:
    """The instructor-side files of the kata, copied so they can be tampered with."""
    dest = tmp_path / "kata"
    dest.mkdir()
    for name in ("grader.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, dest / name)
    for folder in ("grading", "checks", "solutions"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "exercises").mkdir()
    shutil.copy2(ROOT / "exercises" / "catalog.toml", dest / "exercises" / "catalog.toml")
    return dest


def test_a_tampered_check_scores_zero_in_classroom_formats(tmp_path):
    kata = kata_copy(tmp_path)
    check = kata / "checks" / EX.check_file.name
    check.write_text(check.read_text() + "\n# made to pass\n")
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / EX.filename).write_text((SOLUTIONS_DIR / EX.filename).read_text())
    proc = subprocess.run([sys.executable, "grader.py", EX.short, "--target", str(stub), "--format", "gradescope"],
                          cwd=kata, capture_output=True, text=True, timeout=120)
    data = json.loads(proc.stdout)
    assert data["tests"][0]["score"] == 0
    assert f"checks/{EX.check_file.name} differs" in data["output"]
    learner = subprocess.run([sys.executable, "grader.py", EX.short, "--target", str(stub)], cwd=kata,
                             capture_output=True, text=True, timeout=120, env=dict(os.environ, NO_COLOR="1"))
    assert "passed" in learner.stdout  # the learner's own view still grades ...
    assert learner.returncode == 1  # ... but an edited check is no pass for GitHub Classroom's exit code
    summary = subprocess.run([sys.executable, "grader.py", "--target", str(stub)], cwd=kata,
                             capture_output=True, text=True, timeout=120, env=dict(os.environ, NO_COLOR="1")).stdout
    assert "differ from the kata's originals" in summary


# ------------------------------------------------------------------ limits


def test_limits_come_from_cli_then_environment_then_pyproject(monkeypatch):
    monkeypatch.delenv("KATA_TIMEOUT", raising=False)
    assert setting("timeout") == 10.0  # pyproject.toml
    monkeypatch.setenv("KATA_TIMEOUT", "3.5")
    assert setting("timeout") == 3.5
    assert setting("timeout", 2) == 2.0
    monkeypatch.setenv("KATA_MEMORY_MB", "lots")
    with pytest.raises(ConfigError, match="KATA_MEMORY_MB"):
        setting("memory_mb")


def test_bad_limits_are_usage_errors(capsys, monkeypatch):
    monkeypatch.setenv("KATA_JOBS", "0")
    assert main(["batch", str(ROOT), "--out", "/dev/null"]) == 2
    assert "jobs must be positive" in capsys.readouterr().err


# ------------------------------------------------------------------ batch


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_grades_every_kind_of_submission(tmp_path, jobs):
    good = (SOLUTIONS_DIR / EX.filename).read_text()
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / EX.filename).write_text(good)
    (subs / "bob" / "repo" / "exercises").mkdir(parents=True)
    (subs / "bob" / "repo" / "exercises" / EX.filename).write_text(stub_for(EX))
    _zip(subs / "carol.zip", {f"carol-hw/{EX.filename}": good})
    (subs / "dave").mkdir()
    (subs / "eve.zip").write_text("not a zip")
    _zip(subs / "mallory.zip", {f"../../{EX.filename}": good})
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    outcomes = run_batch(subs, CATALOG, out, jobs=jobs, seed=3, timeout=10, memory_mb=2048, feedback=feedback)
    rows = {r["submission"]: r for r in csv.DictReader(out.open())}
    assert set(rows) == {"alice", "bob", "carol", "dave", "eve", "mallory"}
    assert rows["alice"][EX.id] == f"{EX.points:g}" and rows["alice"]["status"] == "graded"
    assert rows["carol"][EX.id] == f"{EX.points:g}"
    assert rows["bob"][EX.id] == "0" and rows["bob"]["status"] == "graded"
    assert rows["dave"]["status"].startswith("error: no exercise file")
    assert rows["eve"]["status"] == "error: eve.zip: not a valid zip file"
    assert "unsafe path" in rows["mallory"]["status"]
    assert not (tmp_path / EX.filename).exists()  # nothing escaped the extraction folder
    assert all(rows[r]["max_total"] == f"{CATALOG.max_score:g}" for r in rows)
    assert json.loads((feedback / "alice.json").read_text())["seed"] == 3
    assert len(outcomes) == 6


def test_a_stopped_batch_keeps_what_it_graded(tmp_path):
    """Ctrl-C half-way: the submissions already graded keep their feedback and their row, the
    rest get a row that says they were not graded."""
    good = (SOLUTIONS_DIR / EX.filename).read_text()
    hang = f"def {EX.function}(*args, **kwargs):\n    while True:\n        pass\n"
    subs = tmp_path / "subs"
    for name, text in (("a-alice", good), ("b-bob", good), ("c-carol", hang)):
        (subs / name).mkdir(parents=True)
        (subs / name / EX.filename).write_text(text)
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    proc = subprocess.Popen([sys.executable, "grader.py", "batch", str(subs), "--out", str(out), "--feedback",
                             str(feedback), "--jobs", "1", "--timeout", "60"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (feedback / "b-bob.json").exists():  # written as soon as bob is graded
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        time.sleep(0.5)  # carol's endless loop is running
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    rows = {r["submission"]: r for r in csv.DictReader(out.open())}
    assert rows["a-alice"][EX.id] == f"{EX.points:g}" and rows["b-bob"]["status"] == "graded"
    assert rows["c-carol"]["status"] == "error: not graded (the batch was stopped)"
    alice = {e["id"]: e for e in json.loads((feedback / "a-alice.json").read_text())["exercises"]}
    assert alice[EX.id]["status"] == "passed"


def test_benchmark_script_runs_in_quick_mode(tmp_path):
    """Only that every benchmark runs and is reported: timings belong to the benchmark, not to tests."""
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "benchmarks/run.py", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert set(data["benchmarks"]) == {"floor", "cold", "pytest", "watch", "batch"}
    assert all(data["benchmarks"][name]["exit_codes"] == [0] for name in ("floor", "cold", "pytest"))
    for row in ("cold full grade", "grader / bare pytest", "watch re-grade", "--isolation exercise",
                "--isolation submission (the default)"):
        assert row in proc.stdout
