"""Switching requires_grad off: refused for a tensor computed from others (not a leaf)."""
EXPECT = "is allowed only for a leaf"
MISTAKE = "ex07.requires_grad_off_on_non_leaf"


def cut_history_(t):
    t.requires_grad_(False)
    return t
