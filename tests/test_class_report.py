"""Class insight for instructors: `mistakes.csv` beside the gradebook and the one-page HTML class
report (`batch --report`), the page checked in a real browser (Debian's Chromium, headless)."""

from __future__ import annotations

import base64
import csv
import hashlib
import html.parser
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest

from grading import ROOT, SOLUTIONS_DIR
from grading.classroom.batch import run_batch, write_class_files
from grading.core.gradebook import Outcome
from grading.reports.gradebook import mistakes_path, write_mistakes_csv
from grading.core.catalog import Catalog
from grading.reports.class_report import TOP_MISTAKES, render_class_report
from grading.reports.class_charts import STATES, bin_counts, histogram_bins
from grading.core.results import CheckResult, ExerciseResult, RunResult
from grading.core.stubs import stub_for

from .conftest import CATALOG, CORPUS, corpus_result, expected_fragment, solution_run, stub_run

EX01, EX03, EX06 = CATALOG["ex01_enable_tracking"], CATALOG["ex03_sgd_step"], CATALOG["ex06_stop_gradient"]
SMALL = Catalog([EX01, EX03, EX06])  # the exercises of the hand-made class


# ------------------------------------------------------------------ helpers


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None"):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def all(self, tag: str | None = None, cls: str | None = None) -> list["Node"]:
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and (cls is None or cls in n.attrs.get("class", "").split())]

    def one(self, tag: str | None = None, cls: str | None = None, **attrs) -> "Node":
        found = [n for n in self.all(tag, cls) if all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]
        assert len(found) == 1, f"expected one <{tag} class={cls} {attrs}>, found {len(found)}"
        return found[0]


class _Builder(html.parser.HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.node = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.node)
        self.node.children.append(node)
        if tag not in self.VOID:
            self.node = node

    def handle_startendtag(self, tag, attrs):
        self.node.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.node))

    def handle_endtag(self, tag):
        node = self.node
        while node.parent is not None and node.tag != tag:
            node = node.parent
        if node.parent is not None:
            self.node = node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def dom(text: str) -> Node:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


def outcome(name: str, run: RunResult) -> Outcome:
    """A graded submission as batch records it (the report's JSON with the classroom scores)."""
    data = run.to_dict()
    for e, d in zip(run.exercises, data["exercises"]):
        d["classroom_score"] = 0.0 if e.flags else e.score
    data["classroom_score"] = sum(d["classroom_score"] for d in data["exercises"])
    return Outcome(name, "graded", data, name)


def failing(mistake: str | None, title: str = "", message: str = "wrong") -> CheckResult:
    return CheckResult("test_x", "failed", message, mistake=mistake, mistake_title=title)


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def declared_mistakes(path: Path) -> tuple[str, ...]:
    """The known mistakes a corpus file says it makes: `MISTAKE = "ex03.rebinding"` (or a tuple of
    ids, for a file that makes several)."""
    declared = expected_fragment(path, "MISTAKE") or expected_fragment(path, "EXPECT_MISTAKE") or ()
    return (declared,) if isinstance(declared, str) else tuple(declared)


def made_mistakes(result: dict) -> set[tuple[str, str]]:
    """(exercise, mistake) of every known mistake in one submission's report: what mistakes.csv counts."""
    return {(e["id"], c["mistake"]) for e in result["exercises"] for c in e["checks"]
            if c.get("mistake") and c["status"] != "passed"}


def mistake_rows_of_page(page: Node) -> dict[tuple[str, str], int]:
    """(exercise, mistake) -> the count the page's mistakes tables show (the visible cell)."""
    rows = {}
    for tr in page.all("tr", "mistake"):
        count = tr.one("td", "count").text().strip()
        assert count == tr.attrs["data-count"], (count, tr.attrs)
        rows[tr.attrs["data-exercise"], tr.attrs["data-mistake"]] = int(count)
    return rows


