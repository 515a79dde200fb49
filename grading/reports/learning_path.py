"""The learning path: the catalog as a markdown table, for the README and the learners' README."""

from __future__ import annotations

from grading.core.catalog import Catalog


def table(catalog: Catalog) -> str:
    rows = ["| # | exercise | function | concept | what the checks look at | points |",
            "|---|---|---|---|---|---|"]
    part = None
    for ex in catalog:
        if ex.part != part:
            part = ex.part
            rows.append(f"| | **{part}** | | | | |")
        rows.append(f"| {ex.short} | {ex.title} | `{ex.function}` | {ex.concept} | {ex.checks} | {ex.points:g} |")
    rows.append(f"| | **total** | | | | {catalog.max_score:g} |")
    return "\n".join(rows)
