"""Developing the kata: keep the generated files in step, prove every exercise, add one.

    python -m grading.dev update             # stubs, README's learning path, classroom workflow, integrity
    python -m grading.dev check [EX ...]     # all in step, every stub fails, every solution passes
    python -m grading.dev new ex22_name      # scaffold a new exercise (solution, checks, catalog, corpus)
    python -m grading.dev mutate [EX ...]    # mutation testing: the checks catch small wrong versions

Exit codes: 0 all is well, 1 something to fix (listed), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import keyword
import re
import sys
import tempfile
from pathlib import Path

from grading import ROOT, SOLUTIONS_DIR
from grading.core.catalog import CatalogError, Exercise, UnknownExercise, load_catalog

# (module, what it keeps in step), in the order `update` runs them: the integrity manifest last,
# since it hashes the catalog and the checks the others read
GENERATORS = [
    ("grading.core.stubs", "exercises/ from solutions/"),
    ("grading.dev.readme", "README.md's learning path from the catalog"),
    ("grading.classroom.workflow", ".github/workflows/classroom.yml from the catalog"),
    ("grading.dev.mistakes", "docs/mistakes.md from the checks' known mistakes"),
    ("grading.core.integrity", "grading/integrity.json, the hashes of checks/ and the engine"),
]
PLACEHOLDER = "TODO:"  # what `new` leaves for the author to write; `check` lists where it is left
NAME_RE = re.compile(r"^ex(\d{2})_([a-z][a-z0-9_]*)$")


class UsageError(Exception):
    pass


# ------------------------------------------------------------------ update and check


def _generator(module: str):
    import importlib

    return importlib.import_module(module).main


def update() -> int:
    """Run the generators, integrity last; 1 if one of them failed."""
    code = 0
    for module, _ in GENERATORS:
        code = max(code, _generator(module)([]))
    return code


def generated_problems(names: list[str] | None = None) -> list[str]:
    """Each generator's --check, its complaints as problems (stubs only for `names`, where given)."""
    problems = []
    for module, what in GENERATORS:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = _generator(module)(["--check", *(names if module == "grading.core.stubs" and names else [])])
        if code:
            said = [line.strip() for line in err.getvalue().splitlines() if line.strip()]
            problems.append(f"{what} is not in step: " + ("; ".join(said) or f"`python -m {module} --check` "
                            f"exited with {code}") + " (`python -m grading.dev update` regenerates them all)")
    return problems


def missing_files(exercises: list[Exercise]) -> list[str]:
    problems = []
    for ex in exercises:
        for path, what in ((SOLUTIONS_DIR / ex.filename, "reference solution"), (ex.check_file, "checks")):
            if not path.is_file():
                problems.append(f"{ex.id}: its {what} {_rel(path)} is missing")
    return problems


def placeholders_left(exercises: list[Exercise]) -> list[str]:
    """Where a scaffold's `TODO:` is still waiting to be written."""
    problems = []
    for ex in exercises:
        fields = [name for name in ("title", "part", "concept", "checks") if PLACEHOLDER in getattr(ex, name)]
        fields += ["hints"] * any(PLACEHOLDER in hint for hint in ex.hints)
        if fields:
            problems.append(f"{ex.id}: write its {', '.join(fields)} in exercises/catalog.toml ({PLACEHOLDER} left)")
        corpus = ROOT / "tests" / "corpus" / ex.id
        files = [SOLUTIONS_DIR / ex.filename, ex.check_file, *sorted(corpus.glob("*.py"))]
        for path in files:
            if path.is_file() and PLACEHOLDER in path.read_text(encoding="utf-8"):
                problems.append(f"{ex.id}: {_rel(path)} still has {PLACEHOLDER} placeholders to write")
    return problems


def grade_proof(exercises: list[Exercise]):
    """Grade the stubs derived from the solutions (in a temporary folder) and the solutions, in one
    run, a process per exercise: (stub run, solution run)."""
    from grading.engine.runner import grade_many
    from grading.core.stubs import stub_for

    with tempfile.TemporaryDirectory(prefix="kata-stubs-") as folder:
        for ex in exercises:
            if (SOLUTIONS_DIR / ex.filename).is_file():
                (Path(folder) / ex.filename).write_text(stub_for(ex), encoding="utf-8")
        stubs, solutions = grade_many([Path(folder), SOLUTIONS_DIR], exercises, isolation="exercise")
    return stubs, solutions


