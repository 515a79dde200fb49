"""`--format gradescope`: every results.json the kata writes follows Gradescope's specification
(tests/schemas/gradescope-results.schema.json), and its markdown renders as the learner should
read it: code in backticks as code, the learner's output and tracebacks in code blocks, every
other character as typed."""

from __future__ import annotations

import html
import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt

from grading import ROOT
from grading.reports.formats import md_block, md_code, md_text, to_gradescope

from .conftest import CATALOG, solution_run, stub_run
from .test_classroom import sample_run
from .test_junit import nasty_run

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope-results.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
MARKDOWN = MarkdownIt("commonmark")


def load_helper():
    """grading/classroom/autograder/gradescope.py, the bundle's helper (not part of the grading package)."""
    spec = importlib.util.spec_from_file_location("kata_gradescope_helper", ROOT / "grading" / "classroom" / "autograder" / "gradescope.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_valid(report: dict) -> None:
    """Valid against the schema, and in markdown wherever the kata writes text."""
    errors = sorted(VALIDATOR.iter_errors(report), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert report["output_format"] == "md"
    assert all(t["output_format"] == "md" for t in report["tests"])


def rendered(markdown: str) -> str:
    return MARKDOWN.render(markdown)


def as_text(markup: str) -> str:
    """What a reader sees of rendered HTML: tags dropped, entities decoded, spaces collapsed."""
    markup = re.sub(r"<(br|/?p|/?pre)\b[^>]*>", " ", markup)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", markup))).strip()


@pytest.mark.parametrize("which", ["solutions", "stubs", "nasty", "sample"])
def test_every_report_follows_gradescopes_specification(tmp_path_factory, which):
    run = {"solutions": solution_run, "stubs": lambda: stub_run(tmp_path_factory),
           "nasty": lambda: nasty_run(tmp_path_factory), "sample": sample_run}[which]()
    report = to_gradescope(run)
    assert_valid(report)
    assert json.loads(json.dumps(report)) == report
    assert [t["number"] for t in report["tests"]] == [str(int(e.id[2:4])) for e in run.exercises]
    assert report["score"] == sum(t["score"] for t in report["tests"])
    for test, exercise in zip(report["tests"], run.exercises):
        assert 0 <= test["score"] <= test["max_score"] == exercise.max_score
        assert test["status"] == ("passed" if exercise.passed and test["score"] == test["max_score"] else "failed")
        assert test["extra_data"]["exercise"] == exercise.id
        page = rendered(test["output"])
        assert "<script" not in page and "<b>" not in page and "\x1b" not in page
    if which == "stubs":
        for test in report["tests"]:
            assert test["status"] == "failed" and test["score"] == 0
            assert "<code>NotImplementedError</code>" in rendered(test["output"]), test["output"]


def test_the_bundles_fail_closed_reports_follow_the_specification(tmp_path):
    helper = load_helper()
    helper.sys.path.insert(0, str(ROOT))
    out = tmp_path / "results.json"
    # nothing to grade: the reason and the advice, with one zero per exercise of the catalog
    helper.fail_closed(out, ROOT, "no exercise file (exNN_name.py) was found", "Upload `ex03_sgd_step.py`.")
    report = json.loads(out.read_text(encoding="utf-8"))
    assert_valid(report)
    assert report["score"] == 0 and len(report["tests"]) == len(CATALOG)
    assert all(t["score"] == 0 and t["status"] == "failed" for t in report["tests"])
    page = rendered(report["output"])
    assert "exNN_name.py" in as_text(page) and "<code>ex03_sgd_step.py</code>" in page
    # the grader died: what it said is shown as code, whatever it holds
    said = "Traceback (most recent call last):\n  File \"x\", line 1\n\x1b[31m*boom*\x1b[0m <b>```"
    helper.fail_closed(out, ROOT, "the grader left no report (exit code 1)", "Please tell your instructor.", said)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert_valid(report)
    page = rendered(report["output"])
    block = re.search(r"<pre><code[^>]*>(.*?)</code></pre>", page, re.S)
    assert block and html.unescape(block.group(1)).rstrip("\n") == (
        "Traceback (most recent call last):\n  File \"x\", line 1\n*boom* <b>```")


# text a message may hold, and how it must read once rendered (the same, less the code span's backticks)
PROSE = [
    "__init__ and *args, **kwargs stay as typed",
    "ex03_sgd_step and a_b_c keep their underscores",
    "<b>not bold</b> &amp; &lt;tags&gt; stay text",
    "# not a heading",
    "- not a list",
    "+ not a list either",
    "1. not a numbered list",
    "2) nor this",
    "> not a quote",
    "[not a link](http://example.org) ![nor an image](x.png)",
    "| not | a table |",
    "~~not struck~~ and a ~tilde",
    "a backslash \\ and a trailing one \\",
    "an unmatched ` backtick",
    "===",
    "---",
    "***",
    "____",
]


@pytest.mark.parametrize("text", PROSE)
def test_prose_renders_as_typed(text):
    page = rendered(md_text(text))
    assert as_text(page) == text, md_text(text)
    for tag in ("<h", "<ul", "<ol", "<blockquote", "<a ", "<img", "<em", "<strong", "<hr", "<table", "<del",
                "<b>", "<code", "<pre"):
        assert tag not in page, (tag, md_text(text), page)


def test_code_spans_stay_code_and_line_breaks_stay():
    message = "w is no longer a leaf: `w = w - lr * w.grad` builds a new tensor.\nUse `torch.no_grad()` and `w -= lr * w.grad`."
    page = rendered(md_text(message))
    assert "<code>w = w - lr * w.grad</code>" in page and "<code>torch.no_grad()</code>" in page
    assert "<code>w -= lr * w.grad</code>" in page
    assert "<br" in page, "a line break in a message is kept"
    assert as_text(page) == as_text(message.replace("`", ""))
    # a source excerpt indented in a message (a syntax error) becomes a code block
    excerpt = "ex03_sgd_step.py, line 2: SyntaxError: '(' was never closed\n    x = (1, *y\nFix the syntax."
    page = rendered(md_text(excerpt))
    assert "<pre><code" in page and "    x = (1, *y" in html.unescape(page)
    # names and blocks hold anything without breaking out
    assert rendered(md_code("test_x[a`b]")) == "<p><code>test_x[a`b]</code></p>\n"
    assert html.unescape(re.search(r"<code[^>]*>(.*?)</code>", rendered(md_block("```\n<i>x</i>")), re.S).group(1)) \
        == "```\n<i>x</i>\n"


def test_a_learners_output_and_traceback_are_code_blocks(tmp_path_factory):
    run = nasty_run(tmp_path_factory)
    report = to_gradescope(run)
    test = next(t for t in report["tests"] if t["number"] == "3")
    page = rendered(test["output"])
    blocks = [html.unescape(b) for b in re.findall(r"<pre><code[^>]*>(.*?)</code></pre>", page, re.S)]
    printed = [b for b in blocks if "printed" in b]
    assert printed and printed[0].startswith("red"), blocks
    assert "\\x0b\\x0c\\x1b \\x7f\\x85 \\ud800 \\ufffe end printed" in printed[0]
    assert "\x1b" not in test["output"] and "[31m" not in test["output"]
    # the check's name is code, its message prose
    assert "<code>test_values_are_updated[vector-lr0.1]</code>" in page
    assert "ValueError: red" in as_text(page)
    broken = next(t for t in report["tests"] if t["number"] == "7")
    assert "SyntaxError" in as_text(rendered(broken["output"]))
