"""Fixtures of the project's own tests: grade a file or folder with the real runner."""

from __future__ import annotations

import ast
import multiprocessing
import os
import pickle
from pathlib import Path

import pytest

try:
    import fcntl
except ImportError:  # Windows: the tests run in one process there
    fcntl = None

from grading import SOLUTIONS_DIR
from grading.core.catalog import load_catalog
from grading.engine.runner import grade, grade_many
from grading.core.stubs import stub_for

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(autouse=True)
def _ctrl_c_handler_kept():
    """A watch stopped by Ctrl-C ignores a second one (SIG_IGN): in this process that would be
    inherited by every grader a later test starts, which then could not be stopped."""
    import signal

    handler = signal.getsignal(signal.SIGINT)
    yield
    if signal.getsignal(signal.SIGINT) is not handler and handler is not None:
        signal.signal(signal.SIGINT, handler)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Every skip is listed with its reason in the closing summary: what this machine could not
    check (a browser, the kernel's sandbox) is said, not only counted."""
    chars = config.option.reportchars or ""
    if not any(c in chars for c in "saA"):
        config.option.reportchars = chars + "s"
CATALOG = load_catalog()


def corpus_cases(kind: str):
    """(exercise id, path) of every corpus file of `kind` ("wrong" or "right")."""
    cases = []
    for ex in CATALOG:
        folder = CORPUS / ex.id
        for path in sorted(folder.glob(f"{kind}_*.py")) if folder.is_dir() else []:
            cases.append(pytest.param(ex.id, path, id=f"{ex.short}-{path.stem}"))
    return cases


def expected_fragment(path: Path, name: str = "EXPECT") -> str | None:
    """The module-level `EXPECT = "..."` of a corpus file: a fragment of the message it must get
    (`NOT_EXPECT`: a fragment that no message of it may contain)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def grade_source(tmp_path: Path, exercise_id: str, source: str, **kwargs):
    """Grade one exercise whose module text is `source`; returns its ExerciseResult."""
    target = tmp_path / "target"
    target.mkdir(exist_ok=True)
    (target / f"{exercise_id}.py").write_text(source, encoding="utf-8")
    run = grade(target, [CATALOG[exercise_id]], **kwargs)
    return run.exercise(exercise_id)


def grade_file(tmp_path: Path, exercise_id: str, path: Path, **kwargs):
    return grade_source(tmp_path, exercise_id, path.read_text(encoding="utf-8"), **kwargs)


_CORPUS: dict[str, dict[str, object]] = {}
_RUNS: dict[str, object] = {}


def _grade_corpus(args):
    """One exercise's whole corpus in one go: the checks collected once, each file in a process of its own."""
    exercise_id, base = args
    files = sorted((CORPUS / exercise_id).glob("*.py"))
    targets = []
    for f in files:
        folder = Path(base) / f"{exercise_id}-{f.stem}"
        folder.mkdir(parents=True)
        (folder / f"{exercise_id}.py").write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
        targets.append(folder)
    exercise = CATALOG[exercise_id]
    # the workers already fill the cores; a graph exercise's graphs are recorded (tests/test_graph.py
    # compares them with the reference's, and every other test proves that recording changes no verdict)
    runs = grade_many(targets, [exercise], lanes=1, graph=[exercise_id] if exercise.graph else ())
    return exercise_id, {f.name: run.exercise(exercise_id) for f, run in zip(files, runs)}


def shared(tmp_path_factory, name: str, compute):
    """What `compute()` returns, computed once for the whole test session: where the tests run in
    several processes (pytest-xdist), the first to ask computes it while the others wait, and
    they read it from a file in the session's temporary folder."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the session's workers
    path = root / f"shared-{name}.pickle"
    with open(root / f"shared-{name}.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return pickle.loads(path.read_bytes())
        value = compute()
        path.with_suffix(".part").write_bytes(pickle.dumps(value))
        path.with_suffix(".part").replace(path)
        return value


def _grade_whole_corpus(tmp_path_factory) -> dict:
    """Every exercise's corpus, spread over the machine's cores (forked workers, each grading whole exercises)."""
    ids = [ex.id for ex in CATALOG if (CORPUS / ex.id).is_dir()]
    base = str(tmp_path_factory.mktemp("corpus"))
    tasks = [(exercise_id, base) for exercise_id in ids]
    workers = min(2, os.cpu_count() or 1, len(tasks))
    if workers > 1 and hasattr(os, "fork"):
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return dict(pool.imap_unordered(_grade_corpus, tasks))
    return dict(map(_grade_corpus, tasks))


def corpus_result(tmp_path_factory, exercise_id: str, path: Path):
    """The result of one corpus file. The first request of the session grades every exercise's
    corpus (see `shared`)."""
    if not _CORPUS:
        _CORPUS.update(shared(tmp_path_factory, "corpus", lambda: _grade_whole_corpus(tmp_path_factory)))
    if exercise_id not in _CORPUS:  # whatever the shared run did not deliver, graded on its own
        _CORPUS.update([_grade_corpus((exercise_id, str(tmp_path_factory.mktemp("corpus-again"))))])
    return _CORPUS[exercise_id][path.name]


def stub_run(tmp_path_factory):
    """Every pristine stub, graded once for the whole session."""
    if "stubs" not in _RUNS:
        def run():
            folder = tmp_path_factory.mktemp("stubs")
            for ex in CATALOG:
                (folder / ex.filename).write_text(stub_for(ex), encoding="utf-8")
            return grade(folder, list(CATALOG))

        _RUNS["stubs"] = shared(tmp_path_factory, "stubs", run)
    return _RUNS["stubs"]


def solution_run():
    """Every reference solution, graded once for the whole session."""
    if "solutions" not in _RUNS:  # with the graphs of the graph exercises, as for the corpus
        _RUNS["solutions"] = grade(SOLUTIONS_DIR, list(CATALOG), graph=[ex.id for ex in CATALOG if ex.graph])
    return _RUNS["solutions"]


def describe(result) -> str:
    """A failing exercise result, readable in an assertion message."""
    lines = [f"{result.id}: {result.status}" + (f" ({result.error})" if result.error else "")]
    for c in result.checks:
        lines.append(f"  {c.status:8} {c.name}: {c.message[:300]}")
    return "\n".join(lines)


@pytest.fixture
def private_state(tmp_path, monkeypatch):
    """Hint progress and backups go to a temporary folder, never the real .kata/."""
    monkeypatch.setenv("KATA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NO_COLOR", "1")


MAX_TEST_PROCESSES = 4


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """The project's tests run in one process per core, at most four (pytest-xdist), unless the
    command line says otherwise (`-n 0`: all in this one; `-p no:xdist`). Only these tests: the
    checks, run by the grader or by `python -m pytest checks`, run in one process as ever."""
    option = config.option
    if not hasattr(option, "numprocesses") or hasattr(config, "workerinput") or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if option.numprocesses is None and not getattr(option, "usepdb", False):
        option.numprocesses = "auto"
        option.maxprocesses = option.maxprocesses or MAX_TEST_PROCESSES