def prove(exercises: list[Exercise], stubs, solutions) -> list[str]:
    """Every check fails on the stub, because the function is not written (not for another reason),
    and passes on the reference solution."""
    problems = []
    for ex in exercises:
        if not (SOLUTIONS_DIR / ex.filename).is_file() or not ex.check_file.is_file():
            continue  # said by missing_files
        stub, solution = stubs.exercise(ex.id), solutions.exercise(ex.id)
        passing = [c.name for c in stub.checks if c.passed]
        if not stub.checks:
            problems.append(f"{ex.id}: no check ran on the stub: {stub.error or 'none was collected'}")
        elif passing:
            problems.append(f"{ex.id}: checks that pass on the untouched stub cannot fail: {', '.join(passing)}")
        elif stub.status != "not_started":
            first = stub.first_problem
            problems.append(f"{ex.id}: the stub fails for another reason than `raise NotImplementedError` "
                            f"({first.name}: {_short(first.message)}): the checks must call the function first")
        if solution.passed:
            continue
        if solution.checks and all(c.not_implemented for c in solution.checks):
            problems.append(f"{ex.id}: the reference solution {_rel(SOLUTIONS_DIR / ex.filename)} is not written "
                            "yet (it raises NotImplementedError)")
            continue
        failing = [c for c in solution.checks if not c.passed]
        detail = "; ".join(f"{c.name}: {_short(c.message)}" for c in failing[:5]) or solution.error or "no check ran"
        more = f" (and {len(failing) - 5} more)" if len(failing) > 5 else ""
        problems.append(f"{ex.id}: the reference solution fails its checks: {detail}{more}")
    return problems


def check(names: list[str]) -> int:
    catalog = load_catalog()
    exercises = [catalog.resolve(n) for n in names] if names else list(catalog)
    problems = generated_problems([ex.id for ex in exercises] if names else None)
    problems += missing_files(exercises) + placeholders_left(exercises)
    graded = [ex for ex in exercises if (SOLUTIONS_DIR / ex.filename).is_file()]
    unproven = prove(exercises, *grade_proof(graded)) if graded else []
    problems += unproven
    if problems:
        print(f"check: {len(problems)} problem{'s' * (len(problems) != 1)}:")
        for problem in problems:
            print(f"  - {problem}")
        if graded and not unproven:
            print("(every stub fails its checks and every solution passes)")
        return 1
    print(f"check: generated files in step; {len(exercises)} exercise{'s' * (len(exercises) != 1)}: "
          "every stub fails its checks, every solution passes")
    return 0


# ------------------------------------------------------------------ new

SOLUTION = '''"""Exercise {number} — {todo} the concept in a few words

{todo} the idea in plain words: what it is, and when a learner needs it.

    >>> {todo} a tiny example, doctest style

Typical mistakes:

    {todo} the common mistake      # and why it is wrong

Your task: implement `{function}(x)`.
- {todo} what it returns, in the learner's words.
- {todo} what it must leave as it was.
"""

import torch
from torch import Tensor, nn  # noqa: F401  (what a learner will need stays in the stub)


def {function}(x: Tensor) -> Tensor:
    """{todo} one line: what {function} returns."""
    raise NotImplementedError("{todo} write the reference solution of {id}")
'''

CHECKS = '''"""Checks for {short}: {function}(x) {todo} the contract in one line."""

import pytest
import torch

from checks.instruments import explain_errors


@pytest.fixture
def {function}(learner):
    return learner


def test_placeholder({function}):
    x = torch.randn(3)
    with explain_errors("{function}"):
        {function}(x)
    pytest.fail("{todo} {id} has no checks yet: replace test_placeholder with one test per property of the "
                "contract (see CONTRIBUTING.md, 'The checks')")
'''

WRONG = '''"""{todo} the mistake in one line (a first known-wrong implementation: returns nothing)."""
EXPECT = "{todo} a fragment of the message that must catch it"
MISTAKE = "{todo} the id of the known mistake (a Mistake of the checks) that must catch it"


def {function}(x):
    return None
'''

CATALOG_ENTRY = '''
[[exercise]]
id = "{id}"
function = "{function}"
title = "{todo} a short title"
part = "{todo} the part of the learning path"
concept = "{todo} one line: what the exercise teaches"
checks = "{todo} one line: what the checks look at"
points = 1
hints = [
    "{todo} a first hint: the question to ask yourself",
    "{todo} a second hint: the tool to use",
    "{todo} a third hint: nearly the answer",
]
'''


