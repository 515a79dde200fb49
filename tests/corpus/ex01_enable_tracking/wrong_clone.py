"""t.clone().requires_grad_(): a copy (not even a leaf when t already tracks)."""
EXPECT = "a copy of t in new memory"


def enable_tracking(t):
    return t.clone().requires_grad_()
