"""`python grader.py`: the command line over the grading engine.

    python grader.py                  summary of every exercise, and what to do next
    python grader.py ex03 [-v]        every check of one exercise (also 3, 03, sgd_step)
    python grader.py list             the exercises in order
    python grader.py hint ex03        the next hint (--all: every hint)
    python grader.py reset ex03       the original stub back (your file is backed up first)
    python grader.py solution ex03    the reference, once your exercise passes
    python grader.py watch            re-grade whenever you save an exercise
    python grader.py --target solutions --format json --output grades.json

Exit codes: 0 every selected exercise passed, 1 some did not, 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from . import EXERCISES_DIR, ROOT
from .catalog import CatalogError, UnknownExercise, load_catalog
from .style import Style
from .targets import TargetError, display_path, resolve_target

COMMANDS = ("list", "hint", "reset", "solution", "watch", "batch", "notebooks", "export")


class UsageError(Exception):
    """Bad command line or input: one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise UsageError(f"{message} (see `python grader.py --help`)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python grader.py",
        description="The autograd kata: grade your exercises and see what to do next.",
        epilog=(
            "commands:\n"
            "  (none)          summary of every exercise and the next one to work on\n"
            "  EX [EX ...]     every check of these exercises (ex03, 3, 03 or sgd_step)\n"
            "  list            the exercises in order, with their status\n"
            "  hint EX         the next hint for EX (each call shows one more; --all for every hint)\n"
            "  reset EX        put the original stub back; your file is first copied to .kata/backups/\n"
            "  solution EX     show the reference solution, once your EX passes\n"
            "  watch           re-grade an exercise each time you save it (Ctrl-C to stop)\n"
            "  notebooks       write one Jupyter notebook per exercise (--out DIR, default notebooks/)\n"
            "  export gradescope --out autograder.zip   a Gradescope autograder bundle\n"
            "  export classroom DIR                      a learners' repository without the solutions\n"
            "  batch DIR       grade every submission in DIR (folders, .zip, notebooks) into --out grades.csv\n"
            "\nexit codes: 0 all selected exercises pass, 1 some do not, 2 usage error"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("words", nargs="*", metavar="COMMAND/EX", help="a command, or exercises to grade")
    p.add_argument("--target", help="folder of exNN_*.py modules (or one file) to grade (default: exercises/)")
    p.add_argument("--format", choices=("text", "json", "gradescope", "junit"), default="text",
                   help="output format (default: text); gradescope and junit draw fresh random inputs unless --seed")
    p.add_argument("--output", "-o", help="write the report to this file instead of standard output")
    p.add_argument("-v", "--verbose", action="store_true", help="every message in full, with tracebacks")
    p.add_argument("--all", action="store_true", help="with hint: show every hint at once")
    p.add_argument("--yes", "-y", action="store_true", help="with reset: don't ask for confirmation")
    p.add_argument("--out", help="with batch: the CSV of grades to write; with notebooks: the folder")
    p.add_argument("--jobs", type=int, default=None, help="grading processes side by side: exercises, or submissions with batch (default: 2)")
    p.add_argument("--isolation", choices=("auto", "exercise", "submission"), default=None,
                   help="a process of its own for each exercise, or for each submission (faster: what an exercise "
                        "changed is undone before the next); auto (default): per exercise for one submission, "
                        "per submission in batch")
    p.add_argument("--feedback", help="with batch: a folder for one feedback JSON per submission")
    p.add_argument("--poll", type=float, default=0.025, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=None, help="base seed of the random inputs (default: 0)")
    p.add_argument("--timeout", type=float, default=None, help="seconds allowed per check (default: 10)")
    p.add_argument("--memory-mb", type=int, default=None, help="data memory the learner's code may use, beyond what the grader holds (default: 1024)")
    color = p.add_mutually_exclusive_group()
    color.add_argument("--color", dest="color", action="store_true", default=None, help="force colour")
    color.add_argument("--no-color", dest="color", action="store_false", help="no colour")
    return p


def run(argv: list[str] | None = None) -> NoReturn:
    """The command's entry point (`grader.py`, `autograd-kata`): main(), then the process ends
    at once with its exit code. Once the report is out there is nothing left to do, but an
    interpreter that has imported torch takes a good part of a second to tear itself down,
    object by object; the learner would wait for that on every run."""
    code = main(argv)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or a closed stream: nothing to add
            pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except UsageError as exc:
        print(f"grader.py: error: {exc}", file=sys.stderr)
        return 2
    except CatalogError as exc:
        print(f"grader.py: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `python grader.py | head`: the reader has gone, that is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv):
    args = build_parser().parse_args(argv)
    catalog = load_catalog()
    words = args.words
    command = words[0] if words and words[0] in COMMANDS else None
    style = Style(color=args.color)

    if command == "list":
        if len(words) > 1:
            raise UsageError("`list` takes no exercise")
        from .report_text import listing

        print(listing(catalog, None, style))
        return 0
    if command == "hint":
        if len(words) != 2:
            raise UsageError("`hint` needs exactly one exercise, e.g. `python grader.py hint ex03`")
        return show_hint(catalog, _resolve(catalog, words[1]), style, show_all=args.all)

    if command in ("reset", "solution"):
        if len(words) != 2:
            raise UsageError(f"`{command}` needs exactly one exercise, e.g. `python grader.py {command} ex03`")
        exercise = _resolve(catalog, words[1])
        if command == "reset":
            from .learner import ResetRefused, reset

            folder = _folder_target(args.target)
            try:
                return reset(exercise, folder, style, assume_yes=args.yes)
            except ResetRefused as exc:
                raise UsageError(str(exc)) from None
        return show_solution(exercise, _target(args), style, args)

    if command == "watch":
        if len(words) > 1:
            raise UsageError("`watch` takes no exercise: it follows whichever file you save")
        from .watch import watch

        return watch(catalog, _folder_target(args.target), style, seed=_seed(args), timeout=_timeout(args),
                     poll=args.poll)

    if command == "export":
        from .export import ExportError, export_classroom, export_gradescope

        kind = words[1] if len(words) > 1 else None
        try:
            if kind == "gradescope" and len(words) == 2:
                path = export_gradescope(Path(args.out or "autograder.zip"))
                print(f"wrote {display_path(path)}: upload it as the assignment's autograder on Gradescope")
                return 0
            if kind == "classroom" and len(words) == 3:
                path = export_classroom(Path(words[2]))
                print(f"wrote the learners' repository to {display_path(path)}: push it and mark it as a template")
                return 0
        except ExportError as exc:
            raise UsageError(str(exc)) from None
        raise UsageError("usage: python grader.py export gradescope [--out autograder.zip] | "
                         "python grader.py export classroom DIR")

    if command == "notebooks":
        if len(words) > 1:
            raise UsageError("`notebooks` takes no exercise; use --out DIR to choose the folder")
        from .learner import pristine_stub
        from .notebooks import write_notebooks

        from .learner import ResetRefused

        out = Path(args.out) if args.out else ROOT / "notebooks"
        try:
            written = write_notebooks(catalog, out, pristine_stub)
        except ResetRefused as exc:
            raise UsageError(str(exc)) from None
        print(f"wrote {len(written)} notebooks to {display_path(out)}; open them with Jupyter and run the check cells")
        return 0

    if command == "batch":
        if len(words) != 2 or not args.out:
            raise UsageError("usage: python grader.py batch SUBMISSIONS --out grades.csv [--jobs N] [--feedback DIR]")
        folder = Path(words[1])
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder of submissions")
        from .batch import run_batch

        outcomes = run_batch(folder, catalog, Path(args.out), jobs=_setting("jobs", args.jobs),
                             seed=_seed(args, fresh=True), timeout=_timeout(args), memory_mb=_memory(args),
                             isolation=_setting("isolation", args.isolation),
                             feedback=Path(args.feedback) if args.feedback else None, progress_stream=sys.stderr)
        return 0 if all(o.status == "graded" for o in outcomes) else 1

    selected = [_resolve(catalog, w) for w in words] if words else list(catalog)
    selected = list(dict.fromkeys(selected))  # each once, in the order given
    target = _target(args)

    from .formats import CLASSROOM_FORMATS, render
    from .runner import grade

    progress = None
    if args.format != "text" and args.output:
        def progress(partial):  # the report exists and grows while grading runs
            _write_atomic(render(partial, args.format), Path(args.output))

    run = grade(target, selected, seed=_seed(args, fresh=args.format in CLASSROOM_FORMATS),
                timeout=_timeout(args), memory_mb=_memory(args), lanes=_setting("jobs", args.jobs),
                isolation=_setting("isolation", args.isolation), on_progress=_with_integrity(catalog, progress))
    attach_integrity(run, catalog)

    if args.format != "text":
        text = render(run, args.format)
    else:
        from . import report_text

        if args.output:
            style = Style(color=False)
        if words:
            text = "\n\n".join(
                report_text.detail(run.exercise(ex.id), ex, run.target, style, verbose=args.verbose)
                for ex in selected
            )
        else:
            text = report_text.summary(run, catalog, style, target_is_default=args.target is None)
    _write(text, args.output)
    # an exercise whose checks were edited, or whose code read the reference, does not pass:
    # GitHub Classroom scores by this exit code
    trusted = not run.integrity_affected and not any(e.flags for e in run.exercises)
    return 0 if run.all_passed and trusted else 1


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
    if args.seed is not None:
        return args.seed
    try:
        if os.environ.get("KATA_SEED"):
            return int(os.environ["KATA_SEED"])
    except ValueError:
        raise UsageError("KATA_SEED must be an integer") from None
    if fresh:
        import secrets

        return secrets.randbelow(2**31)
    return 0


def _timeout(args) -> float:
    return _setting("timeout", args.timeout)


def _memory(args) -> int:
    return _setting("memory_mb", args.memory_mb)


def _setting(name, value):
    from .config import ConfigError, setting

    try:
        return setting(name, value)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def attach_integrity(run, catalog, integrity=None) -> None:
    """The integrity of the kata's checks and engine (verified now, unless given) on `run`."""
    from .integrity import verify

    integrity = verify() if integrity is None else integrity
    run.integrity = integrity.to_dict()
    run.integrity_affected = integrity.affected(catalog) & {e.id for e in run.exercises}


def _with_integrity(catalog, progress):
    if progress is None:
        return None

    def report(partial):
        attach_integrity(partial, catalog)
        progress(partial)

    return report


def _write_atomic(text: str, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def show_solution(exercise, target: Path, style: Style, args) -> int:
    """The reference solution, shown only once the learner's own version passes."""
    from .learner import solution_text
    from .runner import grade

    text = solution_text(exercise)
    if text is None:
        print(f"The reference solutions are not shipped with this copy of the kata; "
              f"ask your instructor about {exercise.short}.")
        return 1
    result = grade(target, [exercise], seed=_seed(args), timeout=_timeout(args)).exercise(exercise.id)
    if not result.passed:
        passed, total = result.counts
        print(f"The reference solution of {exercise.short} is shown once your version passes "
              f"(now {passed} of {total} checks pass): compare, don't copy.")
        print(style(f"  python grader.py {exercise.short}", "cyan") + "        what is still failing")
        print(style(f"  python grader.py hint {exercise.short}", "cyan") + "   a hint")
        return 1
    print(style(f"Your {exercise.short} passes. The reference solution, to compare with yours:", "bold"))
    print()
    print(text.rstrip())
    return 0


def _resolve(catalog, word):
    try:
        return catalog.resolve(word)
    except UnknownExercise as exc:
        raise UsageError(str(exc)) from None


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    else:
        print(text)


def show_hint(catalog, exercise, style: Style, show_all: bool = False) -> int:
    from . import state

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
        print(s(f"\nStill stuck? Run `python grader.py hint {exercise.short}` again for the next hint.", "dim"))
    else:
        print(s("\nThat was the last hint. The explanation at the top of the exercise file has the rest.", "dim"))
    state.set_hints_seen(exercise.id, max(seen, shown))
    return 0
