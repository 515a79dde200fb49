"""The autograd kata's grading engine.

`grader.py` is a thin command line over this package: the catalog (exercise order,
points, hints), the target loader the checks use, the runner (pytest in a child
process, with a plugin object streaming results back), the results model and the
reporters that turn one results model into every output format.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES_DIR = ROOT / "exercises"
SOLUTIONS_DIR = ROOT / "solutions"
CHECKS_DIR = ROOT / "checks"
CATALOG_PATH = EXERCISES_DIR / "catalog.toml"