def assert_page_shows_top_mistakes(page: Node, counted: dict[tuple[str, str], int]) -> None:
    """The page's mistakes tables show, for each exercise, its most frequent mistakes of
    mistakes.csv (`counted`), with their counts: all of them, or the first TOP_MISTAKES."""
    shown = mistake_rows_of_page(page)
    for ex in CATALOG:
        found = sorted((-n, m) for (e, m), n in counted.items() if e == ex.id)
        on_page = sorted((-n, m) for (e, m), n in shown.items() if e == ex.id)
        if len(found) <= TOP_MISTAKES:
            assert on_page == found, f"{ex.short}: the page shows {on_page}, mistakes.csv {found}"
        else:  # the most frequent ones (ties may be cut either way)
            assert len(on_page) == TOP_MISTAKES and set(on_page) <= set(found)
            assert [n for n, _ in on_page] == [n for n, _ in found[:TOP_MISTAKES]], (ex.short, on_page, found)
        more = page.all("div", "exercise-mistakes")
        block = [b for b in more if b.attrs["data-exercise"] == ex.id]
        assert bool(block) == bool(found), f"{ex.short}: a section without mistakes, or mistakes without one"
        if len(found) > TOP_MISTAKES:
            assert f"and {len(found) - TOP_MISTAKES} more" in block[0].text()


def assert_self_contained(page: Node, text: str) -> None:
    for node in page.iter():
        for name in ("src", "href", "xlink:href", "action", "poster", "data"):
            value = node.attrs.get(name)
            assert value is None or value.startswith(("#", "data:")), f"<{node.tag} {name}={value!r}> fetches something"
        assert node.tag not in ("link", "iframe", "object", "embed", "img"), f"<{node.tag}> in the page"
    styles = " ".join(n.text() for n in page.all("style"))
    assert "url(" not in styles and "@import" not in styles and "@font-face" not in styles
    csp = [n for n in page.all("meta") if n.attrs.get("http-equiv", "").lower() == "content-security-policy"]
    assert csp and "default-src 'none'" in csp[0].attrs["content"], "the page must forbid every fetch"


# ------------------------------------------------------------------ mistakes.csv


def _small_class() -> list[Outcome]:
    """Five submissions (one not gradable): ex03's rebinding three times (twice in one submission),
    its stale .grad once, ex06's clone twice, and failures of no known mistake."""
    def run(name, checks_by_exercise):
        exercises = [ExerciseResult(ex.id, ex.title, ex.points, checks_by_exercise.get(ex.id, [CheckResult("t", "passed")]))
                     for ex in (EX01, EX03, EX06)]
        return outcome(name, RunResult(name, 0, exercises))

    rebinding = ("ex03.rebinding", "Rebinding the parameter instead of updating it")
    return [
        run("=alice", {EX03.id: [failing(*rebinding, "`p = p - lr * p.grad` builds a new tensor"),
                                 failing(*rebinding), CheckResult("ok", "passed", mistake="ex03.keeps_grad")],
                       EX06.id: [failing("ex06.clone", "-clone() copies")]}),
        run("bob", {EX03.id: [failing(*rebinding), failing("ex03.keeps_grad", "Leaving .grad")]}),
        run("carol", {EX03.id: [failing(*rebinding)], EX06.id: [failing("ex06.clone", "-clone() copies")]}),
        run("dave", {EX01.id: [failing(None)]}),
        Outcome("erin", "error: erin.zip: not a valid zip file", None, "erin.zip"),
    ]


def test_mistakes_csv_counts_each_submission_once_per_mistake(tmp_path):
    outcomes = _small_class()
    out = tmp_path / "grades.csv"
    write_class_files(outcomes, SMALL, out)
    rows = read_csv(tmp_path / "mistakes.csv")
    assert [(r["exercise"], r["mistake"], r["submissions"]) for r in rows] == [
        (EX03.id, "ex03.rebinding", "3"),  # alice's two checks count once; most frequent first
        (EX03.id, "ex03.keeps_grad", "1"),  # alice passed the check that names it: only bob
        (EX06.id, "ex06.clone", "2"),
    ], "one row per mistake, by exercise then count; a submission counts once per mistake"
    assert [r["share"] for r in rows] == ["0.7500", "0.2500", "0.5000"], "shares are of the 4 graded submissions"
    assert rows[0]["title"] == "Rebinding the parameter instead of updating it"
    assert rows[0]["example"] == "'=alice", "a name that starts like a formula is quoted, as in the gradebook"
    assert rows[2]["title"] == "'-clone() copies"
    assert rows[1]["example"] == "bob"
    assert list(rows[0]) == ["exercise", "mistake", "title", "submissions", "share", "example"]


