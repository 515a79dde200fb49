"""A hostile submission beside correct exercises: every correct one gets its points, every
hostile one none, with a clear status, and the run finishes within its limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from grading import SOLUTIONS_DIR

from .conftest import CATALOG
from .test_classroom import kata_copy


def function_source(ex, body: str, before: str = "") -> str:
    return (f"import os, sys, time\n{before}\n\ndef {ex.function}(*args, **kwargs):\n"
            + "".join(f"    {line}\n" for line in body.splitlines()))


# (what it does, module text maker, statuses it may end with, a fragment of its message)
HOSTILE = [
    ("infinite loop", lambda ex: function_source(ex, "while True:\n    pass"), {"error"}, "ran out of time"),
    ("os._exit", lambda ex: function_source(ex, "os._exit(0)"), {"error"}, "exited with code 0"),
    ("sys.exit at import", lambda ex: "import sys\nsys.exit(3)\n", {"error"}, "raised SystemExit"),
    ("segfault", lambda ex: function_source(ex, "import ctypes\nctypes.string_at(0)"), {"error"}, "SIGSEGV"),
    ("memory hog", lambda ex: function_source(ex, "hog = []\nwhile True:\n    hog.append(bytearray(10**7))"),
     {"error", "failed"}, "out of memory"),
    ("print flood", lambda ex: function_source(ex, "for _ in range(200):\n    print('x' * 100_000)\nreturn None"),
     {"failed", "error"}, ""),
    ("syntax error", lambda ex: f"def {ex.function}(:\n    pass\n", {"error"}, "SyntaxError"),
    ("grad mode off at import",  # no other exercise may feel it
     lambda ex: ("import torch\ntorch.set_grad_enabled(False)\ntorch.set_default_dtype(torch.float64)\n"
                 f"def {ex.function}(*args, **kwargs):\n    raise NotImplementedError\n"), {"not_started"}, ""),
    ("monkeypatched backward",
     lambda ex: ("import torch\ntorch.Tensor.backward = lambda self, *a, **k: None\n"
                 f"def {ex.function}(*args, **kwargs):\n    raise NotImplementedError\n"), {"not_started", "error"}, ""),
    ("imports the solution",  # passes its checks, but is flagged and scores 0
     lambda ex: ("import importlib.util as _u, os, sys\n"
                 "_kata = os.path.dirname(os.path.dirname(sys.modules['grading'].__file__))\n"
                 f"_s = _u.spec_from_file_location('_ref', os.path.join(_kata, 'solutions', {ex.filename!r}))\n"
                 f"_m = _u.module_from_spec(_s)\n_s.loader.exec_module(_m)\n{ex.function} = _m.{ex.function}\n"),
     {"passed"}, None),
]


@pytest.mark.parametrize("isolation", ["exercise", "submission"])
def test_a_hostile_submission_cannot_hurt_the_others(tmp_path, isolation):
    exercises = list(CATALOG)
    assert len(exercises) >= len(HOSTILE) + 3, "the hostile folder needs correct exercises beside it"
    hostile = dict(zip((ex.id for ex in exercises), HOSTILE))
    tampered = exercises[len(HOSTILE)]  # its check is edited in the kata copy
    kata = kata_copy(tmp_path)
    check = kata / "checks" / tampered.check_file.name
    check.write_text(check.read_text() + "\n# edited by the learner\n")
    submission = tmp_path / "submission"
    submission.mkdir()
    for ex in exercises:
        maker = hostile.get(ex.id)
        text = maker[1](ex) if maker else (SOLUTIONS_DIR / ex.filename).read_text()
        (submission / ex.filename).write_text(text)

    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "grader.py", "--target", str(submission), "--format", "gradescope", "--timeout", "2",
         "--memory-mb", "256", "--seed", "11", "--isolation", isolation],
        cwd=kata, capture_output=True, text=True, timeout=600, env=dict(os.environ, KATA_START_METHOD="fork"),
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    tests = {t["number"]: t for t in report["tests"]}
    for ex in exercises:
        test = tests[str(ex.number)]
        if ex.id in hostile:
            what = hostile[ex.id][0]
            assert test["score"] == 0, f"{what} ({ex.id}) earned points: {test['output'][:500]}"
            fragment = hostile[ex.id][3]
            if fragment:
                assert fragment in test["output"], f"{what}: {fragment!r} not in {test['output'][:800]}"
        elif ex.id == tampered.id:
            assert test["score"] == 0 and "INTEGRITY" in test["output"]
        else:
            assert test["score"] == ex.points, f"correct {ex.id} lost its points: {test['output'][:800]}"
    assert "read the reference solution" in "".join(t["output"] for t in report["tests"])
    assert f"checks/{tampered.check_file.name} differs" in report["output"]
    assert elapsed < 300
