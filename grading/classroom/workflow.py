"""The GitHub Classroom workflow, generated from the catalog.

    python -m grading.classroom.workflow           # rewrite .github/workflows/classroom.yml
    python -m grading.classroom.workflow --check   # exit 1 if it is out of date

One `classroom-resources/autograding-command-grader@v1` step per exercise, in catalog
order: it runs `python grader.py exNN` (exit code 0 scores the exercise's points, as a
whole number), then `classroom-resources/autograding-grading-reporter@v1` collects every
step's result for GitHub Classroom. Each run draws fresh random inputs (`--seed` is the
workflow run's id), so answers hard-coded for the default inputs do not pass.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from grading import ROOT
from grading.core.catalog import Catalog, CatalogError, Exercise, load_catalog
from grading.core.generated import write_or_check

WORKFLOW_PATH = Path(".github") / "workflows" / "classroom.yml"
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYTHON_VERSION = "3.11"
# Minutes one exercise may take. A check past its own limit (10 s) stops the exercise's
# remaining checks, so an exercise needs seconds; the margin is for a slow runner.
STEP_TIMEOUT_MINUTES = 5


class ClassroomError(Exception):
    """The catalog cannot be expressed as a GitHub Classroom workflow."""


def torch_requirement(root: Path = ROOT) -> str:
    """The kata's own torch requirement (`torch>=2.1`), from pyproject.toml."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return "torch"
    for dep in data.get("project", {}).get("dependencies", []):
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", dep)
        if match and match.group(1).lower() == "torch":
            return dep.split(";")[0].strip()
    return "torch"


def step_id(exercise: Exercise) -> str:
    """The step id of an exercise (`ex03_sgd_step`): letters, digits and `_`, unique per exercise."""
    return exercise.id


def results_env(exercise: Exercise) -> str:
    """The variable the reporter reads a step's result from: the upper-cased id + `_RESULTS`."""
    return f"{step_id(exercise).upper()}_RESULTS"


def max_score(exercise: Exercise) -> int:
    if exercise.points != int(exercise.points) or exercise.points < 0:
        raise ClassroomError(f"{exercise.id} is worth {exercise.points:g} points: GitHub Classroom "
                             "scores whole numbers only; give it a whole number in exercises/catalog.toml")
    return int(exercise.points)


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def render_workflow(catalog: Catalog, root: Path = ROOT) -> str:
    exercises = list(catalog)
    if not exercises:
        raise ClassroomError("the catalog lists no exercise")
    torch_req = torch_requirement(root)
    lines = [
        "# GitHub Classroom autograding for the autograd kata.",
        "# Generated from exercises/catalog.toml by `python -m grading.classroom.workflow`: do not edit by hand.",
        "# One step per exercise (its points, if `python grader.py exNN` exits 0), then the reporter.",
        "name: Autograding Tests",
        "\"on\":",
        "  push:",
        "  workflow_dispatch:",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "      - name: Checkout code",
        "        uses: actions/checkout@v4",
        f"      - name: Set up Python {PYTHON_VERSION}",
        "        uses: actions/setup-python@v5",
        "        with:",
        f"          python-version: {_q(PYTHON_VERSION)}",
        "      - name: Install the CPU build of PyTorch, then the kata",
        "        run: |",
        "          python -m pip install --upgrade pip",
        f"          python -m pip install --index-url {TORCH_CPU_INDEX} \"{torch_req}\"",
        "          python -m pip install -e .",
    ]
    for ex in exercises:
        name = f"{ex.short} {ex.title}"
        lines += [
            f"      - name: {_q(name)}",
            f"        id: {step_id(ex)}",
            f"        uses: {COMMAND_GRADER}",
            "        with:",
            f"          test-name: {_q(name)}",
            f"          command: {_q(f'python grader.py {ex.short} --seed ${{{{ github.run_id }}}}')}",
            f"          timeout: {STEP_TIMEOUT_MINUTES}",
            f"          max-score: {max_score(ex)}",
        ]
    lines += [
        "      - name: Autograding Reporter",
        f"        uses: {REPORTER}",
        "        env:",
    ]
    for ex in exercises:
        lines.append(f"          {results_env(ex)}: \"${{{{steps.{step_id(ex)}.outputs.result}}}}\"")
    lines += [
        "        with:",
        f"          runners: {','.join(step_id(ex) for ex in exercises)}",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = ROOT / WORKFLOW_PATH
    try:
        wanted = render_workflow(load_catalog())
    except (ClassroomError, CatalogError) as exc:
        print(f"grading.classroom.workflow: error: {exc}", file=sys.stderr)
        return 2
    return write_or_check(path, wanted, argv,
                          stale=f"{WORKFLOW_PATH.as_posix()} is out of date: run `python -m grading.classroom.workflow`",
                          wrote=f"wrote {WORKFLOW_PATH.as_posix()}")


if __name__ == "__main__":
    sys.exit(main())
