"""Mutation testing of the checks: small wrong versions of each reference solution must fail.

A mutant (see `grading.dev.mutants`) the checks pass "survives". A survivor is either equivalent
to the solution (no check could ever tell them apart: it is listed with the reason in the
allowlist, tests/mutants_allowed.toml) or a gap in the checks.

    python -m grading.dev mutate              # every exercise
    python -m grading.dev mutate ex03 ex06    # only these

Every mutant of an exercise is its own one-exercise submission, and all of them are graded in
one batch run (the checks collected once, a process per mutant), with the solution itself, which
must pass: otherwise failing mutants prove nothing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from grading import ROOT, SOLUTIONS_DIR
from grading.core.catalog import Exercise
from grading.dev.mutants import KINDS, Mutant, generate, torch_tensor_methods

ALLOWLIST = ROOT / "tests" / "mutants_allowed.toml"


# ------------------------------------------------------------------ the allowlist


class AllowlistError(Exception):
    pass


@dataclass
class Allowed:
    id: str
    description: str
    reason: str


def load_allowlist(path: Path = ALLOWLIST) -> dict[str, Allowed]:
    """id -> entry, from `[[mutant]]` tables with id, description and reason."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AllowlistError(f"{path}: {exc}") from None
    entries: dict[str, Allowed] = {}
    for i, entry in enumerate(data.get("mutant", []), 1):
        missing = [key for key in ("id", "description", "reason")
                   if not isinstance(entry.get(key), str) or not entry[key].strip()]
        if missing:
            raise AllowlistError(f"{path}: mutant #{i} has no {', '.join(missing)} (each entry needs an id, "
                                 "a one-line description and the reason it is equivalent)")
        if entry["id"] in entries:
            raise AllowlistError(f"{path}: {entry['id']} is listed twice")
        entries[entry["id"]] = Allowed(entry["id"], entry["description"], entry["reason"])
    return entries


# ------------------------------------------------------------------ grading them


@dataclass
class Report:
    mutants: list[Mutant]
    survived: set[str]  # ids
    allowed: dict[str, Allowed]
    exercises: list[str]
    duration: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)  # exercise -> why its mutants could not be made

    def of(self, exercise_id: str) -> list[Mutant]:
        return [m for m in self.mutants if m.exercise == exercise_id]

    @property
    def explained(self) -> list[Mutant]:
        return [m for m in self.mutants if m.id in self.survived and m.id in self.allowed]

    @property
    def unexplained(self) -> list[Mutant]:
        return [m for m in self.mutants if m.id in self.survived and m.id not in self.allowed]

    @property
    def stale(self) -> list[Allowed]:
        """Allowlisted mutants of the exercises mutated here that are no longer made, or are killed."""
        made = {m.id for m in self.mutants}
        return [a for a in self.allowed.values() if a.id.split(":", 1)[0] in self.exercises
                and a.id.split(":", 1)[0] not in self.errors and (a.id not in made or a.id not in self.survived)]

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.stale and not self.errors


