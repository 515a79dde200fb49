"""Classroom exports: the GitHub Classroom workflow, the Gradescope bundle, the learners' repository."""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grading import ROOT, SOLUTIONS_DIR
from grading.classroom import workflow as classroom
from grading.core.catalog import Catalog, Exercise
from grading.classroom.workflow import ClassroomError, render_workflow
from grading.classroom.export import ExportError, export_classroom, export_gradescope
from grading.cli import main as grader
from grading.core.stubs import stub_for

from .conftest import CATALOG

EX = CATALOG["ex03_sgd_step"]
WORKFLOW = ROOT / ".github" / "workflows" / "classroom.yml"
WITH_SOLUTION = [ex for ex in CATALOG if (SOLUTIONS_DIR / ex.filename).exists()]


# ------------------------------------------------------------------ helpers


def solution_body_lines(ex: Exercise) -> list[str]:
    """Lines of the reference implementation that nothing shipped legitimately contains (not the stub,
    the catalog's hints, the checks or the engine): finding one in an export means a solution leaked."""
    solution = (SOLUTIONS_DIR / ex.filename).read_text(encoding="utf-8")
    tree = ast.parse(solution)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == ex.function)
    body = func.body[1:] if isinstance(func.body[0], ast.Expr) else func.body
    lines = solution.splitlines()[body[0].lineno - 1:func.end_lineno]
    shipped = _shipped_text()
    found = []
    for line in lines:
        text = re.sub(r"[ \t]+", " ", line.strip())
        if len(text) >= 10 and not text.startswith("#") and text not in shipped:
            found.append(text)
    return found


@functools.lru_cache(maxsize=1)
def _shipped_text() -> str:
    """Everything an export ships legitimately: every stub, the catalog (hints), the checks, the engine."""
    texts = [stub_for(ex) for ex in WITH_SOLUTION] + [(ROOT / "exercises" / "catalog.toml").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for d in ("checks", "grading") for p in (ROOT / d).rglob("*.py")]
    return re.sub(r"[ \t]+", " ", "\n".join(texts))


def leaked_lines(folder_texts: dict[str, str]) -> list[str]:
    normalised = {name: re.sub(r"[ \t]+", " ", text) for name, text in folder_texts.items()}
    leaks = []
    for ex in WITH_SOLUTION:
        for line in solution_body_lines(ex):
            leaks += [f"{ex.short}: {line!r} in {name}" for name, text in normalised.items() if line in text]
    return leaks


def run(cmd, cwd, env=None, timeout=180):
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------ GitHub Classroom workflow


def test_workflow_is_generated_from_the_catalog_and_current(monkeypatch, tmp_path, capsys):
    assert WORKFLOW.read_text(encoding="utf-8") == render_workflow(CATALOG), \
        "the workflow is stale: run `python -m grading.classroom.workflow`"
    assert classroom.main(["--check"]) == 0
    # --check notices a stale file; writing repairs it
    monkeypatch.setattr(classroom, "ROOT", tmp_path)
    stale = tmp_path / ".github" / "workflows" / "classroom.yml"
    stale.parent.mkdir(parents=True)
    stale.write_text("name: old\n", encoding="utf-8")
    assert classroom.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert classroom.main([]) == 0
    assert classroom.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == WORKFLOW.read_text(encoding="utf-8")


def test_workflow_has_one_graded_step_per_exercise_and_a_reporter_naming_them_all():
    import yaml  # a test extra: `pip install -e .[test]`
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true; ours is quoted
    assert set(on) >= {"push", "workflow_dispatch"}
    steps = data["jobs"]["run-autograding-tests"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[1]["uses"].startswith("actions/setup-python@") and steps[1]["with"]["python-version"] == "3.11"
    install = steps[2]["run"]
    assert "--index-url https://download.pytorch.org/whl/cpu" in install and "torch" in install
    assert "pip install -e ." in install

    graders = [s for s in steps if s.get("uses") == "classroom-resources/autograding-command-grader@v1"]
    assert [s["id"] for s in graders] == [ex.id for ex in CATALOG]
    for step, ex in zip(graders, CATALOG):
        w = step["with"]
        assert set(w) >= {"test-name", "command", "timeout", "max-score"}
        assert ex.short in w["test-name"] and ex.title in w["test-name"]
        assert w["command"].split()[:3] == ["python", "grader.py", ex.short]
        assert isinstance(w["max-score"], int) and w["max-score"] == ex.points
        assert isinstance(w["timeout"], int) and 1 <= w["timeout"] <= 60

    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    ids = [ex.id for ex in CATALOG]
    assert reporter["with"]["runners"] == ",".join(ids)
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids}


