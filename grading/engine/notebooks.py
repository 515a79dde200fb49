"""The kata in Jupyter: notebooks generated from the exercise files, and notebooks graded.

One source of truth: a notebook is generated from the exercise's stub (its docstring is
the lesson, its code the answer cell), so there is no second copy of the text to keep in
sync. An answer cell is tagged `kata-answer` (cell metadata tags); the check cell calls
`grader.check("exNN")`, which grades the function defined in the running kernel.

Grading a saved notebook runs its code cells one by one, as a kernel run from the top
would: a cell that fails (an experiment, a typo) is reported but does not stop the others,
IPython magics are ignored, and cells tagged `kata-check` are skipped. A notebook without
any tagged cell falls back to all its code cells, and says so.
"""

from __future__ import annotations

import ast
import json
import re
import traceback
import types
from pathlib import Path

from grading.core.catalog import Catalog, Exercise
from grading.core.paths import read_regular

ANSWER_TAG = "kata-answer"
CHECK_TAG = "kata-check"
HINT_TAG = "kata-hint"
_MAGIC = re.compile(r"^(\s*)([%!]|\?\?|\?)")


class NotebookError(Exception):
    """A notebook that cannot be read at all: one line, naming the file."""


# ------------------------------------------------------------------ generation


def _docstring_and_code(stub: str) -> tuple[str, str]:
    tree = ast.parse(stub)
    doc = ast.get_docstring(tree, clean=True) or ""
    lines = stub.splitlines(keepends=True)
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant):
        code = "".join(lines[tree.body[0].end_lineno:])
    else:
        code = stub
    return doc, code.strip() + "\n"


def _markdown(doc: str) -> str:
    """The module docstring as Markdown: its first line a heading, indented blocks stay code."""
    first, _, rest = doc.partition("\n")
    return f"# {first.strip()}\n{rest}"


def build_notebook(exercise: Exercise, stub: str):
    import nbformat
    from nbformat import v4

    doc, code = _docstring_and_code(stub)
    hints = "\n".join(
        f"<details><summary>Hint {i} of {len(exercise.hints)}</summary>\n\n{hint}\n\n</details>\n"
        for i, hint in enumerate(exercise.hints, 1)
    )
    cells = [
        v4.new_markdown_cell(_markdown(doc)),
        v4.new_code_cell(code, metadata={"tags": [ANSWER_TAG, exercise.id]}),
        v4.new_markdown_cell("Run the next cell to check your answer against the kata's checks "
                             "(no need to save the notebook first)."
                             + (f' `check("{exercise.short}", graph=True)` also draws your autograd graph '
                                "beside the reference solution's." if exercise.graph else "")),
        v4.new_code_cell(f'from grader import check\ncheck("{exercise.short}")', metadata={"tags": [CHECK_TAG]}),
        v4.new_markdown_cell(f"## Hints\n\nOpen one at a time.\n\n{hints}", metadata={"tags": [HINT_TAG]}),
    ]
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "kata": {"exercise": exercise.id},
    })
    nbformat.validate(nb)
    return nb


def write_notebooks(catalog: Catalog, out: Path, stub_of) -> list[Path]:
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ex in catalog:
        path = out / f"{ex.id}.ipynb"
        nbformat.write(build_notebook(ex, stub_of(ex)), str(path))
        written.append(path)
    return written


# ------------------------------------------------------------------ reading


def read_cells(path: Path) -> tuple[list[tuple[int, str]], bool]:
    """The code cells to run, as (cell number, source), and whether they came from tags."""
    import nbformat

    try:
        raw = json.loads(read_regular(path).decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"{path.name}: cannot be read ({exc})") from None
    except ValueError as exc:
        raise NotebookError(f"{path.name}: not a notebook (invalid JSON: {exc})") from None
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        version = raw.get("nbformat") if isinstance(raw, dict) else None
        raise NotebookError(f"{path.name}: nbformat {version} is not supported; save it with Jupyter as version 4")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # nbformat's own validation errors
        raise NotebookError(f"{path.name}: not a valid notebook ({type(exc).__name__})") from None
    code = [(i, c) for i, c in enumerate(nb.cells, 1) if c.get("cell_type") == "code"]
    if not code:
        raise NotebookError(f"{path.name}: has no code cells")
    tags = lambda c: set(c.get("metadata", {}).get("tags", []))  # noqa: E731
    tagged = [(i, c.source) for i, c in code if ANSWER_TAG in tags(c)]
    if tagged:
        return tagged, True
    return [(i, c.source) for i, c in code if CHECK_TAG not in tags(c) and not _is_check_cell(c.source)], False


def _is_check_cell(source: str) -> bool:
    return bool(re.search(r"^\s*from\s+grader\s+import\s+check|^\s*check\(", source, re.M))


def clean_source(source: str) -> str:
    """A cell's code with IPython syntax neutralised: magics and shell escapes become `pass`."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines = lines[1:]  # a cell magic (%%time): keep its body
    out = []
    for line in lines:
        m = _MAGIC.match(line)
        out.append(f"{m.group(1)}pass  # {line.strip()}" if m else line)
    return "\n".join(out) + "\n"


def notebook_module(path: Path, module_name: str, register) -> tuple[types.ModuleType, list[str]]:
    """Run a notebook's code cells in a fresh module, each separately; return it and notes."""
    cells, from_tags = read_cells(path)
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    notes = [] if from_tags else [f"{path.name} has no cell tagged {ANSWER_TAG!r}: all its code cells were used"]
    for number, source in cells:
        filename = f"{path} [cell {number}]"
        register(filename)
        try:
            code = compile(clean_source(source), filename, "exec", dont_inherit=True)
            exec(code, module.__dict__)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the kernel would have shown it, and gone on
            last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            line = getattr(exc, "lineno", None) or (last[0].lineno if last else "?")
            notes.append(f"{path.name} [cell {number}], line {line}: {type(exc).__name__}: {exc}")
    return module, notes


def _text_or_nothing(path: Path) -> str:
    try:
        return read_regular(path).decode("utf-8", errors="replace")
    except OSError:  # a FIFO or a device named like a notebook: read_cells says what it is
        return ""


def find_notebooks(target: Path, exercise: Exercise) -> list[Path]:
    """The notebooks that answer `exercise` in a folder: those named or tagged for it, else all."""
    notebooks = sorted(p for p in target.glob("*.ipynb") if not p.name.startswith("."))
    chosen = [p for p in notebooks
              if p.name.startswith((exercise.id, exercise.short + "_"))
              or exercise.id in _text_or_nothing(p)]
    return chosen or notebooks