def scaffold(exercise_id: str, function: str | None = None) -> list[Path]:
    """Write a new exercise's files and append its catalog entry; returns the files written.
    Raises UsageError (nothing written) for a malformed or taken id."""
    match = NAME_RE.match(exercise_id)
    if not match:
        raise UsageError(f"{exercise_id!r} is not an exercise id: exNN_name, two digits, then a name in lower case "
                         "(letters, digits and _, starting with a letter), e.g. ex22_gradient_penalty")
    function = function or match.group(2)
    if not function.isidentifier() or keyword.iskeyword(function):
        raise UsageError(f"{function!r} is not a Python function name: give one with --function")
    catalog = load_catalog()
    number = int(match.group(1))
    if catalog.get(exercise_id):
        raise UsageError(f"{exercise_id} already exists")
    taken = next((ex for ex in catalog if ex.number == number), None)
    if taken:
        raise UsageError(f"the number {number:02d} is taken by {taken.id}")
    last = max(ex.number for ex in catalog)
    if number < last:
        raise UsageError(f"{exercise_id}: `new` appends to the catalog, after ex{last:02d}: number it "
                         f"ex{last + 1:02d} or later")
    fields = {"id": exercise_id, "short": exercise_id[:4], "number": f"{number:02d}", "function": function,
              "todo": PLACEHOLDER}
    files = {
        SOLUTIONS_DIR / f"{exercise_id}.py": SOLUTION.format(**fields),
        ROOT / "checks" / f"test_{exercise_id}.py": CHECKS.format(**fields),
        ROOT / "tests" / "corpus" / exercise_id / "wrong_returns_none.py": WRONG.format(**fields),
    }
    there = [path for path in [*files, ROOT / "exercises" / f"{exercise_id}.py", ROOT / "tests" / "corpus" / exercise_id]
             if path.exists()]
    if there:
        raise UsageError(f"{exercise_id}: {', '.join(_rel(p) for p in there)} already exist (not in the catalog): "
                         "move them away first")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    catalog_path = ROOT / "exercises" / "catalog.toml"
    text = catalog_path.read_text(encoding="utf-8")
    catalog_path.write_text(text.rstrip("\n") + "\n" + CATALOG_ENTRY.format(**fields), encoding="utf-8")
    return [*files, catalog_path]


def new(exercise_id: str, function: str | None) -> int:
    written = scaffold(exercise_id, function)
    for path in written:
        print(f"wrote {_rel(path)}")
    print(f"""
Next, for {exercise_id} (CONTRIBUTING.md says how):
  1. write the reference solution and its teaching docstring in {_rel(written[0])}
  2. write the checks in {_rel(written[1])} (one test per property) and the catalog entry
  3. add the known mistakes to {_rel(written[2].parent)}/ (wrong_*.py, right_*.py)
  4. python -m grading.dev update && python -m grading.dev check {exercise_id}
     (until then, check lists what is still to write)""")
    return 0


# ------------------------------------------------------------------ mutate


def mutate(names: list[str], seed: int, allowlist: Path | None) -> int:
    from grading.dev import mutate as mutation

    catalog = load_catalog()
    exercises = [catalog.resolve(n) for n in names] if names else list(catalog)
    show = sys.stderr.isatty()

    def progress(ex, mutants, report):
        if show:
            killed = sum(1 for m in mutants if m.id not in report.survived)
            print(f"  {ex.id}: {len(mutants)} mutants, {killed} killed", file=sys.stderr)

    try:
        report = mutation.run(exercises, allowlist=allowlist or mutation.ALLOWLIST, seed=seed, on_progress=progress)
    except mutation.AllowlistError as exc:
        raise UsageError(str(exc)) from None
    print(mutation.summary(report))
    return 0 if report.ok else 1


# ------------------------------------------------------------------ command line


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m grading.dev", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("update", help="run the generators: stubs, README, classroom workflow, integrity (last)")
    c = sub.add_parser("check", help="generated files in step, every stub fails, every solution passes")
    c.add_argument("exercises", nargs="*", metavar="EX", help="only these exercises (default: all)")
    n = sub.add_parser("new", help="scaffold a new exercise: solution, checks, catalog entry, corpus")
    n.add_argument("id", metavar="exNN_name")
    n.add_argument("--function", help="the function's name (default: the id's name part)")
    m = sub.add_parser("mutate", help="mutation testing: every mutant of a solution must fail its checks")
    m.add_argument("exercises", nargs="*", metavar="EX", help="only these exercises (default: all)")
    m.add_argument("--seed", type=int, default=0, help="seed of the checks' random inputs (default 0)")
    m.add_argument("--allowlist", type=Path, help="the equivalent mutants (default tests/mutants_allowed.toml)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "update":
            return update()
        if args.command == "check":
            return check(args.exercises)
        if args.command == "new":
            return new(args.id, args.function)
        return mutate(args.exercises, args.seed, args.allowlist)
    except (UsageError, UnknownExercise, CatalogError) as exc:
        print(f"grading.dev {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _rel(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
