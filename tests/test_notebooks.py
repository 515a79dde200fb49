"""Notebooks: generated from the exercise files, checked in a real kernel, graded from .ipynb."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from grading import ROOT, SOLUTIONS_DIR
from grading.engine.notebooks import ANSWER_TAG, build_notebook, clean_source
from grading.engine.runner import grade
from grading.core.stubs import stub_for

from .conftest import CATALOG

EX = CATALOG["ex03_sgd_step"]


def notebook_for(ex=EX, answer: str | None = None):
    nb = build_notebook(ex, stub_for(ex))
    if answer is not None:
        next(c for c in nb.cells if ANSWER_TAG in c.metadata.get("tags", [])).source = answer
    return nb


def solution_code(ex=EX) -> str:
    return (SOLUTIONS_DIR / ex.filename).read_text()


def execute(nb):
    import nbclient  # a test extra: `pip install -e .[test]`
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return nb


def check_output(nb) -> str:
    cell = next(c for c in nb.cells if "kata-check" in c.metadata.get("tags", []))
    texts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            texts.append(out.text)
        elif "data" in out:
            texts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            raise AssertionError(f"the check cell raised {out.ename}: {out.evalue}")
    return "".join(texts)


def test_generated_notebooks_are_valid_and_carry_the_lesson():
    for ex in CATALOG:
        if not (SOLUTIONS_DIR / ex.filename).exists():
            continue
        nb = notebook_for(ex)
        nbformat.validate(nb)
        kinds = [(c.cell_type, tuple(c.metadata.get("tags", []))) for c in nb.cells]
        assert ("code", (ANSWER_TAG, ex.id)) in kinds
        assert f'check("{ex.short}")' in "".join(c.source for c in nb.cells)
        assert all(hint in nb.cells[-1].source for hint in ex.hints)


def test_a_real_kernel_runs_the_stub_and_then_the_solution(tmp_path):
    """Stub: the notebook runs through and the check cell reports failures; solution: success;
    and grading the saved notebook from the file agrees with the kernel."""
    stub_nb = execute(notebook_for())
    assert "not started" in check_output(stub_nb).lower()

    solved = execute(notebook_for(answer=solution_code()))
    assert "23 of 23 checks pass" in check_output(solved) or "checks pass" in check_output(solved)
    path = tmp_path / f"{EX.id}.ipynb"
    nbformat.write(solved, str(path))
    from_file = grade(path, [EX]).exercise(EX.id)
    assert from_file.passed


def test_same_verdict_from_notebook_file_python_file_and_namespace(tmp_path):
    wrong = (ROOT / "tests/corpus/ex03_sgd_step/wrong_zeroes_grad.py").read_text()
    nb_path = tmp_path / "nb" / "mine.ipynb"
    nb_path.parent.mkdir()
    nbformat.write(notebook_for(answer=wrong), str(nb_path))
    py_dir = tmp_path / "py"
    py_dir.mkdir()
    (py_dir / EX.filename).write_text(wrong)
    from grading.learner.kernel import run_in_namespace

    namespace: dict = {}
    exec(compile(wrong, "cell", "exec"), namespace)
    verdicts = []
    for result in (grade(nb_path, [EX]).exercise(EX.id), grade(nb_path.parent, [EX]).exercise(EX.id),
                   grade(py_dir, [EX]).exercise(EX.id), run_in_namespace(EX.id, namespace)):
        verdicts.append([(c.name, c.status, c.message) for c in result.checks])
    assert verdicts[0] == verdicts[1] == verdicts[2] == verdicts[3]


def test_reordered_split_duplicated_cells_and_magics(tmp_path):
    answer = solution_code()
    head, _, body = answer.partition("def sgd_step")
    nb = notebook_for(answer="%matplotlib inline\n!pip install nothing\n" + head)
    cells = [
        nbformat.v4.new_code_cell("def sgd_step" + body.replace("    with torch.no_grad():", "    with torch.no_grad():  # v2"),
                                  metadata={"tags": [ANSWER_TAG]}),
        nbformat.v4.new_code_cell("%%time\nx = 1\n", metadata={"tags": [ANSWER_TAG]}),
        nbformat.v4.new_code_cell("def sgd_step(params, lr):\n    raise NotImplementedError\n",
                                  metadata={"tags": [ANSWER_TAG]}),
    ]
    nb.cells[1:1] = []
    nb.cells.insert(2, cells[2])  # an old attempt first ...
    nb.cells.append(cells[1])
    nb.cells.append(cells[0])  # ... the newest last: later cells win, as in a kernel run from the top
    path = tmp_path / "ex.ipynb"
    nbformat.write(nb, str(path))
    assert grade(path, [EX]).exercise(EX.id).passed
    assert clean_source("%timeit f()\nif x:\n    !ls\n") == "pass  # %timeit f()\nif x:\n    pass  # !ls\n"


def test_no_tagged_cell_falls_back_to_all_code_cells_and_says_so(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("my notes"),
        nbformat.v4.new_code_cell(solution_code()),
        nbformat.v4.new_code_cell('from grader import check\ncheck("ex03")'),
    ])
    path = tmp_path / "untagged.ipynb"
    nbformat.write(nb, str(path))
    result = grade(path, [EX]).exercise(EX.id)
    assert result.passed
    assert any("no cell tagged" in n for n in result.notes)


@pytest.mark.parametrize("content,fragment", [
    ("{not json", "invalid JSON"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}), "nbformat 3 is not supported"),
    (json.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("x")])), "has no code cells"),
], ids=["not-json", "nbformat-3", "no-code-cells"])  # the same names in every collection (a cell's id is random)
def test_malformed_notebooks_get_one_line_and_the_others_are_graded(tmp_path, content, fragment):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ex03_broken.ipynb").write_text(content)
    nbformat.write(notebook_for(answer=solution_code()), str(folder / "zz_good.ipynb"))
    result = grade(folder, [EX]).exercise(EX.id)
    assert result.passed, [c.message for c in result.checks][:2]
    assert any(fragment in n and "ex03_broken.ipynb" in n for n in result.notes)
    alone = grade(folder / "ex03_broken.ipynb", [EX]).exercise(EX.id)
    assert alone.status == "error" and fragment in alone.checks[0].message


def test_notebooks_command_writes_one_valid_notebook_per_exercise(tmp_path, capsys):
    from grading.cli import main

    if not all((SOLUTIONS_DIR / ex.filename).exists() for ex in CATALOG):
        pytest.fail("every exercise needs its solution for the notebooks command")
    assert main(["notebooks", "--out", str(tmp_path / "nbs")]) == 0
    written = sorted((tmp_path / "nbs").glob("*.ipynb"))
    assert [p.stem for p in written] == sorted(ex.id for ex in CATALOG)
    for path in written:
        nbformat.validate(nbformat.read(str(path), as_version=4))