def run(exercises: list[Exercise], *, allowlist: Path = ALLOWLIST, seed: int = 0, lanes: int | None = None,
        on_progress=None) -> Report:
    """Make every mutant of each exercise's solution and grade them: one batch run per exercise."""
    from grading.engine.runner import grade_many

    allowed = load_allowlist(allowlist)
    started = time.perf_counter()
    methods = torch_tensor_methods()
    report = Report([], set(), allowed, [ex.id for ex in exercises])
    with tempfile.TemporaryDirectory(prefix="kata-mutants-") as scratch:
        for ex in exercises:
            try:
                solution_source = (SOLUTIONS_DIR / ex.filename).read_text(encoding="utf-8")
                mutants = generate(ex.id, solution_source, ex.function, methods)
            except (OSError, SyntaxError, ValueError) as exc:
                report.errors[ex.id] = str(exc)
                continue
            sources = [solution_source] + [m.source for m in mutants]
            targets = []
            for n, source in enumerate(sources):  # the solution itself first: it must pass, or the kills prove nothing
                folder = Path(scratch) / ex.id / f"m{n:03d}"
                folder.mkdir(parents=True)
                (folder / ex.filename).write_text(source, encoding="utf-8")
                targets.append(folder)
            solution, *runs = grade_many(targets, [ex], seed=seed, lanes=lanes, isolation="submission")
            if not solution.exercise(ex.id).passed:
                report.errors[ex.id] = ("the reference solution fails its checks, so failing mutants prove nothing: "
                                        f"see `python grader.py {ex.short} --target solutions`")
                continue
            report.mutants.extend(mutants)
            for mutant, graded in zip(mutants, runs):
                if graded.exercise(ex.id).passed:
                    report.survived.add(mutant.id)
            if on_progress:
                on_progress(ex, mutants, report)
    report.duration = time.perf_counter() - started
    return report


def summary(report: Report) -> str:
    """What a developer reads: per exercise, then every survivor, the unexplained ones with their diff."""
    out = []
    killed_all = sum(1 for m in report.mutants if m.id not in report.survived)
    out.append(f"mutation testing: {len(report.mutants)} mutants of {len(report.exercises)} exercises, "
               f"{killed_all} killed, {len(report.explained)} survivors explained, "
               f"{len(report.unexplained)} unexplained ({report.duration:.1f} s)")
    width = max((len(e) for e in report.exercises), default=0)
    for exercise_id in report.exercises:
        mine = report.of(exercise_id)
        if exercise_id in report.errors:
            out.append(f"  {exercise_id:{width}}  no mutants: {report.errors[exercise_id]}")
            continue
        survivors = [m for m in mine if m.id in report.survived]
        explained = sum(1 for m in survivors if m.id in report.allowed)
        line = f"  {exercise_id:{width}}  {len(mine):3d} mutants  {len(mine) - len(survivors):3d} killed"
        if explained:
            line += f"  {explained} explained"
        if len(survivors) > explained:
            line += f"  {len(survivors) - explained} UNEXPLAINED"
        out.append(line)
    if report.explained:
        out.append("")
        out.append("survivors explained in the allowlist (equivalent to the solution, or a known gap):")
        for m in report.explained:
            reason = report.allowed[m.id].reason
            gap = "KNOWN GAP  " if reason.startswith("not yet caught") else ""
            out.append(f"  {gap}{m.id}  solutions/{m.exercise}.py:{m.line}:{m.col}  {m.description}")
            out.append(f"      {reason}")
    if report.unexplained:
        out.append("")
        out.append("survivors NOT explained: every check passes on these wrong versions of the solution.")
        out.append("Make a check catch the mistake (with a corpus wrong_ file), or, if the mutant is equivalent to")
        out.append(f"the solution, list it in {_shown(ALLOWLIST)} with the reason:")
        for m in report.unexplained:
            out.append("")
            out.append(f"  {m.id}  solutions/{m.exercise}.py:{m.line}:{m.col}  ({m.kind}: {KINDS[m.kind]})")
            out.append(f"  {m.description}")
            out.extend("    " + line for line in m.diff().rstrip("\n").splitlines())
        out.append("")
        out.append("allowlist entries for them (fill in the reason once you have shown each equivalent):")
        for m in report.unexplained:
            out.append("")
            out.append(toml_entry(m.id, m.description, "equivalent: ..."))
    if report.stale:
        out.append("")
        out.append(f"allowlist entries to remove from {_shown(ALLOWLIST)} (the mutant is killed now, or no longer made):")
        for a in report.stale:
            out.append(f"  {a.id}  {a.description}")
    return "\n".join(out)


def toml_entry(mutant_id: str, description: str, reason: str) -> str:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"[[mutant]]\nid = {q(mutant_id)}\ndescription = {q(description)}\nreason = {q(reason)}"


def _shown(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)
