"""Switching the caller's flag off: changes t itself, refused for a tensor that is not a leaf."""
EXPECT = "changes the flag of the caller's tensor itself"
MISTAKE = "ex06.requires_grad_off"


def stop_gradient(t):
    t.requires_grad_(False)
    return t
