"""The Gradescope bundle: setup.sh refuses a Python that cannot grade; run_autograder grades as an
unprivileged user, and only its root part writes /autograder/results/results.json, after checking
the report."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from grading import SOLUTIONS_DIR
from grading.classroom.export import export_gradescope, render_setup_sh

from .conftest import CATALOG
from .test_gradescope_format import assert_valid, load_helper

EX = CATALOG["ex03_sgd_step"]
HOSTILE_EX = CATALOG["ex01_enable_tracking"]


# ------------------------------------------------------------------ setup.sh


def _fake_python(folder: Path, says: str, *, to_stderr: bool = False) -> Path:
    """A `python3` that answers every call with `says` (what `python3 --version` prints)."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "python3"
    fake.write_text(f"#!/bin/sh\necho '{says}'{' >&2' if to_stderr else ''}\nexit 0\n", encoding="utf-8")
    fake.chmod(0o755)
    return folder


def _setup(tmp_path: Path, fake_dir: Path | None, *args: str, **env) -> subprocess.CompletedProcess:
    script = tmp_path / "setup.sh"
    script.write_text(render_setup_sh(), encoding="utf-8", newline="\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KATA_")}
    if fake_dir is not None:
        environment["PATH"] = f"{fake_dir}:/usr/bin:/bin"
    environment.update(env)
    return subprocess.run(["bash", str(script), *args], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("says,to_stderr", [("Python 3.8.10", False), ("Python 3.9.18", False),
                                            ("Python 2.7.18", True)])
def test_setup_fails_the_build_on_a_python_older_than_3_10(tmp_path, says, to_stderr):
    """Before anything is installed: a build that goes green would give every student 0."""
    proc = _setup(tmp_path, _fake_python(tmp_path / "bin", says, to_stderr=to_stderr))
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert says.split()[1] in proc.stderr and "needs Python 3.10 or newer" in proc.stderr, proc.stderr
    assert "base image" in proc.stderr  # what to do about it
    assert "installing" not in proc.stdout, "the check must come before any installation"


def test_setup_accepts_python_3_10_and_says_what_is_missing(tmp_path):
    proc = _setup(tmp_path, _fake_python(tmp_path / "bin", "Python 3.10.12"), "--check")
    assert proc.returncode == 0, proc.stderr
    assert "using Python 3.10.12" in proc.stdout
    proc = _setup(tmp_path, None, "--check", KATA_PYTHON=str(tmp_path / "no-such-python"))
    assert proc.returncode != 0 and "there is no" in proc.stderr and "3.10 or newer" in proc.stderr
    proc = _setup(tmp_path, _fake_python(tmp_path / "odd", "command not found"), "--check")
    assert proc.returncode != 0 and "not a Python version" in proc.stderr


# ------------------------------------------------------------------ run_autograder


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return export_gradescope(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def _how_to_drop() -> tuple[str | None, dict[str, str]]:
    """(unprivileged user, environment for run_autograder), or (None, {}) where this machine cannot
    switch users (not root, or no runuser)."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return None, {}
    user = pwd.getpwnam("nobody")
    env = {"KATA_AUTOGRADER_USER": user.pw_name}
    probe = subprocess.run(["runuser", "-u", user.pw_name, "--", sys.executable, "-c", "import torch"],
                           capture_output=True, timeout=120)
    if probe.returncode != 0:
        # This interpreter lives where an unprivileged user cannot read it (under /root): that user
        # may read and search everything (CAP_DAC_READ_SEARCH), and still write nothing it does not own.
        assert shutil.which("setpriv"), "no way to run this machine's Python as another user"
        env["KATA_AUTOGRADER_RUNAS"] = (f"setpriv --reuid={user.pw_uid} --regid={user.pw_gid} --clear-groups "
                                        "--inh-caps=+dac_read_search --ambient-caps=+dac_read_search")
    return user.pw_name, env


def _attempts(paths: dict[str, Path]) -> str:
    """A module that tries, at import, to write where a student's code must not, and reports how
    each attempt ended through an exception its exercise's checks show."""
    lines = ["import os", "TRIED = []"]
    for label, path in paths.items():
        lines += [
            "try:",
            f"    with open({str(path)!r}, 'a') as fh:",
            "        fh.write('written by the submission')",
            f"    TRIED.append({label!r} + ': written')",
            "except OSError as exc:",
            f"    TRIED.append({label!r} + ': ' + type(exc).__name__)",
        ]
    lines += ["", "", f"def {HOSTILE_EX.function}(t):",
              "    raise RuntimeError('attempts: ' + '; '.join(TRIED))", ""]
    return "\n".join(lines)


def test_run_autograder_grades_as_an_unprivileged_user_and_checks_the_report(bundle):
    user, env = _how_to_drop()
    # a folder every user can traverse (pytest's own is private to root)
    base = Path(tempfile.mkdtemp(prefix="kata-autograder-"))
    try:
        base.chmod(0o755)
        root = base / "autograder"
        (root / "submission").mkdir(parents=True)
        (root / "results").mkdir()
        with zipfile.ZipFile(bundle) as zf:
            zf.extractall(root / "source")
            shipped = {n: zf.read(n) for n in zf.namelist()}
        shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
        targets = {
            "results": root / "results" / "results.json",
            "results folder": root / "results" / "planted.txt",
            "source": root / "source" / "checks" / HOSTILE_EX.check_file.name,
            "engine": root / "source" / "grading" / "planted.py",
        }
        submission = root / "submission"
        (submission / EX.filename).write_text((SOLUTIONS_DIR / EX.filename).read_text(encoding="utf-8"),
                                              encoding="utf-8")
        (submission / HOSTILE_EX.filename).write_text(_attempts(targets), encoding="utf-8")

        environment = {**{k: v for k, v in os.environ.items() if not k.startswith("KATA_")},
                       "KATA_AUTOGRADER_ROOT": str(root), "KATA_PYTHON": sys.executable,
                       "KATA_AUTOGRADER_ARGS": f"{EX.short} {HOSTILE_EX.short}", **env}
        proc = subprocess.run(["bash", str(root / "run_autograder")], env=environment, capture_output=True,
                              text=True, timeout=300)
        log = proc.stdout + proc.stderr
        assert proc.returncode == 0, log

        report = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        assert_valid(report)
        tests = {t["number"]: t for t in report["tests"]}
        assert tests[str(EX.number)]["score"] == EX.points, tests[str(EX.number)]["output"] + log[-3000:]
        hostile = tests[str(HOSTILE_EX.number)]
        assert hostile["score"] == 0
        if user is None:  # this machine cannot switch users: the fallback says so
            assert "without dropping privileges" in log, log
            return
        for label in targets:
            assert f"{label}: PermissionError" in hostile["output"], hostile["output"]
        assert f"grading as '{user}'" in log, log
        assert not (root / "results" / "planted.txt").exists() and not targets["engine"].exists()
        assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]
        checks = targets["source"].read_bytes()
        assert checks == shipped[f"checks/{HOSTILE_EX.check_file.name}"], "the submission changed a check"
        assert "INTEGRITY" not in report["output"]
        # the kata's files stay readable, not writable, by the grading user
        uid = pwd.getpwnam(user).pw_uid
        for path in (root / "source").rglob("*"):
            info = path.stat()
            assert info.st_uid != uid and not info.st_mode & 0o022, path
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_run_autograder_fails_closed_when_python_itself_cannot_run(tmp_path, bundle):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("KATA_")},
                   "KATA_AUTOGRADER_ROOT": str(root), "KATA_PYTHON": "false"}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=environment,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert_valid(report)
    assert report["score"] == 0 and "could not run" in report["output"]


