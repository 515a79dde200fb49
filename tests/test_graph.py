"""`--graph`: the learner's autograd graph beside the reference's (grading/graph_*.py).

The corpus of the graph exercises is graded with graph recording on (tests/conftest.py), the
reference solutions too, so that every other test of the corpus also proves that recording
changes no verdict. Here: what each wrong file of ex06, ex07, ex17 and ex21 is told differs; four
more wrong implementations of the kinds the exercises warn about, through the command line (text,
SVG valid as XML, self-contained, drawn by a real browser); the reference's own graphs reported as
matching; the folding of a long chain; the text without colour; the notebook's display; the JSON
report against tests/schemas/graph.schema.json; and the learner's process, which never holds
anything of the reference.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from grading import ROOT, SOLUTIONS_DIR
from grading.core.graph_data import backward_nodes, compare
from grading.reports.graph_text import render
from grading.reports.style import Style

from .conftest import CATALOG, CORPUS, corpus_result, solution_run
from .test_class_report import browse, chromium

SCHEMA = jsonschema.Draft202012Validator(
    json.loads((Path(__file__).parent / "schemas" / "graph.schema.json").read_text(encoding="utf-8")))
PLAIN = Style(color=False)
PLAIN.unicode = True

# what the comparison says differs, for each wrong file of the four exercises (a fragment of the text)
DIFFERS = {
    "ex06_stop_gradient": {
        "wrong_parameter_of_values": "~ result (3, 4) (a leaf that requires grad)",
        "wrong_lying_tensor_subclass": "~ t (3, 4) (requires grad) ← #1 AddBackward0",
        "wrong_clone_detach": "~ t was changed in place (its version counter went up): no in yours, yes in the reference's",
        "wrong_numpy_round_trip": "~ t was changed in place (its version counter went up): no in yours, yes",
        "wrong_through_data": "~ t was changed in place (its version counter went up): no in yours, yes",
        "wrong_detach_in_place": "- only in the reference's: result (2, 3, 4)",
        "wrong_requires_grad_off": "- only in the reference's: result (3, 4)",
        "wrong_returns_t": "~ t is what stop_gradient returns: yes in yours, no in the reference's",
        "wrong_grad_mode_left_off": "~ result is a leaf that requires grad in yours, not a leaf that requires grad",
        "wrong_no_grad_view": "~ result is a leaf that requires grad in yours",
        "wrong_view_while_recording": "+ only in yours: #1 ViewBackward0",
    },
    "ex07_cut_history": {
        "wrong_assigns_grad_fn": "~ t keeps its history (#1 SubBackward0) in yours; cut_history_ cut it in the reference's",
        "wrong_data_assignment": "~ t keeps its history (#1 SubBackward0) in yours",
        "wrong_no_grad": "~ t keeps its history (#1 SubBackward0) in yours",
        "wrong_requires_grad_off": "~ t keeps its history (#1 SubBackward0) in yours",
        "wrong_returns_detach": "+ only in yours: result (5,)",
        "wrong_forgets_return": "~ t is what cut_history_ returns: no in yours, yes in the reference's",
    },
    "ex17_decoder_loss": {
        "wrong_no_stop": "+ gets a gradient in yours, not in the reference's: encoder.0.bias, encoder.0.weight",
        "wrong_detaches_input": "+ gets a gradient in yours, not in the reference's: encoder.0.bias",
        "wrong_eval_instead_of_stop": "+ gets a gradient in yours, not in the reference's: encoder.0.bias",
        "wrong_detaches_decoder_output": "- only in the reference's: #1 MseLossBackward0, #2 AddmmBackward0",
        "wrong_detaches_loss": "- only in the reference's: #1 MseLossBackward0",
        "wrong_everything_under_no_grad": "- only in the reference's: #1 MseLossBackward0",
        "wrong_inference_mode_encoder": "- only in the reference's: result (), #1 MseLossBackward0",
        "wrong_returns_item": "- result () (requires grad) ← -#2 MseLossBackward0",
        "wrong_detach_in_place": "~ x (6, 3): no history",
        "wrong_rebuilt_loss": "~ result () (a leaf that requires grad)",
        "wrong_skips_encoder": "- only in the reference's: result (), #1 MseLossBackward0",
        "wrong_softmax_before_loss": "+ only in yours: #2 SoftmaxBackward0",
    },
    "ex21_truncated_bptt": {
        "wrong_one_loss_call_on_stacked_chunk": "+ #1 MaxBackward1 ← +#2 AbsBackward0",
        "wrong_rebuilt_loss": "~ loss () [gets .grad] (a leaf that requires grad)",
        "wrong_no_detach": "- only in the reference's: ⊣ (the graph stops at an input of #28 AddmmBackward0)",
        "wrong_retain_graph": "- only in the reference's: ⊣ (the graph stops at an input of #28 AddmmBackward0)",
        "wrong_restart_from_h0": "+ gets a gradient in yours, not in the reference's: a leaf",
        "wrong_detach_in_place": "~ train_truncated_bptt cut h0's history (#1 TanhBackward0) in yours",
        "wrong_detach_every_step": "+ only in yours: ⊣ (the graph stops at an input of #19 AddmmBackward0)",
        "wrong_sum_not_mean": "- only in the reference's: #31 DivBackward0",
        "wrong_drops_last_chunk": "- gets a gradient in the reference's, not in yours: cell.bias_hh",
        "wrong_adds_loss_tensor_to_list": "+ only in yours: #1 MeanBackward0, #2 StackBackward0",
        "wrong_chunk_slices_off_by_one": "+ only in yours: #8 AddBackward0, #9 MseLossBackward0",
        "wrong_returns_tensors": "+ only in yours: result[0] (), #2 DivBackward0",
    },
}
# wrong files whose mistake is not in the graph (flags, modes, values, the optimizer): the graphs match
NOT_IN_THE_GRAPH = {
    "ex06_stop_gradient": {"wrong_contiguous", "wrong_moves_to_cpu", "wrong_squeezes"},
    "ex07_cut_history": {"wrong_class_swap"},
    "ex17_decoder_loss": {"wrong_freeze_then_unfreeze_all", "wrong_freezes_encoder", "wrong_grad_mode_by_hand",
                          "wrong_calls_encoder_forward"},
    "ex21_truncated_bptt": {"wrong_calls_train", "wrong_divides_by_k", "wrong_no_zero_grad", "wrong_own_optimizer",
                            "wrong_zero_grad_before_step"},
}


def comparison_of(result, reference_result) -> dict:
    comparison = compare(result, reference_result)
    assert comparison is not None, f"{result.id}: no graph recorded"
    comparison["text"] = render(comparison, PLAIN)
    errors = [e.message for e in SCHEMA.iter_errors(comparison)]
    assert not errors, errors[:3]
    return comparison


def corpus_files():
    return [pytest.param(ex, path, id=f"{ex[:4]}-{path.stem}") for ex in DIFFERS
            for path in sorted((CORPUS / ex).glob("*.py"))]


def test_every_wrong_file_of_the_four_is_listed():
    for ex in DIFFERS:
        wrong = {p.stem for p in (CORPUS / ex).glob("wrong_*.py")}
        assert wrong == set(DIFFERS[ex]) | NOT_IN_THE_GRAPH.get(ex, set()), ex


@pytest.mark.timeout(900)  # the first of the session's corpus requests grades the whole corpus
@pytest.mark.parametrize("exercise_id,path", corpus_files())
def test_the_corpus_is_told_what_differs_in_its_graph(tmp_path_factory, exercise_id, path):
    result = corpus_result(tmp_path_factory, exercise_id, path)
    comparison = comparison_of(result, solution_run().exercise(exercise_id))
    text = comparison["text"]
    if path.stem.startswith("right_") or path.stem in NOT_IN_THE_GRAPH.get(exercise_id, ()):
        if comparison["same"]:
            assert "Your graph matches the reference." in text
            if not comparison["passed"]:
                assert "not in the graph" in text
        else:  # a correct alternative built another way: its own nodes are marked, and it passes
            assert comparison["passed"] and "every check passes" in comparison["meaning"]
        return
    assert not comparison["same"] and not comparison["passed"], text
    assert DIFFERS[exercise_id][path.stem] in text, text
    assert "What it means: " in text and comparison["meaning"]
    if result.first_problem.mistake_title and comparison["check"] == result.first_problem.name:
        assert result.first_problem.mistake_title in comparison["meaning"]


# ------------------------------------------------------------------ the four kinds, end to end

# wrong implementations of the kinds the four exercises warn about, none of them in the corpus
HELD_OUT = {
    "ex06_stop_gradient": (  # a .data update: the values, not the version counter
        "import torch\n\n\ndef stop_gradient(t):\n    result = torch.empty_like(t)\n    result.data = t.data\n"
        "    return result\n"),
    "ex07_cut_history": (  # a detach in the wrong place: on a new tensor, thrown away
        "def cut_history_(t):\n    t.detach().requires_grad_(False)\n    return t\n"),
    "ex17_decoder_loss": (  # an encoder left in the graph: the detach's result never used
        "def decoder_loss(encoder, decoder, x, target, loss_fn):\n    features = encoder(x)\n"
        "    features.detach()\n    return loss_fn(decoder(features), target)\n"),
    "ex21_truncated_bptt": (  # a chunk boundary not cut: the detached state never used
        "def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):\n"
        "    losses, h = [], h0\n"
        "    for start in range(0, xs.shape[0], k):\n"
        "        h.detach()\n"
        "        steps = range(start, min(start + k, xs.shape[0]))\n"
        "        loss = 0.0\n"
        "        for t in steps:\n"
        "            h = cell(xs[t], h)\n"
        "            loss = loss + loss_fn(readout(h), ys[t])\n"
        "        loss = loss / len(steps)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        optimizer.zero_grad()\n"
        "        losses.append(loss.item())\n"
        "    return losses\n"),
}
# what each comparison must name: the leaf or tensor that differs (for ex17, an encoder parameter)
NAMED = {"ex06_stop_gradient": "~ t was changed in place", "ex07_cut_history": "~ t keeps its history",
         "ex17_decoder_loss": "encoder.0.weight", "ex21_truncated_bptt": "cell.weight_hh"}


REFERENCE_RUN = ["ex06_stop_gradient", "ex07_cut_history", "ex17_decoder_loss"]  # ex21's: the session's own, below


def _grader(*args, state: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`python grader.py ARGS`, run in this process (which has imported torch already)."""
    import contextlib
    import io
    import os

    from grading.cli import main

    out, err, before = io.StringIO(), io.StringIO(), (os.getcwd(), os.environ.get("KATA_STATE_DIR"))
    os.chdir(cwd)
    os.environ["KATA_STATE_DIR"] = str(state)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*args, "--no-color"])
    finally:
        os.chdir(before[0])
        if before[1] is None:
            os.environ.pop("KATA_STATE_DIR", None)
        else:
            os.environ["KATA_STATE_DIR"] = before[1]
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    """`python grader.py ex06 ex07 ex17 ex21 --graph --format json` on the four, and on the reference."""
    base = tmp_path_factory.mktemp("held-out")
    target = base / "mine"
    target.mkdir()
    for exercise_id, source in HELD_OUT.items():
        (target / f"{exercise_id}.py").write_text(source, encoding="utf-8")
    out = {}
    for name, where in (("mine", target), ("reference", SOLUTIONS_DIR)):
        state = base / f"state-{name}"
        chosen = HELD_OUT if name == "mine" else REFERENCE_RUN
        report = _grader(*[ex[:4] for ex in chosen], "-g", "--format", "json", "--target", str(where),
                         state=state, cwd=base)
        proc = report
        if name == "mine":  # the terminal's text, for one of them (the report's "text" is the same, in Unicode)
            with counting_runs() as runs:
                proc = _grader("ex17", "--graph", "--target", str(where), state=state, cwd=base)
            out["runs"] = runs
        out[name] = (proc, json.loads(report.stdout), state / "graphs")
    return out