def test_mistakes_csv_lies_beside_the_gradebook():
    assert mistakes_path(Path("out/grades.csv")) == Path("out/mistakes.csv")
    assert mistakes_path(Path("out/ml101.csv")) == Path("out/ml101-mistakes.csv"), "two gradebooks keep their own"


def test_a_class_without_known_mistakes_gets_a_header_only(tmp_path):
    out = tmp_path / "m.csv"
    write_mistakes_csv([Outcome("x", "error: nothing to grade", None, "x")], CATALOG, out)
    assert out.read_text(encoding="utf-8").splitlines() == ["exercise,mistake,title,submissions,share,example"]


# ------------------------------------------------------------------ the page, as text


def test_the_page_escapes_what_learners_control_and_fetches_nothing(tmp_path):
    evil = '<img src=x onerror="alert(1)">'
    outcomes = _small_class()
    outcomes[1].name = f"bob{evil}"
    outcomes[1].result["exercises"][1]["checks"][1]["message"] = f"told: {evil} and `{evil}`"
    outcomes[-1].status = f"error: {evil}.zip: not a valid zip file"
    report = tmp_path / "class.html"
    write_class_files(outcomes, SMALL, tmp_path / "grades.csv", report=report, seed=3)
    text = report.read_text(encoding="utf-8")
    page = dom(text)
    assert evil not in text and not page.all("img"), "a learner's text became markup"
    names = [tr.attrs["data-name"] for tr in page.all("tr", "student")]
    assert names == ["=alice", f"bob{evil}", "carol", "dave", "erin"], "names are shown as they are"
    assert f"told: {evil} and {evil}" in page.one("tr", "mistake", data_mistake="ex03.keeps_grad").parent.text()
    assert_self_contained(page, text)


def test_the_page_names_the_submissions_that_need_attention():
    outcomes = _small_class()
    outcomes[3].result["exercises"][0]["flags"] = ["read solutions/ex01_enable_tracking.py"]
    outcomes[2].result["integrity"] = {"ok": False, "modified": ["checks/test_ex03_sgd_step.py"]}
    page = dom(render_class_report(outcomes, SMALL))
    rows = {tr.attrs["data-name"]: tr.text() for tr in page.all("tr", "attention")}
    assert set(rows) == {"carol", "dave", "erin"}
    assert "checks modified" in rows["carol"] and "ex01 read the solutions" in rows["dave"]
    assert "not a valid zip file" in rows["erin"]


def test_batch_report_option_reaches_run_batch(tmp_path, monkeypatch, capsys):
    import grading.classroom.batch
    from grading.cli import main

    calls = []
    monkeypatch.setattr(grading.classroom.batch, "run_batch", lambda *a, **k: calls.append(k) or [])
    (tmp_path / "subs").mkdir()
    assert main(["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"), "--report",
                 str(tmp_path / "class.html")]) == 0
    assert calls[-1]["report"] == tmp_path / "class.html"
    assert main(["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv")]) == 0
    assert calls[-1]["report"] is None
    capsys.readouterr()
    assert main(["ex03", "--report", "x.html"]) == 2, "--report belongs to batch"
    assert "--report" in capsys.readouterr().err


# ------------------------------------------------------------------ every corpus file, as a class


