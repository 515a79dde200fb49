"""Grade one Gradescope submission: called by `run_autograder` (in the exported bundle).

    python3 grading/classroom/autograder/gradescope.py --root WORK --source /autograder/source
    python3 -I grading/classroom/autograder/gradescope.py --finish WORK/results/results.json --root /autograder

The first form runs as the unprivileged grading user, on a copy of the submission:

1. Finds what to grade in ROOT/submission by batch's rule (`grading.classroom.intake.find_target`):
   the exNN_*.py files at its top, else the shallowest `exercises/` folder holding some, else the
   shallowest folder holding some, else a notebook (or the folder of notebooks); a .zip inside the
   submission is unpacked first when nothing else is there.
2. Runs `python3 grader.py --target T --format gradescope --output ROOT/results/results.json`
   from SOURCE, the instructor's copy of the kata (its checks grade, not the learner's).
3. Fails closed: when nothing can be graded, or the grader leaves no valid report, it writes a
   results.json with score 0 and a readable reason. It exits 0 in every case it can handle.

The second form runs as root: it reads the report the first left (a regular file, not a link,
of bounded size), checks it against Gradescope's format and the catalog's points, and writes it
to ROOT/results/results.json; a missing or invalid report becomes one that fails closed.

Standard library only (torch is imported by the grader, in its own process).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

TAIL = 3000  # characters of the grader's own messages shown when it leaves no report
MAX_REPORT_BYTES = 8 * 2**20  # a report larger than this is not the grader's
VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
FORMATS = ("text", "simple_format", "html", "md", "ansi")


class NothingToGrade(Exception):
    """The submission holds nothing gradable; the message is for the learner."""


def find_target(submission: Path) -> Path:
    """The folder (or notebook) of the submission to pass to `grader.py --target`: batch's rule
    (`grading.classroom.intake.find_target`, from the instructor's copy of the kata)."""
    from grading.classroom.intake import SubmissionError, find_target as batch_find_target

    try:
        return batch_find_target(submission)
    except SubmissionError as exc:
        raise NothingToGrade(str(exc)) from None


def _unpack_zips(submission: Path, scratch: Path) -> Path | None:
    """A submission that is only .zip files: unpack them (safely) into scratch and return it."""
    from grading.classroom.intake import SubmissionError, _safe_extract

    zips = sorted(p for p in submission.glob("*") if p.is_file() and p.suffix.lower() == ".zip")
    if not zips:
        return None
    for n, archive in enumerate(zips):
        dest = scratch / f"{n:02d}-{archive.stem}"
        dest.mkdir(parents=True)
        try:
            _safe_extract(archive, dest)
        except SubmissionError as exc:
            raise NothingToGrade(str(exc)) from None
    return scratch


def _catalog(source: Path):
    from grading.core.catalog import load_catalog

    return load_catalog(source / "exercises" / "catalog.toml")


def _catalog_tests(source: Path, reason: str) -> list[dict]:
    """One test per exercise at 0 points, so that the gradebook shows what was not graded."""
    from grading.reports.formats import md_text

    try:
        catalog = _catalog(source)
    except Exception:  # noqa: BLE001 - fail closed with fewer details
        return []
    return [{
        "name": f"{ex.short} {ex.title}", "number": str(ex.number), "score": 0.0,
        "max_score": float(ex.points), "status": "failed", "output": md_text(f"Not graded: {reason}"),
        "output_format": "md", "visibility": "visible",
    } for ex in catalog]


def fail_closed(results: Path, source: Path, reason: str, advice: str = "", details: str = "") -> None:
    """A report with zeros and the reason (markdown; `details`, the grader's own words, as code)."""
    from grading.reports.formats import md_block, md_text

    text = md_text(f"Your submission was not graded: {reason}.")
    if advice:
        text += "\n\n" + md_text(advice)
    if details:
        text += "\n\n" + md_text("The grader said:") + "\n\n" + md_block(details)
    payload = {
        "score": 0.0,
        "output": text,
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": _catalog_tests(source, reason),
    }
    _write_json(results, payload)


def _write_json(path: Path, payload: dict) -> None:
    from grading.core.atomic import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(payload, indent=2) + "\n")


