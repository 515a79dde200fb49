"""What each command of `python grader.py` does, once `grading.cli` has parsed its command line.

Every handler is `handler(catalog, args, style, exercise)` and returns the exit code; `HANDLERS`
maps each command word to its handler, and grading (`grade`) is the default.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grading import EXERCISES_DIR, ROOT

from grading.core import config
from grading.core.catalog import UnknownExercise
from grading.core.config import COMMANDS, PROG, UsageError
from grading.core.options import Options
from grading.reports.style import Style
from grading.core.paths import display_path
from grading.engine.targets import TargetError, resolve_target


def grade(catalog, args, style: Style, exercise=None) -> int:
    from grading.reports.formats import CLASSROOM_FORMATS, render

    if args.verbose and args.format != "text":
        raise UsageError(f"--verbose changes the text report only, not --format {args.format}")
    selected = [resolve_exercise(catalog, w) for w in args.exercises] if args.exercises else list(catalog)
    selected = list(dict.fromkeys(selected))  # each once, in the order given
    target = _target(args)
    seed = _seed(args, fresh=args.format in CLASSROOM_FORMATS)
    settings = {"options": args.options}

    from grading.engine.runner import grade as grade_target

    progress = None
    if args.format != "text" and args.output:
        def progress(partial):  # the report exists and grows while grading runs
            _write_atomic(render(partial, args.format), Path(args.output))

    stopped = None
    graphs = _graphs_wanted(args, selected)
    try:
        run = grade_target(target, selected, seed=seed, on_progress=_with_integrity(catalog, progress),
                           graph=[ex.id for ex in graphs], **settings)
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM, SIGHUP: the report says what was graded, then exit
        if not getattr(stop, "partial", None):
            raise
        stopped, run = stop, stop.partial[0]
    if graphs and stopped is None:
        _add_graphs(run, graphs, args, seed, settings)
    from grading.core.integrity import attach_integrity

    attach_integrity(run, catalog)

    fixed = None
    if args.target is None:  # the learner's own exercises: the mistakes met, and fixed once an exercise passes
        from grading.learner import state

        state.record_mistakes(run)
        fixed = [(catalog[e].short if catalog.get(e) else e, title) for e, _, title in state.fixed_mistakes()]

    if args.format != "text":
        text = render(run, args.format)
    else:
        from grading.reports import text as report_text

        if args.output:
            style = Style(color=False)
        if args.exercises:
            text = "\n\n".join(
                report_text.detail(run.exercise(ex.id), ex, run.target, style, verbose=args.verbose)
                + _graph_text(run.exercise(ex.id), style) for ex in selected
            )
        else:
            text = report_text.summary(run, catalog, style, target_is_default=args.target is None, fixed=fixed)
            upcoming = report_text.next_exercise(run)
            text += _graph_text(upcoming, style) if upcoming is not None else ""
    from grading.engine.signals import signals_held

    with signals_held():  # a signal that comes now waits until the report is out
        _write(text, args.output)
    if stopped is not None:
        raise stopped
    # an exercise whose checks were edited, or whose code read the reference, does not pass:
    # GitHub Classroom scores by this exit code
    trusted = not run.integrity_affected and not any(e.flags for e in run.exercises)
    return 0 if run.all_passed and trusted else 1


def _graphs_wanted(args, selected) -> list:
    """The graph exercises whose graphs `--graph` records (none without it)."""
    if not getattr(args, "graph", False):
        return []
    from grading.engine.graph_report import graph_exercises, reference_missing

    problem = reference_missing()
    if problem:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return []
    return graph_exercises(selected)


def _add_graphs(run, graphs, args, seed, settings) -> None:
    """The reference's graphs beside the learner's: for the exercises the report shows in full (the
    ones named, or the next one to work on in the summary; every one in a machine format)."""
    from grading.learner.graphs import add_graphs
    from grading.reports.text import next_exercise

    if args.format == "text" and not args.exercises:
        upcoming = next_exercise(run)
        graphs = [ex for ex in graphs if upcoming is not None and ex.id == upcoming.id]
    add_graphs(run, graphs, seed=seed, **settings)


def _graph_text(result, style: Style) -> str:
    if result is None or result.graph is None:
        return ""
    from grading.reports.graph_text import render

    return "\n\n" + render(result.graph, style, svg=result.graph.get("svg"))


def export(catalog, args, style: Style, exercise=None) -> int:
    from grading.classroom.export import ExportError, export_classroom, export_gradescope

    try:
        if args.kind == "gradescope":
            path = export_gradescope(Path(args.output))
            print(f"wrote {display_path(path)}: upload it as the assignment's autograder on Gradescope")
        else:
            path = export_classroom(Path(args.dest))
            print(f"wrote the learners' repository to {display_path(path)}: push it and mark it as a template")
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    return 0


def notebooks(catalog, args, style: Style, exercise=None) -> int:
    from grading.core.stubs import ResetRefused, pristine_stub
    from grading.engine.notebooks import write_notebooks

    out = Path(args.output) if args.output else ROOT / config.NOTEBOOKS_DIR
    try:
        written = write_notebooks(catalog, out, pristine_stub)
    except ResetRefused as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {len(written)} notebooks to {display_path(out)}; open them with Jupyter and run the check cells")
    return 0


def batch(catalog, args, style: Style, exercise=None) -> int:
    folder = Path(args.submissions)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of submissions")
    from grading.classroom.batch import resumed_seed, run_batch

    scheduler, resume = getattr(args, "scheduler", None), getattr(args, "resume", False)
    lost = _cluster_ready(scheduler)
    if resume and not args.feedback:
        raise UsageError("--resume needs --feedback DIR: the feedback files are what it keeps")
    seed = resumed_seed(Path(args.feedback)) if resume and args.seed is None and not os.environ.get(config.SEED_ENV) else None
    try:
        outcomes = run_batch(folder, catalog, Path(args.output), options=args.options,
                             seed=_seed(args, fresh=True) if seed is None else seed,
                             feedback=Path(args.feedback) if args.feedback else None,
                             report=Path(args.report) if args.report else None, progress_stream=sys.stderr,
                             scheduler=scheduler, resume=resume, graph=args.graph)
    except lost as exc:
        print(f"\n{exc}: what was graded is in {args.output}; `--resume` grades the rest", file=sys.stderr)
        return 1
    return 0 if all(o.status == "graded" for o in outcomes) else 1


CLUSTER_EXTRA = 'pip install -e ".[cluster]"'  # what --scheduler needs


def _cluster_ready(scheduler: str | None):
    """The error that says the cluster's scheduler was lost; a usage error where --scheduler is
    given and Dask is not installed."""
    if scheduler is None:
        return ()
    try:
        from grading.classroom.cluster import SchedulerLost
    except ImportError as exc:
        if exc.name is None or exc.name.partition(".")[0] not in ("dask", "distributed"):
            raise
        raise UsageError(f"--scheduler grades on a Dask cluster, and Dask is not installed: {CLUSTER_EXTRA} "
                         "(the kata's `cluster` extra) installs it") from None
    return SchedulerLost


# ------------------------------------------------------------------ helpers


def _target(args) -> Path:
    try:
        return resolve_target(args.target, EXERCISES_DIR)
    except TargetError as exc:
        raise UsageError(str(exc)) from None


def _folder_target(target_arg) -> Path:
    path = Path(target_arg) if target_arg else EXERCISES_DIR
    if not path.is_dir():
        raise UsageError(f"{path} is not a folder of exercises")
    return path.resolve()


def _seed(args, fresh: bool = False) -> int:
    """The base seed: --seed, KATA_SEED, else 0 for learners and a fresh one for classroom runs."""
    try:
        return config.seed(args.seed, fresh=fresh)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None


def grading_options(args) -> Options:
    """The grading limits of this command, built once from its command line (then the
    environment, pyproject.toml, the defaults) and passed down to everything that grades. A bad
    value is a usage error; `--sandbox require` where the kernel has no Landlock is one too, and
    `off` says loudly what it gives up."""
    from grading.engine.sandbox import abi, status

    given = {name: getattr(args, name, None) for name in ("timeout", "memory_mb", "jobs", "isolation",
                                                           "exercise_timeout", "submission_timeout", "sandbox")}
    try:
        options = Options.resolve(strict=True, **given)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    if options.sandbox == "require" and abi() <= 0:
        raise UsageError("--sandbox require: this system offers no Landlock sandbox (it needs Linux 5.13 or later "
                         "with Landlock enabled), so learner code could not be confined; grade on such a system, "
                         "or use --sandbox auto to grade with detection only")
    if options.sandbox == "off":
        print(f"warning: sandbox {status(options.sandbox)}. Use this for debugging only: learner code can then write "
              "and read anywhere this user can.", file=sys.stderr)
    return options


def _with_integrity(catalog, progress):
    if progress is None:
        return None

    from grading.core.integrity import attach_integrity

    def report(partial):
        attach_integrity(partial, catalog)
        progress(partial)

    return report


def _write_atomic(text: str, path: Path) -> None:
    """The whole report or nothing: a reader never sees half of it (see `grading.core.atomic`)."""
    from grading.core.atomic import write_atomic

    try:
        write_atomic(path, text + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def solution(catalog, args, style: Style, exercise) -> int:
    target = _target(args)
    """The reference solution, shown only once the learner's own version passes."""
    from grading.learner.reset import solution_text
    from grading.engine.runner import grade

    text = solution_text(exercise)
    if text is None:
        print(f"The reference solutions are not shipped with this copy of the kata; "
              f"ask your instructor about {exercise.short}.")
        return 1
    result = grade(target, [exercise], seed=_seed(args), options=args.options).exercise(exercise.id)
    if not result.passed:
        passed, total = result.counts
        print(f"The reference solution of {exercise.short} is shown once your version passes "
              f"(now {passed} of {total} checks pass): compare, don't copy.")
        print(style(f"  {PROG} {exercise.short}", "cyan") + "        what is still failing")
        print(style(f"  {PROG} hint {exercise.short}", "cyan") + "   a hint")
        return 1
    print(style(f"Your {exercise.short} passes. The reference solution, to compare with yours:", "bold"))
    print()
    print(text.rstrip())
    return 0


