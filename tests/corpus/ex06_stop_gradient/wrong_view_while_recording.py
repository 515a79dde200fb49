"""A view made while autograd records: a new object in the same memory, but part of the graph."""
EXPECT = "is still tracked by autograd (grad_fn=<ViewBackward0>)"
MISTAKE = "ex06.still_tracked"


def stop_gradient(t):
    return t.view_as(t)
