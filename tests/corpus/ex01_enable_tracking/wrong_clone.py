"""t.clone().requires_grad_(): a copy (not even a leaf when t already tracks)."""
EXPECT = "a copy of t in new memory"
MISTAKE = "ex01.returns_a_copy"


def enable_tracking(t):
    return t.clone().requires_grad_()
