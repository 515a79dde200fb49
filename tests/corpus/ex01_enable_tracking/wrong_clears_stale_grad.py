"""Clears the .grad a tensor already had, to "start clean": the caller's gradient is lost."""
EXPECT = "removed, changed or replaced it"
MISTAKE = "ex01.grad_touched"


def enable_tracking(t):
    if not t.requires_grad:
        t.grad = None
    t.requires_grad_()
    return t