@contextlib.contextmanager
def counting_runs():
    """The grading runs made inside the block: (targets, exercise ids, graph ids) of each."""
    from grading.engine import runner

    runs, original = [], runner.grade_many

    def counted(targets, exercises, **options):
        runs.append(([Path(t) for t in targets], [ex.id for ex in exercises], list(options.get("graph", ()))))
        return original(targets, exercises, **options)

    runner.grade_many = counted
    try:
        yield runs
    finally:
        runner.grade_many = original


@pytest.mark.timeout(600)
def test_graph_costs_one_more_run_of_the_exercise_and_records_only_there(held_out):
    (mine, ex, recorded), (reference, ref_ex, ref_recorded) = held_out["runs"]
    assert ex == ref_ex == recorded == ref_recorded == ["ex17_decoder_loss"]
    assert reference == [SOLUTIONS_DIR] and mine != [SOLUTIONS_DIR]


@pytest.mark.timeout(600)  # the first of them grades the four twice, and their references
def test_the_four_kinds_of_mistake_are_shown_beside_the_reference(held_out):
    proc, report, _ = held_out["mine"]
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stdout.count("Your graph beside the reference's") == 1
    for e in report["exercises"]:
        comparison = e["graph"]
        assert not list(SCHEMA.iter_errors(comparison))
        assert e["status"] == "failed" and not comparison["same"], comparison["text"]
        for side in ("yours", "reference"):
            assert len(backward_nodes(comparison[side])) >= 2, (e["id"], side, comparison["text"])
        assert NAMED[e["id"]] in comparison["text"], comparison["text"]
        assert "Your graph beside the reference's" in comparison["text"]
    ex17 = next(e["graph"] for e in report["exercises"] if e["id"] == "ex17_decoder_loss")
    assert f"beside the reference's - {ex17['check']}, {ex17['when']}" in proc.stdout  # (in ASCII: not a terminal)
    assert "Your graph:" in proc.stdout and "The reference's graph:" in proc.stdout and "What differs:" in proc.stdout
    assert NAMED["ex17_decoder_loss"] in proc.stdout and f"Picture: {ex17['svg']}" in proc.stdout
    ex17 = next(e["graph"] for e in report["exercises"] if e["id"] == "ex17_decoder_loss")
    assert any(label.startswith("encoder.") for label in ex17["differences"]["grads_only_yours"])


