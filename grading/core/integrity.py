"""Integrity of the checks: a manifest of hashes of everything that decides a grade.

    python -m grading.core.integrity           # rewrite grading/integrity.json
    python -m grading.core.integrity --check   # exit 1 if a file differs from the manifest

A learner's copy of the kata whose checks, grading engine or catalog (points!) were
edited is reported in every output format; in classroom formats the exercises whose
checks are in doubt score 0. This catches casual edits, not a determined attacker:
for high-stakes grading the instructor's own copy of the checks grades the work.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grading import ROOT
from grading.core.catalog import Catalog

MANIFEST = ROOT / "grading" / "integrity.json"


def guarded_files() -> list[Path]:
    files = [ROOT / "grader.py", ROOT / "exercises" / "catalog.toml"]
    files += sorted((ROOT / "checks").rglob("*.py"))  # the checks' modules in subfolders too
    files += sorted(p for p in (ROOT / "grading").rglob("*.py"))
    return [p for p in files if p.exists()]


def _digest(path: Path) -> str:
    # line endings normalised: a checkout on Windows is not a modification
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def compute() -> dict[str, str]:
    return {p.relative_to(ROOT).as_posix(): _digest(p) for p in guarded_files()}


@dataclass
class Integrity:
    checked: bool = True  # False where the kata ships no manifest
    modified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.modified and not self.missing

    def affected(self, catalog: Catalog) -> set[str]:
        """Exercises whose verdicts can no longer be trusted."""
        bad = set(self.modified) | set(self.missing)
        ids = set()
        for path in bad:
            name = Path(path).name
            # an exercise's check file, or its helpers (imported by that check file only: tests/test_layers.py)
            own = next((ex.id for ex in catalog if name in (f"test_{ex.id}.py", f"support_{ex.id}.py")), None)
            if own:
                ids.add(own)
            else:  # the engine, shared check code or the catalog: every exercise
                return {ex.id for ex in catalog}
        return ids

    def to_dict(self) -> dict:
        return {"checked": self.checked, "ok": self.ok, "modified": self.modified, "missing": self.missing}


def verify() -> Integrity:
    try:
        expected = json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return Integrity(checked=False, missing=[MANIFEST.relative_to(ROOT).as_posix()])
    actual = compute()
    modified = sorted(p for p, h in expected.items() if p in actual and actual[p] != h)
    missing = sorted(p for p in expected if p not in actual)
    added = sorted(p for p in actual if p not in expected and p.startswith("checks/"))
    return Integrity(modified=modified + added, missing=missing)


def attach_integrity(run, catalog: Catalog, integrity: Integrity | None = None) -> None:
    """The integrity of the kata's checks and engine (verified now, unless given) on `run`."""
    integrity = verify() if integrity is None else integrity
    run.integrity = integrity.to_dict()
    run.integrity_affected = integrity.affected(catalog) & {e.id for e in run.exercises}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        result = verify()
        for path in result.modified:
            print(f"{path} differs from the manifest", file=sys.stderr)
        for path in result.missing:
            print(f"{path} is missing", file=sys.stderr)
        if not result.ok:
            print("run `python -m grading.core.integrity` after changing checks or the grader", file=sys.stderr)
        return 0 if result.ok else 1
    MANIFEST.write_text(json.dumps({"files": compute()}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {MANIFEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
