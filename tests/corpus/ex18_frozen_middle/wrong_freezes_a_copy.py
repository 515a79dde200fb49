"""Freezes a deep copy of middle and runs the copy: the caller's middle stays trainable."""
EXPECT = "ran a copy of middle"
MISTAKE = "ex18.froze_a_copy"
NOT_EXPECT = "Don't switch `requires_grad` back on"

import copy


def forward_frozen_middle(first, middle, last, x):
    frozen = copy.deepcopy(middle).requires_grad_(False)
    return last(frozen(first(x)))
