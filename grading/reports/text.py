"""Terminal output: the summary, one exercise's checks, the list. Pure functions of the results
(and, for the summary, of the mistakes the learner has fixed so far, from `grading.learner.state`).

Every text a learner's code or a submission's file names can influence (messages, errors,
notes, output, tracebacks, paths, names) is shown through `grading.reports.formats.visible` (messages by
`Style.wrap`): an escape sequence or a carriage return in it is shown as `\\x1b` or `\\x0d`, and can
never move the cursor or rewrite a line of the report."""

from __future__ import annotations

from pathlib import Path

from grading.core.catalog import Catalog, Exercise
from grading.reports.formats import visible
from grading.core.results import ExerciseResult, RunResult, confinement
from grading.reports.style import Style
from grading.core.paths import display_path as _display_path, exercise_file

STATUS_WORDS = {"passed": "passed", "failed": "failing", "not_started": "not started", "error": "error"}


def display_path(path) -> str:
    """A path as the learner would type it, shown on one line (see `visible`)."""
    return visible(_display_path(path), keep="")


def first_line(text: str, limit: int) -> str:
    line = (visible(text).strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def integrity_warnings(run: RunResult, s: Style) -> list[str]:
    """Modified checks and reads of the reference solutions, said plainly."""
    lines = []
    integrity = run.integrity or {}
    changed = integrity.get("modified", []) + integrity.get("missing", [])
    if changed:
        shown = ", ".join(visible(c, keep="") for c in changed[:3])
        shown += f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        lines.append(s("Warning: ", "bold", "yellow") + f"these files differ from the kata's originals: {shown}. "
                     "Grades from edited checks can't be trusted; in a classroom the affected exercises score 0.")
    for e in run.exercises:
        for flag in e.flags:
            lines.append(s("Warning: ", "bold", "yellow")
                         + f"{e.id[:4]}: {visible(flag)} In a classroom this scores 0.")
    return lines + ([""] if lines else [])


def sandbox_warning(run: RunResult, s: Style) -> list[str]:
    """A run whose learner code was not confined because the sandbox was turned off, said loudly."""
    if not run.sandbox.startswith("off"):
        return []
    return [s("Warning: ", "bold", "yellow") + confinement(run.sandbox), ""]


def mistake_line(title: str | None, s: Style, indent: int) -> list[str]:
    """The known mistake a failure is, named once above its explanation ("Mistake: ..."), or nothing."""
    if not title:
        return []
    label = "Mistake: "
    wrapped = s.wrap(label + title, indent)
    return [wrapped.replace(label, s(label, "bold"), 1)]


def fixed_mistakes_lines(fixed: list[tuple[str, str]], s: Style) -> list[str]:
    """The mistakes the learner met and fixed so far, as (exercise's short id, title) pairs."""
    if not fixed:
        return []
    label = "Mistakes you met and fixed: "
    text = label + "; ".join(f"{short} {title}" for short, title in fixed) + "."
    return ["", s.wrap(text, 0).replace(label, s(label, "bold"), 1)]


def next_exercise(run: RunResult) -> ExerciseResult | None:
    return next((e for e in run.exercises if not e.passed), None)


def summary(run: RunResult, catalog: Catalog, style: Style, target_is_default: bool = True,
            fixed: list[tuple[str, str]] | None = None) -> str:
    """Progress, a line per exercise, the next exercise with what to fix and, at the end, the
    mistakes met and fixed so far (`fixed`: (exercise's short id, mistake title) pairs)."""
    s = style
    done = sum(e.passed for e in run.exercises)
    total = len(run.exercises)
    lines = [
        s("autograd kata", "bold") + s(f"  {display_path(run.target)}", "dim")
        + (s(f"  sandbox: {run.sandbox.partition(' (')[0]}", "dim") if run.sandbox else ""),
        f"{s.bar(done, total)}  {done}/{total} exercises  "
        f"{run.score:g}/{run.max_score:g} points",
        "",
    ]
    lines += integrity_warnings(run, s)
    lines += sandbox_warning(run, s)
    title_width = max((len(catalog[e.id].title) for e in run.exercises), default=20)
    for e in run.exercises:
        ex = catalog[e.id]
        status = e.status
        words = STATUS_WORDS[status]
        if status in ("failed", "error"):
            problem = e.first_problem
            reason = e.error or (problem.message if problem else "")
            room = max(20, s.width - title_width - 22)
            words = f"{words}: {first_line(reason, room)}"
        colour = {"passed": "green", "failed": "red", "error": "red", "not_started": "dim"}[status]
        lines.append(f"  {s.symbol(status)} {ex.short}  {ex.title:<{title_width}}  {s(words, colour)}")
    lines.append("")
    upcoming = next_exercise(run)
    if upcoming is None:
        lines += _all_done(run, s)
    else:
        ex = catalog[upcoming.id]
        path = display_path(exercise_file(Path(run.target), ex.id))
        lines.append(s(f"Next: {ex.short} {s.dash} {ex.title}", "bold") + f"   ({path})")
        problem = upcoming.first_problem
        if upcoming.error:
            lines.append(s.wrap(upcoming.error, 2, max_lines=8))
        elif upcoming.status == "not_started":
            lines.append(s.wrap(f"Open {path}, read the explanation at the top, and replace "
                                "`raise NotImplementedError` with your implementation.", 2))
        elif problem is not None:
            lines += mistake_line(problem.mistake_title, s, 2)
            lines.append(s.wrap(problem.message, 2, max_lines=12))
        lines.append("")
        target = "" if target_is_default else f" --target {display_path(run.target)}"
        commands = [(f"python grader.py {ex.short}{target}", "every check of this exercise"),
                    (f"python grader.py hint {ex.short}", "a hint (another one each time)")]
        width = max(len(c) for c, _ in commands)
        lines += [s(f"  {c:<{width}}", "cyan") + f"   {what}" for c, what in commands]
    lines += fixed_mistakes_lines(fixed or [], s)
    return "\n".join(lines)


def _all_done(run: RunResult, s: Style) -> list[str]:
    return [
        s("Every exercise passes.", "bold", "green"),
        s.wrap(
            "You can now say when autograd records (and when it must not), how to update parameters without "
            "being recorded, how to cut a graph with detach() and where it belongs, how to freeze and unfreeze "
            "parameters and build optimizers over what trains, and how patterns like target networks, "
            "saliency and truncated BPTT rest on those few tools.",
            2,
        ),
        s.wrap("Compare your code with the reference: `python grader.py solution EX`. "
               "Then read PyTorch's notes on autograd mechanics to go deeper.", 2),
    ]


def group_by_test(checks):
    """Checks grouped by test function, in order: `test_x[a]`, `test_x[b]` -> `test_x`."""
    groups: dict[str, list] = {}
    for check in checks:
        groups.setdefault(visible(check.name, keep="").split("[", 1)[0], []).append(check)
    return groups


def detail(result: ExerciseResult, exercise: Exercise, target: str, style: Style, verbose: bool = False,
           where: str | None = None) -> str:
    s = style
    path = where or display_path(exercise_file(Path(target), exercise.id))
    passed, total = result.counts
    status = result.status
    colour = {"passed": "green", "failed": "red", "error": "red", "not_started": "dim"}[status]
    head = f"{exercise.short} {s.dash} {exercise.title}"
    lines = [s(head, "bold") + f"   ({path})",
             s(f"{STATUS_WORDS[status]}: {passed} of {total} checks pass", colour), ""]
    for flag in result.flags:
        lines += [s("Warning: ", "bold", "yellow") + visible(flag) + " In a classroom this scores 0.", ""]
    for note in result.notes:
        lines += [s.wrap("Note: " + note, 2, max_lines=6)]
    if result.notes:
        lines.append("")
    if result.error:
        lines += [s.wrap(result.error, 2, max_lines=None if verbose else 12), ""]
    load_errors = {c.message for c in result.checks if c.load_error}
    if load_errors and all(c.load_error for c in result.checks):
        lines += [s.wrap(message, 2) for message in sorted(load_errors)]
        lines.append("")
    elif status == "not_started" and not verbose:
        lines.append(s.wrap(f"Not started: every check stops at `raise NotImplementedError` in {path}. "
                            "Read the explanation at the top of the file and write the function.", 2))
        lines.append("")
    else:
        lines += _check_lines(result.checks, s, verbose)
        lines.append("")
    if result.passed:
        lines.append(s("All checks pass.", "green") + " Compare with the reference: "
                     + s(f"python grader.py solution {exercise.short}", "cyan"))
    else:
        lines.append("Stuck? " + s(f"python grader.py hint {exercise.short}", "cyan")
                     + ("" if verbose else "   Every case and traceback: " + s(f"python grader.py {exercise.short} -v", "cyan")))
    return "\n".join(lines)


def _check_lines(checks: list, s: Style, verbose: bool) -> list[str]:
    """The checks, grouped by test function. Test functions failing with the same message share
    one block: the message once, then the checks it covers (one wrong line of code often fails
    every check the same way). With `verbose`, every case in full."""
    groups = group_by_test(checks)
    if verbose:
        return [line for name, cases in groups.items() for line in _verbose_lines(cases, s)]
    reasons: dict[str, list] = {}  # message -> [(test function, its cases, failing cases, the one shown)]
    order = []  # ("passed", name, cases) or ("reason", message), where each first appears
    for name, cases in groups.items():
        failing = [c for c in cases if not c.passed]
        if not failing:
            order.append(("passed", name, cases))
            continue
        shown = next((c for c in failing if not c.not_implemented), failing[0])
        if shown.message not in reasons:
            reasons[shown.message] = []
            order.append(("reason", shown.message, None))
        reasons[shown.message].append((name, cases, failing, shown))
    lines = []
    for kind, key, cases in order:
        if kind == "passed":
            lines.append(f"  {s.symbol('passed')} {key}{s(_cases(cases), 'dim')}")
        else:
            lines += _reason_lines(reasons[key], s)
    return lines


def _cases(cases: list, failing: list | None = None) -> str:
    if len(cases) < 2:
        return ""
    return f" ({len(failing)} of {len(cases)} cases fail)" if failing is not None else f" ({len(cases)} cases)"


def _reason_lines(members: list, s: Style) -> list[str]:
    """One failure message and the test functions it covers."""
    name, cases, failing, shown = members[0]
    message = "\n".join(mistake_line(shown.mistake_title, s, 6) + [s.wrap(shown.message, 6, max_lines=15)])
    if len(members) == 1:
        lines = [f"  {s.symbol(shown.status)} {name}{s(_cases(cases, failing), 'dim')}", message]
        if len(cases) > 1:
            lines.append(s(f"      failing case: {visible(shown.name, keep='')}", "dim"))
        return lines
    lines = [f"  {s.symbol(shown.status)} {len(members)} checks fail for this reason:", message]
    for name, cases, failing, shown in members:
        lines.append(f"    {s.symbol(shown.status)} {name}{s(_cases(cases, failing), 'dim')}")
    return lines


def _verbose_lines(checks: list, s: Style) -> list[str]:
    lines = []
    previous = None
    for check in checks:
        lines.append(f"  {s.symbol(check.status)} {visible(check.name, keep='')}")
        if check.passed:
            continue
        if check.message == previous:
            lines.append(s("      (same reason as above)", "dim"))
        else:
            previous = check.message
            lines += mistake_line(check.mistake_title, s, 6)
            lines.append(s.wrap(check.message, 6))
        if check.traceback:
            lines.append(s("      traceback:", "dim"))
            lines.append(s.wrap(check.traceback, 8, max_lines=40))
        if check.output:
            lines.append(s("      your code printed:", "dim"))
            lines.append(s.wrap(check.output, 8, max_lines=20))
    return lines


def listing(catalog: Catalog, run: RunResult | None, style: Style) -> str:
    s = style
    lines = []
    part = None
    for ex in catalog:
        if ex.part != part:
            part = ex.part
            lines += ["" if lines else "", s(part, "bold")] if part else []
        status = run.exercise(ex.id).status if run else None
        mark = s.symbol(status) if status else " "
        lines.append(f"  {mark} {ex.short}  {ex.title:<40} {s(f'{ex.points:g} pt', 'dim')}  {s(ex.concept, 'dim')}")
    return "\n".join(line for line in lines).lstrip("\n")