def resolve_exercise(catalog, word):
    if word in COMMANDS:
        raise UsageError(f"`{word}` is a command: give it first, e.g. `{PROG} {word} ...` "
                         f"(see `{PROG} {word} --help`)")
    try:
        return catalog.resolve(word)
    except UnknownExercise as exc:
        raise UsageError(str(exc)) from None


def _write(text: str, output: str | None) -> None:
    if output:
        _write_atomic(text, Path(output))
    else:
        print(text)


def hint(catalog, args, style: Style, exercise) -> int:
    show_all = args.all
    from grading.learner import state

    hints = exercise.hints
    s = style
    if not hints:
        print(f"{exercise.short} has no hints. Read the explanation at the top of its file.")
        return 0
    seen = state.hints_seen(exercise.id)
    shown = len(hints) if show_all else min(seen + 1, len(hints))
    print(s(f"{exercise.short} {s.dash} {exercise.title}", "bold"))
    for i in range(shown):
        latest = i == shown - 1
        label = f"Hint {i + 1} of {len(hints)}:"
        print(s(label, "bold" if latest else "dim"))
        print(s.wrap(hints[i], 2) if latest else s(s.wrap(hints[i], 2), "dim"))
    if shown < len(hints):
        print(s(f"\nStill stuck? Run `{PROG} hint {exercise.short}` again for the next hint.", "dim"))
    else:
        print(s("\nThat was the last hint. The explanation at the top of the exercise file has the rest.", "dim"))
    state.set_hints_seen(exercise.id, max(seen, shown))
    return 0


def listing(catalog, args, style: Style, exercise=None) -> int:
    from grading.reports.text import listing as table

    print(table(catalog, None, style))
    return 0


def reset(catalog, args, style: Style, exercise) -> int:
    from grading.learner.reset import ResetRefused, reset as put_back

    try:
        return put_back(exercise, _folder_target(args.target), style, assume_yes=args.yes)
    except ResetRefused as exc:
        raise UsageError(str(exc)) from None


def watch(catalog, args, style: Style, exercise=None) -> int:
    from grading.learner.watch import watch as follow

    return follow(catalog, _folder_target(args.target), style, seed=_seed(args), options=args.options,
                  poll=args.poll, record=args.target is None)


# each command word and the function that carries it out: handler(catalog, args, style, exercise)
HANDLERS = {"list": listing, "hint": hint, "reset": reset, "solution": solution, "watch": watch,
            "export": export, "notebooks": notebooks, "batch": batch}