def test_workflow_refuses_points_github_classroom_cannot_score():
    odd = Catalog([Exercise("ex01_a", "a", "A", "", "", "p", 1.5)])
    with pytest.raises(ClassroomError, match="whole number"):
        render_workflow(odd)


# ------------------------------------------------------------------ Gradescope


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return export_gradescope(tmp_path_factory.mktemp("gradescope") / "autograder.zip")


def test_gradescope_bundle_holds_the_grader_and_the_checks_and_no_solutions(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        texts = {n: zf.read(n).decode("utf-8") for n in infos}
    names = set(infos)
    expected = {"setup.sh", "run_autograder", "requirements.txt", "grader.py", "pyproject.toml",
                "exercises/catalog.toml", "grading/__init__.py", "grading/cli/__init__.py", "grading/integrity.json",
                "grading/classroom/autograder/gradescope.py", "checks/conftest.py", "checks/instruments/__init__.py",
                "checks/instruments/mistakes.py"}
    expected |= {f"checks/{p.name}" for p in (ROOT / "checks").glob("test_*.py")}
    assert expected <= names, f"missing: {sorted(expected - names)}"
    forbidden = [n for n in names if n.split("/")[0] in ("solutions", "tests", "benchmarks")
                 or "__pycache__" in n or re.match(r"exercises/ex\d\d_", n)]
    assert not forbidden
    assert not leaked_lines(texts)
    for script in ("setup.sh", "run_autograder"):
        mode = infos[script].external_attr >> 16
        assert mode & stat.S_IXUSR, f"{script} is not executable in the zip"
        assert "\r\n" not in texts[script]
        path = tmp_path / script
        path.write_text(texts[script], encoding="utf-8")
        assert run(["bash", "-n", str(path)], tmp_path).returncode == 0, f"{script}: bash syntax error"

    setup = texts["setup.sh"]
    assert not re.search(r"@[A-Z_]+@", setup), "an unfilled placeholder in setup.sh"
    assert '--index-url "$TORCH_INDEX_URL"' in setup and "https://download.pytorch.org/whl/cpu" in setup
    assert "KATA_TORCH_REQUIREMENT" in setup and "torch>=" in setup
    assert "requirements.txt" in setup
    reqs = [r for r in texts["requirements.txt"].splitlines() if r and not r.startswith("#")]
    assert "numpy" in reqs and not any(r.startswith("torch") for r in reqs)

    # the bundle's integrity manifest describes the files it ships
    manifest = json.loads(texts["grading/integrity.json"])["files"]
    for name, digest in manifest.items():
        assert hashlib.sha256(texts[name].encode("utf-8").replace(b"\r\n", b"\n")).hexdigest() == digest, name


def _autograder_root(base: Path, bundle: Path, files: dict[str, str], *, own_source: bool = True) -> Path:
    """A fake /autograder: source/ (the unpacked bundle), run_autograder, submission/, results/."""
    root = base / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    if own_source:
        with zipfile.ZipFile(bundle) as zf:
            zf.extractall(root / "source")
        shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # what Gradescope does
    for name, text in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _start(script: Path, root: Path, **env) -> subprocess.Popen:
    environment = {**os.environ, "KATA_AUTOGRADER_ROOT": str(root), "KATA_PYTHON": sys.executable, **env}
    environment.pop("KATA_SEED", None)
    return subprocess.Popen(["bash", str(script)], env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _results(root: Path) -> dict:
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert isinstance(data["score"], float) and isinstance(data["output"], str) and data["output"]
    return data


def test_run_autograder_grades_every_kind_of_submission_and_fails_closed(bundle, tmp_path):
    stubs = {ex.filename: stub_for(ex) for ex in WITH_SOLUTION}
    reference = (SOLUTIONS_DIR / EX.filename).read_text(encoding="utf-8")
    # (a) files at the top of the submission: ex03's reference and every other stub, in Gradescope's layout
    a = _autograder_root(tmp_path / "a", bundle, {**stubs, EX.filename: reference})
    source = a / "source"
    # (b) a clone of the learner's repository: exercises/ (and the pristine stubs, which must not be graded)
    b = _autograder_root(tmp_path / "b", bundle, {
        **{f"repo/exercises/{n}": t for n, t in stubs.items()},
        f"repo/exercises/{EX.filename}": reference,
        **{f"repo/grading/pristine/{n}": t for n, t in stubs.items()},
        "repo/README.md": "mine\n",
    }, own_source=False)
    # (c) an empty submission, with a stale report from an earlier run lying around
    c = _autograder_root(tmp_path / "c", bundle, {}, own_source=False)
    (c / "results" / "results.json").write_text('{"score": 99.0, "tests": [], "output": "stale"}')
    # (d) a grader that cannot run (a bad argument): no report from it, so a fallback one
    d = _autograder_root(tmp_path / "d", bundle, {EX.filename: reference}, own_source=False)

    procs = [
        _start(a / "run_autograder", a),
        _start(source / "run_autograder", b, KATA_AUTOGRADER_ARGS=f"{EX.short}"),
        _start(source / "run_autograder", c),
        _start(source / "run_autograder", d, KATA_AUTOGRADER_ARGS="--no-such-option"),
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out

    ra = _results(a)
    by_name = {t["name"].split()[0]: t for t in ra["tests"]}
    assert len(ra["tests"]) == len(CATALOG), outputs[0]
    assert by_name[EX.short]["score"] == by_name[EX.short]["max_score"] == EX.points, by_name[EX.short]["output"]
    assert by_name[EX.short]["status"] == "passed"
    assert ra["score"] == EX.points, ra["output"]
    assert all(t["score"] == 0 for n, t in by_name.items() if n != EX.short)
    assert "INTEGRITY" not in ra["output"], ra["output"]
    assert "Graded: the files at the top of your submission" in ra["output"]

    rb = _results(b)
    assert [t["name"].split()[0] for t in rb["tests"]] == [EX.short]
    assert rb["score"] == EX.points and rb["tests"][0]["status"] == "passed", rb["tests"][0]["output"]
    assert "Graded: repo/exercises/" in rb["output"]

    rc = _results(c)
    assert rc["score"] == 0.0 and "stale" not in rc["output"]
    assert "not graded" in rc["output"] and "exercises/" in rc["output"]
    assert len(rc["tests"]) == len(CATALOG) and all(t["score"] == 0 for t in rc["tests"])

    rd = _results(d)
    assert rd["score"] == 0.0 and "not graded" in rd["output"]
    assert "--no-such-option" in rd["output"], rd["output"]  # the grader's own one-line message


def test_run_autograder_picks_the_target_of_every_submission_layout(tmp_path):
    from grading.classroom.intake import SubmissionError, find_target as batch_find_target

    sys.path.insert(0, str(ROOT / "grading" / "classroom" / "autograder"))
    try:
        from gradescope import NothingToGrade, find_target
    finally:
        sys.path.remove(str(ROOT / "grading" / "classroom" / "autograder"))

    def pick(*files):
        sub = tmp_path / f"s{len(list(tmp_path.iterdir()))}"
        sub.mkdir()
        for f in files:
            (sub / f).parent.mkdir(parents=True, exist_ok=True)
            (sub / f).write_text("", encoding="utf-8")
        try:
            picked = find_target(sub).relative_to(sub).as_posix()
        except NothingToGrade:
            picked = None
        try:  # batch picks the same: there is one rule
            assert batch_find_target(sub).relative_to(sub).as_posix() == picked
        except SubmissionError:
            assert picked is None
        return picked

    assert pick("ex03_sgd_step.py", "exercises/ex01_enable_tracking.py") == "."
    assert pick("repo/exercises/ex03_sgd_step.py", "repo/grading/pristine/ex03_sgd_step.py",
                "repo/notebooks/ex03_sgd_step.ipynb") == "repo/exercises"
    assert pick("a/ex01_enable_tracking.py", "b/exercises/ex03_sgd_step.py") == "b/exercises"
    assert pick("work/ex03_sgd_step.py") == "work"
    assert pick("ex03_sgd_step.ipynb") == "ex03_sgd_step.ipynb"  # one notebook: the notebook itself
    assert pick("nb/ex03_sgd_step.ipynb", "nb/ex04_accuracy.ipynb",
                "nb/.ipynb_checkpoints/ex03_sgd_step-checkpoint.ipynb") == "nb"  # several: their folder
    assert pick("README.md", "__MACOSX/ex03_sgd_step.py") is None
    assert pick("grading/pristine/ex03_sgd_step.py") is None
    assert pick("node_modules/x/ex03_sgd_step.py", "checks/ex04_accuracy.py", ".hidden/ex05_to_numpy.py") is None
    assert pick("deep/er/ex03_sgd_step.py", "top/ex04_accuracy.py") == "top"  # the shallowest
    assert pick("z/ex03_sgd_step.py", "b/ex04_accuracy.py") == "b"  # as shallow: by name


def test_gradescope_export_refuses_bad_output_paths(tmp_path):
    with pytest.raises(ExportError, match="is a folder"):
        export_gradescope(tmp_path)
    with pytest.raises(ExportError, match="does not exist"):
        export_gradescope(tmp_path / "nowhere" / "autograder.zip")


# ------------------------------------------------------------------ the learners' repository


@pytest.fixture(scope="module")
def learners(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("classroom") / "kata"
    dest.mkdir()  # an existing, empty folder is fine
    assert grader(["export", "classroom", str(dest)]) == 0
    return dest


def test_classroom_export_ships_stubs_checks_and_engine_but_no_solutions(learners):
    files = {p.relative_to(learners).as_posix(): p for p in learners.rglob("*") if p.is_file()}
    tops = {name.split("/")[0] for name in files}
    assert {"grader.py", "grading", "checks", "exercises", "pyproject.toml", ".gitignore", "README.md",
            ".github"} <= tops
    assert not tops & {"solutions", "tests", "benchmarks", "CONTRIBUTING.md", ".ci"}
    assert not [n for n in files if "__pycache__" in n or "/autograder/" in n]
    texts = {n: p.read_text(encoding="utf-8") for n, p in files.items()}
    assert not leaked_lines(texts)
    assert any(solution_body_lines(ex) for ex in WITH_SOLUTION), "the leak check found nothing to look for"

    for ex in WITH_SOLUTION:
        stub = stub_for(ex)
        assert texts[f"exercises/{ex.filename}"] == stub
        assert texts[f"grading/pristine/{ex.filename}"] == stub
    assert texts[".github/workflows/classroom.yml"] == render_workflow(CATALOG)
    assert texts["exercises/catalog.toml"] == (ROOT / "exercises" / "catalog.toml").read_text(encoding="utf-8")
    assert ".kata/" in texts[".gitignore"]

    readme = texts["README.md"]
    for needed in ("## Set up", "pip install -e .", "download.pytorch.org/whl/cpu", "## The learner's loop",
                   "| command | what it does |", "python grader.py hint", "python grader.py reset"):
        assert needed in readme, needed
    for ex in CATALOG:
        assert ex.title in readme
    for instructor_only in ("For instructors", "Developing the kata", "grader.py batch", "--format", "solutions/",
                            "CONTRIBUTING", "benchmarks", "python grader.py solution"):
        assert instructor_only not in readme, instructor_only

    # the copy's integrity manifest matches what it ships
    proc = run([sys.executable, "-m", "grading.core.integrity", "--check"], learners)
    assert proc.returncode == 0, proc.stderr


def test_classroom_export_grades_stubs_resets_and_keeps_the_solution_back(learners):
    env = {**os.environ, "KATA_STATE_DIR": str(learners / ".kata")}
    env.pop("KATA_SEED", None)
    graded = run([sys.executable, "grader.py", EX.short, "--no-color"], learners, env)
    assert graded.returncode == 1, graded.stdout + graded.stderr
    assert "NotImplementedError" in graded.stdout and "INTEGRITY" not in graded.stdout.upper()

    mine = learners / "exercises" / EX.filename
    mine.write_text("# my attempt\n", encoding="utf-8")
    reset = run([sys.executable, "grader.py", "reset", EX.short, "--yes"], learners, env)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert mine.read_text(encoding="utf-8") == stub_for(EX)
    backups = list((learners / ".kata" / "backups").glob(f"{EX.id}-*.py"))
    assert [b.read_text(encoding="utf-8") for b in backups] == ["# my attempt\n"]

    solution = run([sys.executable, "grader.py", "solution", EX.short], learners, env)
    assert solution.returncode == 1 and "not shipped" in solution.stdout


def test_classroom_export_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ExportError) as info:
        export_classroom(tmp_path)
    assert "not empty" in str(info.value) and "\n" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    assert grader(["export", "classroom", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not empty" in err
    with pytest.raises(ExportError, match="is a file"):
        export_classroom(tmp_path / "keep.txt")
