"""The command line: its commands and their options, its help, its defaults, colour, watch's
polling, the text report's grouping, an installed copy without the kata, and the set-up commands
the README gives (which CI runs)."""

from __future__ import annotations

import ast
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grading import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from grading.cli import main
from grading.core.results import CheckResult, ExerciseResult, RunResult
from grading.reports.style import Style

from .conftest import CATALOG, CORPUS, corpus_result

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EX = CATALOG["ex03_sgd_step"]
FIRST = next(iter(CATALOG))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
# every command and what a call of it needs besides its options
COMMANDS = {"list": [], "hint": ["ex03"], "reset": ["ex03"], "solution": ["ex03"], "watch": [],
            "notebooks": [], "export": ["gradescope"], "batch": ["subs"]}


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    """Hint progress and backups in a temporary folder; no colour settings from outside."""
    monkeypatch.setenv("KATA_STATE_DIR", str(tmp_path / "state"))
    for name in ("NO_COLOR", "FORCE_COLOR", "KATA_SEED", "KATA_TIMEOUT", "KATA_MEMORY_MB", "KATA_JOBS",
                 "KATA_ISOLATION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def graded(monkeypatch):
    """The runner replaced by a recorder: the command line's plumbing, without grading. Every
    exercise it is asked for passes; the calls are recorded (target, exercises, seed, ...)."""
    calls = []

    def grade(target, exercises, **kwargs):
        calls.append(dict(kwargs, target=Path(target), exercises=[ex.id for ex in exercises]))
        results = [ExerciseResult(ex.id, ex.title, ex.points, [CheckResult("test_it", "passed")]) for ex in exercises]
        return RunResult(target=str(target), seed=kwargs.get("seed", 0), exercises=results)

    import grading.engine.runner

    monkeypatch.setattr(grading.engine.runner, "grade", grade)
    monkeypatch.setattr(grading.engine.runner, "warm_up", lambda *a, **k: None)
    return calls


def help_of(argv, capsys) -> str:
    assert main(argv + ["--help"]) == 0
    out = capsys.readouterr().out
    return " ".join(out.split())  # however argparse wrapped it


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    return err


def section(title: str, level: str = "##") -> str:
    """The README's section `title`, up to the next heading of the same or a higher level."""
    start = README.index(f"\n{level} {title}\n")
    nxt = re.search(rf"\n#{{1,{len(level)}}} ", README[start + 1:])
    return README[start: start + 1 + nxt.start()] if nxt else README[start:]


def code_lines(text: str) -> list[str]:
    """The commands of the indented code blocks of a Markdown text, comments dropped."""
    return [line.strip().split("  #")[0].strip() for line in text.splitlines()
            if line.startswith("    ") and line.strip() and not line.strip().startswith("#")]


# ------------------------------------------------------------------ set up, as the README says it


def test_ci_runs_exactly_the_readme_development_commands():
    """A fresh machine that runs the README's commands gets a passing suite: CI runs those very
    commands (`pip install -e .` alone lacks what the tests need: nbclient, yaml)."""
    readme = code_lines(section("Developing the kata"))
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip().startswith("python")]
    assert ci == readme[:len(ci)], (ci, readme)
    assert ci[-2:] == ['python -m pip install -e ".[test,cluster]"', "python -m pytest"]
    torch_line = shlex.split(ci[0])
    assert torch_line[:4] == ["python", "-m", "pip", "install"] and any(a.startswith("torch==") for a in torch_line)
    assert "https://download.pytorch.org/whl/cpu" in torch_line, "CI must install torch's CPU build"


