"""Classroom exports of the kata: a Gradescope autograder bundle and a learners' repository.

    python -m grading.classroom.export gradescope --out autograder.zip
    python -m grading.classroom.export classroom DIR

(`python grader.py export gradescope --out X` and `python grader.py export classroom DIR`
call the same functions.)

- `export_gradescope(out_zip)`: setup.sh (the CPU build of torch, then the kata's
  dependencies), run_autograder (grades /autograder/submission with the instructor's checks
  into /autograder/results/results.json, failing closed) and the code it needs: grader.py,
  grading/, checks/, exercises/catalog.toml, pyproject.toml. Never solutions/ or tests/.
- `export_classroom(dest)`: a repository for learners: the stubs, the catalog, the checks,
  the grader and its engine, the GitHub Classroom workflow, pyproject.toml, .gitignore and a
  README for learners. Never solutions/ nor tests/ (its right_*.py files are solutions); the
  original stubs go to grading/pristine/ so that `python grader.py reset EX` works there.

Both copies carry an integrity manifest computed from the files they ship, so a stale
manifest in the instructor's checkout never zeroes a class's grades.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from grading import ROOT
from grading.core.atomic import replacing
from grading.core.catalog import Catalog, CatalogError, load_catalog
from grading.classroom.workflow import TORCH_CPU_INDEX, ClassroomError, render_workflow, torch_requirement, WORKFLOW_PATH

TEMPLATES = Path(__file__).resolve().parent / "autograder"
EXECUTABLE = ("setup.sh", "run_autograder")
# never copied from the engine: caches, and pristine stubs of another export
_SKIP = {"__pycache__", "pristine", ".pytest_cache"}


class ExportError(Exception):
    """Bad input for an export (a non-empty folder, a missing file); the message is one line."""


# ------------------------------------------------------------------ shared


def _ignore(_dir, names):
    return [n for n in names if n in _SKIP or n.endswith((".pyc", ".pyo", ".tmp"))]


def _copy_engine(stage: Path, *, with_autograder: bool) -> None:
    """grader.py, grading/, checks/, exercises/catalog.toml and pyproject.toml into `stage`."""
    for name in ("grader.py", "pyproject.toml"):
        if not (ROOT / name).is_file():
            raise ExportError(f"{ROOT / name} is missing: cannot export")
        shutil.copy2(ROOT / name, stage / name)
    skip = set() if with_autograder else {"autograder"}

    def ignore(d, names):
        return _ignore(d, names) + [n for n in names if Path(d) == TEMPLATES.parent and n in skip]

    shutil.copytree(ROOT / "grading", stage / "grading", ignore=ignore)
    shutil.copytree(ROOT / "checks", stage / "checks", ignore=_ignore)
    (stage / "exercises").mkdir(exist_ok=True)
    shutil.copy2(ROOT / "exercises" / "catalog.toml", stage / "exercises" / "catalog.toml")


def _write_manifest(stage: Path) -> None:
    """The integrity manifest of the copy, computed by the copy's own engine."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    proc = subprocess.run([sys.executable, "-m", "grading.core.integrity"], cwd=stage, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise ExportError(f"cannot write the integrity manifest of the export: {last}")


def _catalog() -> Catalog:
    try:
        return load_catalog()
    except CatalogError as exc:
        raise ExportError(str(exc)) from None


def _requirements() -> list[str]:
    """The kata's dependencies, from pyproject.toml, except torch (installed from the CPU index)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = data.get("project", {}).get("dependencies", [])
    return [d for d in deps if _project_name(d) != "torch"]


def _project_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1).lower().replace("_", "-") if match else ""


# ------------------------------------------------------------------ Gradescope


def render_setup_sh() -> str:
    text = (TEMPLATES / "setup.sh").read_text(encoding="utf-8")
    return text.replace("@TORCH_REQUIREMENT@", torch_requirement()).replace("@TORCH_INDEX_URL@", TORCH_CPU_INDEX)


def export_gradescope(out_zip: Path) -> Path:
    """Write the Gradescope autograder bundle to `out_zip`; returns its path."""
    out_zip = Path(out_zip)
    if out_zip.is_dir():
        raise ExportError(f"{out_zip} is a folder: give the path of the .zip to write, e.g. --out autograder.zip")
    if not out_zip.parent.is_dir():
        raise ExportError(f"{out_zip.parent} does not exist: create it first, or write the bundle elsewhere")
    _catalog()  # a broken manifest is refused here, not on Gradescope
    with tempfile.TemporaryDirectory(prefix="kata-gradescope-") as tmp:
        stage = Path(tmp) / "bundle"
        stage.mkdir()
        _copy_engine(stage, with_autograder=True)
        (stage / "setup.sh").write_text(render_setup_sh(), encoding="utf-8", newline="\n")
        shutil.copy2(TEMPLATES / "run_autograder", stage / "run_autograder")
        (stage / "requirements.txt").write_text(
            "# the kata's dependencies besides torch (setup.sh installs torch's CPU build first)\n"
            + "".join(f"{r}\n" for r in _requirements()), encoding="utf-8")
        _write_manifest(stage)
        try:
            with replacing(out_zip, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in sorted(stage.rglob("*")):
                    if path.is_dir():
                        continue
                    rel = path.relative_to(stage).as_posix()
                    info = zipfile.ZipInfo(rel, date_time=(2020, 1, 1, 0, 0, 0))
                    mode = 0o755 if rel in EXECUTABLE else 0o644
                    info.external_attr = (stat.S_IFREG | mode) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, path.read_bytes())
        except OSError as exc:
            raise ExportError(f"cannot write {out_zip}: {exc.strerror or exc}") from None
    return out_zip


# ------------------------------------------------------------------ GitHub Classroom


LEARNER_README = """\
# The autograd kata

