"""`--graph` for a learner: the comparisons with the reference put on a run, and their pictures
written under `.kata/graphs/` (see `grading.engine.graph_report`)."""

from __future__ import annotations

from pathlib import Path

from grading.engine.graph_report import reference_run
from grading.learner.state import state_dir


def graphs_folder() -> Path:
    return state_dir() / "graphs"


def add_graphs(run, exercises, *, seed: int, svg: bool = True, **settings) -> list:
    """Compare the graphs of `exercises` (graph exercises of `run`) with the reference's; returns
    the exercises that got a comparison. With `svg`, each comparison's picture is written to
    `.kata/graphs/<exercise>.svg` and named in the comparison ("svg")."""
    from grading.core.graph_data import attach
    from grading.reports.graph_text import plain

    chosen = [ex for ex in exercises if run.exercise(ex.id).graphs]
    if not chosen:
        attach(run, None, set())
        return []
    reference = reference_run(chosen, seed=seed, **settings)
    attach(run, reference, {ex.id for ex in chosen}, plain)
    if svg:
        write_pictures(run, chosen)
    return [ex for ex in chosen if run.exercise(ex.id).graph]


def write_pictures(run, exercises) -> None:
    from grading.core.atomic import write_atomic
    from grading.reports.graph_svg import render
    from grading.core.paths import display_path

    folder = graphs_folder()
    for ex in exercises:
        comparison = run.exercise(ex.id).graph
        if comparison is None:
            continue
        path = folder / f"{ex.id}.svg"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(path, render(comparison, title=f"{ex.short} {ex.title}"))
        except OSError:
            continue
        comparison["svg"] = display_path(path)