@pytest.mark.timeout(900)  # the first of the session's corpus requests grades the whole corpus
def test_mistakes_csv_counts_the_corpus_exactly(tmp_path, tmp_path_factory):
    """Every `wrong_*.py` of the corpus as a submission of its own (with the right ones, the
    solutions and the stubs): each wrong file is counted once for the mistake it declares (and
    once for any other known mistake its checks name: a file that switches a model to eval mode
    also leaves its mode changed), however many of its checks name it; correct code and untouched
    stubs are counted for none; the page's tables show the same counts. The results come from the
    session's cached grading of the corpus."""
    outcomes = [outcome("solutions", solution_run()), outcome("stubs", stub_run(tmp_path_factory))]
    files = {}
    for ex in CATALOG:
        for path in sorted((CORPUS / ex.id).glob("*.py")) if (CORPUS / ex.id).is_dir() else []:
            result = corpus_result(tmp_path_factory, ex.id, path)
            outcomes.append(outcome(f"{ex.short}-{path.stem}", RunResult(str(path), 0, [result])))
            files[outcomes[-1].name] = path
    assert len(outcomes) > 200

    # what each submission made, from its own report
    expected, problems, repeated = Counter(), [], 0
    for o in outcomes:
        made = made_mistakes(o.result)
        expected.update(made)
        path = files.get(o.name)
        said = {(path.parent.name, m) for m in declared_mistakes(path)} if path else set()
        if path is not None and path.name.startswith("wrong_"):
            if not said <= made:
                problems.append(f"{path.relative_to(CORPUS)} declares {sorted(m for _, m in said)}, "
                                f"its checks name {sorted(m for _, m in made)}")
        elif made:
            problems.append(f"{o.name} is correct or untouched, yet its checks name {sorted(m for _, m in made)}")
        names = [c["mistake"] for e in o.result["exercises"] for c in e["checks"]
                 if c.get("mistake") and c["status"] != "passed"]
        repeated += len(names) > len(set(names))
    assert not problems, "\n".join(problems)
    assert sum(bool(declared_mistakes(p)) for p in files.values()), 'no corpus file declares its mistake (MISTAKE = "exNN.name")'
    assert repeated, "no submission had a mistake named by several checks: counting each once is not put to the test"

    rows = write_mistakes_csv(outcomes, CATALOG, tmp_path / "mistakes.csv")
    table = read_csv(tmp_path / "mistakes.csv")
    counted = {(r["exercise"], r["mistake"]): int(r["submissions"]) for r in table}
    assert counted == dict(expected), {k: (counted.get(k), expected.get(k)) for k in set(counted) | set(expected)
                                       if counted.get(k) != expected.get(k)}
    order = {ex.id: n for n, ex in enumerate(CATALOG)}
    keys = [(order[r["exercise"]], -int(r["submissions"])) for r in table]
    assert keys == sorted(keys), "rows go by exercise, then most frequent first"
    for r in table:
        assert float(r["share"]) == pytest.approx(int(r["submissions"]) / len(outcomes), abs=5e-5)
        assert (r["exercise"], r["mistake"]) in made_mistakes(next(o.result for o in outcomes if o.name == r["example"]))
        assert r["title"], f"{r['mistake']} has no title"
    assert [(m.exercise, m.id, m.count) for m in rows] == [(r["exercise"], r["mistake"], int(r["submissions"]))
                                                           for r in table]

    assert_page_shows_top_mistakes(dom(render_class_report(outcomes, CATALOG, mistakes=rows)), counted)


# ------------------------------------------------------------------ a real batch, in a real browser


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_BROWSER = "apt-get update && apt-get install -y chromium"


def browser_required(environ=os.environ) -> bool:
    """Whether a missing browser fails the test instead of skipping it: where CI runs (`CI=true`, as
    CI services set it) or `KATA_REQUIRE_BROWSER=1` asks for it."""
    return any(environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")
               for name in ("CI", "KATA_REQUIRE_BROWSER"))


