"""`check("ex03")`: grade the function defined in a running Jupyter kernel (or any namespace).

    from grader import check
    check("ex03")          # the notebook's own sgd_step, against the kata's checks

The same pytest checks run in-process against the function as it is defined right now,
so there is nothing to save first. The result is shown as a table and never raises.
"""

from __future__ import annotations

import contextlib
import io
import os

from grading import ROOT
from grading.core.catalog import load_catalog
from grading.reports.formats import html_text
from grading.core.results import ExerciseResult
from grading.reports.style import Style
from grading.engine.targets import ExerciseLoadError, register_learner_file

last_result: ExerciseResult | None = None


class NamespaceTarget:
    """A pytest plugin object handing the checks the functions of a namespace."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def pytest_configure(self, config):
        config.kata_namespace = self

    def function(self, exercise):
        func = self.namespace.get(exercise.function)
        for value in list(self.namespace.values()):  # cells' pseudo-files are the learner's code
            code = getattr(value, "__code__", None)
            if code is not None:
                register_learner_file(code.co_filename)
        if not callable(func):
            raise ExerciseLoadError(f"no function `{exercise.function}` is defined in this notebook: "
                                    "run the answer cell first (and keep the function's name).")
        return func


def run_in_namespace(exercise_name: str, namespace: dict, *, seed: int = 0, timeout: float = 30.0,
                     graph: bool = False) -> ExerciseResult:
    import pytest

    from grading.engine.events import CollectError, Graph, Result
    from grading.engine.plugin import GradingPlugin
    from grading.engine.pytest_args import pytest_args

    catalog = load_catalog()
    exercise = catalog.resolve(exercise_name)
    result = ExerciseResult(exercise.id, exercise.title, exercise.points)
    events: list = []
    args = pytest_args([exercise.check_file], seed=seed, inifile=str(ROOT / "pyproject.toml"))
    # the same per-check loop as a grading worker, in this process: the kernel's namespace is the answer
    plugin = GradingPlugin(events.append, fork=False, restore=False, timeout=timeout,
                           graph=[exercise.id] if graph and exercise.graph else ())
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            pytest.main(args, plugins=[plugin, NamespaceTarget(namespace)])
    finally:
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
    for event in events:
        if isinstance(event, Result) and event.exercise == exercise.id:
            result.checks.append(event.result)
        elif isinstance(event, CollectError):
            result.error = "the checks could not be loaded:\n" + event.message
        elif isinstance(event, Graph) and event.exercise == exercise.id:
            from grading.core.graph_data import clean

            result.graphs[event.check] = clean(event.data)
    if graph and result.graphs:
        _beside_the_reference(result, exercise, seed)
    return result


def _beside_the_reference(result: ExerciseResult, exercise, seed: int) -> None:
    """The reference's graphs, from a fresh interpreter (nothing of this kernel, where the
    learner's code runs, is in it), beside the ones recorded here."""
    from grading.core.graph_data import attach
    from grading.reports.graph_text import plain
    from grading.engine.graph_report import reference_missing, reference_run
    from grading.core.results import RunResult

    if reference_missing():
        result.graphs = {}
        return
    reference = reference_run([exercise], seed=seed, method="spawn")
    attach(RunResult(target="notebook", seed=seed, exercises=[result]), reference, {exercise.id}, plain)


def _html(result: ExerciseResult) -> str:
    passed, total = result.counts
    colour = "#1a7f37" if result.passed else "#cf222e"
    from grading.reports.text import group_by_test

    rows = []
    for name, checks in group_by_test(result.checks).items():
        failing = [c for c in checks if not c.passed]
        mark = "✗" if failing else "✓"
        cases = f" ({len(failing)} of {len(checks)} cases fail)" if failing and len(checks) > 1 else (
            f" ({len(checks)} cases)" if len(checks) > 1 else "")
        message = html_text(failing[0].message).replace("\n", "<br>") if failing else ""
        rows.append(f"<tr><td>{mark}</td><td style='text-align:left'><code>{html_text(name)}</code>{cases}</td>"
                    f"<td style='text-align:left'>{message}</td></tr>")
    head = (f"<p style='color:{colour}'><b>{html_text(result.id[:4])} {html_text(result.title)}: "
            f"{passed} of {total} checks pass</b></p>")
    error = f"<pre>{html_text(result.error)}</pre>" if result.error else ""
    return head + error + "<table>" + "".join(rows) + "</table>"


def check(exercise: str, namespace: dict | None = None, *, seed: int = 0, graph: bool = False) -> None:
    """Grade `exercise` against the functions of `namespace` (default: the notebook's) and show it;
    with `graph`, your autograd graph beside the reference's as well, as text and as a picture."""
    global last_result
    if namespace is None:
        import __main__

        namespace = vars(__main__)
    try:
        result = run_in_namespace(exercise, namespace, seed=seed, graph=graph)
    except Exception as exc:  # never raise in a learner's notebook
        print(f"could not check {exercise}: {type(exc).__name__}: {exc}")
        return None
    last_result = result
    from grading.reports.text import detail

    catalog = load_catalog()
    text = detail(result, catalog[result.id], "notebook", Style(color=False), where="this notebook")
    page = _html(result)
    if result.graph is not None:
        from grading.reports.graph_svg import render

        text += "\n\n" + result.graph["text"]
        picture = render(result.graph, title=f"{result.id[:4]} {result.title}")
        page += "<div>" + picture.split("?>", 1)[-1] + "</div>"  # the SVG inline, without its XML declaration
    try:
        from IPython.display import display

        display({"text/plain": text, "text/html": page}, raw=True)
    except ImportError:
        print(text)
    return None
