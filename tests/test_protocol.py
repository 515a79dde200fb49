"""The protocol between the grading processes and the options that travel in it: one typed request
(`grading.engine.request.Request`), one result type (`CheckResult`, inside `events.Result`), and
one options object (`grading.core.options.Options`), built once and read by no grading module
from the settings again."""

from __future__ import annotations

import ast
import json
import math

import pytest

from grading import ROOT
from grading.core.config import ConfigError
from grading.core.options import Options
from grading.core.results import CheckResult, CheckStatus
from grading.engine.events import TEXT_LIMIT, Result, parse
from grading.engine.request import Request


def test_options_resolve_once_from_the_command_line_then_the_environment_then_the_defaults(monkeypatch):
    monkeypatch.delenv("KATA_TIMEOUT", raising=False)
    monkeypatch.setenv("KATA_MEMORY_MB", "512")
    options = Options.resolve(timeout=3.0)
    assert options.timeout == 3.0 and options.memory_mb == 512 and options.isolation == "auto"
    assert Options.resolve(memory_mb=64).memory_mb == 64  # the command line first
    monkeypatch.setenv("KATA_JOBS", "many")
    assert Options.resolve().jobs == Options().jobs  # not on the command line: the default holds
    with pytest.raises(ConfigError, match="KATA_JOBS"):
        Options.resolve(strict=True)
    with pytest.raises(TypeError, match="no such grading option"):
        Options.resolve(timeuot=3)
    assert options.but(timeout=None, isolation="submission") == Options.resolve(timeout=3.0, isolation="submission")


def test_options_cross_a_pipe_whole_and_nothing_else_does():
    options = Options(timeout=2.5, memory_mb=None, sandbox="off")
    assert Options.from_json(json.loads(json.dumps(options.to_json()))) == options
    for bad in ({**options.to_json(), "sandbox": "of"}, {**options.to_json(), "timeout": "2"},
                {**options.to_json(), "jobs": True}, {"timeout": 1.0}, [], {**options.to_json(), "more": 1}):
        with pytest.raises(ValueError):
            Options.from_json(bad)


def test_a_request_crosses_to_a_fresh_interpreter_as_the_same_request():
    request = Request(files=["checks/test_ex01_enable_tracking.py"], target="/t", jobs=[[0, "/t", ["ex01_enable_tracking"]]],
                      seed=7, options=Options(timeout=4.0, compile_allowance=9.0), isolation="exercise", fork=False,
                      targets=["/t"], graph=["ex01_enable_tracking"])
    assert Request.from_json(json.loads(json.dumps(request.to_json()))) == request
    with pytest.raises(ValueError, match="unknown fields"):
        Request.from_json({**request.to_json(), "timeout": 4.0})  # the limits live in the options only
    assert request.but(standby_fd=5).standby_fd == 5 and request.standby_fd is None


def test_one_result_type_crosses_the_pipe():
    result = CheckResult("test_x[a]", CheckStatus.FAILED, message="wrong", duration=0.25, location="ex01.py:3",
                         mistake="ex01.copy", mistake_title="a copy")
    event = parse(Result("ex01_enable_tracking", result, target=2).to_json())
    assert isinstance(event, Result) and event.result == result and event.check == "test_x[a]" and event.target == 2
    assert isinstance(event.result.status, CheckStatus)
    line = json.loads(Result("ex01_enable_tracking", result).to_json())
    for broken in ({"status": "won"}, {"duration": math.inf}, {"message": "x" * (TEXT_LIMIT + 1)},
                   {"not_implemented": 1}, {"duration": True}, {"extra": 1}):
        assert parse(json.dumps({**line, "result": {**line["result"], **broken}})) is None, broken
    assert parse(json.dumps({**line, "result": {"status": "passed"}})) is None  # no name
    assert parse(json.dumps({**line, "result": "passed"})) is None


def test_no_grading_module_reads_the_settings_itself():
    """Only the options (grading/core/options.py) and the command line read the settings: the rest
    is handed an Options object."""
    allowed = {"grading/core/options.py", "grading/core/config.py"}
    readers = []
    for path in sorted((ROOT / "grading").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in allowed or name.startswith("grading/cli/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "grading.core.config":
                readers += [f"{name}: {a.name}" for a in node.names if a.name in ("setting", "setting_source", "seed")]
            elif isinstance(node, ast.Attribute) and node.attr in ("setting", "setting_source") \
                    and isinstance(node.value, ast.Name) and node.value.id == "config":
                readers.append(f"{name}: config.{node.attr}")
    assert not readers, readers