# ------------------------------------------------------------------ the root part: --finish


def _report(points: float = EX.points) -> dict:
    return {"score": points, "output": "ok", "output_format": "md", "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [{"name": f"{EX.short} {EX.title}", "number": str(EX.number), "score": points,
                       "max_score": float(EX.points), "status": "passed", "output": "fine",
                       "output_format": "md", "visibility": "visible"}]}


def test_finish_copies_a_valid_report_and_fails_closed_on_anything_else(tmp_path):
    from grading import ROOT

    helper = load_helper()
    helper.sys.path.insert(0, str(ROOT))
    work, root = tmp_path / "work", tmp_path / "autograder"
    (work / "results").mkdir(parents=True)
    (root / "results").mkdir(parents=True)
    report, results = work / "results" / "results.json", root / "results" / "results.json"
    secret = tmp_path / "secret.txt"
    secret.write_text(json.dumps(_report()), encoding="utf-8")  # a report that would pass, but not the user's

    def finish() -> dict:
        results.unlink(missing_ok=True)
        assert helper.finish(report, root, ROOT) == 0
        data = json.loads(results.read_text(encoding="utf-8"))
        assert_valid(data)
        return data

    report.write_text(json.dumps(_report()), encoding="utf-8")
    data = finish()
    assert data["score"] == EX.points and data["tests"][0]["output"] == "fine"

    cases = {
        "missing": lambda: None,
        "not JSON": lambda: report.write_text("{", encoding="utf-8"),
        "a link to a file root can read": lambda: report.symlink_to(secret),
        "a FIFO": lambda: os.mkfifo(report),
        "more points than the catalog gives": lambda: report.write_text(json.dumps(_report(EX.points + 1))),
        "a score that is not its tests' sum": lambda: report.write_text(json.dumps({**_report(), "score": 39.0})),
        "an exercise twice": lambda: report.write_text(json.dumps(
            {**_report(), "score": 2 * EX.points, "tests": _report()["tests"] * 2})),
        "an unknown status": lambda: report.write_text(json.dumps(
            {**_report(), "tests": [{**_report()["tests"][0], "status": "great"}]})),
        "too large": lambda: report.write_bytes(b" " * (helper.MAX_REPORT_BYTES + 1)),
    }
    for what, make in cases.items():
        if report.is_symlink() or report.exists():
            report.unlink()
        make()
        data = finish()
        assert data["score"] == 0, what
        assert "not graded" in data["output"], (what, data["output"])
        assert all(t["score"] == 0 for t in data["tests"]) and len(data["tests"]) == len(CATALOG), what
