"""Converts to float32 first: a copy for float64 inputs."""
EXPECT = "a copy of t in new memory"
MISTAKE = "ex01.returns_a_copy"


def enable_tracking(t):
    return t.float().requires_grad_()
