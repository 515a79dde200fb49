"""Stubs are derived from the reference solutions: one source of truth for the text.

The stub of an exercise is its solution with the body of the exercise's function
(everything after the docstring) replaced by `raise NotImplementedError`. The concept,
the example and the contract are written once, in the solution's docstrings.

    python -m grading.core.stubs              # rewrite exercises/exNN_*.py from solutions/
    python -m grading.core.stubs ex05 ex06    # only these exercises
    python -m grading.core.stubs --check      # exit 1 if a stub differs from its solution's

Solutions keep everything they need inside the exercise's function, so that the stub
reveals nothing of the answer.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from grading import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from grading.core.catalog import Exercise, load_catalog

STUB_BODY = "raise NotImplementedError"


class StubError(Exception):
    pass


def derive_stub(solution_source: str, function: str, filename: str = "<solution>") -> str:
    tree = ast.parse(solution_source, filename)
    node = next(
        (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function),
        None,
    )
    if node is None:
        raise StubError(f"{filename}: no top-level function {function!r}")
    body = node.body
    has_doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
        and isinstance(body[0].value.value, str)
    code = body[1:] if has_doc else body
    if not code:
        raise StubError(f"{filename}: {function} has no body to replace")
    lines = solution_source.splitlines(keepends=True)
    start = code[0].lineno - 1  # first line of the implementation
    # comments between the docstring (or def line) and the first statement belong to the answer
    floor = body[0].end_lineno if has_doc else node.lineno + (len(node.decorator_list) and 0)
    while start > floor and lines[start - 1].strip().startswith("#"):
        start -= 1
    end = node.end_lineno  # last line of the function
    indent = " " * code[0].col_offset
    return "".join(lines[:start]) + f"{indent}{STUB_BODY}\n" + "".join(lines[end:])


def stub_for(exercise: Exercise, solutions: Path = SOLUTIONS_DIR) -> str:
    path = solutions / exercise.filename
    return derive_stub(path.read_text(encoding="utf-8"), exercise.function, str(path))


class ResetRefused(Exception):
    pass


def pristine_stub(exercise: Exercise) -> str:
    """The original stub: derived from the reference solution where it is shipped."""
    if (SOLUTIONS_DIR / exercise.filename).exists():
        return stub_for(exercise)
    shipped = ROOT / "grading" / "pristine" / exercise.filename  # in a learners' repository
    if shipped.exists():
        return shipped.read_text(encoding="utf-8")
    raise ResetRefused(f"the original stub of {exercise.id} is not available in this copy of the kata")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    catalog = load_catalog()
    names = [a for a in argv if not a.startswith("-")]
    selected = [catalog.resolve(n) for n in names] if names else list(catalog)
    stale = []
    for ex in selected:
        if not (SOLUTIONS_DIR / ex.filename).exists():
            print(f"{ex.id}: no solution yet, skipped", file=sys.stderr)
            continue
        stub = stub_for(ex)
        path = EXERCISES_DIR / ex.filename
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == stub:
            continue
        stale.append(path)
        if not check:
            path.write_text(stub, encoding="utf-8")
            print(f"wrote {path.relative_to(EXERCISES_DIR.parent)}")
    if check and stale:
        for path in stale:
            print(f"{path.name} differs from the stub derived from its solution", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
