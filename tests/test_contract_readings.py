"""Where an exercise's contract could be read two ways, the docstring says which reading holds, and these
tests prove that the checks keep to it (the checks themselves prove the learner's side)."""

from __future__ import annotations

import pytest
from torch import nn

from checks import test_ex14_finetune_optimizer as ex14


@pytest.mark.parametrize("case", ex14.CASES)
def test_ex14_every_head_names_a_submodule_never_a_parameter(case):
    """ex14: `head` is a submodule's name, so `name == head` (a parameter named like the head) never happens:
    a solution that looks the head up with `model.get_submodule(head)` and one that compares names with
    `startswith(head + ".")` are both correct."""
    _, build, head, _ = ex14.CASES[case]
    model = build()
    assert isinstance(model.get_submodule(head), nn.Module)
    assert head not in dict(model.named_parameters())
