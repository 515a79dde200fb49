"""`python grader.py`: the command line over the grading engine.

    python grader.py [EX ...]         grade: a summary of every exercise, or every check of EX
    python grader.py list             the exercises in order
    python grader.py hint EX          the next hint (--all: every hint)
    python grader.py reset EX         the original stub back (your file is backed up first)
    python grader.py solution EX      the reference, once your exercise passes
    python grader.py watch            re-grade whenever you save an exercise
    python grader.py notebooks        one Jupyter notebook per exercise
    python grader.py export gradescope|classroom
    python grader.py batch DIR -o grades.csv

Grading is the default command. Every command has its own options (`python grader.py COMMAND
--help`); an option another command has is a usage error here, not silently ignored. Options may
come before the command word. Defaults live in `grading.core.config`.

Exit codes: 0 every selected exercise passed, 1 some did not, 2 usage error; stopped by Ctrl-C,
SIGTERM or SIGHUP, 128 + the signal's number (130, 143, 129), once what was graded is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path
from typing import NoReturn

from grading import CATALOG_PATH, CHECKS_DIR, ROOT
from grading.core import config
from grading.core.config import COMMANDS, PROG, UsageError
from grading.core.catalog import CatalogError, load_catalog
from grading.reports.style import Style

EXIT_CODES = "exit codes: 0 every selected exercise passes, 1 some do not, 2 usage error"




class _Done(Exception):
    """--help was answered: exit with this code."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line (exit 2), and which records its options, so that an
    option of another command is named as such."""

    def __init__(self, *args, options: dict | None = None, command: str = "", **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        if kwargs.get("description"):
            kwargs["description"] = textwrap.fill(kwargs["description"], 78)
        super().__init__(*args, **kwargs)
        # shared by every command's parser: option string -> [(parser, whether it takes a value)]
        self.options = {} if options is None else options
        self.command = command

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                self.options.setdefault(option, []).append((self, action.nargs != 0))
        return action

    def error(self, message):
        words = message.removeprefix("unrecognized arguments: ").split()
        if message.startswith("unrecognized arguments: ") and words:
            word = words[0].split("=", 1)[0]
            if word.startswith("-"):
                others = [f"`{p.command}`" if p.command else "grading" for p, _ in self.options.get(word, ())]
                message = (f"{word} does not apply to " + (f"`{self.command}`" if self.command else "grading")
                           + f"; it is an option of {', '.join(dict.fromkeys(others))}" if others
                           else f"unknown option {word}")
            else:
                message = f"unexpected {word!r}"
        raise UsageError(f"{message} (see `{self.prog} --help`)")

    def exit(self, status=0, message=None):  # after --help
        if message:
            print(message, file=sys.stderr, end="")
        raise _Done(status)


# ------------------------------------------------------------------ the parsers


def _add_target(p, what: str, default: str = "exercises/"):
    p.add_argument("--target", metavar="PATH", help=f"{what} (default: {default})")


def _add_output(p, what: str, *, required: bool = False, default: str | None = None, shown: str | None = None):
    """-o / --output, with --out as another spelling; `shown`: the default as help says it."""
    shown = shown or default
    suffix = f" (default: {shown})" if shown else (" (required)" if required else "")
    p.add_argument("-o", "--output", "--out", dest="output", metavar="PATH", default=default, required=required,
                   help=what + suffix)


def _add_seed(p, default: str):
    p.add_argument("--seed", type=int, metavar="N", help=f"base seed of the random inputs (default: {default})")


def _add_limits(p, *, jobs: bool = False):
    p.add_argument("--timeout", type=float, metavar="S", help=f"seconds allowed per check ({config.describe('timeout')})")
    p.add_argument("--memory-mb", type=int, metavar="MB",
                   help=f"data memory the learner's code may use, beyond what the grader holds "
                        f"({config.describe('memory_mb')})")
    p.add_argument("--exercise-timeout", type=float, metavar="S",
                   help=f"seconds allowed for all the checks of one exercise, loading the file included "
                        f"({config.describe('exercise_timeout')})")
    p.add_argument("--submission-timeout", type=float, metavar="S",
                   help=f"seconds allowed for a whole submission ({config.describe('submission_timeout')})")
    p.add_argument("--sandbox", choices=config.CHOICES["sandbox"],
                   help="confine the learner's code with the kernel's sandbox (Landlock): auto where the kernel "
                        "offers it, require (refuse to grade without it), off (debugging only) "
                        f"({config.describe('sandbox')})")
    if jobs:
        p.add_argument("--jobs", type=int, metavar="N", help=f"grading processes side by side, at most one per core "
                                                             f"({config.describe('jobs')})")
        p.add_argument("--isolation", choices=config.CHOICES["isolation"],
                       help="a process of its own for each exercise, or for each submission (faster: what an "
                            "exercise changed is undone before the next); auto: per exercise for one submission, "
                            f"per submission in batch ({config.describe('isolation')})")


def _add_color(p):
    group = p.add_mutually_exclusive_group()
    group.add_argument("--color", dest="color", action="store_true", default=None,
                       help="colour even when the output is not a terminal (as FORCE_COLOR=1 does)")
    group.add_argument("--no-color", dest="color", action="store_false",
                       help="no colour (as NO_COLOR=1 does; default: colour on a terminal)")


def _commands_help() -> str:
    lines = [f"commands (each has its own options: {PROG} COMMAND --help):"]
    for name, (args, what) in COMMANDS.items():
        lines.append(f"  {PROG} {name} {args}".rstrip())
        lines.append(textwrap.fill(what, 78, initial_indent=" " * 6, subsequent_indent=" " * 6))
    return "\n".join(lines)


ENVIRONMENT = (
    "environment:\n"
    "  KATA_SEED, KATA_TIMEOUT, KATA_MEMORY_MB, KATA_JOBS, KATA_ISOLATION, KATA_SANDBOX\n"
    "                  defaults of --seed, --timeout, --memory-mb, --jobs, --isolation, --sandbox\n"
    "  NO_COLOR        when not empty: no colour\n"
    "  FORCE_COLOR     when not empty: colour even when piped (NO_COLOR and --no-color win)\n"
    "  KATA_STATE_DIR  where hint progress, the mistakes met and reset backups live (default: .kata/)"
)


def build_parsers() -> dict[str, _Parser]:
    """The parser of grading (key "") and of each command, sharing one record of options."""
    from grading.reports.formats import MACHINE_FORMATS

    options: dict = {}
    grade = _Parser(
        prog=PROG, options=options,
        usage=f"{PROG} [EX ...] [options]\n       {PROG} COMMAND ... [options]",
        description="The autograd kata. Without a command, grades your exercises: a summary of every exercise and "
                    "what to do next, or every check of the exercises named (EX: ex03, 3, 03, sgd_step).",
        epilog=f"{_commands_help()}\n\n{ENVIRONMENT}\n\n{EXIT_CODES}",
    )
    grade.add_argument("exercises", nargs="*", metavar="EX", help="exercises to grade (default: every one)")
    _add_target(grade, "a folder of exNN_*.py files, one such file, a notebook or a folder of notebooks to grade")
    grade.add_argument("--format", choices=("text",) + MACHINE_FORMATS, default=config.FORMAT,
                       help=f"the report (default: {config.FORMAT}): text, json, gradescope (Gradescope's "
                            "results.json) or junit (JUnit XML)")
    _add_output(grade, "write the report to this file instead of the terminal (json, gradescope, junit: written "
                   "from the start, rewritten as each exercise finishes)")
    grade.add_argument("-v", "--verbose", action="store_true",
                       help="text report: every case in full, with tracebacks and what your code printed")
    grade.add_argument("-g", "--graph", action="store_true",
                       help="your autograd graph beside the reference solution's, for the first failing case of "
                            "each exercise shown (one more grading run of it), as text and as a picture in "
                            ".kata/graphs/")
    _add_seed(grade, f"${config.SEED_ENV} if set, else {config.SEED}; fresh per run for --format gradescope/junit")
    _add_limits(grade, jobs=True)
    _add_color(grade)

    parsers = {"": grade}

    def command(name, description, **kwargs):
        args, what = COMMANDS[name]
        if args == "EX":  # one exercise, checked by hand for a message that says so
            kwargs["usage"] = f"{PROG} {name} EX [options]"
        p = _Parser(prog=f"{PROG} {name}", options=options, command=name, description=description, **kwargs)
        parsers[name] = p
        return p

    def no_words(p, message):
        p.add_argument("words", nargs="*", help=argparse.SUPPRESS)
        p.set_defaults(no_words=message)

    def one_exercise(p):
        p.add_argument("words", nargs="*", metavar="EX", help="the exercise: ex03, 3, 03 or sgd_step")
        p.set_defaults(one_exercise=True)

    p = command("list", "The exercises in order, with their points and concept, without grading them: "
                        f"`{PROG}` shows where you stand.")
    no_words(p, "`list` takes no exercise")
    _add_color(p)

    p = command("hint", "The next hint for EX, after the ones you have seen: each call shows one more.")
    one_exercise(p)
    p.add_argument("--all", action="store_true", help="every hint at once")
    _add_color(p)

    p = command("reset", "Put the original stub of EX back. Your file is first copied to .kata/backups/.")
    one_exercise(p)
    _add_target(p, "the folder of exercises that holds EX's file")
    p.add_argument("-y", "--yes", action="store_true", help="don't ask for confirmation")
    _add_color(p)

    p = command("solution", "The reference solution of EX, shown once your version passes (it grades EX first).")
    one_exercise(p)
    _add_target(p, "where your version of EX is: a folder of exNN_*.py files, one such file or notebooks")
    _add_seed(p, f"${config.SEED_ENV} if set, else {config.SEED}")
    _add_limits(p)
    _add_color(p)

    p = command("watch", "Grade every exercise, then re-grade each exercise file as soon as it is saved "
                         "(woken by the file system; where watchfiles is missing, the folder is looked at every "
                         f"{config.WATCH_POLL:g} s). Ctrl-C stops.")
    no_words(p, "`watch` takes no exercise: it follows whichever file you save")
    _add_target(p, "the folder of exercises to watch")
    _add_seed(p, f"${config.SEED_ENV} if set, else {config.SEED}")
    _add_limits(p)
    p.add_argument("--poll", type=float, default=config.WATCH_POLL, help=argparse.SUPPRESS)
    _add_color(p)

    p = command("notebooks", "Write one Jupyter notebook per exercise: the lesson, an answer cell with the stub, "
                             "a check cell and the hints.")
    no_words(p, "`notebooks` takes no exercise; -o DIR chooses the folder")
    _add_output(p, "the folder to write the notebooks to", shown=f"{config.NOTEBOOKS_DIR}/ in the kata's folder")
    _add_color(p)

    p = command("export", "Classroom exports of the kata.")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=_Parser)
    gs = kinds.add_parser("gradescope", help="a Gradescope autograder bundle (.zip)", options=options,
                          command="export gradescope", description="Write a Gradescope autograder bundle.")
    _add_output(gs, "the .zip to write", default=config.GRADESCOPE_BUNDLE)
    _add_color(gs)
    cl = kinds.add_parser("classroom", help="a repository for learners (a GitHub Classroom template)",
                          options=options, command="export classroom",
                          description="Write a repository for learners: the stubs, checks and grader, no solutions.")
    cl.add_argument("dest", metavar="DIR", help="a new or empty folder")
    _add_color(cl)
    parsers["export gradescope"], parsers["export classroom"] = gs, cl

    p = command("batch", "Grade every submission in DIR (a folder per student, a .zip, a notebook) into a CSV "
                         "of grades, with a process of its own for each submission.")
    p.add_argument("submissions", metavar="DIR", help="the folder of submissions")
    _add_output(p, "the CSV of grades to write", required=True)
    p.add_argument("--feedback", metavar="DIR", help="a folder for one feedback JSON per submission")
    p.add_argument("-g", "--graph", action="store_true",
                   help="each feedback JSON carries, for the failing exercises, the autograd graph beside the "
                        "reference solution's (the reference is graded once more)")
    p.add_argument("--report", metavar="FILE.html",
                   help="a one-page HTML class report to write: score distribution, pass rate per exercise, "
                        "common mistakes, submissions that need attention, a sortable table of students")
    _add_seed(p, f"${config.SEED_ENV} if set, else fresh per run (printed, so that --seed reproduces a run); "
                 "with --resume, the seed of the feedback files kept")
    _add_limits(p, jobs=True)
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on a Dask cluster: the scheduler's address (tcp://HOST:PORT), its scheduler file "
                        "(.json), or `local` for --jobs worker processes on this machine (needs the cluster extra: "
                        "pip install -e \".[cluster]\"; default: grading processes here)")
    p.add_argument("--resume", action="store_true",
                   help="grade only the submissions without a feedback file graded with the same checks and seed "
                        "(needs --feedback): what an interrupted batch had graded is kept")
    _add_color(p)
    return parsers


def build_parser() -> argparse.ArgumentParser:
    """The parser of grading, the default command (its help lists the other commands)."""
    return build_parsers()[""]


def split_command(argv: list[str], parsers: dict) -> tuple[str, list[str]]:
    """The command ("" for grading) and the rest of the command line. The command is the first
    word that is neither an option nor an option's value, where that word is a command's name:
    `python grader.py --target x reset ex03` is `reset ex03 --target x`."""
    takes_value = {option for option, owners in parsers[""].options.items() if any(value for _, value in owners)}
    skip = False
    for i, word in enumerate(argv):
        if skip:
            skip = False
        elif word == "--":
            break
        elif word.startswith("-") and word != "-":
            skip = "=" not in word and word in takes_value
        else:
            return (word, argv[:i] + argv[i + 1:]) if word in COMMANDS else ("", argv)
    return "", argv


# ------------------------------------------------------------------ entry points


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
    name = "autograd-kata" if Path(sys.argv[0]).name == "autograd-kata" else "grader.py"
    from grading.engine.signals import stop_on_signals

    try:
        with stop_on_signals():  # SIGTERM, SIGHUP: what was graded is written, then exit 128 + the signal
            return _main(sys.argv[1:] if argv is None else list(argv))
    except _Done as done:
        return done.code
    except (UsageError, CatalogError) as exc:
        from grading.reports.formats import visible

        print(f"{name}: error: {visible(exc)}", file=sys.stderr)  # a path in it may hold anything
        return 2
    except KeyboardInterrupt as exc:
        code = getattr(exc, "exit_code", 130)
        print("\ninterrupted" if code == 130 else f"\nstopped by {exc.name}", file=sys.stderr)
        return code
    except BrokenPipeError:  # `python grader.py | head`: the reader has gone, that is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def kata_missing() -> str | None:
    """Why the kata cannot run from here, or None: a copy of the engine installed on its own (a
    plain `pip install .`) has neither the exercises nor the checks next to it."""
    if CATALOG_PATH.exists() or CHECKS_DIR.is_dir():
        return None
    return (f"no exercises or checks next to this copy of the grader ({ROOT}): the kata runs from its "
            "repository. In your clone, install it with `python -m pip install -e .`, or run `python grader.py` there")


def _main(argv: list[str]) -> int:
    parsers = build_parsers()
    command, rest = split_command(argv, parsers)
    if command == "export":  # two levels: the kind's own parser names what does not apply to it
        args, extra = parsers["export"].parse_known_args(rest)
        command = f"export {args.kind}"
        if extra:
            parsers[command].error(f"unrecognized arguments: {' '.join(extra)}")
    else:
        args = parsers[command].parse_intermixed_args(rest)
    problem = kata_missing()
    if problem:
        raise UsageError(problem)
    catalog = load_catalog()
    style = Style(color=args.color)
    words = getattr(args, "words", [])
    if getattr(args, "no_words", None) and words:
        raise UsageError(args.no_words)
    if getattr(args, "one_exercise", False):
        if len(words) != 1:
            raise UsageError(f"`{command}` needs exactly one exercise, e.g. `{PROG} {command} ex03`")
        from grading.cli.commands import resolve_exercise

        exercise = resolve_exercise(catalog, words[0])

    from grading.cli import commands

    if hasattr(args, "sandbox"):  # a command that grades: its limits and confinement, once, for all it grades
        args.options = commands.grading_options(args)
    handler = commands.HANDLERS.get(command.partition(" ")[0], commands.grade)
    return handler(catalog, args, style, exercise if getattr(args, "one_exercise", False) else None)
