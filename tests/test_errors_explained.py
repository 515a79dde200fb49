"""No exception of a learner's code reaches the learner without advice: every check calls the
learner's function through `explain_errors`, which names the exception, the learner's line and
what the function was given, and says what such an exception usually means. The exceptions the
grader reports itself (NotImplementedError: "not started", the learner's own AssertionError, time
limits, Ctrl-C) pass through untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from checks import instruments
from checks.instruments import (
    ADVICE_BY_TYPE,
    EVERYDAY_MISTAKES,
    OWN_EXCEPTION,
    OffCPUNotCUDATensor,
    RaisedByTheCheck,
    describe_args,
    expect_python_number,
    explain_errors,
    off_cpu,
)
from grading.engine.runner import grade_many
from grading.engine.targets import register_learner_file

from .conftest import CATALOG

OWN_LINE = 6  # the line of the `raise` in OWN_SOURCE
OWN_SOURCE = '''class KataSurprise(Exception):
    """An exception class of the learner's own."""


def {function}(*args, **kwargs):
    raise KataSurprise("raised on purpose by this test")
'''

DEEP_LINE = 6  # the line of the attribute access in DEEP_SOURCE, inside a helper of a helper
DEEP_SOURCE = '''class Probe:
    """Any object of the learner's."""


def _deeper(value):
    return value.missing_attribute


def _helper(*args):
    return _deeper(Probe())


def {function}(*args, **kwargs):
    return _helper(*args)