def read_report(path: Path) -> dict | None:
    """The grader's report, if it is a usable Gradescope results.json."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        return None
    if not isinstance(data.get("score"), (int, float)) or isinstance(data.get("score"), bool):
        return None
    return data


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
        and abs(value) != float("inf")


def report_problem(data, points: dict[str, float] | None = None) -> str | None:
    """Why `data` is not a report to hand to Gradescope (None if it is one). The shape follows
    Gradescope's specification; with `points` (test number -> the catalog's points) a report also
    has to keep to the catalog: each test at most once, no score above its points."""
    if not isinstance(data, dict):
        return "it is not a JSON object"
    if not _number(data.get("score")):
        return "it has no numeric score"
    tests = data.get("tests")
    if not isinstance(tests, list):
        return "it has no list of tests"
    for key in ("output", "output_format", "visibility", "stdout_visibility"):
        if key in data and not isinstance(data[key], str):
            return f"its {key} is not text"
    if data.get("output_format", "text") not in FORMATS:
        return "its output_format is unknown"
    for key in ("visibility", "stdout_visibility"):
        if data.get(key, "visible") not in VISIBILITY:
            return f"its {key} is unknown"
    seen = set()
    for test in tests:
        if not isinstance(test, dict):
            return "a test is not a JSON object"
        for key in ("score", "max_score"):
            if key in test and not _number(test[key]):
                return f"a test's {key} is not a number"
        for key in ("name", "number", "output", "output_format", "visibility"):
            if key in test and not isinstance(test[key], str):
                return f"a test's {key} is not text"
        if test.get("status", "passed") not in ("passed", "failed"):
            return "a test's status is neither passed nor failed"
        if test.get("output_format", "text") not in FORMATS or test.get("visibility", "visible") not in VISIBILITY:
            return "a test's output_format or visibility is unknown"
        if points is not None:
            number = test.get("number")
            if number not in points or number in seen:
                return f"test number {number!r} is not an exercise of the catalog, or comes twice"
            seen.add(number)
            if test.get("max_score") != points[number] or not 0 <= test.get("score", 0) <= points[number]:
                return f"the scores of test {number} do not match the catalog's {points[number]:g} points"
    if points is not None and abs(sum(t.get("score", 0) for t in tests) - data["score"]) > 1e-6:
        return "its score is not the sum of its tests' scores"
    return None


def _read_untrusted(path: Path) -> bytes:
    """The bytes of `path`, a file the grading user could have replaced: never through a link,
    never a FIFO or device, never more than MAX_REPORT_BYTES."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path.name} is not a regular file")
        if info.st_size > MAX_REPORT_BYTES:
            raise OSError(f"{path.name} is larger than {MAX_REPORT_BYTES // 2**20} MB")
        chunks, size = [], 0
        while size <= MAX_REPORT_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_REPORT_BYTES:
            raise OSError(f"{path.name} is larger than {MAX_REPORT_BYTES // 2**20} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def finish(report: Path, root: Path, source: Path) -> int:
    """As root: copy the grading user's report to ROOT/results/results.json once it has been
    checked, or write the fail-closed report instead."""
    results = root / "results" / "results.json"
    try:
        data = json.loads(_read_untrusted(report).decode("utf-8"))
    except FileNotFoundError:
        problem = "the grader left no report"
    except (OSError, ValueError) as exc:
        problem = f"the grader's report cannot be read ({exc})"
    else:
        try:
            points = {str(ex.number): float(ex.points) for ex in _catalog(source)}
        except Exception:  # noqa: BLE001 - the shape alone is checked
            points = None
        problem = report_problem(data, points)
        if problem is not None:
            problem = f"the grader's report is not valid: {problem}"
    if problem is not None:
        print(problem)
        fail_closed(results, source, problem, "Please tell your instructor.")
        return 0
    _write_json(results, data)
    print(f"results.json written: score {data['score']:g}")
    return 0


def _shown(target: Path, submission: Path, scratch: Path) -> str:
    try:
        rel = target.relative_to(submission).as_posix()
    except ValueError:  # unpacked from a zip of the submission: "sub.zip: myrepo/exercises/"
        parts = target.relative_to(scratch).parts
        archive = parts[0].split("-", 1)[-1] + ".zip"
        inner = "/".join(parts[1:])
        return f"{archive}: {inner}/" if target.is_dir() and inner else f"{archive}: {inner or 'its top'}"
    if rel in ("", "."):
        return "the files at the top of your submission"
    return f"{rel}/" if target.is_dir() else rel


def _run_grader(cmd: list[str], source: Path, timeout: float | None) -> tuple[int | None, str]:
    """Run the grader; (exit code or None if it was stopped, its combined output)."""
    proc = subprocess.Popen(cmd, cwd=source, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        out, _ = proc.communicate()
        return None, out.decode("utf-8", "replace")


def grade(root: Path, source: Path) -> int:
    submission = root / "submission"
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        results.unlink()  # a stale report must never pass for this submission's
    except FileNotFoundError:
        pass
    advice = ("Upload your exercise files (`exNN_name.py`, for example `ex03_sgd_step.py`), your `exercises/` "
              "folder or your notebooks, then submit again.")
    with tempfile.TemporaryDirectory(prefix="kata-submission-") as scratch:
        try:
            try:
                target = find_target(submission)
            except NothingToGrade:
                unpacked = _unpack_zips(submission, Path(scratch)) if submission.is_dir() else None
                if unpacked is None:
                    raise
                target = find_target(unpacked)
        except NothingToGrade as exc:
            print(f"nothing to grade: {exc}")
            fail_closed(results, source, str(exc), advice)
            return 0
        shown = _shown(target, submission, Path(scratch))
        print(f"grading {target} ({shown})", flush=True)
        cmd = [sys.executable, "grader.py", "--target", str(target), "--format", "gradescope",
               "--output", str(results)]
        cmd += shlex.split(os.environ.get("KATA_AUTOGRADER_ARGS", ""))
        limit = float(os.environ["KATA_AUTOGRADER_TIMEOUT"]) if os.environ.get("KATA_AUTOGRADER_TIMEOUT") else None
        code, output = _run_grader(cmd, source, limit)
    if output.strip():
        print(output.rstrip())
    print(f"grader.py exited with {code}" if code is not None else f"grader.py was stopped after {limit:g} s")

    report = read_report(results)
    if report is None:
        tail = output.strip()[-TAIL:]
        how = f"exit code {code}" if code is not None else f"stopped after {limit:g} s"
        fail_closed(results, source, f"the grader left no report ({how})", "Please tell your instructor.", tail)
        return 0
    from grading.reports.formats import md_text

    notes = [md_text(f"Graded: {shown}.")]
    if code is None:
        notes.append(md_text(f"Grading was stopped after {limit:g} s: the exercises without a result score 0."))
    report["output"] = "\n\n".join(notes + [str(report.get("output", ""))]).rstrip()
    report["output_format"] = "md"
    _write_json(results, report)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=os.environ.get("KATA_AUTOGRADER_ROOT", "/autograder"))
    p.add_argument("--source", default=None, help="the kata's folder (default: the one holding this file)")
    p.add_argument("--finish", metavar="REPORT", default=None,
                   help="check the grading user's REPORT and write it to ROOT/results/results.json")
    args = p.parse_args(argv)
    source = Path(args.source).resolve() if args.source else Path(__file__).resolve().parents[3]
    sys.path.insert(0, str(source))  # the instructor's grading package, for the catalog and safe unzip
    root = Path(args.root).resolve()
    try:
        if args.finish:
            return finish(Path(args.finish), root, source)
        return grade(root, source)
    except Exception as exc:  # noqa: BLE001 - Gradescope must get a report whatever happens
        fail_closed(root / "results" / "results.json", source,
                    f"the autograder failed ({type(exc).__name__}: {exc})", "Please tell your instructor.")
        raise


if __name__ == "__main__":
    sys.exit(main())
