"""Where an exercise's contract could be read two ways, the docstring says which reading holds, and these
tests prove that the checks keep to it (the checks themselves prove the learner's side)."""

from __future__ import annotations

import importlib.util

import pytest
from torch import nn

from grading import ROOT


def check_module(filename: str):
    """A check module, loaded by its path under a name of its own: importing it as `checks.test_...` here would
    let pytest's assertion rewriting replace the module the grader's forked workers then use (and with it the
    known mistakes its assertions carry)."""
    spec = importlib.util.spec_from_file_location(f"readings_{filename[:-3]}", ROOT / "checks" / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ex14 = check_module("test_ex14_finetune_optimizer.py")


@pytest.mark.parametrize("case", ex14.CASES)
def test_ex14_every_head_names_a_submodule_never_a_parameter(case):
    """ex14: `head` is a submodule's name, so `name == head` (a parameter named like the head) never happens:
    a solution that looks the head up with `model.get_submodule(head)` and one that compares names with
    `startswith(head + ".")` are both correct."""
    _, build, head, _ = ex14.CASES[case]
    model = build()
    assert isinstance(model.get_submodule(head), nn.Module)
    assert head not in dict(model.named_parameters())
