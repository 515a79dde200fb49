"""`t.requires_grad_` without parentheses: names the method, does nothing."""
EXPECT = "without parentheses only names the method"


def enable_tracking(t):
    t.requires_grad_
    return t