def chromium() -> str:
    """The headless browser's command. None found: a failure in CI (or with KATA_REQUIRE_BROWSER=1),
    elsewhere a skip that says what was not checked and how to install one."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    missing = (f"no Chromium found ({', '.join(BROWSERS[:3])}), so the class report was not checked in a real "
               f"browser. On Debian or Ubuntu: `{INSTALL_BROWSER}`")
    if browser_required():
        pytest.fail(f"{missing} (a browser is required here: CI or KATA_REQUIRE_BROWSER is set).")
    pytest.skip(f"{missing}; CI=true or KATA_REQUIRE_BROWSER=1 makes a missing browser a failure.")


@pytest.mark.parametrize("environ, required", [
    ({}, False), ({"CI": "true"}, True), ({"CI": "1"}, True), ({"CI": "false"}, False),
    ({"KATA_REQUIRE_BROWSER": "1"}, True), ({"KATA_REQUIRE_BROWSER": "0"}, False),
], ids=["alone", "CI=true", "CI=1", "CI=false", "required", "not-required"])
def test_a_missing_browser_is_a_skip_alone_and_a_failure_where_one_is_required(tmp_path, monkeypatch, environ, required):
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder with no browser in it
    for name in ("CI", "KATA_REQUIRE_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(pytest.fail.Exception if required else pytest.skip.Exception) as raised:
        chromium()
    assert "no Chromium found" in str(raised.value) and INSTALL_BROWSER in str(raised.value)


def test_without_a_browser_the_readme_test_command_passes_and_its_summary_says_what_was_skipped(tmp_path):
    """What a newcomer without Chromium sees: `python -m pytest` exits 0, and the closing summary
    names the skipped test, why, and the command that installs a browser."""
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "KATA_REQUIRE_BROWSER", "PYTEST_ADDOPTS")}
    proc = subprocess.run([sys.executable, "-m", "pytest",
                           "tests/test_class_report.py::test_class_report_in_a_real_browser"],
                          cwd=ROOT, env={**environ, "PATH": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout[proc.stdout.index("short test summary info"):]
    assert "SKIPPED [1]" in summary and "no Chromium found" in summary and INSTALL_BROWSER in summary, summary
    assert "1 skipped" in summary.splitlines()[-1], summary


def browse(tmp_path: Path, *args: str, url: str, size=(1366, 900)) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={size[0]},{size[1]}",
               *args, url]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=90,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert proc.returncode == 0, f"{' '.join(command)} failed: {proc.stderr[-2000:]}"
    return proc


def png_size(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pixels, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            pixels += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(pixels)


MEASURE = """<script>
(function () {
  var out = {page: document.documentElement.scrollWidth, window: window.innerWidth, bins: [], rates: []};
  document.querySelectorAll("rect.bin").forEach(function (r) { out.bins.push(r.getBoundingClientRect().height); });
  document.querySelectorAll("g.exercise-bar").forEach(function (g) {
    var track = g.querySelector("rect.track").getBoundingClientRect().width;
    var passed = g.querySelector("rect.seg.passed");
    out.rates.push(passed ? passed.getBoundingClientRect().width / track : 0);
  });
  var pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def _class_of_twelve(subs: Path) -> dict[str, tuple[str, Path | None]]:
    """Twelve submissions: two complete solutions, the stubs, seven known-wrong files of the corpus
    (one exercise each; two of them make the same mistake where the corpus has such a pair), one
    that reads the reference solution and one broken zip. Returns name -> (kind, corpus file)."""
    made: dict[str, tuple[str, Path | None]] = {}
    for name in ("alice", "bob"):
        (subs / name).mkdir(parents=True)
        for ex in CATALOG:
            shutil.copy(SOLUTIONS_DIR / ex.filename, subs / name / ex.filename)
        made[name] = ("solution", None)
    (subs / "carol").mkdir()
    for ex in CATALOG:
        (subs / "carol" / ex.filename).write_text(stub_for(ex), encoding="utf-8")
    made["carol"] = ("stub", None)

    wrong = [(ex, p) for ex in CATALOG for p in sorted((CORPUS / ex.id).glob("wrong_*.py"))]
    by_mistake: dict[str, list] = {}
    for ex, p in wrong:
        for mistake in declared_mistakes(p):
            by_mistake.setdefault(mistake, []).append((ex, p))
    pair = next((files[:2] for files in by_mistake.values() if len(files) >= 2), [])
    singles = list(dict.fromkeys(files[0] for files in by_mistake.values() if files[0] not in pair))
    turn = {f: sum(g[0] == f[0] for g in singles[:n]) for n, f in enumerate(singles)}
    singles.sort(key=turn.get)  # one file of each exercise, then a second of each, ...
    chosen = (pair + singles + [f for f in wrong if f not in pair and f not in singles])[:7]
    names = ["dave <img src=x onerror=alert(1)>", "erin", "frank", "grace", "heidi", "ivan", "judy"]
    for name, (ex, path) in zip(names, chosen):
        (subs / name).mkdir()
        shutil.copy(path, subs / name / ex.filename)
        made[name] = ("wrong", path)

    (subs / "mallory").mkdir()
    reads = f"open({str(SOLUTIONS_DIR / EX01.filename)!r}).read()\n"
    (subs / "mallory" / EX01.filename).write_text(reads + (SOLUTIONS_DIR / EX01.filename).read_text(), encoding="utf-8")
    made["mallory"] = ("reads", None)
    (subs / "oscar.zip").write_text("not a zip", encoding="utf-8")
    made["oscar"] = ("broken", None)
    assert len(made) == 12
    return made


def test_class_report_in_a_real_browser(tmp_path):
    chromium()  # before grading: a missing browser is said at once, with how to install one
    subs = tmp_path / "submissions"
    subs.mkdir()
    made = _class_of_twelve(subs)
    out, report = tmp_path / "grades.csv", tmp_path / "report" / "class.html"
    outcomes = run_batch(subs, CATALOG, out, jobs=2, seed=11, timeout=10, memory_mb=2048, feedback=None,
                         report=report)
    grades = {r["submission"]: r for r in read_csv(out)}
    mistakes = read_csv(tmp_path / "mistakes.csv")
    assert set(grades) == set(made) and len(outcomes) == 12
    assert f"{EX01.short} read the solutions" in grades["mallory"]["integrity"]
    assert grades["oscar"]["status"].startswith("error:")

    # mistakes.csv counts what the reports say, a submission once per mistake; each wrong file
    # made the mistake it declares
    recount = Counter(k for o in outcomes if o.result is not None for k in made_mistakes(o.result))
    assert {(r["exercise"], r["mistake"]): int(r["submissions"]) for r in mistakes} == dict(recount)
    for o in outcomes:
        kind, path = made[o.name]
        if kind == "wrong":
            assert {(path.parent.name, m) for m in declared_mistakes(path)} <= made_mistakes(o.result), o.name
        elif kind in ("solution", "stub"):
            assert not made_mistakes(o.result), f"{o.name}: a {kind} made a known mistake"
    assert mistakes and max(int(r["submissions"]) for r in mistakes) >= 2, "the class was meant to share a mistake"

    page_url = report.resolve().as_uri()
    text = browse(tmp_path, "--dump-dom", url=page_url).stdout
    page = dom(text)
    assert_self_contained(page, text)
    assert page.one("table", data_sortable="ready"), "the table's script did not run in the browser"
    assert not page.all("img"), "a learner's name became markup"

    # the students' table: a row per submission, totals and states as in the gradebook
    students = page.all("tr", "student")
    assert len(students) == 12
    for tr in students:
        row = grades[tr.attrs["data-name"]]
        cells = tr.all("td")
        total = cells[0].text().strip()
        assert total == (row["total"] if row["status"] == "graded" else "\u2013"), (tr.attrs["data-name"], total)
        for ex, cell in zip(CATALOG, cells[1:]):
            state = next(s for s in STATES if s in cell.attrs["class"].split()) if row["status"] == "graded" else None
            assert (state == "passed") == (row[ex.id] == f"{ex.points:g}"), (tr.attrs["data-name"], ex.id, state)

    # the histogram: its bins over 0..39, counts from the gradebook's totals
    totals = [float(r["total"]) for r in grades.values() if r["status"] == "graded"]
    bins = page.all("rect", "bin")
    assert len(bins) == histogram_bins(CATALOG.max_score)[1] == 10
    assert [int(b.attrs["data-count"]) for b in bins] == bin_counts(totals, CATALOG.max_score)
    assert sum(int(b.attrs["data-count"]) for b in bins) == 11

    # the pass rates: a bar per exercise, the passes of the gradebook
    bars = page.all("g", "exercise-bar")
    assert [b.attrs["data-exercise"] for b in bars] == [ex.id for ex in CATALOG]
    for ex, bar in zip(CATALOG, bars):
        passes = sum(r["status"] == "graded" and r[ex.id] == f"{ex.points:g}" for r in grades.values())
        assert (int(bar.attrs["data-passed"]), int(bar.attrs["data-graded"])) == (passes, 11), ex.id
        assert f"({passes}/11)" in bar.text()

    # the mistakes' tables show mistakes.csv, with the message a learner saw
    assert_page_shows_top_mistakes(page, {(r["exercise"], r["mistake"]): int(r["submissions"]) for r in mistakes})
    for r in mistakes:
        row = page.one("tr", "mistake", data_exercise=r["exercise"], data_mistake=r["mistake"])
        message = row.parent.children[row.parent.children.index(row) + 1]
        assert message.all("div", "message") and message.text().strip(), f"{r['mistake']}: no explanation shown"

    # who needs attention
    attention = {tr.attrs["data-name"]: tr.text() for tr in page.all("tr", "attention")}
    assert set(attention) == {n for n, r in grades.items() if r["status"] != "graded" or r["integrity"] != "ok"}
    assert {"mallory", "oscar"} <= set(attention)
    assert "not a valid zip file" in attention["oscar"] and "read the solutions" in attention["mallory"]

    # as laid out on a laptop's screen, sorted by total (#sort=total): bars as tall as their counts,
    # nothing wider than the window. A script that measures is added (and allowed by its hash).
    original = report.read_text(encoding="utf-8")
    measure = MEASURE.removeprefix("<script>").removesuffix("</script>")
    allowed = base64.b64encode(hashlib.sha256(measure.encode()).digest()).decode()
    measured_page = report.with_name("measured.html")
    measured_page.write_text(original.replace("script-src ", f"script-src 'sha256-{allowed}' ", 1)
                             .replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    sorted_page = dom(browse(tmp_path, "--dump-dom", url=measured_page.as_uri() + "#sort=total").stdout)
    order = [tr.attrs["data-name"] for tr in sorted_page.all("tr", "student")]
    by_total = sorted(grades, key=lambda n: (-float(grades[n]["total"]) if grades[n]["status"] == "graded"
                                            else 1, n.casefold()))
    assert order == by_total, "#sort=total: by total, highest first, then by name"
    measured = json.loads(sorted_page.one("pre", id="measured").text())
    assert measured["page"] <= measured["window"], f"the page is wider than a laptop's window: {measured}"
    counts = bin_counts(totals, CATALOG.max_score)
    tallest = max(measured["bins"])
    for count, height in zip(counts, measured["bins"]):
        assert height == pytest.approx(tallest * count / max(counts), abs=1.0), (counts, measured["bins"])
    for bar, share in zip(bars, measured["rates"]):
        assert share == pytest.approx(int(bar.attrs["data-passed"]) / 11, abs=0.01), (bar.attrs, share)

    # a screenshot, and a print
    shot = tmp_path / "class-report.png"
    browse(tmp_path, f"--screenshot={shot}", url=page_url, size=(1366, 900))
    width, height, pixels = png_size(shot)
    assert (width, height) == (1366, 900)
    assert len(set(pixels)) > 16, "the screenshot is blank"
    pdf = tmp_path / "class-report.pdf"
    browse(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url=page_url)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