Small exercises that teach PyTorch's gradient control: `torch.no_grad()`, `detach()` and
`detach_()`, `requires_grad` / `requires_grad_()`, freezing and unfreezing parameters,
optimizers over trainable parameters. You write real functions; the grader checks them down to
the autograd graph and, when an attempt is wrong, says what it observed, why that is wrong and
what to do instead.

## Set up

Python 3.10 or newer. A CPU build of PyTorch is plenty; install it first, then the kata, from
the root of this repository:

    python -m pip install torch --index-url {torch_index}
    python -m pip install -e .

(If you already have PyTorch 2.1 or newer, skip the first line.)

## The learner's loop

    python grader.py

shows your progress, one line per exercise, and the next exercise to work on with the reason its
first failing check gives. Then:

1. Open the file it names, for example `exercises/{first}.py`.
   The text at the top explains the concept with a small example and states what your function
   must do.
2. Replace `raise NotImplementedError` with your implementation.
3. Run `python grader.py {first_short}` to see every check of that exercise and why it fails, or
   leave `python grader.py watch` running, and every save is re-graded on the spot.
4. Stuck? `python grader.py hint {first_short}` gives a hint; run it again for the next one.
5. Commit and push: every push is graded by GitHub Classroom, one test per exercise (the
   repository's Actions tab shows the run, with each exercise's messages).

### Commands

| command | what it does |
|---|---|
| `python grader.py` | progress bar, score, a line per exercise, the next exercise and what to fix |
| `python grader.py ex03` | every check of one exercise with its message (also `3`, `03`, `sgd_step`) |
| `python grader.py ex03 -v` | every case, with tracebacks pointing at your line and what your code printed |
| `python grader.py list` | the exercises in order |
| `python grader.py hint ex03` | the next hint (one more each time; `--all` for all of them) |
| `python grader.py reset ex03` | the original stub back; your file is first copied to `.kata/backups/` (`--yes` skips the question) |
| `python grader.py watch` | re-grade each exercise as you save it (Ctrl-C to stop) |
| `python grader.py notebooks` | one Jupyter notebook per exercise in `notebooks/` (`--out DIR` for another folder) |

Exit codes: `0` every selected exercise passes, `1` some do not, `2` usage error (unknown
exercise, missing target), with a one-line message.

Hint progress and reset backups live in `.kata/`, which git ignores. The reference solutions are
not part of this repository: compare notes with your instructor once an exercise passes.

Do not edit `checks/`, `grading/`, `grader.py` or `exercises/catalog.toml`: they are what grades
your work, and the grader keeps a manifest of them that shows any change.

### In Jupyter

    python grader.py notebooks          # writes notebooks/{first}.ipynb, ...
    jupyter lab notebooks/

Each notebook holds the lesson, an answer cell with the stub, a check cell and the hints. Write
your function in the answer cell, run it, then run the check cell (`check("{first_short}")`). Only the
files in `exercises/` are graded when you push: copy your answer there.

## The learning path

Each exercise needs only what came before it. An exercise scores its points when every one of
its checks passes.

{table}
"""


def render_learner_readme(catalog: Catalog) -> str:
    from grading.reports.learning_path import table

    first = catalog.exercises[0]
    return LEARNER_README.format(torch_index=TORCH_CPU_INDEX, first=first.id, first_short=first.short,
                                 table=table(catalog))


LEARNER_GITIGNORE = """\
__pycache__/
*.pyc
*.egg-info/
build/
dist/
.pytest_cache/
.venv/
.ipynb_checkpoints/
# your own state: hint progress, reset backups
.kata/
# generated by `python grader.py notebooks`
notebooks/
"""


def _check_empty_destination(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise ExportError(f"{dest} is a file, not a folder: choose an empty or new folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise ExportError(f"{dest} is not empty: export into a new or empty folder")


def export_classroom(dest: Path) -> Path:
    """Write the learners' repository into `dest` (new or empty); returns its path."""
    from grading.core.stubs import ResetRefused, pristine_stub

    dest = Path(dest)
    _check_empty_destination(dest)
    catalog = _catalog()
    try:
        workflow = render_workflow(catalog)
    except ClassroomError as exc:
        raise ExportError(str(exc)) from None
    stubs: dict[str, str] = {}
    for ex in catalog:
        try:
            stubs[ex.filename] = pristine_stub(ex)
        except ResetRefused:
            continue  # not written yet: graded as a missing file, like in the instructor's copy
        except (OSError, SyntaxError, ValueError) as exc:
            raise ExportError(f"cannot derive the stub of {ex.id}: {exc}") from None
    if not stubs:
        raise ExportError("no exercise has a reference solution to derive its stub from: nothing to export")

    created = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
        _copy_engine(dest, with_autograder=False)
        pristine = dest / "grading" / "pristine"
        pristine.mkdir()
        for filename, text in stubs.items():
            (dest / "exercises" / filename).write_text(text, encoding="utf-8")
            (pristine / filename).write_text(text, encoding="utf-8")
        (dest / "README.md").write_text(render_learner_readme(catalog), encoding="utf-8")
        (dest / ".gitignore").write_text(LEARNER_GITIGNORE, encoding="utf-8")
        (dest / WORKFLOW_PATH).parent.mkdir(parents=True)
        (dest / WORKFLOW_PATH).write_text(workflow, encoding="utf-8")
        _write_manifest(dest)
    except (OSError, ExportError) as exc:
        # leave no half-made repository behind
        shutil.rmtree(dest, ignore_errors=True) if created else _empty(dest)
        if isinstance(exc, ExportError):
            raise
        raise ExportError(f"cannot write {dest}: {exc.strerror or exc}") from None
    return dest


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
