"""`--graph`: the learner's autograd graph beside the reference's.

The learner's run records the graphs of the graph exercises (`graph = true` in the catalog) as
their checks run; `add_graphs` then grades the reference solutions of the exercises whose graphs
are shown, once, in grading processes of their own (the learner's code never runs in them, and
nothing of the reference reaches the learner's), with the same seed, so that every check gets the
same inputs; and puts each comparison on the learner's result (`ExerciseResult.graph`), with its
picture written under `.kata/graphs/`. The reference always runs after the learner's code has
run (in a batch, after every submission): no process the learner's code runs in is forked from one
that holds the reference's graphs.
"""

from __future__ import annotations


from grading import SOLUTIONS_DIR


def graph_exercises(exercises) -> list:
    return [ex for ex in exercises if ex.graph]


def reference_missing() -> str | None:
    if any(SOLUTIONS_DIR.glob("ex*.py")):
        return None
    return ("--graph draws your graph beside the reference solution's, and the reference solutions are not part "
            "of this copy of the kata: the report has no graphs.")


def reference_run(exercises, *, seed: int, **settings):
    """The reference solutions graded with graph recording on: one more run of `exercises`."""
    from grading.engine.runner import grade

    from grading.core.options import Options
    from grading.engine.runner import run_options

    limits = {k: v for k, v in settings.items() if k in Options.__dataclass_fields__}
    rest = {k: v for k, v in settings.items() if k not in limits and k != "options"}
    options = run_options(settings.get("options"), limits)
    return grade(SOLUTIONS_DIR, list(exercises), seed=seed, graph=[ex.id for ex in exercises],
                 options=options.but(isolation="auto"), **rest)


def batch_graphs(catalog) -> list[str]:
    """For a batch: the graph exercises whose graphs the submissions' run records (none where the
    reference solutions are missing)."""
    return [] if reference_missing() else [ex.id for ex in graph_exercises(catalog)]


def beside_the_reference(runs, catalog, *, seed: int, text=None, **settings) -> None:
    """For a batch, once every submission is graded (so that no grading process of theirs was
    forked from a process holding the reference's graphs): the reference graded once (the inputs
    are the same for every submission), and each failing graph exercise beside it."""
    from grading.core.graph_data import attach

    failing = {e.id for run in runs for e in run.exercises if not e.passed and e.graphs}
    chosen = [ex for ex in graph_exercises(catalog) if ex.id in failing]
    reference = reference_run(chosen, seed=seed, **settings) if chosen else None
    for run in runs:
        attach(run, reference, {e.id for e in run.exercises if not e.passed and e.graphs}, text)
