"""`python -m grading.dev`: generated files in step, every exercise proven, a new one scaffolded, and
mutation testing of the checks (every small wrong version of a solution must fail)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grading import ROOT
import grading.dev.commands as dev
from grading.dev import mutants, mutate
from grading.core.catalog import load_catalog
from grading.core.results import CheckResult, ExerciseResult, RunResult

from .conftest import CATALOG, solution_run, stub_run

# ------------------------------------------------------------------ check


@pytest.mark.timeout(600)  # the first of the session's cached runs grades every stub, the other every solution
def test_check_passes_on_the_tree(tmp_path_factory):
    exercises = list(CATALOG)
    assert dev.generated_problems() == []
    assert dev.missing_files(exercises) == []
    assert dev.placeholders_left(exercises) == []
    assert dev.prove(exercises, stub_run(tmp_path_factory), solution_run()) == []


def _run(exercise_id: str, *checks: CheckResult, error: str = "") -> RunResult:
    return RunResult(target="t", seed=0, exercises=[ExerciseResult(exercise_id, "t", 1, checks=list(checks), error=error)])


def test_prove_names_each_way_an_exercise_is_not_proven():
    ex = CATALOG["ex03_sgd_step"]
    started = CheckResult("test_a", "error", message="not started", not_implemented=True)
    passed = CheckResult("test_a", "passed")
    failed = CheckResult("test_a", "failed", message="the update was not in place")
    assert dev.prove([ex], _run(ex.id, started), _run(ex.id, passed)) == []
    (problem,) = dev.prove([ex], _run(ex.id, passed), _run(ex.id, passed))
    assert "pass on the untouched stub cannot fail: test_a" in problem
    (problem,) = dev.prove([ex], _run(ex.id, failed), _run(ex.id, passed))
    assert "another reason than `raise NotImplementedError`" in problem and "not in place" in problem
    (problem,) = dev.prove([ex], _run(ex.id, started), _run(ex.id, failed))
    assert "the reference solution fails its checks: test_a: the update was not in place" in problem
    (problem,) = dev.prove([ex], _run(ex.id, started), _run(ex.id, started))
    assert "is not written yet" in problem
    (problem,) = dev.prove([ex], _run(ex.id, error="no checks collected"), _run(ex.id, passed))
    assert "no check ran on the stub: no checks collected" in problem


# ------------------------------------------------------------------ new, in a copy of the kata


def kata_copy(tmp_path) -> Path:
    """What `grading.dev` reads and writes, copied: the real tree is never touched."""
    dest = tmp_path / "kata"
    dest.mkdir()
    for name in ("grader.py", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for folder in ("grading", "checks", "solutions", "exercises", ".github"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "tests" / "corpus").mkdir(parents=True)
    return dest


def dev_command(kata: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grading.dev", *args], cwd=kata, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, NO_COLOR="1"))


def snapshot(kata: Path) -> dict[str, bytes]:
    return {p.relative_to(kata).as_posix(): p.read_bytes() for p in sorted(kata.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.timeout(300)
def test_new_scaffolds_an_exercise_that_check_follows_to_the_end(tmp_path):
    kata = kata_copy(tmp_path)
    made = dev_command(kata, "new", "ex22_double_it")
    assert made.returncode == 0, made.stderr
    solution, checks = kata / "solutions" / "ex22_double_it.py", kata / "checks" / "test_ex22_double_it.py"
    wrong = kata / "tests" / "corpus" / "ex22_double_it" / "wrong_returns_none.py"
    for path in (solution, checks, wrong):
        assert path.is_file(), made.stdout
        ast.parse(path.read_text())  # Python that loads
    ex = load_catalog(kata / "exercises" / "catalog.toml")["ex22_double_it"]
    assert (ex.function, ex.points, len(ex.hints)) == ("double_it", 1, 3)
    assert list(load_catalog(kata / "exercises" / "catalog.toml"))[-1] == ex  # appended: last in learning order
    assert "python -m grading.dev update" in made.stdout

    # refused, with nothing written: a taken id or number, a malformed name, a number before the last
    before = snapshot(kata)
    for bad, said in [("ex22_double_it", "already exists"), ("ex03_other", "taken by ex03_sgd_step"),
                      ("ex5_short", "not an exercise id"), ("ex23_Upper", "not an exercise id"),
                      ("ex23_", "not an exercise id"), ("ex23_class", "--function"), ("ex07_late", "taken"),
                      ("ex00_early", "ex23 or later")]:
        refused = dev_command(kata, "new", bad)
        assert refused.returncode == 2 and said in refused.stderr, (bad, refused.stderr)
    assert snapshot(kata) == before

    # check says what is still to do: the generated files, the placeholders, the solution; the stub fails as it must
    first = dev_command(kata, "check", "ex22")
    assert first.returncode == 1, first.stdout + first.stderr
    for expected in ("exercises/ from solutions/", "README.md's learning path", "classroom.yml", "integrity.json",
                     "write its title, part, concept, checks, hints", "solutions/ex22_double_it.py still has TODO:",
                     "the reference solution solutions/ex22_double_it.py is not written yet"):
        assert expected in first.stdout, (expected, first.stdout)
    assert "on the stub" not in first.stdout and "untouched stub" not in first.stdout  # it fails, not started

    # written as CONTRIBUTING.md says, then update and check: proven
    solution.write_text('"""Exercise 22 — doubling.\n\nYour task: return 2 * x.\n"""\n\nimport torch\n\n\n'
                        'def double_it(x):\n    """Return x doubled."""\n    return x * 2\n')
    checks.write_text('import pytest\nimport torch\n\n\n@pytest.fixture\ndef double_it(learner):\n    return learner\n\n\n'
                      'def test_doubles(double_it):\n    x = torch.randn(3)\n'
                      '    assert torch.equal(double_it(x), 2 * x), "double_it(x) must return 2 * x"\n')
    wrong.write_text('"""Returns nothing."""\nEXPECT = "must return 2 * x"\n\n\ndef double_it(x):\n    return None\n')
    catalog = kata / "exercises" / "catalog.toml"
    catalog.write_text(catalog.read_text().replace(dev.PLACEHOLDER, "written:"))
    assert dev_command(kata, "update").returncode == 0
    assert (kata / "exercises" / "ex22_double_it.py").read_text().rstrip().endswith("raise NotImplementedError")
    proven = dev_command(kata, "check", "ex22")
    assert proven.returncode == 0, proven.stdout + proven.stderr
    assert "every stub fails its checks, every solution passes" in proven.stdout


# ------------------------------------------------------------------ the mutants


SAMPLE = '''"""A module: what is outside the function is never mutated."""

import torch

LIMIT = 3


def sample(params, x, lr, k):
    """Nor is the docstring: 0, 1, True."""
    total = 0
    with torch.no_grad():
        for p in params:
            if p.grad is None or k < 2:
                continue
            p -= lr * p.grad
            p.grad.zero_()
    y = x.detach().clone().cpu()
    z = x.data
    v = x.detach().requires_grad_()
    with torch.inference_mode():
        w = torch.zeros(3).add(1)
    flag = not True
    total += y.sum().item()
    return torch.stack([y, z], dim=0), total, flag, v, w
'''

# kind -> a line that one of its mutants has (in the function as ast.unparse writes it)
EXPECTED = {
    "binop": ["p -= lr / p.grad", "p += lr * p.grad"],
    "compare": ["if p.grad is not None or k < 2:", "if p.grad is None or k <= 2:"],
    "boolop": ["if p.grad is None and k < 2:"],
    "unary": ["flag = True"],
    "constant": ["total = 1", "if p.grad is None or k < 3:", "w = torch.zeros(4).add(1)", "w = torch.zeros(3).add(0)",
                 "flag = not False"],
    "delete": ["            pass"],
    "unwrap": ["    for p in params:"],
    "grad-mode": ["with torch.enable_grad():"],
    "inplace": ["torch.zeros_like(p.grad)", "w = torch.zeros(3).add_(1)", "y = x.detach_().clone().cpu()",
                "v = x.detach().detach().requires_grad_()"],
    "data": ["y = x.data.clone().cpu()", "z = x.detach()"],
    "drop-call": ["y = x.clone().cpu()", "y = x.detach().cpu()", "y = x.detach().clone()", "total += y.sum()",
                  "v = x.detach()"],
    "return-none": ["return None"],
    "drop-kwarg": ["torch.stack([y, z])"],
    "rebind": ["p = p - lr * p.grad", "total = total + y.sum().item()"],
}


def test_the_mutant_generator_makes_each_kind():
    made = mutants.generate("ex99_sample", SAMPLE, "sample")
    assert set(EXPECTED) == set(mutants.KINDS)
    by_kind = {kind: [m for m in made if m.kind == kind] for kind in mutants.KINDS}
    for kind, lines in EXPECTED.items():
        for line in lines:  # a line that starts with its indentation is matched whole
            found = [m for m in by_kind[kind] if line in m.function.splitlines()
                     or not line.startswith(" ") and line in m.function]
            assert found, (kind, line, [m.description for m in by_kind[kind]])
    assert {m.kind for m in made} == set(mutants.KINDS)
    ids = [m.id for m in made]
    assert len(ids) == len(set(ids)) == len({mutants._code_only(m.function) for m in made})
    head = SAMPLE[:SAMPLE.index("def sample")]
    for m in made:
        assert m.source.startswith(head) and '"""Nor is the docstring: 0, 1, True."""' in m.source
        compile(m.source, m.id, "exec")
        assert any(word in m.description for word in ("->", "deleted", "removed")), m.description
    unwrapped = next(m for m in by_kind["unwrap"] if "no_grad" not in m.function)
    assert "`with torch.no_grad():` removed" in unwrapped.description
    assert "-    with torch.no_grad():" in unwrapped.diff()


def test_mutant_ids_survive_docstring_and_layout_edits():
    edited = SAMPLE.replace("Nor is the docstring: 0, 1, True.", "Reworded.\n\n    Longer.") \
        .replace("LIMIT = 3\n", "LIMIT = 3\n\n\n# a comment\n").replace("    total = 0\n", "    # start\n    total = 0\n")
    before = {m.id: m.description for m in mutants.generate("ex99_sample", SAMPLE, "sample")}
    after = {m.id: m.description for m in mutants.generate("ex99_sample", edited, "sample")}
    assert before == after


def test_allowlist_entries_need_an_id_a_description_and_a_reason(tmp_path):
    bad = tmp_path / "allowed.toml"
    bad.write_text('[[mutant]]\nid = "ex01_enable_tracking:delete:00000000"\ndescription = "x"\n')
    with pytest.raises(mutate.AllowlistError, match="reason"):
        mutate.load_allowlist(bad)
    assert dev.main(["mutate", "ex01", "--allowlist", str(bad)]) == 2
    assert all(entry.reason.strip() for entry in mutate.load_allowlist().values())


_MUTATION: dict[str, mutate.Report] = {}


@pytest.mark.timeout(600)
def test_mutate_leaves_no_survivor_unexplained(monkeypatch, capsys):
    """The CI proof: every mutant of every solution is killed by its checks, or listed as equivalent."""
    real = mutate.run

    def keep(*args, **kwargs):
        _MUTATION["report"] = real(*args, **kwargs)
        return _MUTATION["report"]

    monkeypatch.setattr(mutate, "run", keep)
    code = dev.main(["mutate"])
    out = capsys.readouterr().out
    report = _MUTATION["report"]
    assert code == 0, out
    assert report.exercises == [ex.id for ex in CATALOG]
    assert all(report.of(ex.id) for ex in CATALOG), out  # every solution has mutants
    assert not report.unexplained and not report.stale and not report.errors, out
    assert len(report.survived) < len(report.mutants) / 10, out
    assert f"{len(report.mutants)} mutants of {len(CATALOG)} exercises" in out and "0 unexplained" in out


def test_a_survivor_not_listed_fails_with_its_diff_and_a_stale_entry_fails():
    report = _MUTATION.get("report")
    if report is None:  # run alone: a small exercise with a known survivor
        report = mutate.run([CATALOG["ex11_unfreeze_all"]])
    assert report.explained, "no allowlisted survivor to take away"
    bare = replace(report, allowed={})
    text = mutate.summary(bare)
    assert not bare.ok and bare.unexplained == report.explained
    survivor = bare.unexplained[0]
    assert "UNEXPLAINED" in text and survivor.id in text and survivor.diff().splitlines()[-1] in text
    assert mutate.toml_entry(survivor.id, survivor.description, "equivalent: ...") in text
    killed = next(m for m in report.mutants if m.id not in report.survived)
    gone = f"{killed.exercise}:delete:ffffffff"  # no longer made
    stale = replace(report, allowed={**report.allowed, killed.id: mutate.Allowed(killed.id, "d", "r"),
                                     gone: mutate.Allowed(gone, "d", "r")})
    assert not stale.ok and {a.id for a in stale.stale} == {killed.id, gone}
    assert "allowlist entries to remove" in mutate.summary(stale)


def test_mutate_refuses_to_count_kills_against_a_solution_that_fails(tmp_path, monkeypatch):
    ex = CATALOG["ex07_cut_history"]
    broken = (ROOT / "solutions" / ex.filename).read_text().replace("return t.detach_()", "return t.detach()")
    assert broken != (ROOT / "solutions" / ex.filename).read_text()
    (tmp_path / ex.filename).write_text(broken)
    monkeypatch.setattr(mutate, "SOLUTIONS_DIR", tmp_path)
    report = mutate.run([ex])
    assert not report.ok and "the reference solution fails its checks" in report.errors[ex.id]
    assert not report.mutants and not report.stale
    assert "the reference solution fails its checks" in mutate.summary(report)