def _distribution(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")


def test_what_the_tests_import_is_installed_by_the_readme_commands():
    """Every third-party module the project's tests and checks import comes with the kata or its
    `test` and `cluster` extras (`python -m pip install -e ".[test,cluster]"`)."""
    from importlib.metadata import packages_distributions

    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    declared = {_distribution(r) for r in project["dependencies"] + extras["test"] + extras["cluster"]}
    local = {p.name for p in ROOT.iterdir()} | {p.stem for p in ROOT.rglob("*.py")}  # the kata's own
    providers = packages_distributions()
    missing = set()
    for path in list((ROOT / "tests").glob("*.py")) + list((ROOT / "checks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in local or top.startswith("_"):
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(top, [top])}
                if not dists & declared:
                    missing.add(f"{top} ({path.name})")
    assert not missing, f"imported by the tests but not declared in pyproject.toml: {sorted(missing)}"


def test_setup_offers_a_cpu_only_install():
    setup = section("Set up")
    commands = code_lines(setup)
    cpu = "python -m pip install torch --index-url https://download.pytorch.org/whl/cpu"
    assert cpu in commands, commands
    assert commands[commands.index(cpu) + 1] == "python -m pip install -e ."
    assert "CUDA" in setup  # why: the default wheel on Linux brings its CUDA libraries


# ------------------------------------------------------------------ an installed copy without the kata


@pytest.mark.parametrize("argv", [[], ["list"], ["hint", "ex01"]], ids=["grade", "list", "hint"])
def test_a_copy_installed_without_the_kata_says_how_to_run_it(tmp_path, argv):
    """`pip install .` (not -e) copies the package and the `grader` module into site-packages,
    without exercises/ and checks/: its console command says, in one line, how the kata runs."""
    site = tmp_path / "lib" / "site-packages"
    site.mkdir(parents=True)
    setuptools = PYPROJECT["tool"]["setuptools"]
    for package in setuptools["packages"]:  # each package's own modules, as setuptools installs them
        folder = Path(*package.split("."))
        (site / folder).mkdir(parents=True, exist_ok=True)
        for path in (ROOT / folder).glob("*.py"):
            shutil.copy2(path, site / folder / path.name)
    for module in setuptools["py-modules"]:
        shutil.copy2(ROOT / f"{module}.py", site)
    module, function = PYPROJECT["project"]["scripts"]["autograd-kata"].split(":")
    script = (f"import sys\nsys.argv[0] = 'autograd-kata'\nimport {module}\n"
              f"assert {module}.__file__.startswith(sys.argv.pop(1)), {module}.__file__\n"
              f"{module}.{function}()\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, "-c", script, str(site), *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "pip install -e ." in lines[0] and "python grader.py" in lines[0] and "repository" in lines[0]


# ------------------------------------------------------------------ commands, each with its own options


def test_each_command_has_its_own_help(capsys):
    hint = help_of(["hint"], capsys)
    assert "--all" in hint and "--target" not in hint and "--format" not in hint
    batch = help_of(["batch"], capsys)
    assert all(option in batch for option in ("--feedback", "--jobs", "--isolation", "--output"))
    assert "--all" not in batch and "--yes" not in batch
    reset = help_of(["reset"], capsys)
    assert "--yes" in reset and "--target" in reset and "--format" not in reset
    grade, commands = help_of([], capsys).split("commands (")
    assert all(option in grade for option in ("--target", "--format", "--output", "--verbose", "--seed"))
    assert "--all" not in grade and "--feedback" not in grade
    assert all(f"python grader.py {command}" in commands for command in COMMANDS)  # the commands are listed
    export = help_of(["export"], capsys)
    assert "gradescope" in export and "classroom" in export
    assert "--output" in help_of(["export", "gradescope"], capsys)


@pytest.mark.parametrize("argv,option", [
    (["hint", "ex03", "--target", "solutions"], "--target"),
    (["list", "--format", "json"], "--format"),
    (["reset", "ex03", "--all"], "--all"),
    (["ex03", "--all"], "--all"),
    (["ex03", "--feedback", "fb"], "--feedback"),
    (["ex03", "--yes"], "--yes"),
    (["watch", "--format", "json"], "--format"),
    (["notebooks", "--yes"], "--yes"),
    (["export", "classroom", "dest", "--jobs", "2"], "--jobs"),
    (["batch", "subs", "--out", "g.csv", "-v"], "-v"),
    (["ex03", "--format", "json", "-v"], "--verbose"),
])
def test_an_option_that_does_not_apply_is_a_usage_error(argv, option, capsys, graded):
    assert main(argv) == 2
    err = one_line_error(capsys)
    assert option in err
    assert graded == []  # nothing was graded


@pytest.mark.parametrize("spelling", ["--out", "--output", "-o"])
def test_a_report_goes_to_the_file_under_any_spelling(tmp_path, spelling, capsys, graded):
    out = tmp_path / "report.json"
    main([FIRST.short, "--format", "json", spelling, str(out)])
    assert capsys.readouterr().out == ""
    assert '"id": "%s"' % FIRST.id in out.read_text()


@pytest.mark.parametrize("spelling", ["--out", "-o"])
def test_batch_and_notebooks_take_the_same_spellings(tmp_path, spelling, monkeypatch, capsys):
    import grading.classroom.batch

    calls = []
    monkeypatch.setattr(grading.classroom.batch, "run_batch", lambda *a, **k: calls.append((a, k)) or [])
    subs = tmp_path / "subs"
    subs.mkdir()
    assert main(["batch", str(subs), spelling, str(tmp_path / "g.csv"), "--jobs", "1"]) == 0
    (folder, catalog, out), kwargs = calls[0]
    assert folder == subs and out == tmp_path / "g.csv" and kwargs["options"].jobs == 1 and kwargs["feedback"] is None
    assert main(["notebooks", spelling, str(tmp_path / "nbs")]) == 0
    assert len(list((tmp_path / "nbs").glob("*.ipynb"))) == len(CATALOG)


@pytest.mark.parametrize("argv,exercises", [
    ([], [ex.id for ex in CATALOG]),
    (["ex03"], [EX.id]),
    (["3"], [EX.id]),
    (["sgd_step", "1"], [EX.id, FIRST.id]),
    (["--target", str(SOLUTIONS_DIR)], [ex.id for ex in CATALOG]),
    (["--no-color", "ex03", "--target", str(SOLUTIONS_DIR), "ex01"], [EX.id, FIRST.id]),
])
def test_grading_is_the_default_command(argv, exercises, graded, capsys):
    main(argv)
    assert [call["exercises"] for call in graded] == [exercises]
    assert graded[0]["target"] == (SOLUTIONS_DIR if str(SOLUTIONS_DIR) in argv else EXERCISES_DIR).resolve()


def test_options_may_come_before_the_command(tmp_path, capsys):
    target = tmp_path / "t"
    target.mkdir()
    (target / FIRST.filename).write_text("# mine\n")
    assert main(["--target", str(target), "reset", FIRST.short, "--yes"]) == 0
    assert "original stub again" in capsys.readouterr().out


def test_a_command_named_after_an_exercise_is_explained(capsys, graded):
    assert main(["ex03", "hint"]) == 2
    assert "python grader.py hint" in one_line_error(capsys)


def test_commands_that_do_not_grade_never_import_torch(tmp_path):
    """Startup stays fast: help, list, hint and usage errors never import torch."""
    script = ("import sys\nfrom grading.cli import main\n"
              "codes = []\n"
              "for argv in (['list'], ['hint', 'ex01'], ['ex99'], ['hint', 'ex01', '--target', 'x']):\n"
              "    codes.append(main(argv))\n"
              "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "print(codes, 'torch' in sys.modules)\n")
    env = dict(os.environ, KATA_STATE_DIR=str(tmp_path / "state"))
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[0, 0, 2, 2] False", proc.stdout + proc.stderr


# ------------------------------------------------------------------ defaults, as the help says them


def test_the_help_says_the_defaults_the_code_uses(capsys, monkeypatch):
    from grading.core.config import DEFAULTS

    grade = help_of([], capsys)
    assert "KATA_SEED" in grade and "fresh per run for --format gradescope/junit" in grade
    assert f"default: {DEFAULTS['timeout']:g}" in grade
    monkeypatch.setenv("KATA_TIMEOUT", "7")
    assert "7 s, from KATA_TIMEOUT" in help_of(["watch"], capsys)
    batch = help_of(["batch"], capsys)
    assert "KATA_SEED" in batch and "fresh per run" in batch
    listing = help_of(["list"], capsys)
    assert "without grading" in listing


def test_the_seed_is_what_the_help_says(tmp_path, graded, monkeypatch, capsys):
    """0 for a learner's report, fresh per run for the classroom formats and batch, KATA_SEED
    for all of them, --seed above all."""
    def seed(*argv):
        graded.clear()
        main([FIRST.short, *argv])
        return graded[0]["seed"]

    assert seed() == 0 and seed("--format", "json") == 0
    assert seed("--format", "gradescope") != seed("--format", "gradescope")
    assert seed("--format", "junit", "--seed", "4") == 4
    monkeypatch.setenv("KATA_SEED", "5")
    assert seed() == 5 and seed("--format", "gradescope") == 5


# ------------------------------------------------------------------ colour


class _Terminal(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


@pytest.mark.parametrize("env,tty,flag,expected", [
    ({}, True, None, True),
    ({}, False, None, False),
    ({"NO_COLOR": "1"}, True, None, False),
    ({"NO_COLOR": ""}, True, None, True),  # no-color.org: only a non-empty NO_COLOR counts
    ({"FORCE_COLOR": "1"}, False, None, True),
    ({"FORCE_COLOR": ""}, False, None, False),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, None, False),
    ({"TERM": "dumb"}, True, None, False),
    ({"TERM": "dumb", "FORCE_COLOR": "1"}, True, None, True),
    ({"NO_COLOR": "1"}, True, True, True),  # the command line has the last word
    ({"FORCE_COLOR": "1"}, True, False, False),
])
def test_colour_follows_the_environment_conventions(env, tty, flag, expected, monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Style(color=flag, stream=_Terminal(tty)).color is expected


def test_force_color_reaches_the_report(capsys, graded, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    main([FIRST.short])
    assert "\033[" in capsys.readouterr().out


# ------------------------------------------------------------------ watch


def test_watch_without_watchfiles_polls_gently_and_regrades_the_next_poll_after_a_save(tmp_path, graded, monkeypatch,
                                                                                       capsys):
    import grading.engine.runner
    import grading.learner.watch

    class Standby:  # the grading child made ready beforehand, here the recorder's plumbing
        def __init__(self, target, exercises, **options):
            self.target, self.options = target, options

        def grade(self, exercises, **options):
            return grading.engine.runner.grade(self.target, exercises, **self.options)

        def close(self):
            pass

    monkeypatch.setattr(grading.engine.runner, "Standby", Standby)
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # the fallback: the folder looked at every poll

    folder = tmp_path / "exercises"
    folder.mkdir()
    for ex in CATALOG:
        (folder / ex.filename).write_text("# not yet\n")
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 3:  # a save while watching
            (folder / EX.filename).write_text("# saved, with more text\n")
        if len(sleeps) == 6:
            raise KeyboardInterrupt

    monkeypatch.setattr(grading.learner.watch.time, "sleep", sleep)
    assert main(["watch", "--target", str(folder)]) == 0
    assert all(0.08 <= s <= 0.2 for s in sleeps), f"idle polling every {sleeps[0]} s"
    assert [call["exercises"] for call in graded] == [[ex.id for ex in CATALOG], [EX.id]]
    assert f"{EX.filename} saved" in capsys.readouterr().out


# ------------------------------------------------------------------ the text report


@pytest.mark.timeout(900)  # the first of the session's corpus requests grades the whole corpus
def test_checks_failing_for_one_reason_show_the_message_once(tmp_path_factory):
    """A wrong ex01 that returns None fails every check with the same message: it is printed
    once, with every check it covers; -v still shows every case in full."""
    from grading.reports.text import detail

    exercise = CATALOG["ex01_enable_tracking"]
    result = corpus_result(tmp_path_factory, exercise.id, CORPUS / exercise.id / "wrong_no_return.py")
    failing = [c for c in result.checks if not c.passed and "_on_generated_" not in c.name]  # (the differential check states its input)
    messages = {c.message for c in failing}
    assert len(messages) == 1 and len({c.name.split("[")[0] for c in failing}) > 1
    message = messages.pop()
    plain = Style(color=False)
    plain.width = 100
    text = detail(result, exercise, "exercises", plain)
    first_line = plain.wrap(message, 6).splitlines()[0].strip()
    assert text.count(first_line) == 1, text
    for name in {c.name.split("[")[0] for c in failing}:
        assert name in text
    full = detail(result, exercise, "exercises", plain, verbose=True)
    assert all(f"{plain.symbol(c.status)} {c.name}" in full for c in result.checks)
    assert first_line in full


def test_different_reasons_keep_their_own_messages():
    from grading.reports.text import detail

    exercise = CATALOG["ex01_enable_tracking"]
    checks = [CheckResult("test_a[x]", "failed", "reason one"), CheckResult("test_a[y]", "failed", "reason one"),
              CheckResult("test_b", "passed"), CheckResult("test_c", "failed", "reason two"),
              CheckResult("test_d", "failed", "reason one")]
    text = detail(ExerciseResult(exercise.id, exercise.title, 1, checks), exercise, "exercises", Style(color=False))
    assert text.count("reason one") == 1 and text.count("reason two") == 1
    assert text.index("reason one") < text.index("test_a") < text.index("test_d") < text.index("reason two")
    assert "test_b" in text


# ------------------------------------------------------------------ the README's commands


def test_the_readme_documents_every_command_and_option(capsys):
    """Each command of the command line is in the README, each option in the README is real,
    and each option of the command line is documented (in the README, or the instructors' guide)."""
    options = set()
    for argv in [[]] + [[c] for c in COMMANDS] + [["export", "gradescope"], ["export", "classroom"]]:
        options |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", help_of(argv, capsys)))
    commands = section("Commands", "###")
    for command in COMMANDS:
        assert f"python grader.py {command}" in README, command
    mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", commands))
    assert mentioned <= options, mentioned - options
    documented = README + (ROOT / "docs" / "instructors.md").read_text(encoding="utf-8")
    undocumented = {o for o in options if not re.search(rf"`[^`]*{o}\b", documented)} - {"--help"}
    assert not undocumented, undocumented