'''

_RUNS: dict[str, object] = {}


def raising_runs(tmp_path_factory):
    """Every exercise graded once with a function that raises an exception of its own, and once with
    one whose helper's helper raises AttributeError: one grading run, for every check of the kata."""
    if not _RUNS:
        targets = {}
        for variant, source in (("own", OWN_SOURCE), ("deep", DEEP_SOURCE)):
            folder = tmp_path_factory.mktemp(f"raises-{variant}")
            for ex in CATALOG:
                (folder / ex.filename).write_text(source.format(function=ex.function), encoding="utf-8")
            targets[variant] = folder
        runs = grade_many(list(targets.values()), list(CATALOG))
        _RUNS.update(zip(targets, runs))
    return _RUNS


def _unexplained(result, expected: list[str]) -> list[str]:
    """The checks of `result` whose message lacks one of the `expected` fragments (or that did not fail)."""
    bad = []
    for check in result.checks:
        missing = [f for f in expected if f not in check.message]
        if check.status != "failed" or missing or "your code raised" in check.message:
            bad.append(f"{check.name} ({check.status}): missing {missing} in {check.message[:400]!r}")
    return bad


def expected_own(ex) -> list[str]:
    return [
        f"{ex.function} raised KataSurprise: raised on purpose by this test at ",
        f"{ex.filename}, line {OWN_LINE}",
        ", called with ",
        OWN_EXCEPTION.format(kind="KataSurprise", fn_name=ex.function),
    ]


def expected_deep(ex) -> list[str]:
    return [
        f"{ex.function} raised AttributeError: 'Probe' object has no attribute 'missing_attribute' at ",
        f"{ex.filename}, line {DEEP_LINE}",  # the helper's line, not the function's
        ", called with ",
        ADVICE_BY_TYPE[AttributeError],
    ]


@pytest.mark.timeout(600)  # the first one grades every exercise twice
@pytest.mark.parametrize("variant,expected", [("own", expected_own), ("deep", expected_deep)],
                         ids=["own-exception", "attribute-error-in-a-helper"])
@pytest.mark.parametrize("exercise", list(CATALOG), ids=lambda ex: ex.short)
def test_every_check_explains_an_exception_of_the_learners_code(tmp_path_factory, exercise, variant, expected):
    result = raising_runs(tmp_path_factory)[variant].exercise(exercise.id)
    assert result.checks, f"{exercise.id}: no checks ran ({result.error})"
    bad = _unexplained(result, expected(exercise))
    assert not bad, f"{exercise.id}: checks that let the learner's exception through without advice:\n" + "\n".join(bad)


# --------------------------------------------------------------------------- explain_errors itself


def learner_function(tmp_path, source: str, name: str = "f"):
    """`name` from `source`, compiled as a learner's file (so tracebacks through it are the learner's)."""
    path = tmp_path / "ex99_probe.py"
    path.write_text(source, encoding="utf-8")
    register_learner_file(str(path))
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace[name]


def raised_by(block, *args, **kwargs) -> BaseException:
    try:
        with explain_errors("f", *args, **kwargs):
            block()
    except BaseException as exc:  # noqa: BLE001 - what passes through is the point
        return exc
    raise AssertionError("nothing was raised")


@pytest.mark.parametrize("exc", [NotImplementedError(), AssertionError("the learner's own assert"),
                                 KeyboardInterrupt(), SystemExit(3), MemoryError(), RaisedByTheCheck("on purpose"),
                                 RuntimeError("[enforce fail] DefaultCPUAllocator: can't allocate memory")],
                         ids=lambda e: type(e).__name__)
def test_what_the_grader_reports_itself_passes_through_untouched(exc):
    def block():
        raise exc

    assert raised_by(block, {r".*": "a pattern that matches everything"}) is exc


def test_let_through_passes_the_types_a_check_expects():
    exc = ValueError("expected by the check")

    def block():
        raise exc

    assert raised_by(block, let_through=(ValueError,)) is exc
    assert isinstance(raised_by(block), AssertionError)


def test_a_pattern_of_the_exercise_comes_first_and_names_the_line(tmp_path):
    f = learner_function(tmp_path, "def f(p):\n    return p.grad * 2\n")
    exc = raised_by(lambda: f(torch.zeros(2, requires_grad=True)), {r"NoneType": "the exercise's own advice"},
                    called_with="never shown for an explained mistake")
    assert isinstance(exc, AssertionError)
    message = str(exc)
    assert message.startswith("f raised TypeError: unsupported operand type(s) for *: 'NoneType' and 'int' at ")
    assert "ex99_probe.py, line 2.\nthe exercise's own advice" in message
    assert "never shown" not in message


@pytest.mark.parametrize("source,fragment", [
    ("def f(m):\n    return m.weight.requires_grad\n", EVERYDAY_MISTAKES[r"NoneType"]),
    ("def f(m):\n    return m.running_mean.numel + 1\n", "without calling it"),
    ("def f(m):\n    return len(m.parameters())\n", "A generator (such as `model.parameters()`)"),
    ("import torch\ndef f(m):\n    losses = []\n    losses += torch.tensor(1.0)\n", "A 0-d tensor"),
    ("def f(m):\n    with m.eval():\n        pass\n", "`model.eval()` and `model.train()` are not"),
    ("def f(m):\n    return m.decoder\n", ADVICE_BY_TYPE[AttributeError]),
    ("def f(m):\n    return m.running_maen\n", "Did you mean `running_mean`"),
    ("def f(m):\n    return undefined_name\n", ADVICE_BY_TYPE[NameError]),
    ("def f(m):\n    return {}['head']\n", ADVICE_BY_TYPE[LookupError]),
    ("def f(m):\n    return 1 / 0\n", ADVICE_BY_TYPE[ZeroDivisionError]),
    ("import torch\ndef f(m):\n    return torch.ones(2) @ torch.ones(3)\n", ADVICE_BY_TYPE[RuntimeError]),
    ("class Oops(ValueError):\n    pass\ndef f(m):\n    raise Oops('no')\n", "Oops is not an exception of Python"),
], ids=["none", "method", "generator", "0-d", "eval-as-context", "attribute", "misspelled", "name", "key", "zero",
        "runtime", "own"])
def test_everything_else_gets_advice_for_what_it_is(tmp_path, source, fragment):
    from torch import nn

    f = learner_function(tmp_path, source)
    model = nn.Sequential(nn.BatchNorm1d(3, affine=False))[0]
    exc = raised_by(lambda: f(model), called_with=describe_args(model=model))
    assert isinstance(exc, AssertionError), exc
    message = str(exc)
    assert "ex99_probe.py, line " in message and ", called with model = an nn.BatchNorm1d" in message, message
    assert fragment in message, message


def test_an_exception_whose_str_fails_is_still_explained():
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no text")

    def block():
        raise Unprintable()

    exc = raised_by(block)
    assert isinstance(exc, AssertionError) and str(exc).startswith("f raised Unprintable.")


def test_describe_args_says_what_each_argument_is():
    from torch import nn

    x = torch.randn(3, 4, requires_grad=True)
    text = describe_args(model=nn.Sequential(nn.Linear(4, 2), nn.Tanh()).eval(), x=x, y=x * 2, lr=0.1,
                         params=(p for p in [x]), prefixes=["1", "encoder"], batch=[x, x])
    assert text == (
        "model = an nn.Sequential (Linear, Tanh) in eval mode, "
        "x = a float32 tensor of shape (3, 4), a leaf that requires grad, "
        "y = a float32 tensor of shape (3, 4), computed from a tensor that requires grad (grad_fn=MulBackward0), "
        "lr = 0.1, params = a generator (it can be gone through only once), prefixes = ['1', 'encoder'], "
        "batch = a list of 2 tensors"
    )


# --------------------------------------------------------------------------- numbers and devices


class Agreeable(float):
    __eq__ = lambda self, other: True  # noqa: E731
    __hash__ = float.__hash__


class Count(int):
    pass


@pytest.mark.parametrize("value,kind,fragment", [
    (Agreeable(0.5), float, "a subclass of float"),
    (Count(3), int, "a subclass of int"),
    (Count(3), float, "a subclass of int"),
    (True, int, "the bool True"),
    (np.float64(0.5), float, "a numpy number (float64)"),
    (np.int64(3), int, "a numpy number (int64)"),
    (3, float, "the int 3 as the result; a Python float is expected"),
    (torch.tensor(0.5), float, "returned a tensor"),
    ("0.5", float, "returned str ('0.5')"),
], ids=["float-subclass", "int-subclass", "int-subclass-for-float", "bool", "np-float", "np-int", "int", "tensor",
        "str"])
def test_only_the_exact_python_type_is_a_python_number(value, kind, fragment):
    with pytest.raises(AssertionError) as caught:
        expect_python_number(value, "f", kind)
    assert fragment in str(caught.value)


def test_exact_python_numbers_pass():
    assert expect_python_number(0.5, "f", float) == 0.5
    assert expect_python_number(3, "f", int) == 3


def test_a_simulated_device_that_is_not_cuda():
    t = off_cpu(torch.randn(3, requires_grad=True), OffCPUNotCUDATensor)
    assert t.device == torch.device("mps", 0) and not t.is_cuda and not t.is_cpu and t.is_leaf and t.requires_grad
    if hasattr(torch.Tensor, "is_mps"):
        assert t.is_mps
    with pytest.raises(TypeError, match="can't convert mps:0 device type tensor to numpy"):
        t.detach().numpy()
    moved = t.detach().cpu()
    assert type(moved) is torch.Tensor and moved.device.type == "cpu"
    assert np.array_equal(moved.numpy(), t.detach().to("cpu").numpy())
    assert "simulated-mps" in instruments.devices_for_numpy()