@pytest.mark.timeout(600)  # the first of them grades the four twice, and their references
def test_the_readme_shows_a_real_graph_output_and_its_picture(held_out):
    _, report, folder = held_out["mine"]
    ex17 = next(e["graph"] for e in report["exercises"] if e["id"] == "ex17_decoder_loss")
    block = "\n".join("    " + line if line else "" for line in ex17["text"].splitlines())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert block + "\n      Picture: .kata/graphs/ex17_decoder_loss.svg\n" in readme
    assert HELD_OUT["ex17_decoder_loss"].splitlines()[2].strip() in readme  # the mistake it shows: features.detach()
    assert (ROOT / "docs" / "graph-ex17.svg").read_text(encoding="utf-8") == (folder / "ex17_decoder_loss.svg").read_text(
        encoding="utf-8")
    assert "](docs/graph-ex17.svg)" in readme


@pytest.mark.timeout(600)  # the first of them grades the four twice, and their references
def test_the_reference_solutions_graphs_match_the_reference(held_out):
    proc, report, _ = held_out["reference"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [e["id"] for e in report["exercises"]] == REFERENCE_RUN
    for e in report["exercises"]:
        assert e["status"] == "passed" and e["graph"]["same"], e["graph"]["text"]
        assert "Your graph matches the reference." in e["graph"]["text"]
    # ex21: the reference's graph that the run above compared with (graded in a run of its own) is
    # the graph the session's own run of the reference recorded for that check, moment by moment
    from grading.core.graph_data import as_report

    _, mine, _ = held_out["mine"]
    seen = next(e["graph"] for e in mine["exercises"] if e["id"] == "ex21_truncated_bptt")
    recorded = solution_run().exercise("ex21_truncated_bptt").graphs[seen["check"]]
    moment = next(m for m in recorded["moments"] if m["when"] == seen["reference"]["when"])
    assert as_report(moment) == seen["reference"]


@pytest.mark.timeout(600)  # the first of them grades the four twice, and their references
def test_each_picture_is_valid_self_contained_svg_that_a_browser_draws(held_out, tmp_path):
    chromium()
    pictures = []
    for name in ("mine", "reference"):
        proc, report, folder = held_out[name]
        for e in report["exercises"]:
            path = folder / f"{e['id']}.svg"
            assert path.exists(), path
            assert e["graph"]["svg"].endswith(f"graphs/{e['id']}.svg")
            text = path.read_text(encoding="utf-8")
            root = ET.fromstring(text)  # well-formed XML
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert not [el for el in root.iter() if el.tag.endswith("script") or el.tag.endswith("foreignObject")]
            for el in root.iter():  # nothing outside the file: no link, no external resource
                for attr, value in el.attrib.items():
                    assert not attr.endswith("href") and "on" != attr[:2], (attr, value)
                    assert not re.search(r"url\((?!#)", value), value
            assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
            pictures.append(path)
    page = tmp_path / "pictures.html"
    page.write_text("<!doctype html><html><body>" + "".join(f'<img src="{p.as_uri()}">' for p in pictures) +
                    "<script>window.onload = function () { var sizes = [];"
                    " document.querySelectorAll('img').forEach(function (i) { sizes.push(i.naturalWidth); });"
                    " var pre = document.createElement('pre'); pre.id = 'sizes'; pre.textContent = JSON.stringify(sizes);"
                    " document.body.appendChild(pre); };</script></body></html>", encoding="utf-8")
    proc = browse(tmp_path, "--dump-dom", "--allow-file-access-from-files", "--virtual-time-budget=10000",
                  url=page.as_uri())
    sizes = json.loads(re.search(r'<pre id="sizes">(.*?)</pre>', proc.stdout).group(1))
    assert len(sizes) == len(pictures) and all(width > 200 for width in sizes), sizes


# ------------------------------------------------------------------ folding, colour, notebook


def _recorded_chain(steps: int, detach: bool) -> dict:
    """What a recorder gets from a recurrent cell run over `steps` steps, with and without a cut."""
    import torch
    from torch import nn

    from grading.engine import graph_capture

    def unroll(cell, xs, h0):
        h = h0
        for x in xs:
            h = cell(x, h.detach() if detach else h)
        return h.sum()

    torch.manual_seed(0)
    graph_capture.begin()
    try:
        graph_capture.watch(unroll)(nn.RNNCell(2, 3), torch.randn(steps, 1, 2), torch.zeros(1, 3))
    finally:
        data = graph_capture.finish()
    return data


def test_a_long_chain_is_folded_into_steps_of_the_same_shape():
    from grading.core.graph_data import clean, differences, fold, layers
    from grading.reports.graph_svg import render as svg

    long, short = clean(_recorded_chain(40, False))["moments"][-1], clean(_recorded_chain(40, True))["moments"][-1]
    first, period, steps = fold(long, layers(long))
    assert steps == 39 and period >= 2, (first, period, steps)  # every step but the one at the root
    comparison = {"check": "test", "when": long["when"], "function": "unroll", "same": False, "passed": False,
                  "yours": long, "reference": short, "differences": differences(long, short), "meaning": "x"}
    text = render(comparison, PLAIN)
    assert "… 37 more steps of the same shape" in text and "… 37 more steps" in (ROOT / "README.md").read_text()
    assert len(text.splitlines()) < 80  # 40 steps of 6 nodes, shown as two
    assert f"… {steps - 2} more steps of the same shape" in svg(comparison)
    assert fold(short, layers(short)) is None  # a graph cut at every step has nothing to fold


def test_without_colour_the_markers_are_characters_and_read_the_same():
    from grading.core.graph_data import clean, differences

    long, short = clean(_recorded_chain(3, False))["moments"][-1], clean(_recorded_chain(3, True))["moments"][-1]
    comparison = {"check": "test", "when": "at the end", "function": "unroll", "same": False, "passed": False,
                  "yours": long, "reference": short, "differences": differences(long, short), "meaning": "x"}
    plain, colour = render(comparison, Style(color=False)), render(comparison, Style(color=True))
    assert "\033[" not in plain and "\033[" in colour
    assert re.sub(r"\033\[[0-9;]*m", "", colour) == plain
    marked = [line.strip()[:1] for line in plain.splitlines()]
    assert "+" in marked and "-" in marked  # each difference has its character at the start of its line
    ascii_only = Style(color=False)
    ascii_only.unicode = False
    text = render(comparison, ascii_only)
    assert text.isascii() and "-|" in text and "<-" in text


def test_check_in_a_notebook_shows_the_graph_inline(monkeypatch):
    import types

    from grading.learner import kernel

    shown = []
    display = types.ModuleType("IPython.display")
    display.display = lambda bundle, raw=False: shown.append(bundle)
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    namespace = {}
    exec(compile((CORPUS / "ex17_decoder_loss" / "wrong_no_stop.py").read_text(), "<cell>", "exec"), namespace)
    kernel.check("ex17", namespace, graph=True)
    (bundle,) = shown
    assert "Your graph beside the reference's" in bundle["text/plain"] and "encoder.0.weight" in bundle["text/plain"]
    page = bundle["text/html"]
    assert "<svg" in page and "</svg>" in page and "<?xml" not in page
    ET.fromstring(page[page.index("<svg"):page.index("</svg>") + 6])
    shown.clear()
    kernel.check("ex17", namespace)  # without graph=True: no graph, no reference run
    assert "<svg" not in shown[0]["text/html"] and "Your graph" not in shown[0]["text/plain"]


# ------------------------------------------------------------------ where the reference runs


PROBE = '''
import gc
import sys


def stop_gradient(t):
    """Correct only where the graph is recorded and nothing of the reference solutions is in the
    process: no module of theirs, no recorded graph but the one being recorded here."""
    from grading import SOLUTIONS_DIR
    from grading.engine import graph_capture

    loaded = [m for m in list(sys.modules.values()) if str(SOLUTIONS_DIR) in str(getattr(m, "__file__", "") or "")]
    graphs = [o for o in gc.get_objects() if isinstance(o, dict) and "moments" in o and "function" in o]
    if loaded or graphs or graph_capture.ACTIVE is None:
        return t
    return t.detach()
'''


def test_the_learners_process_never_sees_the_reference(tmp_path):
    """With --graph the learner's code runs where its graph is recorded, with no module of the
    reference loaded and no other recorded graph in reach; the reference's graphs come from a run
    of their own: the probe passes, nothing is flagged, and its graph matches the reference's."""
    import os

    target = tmp_path / "mine"
    target.mkdir()
    (target / "ex06_stop_gradient.py").write_text(PROBE, encoding="utf-8")
    # a grader of its own (this process holds the graphs other tests recorded, which a fork would copy)
    proc = subprocess.run([sys.executable, str(ROOT / "grader.py"), "ex06", "-g", "--format", "json", "--target",
                           str(target)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env=dict(os.environ, KATA_STATE_DIR=str(tmp_path / "state")))
    (e,) = json.loads(proc.stdout)["exercises"]
    assert e["status"] == "passed" and not e.get("flags"), e
    assert e["graph"]["same"], e["graph"]["text"]


def _holds_a_graph(result) -> bool:
    nodes = [n for g in result.graphs.values() if g for m in g["moments"] for n in m["nodes"]]
    return any(n["kind"] in ("op", "leaf") or n.get("returned") or n["key"].startswith("tensor:result") for n in nodes)


@pytest.mark.timeout(600)  # every reference solution, with the graphs recorded
def test_the_catalog_names_the_graph_exercises():
    """`graph = true` exactly where the reference's recorded graphs hold something autograd tracks
    (an op, a leaf that requires grad) or a tensor the function returns: there is a graph to compare.
    (The others' graphs, recorded here, would show nothing.)"""
    from grading.engine.runner import grade

    run = solution_run()
    others = [ex for ex in CATALOG if not ex.graph]
    recorded = grade(SOLUTIONS_DIR, others, graph=[ex.id for ex in others])
    for ex in CATALOG:
        result = run.exercise(ex.id) if ex.graph else recorded.exercise(ex.id)
        assert result.graphs, ex.id
        assert _holds_a_graph(result) == ex.graph, ex.id


# ------------------------------------------------------------------ classroom reports


@pytest.mark.timeout(900)  # the first of the session's corpus requests grades the whole corpus
def test_gradescope_output_carries_the_text_of_a_failing_exercise(tmp_path_factory):
    import copy

    from grading.reports.formats import to_gradescope
    from grading.core.results import RunResult

    from .test_gradescope_format import VALIDATOR

    result = copy.copy(corpus_result(tmp_path_factory, "ex17_decoder_loss", CORPUS / "ex17_decoder_loss" / "wrong_no_stop.py"))
    result.graph = comparison_of(result, solution_run().exercise("ex17_decoder_loss"))
    data = to_gradescope(RunResult(target="x", seed=0, exercises=[result]))
    assert not list(VALIDATOR.iter_errors(data))
    (test,) = data["tests"]
    assert "Your autograd graph beside the reference's" in test["output"]
    assert "+ gets a gradient in yours, not in the reference's: encoder.0.bias" in test["output"]


@pytest.mark.timeout(600)
def test_batch_feedback_carries_the_graphs_of_the_failing_exercises(tmp_path):
    from grading.classroom.batch import run_batch

    subs = tmp_path / "subs"
    for name, source in (("ann", CORPUS / "ex07_cut_history" / "wrong_returns_detach.py"),
                         ("ben", SOLUTIONS_DIR / "ex07_cut_history.py")):
        (subs / name).mkdir(parents=True)
        (subs / name / "ex07_cut_history.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    run_batch(subs, CATALOG, tmp_path / "grades.csv", jobs=2, seed=7, timeout=10, memory_mb=2048,
              feedback=tmp_path / "feedback", graph=True)
    ann = json.loads((tmp_path / "feedback" / "ann.json").read_text())
    ben = json.loads((tmp_path / "feedback" / "ben.json").read_text())
    (ex07,) = [e for e in ann["exercises"] if e["id"] == "ex07_cut_history"]
    assert not list(SCHEMA.iter_errors(ex07["graph"]))
    assert "~ t keeps its history (#1 SubBackward0) in yours" in ex07["graph"]["text"]
    others = [e for e in ann["exercises"] + ben["exercises"] if e is not ex07]
    assert not any("graph" in e for e in others)  # passing, or not a graph run of theirs: no graph
